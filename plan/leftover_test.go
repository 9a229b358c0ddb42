package plan_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// A Free server left behind by an out-of-band scale out and back (issue 11,
// item 5): its Pod is gone and the StatefulSet's replicas do not cover its
// ordinal, so nothing can start it again. The plan removes it, confirmed,
// the way the Operations Manual lets a server leave (ENABLE, DEALLOCATE,
// DROP: DROP SERVER needs a Deallocated server). A Free server whose Pod
// exists, or whose ordinal the replicas cover (its Pod may be starting),
// is never touched.
func TestComputeLeftoverFreeServer(t *testing.T) {
	free := func(ord int, health string) func(n *state.Neo4j) {
		return func(n *state.Neo4j) {
			id := plantest.ServerIDs[ord]
			n.Servers[id] = state.Server{ID: id, Name: id, Address: plantest.PodDNS(plantest.Name, ord) + ":7687",
				State: state.ServerFree, Health: health, Hosting: []string{"system"}}
		}
	}
	id3 := "neo4j:server/" + plantest.ServerIDs[3]
	t.Run("no Pod, beyond the replicas: removed", func(t *testing.T) {
		s := scenario("no-changes")
		free(3, state.HealthUnavailable)(&s.Neo4j)
		p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
		want := []string{id3 + " enable-server", id3 + " deallocate", id3 + " wait-deallocated", id3 + " drop-server"}
		if diff := cmp.Diff(want, kinds(p)); diff != "" {
			t.Fatalf("steps (-want +got):\n%s", diff)
		}
		for i, st := range p.Steps {
			if st.Kind == plan.KindWaitDeallocated {
				continue
			}
			// The ENABLE too: watch enforce holds irreversible steps, and
			// must not run the ENABLE and hold the rest.
			if !st.Irreversible {
				t.Errorf("%s %s is not irreversible: apply would not ask", st.Address, st.Kind)
			}
			if i > 0 && (len(st.DependsOn) == 0 || st.DependsOn[0] != p.Steps[i-1].ID) {
				t.Errorf("%s does not follow %s: %v", st.Kind, p.Steps[i-1].Kind, st.DependsOn)
			}
		}
	})
	// A scale in 4 → 3 whose fourth server is Free: removed after the
	// scale, in the same apply, so it is not left behind.
	t.Run("Free server of a Pod the scale in removes", func(t *testing.T) {
		c := plantest.Cluster(3)
		k := plantest.Converged(c, 4)
		n := plantest.Neo4j(3)
		free(3, state.HealthAvailable)(&n)
		p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
		got := kinds(p)
		want := []string{sts + " scale-statefulset", id3 + " enable-server", id3 + " deallocate", id3 + " wait-deallocated", id3 + " drop-server"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("steps (-want +got):\n%s", diff)
		}
	})
	cases := map[string]func(s *plantest.Scenario){
		"Pod still exists": func(s *plantest.Scenario) {
			free(3, state.HealthAvailable)(&s.Neo4j)
			s.Kube.Pods = append(s.Kube.Pods, state.Pod{Name: plantest.Name + "-3", Namespace: plantest.Namespace, StatefulSet: plantest.Name, Ordinal: 3})
		},
		"replicas cover it (its Pod may be starting)": func(s *plantest.Scenario) {
			c4 := plantest.Cluster(4)
			s.Desired, s.Kube = plantest.Desired(c4), plantest.Converged(c4, 4)
			s.Kube.Pods = s.Kube.Pods[:3]
			free(3, state.HealthUnavailable)(&s.Neo4j)
		},
		"not a Pod of this cluster": func(s *plantest.Scenario) {
			id := plantest.ServerIDs[3]
			s.Neo4j.Servers[id] = state.Server{ID: id, Name: id, Address: "elsewhere-3.other.svc:7687", State: state.ServerFree, Health: state.HealthUnavailable}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			s := scenario("no-changes")
			setup(&s)
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			for _, st := range p.Steps {
				if st.Address == id3 && (st.Kind == plan.KindDropServer || st.Kind == plan.KindDeallocate) {
					t.Errorf("plans %s on a server that may still be a Pod's or is not this cluster's", st.Kind)
				}
			}
		})
	}
}
