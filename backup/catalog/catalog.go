package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store is what the catalogue needs from a bucket. Its methods are those of
// backup/blob's *Bucket, so a bucket is a Store as it is; O is the bucket's
// listing element (blob.Object), of which the catalogue only needs the key.
//
// PutIfAbsent must fail when the key exists (blob's IfNotExist write option):
// the catalogue's no-overwrite guarantee rests on it.
type Store[O any] interface {
	PutIfAbsent(ctx context.Context, key string, data []byte) error
	Read(ctx context.Context, key string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]O, error)
	Delete(ctx context.Context, key string) error
}

var (
	// ErrExists is returned by Put when a different entry already has the ID.
	ErrExists = errors.New("catalogue entry exists")
	// ErrNotFound is returned when an entry is not in the catalogue.
	ErrNotFound = errors.New("catalogue entry not found")
)

// Options adapts a Store's errors and sets what the Catalog refuses to write.
type Options struct {
	// IsExists tells PutIfAbsent's "already there" error (e.g.
	// errors.Is(err, blob.ErrExists)); the default recognises ErrExists and
	// fs.ErrExist.
	IsExists func(error) bool
	// IsNotFound tells Read's "no such key" error; the default recognises
	// ErrNotFound and fs.ErrNotExist.
	IsNotFound func(error) bool
	// Secrets are values that must never be written (the Neo4j password, the
	// keyset, storage credentials). A write whose bytes contain one is refused.
	Secrets []string
	// Now is the clock for Catalogued and update times (default time.Now).
	Now func() time.Time
	// Parallel bounds concurrent reads in List (default 8).
	Parallel int
}

// Catalog reads and writes entries in a Store.
type Catalog struct {
	put      func(ctx context.Context, key string, data []byte) error
	read     func(ctx context.Context, key string) ([]byte, error)
	list     func(ctx context.Context, prefix string) ([]string, error)
	del      func(ctx context.Context, key string) error
	isExists func(error) bool
	notFound func(error) bool
	secrets  [][]byte
	now      func() time.Time
	parallel int
}

// ListKeys lists the keys under a prefix of s; keyOf returns a listed
// object's key. The catalogue and the lock (backup/lock) list through it.
func ListKeys[O any](s Store[O], keyOf func(O) string) func(ctx context.Context, prefix string) ([]string, error) {
	return func(ctx context.Context, prefix string) ([]string, error) {
		objs, err := s.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		keys := make([]string, len(objs))
		for i, o := range objs {
			keys[i] = keyOf(o)
		}
		return keys, nil
	}
}

// New returns a Catalog over s; keyOf returns the key of a listed object.
func New[O any](s Store[O], keyOf func(O) string, opts Options) *Catalog {
	c := &Catalog{
		put: s.PutIfAbsent, read: s.Read, del: s.Delete,
		list:     ListKeys(s, keyOf),
		isExists: opts.IsExists, notFound: opts.IsNotFound, now: opts.Now, parallel: opts.Parallel,
	}
	if c.isExists == nil {
		c.isExists = func(err error) bool { return errors.Is(err, ErrExists) || errors.Is(err, fs.ErrExist) }
	}
	if c.notFound == nil {
		c.notFound = func(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) }
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.parallel <= 0 {
		c.parallel = 8
	}
	for _, s := range opts.Secrets {
		if s == "" {
			continue
		}
		c.secrets = append(c.secrets, []byte(s))
		// The JSON encoder escapes some characters; look for that form too.
		if enc, err := json.Marshal(s); err == nil {
			if esc := enc[1 : len(enc)-1]; string(esc) != s {
				c.secrets = append(c.secrets, esc)
			}
		}
	}
	return c
}

// write is the only path to the store's PutIfAbsent.
func (c *Catalog) write(ctx context.Context, key string, doc any) ([]byte, error) {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	for _, s := range c.secrets {
		if bytes.Contains(data, s) {
			// Never name the value: the error itself could be logged.
			return nil, fmt.Errorf("refusing to write %s: it would contain a secret value (redact the field that carries it)", key)
		}
	}
	return data, c.put(ctx, key, data)
}

