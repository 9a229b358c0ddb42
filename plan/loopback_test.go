package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// serverSteps are the steps of kinds that change a server's membership.
func serverSteps(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		switch s.Kind {
		case plan.KindEnableServer, plan.KindDeallocate, plan.KindDropServer:
			out = append(out, string(s.Kind)+" "+s.Address)
		}
	}
	return out
}

// TestComputeLoopbackStandaloneIsItsPod: a standalone installed by the Helm
// chart advertises localhost:7687 (the chart sets advertised addresses only
// when clustered; server.default_advertised_address defaults to
// localhost). With one server Pod and one server, that server is the
// Pod's: nothing to enable, deallocate or drop, and the plan says why.
func TestComputeLoopbackStandaloneIsItsPod(t *testing.T) {
	for _, addr := range []string{"localhost:7687", "127.0.0.1:7687", "[::1]:7687"} {
		t.Run(addr, func(t *testing.T) {
			c := plantest.Cluster(1)
			n := plantest.Neo4j(1)
			id := plantest.ServerIDs[0]
			s := n.Servers[id]
			s.Address = addr
			n.Servers[id] = s
			p := mustCompute(t, plantest.Desired(c), plantest.Converged(c, 1), n, plan.Options{})
			if got := serverSteps(p); len(got) != 0 {
				t.Errorf("server steps %v, want none: the one server is the one Pod's", got)
			}
			w := strings.Join(p.Warnings, "\n")
			if strings.Contains(w, "not a Pod of this cluster") || !strings.Contains(w, "taken as the server of Pod "+plantest.Name+"-0") {
				t.Errorf("warnings %q, want the mapping explained", w)
			}
		})
	}
}

// TestComputeLoopbackAmongSeveralIsNotMapped: with three server Pods a
// server advertising localhost could be any of them (or none): it is not
// mapped and neo4jctl leaves it alone.
func TestComputeLoopbackAmongSeveralIsNotMapped(t *testing.T) {
	s := scenario("no-changes")
	id := plantest.ServerIDs[3]
	s.Neo4j.Servers[id] = state.Server{ID: id, Name: id, Address: "localhost:7687", State: state.ServerFree, Health: state.HealthAvailable}
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	for _, st := range p.Steps {
		if st.Address == "neo4j:server/"+id || strings.Contains(st.Address, id) {
			t.Errorf("plans %s on a loopback server that names no Pod", st.Kind)
		}
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "not a Pod of this cluster") || strings.Contains(w, "taken as the server") {
		t.Errorf("warnings %q, want it left alone", w)
	}
}
