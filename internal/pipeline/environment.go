package pipeline

import (
	"context"
	"fmt"
	"slices"

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
	var warnings []string
	if manifests.UsesAPIServer(t.Cluster) {
		w, err := r.renderAPIServer(ctx, t)
		if err != nil {
			return err
		}
		warnings = append(warnings, w...)
	}
	_, w, err := r.stampTLS(ctx, t, r.getStatefulSet(t))
	if err != nil {
		return err
	}
	t.EnvWarnings = append(warnings, w...)
	return nil
}

// renderAPIServer renders t again for the API server's endpoints.
func (r *Runner) renderAPIServer(ctx context.Context, t *Target) ([]string, error) {
	eps, err := r.Kube.APIServerEndpointSlices(ctx)
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
