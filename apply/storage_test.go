package apply

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/plan"
)

// DeleteOrphaning logs the orphaning delete a StatefulSet replace sends.
func (k *fakeKube) DeleteOrphaning(_ context.Context, r kube.Ref) error {
	key := "delete-orphaning " + r.Kind + "/" + r.Name
	k.log.add("%s", key)
	return k.fail[key]
}

func (k *fakeKube) ResizeClaim(_ context.Context, ns, name, uid, size string) error {
	key := "resize " + name
	k.log.add("%s %s", key, size)
	return k.fail[key]
}

func (k *fakeKube) WaitClaimCapacity(_ context.Context, ns, name, size string, _ func(string)) error {
	key := "wait claim " + name
	k.log.add("%s %s", key, size)
	return k.fail[key]
}

// A StatefulSet replace orphans (never deletes) the Pods and creates the new
// object with the plan's partition; a resize patches then waits.
func TestReplaceStatefulSetOrphansAndHoldsPods(t *testing.T) {
	l, k, n := newFakes(3)
	e := executor(k, n, &recorder{})
	e.Kube = rollKube{k}
	e.Options.Now = time.Now // Apply sets it; run is called directly here
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": "prod"}, "spec": map[string]any{"replicas": int64(3)}}}
	hold := int32(3)
	s := plan.Step{ID: "s01", Address: "k8s:apps/StatefulSet/graph/prod", Action: plan.ActionReplace, Kind: plan.KindReplace,
		Object: &plan.ObjectRef{Group: "apps", Version: "v1", Kind: "StatefulSet", Namespace: "graph", Name: "prod"}, Partition: &hold}
	if _, err := e.run(context.Background(), Target{}, s, map[string]*unstructured.Unstructured{"s01": o}); err != nil {
		t.Fatal(err)
	}
	r := plan.Step{ID: "s02", Kind: plan.KindResizeClaim, Resize: &plan.ClaimResize{Namespace: "graph", Claim: "data-prod-2", UID: "u", Size: "4Gi"}}
	if _, err := e.run(context.Background(), Target{}, r, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"delete-orphaning StatefulSet/prod", "apply StatefulSet/prod partition=3", "wait StatefulSet/prod 3",
		"resize data-prod-2 4Gi", "wait claim data-prod-2 4Gi"}
	if diff := cmp.Diff(want, l.get()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