// Put writes a new entry, create-if-absent. It sets SchemaVersion and
// Catalogued when unset. Writing the same entry again (a rerun after a lost
// reply) succeeds; a different entry under the same ID fails with ErrExists.
func (c *Catalog) Put(ctx context.Context, e Entry) (Entry, error) {
	if e.SchemaVersion == 0 {
		e.SchemaVersion = SchemaVersion
	}
	if e.Catalogued.IsZero() {
		e.Catalogued = c.now().UTC()
	}
	e.Created = e.Created.UTC()
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	n, _ := ParseID(e.ID)
	key := n.EntryKey()
	_, err := c.write(ctx, key, e)
	if err == nil {
		return e, nil
	}
	if !c.isExists(err) {
		return Entry{}, fmt.Errorf("writing %s: %w", key, err)
	}
	old, rerr := c.readEntry(ctx, key)
	if rerr != nil {
		return Entry{}, fmt.Errorf("%s exists and cannot be read back: %w", key, rerr)
	}
	// Same artifact catalogued twice: only the catalogue time may differ.
	probe := e
	probe.Catalogued = old.Catalogued
	a, _ := json.Marshal(probe)
	b, _ := json.Marshal(old)
	if bytes.Equal(a, b) {
		return old, nil
	}
	return Entry{}, fmt.Errorf("%s: %w with different content (another writer catalogued this ID)", e.ID, ErrExists)
}

func (c *Catalog) readEntry(ctx context.Context, key string) (Entry, error) {
	data, err := c.read(ctx, key)
	if err != nil {
		if c.notFound(err) {
			return Entry{}, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return Entry{}, err
	}
	var e Entry
	if err := decode(data, &e); err != nil {
		return Entry{}, fmt.Errorf("%s: %v", key, err)
	}
	if n, _, ok := parseKey(key); !ok || n.ID() != e.ID {
		return Entry{}, fmt.Errorf("%s: holds entry %q (the object was renamed or copied by hand)", key, e.ID)
	}
	if len(e.Copies) > 0 || len(e.Verifications) > 0 {
		return Entry{}, fmt.Errorf("%s: copies or verifications inside the entry object (they belong in update objects)", key)
	}
	return e, nil
}

// decode refuses a document of a newer schema, and unknown fields in one of
// this schema (a typo or corruption, not something to ignore silently).
func decode(data []byte, v any) error {
	return decodeVersioned(data, v, "catalogue document", "schema", SchemaVersion)
}

// decodeVersioned is decode for a kind of document (what) whose
// schemaVersion (named schema in errors) this neo4jctl reads up to max.
func decodeVersioned(data []byte, v any, what, schema string, max int) error {
	var head struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("not a %s: %v", what, err)
	}
	if head.SchemaVersion > max {
		return fmt.Errorf("%s version %d is newer than this neo4jctl reads (%d): upgrade neo4jctl", schema, head.SchemaVersion, max)
	}
	if head.SchemaVersion < 1 {
		return fmt.Errorf("no schemaVersion")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a %s: %v", what, err)
	}
	return nil
}

// update is one fact recorded about an entry after it was written.
type update struct {
	SchemaVersion int           `json:"schemaVersion"`
	Entry         string        `json:"entry"`
	Recorded      time.Time     `json:"recorded"`
	Copy          *Copy         `json:"copy,omitempty"`
	Verification  *Verification `json:"verification,omitempty"`
}

func (u update) samePayload(o update) bool {
	return reflect.DeepEqual(u.Copy, o.Copy) && reflect.DeepEqual(u.Verification, o.Verification)
}

// AddCopy records a verified copy of the entry's artifact. The copy's digest
// must equal the entry's ciphertext digest: a copy that does not match is
// not a copy.
func (c *Catalog) AddCopy(ctx context.Context, id string, cp Copy) error {
	if err := CheckURL(cp.URL); err != nil {
		return fmt.Errorf("%s: copy url: %v", id, err)
	}
	if cp.Object == "" || cp.Verified.IsZero() {
		return fmt.Errorf("%s: copy: object and verified time are required", id)
	}
	e, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if cp.SHA256 != e.CiphertextSHA256 {
		return fmt.Errorf("%s: copy at %s has digest %s, the artifact's is %s: not recorded", id, cp.URL, cp.SHA256, e.CiphertextSHA256)
	}
	cp.Verified = cp.Verified.UTC()
	return c.addUpdate(ctx, id, update{Copy: &cp})
}

