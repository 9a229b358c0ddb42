package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// Prefix is where locks live in the bucket, beside catalog/ and
// artifacts/.
const Prefix = "locks/"

const (
	genDigits      = 10
	lockSuffix     = ".json"
	releasedSuffix = ".released"
)

// Store is a bucket as the lock uses it; Over builds one from anything
// the catalogue can use (a *blob.Bucket among them).
type Store struct {
	put      func(ctx context.Context, key string, data []byte) error
	read     func(ctx context.Context, key string) ([]byte, error)
	list     func(ctx context.Context, prefix string) ([]string, error)
	del      func(ctx context.Context, key string) error
	isExists func(error) bool
	notFound func(error) bool
	holder   string
	now      func() time.Time
}

// Options adapt a store's errors and name the holder.
type Options struct {
	// IsExists tells PutIfAbsent's "already there" error (e.g.
	// errors.Is(err, blob.ErrExists)); default: catalog.ErrExists or
	// fs.ErrExist.
	IsExists func(error) bool
	// IsNotFound tells Read's "no such key"; default: catalog.ErrNotFound
	// or fs.ErrNotExist.
	IsNotFound func(error) bool
	// Holder names this process in the lock, shown to a refused run;
	// default $POD_NAMESPACE/$POD_NAME (the backup Pods set both), else
	// hostname and pid.
	Holder string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Over returns the lock store over s; keyOf returns a listed object's key.
func Over[O any](s catalog.Store[O], keyOf func(O) string, opts Options) *Store {
	st := &Store{
		put: s.PutIfAbsent, read: s.Read, del: s.Delete,
		list:     catalog.ListKeys(s, keyOf),
		isExists: opts.IsExists, notFound: opts.IsNotFound, holder: opts.Holder, now: opts.Now,
	}
	if st.isExists == nil {
		st.isExists = func(err error) bool { return errors.Is(err, catalog.ErrExists) || errors.Is(err, fs.ErrExist) }
	}
	if st.notFound == nil {
		st.notFound = func(err error) bool { return errors.Is(err, catalog.ErrNotFound) || errors.Is(err, fs.ErrNotExist) }
	}
	if st.now == nil {
		st.now = time.Now
	}
	if st.holder == "" {
		st.holder = defaultHolder()
	}
	return st
}

func defaultHolder() string {
	if pod := os.Getenv("POD_NAME"); pod != "" {
		if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
			return "pod " + ns + "/" + pod
		}
		return "pod " + pod
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

// Record is the lock object's content.
type Record struct {
	Cluster    string    `json:"cluster"`
	Database   string    `json:"database"`
	Generation int64     `json:"generation"`
	Holder     string    `json:"holder"`
	Acquired   time.Time `json:"acquired"`
	Expires    time.Time `json:"expires"`
}

// HeldError refuses a run: another holds the database's lock.
type HeldError struct {
	Record
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("backup of database %s of cluster %s is already running: locked by %s since %s until %s; wait for it, or, if that run is dead, its lock is taken over after it expires",
		e.Database, e.Cluster, e.Holder, e.Acquired.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339))
}

// Lock is a held lock.
type Lock struct {
	Record
	s *Store
}

// dir is the prefix of one database's generations.
func dir(cluster, db string) string {
	return Prefix + cluster + "/" + db + "/"
}

func genKey(cluster, db string, gen int64) string {
	return fmt.Sprintf("%s%0*d%s", dir(cluster, db), genDigits, gen, lockSuffix)
}

// state lists a database's generations: the highest and whether it was
// released.
func (s *Store) state(ctx context.Context, cluster, db string) (gens []int64, released map[int64]bool, err error) {
	keys, err := s.list(ctx, dir(cluster, db))
	if err != nil {
		return nil, nil, fmt.Errorf("list locks of %s/%s: %w", cluster, db, err)
	}
	released = map[int64]bool{}
	for _, k := range keys {
		base := path.Base(k)
		num, suffix, ok := strings.Cut(base, ".")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || len(num) != genDigits {
			continue
		}
		switch "." + suffix {
		case lockSuffix:
			gens = append(gens, n)
		case releasedSuffix:
			released[n] = true
		}
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	return gens, released, nil
}

// Acquire takes the lock of database db of cluster for ttl, or returns a
// *HeldError naming the holder when another run holds it. A lock past its
// expiry, or released, is taken over.
func Acquire(ctx context.Context, s *Store, cluster, db string, ttl time.Duration) (*Lock, error) {
	if cluster == "" || db == "" || strings.ContainsAny(cluster+db, "/") {
		return nil, fmt.Errorf("lock: cluster %q and database %q must be non-empty names", cluster, db)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("lock: the expiry must be positive, got %s", ttl)
	}
	// A write below the top generation (a stale listing) is void and
	// retried from a fresh listing; a handful of tries is plenty, as each
	// needs another run to take and release the lock meanwhile.
	for try := 0; ; try++ {
		l, err := acquire(ctx, s, cluster, db, ttl)
		if errors.Is(err, errStale) && try < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		// A run of "*" covers every database, a pattern every name it
		// matches: their locks are different objects, so each run, once
		// it holds its own lock, looks for a live overlapping one and
		// gives its own up when there is. Of two overlapping runs racing,
		// at least one sees the other (both wrote before looking): both
		// may refuse, never both run.
		other, err := s.overlapping(ctx, cluster, db)
		if err != nil || other != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
			defer cancel()
			if rerr := l.Release(rctx); rerr != nil {
				err = errors.Join(err, rerr)
			}
			if err != nil {
				return nil, err
			}
			return nil, &HeldError{Record: *other}
		}
		return l, nil
	}
}

// isPattern says whether a database argument is a neo4j-admin pattern
// ("*" and "?" glob, Operations Manual 5.26,
// backup-restore/online-backup.adoc and offline-backup.adoc, Parameters:
// "Can contain * and ? for globbing").
func isPattern(db string) bool { return strings.ContainsAny(db, "*?") }

// overlap says whether runs of databases a and b (a != b) may back up a
// database in common: a pattern and a name it matches, or two patterns
// (which may match a name in common; not worth proving they cannot).
func overlap(a, b string) bool {
	pa, pb := isPattern(a), isPattern(b)
	switch {
	case pa && pb:
		return true
	case pa:
		ok, err := path.Match(a, b)
		return ok || err != nil
	case pb:
		ok, err := path.Match(b, a)
		return ok || err != nil
	}
	return false
}

// overlapping returns the record of a live lock of another database
// argument overlapping db's (see overlap), or nil.
func (s *Store) overlapping(ctx context.Context, cluster, db string) (*Record, error) {
	keys, err := s.list(ctx, Prefix+cluster+"/")
	if err != nil {
		return nil, fmt.Errorf("list locks of %s: %w", cluster, err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, Prefix+cluster+"/")
		other, _, ok := strings.Cut(rest, "/")
		if !ok || other == db || seen[other] || !overlap(db, other) {
			continue
		}
		seen[other] = true
		gens, released, err := s.state(ctx, cluster, other)
		if err != nil {
			return nil, err
		}
		if len(gens) == 0 || released[gens[len(gens)-1]] {
			continue
		}
		rec, err := s.readRecord(ctx, cluster, other, gens[len(gens)-1])
		if err != nil {
			return nil, err
		}
		if s.now().Before(rec.Expires) {
			return &rec, nil
		}
	}
	return nil, nil
}

var errStale = errors.New("lock written below a newer generation")

func acquire(ctx context.Context, s *Store, cluster, db string, ttl time.Duration) (*Lock, error) {
	gens, released, err := s.state(ctx, cluster, db)
	if err != nil {
		return nil, err
	}
	next := int64(1)
	if len(gens) > 0 {
		top := gens[len(gens)-1]
		next = top + 1
		if !released[top] {
			rec, err := s.readRecord(ctx, cluster, db, top)
			if err != nil {
				return nil, err
			}
			if s.now().Before(rec.Expires) {
				return nil, &HeldError{Record: rec}
			}
		}
	}
	now := s.now()
	rec := Record{Cluster: cluster, Database: db, Generation: next, Holder: s.holder, Acquired: now.UTC(), Expires: now.Add(ttl).UTC()}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	key := genKey(cluster, db, next)
	if err := s.put(ctx, key, append(data, '\n')); err != nil {
		if s.isExists(err) {
			// Another contender created this generation first: it holds
			// the lock now.
			won, rerr := s.readRecord(ctx, cluster, db, next)
			if rerr != nil {
				return nil, fmt.Errorf("lock %s/%s: taken by another run at the same moment (%v)", cluster, db, rerr)
			}
			return nil, &HeldError{Record: won}
		}
		return nil, fmt.Errorf("lock %s/%s: write %s: %w", cluster, db, key, err)
	}
	// A generation above ours means we listed a stale view (older
	// generations were collected while we waited) and wrote below the
	// lock: ours is void.
	gens, _, err = s.state(ctx, cluster, db)
	if err != nil {
		return nil, err
	}
	if top := gens[len(gens)-1]; top != next {
		if err := s.del(ctx, key); err != nil {
			return nil, fmt.Errorf("lock %s/%s: delete the void generation %s: %w", cluster, db, key, err)
		}
		return nil, fmt.Errorf("lock %s/%s: %w", cluster, db, errStale)
	}
	return &Lock{Record: rec, s: s}, nil
}

func (s *Store) readRecord(ctx context.Context, cluster, db string, gen int64) (Record, error) {
	key := genKey(cluster, db, gen)
	data, err := s.read(ctx, key)
	if err != nil {
		return Record{}, fmt.Errorf("read lock %s: %w", key, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		// An unreadable lock is treated as held until it can be judged:
		// a corrupt object must not let two runs in.
		return Record{}, fmt.Errorf("lock %s is not a lock record: %v; delete it by hand if no backup of %s is running", key, err, db)
	}
	return rec, nil
}

// Release marks the lock released, so the next run need not wait for its
// expiry, and deletes the generations before it. Releasing a lock that
// expired and was taken over changes nothing of the new holder's.
func (l *Lock) Release(ctx context.Context) error {
	s := l.s
	marker := fmt.Sprintf("%s%0*d%s", dir(l.Cluster, l.Database), genDigits, l.Generation, releasedSuffix)
	if err := s.put(ctx, marker, []byte(s.holder+"\n")); err != nil && !s.isExists(err) {
		return fmt.Errorf("release lock %s/%s: %w", l.Cluster, l.Database, err)
	}
	gens, released, err := s.state(ctx, l.Cluster, l.Database)
	if err != nil {
		return nil // released; collection waits for the next release
	}
	for _, g := range gens {
		if g >= l.Generation {
			break
		}
		_ = s.del(ctx, genKey(l.Cluster, l.Database, g))
		if released[g] {
			_ = s.del(ctx, fmt.Sprintf("%s%0*d%s", dir(l.Cluster, l.Database), genDigits, g, releasedSuffix))
		}
	}
	return nil
}

// OverBucket is the lock store of a backup bucket: the agent's one call
// is lock.Acquire(ctx, lock.OverBucket(session.Storage, ""), cluster, db, ttl).
func OverBucket(b *blob.Bucket, holder string) *Store {
	return Over[blob.Object](b, func(o blob.Object) string { return o.Key }, Options{
		Holder:     holder,
		IsExists:   func(err error) bool { return errors.Is(err, blob.ErrExists) },
		IsNotFound: func(err error) bool { return errors.Is(err, blob.ErrNotFound) },
	})
}

// WithClock returns s reading time from now (tests move it past expiries).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}
