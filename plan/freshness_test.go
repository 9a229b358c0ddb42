package plan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
)

// TestCheckSameSteps: a saved plan is applied only if its steps are the
// ones a fresh plan computes — a step added, removed or edited in the file
// (its freshness record untouched) is refused, naming it; display-only
// fields (reasons, before/after) may differ.
func TestCheckSameSteps(t *testing.T) {
	s := scenario("scale-in")
	fresh := func() *plan.Plan { return mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options) }
	if !fresh().HasChanges() {
		t.Fatal("the scale-in scenario plans nothing")
	}
	tests := []struct {
		name  string
		edit  func(p *plan.Plan)
		wants []string // in the error; none: no error
	}{
		{name: "unchanged", edit: func(*plan.Plan) {}},
		{name: "display only", edit: func(p *plan.Plan) {
			p.Steps[0].Reason = "edited"
			p.Steps[0].Before, p.Steps[0].After = nil, nil
			p.Steps[0].FieldDiffs = nil
		}},
		{name: "a delete appended", edit: func(p *plan.Plan) {
			p.Steps = append(p.Steps, plan.Step{ID: "s99", Address: "k8s:core/Service/graph/prod", Action: plan.ActionDelete, Kind: plan.KindDelete,
				Object: &plan.ObjectRef{Version: "v1", Kind: "Service", Namespace: "graph", Name: "prod"}})
		}, wants: []string{"s99", "k8s:core/Service/graph/prod", "delete", "not in a fresh plan"}},
		{name: "a step removed", edit: func(p *plan.Plan) { p.Steps = p.Steps[1:] }, wants: []string{"not in the saved plan"}},
		{name: "a statement changed", edit: func(p *plan.Plan) {
			for i := range p.Steps {
				if p.Steps[i].Server != nil {
					p.Steps[i].Server.ServerID = "00000000-0000-0000-0000-000000000000"
					return
				}
			}
			t.Fatal("no server step")
		}, wants: []string{"differs from a fresh plan"}},
		{name: "an action changed", edit: func(p *plan.Plan) { p.Steps[0].Action = plan.ActionDelete }, wants: []string{"differs from a fresh plan"}},
		{name: "an irreversible step unmarked", edit: func(p *plan.Plan) {
			for i := range p.Steps {
				if p.Steps[i].Irreversible {
					p.Steps[i].Irreversible = false
					return
				}
			}
			t.Fatal("no irreversible step")
		}, wants: []string{"differs from a fresh plan"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := roundTrip(t, fresh())
			tc.edit(saved)
			err := plan.CheckSameSteps(saved, fresh())
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var me *plan.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *plan.MismatchError", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
