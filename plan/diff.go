package plan

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// rawDiff is one differing field before redaction and attribution. Its
// segments are map keys, "[key=value]" for elements of keyed lists and "[i]"
// for elements of other lists.
type rawDiff struct {
	segs          []string
	before, after any
	// absentBefore/absentAfter tell a missing field from a null one.
	absentBefore, absentAfter bool
}

// listKeys are the fields that identify elements of the Kubernetes lists
// neo4jctl renders (containers, env, volumes, ports, volumeMounts), in the
// order tried. Diffing such lists by key means a reordering is no change and
// a change reads as "containers[name=neo4j].image" instead of an index.
var listKeys = []string{"name", "containerPort", "port", "mountPath"}

// diffValues appends to out every field where before and after differ.
// subset restricts the walk to the fields present in after: used when there
// is no server-side prediction and after is the rendered (undefaulted) object.
func diffValues(before, after any, segs []string, subset bool, out *[]rawDiff) {
	if equalValues(before, after) {
		return
	}
	bm, bok := before.(map[string]any)
	am, aok := after.(map[string]any)
	if bok && aok {
		keys := make([]string, 0, len(bm)+len(am))
		for k := range am {
			keys = append(keys, k)
		}
		if !subset {
			for k := range bm {
				if _, ok := am[k]; !ok {
					keys = append(keys, k)
				}
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			bv, inB := bm[k]
			av, inA := am[k]
			child := appendSeg(segs, k)
			switch {
			case !inB:
				*out = append(*out, rawDiff{segs: child, after: av, absentBefore: true})
			case !inA:
				*out = append(*out, rawDiff{segs: child, before: bv, absentAfter: true})
			default:
				diffValues(bv, av, child, subset, out)
			}
		}
		return
	}
	bl, blok := before.([]any)
	al, alok := after.([]any)
	if blok && alok {
		if key := listKey(bl, al); key != "" {
			diffKeyedList(bl, al, key, segs, subset, out)
			return
		}
		if allMaps(bl) && allMaps(al) && len(bl) == len(al) {
			for i := range al {
				diffValues(bl[i], al[i], appendSeg(segs, "["+strconv.Itoa(i)+"]"), subset, out)
			}
			return
		}
	}
	if equalQuantities(segs, before, after) {
		return
	}
	*out = append(*out, rawDiff{segs: segs, before: before, after: after})
}

// equalQuantities reports whether before and after are the same quantity
// written differently ("1Gi" and "1073741824", "1" and "1000m") in a field
// that holds one: resource requests and limits (containers and
// volumeClaimTemplates alike) and an emptyDir's sizeLimit. The API server
// keeps a quantity as written, so comparing the strings would report a
// change where there is none. Other strings are compared as they are.
func equalQuantities(segs []string, before, after any) bool {
	if !quantityField(segs) {
		return false
	}
	bs, ok1 := before.(string)
	as, ok2 := after.(string)
	if !ok1 || !ok2 {
		return false
	}
	bq, err1 := resource.ParseQuantity(bs)
	aq, err2 := resource.ParseQuantity(as)
	return err1 == nil && err2 == nil && bq.Cmp(aq) == 0
}

func quantityField(segs []string) bool {
	n := len(segs)
	if n >= 1 && segs[n-1] == "sizeLimit" {
		return true
	}
	return n >= 3 && segs[n-3] == "resources" && (segs[n-2] == "requests" || segs[n-2] == "limits")
}

func diffKeyedList(bl, al []any, key string, segs []string, subset bool, out *[]rawDiff) {
	index := func(l []any) (map[string]any, []string) {
		m := make(map[string]any, len(l))
		var order []string
		for _, e := range l {
			v := scalarString(e.(map[string]any)[key])
			m[v] = e
			order = append(order, v)
		}
		return m, order
	}
	bm, border := index(bl)
	am, aorder := index(al)
	seen := map[string]bool{}
	keys := append([]string{}, aorder...)
	if !subset {
		keys = append(keys, border...)
	}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		child := appendSeg(segs, "["+key+"="+k+"]")
		bv, inB := bm[k]
		av, inA := am[k]
		switch {
		case !inB:
			*out = append(*out, rawDiff{segs: child, after: av, absentBefore: true})
		case !inA:
			*out = append(*out, rawDiff{segs: child, before: bv, absentAfter: true})
		default:
			diffValues(bv, av, child, subset, out)
		}
	}
}

