package watch

import (
	"context"
	"os"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// leaseNamespace is where the leader Lease lives: the option, else the
// Pod's namespace (POD_NAMESPACE from the downward API), else the
// kubeconfig's.
func (w *Watcher) leaseNamespace() string {
	if w.opts.LeaseNamespace != "" {
		return w.opts.LeaseNamespace
	}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return w.Runner.Kube.Namespace()
}

// runElection campaigns for the leader Lease until ctx ends. Losing the
// Lease (a renewal that missed its deadline) stops the clusters and
// campaigns again: a replica never acts on a Lease it may have lost.
// The Lease itself is kube's (RunLeaderElection releases it on return, so
// a SIGTERM hands it over at once instead of making the next leader wait
// for it to expire).
func runElection(ctx context.Context, w *Watcher) {
	for ctx.Err() == nil {
		err := w.Runner.Kube.RunLeaderElection(ctx, w.leaseNamespace(), w.opts.LeaseName, w.opts.Identity,
			kube.LeaseDurations{
				LeaseDuration: w.opts.LeaseDuration,
				RenewDeadline: w.opts.RenewDeadline,
				RetryPeriod:   w.opts.RetryPeriod,
			},
			kube.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					w.startLeading(lctx)
					<-lctx.Done()
				},
				OnStoppedLeading: w.stopLeading,
				OnNewLeader: func(id string) {
					if id != w.opts.Identity {
						w.emit(Event{Type: "follower", Message: "the leader is " + id})
					}
				},
				// Lease request errors go on watch's own event stream: a
				// replica that cannot take or renew the Lease because of
				// RBAC must say so.
				OnLeaseError: func(err error) {
					w.emit(Event{Type: "error", Level: LevelError, Message: "leader election: " + err.Error()})
				},
			})
		if err != nil {
			w.emit(Event{Type: "error", Level: LevelError, Message: "leader election: " + err.Error()})
			return
		}
	}
}