// AddVerification records a verification by restore.
func (c *Catalog) AddVerification(ctx context.Context, id string, v Verification) error {
	if v.Result != VerificationPassed && v.Result != VerificationFailed {
		return fmt.Errorf("%s: verification result %q, want passed or failed", id, v.Result)
	}
	if v.Started.IsZero() || v.Method == "" {
		return fmt.Errorf("%s: verification: started and method are required", id)
	}
	if _, err := c.Get(ctx, id); err != nil {
		return err
	}
	v.Started = v.Started.UTC()
	return c.addUpdate(ctx, id, update{Verification: &v})
}

// maxUpdates bounds the update numbers (6 digits in the key).
const maxUpdates = 999999

func (c *Catalog) addUpdate(ctx context.Context, id string, u update) error {
	n, err := ParseID(id)
	if err != nil {
		return err
	}
	u.SchemaVersion, u.Entry, u.Recorded = SchemaVersion, id, c.now().UTC()
	existing, err := c.updates(ctx, n)
	if err != nil {
		return err
	}
	next := 1
	for _, x := range existing {
		if x.doc.samePayload(u) {
			return nil // already recorded (a rerun)
		}
		next = x.seq + 1
	}
	// Take the next free number; a concurrent writer may take it first, then
	// try the one after. Neither update is lost, neither overwrites.
	for seq := next; seq <= maxUpdates; seq++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := c.write(ctx, n.updateKey(seq), u)
		if err == nil {
			return nil
		}
		if !c.isExists(err) {
			return fmt.Errorf("recording an update of %s: %w", id, err)
		}
	}
	return fmt.Errorf("%s: more than %d updates", id, maxUpdates)
}

type numbered struct {
	seq int
	doc update
}

func (c *Catalog) updates(ctx context.Context, n Name) ([]numbered, error) {
	keys, err := c.list(ctx, n.updatePrefix())
	if err != nil {
		return nil, err
	}
	return c.readUpdates(ctx, n, keys)
}

func (c *Catalog) readUpdates(ctx context.Context, n Name, keys []string) ([]numbered, error) {
	var out []numbered
	for _, k := range keys {
		kn, seq, ok := parseKey(k)
		if !ok || seq == 0 || kn.ID() != n.ID() {
			continue
		}
		data, err := c.read(ctx, k)
		if err != nil {
			if c.notFound(err) {
				continue // deleted since the listing
			}
			return nil, err
		}
		var u update
		if err := decode(data, &u); err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		if u.Entry != n.ID() {
			return nil, fmt.Errorf("%s: update of %q under the name of %q", k, u.Entry, n.ID())
		}
		out = append(out, numbered{seq, u})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

func merge(e Entry, ups []numbered) Entry {
	for _, u := range ups {
		if u.doc.Copy != nil {
			e.Copies = append(e.Copies, *u.doc.Copy)
		}
		if u.doc.Verification != nil {
			e.Verifications = append(e.Verifications, *u.doc.Verification)
		}
	}
	return e
}

// Get reads one entry with its updates merged.
func (c *Catalog) Get(ctx context.Context, id string) (Entry, error) {
	n, err := ParseID(id)
	if err != nil {
		return Entry{}, err
	}
	e, err := c.readEntry(ctx, n.EntryKey())
	if err != nil {
		return Entry{}, err
	}
	ups, err := c.updates(ctx, n)
	if err != nil {
		return Entry{}, err
	}
	return merge(e, ups), nil
}

// Filter narrows List to a cluster, or a cluster's database.
type Filter struct {
	Cluster  string
	Database string
}

func (f Filter) prefix() (string, error) {
	switch {
	case f.Cluster == "" && f.Database != "":
		return "", fmt.Errorf("a database filter needs its cluster")
	case f.Cluster == "":
		return CatalogPrefix, nil
	case f.Database == "":
		return CatalogPrefix + f.Cluster + "/", nil
	}
	return CatalogPrefix + f.Cluster + "/" + f.Database + "/", nil
}

// List reads every entry under the filter with its updates merged, sorted
// by Created then ID (chronological). Updates whose entry is gone (a prune
// interrupted between the two deletes) are skipped.
func (c *Catalog) List(ctx context.Context, f Filter) ([]Entry, error) {
	prefix, err := f.prefix()
	if err != nil {
		return nil, err
	}
	keys, err := c.list(ctx, prefix)
	if err != nil {
		return nil, err
	}
	type group struct {
		name    Name
		entry   bool
		updates []string
	}
	groups := map[string]*group{}
	var ids []string
	for _, k := range keys {
		n, seq, ok := parseKey(k)
		if !ok {
			continue
		}
		g := groups[n.ID()]
		if g == nil {
			g = &group{name: n}
			groups[n.ID()] = g
			ids = append(ids, n.ID())
		}
		if seq == 0 {
			g.entry = true
		} else {
			g.updates = append(g.updates, k)
		}
	}
	var (
		mu   sync.Mutex
		out  []Entry
		errs []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, c.parallel)
	)
	for _, id := range ids {
		g := groups[id]
		if !g.entry {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, err := c.readEntry(ctx, g.name.EntryKey())
			var ups []numbered
			if err == nil {
				ups, err = c.readUpdates(ctx, g.name, g.updates)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrNotFound):
				// deleted since the listing
			case err != nil:
				errs = append(errs, err.Error())
			default:
				out = append(out, merge(e, ups))
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("reading the catalogue: %s", strings.Join(errs, "\n"))
	}
	SortEntries(out)
	return out, nil
}

// SortEntries sorts chronologically: by Created, then by ID.
func SortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].Created.Equal(es[j].Created) {
			return es[i].Created.Before(es[j].Created)
		}
		return es[i].ID < es[j].ID
	})
}

