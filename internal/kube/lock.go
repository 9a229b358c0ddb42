package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// LockName is the name of the Lease that serialises applies to a cluster.
func LockName(cluster string) string { return "neo4jctl-lock-" + cluster }

// LockedError says another holder has the cluster's lock.
type LockedError struct {
	Lease  string
	Holder string
	// Since is when the holder acquired the lock.
	Since time.Time
	// Expires is when the lock lapses unless its holder renews it.
	Expires time.Time
}

// Error names the holder and since when, and the way out.
func (e *LockedError) Error() string {
	return fmt.Sprintf("cluster is locked by %q since %s (Lease %s, expires %s unless renewed); wait for that apply to finish, or pass --lock=false if you are sure it is gone",
		e.Holder, e.Since.UTC().Format(time.RFC3339), e.Lease, e.Expires.UTC().Format(time.RFC3339))
}

// ErrLockLost is the cause of a Lock's context when the lease could not be
// renewed before it expired, or another holder took it.
var ErrLockLost = errors.New("lost the cluster lock")

// Lock is a held Lease. It renews itself in the background until Release.
type Lock struct {
	c      *Client
	ns     string
	name   string
	holder string
	ttl    time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu    sync.Mutex
	lease *coordinationv1.Lease
}

// AcquireLock takes the cluster's Lease (coordination.k8s.io/v1,
// neo4jctl-lock-<cluster> in ns) for holder, for ttl at a time, renewing it
// every ttl/3 until Release. A lease held by someone else and not expired is
// waited for up to timeout (0: not at all), then refused with *LockedError
// naming the holder. A lease whose holder stopped renewing is taken over.
//
// The returned Lock's Context is derived from ctx and is cancelled (cause
// ErrLockLost) if the lease is lost; work done under the lock should watch it.
func (c *Client) AcquireLock(ctx context.Context, ns, cluster, holder string, ttl, timeout time.Duration) (*Lock, error) {
	if ttl < 3*time.Second {
		return nil, fmt.Errorf("lock ttl %s is too short (minimum 3s)", ttl)
	}
	name := LockName(cluster)
	deadline := time.Now().Add(timeout)
	// Release deletes the Lease, so it is usually absent: try to create it
	// before reading it, which spares the apply a round trip. Once it has
	// been seen to exist, read first.
	createFirst := true
	for {
		lease, lockedErr, err := c.tryAcquire(ctx, ns, name, holder, ttl, createFirst)
		createFirst = false
		if errors.Is(err, errRetryAcquire) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("acquire Lease %s/%s: %w", ns, name, err)
		}
		if lease != nil {
			l := &Lock{c: c, ns: ns, name: name, holder: holder, ttl: ttl, lease: lease, stop: make(chan struct{}), done: make(chan struct{})}
			l.ctx, l.cancel = context.WithCancelCause(ctx)
			go l.renew()
			return l, nil
		}
		wait := c.opts.PollInterval
		if time.Now().Add(wait).After(deadline) {
			return nil, lockedErr
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// tryAcquire makes one attempt; it returns the lease when held, a
// LockedError when someone else holds it. With createFirst it tries to
// create the lease before reading it.
func (c *Client) tryAcquire(ctx context.Context, ns, name, holder string, ttl time.Duration, createFirst bool) (*coordinationv1.Lease, *LockedError, error) {
	leases := c.coordination.Leases(ns)
	now := metav1.NewMicroTime(time.Now())
	create := func() (*coordinationv1.Lease, error) {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "neo4jctl"}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To(int32(ttl.Seconds())),
				AcquireTime: &now, RenewTime: &now, LeaseTransitions: ptr.To(int32(0)),
			},
		}
		// Create is not retried on its own: after a lost response the lease
		// may exist; the next round reads it and sees itself as holder.
		return leases.Create(ctx, l, metav1.CreateOptions{FieldManager: FieldManager})
	}
	if createFirst {
		created, err := create()
		switch {
		case err == nil:
			return created, nil, nil
		case IsTransient(err):
			return nil, nil, c.sleepThenRetry(ctx)
		case !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err):
			return nil, nil, err
		}
		// It exists (or this user may only read and update a Lease made
		// for it): read it below, as every later round does.
	}
	var lease *coordinationv1.Lease
	err := c.retry(ctx, "get Lease "+name, func(ctx context.Context) error {
		var err error
		lease, err = leases.Get(ctx, name, metav1.GetOptions{})
		return err
	})
	if IsNotFound(err) {
		created, err := create()
		if apierrors.IsAlreadyExists(err) || IsTransient(err) {
			return nil, nil, c.sleepThenRetry(ctx)
		}
		return created, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != "" && h != holder && !leaseExpired(lease, now.Time) {
		return nil, lockedError(lease), nil
	}
	if ptr.Deref(lease.Spec.HolderIdentity, "") != holder {
		lease.Spec.AcquireTime = &now
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	lease.Spec.HolderIdentity = ptr.To(holder)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(ttl.Seconds()))
	lease.Spec.RenewTime = &now
	// The update carries the resourceVersion read above: of two applies
	// taking over an expired lease at once, exactly one wins.
	updated, err := leases.Update(ctx, lease, metav1.UpdateOptions{FieldManager: FieldManager})
	if apierrors.IsConflict(err) || IsTransient(err) {
		return nil, nil, c.sleepThenRetry(ctx)
	}
	return updated, nil, err
}

