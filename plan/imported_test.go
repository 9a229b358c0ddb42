package plan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// A file that an older import wrote from Helm releases, without layout:
// helm, is refused: applying it would start neo4jctl's own servers beside
// the chart's.
func TestComputeRefusesAFileImportedFromHelm(t *testing.T) {
	s := scenario("no-changes")
	if p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options); len(p.Refusals) != 0 {
		t.Fatalf("without the annotation: refusals %v, want none", p.Refusals)
	}
	s = scenario("no-changes")
	s.Desired.Cluster.Metadata.Annotations = map[string]string{clusterfile.AnnotationImportedFromHelm: "g1,g2,g3"}
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "g1,g2,g3") || !strings.Contains(p.Refusals[0].Fix, clusterfile.AnnotationImportedFromHelm) {
		t.Fatalf("refusals %+v: want one naming the releases, with the annotation in its fix", p.Refusals)
	}
}

const helmManifest = `---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: server-1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: server-1-user-config
data:
  a: b
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: prod
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: server-1
`

func helmDesired() plan.Desired {
	c := &clusterfile.Cluster{
		Metadata: clusterfile.Metadata{Name: "prod", Annotations: map[string]string{clusterfile.AnnotationImportedFromHelm: "server-1"}},
		Spec: clusterfile.Spec{Edition: clusterfile.EditionEnterprise, Version: "5.26.0", Servers: 1, Layout: clusterfile.LayoutHelm,
			HelmReleases: []clusterfile.HelmRelease{{Name: "server-1", Manifest: helmManifest}}},
	}
	return plan.DesiredFrom(c, "graph", nil)
}

func helmObject(kind, group, name string, managers ...string) state.Object {
	live := map[string]any{"kind": kind, "metadata": map[string]any{"name": name}, "data": map[string]any{"a": "b"}}
	o := state.Object{Address: "k8s:" + group + "/" + kind + "/graph/" + name, Kind: kind, Group: group, Namespace: "graph", Name: name,
		Live: live, Desired: live, Predicted: live}
	for _, m := range managers {
		o.Managers = append(o.Managers, state.FieldManager{Manager: m, Operation: "Update", Fields: []string{"data"}})
	}
	return o
}

// TestComputeHelmLayoutTakesOverFromHelm: an adopted file is planned, not
// refused; an object Helm wrote whose values already match is taken over
// (one step, said so), the objects neo4jctl does not manage are listed,
// and once neo4jctl manages it there is nothing left to do.
func TestComputeHelmLayoutTakesOverFromHelm(t *testing.T) {
	d := helmDesired()
	if len(d.Pools) != 1 || d.Pools[0].StatefulSet != "server-1" || d.Pools[0].Replicas != 1 {
		t.Fatalf("pools %+v, want one single-server pool per release", d.Pools)
	}
	k := state.Kube{Reachable: true, Mode: "dry-run", Objects: []state.Object{helmObject("ConfigMap", "core", "server-1-user-config", "helm")}}
	p := mustCompute(t, d, k, state.Neo4j{}, plan.Options{SkipNeo4j: true})
	if len(p.Refusals) != 0 {
		t.Fatalf("refusals %+v, want none under layout: helm", p.Refusals)
	}
	if len(p.Steps) != 1 || p.Steps[0].Reason != plan.TakeOverReason || p.Steps[0].Action != plan.ActionUpdate || len(p.Steps[0].FieldDiffs) != 0 {
		t.Fatalf("steps %+v, want one take-over update without field changes", p.Steps)
	}
	kept := strings.Join(p.Warnings, "\n")
	for _, want := range []string{"k8s:core/ServiceAccount/graph/server-1", "k8s:policy/PodDisruptionBudget/graph/prod", "never deleted"} {
		if !strings.Contains(kept, want) {
			t.Errorf("warnings %q lack %s", kept, want)
		}
	}
	if slices.ContainsFunc(plan.HelmKept(d.Cluster, "graph"), func(a string) bool { return strings.Contains(a, "server-1-user-config") }) {
		t.Errorf("a managed ConfigMap is listed as kept")
	}

	k.Objects = []state.Object{helmObject("ConfigMap", "core", "server-1-user-config", "helm", "neo4jctl")}
	p = mustCompute(t, d, k, state.Neo4j{}, plan.Options{SkipNeo4j: true})
	if len(p.Steps) != 0 || len(p.Warnings) != 1 {
		t.Fatalf("after the take-over: steps %+v warnings %q, want none (only --skip-neo4j's)", p.Steps, p.Warnings)
	}
}

// TestComputeHelmLayoutNeverReplaces: an immutable change to an adopted
// StatefulSet is refused with the reason, even with --allow-replace.
func TestComputeHelmLayoutNeverReplaces(t *testing.T) {
	o := helmObject("StatefulSet", "apps", "server-1", "helm")
	o.Immutable, o.DryRunError = true, "spec: Forbidden: updates to statefulset spec for fields other than ... are forbidden"
	k := state.Kube{Reachable: true, Mode: "dry-run", Objects: []state.Object{o}}
	p := mustCompute(t, helmDesired(), k, state.Neo4j{}, plan.Options{SkipNeo4j: true, AllowReplace: true})
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "never recreates") || !strings.Contains(p.Refusals[0].Reason, "Forbidden") {
		t.Fatalf("refusals %+v, want the immutable change refused with the API server's reason", p.Refusals)
	}
	for _, s := range p.Steps {
		if s.Action == plan.ActionReplace {
			t.Errorf("step %s replaces %s", s.ID, s.Address)
		}
	}
}

// TestComputeHelmSharedFieldIsNotBlamedOnHelm: after the take-over Helm
// keeps a share of every field whose value neo4jctl applied unchanged; a
// change the cluster file makes to such a field is the file's, not an
// out-of-band edit by helm. A field helm alone owns still names helm.
func TestComputeHelmSharedFieldIsNotBlamedOnHelm(t *testing.T) {
	o := helmObject("ConfigMap", "core", "server-1-user-config")
	o.Desired = map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": "server-1-user-config"}, "data": map[string]any{"a": "c"}}
	o.Predicted = o.Desired
	o.Managers = []state.FieldManager{
		{Manager: "helm", Operation: "Update", Fields: []string{"data.a"}},
		{Manager: "neo4jctl", Operation: "Apply", Fields: []string{"data.a"}},
	}
	k := state.Kube{Reachable: true, Mode: "dry-run", Objects: []state.Object{o}}
	p := mustCompute(t, helmDesired(), k, state.Neo4j{}, plan.Options{SkipNeo4j: true})
	if len(p.Steps) != 1 || p.Steps[0].Reason != "differs from the cluster file" || p.Steps[0].FieldDiffs[0].Manager != "" {
		t.Fatalf("steps %+v, want one change of the cluster file, no manager blamed", p.Steps)
	}
	o.Managers = o.Managers[:1]
	k.Objects = []state.Object{o}
	p = mustCompute(t, helmDesired(), k, state.Neo4j{}, plan.Options{SkipNeo4j: true})
	if len(p.Steps) != 1 || p.Steps[0].FieldDiffs[0].Manager != "helm" {
		t.Fatalf("steps %+v, want the field helm alone owns attributed to helm", p.Steps)
	}
}
