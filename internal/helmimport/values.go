package helmimport

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// coalesce merges the user's values over the chart's defaults the way Helm
// does for maps: nested maps merge, any other user value replaces the
// default, and a user null removes the key.
func coalesce(defaults, user map[string]any) map[string]any {
	out := make(map[string]any, len(defaults))
	for k, v := range defaults {
		out[k] = v
	}
	for k, uv := range user {
		if uv == nil {
			delete(out, k)
			continue
		}
		um, uIsMap := uv.(map[string]any)
		dm, dIsMap := out[k].(map[string]any)
		if uIsMap && dIsMap {
			out[k] = coalesce(dm, um)
			continue
		}
		out[k] = uv
	}
	return out
}

// leaves lists the dotted paths of every scalar or list the user set (a map
// is walked into; an empty map is a leaf of its own).
func leaves(m map[string]any, prefix string, out map[string]any) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			leaves(sub, p, out)
			continue
		}
		out[p] = v
	}
}

// values is a release's merged values plus the record of which user-set
// paths a translation has consumed, so that every one left over can be
// refused by name.
type values struct {
	defaults map[string]any
	merged   map[string]any
	user     map[string]any // dotted path → value, leaves only
	consumed map[string]bool
}

func newValues(chartDefaults, config map[string]any) *values {
	user := map[string]any{}
	leaves(config, "", user)
	return &values{defaults: chartDefaults, merged: coalesce(chartDefaults, config), user: user, consumed: map[string]bool{}}
}

// lookup walks a dotted path in m.
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// changed reports whether the merged value at path differs from the
// chart's default (a user set it to something else).
func (v *values) changed(path string) bool {
	return !reflect.DeepEqual(lookup(v.defaults, path), lookup(v.merged, path))
}

// get returns the merged value at a dotted path and marks it, and every
// user-set path under it, as consumed.
func (v *values) get(path string) any {
	v.consume(path)
	return lookup(v.merged, path)
}

func (v *values) consume(path string) {
	for p := range v.user {
		if p == path || strings.HasPrefix(p, path+".") {
			v.consumed[p] = true
		}
	}
}

// str is get for a scalar, written as Helm's templates would print it.
func (v *values) str(path string) string { return scalar(v.get(path)) }

// scalar prints a JSON scalar the way the chart's templates do: whole
// numbers without an exponent (JSON decodes 1000000 as float64, which
// fmt would print as 1e+06).
func scalar(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func (v *values) strMap(path string) map[string]string {
	m, _ := v.get(path).(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if x == nil {
			continue
		}
		out[k] = scalar(x)
	}
	return out
}

// userSet reports whether the user gave a value at path or under it.
func (v *values) userSet(path string) bool {
	for p := range v.user {
		if p == path || strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// unconsumed lists the user-set paths no translation took, sorted.
func (v *values) unconsumed() []string {
	var out []string
	for p := range v.user {
		if !v.consumed[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
