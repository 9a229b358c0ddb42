package blob

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// do runs op up to Attempts times. A permanent error (IsPermanent) ends the
// loop at once; every failure is reported. The returned error carries the
// attempt count so a user reading one line knows retries happened.
func (b *Bucket) do(ctx context.Context, name, key string, retryable bool, op func(ctx context.Context) error) error {
	of := b.opts.Attempts
	if !retryable {
		of = 1
	}
	var err error
	for n := 1; ; n++ {
		err = op(ctx)
		if err == nil {
			return nil
		}
		err = b.red.err(err)
		perm := IsPermanent(err) || ctx.Err() != nil
		last := perm || n >= of
		var wait time.Duration
		if !last {
			wait = backoff(b.opts.BaseBackoff, b.opts.MaxBackoff, n)
		}
		if b.opts.Report != nil {
			b.opts.Report(Attempt{Op: name, Key: key, N: n, Of: of, Err: err, Retry: !last, Wait: wait})
		}
		if last {
			switch {
			case perm && n == 1:
				return &permanentError{fmt.Errorf("%s %s in %s: %w", name, key, b.url, err)}
			case perm:
				return &permanentError{fmt.Errorf("%s %s in %s: attempt %d/%d: %w", name, key, b.url, n, of, err)}
			case !retryable:
				return fmt.Errorf("%s %s in %s: failed once, not retried (the source cannot be re-read from the start; use UploadFrom): %w", name, key, b.url, err)
			default:
				return fmt.Errorf("%s %s in %s: gave up after %d attempts: %w", name, key, b.url, n, err)
			}
		}
		if serr := b.opts.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%s %s in %s: attempt %d/%d: %w (then: %v)", name, key, b.url, n, of, err, serr)
		}
	}
}

// backoff is exponential with full jitter: a random wait in [0, min(cap,
// base·2^(n-1))], so many agents retrying after one outage spread out.
func backoff(base, maxWait time.Duration, n int) time.Duration {
	ceil := base
	for i := 1; i < n && ceil < maxWait; i++ {
		ceil *= 2
	}
	if ceil > maxWait {
		ceil = maxWait
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
