package kube

import (
	"context"
	"sync"
	"time"
)

// clusterReadTTL is how long a Client reuses the answer to a read of a
// cluster-scoped prerequisite (a StorageClass, a ClusterIssuer): every
// cluster of a fleet asks the same question in the same second, and one
// answer serves them all; a long-running watch asks again after this long.
const clusterReadTTL = 30 * time.Second

type memoEntry struct {
	done chan struct{}
	at   time.Time
	err  error
	val  any
}

type memo struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

// memoRead returns the result of read for key, reading once for all
// concurrent callers and reusing the answer for clusterReadTTL. Only
// answers are reused — found, or NotFound —; any other error is the
// caller's alone and the next caller reads again.
func (c *Client) memoRead(ctx context.Context, key string, read func(ctx context.Context) (any, error)) (any, error) {
	mm := &c.clusterReads
	for {
		mm.mu.Lock()
		if mm.m == nil {
			mm.m = map[string]*memoEntry{}
		}
		e := mm.m[key]
		if e != nil {
			select {
			case <-e.done:
				if time.Since(e.at) < clusterReadTTL && (e.err == nil || IsNotFound(e.err)) {
					mm.mu.Unlock()
					return e.val, e.err
				}
				e = nil // stale, or an error that is not an answer: read again
			default:
			}
		}
		if e == nil {
			e = &memoEntry{done: make(chan struct{})}
			mm.m[key] = e
			mm.mu.Unlock()
			e.val, e.err = read(ctx)
			e.at = time.Now()
			close(e.done)
			return e.val, e.err
		}
		mm.mu.Unlock()
		select {
		case <-e.done:
			if e.err == nil || IsNotFound(e.err) {
				return e.val, e.err
			}
			// The reader's own failure (its context, a refusal): try
			// ourselves.
			mm.mu.Lock()
			if mm.m[key] == e {
				delete(mm.m, key)
			}
			mm.mu.Unlock()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