// errRetryAcquire makes AcquireLock's loop read the lease again at once.
var errRetryAcquire = errors.New("retry")

func (c *Client) sleepThenRetry(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(50 * time.Millisecond):
	}
	return errRetryAcquire
}

func leaseExpired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
}

func lockedError(l *coordinationv1.Lease) *LockedError {
	e := &LockedError{Lease: l.Namespace + "/" + l.Name, Holder: ptr.Deref(l.Spec.HolderIdentity, "")}
	if l.Spec.AcquireTime != nil {
		e.Since = l.Spec.AcquireTime.Time
	}
	if l.Spec.RenewTime != nil && l.Spec.LeaseDurationSeconds != nil {
		e.Expires = l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
	}
	return e
}

// Context is cancelled, with cause ErrLockLost, when the lock is lost (and
// when the context AcquireLock was given ends).
func (l *Lock) Context() context.Context { return l.ctx }

// Holder is the identity the lock is held as.
func (l *Lock) Holder() string { return l.holder }

func (l *Lock) renew() {
	defer close(l.done)
	interval := l.ttl / 3
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		expires := l.lease.Spec.RenewTime.Add(l.ttl)
		l.mu.Unlock()
		if err := l.renewOnce(expires); err != nil {
			l.cancel(fmt.Errorf("%w: %w", ErrLockLost, err))
			return
		}
	}
}

// renewOnce renews the lease, retrying until it would expire anyway.
func (l *Lock) renewOnce(expires time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), expires)
	defer cancel()
	leases := l.c.coordination.Leases(l.ns)
	for {
		l.mu.Lock()
		lease := l.lease.DeepCopy()
		l.mu.Unlock()
		now := metav1.NewMicroTime(time.Now())
		lease.Spec.RenewTime = &now
		updated, err := leases.Update(ctx, lease, metav1.UpdateOptions{FieldManager: FieldManager})
		if err == nil {
			l.mu.Lock()
			l.lease = updated
			l.mu.Unlock()
			return nil
		}
		if apierrors.IsConflict(err) {
			// Someone wrote the lease: still ours only if the holder is.
			cur, gerr := leases.Get(ctx, l.name, metav1.GetOptions{})
			if gerr == nil {
				if ptr.Deref(cur.Spec.HolderIdentity, "") != l.holder {
					return fmt.Errorf("taken over by %q", ptr.Deref(cur.Spec.HolderIdentity, ""))
				}
				l.mu.Lock()
				l.lease = cur
				l.mu.Unlock()
				continue
			}
			err = gerr
		}
		if IsNotFound(err) {
			return errors.New("the Lease was deleted")
		}
		if ctx.Err() != nil {
			return fmt.Errorf("could not renew before it expired: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("could not renew before it expired: %w", err)
		case <-time.After(l.c.opts.PollInterval / 2):
		}
	}
}

// Release stops renewing and deletes the Lease if this holder still has it,
// so the next apply need not wait for it to expire. It is safe to call more
// than once, and with a context other than the lock's (after Ctrl-C).
func (l *Lock) Release(ctx context.Context) error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
	defer l.cancel(context.Canceled)
	l.mu.Lock()
	lease := l.lease
	l.mu.Unlock()
	leases := l.c.coordination.Leases(l.ns)
	err := l.c.retry(ctx, "release Lease "+l.name, func(ctx context.Context) error {
		// Preconditions make this a no-op if someone else took the lease
		// after ours lapsed.
		return leases.Delete(ctx, l.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &lease.UID, ResourceVersion: &lease.ResourceVersion}})
	})
	if err == nil || IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return fmt.Errorf("release Lease %s/%s: %w", l.ns, l.name, err)
}
