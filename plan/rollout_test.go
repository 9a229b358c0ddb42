package plan_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// stsAndRollout returns the StatefulSet step and the rolling-update step.
func stsAndRollout(t *testing.T, p *plan.Plan) (sts, roll *plan.Step) {
	t.Helper()
	for i := range p.Steps {
		s := &p.Steps[i]
		switch {
		case s.Kind == plan.KindRollingUpdate:
			roll = s
		case s.Object != nil && s.Object.Kind == "StatefulSet":
			sts = s
		}
	}
	if sts == nil {
		t.Fatalf("no StatefulSet step in %v", kinds(p))
	}
	return sts, roll
}

func TestTemplateChangeHoldsEveryPodAndRollsThemInOrder(t *testing.T) {
	s := plantest.OutOfBand()
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	sts, roll := stsAndRollout(t, p)
	if roll == nil {
		t.Fatalf("no rolling-update step: %v", kinds(p))
	}
	if sts.Partition == nil || *sts.Partition != 3 {
		t.Errorf("StatefulSet step partition: got %v, want 3 (no Pod replaced before the rolling-update step)", sts.Partition)
	}
	want := &plan.Rollout{StatefulSet: plantest.Name, Pods: []string{"prod-2", "prod-1", "prod-0"}, Servers: true}
	if diff := cmp.Diff(want, roll.Rollout); diff != "" {
		t.Errorf("rollout (-want +got):\n%s", diff)
	}
	if len(roll.DependsOn) != 1 || roll.DependsOn[0] != sts.ID {
		t.Errorf("rolling update depends on %v, want [%s]", roll.DependsOn, sts.ID)
	}
}

func TestUnchangedTemplateHasNoRollout(t *testing.T) {
	s := scenario("no-changes")
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if p.HasChanges() {
		t.Fatalf("no-changes scenario plans changes: %v", kinds(p))
	}
}

// An apply that stopped at partition 1 (prod-2 updated, prod-1 maybe in
// flight) left the partition in the cluster: the next plan resumes at
// prod-1 and holds the partition where it is.
func TestInterruptedRolloutResumes(t *testing.T) {
	c := plantest.Cluster(3)
	k := plantest.Converged(c, 3)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	sts.Live["spec"].(map[string]any)["updateStrategy"] = map[string]any{
		"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": float64(1)}}
	p := mustCompute(t, plantest.Desired(c), k, plantest.Neo4j(3), plan.Options{})
	st, roll := stsAndRollout(t, p)
	if roll == nil {
		t.Fatalf("no rolling-update step: %v", kinds(p))
	}
	if st.Partition == nil || *st.Partition != 1 {
		t.Errorf("StatefulSet step partition: got %v, want 1 (raising it would send prod-2 back)", st.Partition)
	}
	if diff := cmp.Diff([]string{"prod-1", "prod-0"}, roll.Rollout.Pods); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}

	// A partition beyond the Pods (the StatefulSet shrank since) rolls all.
	sts.Live["spec"].(map[string]any)["updateStrategy"].(map[string]any)["rollingUpdate"].(map[string]any)["partition"] = float64(7)
	p = mustCompute(t, plantest.Desired(c), k, plantest.Neo4j(3), plan.Options{})
	st, roll = stsAndRollout(t, p)
	if roll == nil || st.Partition == nil || *st.Partition != 3 || len(roll.Rollout.Pods) != 3 {
		t.Errorf("partition 7 over 3 Pods: got step partition %v, rollout %+v; want 3 and all three Pods", st.Partition, roll)
	}
}

func TestPartitionRoundTripsThroughSavedPlans(t *testing.T) {
	s := plantest.OutOfBand()
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	got := roundTrip(t, p)
	sts, roll := stsAndRollout(t, got)
	if sts.Partition == nil || *sts.Partition != 3 || roll == nil || !roll.Rollout.Servers {
		t.Errorf("after Encode/Decode: partition %v, rollout %+v", sts.Partition, roll)
	}
}

func roundTrip(t *testing.T, p *plan.Plan) *plan.Plan {
	t.Helper()
	var buf bytes.Buffer
	if err := plan.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	got, err := plan.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
