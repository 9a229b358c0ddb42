package kube

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The tests build managedFields as the typed API returns them; these adapt
// them to the decoded entries the code works on.

func fieldManagers(entries []metav1.ManagedFieldsEntry) []state.FieldManager {
	return managersOf(managedEntries(entries))
}

func predictConflicts(live, predicted []metav1.ManagedFieldsEntry, self string) []state.Conflict {
	return conflictsOf(managedEntries(live), managedEntries(predicted), self)
}

func shapeOf(entries ...[]metav1.ManagedFieldsEntry) *listShape {
	decoded := make([][]managedEntry, len(entries))
	for i, es := range entries {
		decoded[i] = managedEntries(es)
	}
	return shapeOfEntries(decoded...)
}

// managedEntries decodes typed managedFields entries the slow way (each
// fieldsV1 through JSON): the reference managedFieldsOf is checked against.
func managedEntries(entries []metav1.ManagedFieldsEntry) []managedEntry {
	out := make([]managedEntry, 0, len(entries))
	for _, e := range entries {
		s, err := decodeFields(e.FieldsV1)
		me := managedEntry{manager: e.Manager, operation: string(e.Operation), subresource: e.Subresource, fields: s, ok: err == nil}
		if err != nil {
			me.fields = &fieldpath.Set{}
		}
		out = append(out, me)
	}
	return out
}
