package views

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var formats = map[string]string{
	FormatHuman:    "txt",
	FormatCompact:  "compact.txt",
	FormatJSON:     "json",
	FormatMarkdown: "md",
}

func compute(t *testing.T, s plantest.Scenario) *plan.Plan {
	t.Helper()
	p, err := plan.Compute(s.Desired, s.Kube, s.Neo4j, s.Options)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return p
}

func render(t *testing.T, format string, color bool, p *plan.Plan) string {
	t.Helper()
	v, err := NewPlanView(format, color)
	if err != nil {
		t.Fatalf("NewPlanView(%q): %v", format, err)
	}
	var buf bytes.Buffer
	if err := v.Render(&buf, p); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestPlanViewsGolden(t *testing.T) {
	for _, s := range plantest.Scenarios() {
		p := compute(t, s)
		for format, ext := range formats {
			t.Run(s.Name+"/"+format, func(t *testing.T) {
				got := render(t, format, false, p)
				golden := filepath.Join("testdata", "plan", s.Name+"."+ext)
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
					t.Fatalf("read golden (run go test -update): %v", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s render mismatch (-want +got):\n%s", golden, diff)
				}
				if strings.Contains(got, "\x1b[") {
					t.Errorf("colour off, got escape codes in %s", golden)
				}
			})
		}
	}
}

// TestCanaryNeverRendered plants a password in Secret data, an env literal,
// a ConfigMap line and a live Neo4j setting, and checks every format.
func TestCanaryNeverRendered(t *testing.T) {
	p := compute(t, plantest.OutOfBand())
	if len(p.Steps) == 0 {
		t.Fatal("got an empty plan, want the out-of-band changes (the test would prove nothing)")
	}
	for format := range formats {
		for _, color := range []bool{false, true} {
			if got := render(t, format, color, p); strings.Contains(got, plantest.Canary) {
				t.Errorf("format %s color %v: got the canary in the output", format, color)
			}
		}
	}
}

func TestColour(t *testing.T) {
	p := compute(t, plantest.Scenarios()[2])
	if got := render(t, FormatHuman, true, p); !strings.Contains(got, "\x1b[") {
		t.Errorf("colour on: got no escape codes, want styled output")
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		p    *plan.Plan
		want string
	}{
		{name: "empty", p: &plan.Plan{}, want: NoChanges},
		{name: "frozen example", p: &plan.Plan{Steps: make([]plan.Step, 4), Summary: plan.Summary{Add: 2, Change: 1, Neo4jSteps: 1, Irreversible: 1}},
			want: "Plan: 2 to add, 1 to change, 0 to destroy, 1 Neo4j step (1 irreversible)."},
		{name: "plural, no irreversible", p: &plan.Plan{Steps: make([]plan.Step, 3), Summary: plan.Summary{Neo4jSteps: 2}},
			want: "Plan: 0 to add, 0 to change, 0 to destroy, 2 Neo4j steps."},
		{name: "refused without steps is not no-changes", p: &plan.Plan{Refusals: []plan.Refusal{{Address: "a"}}},
			want: "Plan: 0 to add, 0 to change, 0 to destroy, 0 Neo4j steps."},
		{name: "incomplete is not no-changes", p: &plan.Plan{Incomplete: true},
			want: "Plan: 0 to add, 0 to change, 0 to destroy, 0 Neo4j steps."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummaryLine(tt.p); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewPlanViewUnknownFormat(t *testing.T) {
	if _, err := NewPlanView("yaml", false); err == nil {
		t.Errorf("got nil error for format yaml, want one")
	}
}

// The plan shows Neo4j's answer to the DRYRUN of a DEALLOCATE: one line per
// allocation it would move.
func TestPlanViewShowsDryRun(t *testing.T) {
	s := plantest.Scenarios()[3] // scale-in
	if s.Name != "scale-in" {
		t.Fatalf("scenario 3 is %s, want scale-in", s.Name)
	}
	ids := []string{plantest.ServerIDs[3], plantest.ServerIDs[4]}
	s.Neo4j.DryRuns = []state.DryRun{{Kind: state.DryRunDeallocate, ServerIDs: ids, Moves: []state.Move{
		{Database: "system", FromServerName: "prod-4", FromServerID: ids[1], ToServerName: "prod-2", ToServerID: plantest.ServerIDs[2], Mode: "secondary"}}}}
	got := render(t, FormatHuman, false, compute(t, s))
	for _, want := range []string{"DRYRUN DEALLOCATE DATABASES FROM SERVERS '" + ids[0] + "', '" + ids[1] + "':", "system (secondary): prod-4 → prod-2"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan does not show %q:\n%s", want, got)
		}
	}
}
