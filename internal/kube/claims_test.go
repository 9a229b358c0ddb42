package kube

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The claims are listed only for a scale out: a live StatefulSet with
// fewer replicas than rendered (JSON numbers decode as float64, rendered
// ones are int64; no replicas is the API server's default of 1).
func TestScalesOut(t *testing.T) {
	sts := func(desired, live any) state.Object {
		o := state.Object{Kind: "StatefulSet", Desired: map[string]any{"spec": map[string]any{"replicas": desired}}}
		if live != nil {
			o.Live = map[string]any{"spec": map[string]any{"replicas": live}}
		}
		return o
	}
	tests := []struct {
		name string
		objs []state.Object
		want bool
	}{
		{"up", []state.Object{sts(int64(5), float64(3))}, true},
		{"same", []state.Object{sts(int64(3), float64(3))}, false},
		{"down", []state.Object{sts(int64(3), int64(5))}, false},
		{"not there yet", []state.Object{sts(int64(3), nil)}, false},
		{"default one", []state.Object{{Kind: "StatefulSet", Desired: map[string]any{"spec": map[string]any{"replicas": int64(2)}}, Live: map[string]any{"spec": map[string]any{}}}}, true},
		{"not a StatefulSet", []state.Object{{Kind: "Deployment", Desired: map[string]any{"spec": map[string]any{"replicas": int64(2)}}, Live: map[string]any{"spec": map[string]any{}}}}, false},
	}
	for _, tt := range tests {
		if got := scalesOut(tt.objs); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
