package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Runner observes and plans targets with one Kubernetes client and one way of
// reaching Neo4j.
type Runner struct {
	Kube  *kube.Client
	Neo4j Neo4jAccess
	// SkipNeo4j plans the Kubernetes plane only.
	SkipNeo4j bool
	// Structural observes without dry runs (read-only credentials).
	Structural bool
	// PreflightNamespacedOnly: the pre-flight makes only the checks a
	// namespaced Role allows (watch).
	PreflightNamespacedOnly bool

	// prefetched holds what Prefetch read for a fleet.
	prefetched *kube.Prefetched
}

// Prefetch starts reading the live objects of all targets with one LIST per
// kind (kube.Client.Prefetch), and their inventories and Pods with one LIST
// each, for the observations that follow: a plan of a fleet costs the API
// server little more than its dry runs. Worth it for several targets only:
// for one, the LISTs cost what they save. The data is as old as the call,
// so a Runner that prefetched is for one plan run.
func (r *Runner) Prefetch(ctx context.Context, targets []*Target) {
	invs := make([]kube.InventoryRef, 0, len(targets))
	var kinds []schema.GroupVersionKind
	seen := map[schema.GroupVersionKind]bool{}
	for _, t := range targets {
		invs = append(invs, t.Inventory)
		for _, o := range t.Objects {
			if gvk := o.GroupVersionKind(); !seen[gvk] {
				seen[gvk] = true
				kinds = append(kinds, gvk)
			}
		}
	}
	if r.Structural {
		// No dry runs to check listed objects against: consistent lists.
		r.prefetched = r.Kube.Prefetch(ctx, invs, kinds)
	} else {
		r.prefetched = r.Kube.PrefetchCached(ctx, invs, kinds)
	}
}

// Observed is what one observation of both planes saw.
type Observed struct {
	Kube  state.Kube
	Neo4j state.Neo4j
}

