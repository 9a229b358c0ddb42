package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseDurations are the timings of a leader election (see client-go's
// leaderelection.LeaderElectionConfig): how long a Lease is valid, how long
// the leader keeps retrying a renewal before it gives up leading, and how
// often candidates retry.
type LeaseDurations struct {
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// LeaderCallbacks are told what a leader election does. Every field may be
// nil.
type LeaderCallbacks struct {
	// OnStartedLeading runs in its own goroutine when this candidate takes
	// the Lease; ctx ends when it stops leading.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading runs when this candidate stops leading (also when
	// RunLeaderElection returns after leading).
	OnStoppedLeading func()
	// OnNewLeader runs when the leader changes, with its identity (also
	// this candidate's own).
	OnNewLeader func(identity string)
	// OnLeaseError is told about every failed request on the Lease but
	// "not found" (which only means no one holds it yet). The elector only
	// logs these through klog, which neo4jctl silences, and a replica that
	// cannot take or renew the Lease because of RBAC must say so.
	OnLeaseError func(err error)
}

// RunLeaderElection campaigns as identity for the coordination.k8s.io/v1
// Lease ns/name, leads while it holds it, and returns when ctx ends or
// when leadership is lost (a renewal that missed RenewDeadline): callers
// that want to campaign again call it again. The Lease is released on
// return so the next leader need not wait for it to expire (a SIGTERM
// hands over at once). The error is only for an invalid configuration.
func (c *Client) RunLeaderElection(ctx context.Context, ns, name, identity string, d LeaseDurations, cb LeaderCallbacks) error {
	onStarted := cb.OnStartedLeading
	if onStarted == nil {
		onStarted = func(context.Context) {}
	}
	onStopped := cb.OnStoppedLeading
	if onStopped == nil {
		onStopped = func() {}
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &reportingLock{Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: ns, Name: name},
			Client:     c.coordination,
			LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
		}, onError: cb.OnLeaseError},
		LeaseDuration:   d.LeaseDuration,
		RenewDeadline:   d.RenewDeadline,
		RetryPeriod:     d.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: onStarted,
			OnStoppedLeading: onStopped,
			OnNewLeader:      cb.OnNewLeader,
		},
	})
	if err != nil {
		return err
	}
	le.Run(ctx)
	return nil
}

// reportingLock hands the leader Lease's request errors to a callback:
// client-go's elector only logs them through klog.
type reportingLock struct {
	resourcelock.Interface
	onError func(error)
}

func (l *reportingLock) report(op string, err error) error {
	if err != nil && !apierrors.IsNotFound(err) && l.onError != nil {
		l.onError(fmt.Errorf("%s Lease %s: %w", op, l.Describe(), err))
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
