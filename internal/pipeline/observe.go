package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

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
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out.Kube = r.observeKube(ctx, t)
	}()
	if r.SkipNeo4j {
		out.Neo4j = state.Neo4j{Reachable: false, Reason: "skipped (--skip-neo4j)"}
	} else {
		out.Neo4j = r.observeNeo4j(ctx, t)
	}
	wg.Wait()
	return out
}

func (r *Runner) observeKube(ctx context.Context, t *Target) state.Kube {
	var (
		k   state.Kube
		err error
	)
	if r.Structural {
		k, err = r.Kube.ObserveStructural(ctx, t.Objects, t.Inventory)
	} else {
		k, err = r.Kube.Observe(ctx, t.Objects, t.Inventory)
	}
	if err != nil && k.Reason == "" {
		k.Reachable = false
		k.Reason = err.Error()
	}
	return k
}

func (r *Runner) observeNeo4j(ctx context.Context, t *Target) state.Neo4j {
	timeout := r.Neo4j.ObserveTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
	if err != nil {
		return state.Neo4j{Reachable: false, Reason: neo4jReason(err)}
	}
	defer closeFn()
	return c.Observe(ctx)
}

// neo4jReason says why Neo4j could not be observed, with what to do.
func neo4jReason(err error) string {
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
	obs := r.Observe(ctx, t)
	if !obs.Kube.Reachable {
		return nil, obs, fmt.Errorf("%s: cannot observe Kubernetes: %s", t.Name(), obs.Kube.Reason)
	}
	opts.SkipNeo4j = opts.SkipNeo4j || r.SkipNeo4j
	p, err := plan.Compute(t.Desired, obs.Kube, obs.Neo4j, opts)
	if err != nil {
		return nil, obs, fmt.Errorf("%s: %w", t.Name(), err)
	}
	p.Warnings = append(p.Warnings, VersionWarnings(t, obs.Kube.ServerVersion)...)
	return p, obs, nil
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
