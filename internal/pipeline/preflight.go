package pipeline

import (
	"context"

	"github.com/neo4jctl/neo4jctl/internal/kube"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// startPreflight checks the target's prerequisites (kube.Client.Preflight)
// alongside the observation; the function it returns waits for the result.
func (r *Runner) startPreflight(ctx context.Context, t *Target) func() state.Preflight {
	var (
		pf   state.Preflight
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		pf = r.Kube.Preflight(ctx, t.Objects, t.Namespace, kube.PreflightOptions{NamespacedOnly: r.PreflightNamespacedOnly})
	}()
	return func() state.Preflight {
		<-done
		return pf
	}
}