// Delete removes an entry, then its updates. It is the first step of
// deleting a backup (the artifact and its copies go after), so an
// interrupted prune never leaves an entry whose data is gone. Deleting an
// entry that is already gone succeeds, and removes updates left behind.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	n, err := ParseID(id)
	if err != nil {
		return err
	}
	if err := c.del(ctx, n.EntryKey()); err != nil && !c.notFound(err) {
		return fmt.Errorf("deleting %s: %w", id, err)
	}
	keys, err := c.list(ctx, n.updatePrefix())
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.del(ctx, k); err != nil && !c.notFound(err) {
			return fmt.Errorf("deleting %s: %w", k, err)
		}
	}
	return nil
}

// Strays are objects no entry accounts for, left by interrupted work.
type Strays struct {
	// Updates are IDs whose update objects outlived their entry (a prune
	// interrupted between its two deletes); Delete(id) removes them.
	Updates []string `json:"updates"`
	// Artifacts are artifact keys with no entry: an upload whose entry was
	// never written (interrupted, or still in progress — the key's time says
	// when the backup was taken, so prune can leave young ones alone), or
	// one whose entry was pruned before the object.
	Artifacts []string `json:"artifacts"`
}

// Strays lists what no entry accounts for under the filter.
func (c *Catalog) Strays(ctx context.Context, f Filter) (Strays, error) {
	prefix, err := f.prefix()
	if err != nil {
		return Strays{}, err
	}
	keys, err := c.list(ctx, prefix)
	if err != nil {
		return Strays{}, err
	}
	entries := map[string]bool{}
	updates := map[string]bool{}
	for _, k := range keys {
		if n, seq, ok := parseKey(k); ok {
			if seq == 0 {
				entries[n.ID()] = true
			} else {
				updates[n.ID()] = true
			}
		}
	}
	out := Strays{Updates: []string{}, Artifacts: []string{}}
	for id := range updates {
		if !entries[id] {
			out.Updates = append(out.Updates, id)
		}
	}
	arts, err := c.list(ctx, ArtifactPrefix+strings.TrimPrefix(prefix, CatalogPrefix))
	if err != nil {
		return Strays{}, err
	}
	for _, k := range arts {
		id := strings.TrimPrefix(k, ArtifactPrefix)
		if i := strings.IndexByte(id[strings.LastIndexByte(id, '/')+1:], '.'); i >= 0 {
			id = id[:strings.LastIndexByte(id, '/')+1+i]
		}
		if !entries[id] {
			out.Artifacts = append(out.Artifacts, k)
		}
	}
	sort.Strings(out.Updates)
	sort.Strings(out.Artifacts)
	return out, nil
}
