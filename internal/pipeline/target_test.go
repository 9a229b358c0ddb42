package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
)

func TestLoadExampleAndVersionWarnings(t *testing.T) {
	tg, err := Load("../../examples/quickstart.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Namespace != "neo4j" || len(tg.Objects) == 0 || tg.Desired.ClusterFileSHA256 == "" {
		t.Fatalf("got namespace %q, %d objects, sha %q", tg.Namespace, len(tg.Objects), tg.Desired.ClusterFileSHA256)
	}
	if got := VersionWarnings(tg, "v1.37.2"); len(got) != 0 {
		t.Errorf("v1.37.2: got warnings %v, want none", got)
	}
	got := VersionWarnings(tg, "v1.29.0")
	if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "persistentVolumeClaimRetentionPolicy") {
		t.Errorf("v1.29.0: got %v, want the PVC retention policy named", got)
	}
}

func TestPodDNSNameMatchesManifests(t *testing.T) {
	tg, err := Load("../../examples/secondaries.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tg.Desired.Pools {
		got := tg.Desired.PodAddress(p.StatefulSet, 1)
		if !strings.HasPrefix(got, p.StatefulSet+"-1.") || !strings.HasSuffix(got, ".svc.cluster.local") {
			t.Errorf("pool %s: got %q", p.StatefulSet, got)
		}
	}
}

func TestForwarderLeavesNonPodAddressesAlone(t *testing.T) {
	f := &forwarder{open: map[string]openForward{}}
	for _, addr := range []string{"127.0.0.1:7687", "graph.example.com:7687", "not-an-address"} {
		if got := f.resolve(addr); got != addr {
			t.Errorf("resolve(%q) = %q, want it unchanged", addr, got)
		}
	}
}

