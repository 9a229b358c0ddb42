package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// lockTaker is what the apply Lease needs of the Kubernetes client.
type lockTaker interface {
	AcquireLock(ctx context.Context, ns, cluster, holder string, ttl, timeout time.Duration) (*kube.Lock, error)
}

// holdApplyLock takes t's apply Lease, which apply, destroy and rotate
// share so that none of them acts while another is halfway through. It
// returns the context to work under (cancelled if the Lease is lost) and
// the release to defer; a release that fails is only a warning, since the
// Lease expires on its own.
func holdApplyLock(ctx context.Context, k lockTaker, t *pipeline.Target, timeout time.Duration, errOut io.Writer) (context.Context, func(), error) {
	lock, err := k.AcquireLock(ctx, t.Namespace, t.Cluster.Metadata.Name, apply.Holder(), lockTTL, timeout)
	if err != nil {
		var le *kube.LockedError
		if errors.As(err, &le) {
			return nil, nil, &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%s: %w", t.Name(), err)}
		}
		if ctx.Err() != nil {
			return nil, nil, errInterrupted
		}
		return nil, nil, fmt.Errorf("%s: take the apply lock: %w", t.Name(), err)
	}
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := lock.Release(rctx); err != nil {
			fmt.Fprintf(errOut, "Warning: %v (it expires on its own within %s)\n", err, lockTTL)
		}
	}
	return lock.Context(), release, nil
}

// holdApplyLockIf is holdApplyLock when on (a command that writes), and
// otherwise ctx itself with a release that does nothing (--lock=false,
// --dry-run): the one preamble of the commands that take the Lease only
// sometimes, so that each defers release and works under the returned
// context alike.
func holdApplyLockIf(ctx context.Context, on bool, k lockTaker, t *pipeline.Target, timeout time.Duration, errOut io.Writer) (context.Context, func(), error) {
	if !on {
		return ctx, func() {}, nil
	}
	return holdApplyLock(ctx, k, t, timeout, errOut)
}
