package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// A cordon is a hold, not drift: a server an operator cordoned is reported
// as held and never uncordoned, and it does not stop a scale-out.
func TestComputeCordonIsAHold(t *testing.T) {
	for _, sc := range []string{"no-changes", "scale-out"} {
		t.Run(sc, func(t *testing.T) {
			s := scenario(sc)
			id := plantest.ServerIDs[1]
			srv := s.Neo4j.Servers[id]
			srv.State = "Cordoned"
			s.Neo4j.Servers[id] = srv
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			for _, st := range p.Steps {
				if st.Address == "neo4j:server/"+id {
					t.Errorf("got step %s %s on the cordoned server, want none", st.ID, st.Kind)
				}
			}
			if len(p.Refusals) > 0 {
				t.Errorf("got refusals %+v, want none", p.Refusals)
			}
			held := false
			for _, w := range p.Warnings {
				held = held || strings.Contains(w, id) && strings.Contains(w, "held")
			}
			if !held {
				t.Errorf("got warnings %q, want the server reported as held", p.Warnings)
			}
			if sc == "scale-out" && !hasKind(p, plan.KindEnableServer) {
				t.Errorf("got steps %v, want the scale-out planned", kinds(p))
			}
		})
	}
}
