package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// RenderForCluster renders t again for the Kubernetes cluster the runner
// talks to (manifests.Environment), when t's objects depend on it: the
// NetworkPolicy of an Enterprise cluster admits egress to the API server,
// and it names the `kubernetes` Service's endpoints, read from its
// EndpointSlice (default/kubernetes), not the documented fallback that an
// offline render uses. A cluster without those endpoints (the slice does
// not exist) keeps the fallback. Credentials that may not read the slice
// keep it too, with a warning in the plan (t.EnvWarnings): the policy is
// then wider than it need be, never narrower. Any other error fails: a
// plan must not widen the policy because one read failed.
//
// It also stamps the fingerprint of the TLS Secret's certificate on the
// StatefulSets (stampTLS, manifests.StampTLS), from the Secret and the
// live StatefulSets: that is how a renewed certificate reaches plan.
//
// plan, apply, drift and watch call it before they observe; render does
// not (it talks to no server: its objects carry no certificate stamp).
// Called again, it reads the endpoints again (the client keeps them a few
// minutes) and renders only if they moved; it stamps again every time.
func (r *Runner) RenderForCluster(ctx context.Context, t *Target) error {
	if r.Kube == nil {
		return nil
	}
	// The reads are independent of each other: the API server's endpoints
	// are read alongside the TLS inputs (the live StatefulSets, the
	// Secret), so a plan waits for one round trip, not three in a row.
	// What is done with them stays in the order it was: render for the
	// endpoints, then stamp what that rendered; an error of the endpoints'
	// read is the one reported when both fail.
	var (
		wg     sync.WaitGroup
		eps    []discoveryv1.EndpointSlice
		epsErr error
	)
	apiServer := manifests.UsesAPIServer(t.Cluster)
	if apiServer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eps, epsErr = r.Kube.APIServerEndpointSlices(ctx)
		}()
	}
	in, tlsErr := r.readTLSStamp(ctx, t, r.getStatefulSets(t))
	wg.Wait()
	var warnings []string
	if apiServer {
		w, err := r.renderAPIServer(t, eps, epsErr)
		if err != nil {
			return err
		}
		warnings = append(warnings, w...)
	}
	if tlsErr != nil {
		return tlsErr
	}
	if !in.sameStatefulSets(t) {
		// Rendering for the endpoints changes the NetworkPolicy only; were
		// the StatefulSets ever to differ, read their inputs again rather
		// than stamp from another object's.
		if in, tlsErr = r.readTLSStamp(ctx, t, r.getStatefulSets(t)); tlsErr != nil {
			return tlsErr
		}
	}
	in.stamp(t)
	t.EnvWarnings = append(warnings, in.warnings...)
	return nil
}

// renderAPIServer renders t again for the API server's endpoints eps, as
// read (err) by kube.Client.APIServerEndpointSlices.
func (r *Runner) renderAPIServer(t *Target, eps []discoveryv1.EndpointSlice, err error) ([]string, error) {
	switch {
	case kube.IsForbidden(err):
		return []string{fmt.Sprintf("cannot read EndpointSlice %s/%s (%v): the NetworkPolicy's egress to the API server uses the fallback (ports 443 and 6443 on private ranges); grant get on it (render --ci-role and the watch manifests do)",
			kube.APIServerSlice.Namespace, kube.APIServerSlice.Name, err)}, nil
	case err != nil:
		return nil, fmt.Errorf("%s: read the API server's endpoints for the NetworkPolicy: %w", t.Name(), err)
	}
	env := manifests.Environment{APIServer: manifests.APIServerEndpoints(eps)}
	if slices.Equal(env.APIServer, t.Env.APIServer) {
		return nil, nil
	}
	objs, err := manifests.RenderFor(t.Cluster, t.Namespace, env)
	if err != nil {
		return nil, fmt.Errorf("%s: render: %w", t.Name(), err)
	}
	kube.MarkMembers(objs, t.Namespace)
	t.Objects, t.Env = objs, env
	return nil, nil
}
