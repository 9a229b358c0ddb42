package kube

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Field paths are written the way kubectl prints server-side-apply conflicts,
// minus the leading dot and the quotes around string keys, so they read well
// in a plan and can be matched against a plan's own field paths:
//
//	spec.replicas
//	spec.template.spec.containers[name=neo4j].image
//	spec.ports[port=7687,protocol=TCP].targetPort
//	metadata.finalizers[=example.com/hold]
//	metadata.labels.app.kubernetes.io/name
//
// Label and annotation keys are not escaped: paths are for people and prefix
// matching, not for addressing.

// decodeFields turns a managedFields entry's fieldsV1 into a set.
func decodeFields(f *metav1.FieldsV1) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if f == nil || len(f.Raw) == 0 {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(f.Raw)); err != nil {
		return nil, err
	}
	return s, nil
}

// fieldStrings lists the leaves of s as sorted path strings, leaving out
// status (normalised away, and written by controllers).
func fieldStrings(s *fieldpath.Set) []string {
	var out []string
	s.Leaves().Iterate(func(p fieldpath.Path) {
		if len(p) > 0 && p[0].FieldName != nil && *p[0].FieldName == "status" {
			return
		}
		out = append(out, pathString(p))
	})
	sort.Strings(out)
	return out
}

func pathString(p fieldpath.Path) string {
	var b strings.Builder
	for _, e := range p {
		switch {
		case e.FieldName != nil:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(*e.FieldName)
		case e.Key != nil:
			b.WriteByte('[')
			for i, k := range *e.Key {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(k.Name)
				b.WriteByte('=')
				b.WriteString(scalarString(k.Value))
			}
			b.WriteByte(']')
		case e.Value != nil:
			b.WriteString("[=")
			b.WriteString(scalarString(*e.Value))
			b.WriteByte(']')
		case e.Index != nil:
			b.WriteString("[" + strconv.Itoa(*e.Index) + "]")
		}
	}
	return b.String()
}

func scalarString(v value.Value) string {
	if v.IsString() {
		return v.AsString()
	}
	return value.ToString(v)
}

// smdPathToField converts a path as the API server prints it in a conflict
// (`.spec.containers[name="neo4j"].image`) to the form above.
func smdPathToField(s string) string {
	s = strings.TrimPrefix(s, ".")
	var b strings.Builder
	inBracket := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '[' && !inBracket:
			inBracket = true
			b.WriteByte(ch)
		case ch == ']' && inBracket:
			inBracket = false
			b.WriteByte(ch)
		case ch == '"' && inBracket:
			// A JSON string: find its end, honouring escapes, and unquote it.
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				b.WriteString(s[i:])
				return b.String()
			}
			if u, err := strconv.Unquote(s[i : j+1]); err == nil {
				b.WriteString(u)
			} else {
				b.WriteString(s[i : j+1])
			}
			i = j
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// managedEntry is one managedFields entry with its fields decoded. fields
// is empty (never nil) when the entry's fieldsV1 could not be read: a
// server that writes fieldsV1 we cannot read still gets its manager listed;
// attribution is best effort.
type managedEntry struct {
	manager     string
	operation   string
	subresource string
	fields      *fieldpath.Set
	// ok is false when fieldsV1 could not be read.
	ok bool
}

// managedFieldsOf decodes metadata.managedFields of an object as the
// dynamic client returns it, straight from the decoded JSON. It is what
// GetManagedFields + decodeFields compute, without encoding every fieldsV1
// back to JSON and parsing it again: for each object observed that was a
// tenth of a fleet plan's CPU time.
func managedFieldsOf(obj map[string]any) []managedEntry {
	md, _ := obj["metadata"].(map[string]any)
	list, _ := md["managedFields"].([]any)
	out := make([]managedEntry, 0, len(list))
	for _, item := range list {
		e, ok := item.(map[string]any)
		if !ok {
			continue
		}
		me := managedEntry{fields: &fieldpath.Set{}, ok: true}
		me.manager, _ = e["manager"].(string)
		me.operation, _ = e["operation"].(string)
		me.subresource, _ = e["subresource"].(string)
		if f, present := e["fieldsV1"]; present && f != nil {
			m, isMap := f.(map[string]any)
			if !isMap || !insertFields(me.fields, nil, m) {
				me.fields, me.ok = &fieldpath.Set{}, false
			}
		}
		out = append(out, me)
	}
	return out
}

