package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
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

// A replaced volume: the Pod's new volume started a new, Free server while
// the old one stays listed, Unavailable. Whatever the ids' order, the new
// server is the Pod's (enabled), the old one is removed along the
// disaster-recovery path (cordon, deallocate, drop).
func TestComputeReplacedVolume(t *testing.T) {
	for _, newID := range []string{"00000000-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-8fff-ffffffffffff"} {
		t.Run(newID[:8], func(t *testing.T) {
			s := scenario("no-changes")
			oldID := plantest.ServerIDs[1]
			old := s.Neo4j.Servers[oldID]
			old.Health = state.HealthUnavailable
			s.Neo4j.Servers[oldID] = old
			for i, a := range s.Neo4j.Databases {
				if a.ServerID == oldID {
					s.Neo4j.Databases[i].CurrentStatus = "unknown"
				}
			}
			s.Neo4j.Servers[newID] = state.Server{ID: newID, Name: newID, Address: old.Address, State: state.ServerFree,
				Health: state.HealthAvailable, Hosting: []string{"system"}, ModeConstraint: "NONE", Version: "5.26.0"}

			cur, replaced := plan.PodServer([]state.Server{old, s.Neo4j.Servers[newID]})
			cur2, _ := plan.PodServer([]state.Server{s.Neo4j.Servers[newID], old})
			if cur.ID != newID || cur2.ID != newID || len(replaced) != 1 || replaced[0].ID != oldID {
				t.Fatalf("PodServer: got %s (and %s in the other order) replacing %v, want the new server %s replacing %s", cur.ID, cur2.ID, replaced, newID, oldID)
			}

			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			want := []string{
				"neo4j:server/" + newID + " enable-server",
				"neo4j:server/" + newID + " wait-server-enabled",
				"neo4j:server/" + oldID + " cordon",
				"neo4j:server/" + oldID + " deallocate",
				"neo4j:server/" + oldID + " wait-deallocated",
				"neo4j:server/" + oldID + " drop-server",
			}
			if diff := cmp.Diff(want, kinds(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if len(p.Refusals) > 0 {
				t.Errorf("got refusals %+v, want none: movies keeps 2 of 3 primaries", p.Refusals)
			}
		})
	}
}

// Unknown is not absent: with the StatefulSet deleted there is no server to
// ask, but the cluster's other objects exist, so its servers and databases
// may too. The plan reports the Neo4j plane unknown and plans no CREATE
// DATABASE; only a namespace with nothing of the cluster is new.
func TestComputeNoPodToAskIsUnknown(t *testing.T) {
	c := plantest.Cluster(3)
	k := plantest.Converged(c, 3)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	sts.Live, sts.UID, k.Pods = nil, "", nil
	n := state.Neo4j{Reason: "no Ready Pod of StatefulSet graph/prod"}
	p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
	if !p.Incomplete || len(p.Unknown) != 1 || p.Unknown[0].Plane != "neo4j" || !strings.Contains(p.Unknown[0].Reason, "no server to ask") {
		t.Errorf("got incomplete %v unknown %+v, want the Neo4j plane unknown for want of a server to ask", p.Incomplete, p.Unknown)
	}
	for _, st := range p.Steps {
		if st.Database != nil || st.Server != nil {
			t.Errorf("got step %s %s, want no Neo4j step while the plane is unknown", st.Address, st.Kind)
		}
	}
}

// A lost outgoing server (Unavailable: its volume or node is gone) is
// removed along the disaster-recovery path instead of refusing because its
// allocations are not online; the plan says the data rests on the other
// copies, and refuses when a database would have no quorum left.
func TestComputeScaleInLostServer(t *testing.T) {
	lose := func(n *state.Neo4j, ords ...int) {
		for _, ord := range ords {
			id := plantest.ServerIDs[ord]
			s := n.Servers[id]
			s.Health = state.HealthUnavailable
			n.Servers[id] = s
			for i, a := range n.Databases {
				if a.ServerID == id {
					n.Databases[i].CurrentStatus = "unknown"
				}
			}
		}
	}
	s := scenario("scale-in")
	lose(&s.Neo4j, 4)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Refusals) > 0 {
		t.Fatalf("got refusals %+v, want the lost server removed", p.Refusals)
	}
	var dealloc *plan.Step
	for i := range p.Steps {
		if p.Steps[i].Kind == plan.KindDeallocate {
			dealloc = &p.Steps[i]
		}
	}
	if dealloc == nil || !strings.Contains(dealloc.Reason, "rebuilt from the copies on the remaining servers") {
		t.Errorf("got deallocate %+v, want it to say the data rests on the remaining copies", dealloc)
	}

	// movies' primaries on prod-0, prod-3 and prod-4, the last two lost:
	// one of three is left, no quorum.
	s = scenario("scale-in")
	for i, a := range s.Neo4j.Databases {
		if a.Name == "movies" && a.ServerID == plantest.ServerIDs[1] {
			s.Neo4j.Databases[i].ServerID = plantest.ServerIDs[3]
		}
		if a.Name == "movies" && a.ServerID == plantest.ServerIDs[2] {
			s.Neo4j.Databases[i].ServerID = plantest.ServerIDs[4]
		}
	}
	lose(&s.Neo4j, 3, 4)
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	found := false
	for _, r := range p.Refusals {
		found = found || strings.Contains(r.Reason, "no quorum") && strings.Contains(r.Fix, "recreateDatabase")
	}
	if !found || len(p.Steps) != 0 {
		t.Errorf("got steps %v refusals %+v, want the scale-in refused with the recreate fix", kinds(p), p.Refusals)
	}
}
