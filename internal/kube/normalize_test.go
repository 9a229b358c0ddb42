package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNormalize(t *testing.T) {
	in := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": "c", "namespace": "ns", "uid": "u", "resourceVersion": "7", "generation": int64(2),
			"creationTimestamp": "2026-01-01T00:00:00Z", "selfLink": "/x",
			"managedFields": []any{map[string]any{"manager": "m"}},
			"labels":        map[string]any{"a": "b"},
			"annotations":   map[string]any{lastAppliedAnnotation: "{}"},
		},
		"data":   map[string]any{"k": "v"},
		"status": map[string]any{"x": "y"},
	}
	want := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "ns", "labels": map[string]any{"a": "b"}},
		"data":     map[string]any{"k": "v"},
	}
	got := Normalize(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize() mismatch (-want +got):\n%s", diff)
	}
	if _, ok := in["status"]; !ok {
		t.Errorf("Normalize modified its input: status removed")
	}
	if _, ok := in["metadata"].(map[string]any)["managedFields"]; !ok {
		t.Errorf("Normalize modified its input: managedFields removed")
	}
	got["data"].(map[string]any)["k"] = "changed"
	if in["data"].(map[string]any)["k"] != "v" {
		t.Errorf("Normalize's result shares data with its input")
	}
	if Normalize(nil) != nil {
		t.Errorf("Normalize(nil) != nil")
	}
}

func TestFingerprint(t *testing.T) {
	a := map[string]any{"spec": map[string]any{"replicas": int64(3), "serviceName": "s"}}
	sameOtherOrder := map[string]any{"spec": map[string]any{"serviceName": "s", "replicas": int64(3)}}
	changed := map[string]any{"spec": map[string]any{"replicas": int64(4), "serviceName": "s"}}
	if Fingerprint(a) != Fingerprint(sameOtherOrder) {
		t.Errorf("fingerprint depends on map order")
	}
	if Fingerprint(a) == Fingerprint(changed) {
		t.Errorf("fingerprint did not change with spec.replicas")
	}
	if len(Fingerprint(a)) != 64 || Fingerprint(nil) != "" {
		t.Errorf("got %q and %q, want 64 hex digits and empty", Fingerprint(a), Fingerprint(nil))
	}
}

func TestAddress(t *testing.T) {
	tests := []struct {
		gvk      schema.GroupVersionKind
		ns, name string
		want     string
	}{
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, "graph", "prod", "k8s:apps/StatefulSet/graph/prod"},
		{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, "graph", "prod", "k8s:core/Service/graph/prod"},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, "", "r", "k8s:rbac.authorization.k8s.io/ClusterRole/r"},
	}
	for _, tt := range tests {
		if got := Address(tt.gvk, tt.ns, tt.name); got != tt.want {
			t.Errorf("Address(%v, %q, %q) = %q, want %q", tt.gvk, tt.ns, tt.name, got, tt.want)
		}
	}
}

func TestInventoryID(t *testing.T) {
	// Computed outside Go, from the KEP-3659 definition:
	// printf '%s' "neo4jctl-prod-applyset.graph.ConfigMap." | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
	inv := InventoryRef{Namespace: "graph", Cluster: "prod"}
	want := "applyset-XmIqDxjg4k7aSb4Gu_zexuprnucctIFeQczLuwodNQk-v1"
	if got := inv.ID(); got != want {
		t.Errorf("ID() = %q, want %q", got, want)
	}
	if got := formatKinds(parseKinds("StatefulSet.apps, ConfigMap,PodDisruptionBudget.policy")); got != "ConfigMap,PodDisruptionBudget.policy,StatefulSet.apps" {
		t.Errorf("formatKinds(parseKinds()) = %q", got)
	}
}
