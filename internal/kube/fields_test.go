package kube

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func fieldsV1(s string) *metav1.FieldsV1 { return &metav1.FieldsV1{Raw: []byte(s)} }

func TestFieldManagers(t *testing.T) {
	tests := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    []state.FieldManager
	}{
		{
			name: "leaves with list-map keys, set values and dotted label keys",
			entries: []metav1.ManagedFieldsEntry{{
				Manager: "neo4jctl", Operation: metav1.ManagedFieldsOperationApply,
				FieldsV1: fieldsV1(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}},"f:finalizers":{"v:\"example.com/hold\"":{}}},
					"f:spec":{"f:replicas":{},"f:ports":{"k:{\"port\":7687,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{}}},
					"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"neo4j\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`),
			}},
			want: []state.FieldManager{{Manager: "neo4jctl", Operation: "Apply", Fields: []string{
				"metadata.finalizers[=example.com/hold]",
				"metadata.labels.app.kubernetes.io/name",
				"spec.ports[port=7687,protocol=TCP].name",
				"spec.ports[port=7687,protocol=TCP].port",
				"spec.replicas",
				"spec.template.spec.containers[name=neo4j].image",
				"spec.template.spec.containers[name=neo4j].name",
			}}},
		},
		{
			name: "status subresource skipped, scale subresource merged into its manager, sorted by manager",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: fieldsV1(`{"f:status":{"f:replicas":{}}}`)},
				{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale", FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
				{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fieldsV1(`{"f:spec":{"f:serviceName":{}}}`)},
				{Manager: "argocd", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: fieldsV1(`{"f:metadata":{"f:annotations":{"f:a":{}}}}`)},
			},
			want: []state.FieldManager{
				{Manager: "argocd", Operation: "Apply", Fields: []string{"metadata.annotations.a"}},
				{Manager: "kubectl", Operation: "Update", Fields: []string{"spec.replicas", "spec.serviceName"}},
			},
		},
		{
			name: "an Update that only touched status is not listed",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "kwok", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fieldsV1(`{"f:status":{"f:phase":{}}}`)},
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldManagers(tt.entries)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fieldManagers() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPredictConflicts(t *testing.T) {
	apply := metav1.ManagedFieldsOperationApply
	update := metav1.ManagedFieldsOperationUpdate
	tests := []struct {
		name            string
		live, predicted []metav1.ManagedFieldsEntry
		want            []state.Conflict
	}{
		{
			name: "field taken from another Apply manager is a conflict",
			live: []metav1.ManagedFieldsEntry{
				{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:selector":{}}}`)},
				{Manager: "argocd", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{},"f:minReadySeconds":{}}}`)},
			},
			predicted: []metav1.ManagedFieldsEntry{
				{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:selector":{},"f:replicas":{}}}`)},
				{Manager: "argocd", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:minReadySeconds":{}}}`)},
			},
			want: []state.Conflict{{Field: "spec.replicas", Manager: "argocd"}},
		},
		{
			name: "field shared with an equal value is not a conflict",
			live: []metav1.ManagedFieldsEntry{
				{Manager: "argocd", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
			},
			predicted: []metav1.ManagedFieldsEntry{
				{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
				{Manager: "argocd", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
			},
			want: nil,
		},
		{
			name: "field taken from an Update manager is drift, not a conflict",
			live: []metav1.ManagedFieldsEntry{
				{Manager: "kubectl-scale", Operation: update, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
			},
			predicted: []metav1.ManagedFieldsEntry{
				{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
			},
			want: nil,
		},
		{
			name: "manager that loses all its fields disappears from the prediction",
			live: []metav1.ManagedFieldsEntry{
				{Manager: "flux", Operation: apply, FieldsV1: fieldsV1(`{"f:data":{"f:k":{}}}`)},
			},
			predicted: []metav1.ManagedFieldsEntry{
				{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:data":{"f:k":{}}}`)},
			},
			want: []state.Conflict{{Field: "data.k", Manager: "flux"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := predictConflicts(tt.live, tt.predicted, FieldManager)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("predictConflicts() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSMDPathToField(t *testing.T) {
	tests := []struct{ in, want string }{
		{".spec.replicas", "spec.replicas"},
		{`.spec.template.spec.containers[name="neo4j"].image`, "spec.template.spec.containers[name=neo4j].image"},
		{`.spec.ports[port=7687,protocol="TCP"].targetPort`, "spec.ports[port=7687,protocol=TCP].targetPort"},
		{`.metadata.finalizers[="a\"b"]`, `metadata.finalizers[=a"b]`},
		{`.metadata.labels.app.kubernetes.io/name`, "metadata.labels.app.kubernetes.io/name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := smdPathToField(tt.in); got != tt.want {
				t.Errorf("smdPathToField(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// managedFieldsOf decodes managedFields from the unstructured map without
// the JSON round trip of GetManagedFields + fieldpath.Set.FromJSON; it must
// decode exactly what they decode, including the keys FromJSON drops
// (unknown prefixes), members with children, and unreadable entries.
func TestManagedFieldsOfMatchesFromJSON(t *testing.T) {
	apply := metav1.ManagedFieldsOperationApply
	entries := []metav1.ManagedFieldsEntry{
		{Manager: "neo4jctl", Operation: apply, FieldsV1: fieldsV1(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}},"f:finalizers":{"v:\"example.com/hold\"":{}}},
			"f:spec":{"f:replicas":{},"f:ports":{"k:{\"port\":7687,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{}}},
			"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"neo4j\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`)},
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale", FieldsV1: fieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: fieldsV1(`{"f:status":{"f:replicas":{},"f:conditions":{"i:0":{}}}}`)},
		{Manager: "future", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"z:unknown":{"f:a":{}},"f:b":{"z:only-unknown":{}}}}`)},
		{Manager: "broken", Operation: apply, FieldsV1: fieldsV1(`{"f:spec":{"k:not-json":{}}}`)},
		{Manager: "empty", Operation: apply},
	}
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetManagedFields(entries)
	// As the dynamic client hands it over: decoded from JSON.
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	got := managedFieldsOf(obj)
	want := managedEntries(entries)
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.manager != w.manager || g.operation != w.operation || g.subresource != w.subresource || g.ok != w.ok {
			t.Errorf("entry %d: got %s/%s/%s ok=%v, want %s/%s/%s ok=%v", i,
				g.manager, g.operation, g.subresource, g.ok, w.manager, w.operation, w.subresource, w.ok)
		}
		if !g.fields.Equals(w.fields) {
			t.Errorf("entry %d (%s): got fields\n%s\nwant\n%s", i, w.manager, g.fields, w.fields)
		}
	}
	if got[4].ok {
		t.Errorf("the entry with an unparsable key decoded as ok")
	}
}
