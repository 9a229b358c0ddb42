package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// A scale out onto ordinals whose data claims were retained by an earlier
// scale in: the claim of an ordinal whose server is Dropped (or absent from
// SHOW SERVERS) is deleted — irreversible, its UID pinned — before the
// replicas go up; an ordinal with no claim, or whose claims were not
// observed, gets no deletion.
func TestComputeReturningOnRetainedClaim(t *testing.T) {
	claim := func(name, uid string) state.Claim {
		return state.Claim{Name: name, Namespace: plantest.Namespace, UID: uid}
	}
	t.Run("dropped and absent", func(t *testing.T) {
		s := scenario("scale-out")
		s.Kube.ClaimsObserved = true
		s.Kube.Claims = []state.Claim{claim("data-prod-0", "u0"), claim("data-prod-3", "u3"), claim("data-prod-4", "u4")}
		s.Neo4j.Servers["dropped-3"] = state.Server{ID: "dropped-3", Name: "prod-3",
			Address: plantest.PodDNS("prod", 3) + ":7687", State: state.ServerDropped, Health: state.HealthUnavailable}
		p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
		want := []string{
			"k8s:core/PersistentVolumeClaim/graph/data-prod-3 delete-claim",
			"k8s:core/PersistentVolumeClaim/graph/data-prod-4 delete-claim",
			sts + " scale-statefulset",
		}
		if diff := cmp.Diff(want, kinds(p)[:3]); diff != "" {
			t.Fatalf("steps (-want +got):\n%s", diff)
		}
		for i, uid := range []string{"u3", "u4"} {
			st := p.Steps[i]
			if !st.Irreversible || st.Action != plan.ActionDelete || st.Object == nil || st.Object.UID != uid || st.Object.Kind != "PersistentVolumeClaim" {
				t.Errorf("step %s: got %+v (object %+v), want an irreversible delete of the claim with uid %s", st.ID, st, st.Object, uid)
			}
		}
		if !strings.Contains(p.Steps[0].Reason, "dropped-3, Dropped") || !strings.Contains(p.Steps[1].Reason, "no server in SHOW SERVERS") {
			t.Errorf("reasons do not say whose identity the volume holds:\n%s\n%s", p.Steps[0].Reason, p.Steps[1].Reason)
		}
		if p.Steps[2].DependsOn[0] != p.Steps[1].ID || p.Steps[1].DependsOn[0] != p.Steps[0].ID {
			t.Errorf("the scale does not wait for the deletions: %v, %v", p.Steps[1].DependsOn, p.Steps[2].DependsOn)
		}
		if len(p.Warnings) != 0 {
			t.Errorf("got warnings %v, want none: the claims were observed", p.Warnings)
		}
	})
	t.Run("no claim left", func(t *testing.T) {
		s := scenario("scale-out")
		s.Kube.ClaimsObserved = true
		p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
		for _, st := range p.Steps {
			if st.Kind == plan.KindDeleteClaim {
				t.Errorf("deletes %s with no claim to delete", st.Address)
			}
		}
		if len(p.Warnings) != 0 {
			t.Errorf("got warnings %v, want none: no claim was retained", p.Warnings)
		}
	})
	t.Run("claims not observed", func(t *testing.T) {
		s := scenario("scale-out")
		s.Kube.ClaimsObserved = false
		p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
		for _, st := range p.Steps {
			if st.Kind == plan.KindDeleteClaim {
				t.Errorf("deletes %s without having seen it", st.Address)
			}
		}
		n := 0
		for _, w := range p.Warnings {
			if strings.Contains(w, "retained volume") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("got warnings %v, want the two retained-volume warnings", p.Warnings)
		}
	})
}
