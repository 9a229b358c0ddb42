package drift

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Options tune Detect.
type Options struct {
	// Structural compares without dry runs even when they are allowed
	// (--structural).
	Structural bool
	// Policies are rules in addition to the cluster file's spec.policies
	// (a policy file); they are evaluated against the live state.
	Policies []Rule
	// Now stamps the report; nil leaves CheckedAt unset.
	Now func() time.Time
}

// Detect observes both planes of t (read-only: a forced server-side-apply
// dry run, or get/list only, and SHOW queries) and reports their drift from
// the cluster file, with the live state's policy violations.
//
// When the credentials may not dry-run (RBAC allows get/list/watch but not
// patch) Detect falls back to the structural comparison on its own and says
// so in Report.ModeReason. A Kubernetes plane that cannot be observed at all
// is an error; a Neo4j plane that cannot be is an incomplete report.
func Detect(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, opts Options) (*Report, error) {
	obs, reason, err := observe(ctx, r, t, opts.Structural)
	if err != nil {
		return nil, err
	}
	var refused []string
	obs.Kube, refused = compareRefusedStructurally(obs.Kube)
	p, err := plan.Compute(t.Desired, obs.Kube, obs.Neo4j, plan.Options{Ignore: IgnoreRules(t.Cluster), SkipNeo4j: r.SkipNeo4j})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name(), err)
	}
	// The backup verification objects, outside the cluster's ApplySet.
	if err := r.AddVerification(ctx, t, p, plan.Options{}); err != nil {
		return nil, err
	}
	rep := FromPlan(p, obs, t)
	rep.ModeReason = reason
	rep.Warnings = append(rep.Warnings, refused...)
	// Never nil: the JSON report says "violations": [] when there are none.
	rep.Violations = append([]Violation{}, EvaluateLive(append(RulesOf(t.Cluster), opts.Policies...), obs)...)
	if opts.Now != nil {
		at := opts.Now().UTC()
		rep.CheckedAt = &at
	}
	rep.finish()
	return rep, nil
}

// compareRefusedStructurally turns objects whose dry run the API server
// refused (other than for an immutable field) into structural comparisons.
// An out-of-band change can itself make the forced apply invalid — a
// Service port changed by hand leaves two ports named "bolt" once the
// rendered port is merged back — and that object has drifted all the same.
func compareRefusedStructurally(k state.Kube) (state.Kube, []string) {
	var notes []string
	objs := make([]state.Object, len(k.Objects))
	copy(objs, k.Objects)
	for i, o := range objs {
		if o.DryRunError == "" || o.Immutable || o.Live == nil {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: the API server refused the dry run (%s); compared structurally", o.Address, o.DryRunError))
		objs[i].DryRunError, objs[i].Predicted = "", nil
	}
	k.Objects = objs
	return k, notes
}

// observe reads both planes in parallel. It does what Runner.Observe does,
// but keeps the Kubernetes error's type: an RBAC denial of the dry run is
// the signal to fall back to the structural comparison.
func observe(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, structural bool) (pipeline.Observed, string, error) {
	var obs pipeline.Observed
	// Compare with what apply renders for this cluster (its API server's
	// endpoints in the NetworkPolicy), not with the offline render.
	if err := r.RenderForCluster(ctx, t); err != nil {
		return obs, "", err
	}
	var wg sync.WaitGroup
	if r.SkipNeo4j {
		obs.Neo4j = state.Neo4j{Reason: "skipped (--skip-neo4j)"}
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs.Neo4j = observeNeo4j(ctx, r, t)
		}()
	}
	var (
		kerr   error
		reason string
	)
	switch {
	case structural || r.Structural:
		reason = "requested (--structural)"
		obs.Kube, kerr = r.Kube.ObserveStructural(ctx, t.Objects, t.Inventory)
	default:
		obs.Kube, kerr = r.Kube.Observe(ctx, t.Objects, t.Inventory)
		if kerr != nil && kube.IsForbidden(kerr) {
			reason = fmt.Sprintf("the credentials may not dry-run apply, so live objects were compared with the rendered ones over the fields neo4jctl sets (%v)", kerr)
			obs.Kube, kerr = r.Kube.ObserveStructural(ctx, t.Objects, t.Inventory)
		}
	}
	wg.Wait()
	if kerr != nil {
		return obs, "", fmt.Errorf("%s: observe Kubernetes: %w", t.Name(), kerr)
	}
	if !obs.Kube.Reachable {
		return obs, "", fmt.Errorf("%s: cannot observe Kubernetes: %s", t.Name(), obs.Kube.Reason)
	}
	return obs, reason, nil
}

func observeNeo4j(ctx context.Context, r *pipeline.Runner, t *pipeline.Target) state.Neo4j {
	c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
	if err != nil {
		return state.Neo4j{Reason: fmt.Sprintf("%v (pass --neo4j-uri to connect elsewhere, or --skip-neo4j to check Kubernetes only)", err)}
	}
	defer closeFn()
	return c.Observe(ctx)
}