// insertFields adds the fieldsV1 tree m found under prefix to s, with the
// semantics of fieldpath.Set.FromJSON: "." marks its parent as a member, a
// leaf ({}) is a member, and so is a node whose keys are all of a kind this
// version does not know (they are dropped). It reports false for a key that
// cannot be parsed, which FromJSON treats as an error.
func insertFields(s *fieldpath.Set, prefix fieldpath.Path, m map[string]any) bool {
	for k, v := range m {
		if k == "." {
			continue
		}
		pe, err := fieldpath.DeserializePathElement(k)
		if err == fieldpath.ErrUnknownPathElementType {
			continue
		}
		if err != nil {
			return false
		}
		p := make(fieldpath.Path, len(prefix)+1)
		copy(p, prefix)
		p[len(prefix)] = pe
		child, _ := v.(map[string]any)
		_, dot := child["."]
		if dot || !hasKnownKey(child) {
			s.Insert(p)
		}
		if !insertFields(s, p, child) {
			return false
		}
	}
	return true
}

// hasKnownKey reports whether m has a key that is a path element this
// version understands (malformed keys count: they fail the decoding).
func hasKnownKey(m map[string]any) bool {
	for k := range m {
		if k == "." {
			continue
		}
		if _, err := fieldpath.DeserializePathElement(k); err != fieldpath.ErrUnknownPathElementType {
			return true
		}
	}
	return false
}

// managedSet is the fields one manager owns through one operation.
type managedSet struct {
	manager   string
	operation string
	fields    *fieldpath.Set
}

// managedSets merges decoded entries into one set per manager and
// operation. Entries for the status subresource are skipped: status is
// never compared.
func managedSets(entries []managedEntry) []managedSet {
	var out []managedSet
	for _, e := range entries {
		if e.subresource == "status" {
			continue
		}
		// Several entries can share a manager (e.g. kubectl with and
		// without the scale subresource); plan wants one per manager and
		// operation.
		merged := false
		for i := range out {
			if out[i].manager == e.manager && out[i].operation == e.operation {
				out[i].fields = out[i].fields.Union(e.fields)
				merged = true
			}
		}
		if !merged {
			out = append(out, managedSet{manager: e.manager, operation: e.operation, fields: e.fields})
		}
	}
	return out
}

// managersOf converts decoded managedFields to the plan's FieldManager
// list, sorted by manager for a stable plan.
func managersOf(entries []managedEntry) []state.FieldManager {
	var out []state.FieldManager
	for _, m := range managedSets(entries) {
		f := fieldStrings(m.fields)
		if len(f) == 0 {
			continue
		}
		out = append(out, state.FieldManager{Manager: m.manager, Operation: m.operation, Fields: f})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Manager != out[j].Manager {
			return out[i].Manager < out[j].Manager
		}
		return out[i].Operation < out[j].Operation
	})
	return out
}

// conflictsOf finds the fields a non-forced apply would be refused
// for: fields another Apply-operation manager owns in the live object that a
// forced apply moves to neo4jctl. The server only takes a field away from a
// manager when the applied value differs (equal values are shared), so a
// field owned by the other manager live, gone from its set in the forced
// dry run's result and owned there by neo4jctl is exactly a conflict.
func conflictsOf(live, predicted []managedEntry, self string) []state.Conflict {
	var ours *fieldpath.Set
	after := map[string]*fieldpath.Set{}
	for _, m := range managedSets(predicted) {
		if m.operation != string(metav1.ManagedFieldsOperationApply) {
			continue
		}
		if m.manager == self {
			ours = m.fields
		} else {
			after[m.manager] = m.fields
		}
	}
	if ours == nil {
		return nil
	}
	var out []state.Conflict
	for _, m := range managedSets(live) {
		if m.operation != string(metav1.ManagedFieldsOperationApply) || m.manager == self {
			continue
		}
		lost := m.fields
		if a, ok := after[m.manager]; ok {
			lost = lost.Difference(a)
		}
		for _, f := range fieldStrings(lost.Intersection(ours)) {
			out = append(out, state.Conflict{Field: f, Manager: m.manager})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Manager < out[j].Manager
	})
	return out
}
