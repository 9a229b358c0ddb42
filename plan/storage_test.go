package plan_test

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// setTemplateSize sets the data claim template's size of a StatefulSet body.
func setTemplateSize(sts map[string]any, size string) {
	vct := sts["spec"].(map[string]any)["volumeClaimTemplates"].([]any)[0].(map[string]any)
	vct["spec"].(map[string]any)["resources"].(map[string]any)["requests"].(map[string]any)["storage"] = size
}

// storageScenario is the converged three-server cluster whose cluster file
// asks want for the data claims; the StatefulSet's live template says
// liveTemplate (immutable: a replace) and the claims are at claims, in a
// StorageClass that allows expansion or not.
func storageScenario(want, liveTemplate, claims string, expandable bool) plantest.Scenario {
	s := scenario("no-changes")
	o := plantest.Object(&s.Kube, "StatefulSet", "prod")
	setTemplateSize(o.Desired, want)
	setTemplateSize(o.Predicted, want)
	setTemplateSize(o.Live, liveTemplate)
	if liveTemplate != want {
		o.Predicted, o.Immutable = nil, true
		o.DryRunError = `StatefulSet.apps "prod" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas' … are forbidden`
	}
	for ord := 0; ord < 3; ord++ {
		s.Kube.Claims = append(s.Kube.Claims, state.Claim{Name: fmt.Sprintf("data-prod-%d", ord), UID: fmt.Sprintf("pvc-%d", ord),
			StatefulSet: "prod", Template: "data", Ordinal: ord, Request: claims, Capacity: claims, StorageClassName: "fast"})
	}
	s.Kube.StorageClasses = map[string]state.StorageClass{"fast": {Name: "fast", Found: true, AllowVolumeExpansion: expandable}}
	return s
}

func TestComputeStorageGrowthResizesClaimsThenReplaces(t *testing.T) {
	s := storageScenario("20Gi", "10Gi", "10Gi", true)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{AllowReplace: true})
	if len(p.Refusals) > 0 {
		t.Fatalf("refusals %+v, want none", p.Refusals)
	}
	want := []string{
		"k8s:core/PersistentVolumeClaim/graph/data-prod-2 resize-claim",
		"k8s:core/PersistentVolumeClaim/graph/data-prod-1 resize-claim",
		"k8s:core/PersistentVolumeClaim/graph/data-prod-0 resize-claim",
		sts + " replace",
	}
	if diff := cmp.Diff(want, kinds(p)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	for i, st := range p.Steps {
		if i > 0 && (len(st.DependsOn) != 1 || st.DependsOn[0] != p.Steps[i-1].ID) {
			t.Errorf("step %s depends on %v, want only the step before it (%s)", st.ID, st.DependsOn, p.Steps[i-1].ID)
		}
	}
	r := p.Steps[0].Resize
	if r == nil || r.Claim != "data-prod-2" || r.Size != "20Gi" || r.UID != "pvc-2" || r.Pod != "prod-2" {
		t.Errorf("first resize: %+v, want data-prod-2 (uid pvc-2, Pod prod-2) to 20Gi", r)
	}
	if !strings.Contains(p.Steps[3].Reason, "orphan propagation") {
		t.Errorf("replace reason %q does not say the Pods are orphaned, not deleted", p.Steps[3].Reason)
	}
	// The resize parameters survive a saved plan.
	var buf bytes.Buffer
	if err := plan.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	back, err := plan.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Steps[0].Resize, back.Steps[0].Resize); diff != "" {
		t.Errorf("resize after a round trip (-want +got):\n%s", diff)
	}
}

// TestComputeStorageClaimsBelowTemplate is the cluster an earlier replace
// left: the StatefulSet's template already says 20Gi, its claims are 10Gi.
// That is a change, not "No changes".
func TestComputeStorageClaimsBelowTemplate(t *testing.T) {
	s := storageScenario("20Gi", "20Gi", "10Gi", true)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{})
	if !p.HasChanges() || len(p.Steps) != 3 || p.Steps[0].Kind != plan.KindResizeClaim {
		t.Errorf("got steps %v refusals %v, want three claim resizes", kinds(p), p.Refusals)
	}
	s = storageScenario("20Gi", "20Gi", "20Gi", true)
	if p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{}); p.HasChanges() || len(p.Refusals) > 0 {
		t.Errorf("claims at the size asked: got steps %v refusals %v, want none", kinds(p), p.Refusals)
	}
	// Requested but not yet resized: the resize step waits for it.
	s = storageScenario("20Gi", "20Gi", "20Gi", true)
	s.Kube.Claims[1].Capacity = "10Gi"
	if p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{}); len(p.Steps) != 1 || p.Steps[0].Resize.Claim != "data-prod-1" {
		t.Errorf("a resize in progress: got steps %v, want one resize of data-prod-1", kinds(p))
	}
}