// Observe reads both planes of a target in parallel. A plane that cannot be
// read is marked unreachable with the reason instead of failing the whole
// observation: plan still shows what it could see and fails closed.
func (r *Runner) Observe(ctx context.Context, t *Target) Observed {
	var out Observed
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Both planes need the Pods (the Kubernetes plane reports them, the
	// Neo4j plane connects to a Ready one): one LIST for both.
	pods := r.listPods(ctx, t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out.Kube = r.observeKube(ctx, t, pods)
	}()
	if r.SkipNeo4j {
		out.Neo4j = state.Neo4j{Reachable: false, Reason: "skipped (--skip-neo4j)"}
	} else {
		out.Neo4j = r.observeNeo4j(ctx, t, pods)
	}
	wg.Wait()
	return out
}

// listPods starts listing the target's Pods and returns a function that
// waits for the result (or for its caller's ctx).
func (r *Runner) listPods(ctx context.Context, t *Target) func(context.Context) ([]state.Pod, error) {
	var (
		pods []state.Pod
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		var ok bool
		if pods, ok = r.prefetched.Pods(ctx, t.Inventory); !ok {
			pods, err = r.Kube.ClusterPods(ctx, t.Inventory)
		}
	}()
	return func(ctx context.Context) ([]state.Pod, error) {
		select {
		case <-done:
			return pods, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (r *Runner) observeKube(ctx context.Context, t *Target, pods func(context.Context) ([]state.Pod, error)) state.Kube {
	var (
		k   state.Kube
		err error
	)
	opts := []kube.ObserveOption{kube.UsePrefetched(r.prefetched), kube.UsePods(pods)}
	var reason string
	k, reason, err = r.observeKubeFallback(ctx, t.Objects, t.Inventory, opts)
	k.ModeReason = reason
	if err != nil && k.Reason == "" {
		k.Reachable = false
		k.Reason = err.Error()
	}
	return k
}

func (r *Runner) observeNeo4j(ctx context.Context, t *Target, pods func(context.Context) ([]state.Pod, error)) state.Neo4j {
	timeout := r.Neo4j.ObserveTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	acc := r.Neo4j
	acc.pods = pods
	// In a fleet most clusters may have no Pod yet: no guesses there.
	acc.speculate = r.prefetched == nil
	c, closeFn, err := acc.Connect(ctx, r.Kube, t)
	if err != nil {
		return state.Neo4j{Reachable: false, Reason: neo4jReason(err)}
	}
	defer closeFn()
	return c.Observe(ctx)
}

// neo4jReason says why Neo4j could not be observed, with what to do.
func neo4jReason(err error) string {
	if neo4j.IsCertificateError(err) {
		return err.Error() // carries its own fix (untrusted); the Pods are up
	}
	switch neo4j.ClassOf(err) {
	case neo4j.KindAuth:
		return fmt.Sprintf("%v (check the Secret named in spec.auth.secretRef)", err)
	case neo4j.KindUnreachable:
		return fmt.Sprintf("%v (are the Pods Ready? pass --neo4j-uri to connect elsewhere, or --skip-neo4j to plan Kubernetes only)", err)
	}
	return err.Error()
}

// Plan observes a target and computes its plan.
func (r *Runner) Plan(ctx context.Context, t *Target, opts plan.Options) (*plan.Plan, Observed, error) {
	if err := r.RenderForCluster(ctx, t); err != nil {
		return nil, Observed{}, err
	}
	preflight := r.startPreflight(ctx, t)
	obs := r.Observe(ctx, t)
	if !obs.Kube.Reachable {
		return nil, obs, fmt.Errorf("%s: cannot observe Kubernetes: %s", t.Name(), obs.Kube.Reason)
	}
	opts.SkipNeo4j = opts.SkipNeo4j || r.SkipNeo4j
	p, err := plan.Compute(t.Desired, obs.Kube, obs.Neo4j, opts)
	if err != nil {
		return nil, obs, fmt.Errorf("%s: %w", t.Name(), err)
	}
	if len(p.DryRunsWanted) > 0 && obs.Neo4j.Reachable {
		// The plan needs Neo4j's own preview of what it would move (DRYRUN,
		// read-only): ask, then plan again with the answers.
		obs.Neo4j.DryRuns = r.dryRuns(ctx, t, p.DryRunsWanted)
		if p, err = plan.Compute(t.Desired, obs.Kube, obs.Neo4j, opts); err != nil {
			return nil, obs, fmt.Errorf("%s: %w", t.Name(), err)
		}
	}
	if err := r.AddVerification(ctx, t, p, opts); err != nil {
		return nil, obs, err
	}
	p.Warnings = append(p.Warnings, VersionWarnings(t, obs.Kube.ServerVersion)...)
	p.Warnings = append(p.Warnings, ForeignWarnings(obs.Kube)...)
	p.Warnings = append(p.Warnings, t.EnvWarnings...)
	if obs.Kube.ModeReason != "" {
		p.Warnings = append(p.Warnings, "Kubernetes compared structurally: "+obs.Kube.ModeReason)
	}
	plan.AddPreflight(p, preflight())
	return p, obs, nil
}

// dryRuns asks Neo4j the DRYRUN statements a plan wants answered. Neo4j's
// refusal is an answer (the plan refuses the same); failing to ask is
// recorded as an error, and apply then asks before it writes.
func (r *Runner) dryRuns(ctx context.Context, t *Target, want []state.DryRun) []state.DryRun {
	timeout := r.Neo4j.ObserveTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := append([]state.DryRun(nil), want...)
	c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
	if err != nil {
		for i := range out {
			out[i].Error = neo4jReason(err)
		}
		return out
	}
	defer closeFn()
	for i, w := range out {
		var moves []neo4j.Reallocation
		switch w.Kind {
		case state.DryRunDeallocate:
			moves, err = c.DeallocateServers(ctx, true, w.ServerIDs...)
		case state.DryRunReallocate:
			moves, err = c.ReallocateDatabases(ctx, true)
		default:
			err = fmt.Errorf("unknown dry run %q", w.Kind)
		}
		switch {
		case err == nil:
			out[i].Moves = moves
		case neo4j.IsRefused(err):
			out[i].Refused = err.Error()
		default:
			out[i].Error = err.Error()
		}
	}
	return out
}

// VersionWarnings says which rendered fields need a newer Kubernetes than
// the server's: an older API server drops unknown fields silently, so the
// object would look applied while the behaviour it asks for is missing.
func VersionWarnings(t *Target, serverVersion string) []string {
	if serverVersion == "" {
		return nil
	}
	unmet, err := manifests.UnmetVersionRequirements(manifests.MinKubernetesVersions(t.Objects), serverVersion)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, r := range unmet {
		out = append(out, fmt.Sprintf("k8s:%s: %s needs Kubernetes %s or newer, the server is %s: %s",
			r.Object, r.Field, r.MinVersion(), serverVersion, r.Reason))
	}
	return out
}