// helmTarget loads an adopted three-release cluster (spec.layout: helm)
// whose manifests are what `helm template` renders from the official
// chart (internal/helmimport/testdata), as import writes it.
func helmTarget(t *testing.T) *Target {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "helmimport", "testdata", "server-1.manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// import leaves the chart's auth Secret out of the cluster file.
	manifest := regexp.MustCompile(`(?s)---\n# Source: neo4j/templates/neo4j-auth.yaml\n.*?\n---`).ReplaceAllString(string(b), "---")
	var rel strings.Builder
	for _, name := range []string{"server-1", "server-2", "server-3"} {
		rel.WriteString("    - name: " + name + "\n      manifest: |\n")
		for _, line := range strings.Split(strings.ReplaceAll(manifest, "server-1", name), "\n") {
			rel.WriteString("        " + line + "\n")
		}
	}
	file := `apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata:
  name: prod
  namespace: graph
spec:
  edition: enterprise
  version: "5.26.0"
  image: "neo4j:5.26.0-enterprise"
  acceptLicenseAgreement: "yes"
  servers: 3
  systemPrimaries: 3
  layout: helm
  resources:
    neo4j:
      requests: {cpu: "1000m", memory: "2Gi"}
      limits: {cpu: "1000m", memory: "2Gi"}
  storage:
    data:
      size: 10Gi
  auth:
    secretRef:
      name: prod-password
  helmReleases:
` + rel.String()
	tg, err := LoadData("prod.yaml", []byte(file), "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestInventorySelectorsOfAdoptedHelmCluster: an adopted cluster's Pods,
// StatefulSets and claims keep the chart's labels (they cannot change
// without a restart or at all), so every command must find them by those:
// the selectors select the chart's objects and no other release's.
func TestInventorySelectorsOfAdoptedHelmCluster(t *testing.T) {
	tg := helmTarget(t)
	inv := tg.Inventory
	if !inv.Custom() {
		t.Fatalf("inventory %+v: want selectors of its own", inv)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"pods", inv.Pods(), "helm.neo4j.com/neo4j.name=prod,helm.neo4j.com/pod_category=neo4j-instance"},
		{"workloads", inv.Workloads(), "helm.neo4j.com/neo4j.name=prod"},
		{"claims", inv.Claims(), "app=prod,helm.neo4j.com/instance in (server-1,server-2,server-3)"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s selector: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	parse := func(s string) labels.Selector {
		t.Helper()
		sel, err := labels.Parse(s)
		if err != nil {
			t.Fatalf("selector %q: %v", s, err)
		}
		return sel
	}
	pods, workloads, claims := parse(inv.Pods()), parse(inv.Workloads()), parse(inv.Claims())
	n := 0
	for _, o := range tg.Objects {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		n++
		podLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
		// The StatefulSet controller labels each claim it makes with the
		// StatefulSet's selector.
		claimLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels")
		switch {
		case !pods.Matches(labels.Set(podLabels)):
			t.Errorf("%s: the Pod selector does not select its Pods (labels %v)", o.GetName(), podLabels)
		case !workloads.Matches(labels.Set(o.GetLabels())):
			t.Errorf("%s: the workload selector does not select it (labels %v)", o.GetName(), o.GetLabels())
		case !claims.Matches(labels.Set(claimLabels)):
			t.Errorf("%s: the claim selector does not select its claims (labels %v)", o.GetName(), claimLabels)
		}
	}
	if n != 3 {
		t.Fatalf("rendered %d StatefulSets, want 3", n)
	}
	other := labels.Set{"app": "prod", "helm.neo4j.com/instance": "server-4"}
	if claims.Matches(other) {
		t.Errorf("the claim selector selects another release's claims (%v)", other)
	}
	if claims.Matches(labels.Set{"app": "other", "helm.neo4j.com/instance": "server-1"}) {
		t.Error("the claim selector selects another cluster's claims")
	}
}

// TestInventorySelectorsOfNeo4jctlLayout: neo4jctl's own clusters are
// found by the cluster label, as before.
func TestInventorySelectorsOfNeo4jctlLayout(t *testing.T) {
	tg, err := Load("../../examples/quickstart.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	inv := tg.Inventory
	want := "neo4jctl.io/cluster=quickstart"
	if inv.Custom() || inv.Pods() != want || inv.Claims() != want || inv.Workloads() != want {
		t.Errorf("got custom %v, pods %q, claims %q, workloads %q; want %q for each", inv.Custom(), inv.Pods(), inv.Claims(), inv.Workloads(), want)
	}
}

// TestCandidatesOfAdoptedHelmClusterAnyReadyRelease: an adopted cluster
// has one single-server release per server; Neo4j is reached through any
// Ready one, so one release down does not blind plan or healthcheck.
func TestCandidatesOfAdoptedHelmClusterAnyReadyRelease(t *testing.T) {
	tg := helmTarget(t)
	podsOf := func(ready ...string) Neo4jAccess {
		return Neo4jAccess{pods: func(context.Context) ([]state.Pod, error) {
			var out []state.Pod
			for _, r := range []string{"server-1", "server-2", "server-3"} {
				out = append(out, state.Pod{Name: r + "-0", Namespace: "graph", StatefulSet: r, Ready: slices.Contains(ready, r+"-0")})
			}
			return out, nil
		}}
	}
	got, err := podsOf("server-2-0", "server-3-0").candidates(context.Background(), nil, tg, "neo4j", true)
	if err != nil {
		t.Fatalf("server-1-0 not Ready: %v, want the other two releases", err)
	}
	var uris []string
	for _, c := range got {
		uris = append(uris, c.uri)
	}
	want := []string{"neo4j://server-2.graph.svc.cluster.local:7687", "neo4j://server-3.graph.svc.cluster.local:7687"}
	if !slices.Equal(uris, want) {
		t.Errorf("candidates: got %v, want %v", uris, want)
	}
	if _, err := podsOf().candidates(context.Background(), nil, tg, "neo4j", true); err == nil ||
		!strings.Contains(err.Error(), "no Ready server Pod of StatefulSets graph/server-1, server-2, server-3") {
		t.Errorf("no Pod Ready: got %v, want an error naming the three StatefulSets", err)
	}
	// Inside the cluster there is no client Service of neo4jctl's: each
	// release's own Service is tried.
	in := Neo4jAccess{InCluster: true}
	got, err = in.candidates(context.Background(), nil, tg, "neo4j", true)
	if err != nil || len(got) != 3 || got[0].uri != "neo4j://server-1.graph.svc.cluster.local:7687" {
		t.Errorf("in cluster: got %+v, %v; want the three releases' Services", got, err)
	}
}

// TestCandidatesOfNeo4jctlLayoutMainPoolOnly: neo4jctl's own layout still
// connects through its main pool only (the other pools may be secondaries).
func TestCandidatesOfNeo4jctlLayoutMainPoolOnly(t *testing.T) {
	tg, err := Load("../../examples/secondaries.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Neo4jAccess{}.candidates(context.Background(), nil, tg, "neo4j", false)
	if err != nil {
		t.Fatal(err)
	}
	pools := manifests.Pools(tg.Cluster)
	if len(got) != int(pools[0].Servers) {
		t.Errorf("got %d candidates, want the main pool's %d servers", len(got), pools[0].Servers)
	}
	for _, c := range got {
		if !strings.Contains(c.uri, "://"+pools[0].StatefulSet+"-") {
			t.Errorf("candidate %s is not a main-pool server", c.uri)
		}
	}
}

// TestObjectSelectorOfAdoptedHelmCluster: watch finds an adopted cluster's
// objects (the chart's StatefulSets, Services and ConfigMaps) by the one
// label they all carry, since none carries neo4jctl's cluster label.
func TestObjectSelectorOfAdoptedHelmCluster(t *testing.T) {
	tg := helmTarget(t)
	if got, want := tg.ObjectSelector(), "app=prod"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	sel, err := labels.Parse(tg.ObjectSelector())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range tg.Objects {
		if !sel.Matches(labels.Set(o.GetLabels())) {
			t.Errorf("%s %s is not selected (labels %v)", o.GetKind(), o.GetName(), o.GetLabels())
		}
	}
	own, err := Load("../../examples/quickstart.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := own.ObjectSelector(); got != "" {
		t.Errorf("neo4jctl's layout: got %q, want none (its objects are watched by the cluster label)", got)
	}
}