// listKey returns the first of listKeys present with a unique scalar value in
// every element of both lists, or "" when the lists are not keyed.
func listKey(a, b []any) string {
	if len(a)+len(b) == 0 || !allMaps(a) || !allMaps(b) {
		return ""
	}
next:
	for _, k := range listKeys {
		for _, l := range [][]any{a, b} {
			seen := map[string]bool{}
			for _, e := range l {
				v, ok := e.(map[string]any)[k]
				if !ok || !isScalar(v) || seen[scalarString(v)] {
					continue next
				}
				seen[scalarString(v)] = true
			}
		}
		return k
	}
	return ""
}

func allMaps(l []any) bool {
	for _, e := range l {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, float64, float32, int, int32, int64:
		return true
	}
	return false
}

func scalarString(v any) string {
	if f, ok := toFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// equalValues is deep equality on JSON-shaped values that treats numbers of
// different Go types as equal, so hand-built and decoded objects compare.
func equalValues(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		if key := listKey(x, y); key != "" {
			ym := map[string]any{}
			for _, e := range y {
				ym[scalarString(e.(map[string]any)[key])] = e
			}
			for _, e := range x {
				w, ok := ym[scalarString(e.(map[string]any)[key])]
				if !ok || !equalValues(e, w) {
					return false
				}
			}
			return true
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func appendSeg(segs []string, s string) []string {
	out := make([]string, len(segs), len(segs)+1)
	copy(out, segs)
	return append(out, s)
}

// joinPath renders segments as the dotted path managedFields use.
func joinPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// lookup follows segments into a JSON-shaped value. A redacted string met on
// the way stands for everything below it.
func lookup(v any, segs []string) (any, bool) {
	for _, s := range segs {
		if str, ok := v.(string); ok && str == Sensitive {
			return Sensitive, true
		}
		switch x := v.(type) {
		case map[string]any:
			w, ok := x[s]
			if !ok {
				return nil, false
			}
			v = w
		case []any:
			if !strings.HasPrefix(s, "[") {
				return nil, false
			}
			inner := s[1 : len(s)-1]
			if k, val, ok := strings.Cut(inner, "="); ok {
				found := false
				for _, e := range x {
					if m, ok := e.(map[string]any); ok && scalarString(m[k]) == val {
						v, found = e, true
						break
					}
				}
				if !found {
					return nil, false
				}
			} else {
				i, err := strconv.Atoi(inner)
				if err != nil || i < 0 || i >= len(x) {
					return nil, false
				}
				v = x[i]
			}
		default:
			return nil, false
		}
	}
	return v, true
}

// immutableFields are fields the API server refuses to change; a diff there
// forces replacement.
var immutableFields = map[string][]string{
	"StatefulSet":           {"spec.selector", "spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"},
	"Service":               {"spec.clusterIP", "spec.clusterIPs"},
	"RoleBinding":           {"roleRef"},
	"Deployment":            {"spec.selector"},
	"PersistentVolumeClaim": {"spec.storageClassName", "spec.accessModes"},
}

func forcesReplacement(kind, path string) bool {
	for _, f := range immutableFields[kind] {
		if pathWithin(path, f) {
			return true
		}
	}
	return false
}

// pathWithin reports whether path is field or below it.
func pathWithin(path, field string) bool {
	return path == field || strings.HasPrefix(path, field+".") || strings.HasPrefix(path, field+"[")
}