func TestComputeStorageShrinkRefused(t *testing.T) {
	s := storageScenario("5Gi", "10Gi", "10Gi", true)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{AllowReplace: true})
	if p.Applicable() || len(p.Refusals) != 3 || !strings.Contains(p.Refusals[0].Reason, "can only grow") ||
		!strings.Contains(p.Refusals[0].Fix, "spec.storage.data.size at 10Gi") {
		t.Errorf("got refusals %+v, want one per claim saying a claim can only grow", p.Refusals)
	}
}

func TestComputeStorageClassWithoutExpansionRefused(t *testing.T) {
	s := storageScenario("20Gi", "10Gi", "10Gi", false)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{AllowReplace: true})
	if p.Applicable() || len(p.Refusals) != 3 || !strings.Contains(p.Refusals[0].Reason, "does not allow volume expansion") ||
		!strings.Contains(p.Refusals[0].Fix, "allowVolumeExpansion: true") {
		t.Errorf("got refusals %+v, want one per claim naming the StorageClass and the fix", p.Refusals)
	}
}

// TestComputeRemovedPoolLeavesThroughScaleIn: a pool the cluster file no
// longer has (its StatefulSet an orphan of the inventory) is removed only
// after its servers went through the scale-in sequence: CORDON each,
// highest ordinal first, one DEALLOCATE for all of them, then wait → DROP
// per server, then the StatefulSet's delete.
func TestComputeRemovedPoolLeavesThroughScaleIn(t *testing.T) {
	s := scenario("no-changes")
	n := plantest.Neo4j(5)
	const pool = "prod-analytics"
	ids := map[int]string{}
	for i, ord := range map[int]int{3: 0, 4: 1} {
		id := plantest.ServerIDs[i]
		srv := n.Servers[id]
		srv.Address = plantest.PodDNS(pool, ord) + ":7687"
		n.Servers[id] = srv
		ids[ord] = id
	}
	live := map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": pool, "namespace": plantest.Namespace, "uid": "uid-analytics"},
		"spec":     map[string]any{"replicas": float64(2)}}
	s.Kube.Orphans = append(s.Kube.Orphans, state.Object{Address: "k8s:apps/StatefulSet/graph/" + pool, Group: "apps", Version: "v1",
		Kind: "StatefulSet", Namespace: plantest.Namespace, Name: pool, UID: "uid-analytics", Live: live})
	p := mustCompute(t, s.Desired, s.Kube, n, plan.Options{})
	if len(p.Refusals) > 0 {
		t.Fatalf("refusals %+v, want none", p.Refusals)
	}
	both := []string{ids[0], ids[1]}
	sort.Strings(both)
	want := []string{
		"neo4j:server/" + ids[1] + " cordon", "neo4j:server/" + ids[0] + " cordon",
		"neo4j:server/" + strings.Join(both, ",") + " deallocate",
		"neo4j:server/" + ids[1] + " wait-deallocated", "neo4j:server/" + ids[1] + " drop-server",
		"neo4j:server/" + ids[0] + " wait-deallocated", "neo4j:server/" + ids[0] + " drop-server",
		"k8s:apps/StatefulSet/graph/" + pool + " delete",
	}
	var got []string
	for _, st := range p.Steps {
		if strings.HasPrefix(st.Address, "neo4j:server/") || st.Kind == plan.KindDelete {
			got = append(got, st.Address+" "+string(st.Kind))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	del := p.Steps[len(p.Steps)-1]
	drop := ""
	for _, st := range p.Steps {
		if st.Kind == plan.KindDropServer {
			drop = st.ID
		}
	}
	if del.Kind != plan.KindDelete || len(del.DependsOn) != 1 || del.DependsOn[0] != drop {
		t.Errorf("the StatefulSet delete %s depends on %v, want the last DROP SERVER (%s)", del.ID, del.DependsOn, drop)
	}
}

// TestComputeReplaceWithTemplateChangeRollsOneAtATime: a replace that also
// changes the Pod template creates the new StatefulSet holding every
// adopted Pod (partition = replicas); the rolling-update step then replaces
// them one at a time, never the controller all at once.
func TestComputeReplaceWithTemplateChangeRollsOneAtATime(t *testing.T) {
	s := storageScenario("20Gi", "10Gi", "20Gi", true)
	o := plantest.Object(&s.Kube, "StatefulSet", "prod")
	tmpl := o.Live["spec"].(map[string]any)["template"].(map[string]any)
	tmpl["metadata"].(map[string]any)["annotations"] = map[string]any{"neo4jctl.io/config-hash": "old"}
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{AllowReplace: true})
	want := []string{sts + " replace", sts + " rolling-update"}
	if diff := cmp.Diff(want, kinds(p)[:2]); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if pt := p.Steps[0].Partition; pt == nil || *pt != 3 {
		t.Errorf("replace partition: got %v, want 3 (every adopted Pod held)", pt)
	}
}
