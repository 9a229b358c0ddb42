package kube

import (
	"encoding/json"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Associative lists (listType=map such as ports and containers, keyed by
// port/protocol or name; listType=set such as finalizers) mean the same
// thing in any order. A server-side apply of the same items in another order
// does reorder them in storage, so a forced dry run of reordered ports would
// differ from the live object although nothing a reader cares about changes
// — exactly the noise users of server-side diffs complain about. alignLists
// puts the predicted object's associative lists in the live object's order;
// items new to the list keep their predicted order after the known ones.
//
// Which lists are associative, and by which keys, is read from the objects'
// managedFields (a list-map item appears there as k:{"port":7687,...}, a set
// item as v:...), so no OpenAPI schema is needed.

// listShape is what managedFields say about the fields under one path.
type listShape struct {
	fields map[string]*listShape
	keys   []string   // key field names when this is a list-map
	set    bool       // a listType=set of scalars
	item   *listShape // the shape of the items of a list-map
}

func newShape() *listShape { return &listShape{fields: map[string]*listShape{}} }

// shapeOfEntries merges the field sets of all managers into one shape.
func shapeOfEntries(entries ...[]managedEntry) *listShape {
	root := newShape()
	for _, es := range entries {
		for _, e := range es {
			if !e.ok {
				continue
			}
			e.fields.Iterate(func(p fieldpath.Path) { root.add(p) })
		}
	}
	return root
}

func (n *listShape) add(p fieldpath.Path) {
	cur := n
	for _, e := range p {
		switch {
		case e.FieldName != nil:
			next, ok := cur.fields[*e.FieldName]
			if !ok {
				next = newShape()
				cur.fields[*e.FieldName] = next
			}
			cur = next
		case e.Key != nil:
			if cur.keys == nil {
				for _, f := range *e.Key {
					cur.keys = append(cur.keys, f.Name)
				}
			}
			if cur.item == nil {
				cur.item = newShape()
			}
			cur = cur.item
		case e.Value != nil:
			cur.set = true
			return
		default:
			// An index into an atomic list: nothing below is reordered.
			return
		}
	}
}

// alignLists reorders pred's associative lists to follow live's, in place.
func alignLists(shape *listShape, live, pred any) {
	switch p := pred.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return
		}
		for name, child := range shape.fields {
			if pv, ok := p[name]; ok {
				if lv, ok := l[name]; ok {
					if reordered, changed := alignList(child, lv, pv); changed {
						p[name] = reordered
					}
					alignLists(child, lv, p[name])
				}
			}
		}
	case []any:
		// Items of a list-map: recurse into matching pairs.
		l, ok := live.([]any)
		if !ok || shape.item == nil || shape.keys == nil {
			return
		}
		byKey := map[string]any{}
		for _, it := range l {
			byKey[itemKey(it, shape.keys)] = it
		}
		for _, it := range p {
			if li, ok := byKey[itemKey(it, shape.keys)]; ok {
				alignLists(shape.item, li, it)
			}
		}
	}
}

// alignList returns pred's list in live's order when shape says the list is
// associative.
func alignList(shape *listShape, live, pred any) (any, bool) {
	l, ok1 := live.([]any)
	p, ok2 := pred.([]any)
	if !ok1 || !ok2 || (shape.keys == nil && !shape.set) {
		return pred, false
	}
	key := func(it any) string {
		if shape.set {
			b, _ := json.Marshal(it)
			return string(b)
		}
		return itemKey(it, shape.keys)
	}
	rank := map[string]int{}
	for i, it := range l {
		if _, dup := rank[key(it)]; !dup {
			rank[key(it)] = i
		}
	}
	out := make([]any, 0, len(p))
	used := make([]bool, len(p))
	// Known items in live's order...
	type ranked struct{ rank, idx int }
	var known []ranked
	for i, it := range p {
		if r, ok := rank[key(it)]; ok {
			known = append(known, ranked{r, i})
		}
	}
	for i := 1; i < len(known); i++ { // insertion sort: lists are short
		for j := i; j > 0 && known[j].rank < known[j-1].rank; j-- {
			known[j], known[j-1] = known[j-1], known[j]
		}
	}
	for _, k := range known {
		out = append(out, p[k.idx])
		used[k.idx] = true
	}
	// ...then new ones in the order they were rendered.
	for i, it := range p {
		if !used[i] {
			out = append(out, it)
		}
	}
	return out, true
}

func itemKey(it any, keys []string) string {
	m, ok := it.(map[string]any)
	if !ok {
		b, _ := json.Marshal(it)
		return string(b)
	}
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	b, _ := json.Marshal(vals)
	return string(b)
}
