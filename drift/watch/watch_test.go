package watch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/plan"
)

func TestBreaker(t *testing.T) {
	now := time.Unix(0, 0)
	b := &Breaker{Failures: 2, Cooldown: 10 * time.Second, Now: func() time.Time { return now }}
	fail := errors.New("refused")
	type step struct {
		advance time.Duration
		allow   bool
		outcome error // recorded when allowed
		want    CircuitState
	}
	steps := []step{
		{allow: true, outcome: fail, want: CircuitClosed},
		{allow: true, outcome: fail, want: CircuitOpen},
		{advance: 5 * time.Second, allow: false, want: CircuitOpen},
		{advance: 5 * time.Second, allow: true, outcome: fail, want: CircuitOpen}, // half-open trial fails
		{advance: 9 * time.Second, allow: false, want: CircuitOpen},
		{advance: time.Second, allow: true, outcome: nil, want: CircuitClosed}, // trial succeeds
		{allow: true, outcome: fail, want: CircuitClosed},                      // the count restarted
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := b.Allow(); got != s.allow {
			t.Fatalf("step %d: Allow() = %v, want %v", i, got, s.allow)
		}
		if s.allow {
			b.Record(s.outcome)
		}
		if got := b.State(); got != s.want {
			t.Fatalf("step %d: state %s, want %s", i, got, s.want)
		}
	}
}

func TestBreakerHalfOpenAllowsOneCall(t *testing.T) {
	now := time.Unix(0, 0)
	b := &Breaker{Failures: 1, Cooldown: time.Second, Now: func() time.Time { return now }}
	b.Allow()
	b.Record(errors.New("x"))
	now = now.Add(time.Second)
	if !b.Allow() {
		t.Fatal("after the cooldown: got refused, want one trial call")
	}
	if b.Allow() {
		t.Error("second call while half-open: got allowed, want refused")
	}
	if got := b.State(); got != CircuitHalfOpen {
		t.Errorf("got %s, want half-open", got)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, b.Delay(n))
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
}

func TestJitter(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    float64
		want time.Duration
	}{
		{"low end", 0, 54 * time.Second},
		{"middle", 0.5, 60 * time.Second},
		{"high end", 0.999999, 66 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Jitter(60*time.Second, 0.1, tc.r).Round(time.Second); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	steps := []plan.Step{
		{ID: "s01", Address: "k8s:core/ConfigMap/g/c", Action: plan.ActionUpdate, Kind: plan.KindApply},
		{ID: "s02", Address: "neo4j:server/a", Action: plan.ActionNeo4j, Kind: plan.KindDeallocate, Irreversible: true},
		{ID: "s03", Address: "neo4j:server/a", Action: plan.ActionRead, Kind: plan.KindWaitDeallocated, DependsOn: []string{"s02"}},
		{ID: "s04", Address: "neo4j:server/a", Action: plan.ActionNeo4j, Kind: plan.KindDropServer, Irreversible: true, DependsOn: []string{"s03"}},
		{ID: "s05", Address: "k8s:apps/StatefulSet/g/p", Action: plan.ActionUpdate, Kind: plan.KindScaleStatefulSet, DependsOn: []string{"s04"}},
		{ID: "s06", Address: "k8s:core/Service/g/old", Action: plan.ActionDelete, Kind: plan.KindDelete},
		{ID: "s07", Address: "k8s:apps/StatefulSet/g/q", Action: plan.ActionReplace, Kind: plan.KindReplace},
		{ID: "s08", Address: "neo4j:database/movies", Action: plan.ActionUpdate, Kind: plan.KindAlterTopology},
	}
	ids := func(ss []plan.Step) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name               string
		allow              bool
		wantKept, wantHeld []string
	}{
		{"default holds irreversible, deletes, replaces and dependents", false,
			[]string{"s01", "s08"}, []string{"s02", "s03", "s04", "s05", "s06", "s07"}},
		{"opt-in holds nothing", true,
			[]string{"s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan.Plan{Steps: steps}
			kept, held := Split(p, tc.allow)
			if diff := cmp.Diff(tc.wantKept, ids(kept.Steps)); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantHeld, ids(held)); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
			if len(p.Steps) != len(steps) {
				t.Error("Split changed its input")
			}
			if !tc.allow && kept.Summary.Irreversible != 0 {
				t.Errorf("kept summary counts %d irreversible steps, want 0", kept.Summary.Irreversible)
			}
		})
	}
}

func TestDriftedAddresses(t *testing.T) {
	p := &plan.Plan{Steps: []plan.Step{
		{Address: "a", Action: plan.ActionUpdate},
		{Address: "a", Action: plan.ActionRead, Kind: plan.KindRollingUpdate},
		{Address: "b", Action: plan.ActionRead, Kind: plan.KindWaitServerFree},
		{Address: "c", Action: plan.ActionNeo4j, Kind: plan.KindEnableServer},
		{Address: "a", Action: plan.ActionUpdate},
	}}
	if diff := cmp.Diff([]string{"a", "c"}, DriftedAddresses(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestStopMessageSaysWhy: the "stopped" event names the signal's cause.
func TestStopMessageSaysWhy(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated"))
	inner, stop := context.WithCancel(ctx)
	defer stop()
	if got := stopMessage(inner); got != "watch stopped: terminated" {
		t.Errorf("got %q, want %q", got, "watch stopped: terminated")
	}
	plain, cancelPlain := context.WithCancel(context.Background())
	cancelPlain()
	if got := stopMessage(plain); got != "watch stopped" {
		t.Errorf("got %q, want %q", got, "watch stopped")
	}
}
