package lock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/lock"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// TestLockOverRealS3: the lock through backup/blob against a real S3
// server (versitygw, started by e2e/storage; skipped under -short): a
// concurrent run is refused, a release frees the lock, an expired lock is
// taken over, and runs racing for an expired lock over HTTP have one
// winner (the server's If-None-Match create decides).
func TestLockOverRealS3(t *testing.T) {
	s := storage.StartS3(t)
	s.CreateBucket(t, "locks")
	ctx := context.Background()
	b, err := blob.Open(ctx, s.URL("locks", "prod"), blob.Options{
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Credentials: map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s.SecretKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	c := &clock{t: time.Now()}
	store := func(holder string) *lock.Store {
		return lock.OverBucket(b, holder).WithClock(c.now)
	}

	first, err := lock.Acquire(ctx, store("full"), "g", "neo4j", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var held *lock.HeldError
	if _, err := lock.Acquire(ctx, store("diff"), "g", "neo4j", time.Minute); !errors.As(err, &held) || held.Holder != "full" {
		t.Fatalf("concurrent run: got %v, want refused, held by full", err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Acquire(ctx, store("diff"), "g", "neo4j", time.Minute); err != nil {
		t.Fatalf("after release: %v", err)
	}
	for round := 0; round < 3; round++ {
		c.add(2 * time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := lock.Acquire(ctx, store("racer"), "g", "neo4j", time.Minute)
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case !errors.As(err, new(*lock.HeldError)):
					t.Errorf("racer: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("round %d: %d winners over S3, want 1", round, wins)
		}
	}
}
