package watch

import (
	"context"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
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
// ReleaseOnCancel hands the Lease over at once on SIGTERM instead of
// making the next leader wait for it to expire.
func runElection(ctx context.Context, w *Watcher) {
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &reportingLock{Interface: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: w.leaseNamespace(), Name: w.opts.LeaseName},
				Client:     w.cs.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: w.opts.Identity},
			}, w: w},
			LeaseDuration:   w.opts.LeaseDuration,
			RenewDeadline:   w.opts.RenewDeadline,
			RetryPeriod:     w.opts.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            w.opts.LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
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
			},
		})
		if err != nil {
			w.emit(Event{Type: "error", Level: LevelError, Message: "leader election: " + err.Error()})
			return
		}
		le.Run(ctx)
	}
}

// reportingLock puts the leader Lease's request errors on watch's own
// event stream: client-go's elector only logs them through klog, which
// neo4jctl silences, and a replica that cannot take or renew the Lease
// because of RBAC must say so.
type reportingLock struct {
	resourcelock.Interface
	w *Watcher
}

func (l *reportingLock) report(op string, err error) error {
	if err != nil && !apierrors.IsNotFound(err) {
		l.w.emit(Event{Type: "error", Level: LevelError, Message: "leader election: " + op + " Lease " + l.Describe() + ": " + err.Error()})
	}
	return err
}

// Get implements resourcelock.Interface.
func (l *reportingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r, b, err := l.Interface.Get(ctx)
	return r, b, l.report("get", err)
}

// Create implements resourcelock.Interface.
func (l *reportingLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	return l.report("create", l.Interface.Create(ctx, ler))
}

// Update implements resourcelock.Interface.
func (l *reportingLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	return l.report("update", l.Interface.Update(ctx, ler))
}
