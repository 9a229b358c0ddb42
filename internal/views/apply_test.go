package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// drive replays a partly failed apply of the scale-in scenario through a
// view: a retried DEALLOCATE, a wait with progress, a failed DROP SERVER
// and its dependents skipped.
func drive(t *testing.T, v ApplyView) {
	t.Helper()
	var p *plan.Plan
	for _, s := range plantest.Scenarios() {
		if s.Name == "scale-in" {
			p = compute(t, s)
		}
	}
	res := &apply.Result{Wrote: true}
	v.Message("Preflight: dry-running 1 object…")
	finish := func(s plan.Step, st apply.Status, d time.Duration, note string, err error) {
		r := apply.StepResult{ID: s.ID, Address: s.Address, Kind: s.Kind, Status: st, Duration: d, Note: note, Err: err}
		res.Steps = append(res.Steps, r)
		v.StepFinished(s, r)
	}
	s := p.Steps
	v.StepStarted(s[0])
	v.StepRetry(s[0], "DEALLOCATE", 1, errors.New("neo4j: DEALLOCATE: transient: Neo.TransientError.General.DatabaseUnavailable"))
	finish(s[0], apply.StatusApplied, 1200*time.Millisecond, "", nil)
	v.StepStarted(s[1])
	v.StepProgress(s[1], "Still waiting for server prod-4 to be hosting only system (hosting movies, system) [10s elapsed]")
	finish(s[1], apply.StatusApplied, 14*time.Second, "", nil)
	v.StepStarted(s[2])
	finish(s[2], apply.StatusFailed, 300*time.Millisecond, "", errors.New("neo4j: DROP SERVER: refused: Neo.ClientError.Cluster.ServerNotDeallocated: not deallocated"))
	for i, st := range s[3:] {
		why := ", which was skipped"
		if i == 0 {
			why = ", which failed"
		}
		finish(st, apply.StatusSkipped, 0, "depends on "+st.DependsOn[0]+why, nil)
	}
	v.Summary(res)
}

func TestApplyViewsGolden(t *testing.T) {
	clock := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, format := range []string{FormatHuman, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var out, errOut bytes.Buffer
			v, err := NewApplyView(format, ApplyViewOptions{Out: &out, ErrOut: &errOut, Now: func() time.Time { return clock }})
			if err != nil {
				t.Fatal(err)
			}
			drive(t, v)
			got := errOut.String() + "---- stdout ----\n" + out.String()
			golden := filepath.Join("testdata", "apply", "partial-failure."+format+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestApplyJSONEventsAreNDJSON(t *testing.T) {
	var out bytes.Buffer
	v, _ := NewApplyView(FormatJSON, ApplyViewOptions{Out: &out, ErrOut: &out})
	drive(t, v)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last map[string]any
	for i, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, l)
		}
		for _, k := range []string{"@level", "@message", "@timestamp", "type"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("line %d has no %q: %s", i+1, k, l)
			}
		}
		last = ev
	}
	if got, want := last["@message"], "Apply failed: 2 applied, 1 failed, 5 skipped."; got != want {
		t.Errorf("last event message: got %v, want %q", got, want)
	}
}
