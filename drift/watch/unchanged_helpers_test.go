package watch_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// touchEveryMember has another field manager annotate every object the
// fixture's cluster applied. An object neo4jctl applied and nobody touched
// since is not dry-run (internal/kube provablyUnchanged); one another
// manager touched always is, so every run of watch then needs patch on
// every kind — what a Role that must be minimal is tested against. The
// annotation is not rendered: it is no drift.
func (f *fixture) touchEveryMember(t *testing.T) {
	t.Helper()
	gvrs := []schema.GroupVersionResource{
		{Version: "v1", Resource: "configmaps"},
		{Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "serviceaccounts"},
		{Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	}
	ctx := context.Background()
	n := 0
	for _, gvr := range gvrs {
		list, err := f.dyn.Resource(gvr).Namespace(f.ns).List(ctx, metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range list.Items {
			if _, err := f.dyn.Resource(gvr).Namespace(f.ns).Patch(ctx, it.GetName(), types.MergePatchType,
				[]byte(`{"metadata":{"annotations":{"example.com/touched":"yes"}}}`), metav1.PatchOptions{FieldManager: "kubectl-annotate"}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no member of the cluster to touch")
	}
}
