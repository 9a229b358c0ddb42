package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

var ctx = context.Background()

func digest(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// entry builds a valid entry; diffs are linked by the caller.
func entry(t testing.TB, cluster, db string, created time.Time, typ Type, tok string, low, high int64) Entry {
	t.Helper()
	id, err := NewID(cluster, db, created, typ, tok)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ParseID(id)
	e := Entry{
		SchemaVersion: SchemaVersion, ID: id, Cluster: cluster, Database: db, DatabaseID: "db-" + db,
		Type: typ, Format: inspect.FormatBackup, File: inspect.Name{Database: db, Time: created, Format: inspect.FormatBackup}.String(),
		Object: n.ArtifactKey(inspect.FormatBackup), LowestTx: low, HighestTx: high, Created: created.UTC(),
		PlaintextSize: 100, CiphertextSize: 132, PlaintextSHA256: digest("p" + id), CiphertextSHA256: digest("c" + id),
		KeyID: "1234567", Neo4jVersion: "5.26.0",
	}
	if typ == Full {
		e.ChainID = id
	}
	return e
}

var t0 = time.Date(2024, 10, 7, 16, 0, 0, 0, time.UTC)

func TestNamesSortChronologically(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	type item struct {
		at  time.Time
		key string
	}
	var items []item
	for i := 0; i < 500; i++ {
		at := t0.Add(time.Duration(r.Int63n(int64(5 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		typ := Full
		if r.Intn(2) == 0 {
			typ = Diff
		}
		id, err := NewID("prod", "neo4j", at, typ, NewToken())
		if err != nil {
			t.Fatal(err)
		}
		n, err := ParseID(id)
		if err != nil || n.ID() != id || !n.Time.Equal(at) || n.Type != typ {
			t.Fatalf("ParseID(%q) = %+v, %v", id, n, err)
		}
		for _, k := range []string{n.EntryKey(), n.updateKey(7)} {
			kn, _, ok := parseKey(k)
			if !ok || kn.ID() != id {
				t.Fatalf("parseKey(%q) = %v %v", k, kn, ok)
			}
		}
		items = append(items, item{at, n.EntryKey()})
	}
	byKey := append([]item(nil), items...)
	sort.Slice(byKey, func(i, j int) bool { return byKey[i].key < byKey[j].key })
	for i := 1; i < len(byKey); i++ {
		if byKey[i].at.Before(byKey[i-1].at) {
			t.Fatalf("key order is not time order: %s before %s", byKey[i-1].key, byKey[i].key)
		}
	}
	id, _ := NewID("prod", "neo4j", time.Date(2024, 10, 7, 16, 3, 51, 0, time.FixedZone("CEST", 7200)), Diff, "ab12cd34")
	n, _ := ParseID(id)
	for got, want := range map[string]string{
		id:                                  "prod/neo4j/20241007T140351Z-diff-ab12cd34",
		n.EntryKey():                        "catalog/v1/prod/neo4j/20241007T140351Z-diff-ab12cd34.json",
		n.updateKey(2):                      "catalog/v1/prod/neo4j/20241007T140351Z-diff-ab12cd34.update.000002.json",
		n.ArtifactKey(inspect.FormatBackup): "artifacts/prod/neo4j/20241007T140351Z-diff-ab12cd34.backup.enc",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for _, bad := range []string{"prod/neo4j", "a/b/c/d", "prod/neo4j/20241007T140351Z-DIFF-ab12cd34",
		"prod/neo4j/20241007T140351Z-part-ab12cd34", "prod/neo4j/20241007-full-ab12cd34", "prod/neo4j/20241007T140351Z-full-AB"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q): no error", bad)
		}
	}
	if _, err := NewID("prod", "a/b", t0, Full, "abcd"); err == nil {
		t.Error("NewID accepted a database with a slash")
	}
}

func TestPutCreateIfAbsent(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	e := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	got, err := c.Put(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Catalogued.Equal(t0.Add(time.Hour)) {
		t.Errorf("catalogued %v", got.Catalogued)
	}
	// The same entry again (an agent rerun after a lost reply) succeeds and
	// keeps the first catalogue time.
	c2 := newCatalog(m, Options{Now: func() time.Time { return t0.Add(2 * time.Hour) }})
	again, err := c2.Put(ctx, e)
	if err != nil || !again.Catalogued.Equal(got.Catalogued) {
		t.Fatalf("second identical Put = %v, %v", again.Catalogued, err)
	}
	// A different entry under the same ID is refused, and the first is intact.
	other := e
	other.CiphertextSHA256 = digest("other")
	if _, err := c2.Put(ctx, other); !errors.Is(err, ErrExists) {
		t.Fatalf("Put of a different entry under an existing ID: %v, want ErrExists", err)
	}
	back, err := c.Get(ctx, e.ID)
	if err != nil || back.CiphertextSHA256 != e.CiphertextSHA256 {
		t.Fatalf("entry overwritten: %+v %v", back, err)
	}
	// Two writers racing for one ID: exactly one wins.
	e2 := entry(t, "prod", "neo4j", t0.Add(time.Minute), Full, "bbbb", 1, 9)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		x := e2
		x.KeyID = fmt.Sprintf("key%d", i)
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = c.Put(ctx, x) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("racing Puts: %v / %v, want exactly one ErrExists", errs[0], errs[1])
	}
}

func TestValidateRefusesBadEntries(t *testing.T) {
	c := newCatalog(newMem(), Options{})
	good := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	cases := map[string]struct {
		mut  func(*Entry)
		want string
	}{
		"diff without parent": {func(e *Entry) { e.Type = Diff; e.ChainID = "" }, "id: names type FULL"},
		"bad digest":          {func(e *Entry) { e.PlaintextSHA256 = "XYZ" }, "plaintextSha256"},
		"no key id":           {func(e *Entry) { e.KeyID = "" }, "keyId: empty"},
		"object elsewhere":    {func(e *Entry) { e.Object = "x" }, "object:"},
		"copies inline":       {func(e *Entry) { e.Copies = []Copy{{URL: "s3://b"}} }, "AddCopy"},
		"chain of a full":     {func(e *Entry) { e.ChainID = "x" }, "chainId"},
		"range":               {func(e *Entry) { e.LowestTx = 9 }, "not a transaction range"},
		"newer schema":        {func(e *Entry) { e.SchemaVersion = 2 }, "schemaVersion: 2"},
	}
	for name, tc := range cases {
		e := good
		tc.mut(&e)
		if _, err := c.Put(ctx, e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Put error %v, want %q", name, err, tc.want)
		}
	}
}

// Two writers record updates of one entry at the same time, each reading
// the same "next number" before either writes. Every update survives.
func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	lost, refused := runConcurrentUpdates(t, newMem())
	if lost != 0 {
		t.Fatalf("%d updates lost", lost)
	}
	if refused == 0 {
		t.Fatal("the writers never collided: the test did not exercise the race")
	}
}

// The same workload against a store whose PutIfAbsent overwrites loses
// updates: the test above would catch a catalogue that did not rely on
// create-if-absent.
func TestConcurrentUpdatesDishonestStoreLoses(t *testing.T) {
	m := newMem()
	m.overwrite = true
	if lost, _ := runConcurrentUpdates(t, m); lost == 0 {
		t.Fatal("no update lost with an overwriting store: the race is not exercised")
	}
}

func runConcurrentUpdates(t *testing.T, m *memStore) (lost, refused int) {
	t.Helper()
	c := newCatalog(m, Options{Now: func() time.Time { return t0 }})
	e := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	if _, err := c.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	const writers, each = 2, 25
	// A barrier before every update write: both writers have listed and
	// chosen their number before either writes, so they choose the same one.
	var arrive sync.WaitGroup
	var mu sync.Mutex
	waiting := 0
	release := make(chan struct{})
	m.beforePut = func(key string) {
		if !strings.Contains(key, updateInfix) {
			return
		}
		mu.Lock()
		waiting++
		if waiting == writers {
			waiting = 0
			close(release)
			r := make(chan struct{})
			release = r
			mu.Unlock()
			return
		}
		ch := release
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond): // the other writer finished
		}
	}
	arrive.Add(writers)
	var errs []error
	var emu sync.Mutex
	for w := 0; w < writers; w++ {
		go func() {
			defer arrive.Done()
			for i := 0; i < each; i++ {
				var err error
				if w == 0 {
					err = c.AddCopy(ctx, e.ID, Copy{URL: "s3://dr-bucket/p?region=eu-west-1", Object: fmt.Sprintf("copy-%d", i), SHA256: e.CiphertextSHA256, Verified: t0})
				} else {
					err = c.AddVerification(ctx, e.ID, Verification{Result: VerificationPassed, Started: t0, Method: "load+check", Message: fmt.Sprint(i)})
				}
				if err != nil {
					emu.Lock()
					errs = append(errs, err)
					emu.Unlock()
				}
			}
		}()
	}
	arrive.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got, err := c.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, cp := range got.Copies {
		seen["c"+cp.Object] = true
	}
	for _, v := range got.Verifications {
		seen["v"+v.Message] = true
	}
	for i := 0; i < each; i++ {
		if !seen[fmt.Sprintf("ccopy-%d", i)] {
			lost++
		}
		if !seen[fmt.Sprintf("v%d", i)] {
			lost++
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return lost, m.refused
}

func TestUpdatesMergeAndAreIdempotent(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{Now: func() time.Time { return t0 }})
	e := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	if _, err := c.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	cp := Copy{URL: "gs://dr/p", Object: e.Object, SHA256: e.CiphertextSHA256, Verified: t0}
	for i := 0; i < 2; i++ { // a rerun records nothing new
		if err := c.AddCopy(ctx, e.ID, cp); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddCopy(ctx, e.ID, Copy{URL: "gs://dr/p", Object: e.Object, SHA256: digest("tampered"), Verified: t0}); err == nil {
		t.Error("a copy with another digest was recorded")
	}
	nodes := int64(10)
	fail := Verification{Result: VerificationFailed, Started: t0.Add(time.Hour), Duration: time.Minute, Method: "load+check", Message: "inconsistent"}
	pass := Verification{Result: VerificationPassed, Started: t0.Add(2 * time.Hour), Duration: time.Minute, Method: "load+check", Nodes: &nodes}
	for _, v := range []Verification{fail, pass} {
		if err := c.AddVerification(ctx, e.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Copies) != 1 || got.Copies[0] != cp {
		t.Errorf("copies %+v", got.Copies)
	}
	if len(got.Verifications) != 2 || !got.Verified() || *got.LastVerification().Nodes != 10 {
		t.Errorf("verifications %+v", got.Verifications)
	}
	if err := c.AddVerification(ctx, e.ID, Verification{Result: VerificationFailed, Started: t0.Add(3 * time.Hour), Method: "load+check"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, e.ID); got.Verified() {
		t.Error("Verified() after a later failed verification")
	}
	if err := c.AddCopy(ctx, "prod/neo4j/20241007T160000Z-full-zzzz", cp); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddCopy to a missing entry: %v", err)
	}
	keys := m.keys()
	if len(keys) != 5 || keys[0] != "catalog/v1/prod/neo4j/20241007T160000Z-full-aaaa.json" ||
		keys[4] != "catalog/v1/prod/neo4j/20241007T160000Z-full-aaaa.update.000004.json" {
		t.Errorf("objects %q", keys)
	}
}

func TestListGetDelete(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{})
	var all []Entry
	for i, db := range []string{"neo4j", "system", "neo4j", "movies"} {
		for _, cl := range []string{"prod", "dr"} {
			e := entry(t, cl, db, t0.Add(time.Duration(10-i)*time.Hour), Full, fmt.Sprintf("t%03d", i), 1, 5)
			if _, err := c.Put(ctx, e); err != nil {
				t.Fatal(err)
			}
			all = append(all, e)
		}
	}
	m.objs["catalog/v1/prod/README"] = []byte("not an entry")
	got, err := c.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("%d entries, want %d", len(got), len(all))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Created.Before(got[i-1].Created) {
			t.Fatalf("List not chronological at %d", i)
		}
	}
	prodNeo, err := c.List(ctx, Filter{Cluster: "prod", Database: "neo4j"})
	if err != nil || len(prodNeo) != 2 || prodNeo[0].Created.After(prodNeo[1].Created) {
		t.Fatalf("filtered list %v %v", prodNeo, err)
	}
	if _, err := c.List(ctx, Filter{Database: "neo4j"}); err == nil {
		t.Error("database filter without a cluster accepted")
	}
	victim := prodNeo[0]
	if err := c.AddVerification(ctx, victim.ID, Verification{Result: VerificationPassed, Started: t0, Method: "x"}); err != nil {
		t.Fatal(err)
	}
	// A prune interrupted after the entry went: the update stays behind,
	// List skips it, Delete again cleans it.
	n, _ := ParseID(victim.ID)
	if err := m.Delete(ctx, n.EntryKey()); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.List(ctx, Filter{Cluster: "prod", Database: "neo4j"}); len(got) != 1 {
		t.Fatalf("after the entry went: %d entries", len(got))
	}
	if _, err := c.Get(ctx, victim.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a deleted entry: %v", err)
	}
	if err := c.Delete(ctx, victim.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range m.keys() {
		if strings.Contains(k, victim.ID) {
			t.Errorf("left behind: %s", k)
		}
	}
}

func TestReadRefusesNewerOrForeignDocuments(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{})
	e := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	if _, err := c.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	n, _ := ParseID(e.ID)
	orig := string(m.objs[n.EntryKey()])
	for name, doc := range map[string]string{
		"newer schema":  strings.Replace(orig, `"schemaVersion": 1`, `"schemaVersion": 2`, 1),
		"unknown field": strings.Replace(orig, `"schemaVersion": 1,`, `"schemaVersion": 1, "password": "x",`, 1),
		"renamed":       strings.Replace(orig, `"id": "prod/neo4j/20241007T160000Z-full-aaaa"`, `"id": "prod/neo4j/20241007T160000Z-full-bbbb"`, 1),
	} {
		m.objs[n.EntryKey()] = []byte(doc)
		if _, err := c.Get(ctx, e.ID); err == nil {
			t.Errorf("%s: read without error", name)
		}
		if _, err := c.List(ctx, Filter{}); err == nil {
			t.Errorf("%s: listed without error", name)
		}
	}
}

// The canary is a secret the agent knows (a password, keyset bytes). No
// path writes it: fields carrying it are refused before anything reaches the
// store, the errors do not repeat it, and what is stored never holds it.
func TestSecretsNeverWritten(t *testing.T) {
	const canary = `canary-PW-"7f3e9<b>`
	m := newMem()
	c := newCatalog(m, Options{Secrets: []string{canary, ""}})
	e := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	if _, err := c.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	attempts := map[string]error{}
	leaky := e
	leaky.ID, _ = NewID("prod", "neo4j", t0.Add(time.Hour), Full, "bbbb")
	leaky.Created, leaky.ChainID = t0.Add(time.Hour), leaky.ID
	n, _ := ParseID(leaky.ID)
	leaky.Object = n.ArtifactKey(inspect.FormatBackup)
	leaky.Neo4jVersion = "5.26 " + canary
	_, attempts["entry field"] = c.Put(ctx, leaky)
	attempts["copy url userinfo"] = c.AddCopy(ctx, e.ID, Copy{URL: "s3://AKIA:" + "secret@bucket/p", Object: "o", SHA256: e.CiphertextSHA256, Verified: t0})
	attempts["copy url sas"] = c.AddCopy(ctx, e.ID, Copy{URL: "azblob://c?sig=abc&sv=2020", Object: "o", SHA256: e.CiphertextSHA256, Verified: t0})
	attempts["copy object"] = c.AddCopy(ctx, e.ID, Copy{URL: "s3://b", Object: canary, SHA256: e.CiphertextSHA256, Verified: t0})
	attempts["verification message"] = c.AddVerification(ctx, e.ID, Verification{Result: VerificationFailed, Started: t0, Method: "x", Message: "auth failed for " + canary})
	for name, err := range attempts {
		if err == nil {
			t.Errorf("%s: written", name)
			continue
		}
		if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "secret@") {
			t.Errorf("%s: the error repeats the secret: %v", name, err)
		}
	}
	for k, v := range m.objs {
		if strings.Contains(string(v), "canary") || strings.Contains(k, "canary") || strings.Contains(string(v), "secret@") {
			t.Errorf("%s holds the canary", k)
		}
	}
	if len(m.objs) != 1 {
		t.Errorf("%d objects stored, want only the first entry", len(m.objs))
	}
}
