package lock_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/lock"
)

// memStore is a small honest bucket: PutIfAbsent is atomic and refuses an
// existing key, as blob's IfNotExist write is; listing is consistent.
// beforePut lets a test interleave writers.
type memStore struct {
	mu        sync.Mutex
	objs      map[string][]byte
	beforePut func(key string)
}

func newMem() *memStore { return &memStore{objs: map[string][]byte{}} }

func (m *memStore) PutIfAbsent(_ context.Context, key string, data []byte) error {
	if f := m.beforePut; f != nil {
		f(key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; ok {
		return catalog.ErrExists
	}
	m.objs[key] = append([]byte(nil), data...)
	return nil
}

func (m *memStore) Read(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.objs[key]
	if !ok {
		return nil, catalog.ErrNotFound
	}
	return append([]byte(nil), d...), nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

func (m *memStore) keys() []string {
	k, _ := m.List(context.Background(), "")
	return k
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func over(m *memStore, holder string, c *clock) *lock.Store {
	return lock.Over[string](m, func(k string) string { return k }, lock.Options{Holder: holder, Now: c.now})
}

func TestAcquireRefusesAConcurrentRunUntilReleased(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	a, b := over(m, "pod db/g-backup-full-1", c), over(m, "pod db/g-backup-diff-1", c)

	la, err := lock.Acquire(ctx, a, "g", "neo4j", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lock.Acquire(ctx, b, "g", "neo4j", time.Hour)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder != "pod db/g-backup-full-1" || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Acquire: got %v, want a HeldError naming the first holder", err)
	}
	// Another database, or another cluster, is not locked.
	if _, err := lock.Acquire(ctx, b, "g", "system", time.Hour); err != nil {
		t.Errorf("other database: %v", err)
	}
	if _, err := lock.Acquire(ctx, b, "other", "neo4j", time.Hour); err != nil {
		t.Errorf("other cluster: %v", err)
	}

	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := lock.Acquire(ctx, b, "g", "neo4j", time.Hour)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if lb.Generation != 2 {
		t.Errorf("generation %d, want 2", lb.Generation)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Releasing collects the generations before the released one.
	for _, k := range m.keys() {
		if strings.HasPrefix(k, "locks/g/neo4j/0000000001") {
			t.Errorf("generation 1 left after generation 2 was released: %v", m.keys())
		}
	}
}

func TestStaleLockIsTakenOverAfterExpiry(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	dead, next, late := over(m, "dead run", c), over(m, "next run", c), over(m, "late run", c)

	stale, err := lock.Acquire(ctx, dead, "g", "neo4j", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.add(59 * time.Minute)
	if _, err := lock.Acquire(ctx, next, "g", "neo4j", time.Hour); err == nil {
		t.Fatal("Acquire before the expiry succeeded")
	}
	c.add(2 * time.Minute)
	l, err := lock.Acquire(ctx, next, "g", "neo4j", time.Hour)
	if err != nil {
		t.Fatalf("Acquire after the expiry: %v", err)
	}
	if l.Generation != 2 || l.Holder != "next run" {
		t.Errorf("took over as %+v", l.Record)
	}
	// The dead run coming back and releasing its old lock frees nothing
	// of the new holder's.
	if err := stale.Release(ctx); err != nil {
		t.Fatal(err)
	}
	var held *lock.HeldError
	if _, err := lock.Acquire(ctx, late, "g", "neo4j", time.Hour); !errors.As(err, &held) || held.Holder != "next run" {
		t.Errorf("Acquire while the new holder runs: got %v, want held by next run", err)
	}
}

// Many runs racing for one expired lock: exactly one wins each round.
func TestConcurrentTakeoverHasOneWinner(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	if _, err := lock.Acquire(ctx, over(m, "first", c), "g", "neo4j", time.Minute); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		c.add(2 * time.Minute) // the previous holder's lock expired
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		wins := make(chan string, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				if l, err := lock.Acquire(ctx, over(m, "run", c), "g", "neo4j", time.Minute); err == nil {
					wins <- l.Holder
				} else if !errors.As(err, new(*lock.HeldError)) {
					t.Errorf("round %d: %v", round, err)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		close(wins)
		if got := len(wins); got != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, got)
		}
	}
}

// A run that listed before other runs took, released and collected the
// lock writes a generation below the newest: it must not believe it holds
// the lock while the newest holder runs.
func TestStaleListingNeverHoldsBesideTheHolder(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	first, err := lock.Acquire(ctx, over(m, "first", c), "g", "neo4j", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// The slow run listed generation 1 (released) and is about to write
	// generation 2; meanwhile two runs take and release 2 and 3 (which
	// collects 1 and 2), and a third takes 4 and is running.
	var once sync.Once
	m.beforePut = func(key string) {
		if !strings.HasSuffix(key, "0000000002.json") {
			return
		}
		once.Do(func() {
			m.beforePut = nil
			for _, h := range []string{"second", "third"} {
				l, err := lock.Acquire(ctx, over(m, h, c), "g", "neo4j", time.Minute)
				if err != nil {
					t.Errorf("%s: %v", h, err)
					return
				}
				if err := l.Release(ctx); err != nil {
					t.Error(err)
				}
			}
			if _, err := lock.Acquire(ctx, over(m, "running", c), "g", "neo4j", time.Hour); err != nil {
				t.Errorf("running: %v", err)
			}
		})
	}
	_, err = lock.Acquire(ctx, over(m, "slow", c), "g", "neo4j", time.Minute)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder != "running" {
		t.Fatalf("slow run: got %v, want refused, held by running", err)
	}
	for _, k := range m.keys() {
		if strings.HasSuffix(k, "0000000002.json") {
			t.Errorf("the slow run's void generation was left behind: %v", m.keys())
		}
	}
}

func TestCorruptLockIsNotTakenOver(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Now()}
	m.objs["locks/g/neo4j/0000000001.json"] = []byte("{not json")
	if _, err := lock.Acquire(ctx, over(m, "run", c), "g", "neo4j", time.Minute); err == nil || !strings.Contains(err.Error(), "not a lock record") {
		t.Errorf("Acquire over a corrupt lock: got %v, want an error", err)
	}
}

// A run of "*" backs up every database: it and a run of one named
// database refuse each other, in either order; a pattern conflicts with
// the names it matches only.
func TestAllDatabasesLockOverlapsNamedOnes(t *testing.T) {
	ctx := context.Background()
	m, c := newMem(), &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	all, one := over(m, "pod db/all", c), over(m, "pod db/one", c)

	la, err := lock.Acquire(ctx, all, "g", "*", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lock.Acquire(ctx, one, "g", "neo4j", time.Hour)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder != "pod db/all" || held.Database != "*" {
		t.Fatalf("neo4j while * is held: got %v, want a HeldError naming the * run", err)
	}
	// The refused run left no live lock of its own behind: after the *
	// run releases, neo4j is free.
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := lock.Acquire(ctx, one, "g", "neo4j", time.Hour)
	if err != nil {
		t.Fatalf("neo4j after * released: %v", err)
	}
	// And the other way round.
	_, err = lock.Acquire(ctx, all, "g", "*", time.Hour)
	if !errors.As(err, &held) || held.Database != "neo4j" {
		t.Fatalf("* while neo4j is held: got %v, want a HeldError naming neo4j", err)
	}
	if _, err := lock.Acquire(ctx, all, "g", "mov*", time.Hour); err != nil {
		t.Errorf("mov* while neo4j is held: %v (no overlap)", err)
	}
	if _, err := lock.Acquire(ctx, all, "other", "*", time.Hour); err != nil {
		t.Errorf("* of another cluster: %v", err)
	}
	if err := ln.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Hour) // mov* expired
	if _, err := lock.Acquire(ctx, all, "g", "*", time.Hour); err != nil {
		t.Errorf("* once neo4j is released and mov* expired: %v", err)
	}
}
