package drift

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestIntruderReplicasAlwaysReported: someone else's spec.replicas: 4 on a
// three-server cluster is drift whatever state the fourth server is in —
// absent, Free, Enabled, Unavailable, Cordoned, Deallocating, Dropped —
// even when the plan refuses to scale in (issue 11, item 13). After a scale
// back to 3 by hand, a Free server left without its Pod is reported
// (TestLeftoverFreeServerReported).
func TestIntruderReplicasAlwaysReported(t *testing.T) {
	four := func(st, health string) func(n *state.Neo4j) {
		return func(n *state.Neo4j) {
			id := plantest.ServerIDs[3]
			n.Servers[id] = state.Server{ID: id, Name: id, Address: plantest.PodDNS("prod", 3) + ":7687", State: st, Health: health}
		}
	}
	cases := map[string]func(n *state.Neo4j){
		"no fourth server":     func(*state.Neo4j) {},
		"Free":                 four(state.ServerFree, state.HealthAvailable),
		"Enabled":              four(state.ServerEnabled, state.HealthAvailable),
		"Enabled, Unavailable": four(state.ServerEnabled, state.HealthUnavailable),
		"Cordoned":             four(state.ServerCordoned, state.HealthAvailable),
		"Deallocating":         four(state.ServerDeallocating, state.HealthAvailable),
		"Dropped":              four(state.ServerDropped, state.HealthUnavailable),
		"a staying server down": func(n *state.Neo4j) {
			four(state.ServerFree, state.HealthAvailable)(n)
			s := n.Servers[plantest.ServerIDs[1]]
			s.Health = state.HealthUnavailable
			n.Servers[plantest.ServerIDs[1]] = s
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			c := withSource(plantest.Cluster(3))
			k := plantest.Converged(c, 3)
			o := plantest.Object(&k, "StatefulSet", plantest.Name)
			o.Live["spec"].(map[string]any)["replicas"] = float64(4)
			o.Managers = append(o.Managers, state.FieldManager{Manager: "intruder", Operation: "Apply", Fields: []string{"spec.replicas"}})
			n := plantest.Neo4j(3)
			setup(&n)
			r := report(t, target(c), k, n)
			found := false
			for _, f := range r.Findings {
				if f.Address == sts && f.Field == "spec.replicas" && f.Plane == PlaneKubernetes {
					found = true
				}
			}
			if !found || r.InSync() {
				t.Errorf("spec.replicas 4 vs 3 not reported (in sync %v): %+v; warnings %v", r.InSync(), r.Findings, r.Warnings)
			}
		})
	}
}

// TestLeftoverFreeServerReported: an out-of-band scale out and back leaves
// the fourth Pod's server Free with no Pod; drift reports it (issue 11,
// item 5) — apply would remove it — so the cluster is not "in sync".
func TestLeftoverFreeServerReported(t *testing.T) {
	c := withSource(plantest.Cluster(3))
	k := plantest.Converged(c, 3)
	n := plantest.Neo4j(3)
	id := plantest.ServerIDs[3]
	n.Servers[id] = state.Server{ID: id, Name: id, Address: plantest.PodDNS("prod", 3) + ":7687", State: state.ServerFree, Health: state.HealthUnavailable}
	r := report(t, target(c), k, n)
	found := false
	for _, f := range r.Findings {
		if f.Address == "neo4j:server/"+id && f.Plane == PlaneNeo4j && f.Kind == Extra {
			found = true
		}
	}
	if !found || r.InSync() {
		t.Errorf("the leftover Free server is not reported (in sync %v): %+v", r.InSync(), r.Findings)
	}
}
