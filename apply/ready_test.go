package apply

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// createOnly is the create-all scenario's Kubernetes steps: a plan with
// no Neo4j step, as a Community cluster's is.
func createOnly(t *testing.T) (*plan.Plan, Target) {
	p, tg := scenario(t, "create-all")
	var steps []plan.Step
	for _, s := range p.Steps {
		if s.Object != nil && s.Action == plan.ActionCreate {
			s.DependsOn = nil
			steps = append(steps, s)
		}
	}
	p.Steps = steps
	return p, tg
}

// TestApplyWaitsForBoltBeforeVerifying: after a rollout, the Pods are
// Ready before Neo4j answers on Bolt; a plan with no Neo4j step has
// nothing else that waits, and the verifying plan read a server still
// starting ("neo4j not observed"). Apply waits until Neo4j answers, then
// verifies.
func TestApplyWaitsForBoltBeforeVerifying(t *testing.T) {
	p, tg := createOnly(t)
	_, k, n := newFakes(0)
	ex := executor(k, n, &recorder{})
	var refusals, verifiedAfter atomic.Int32
	refusals.Store(3) // Bolt answers on the fourth connection attempt
	ex.Neo4j = func(context.Context) (Neo4j, func(), error) {
		if refusals.Add(-1) >= 0 {
			return nil, nil, &neo4j.Error{Op: "connect", Kind: neo4j.KindUnreachable, Message: "connection refused"}
		}
		return n, func() {}, nil
	}
	ex.Verify = func(context.Context) (*plan.Plan, error) {
		verifiedAfter.Store(refusals.Load())
		if refusals.Load() >= 0 {
			return &plan.Plan{Incomplete: true, Unknown: []plan.UnknownPlane{{Plane: "neo4j", Reason: "connection refused"}}}, nil
		}
		return &plan.Plan{}, nil
	}
	res, err := ex.Apply(context.Background(), tg, p)
	if err != nil || !res.Verified {
		t.Fatalf("Apply: %v (verified %v); the verification ran with %d connection refusals still to come", err, res.Verified, verifiedAfter.Load())
	}
}

// TestApplyBoltWaitIsBounded: a server that never answers ends the wait
// at StepTimeout with a message that says what apply waited for.
func TestApplyBoltWaitIsBounded(t *testing.T) {
	p, tg := createOnly(t)
	_, k, n := newFakes(0)
	ex := executor(k, n, &recorder{})
	ex.Options.StepTimeout = 200 * time.Millisecond
	ex.Neo4j = func(context.Context) (Neo4j, func(), error) {
		return nil, nil, &neo4j.Error{Op: "connect", Kind: neo4j.KindUnreachable, Message: "connection refused"}
	}
	verified := false
	ex.Verify = func(context.Context) (*plan.Plan, error) { verified = true; return &plan.Plan{}, nil }
	start := time.Now()
	_, err := ex.Apply(context.Background(), tg, p)
	if err == nil || verified {
		t.Fatalf("Apply with a Neo4j that never answers: err %v, verified %v", err, verified)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the wait took %s, want about its 200ms bound", took)
	}
	for _, want := range []string{"timed out after 200ms waiting for Neo4j to answer on Bolt", "connection refused", "--step-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q wraps the internal deadline", err)
	}
}
