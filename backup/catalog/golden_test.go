package catalog

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// The stored documents are a format other versions of neo4jctl read: a
// change shows here, and one that is not additive needs a new SchemaVersion.
func TestStoredDocumentsGolden(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{Now: func() time.Time { return t0.Add(5 * time.Minute) }})
	full := entry(t, "prod", "neo4j", t0, Full, "9f2c4e1a", 1, 5)
	full.RequestedType = "DIFF"
	rec := true
	full.Recovered = &rec
	if _, err := c.Put(ctx, full); err != nil {
		t.Fatal(err)
	}
	if !full.FellBack() {
		t.Error("FellBack() false for a DIFF asked and a FULL produced")
	}
	if err := c.AddCopy(ctx, full.ID, Copy{URL: "gs://dr-backups/neo4j", Object: full.Object, SHA256: full.CiphertextSHA256, Verified: t0.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	nodes, rels := int64(1200), int64(3400)
	if err := c.AddVerification(ctx, full.ID, Verification{Result: VerificationPassed, Started: t0.Add(time.Hour), Duration: 95 * time.Second,
		Method: "neo4j-admin database restore+check", Where: "local", Neo4jVersion: "5.26.0", Nodes: &nodes, Relationships: &rels}); err != nil {
		t.Fatal(err)
	}
	for _, k := range m.keys() {
		name := "testdata/" + k[len(CatalogPrefix+"prod/neo4j/"):] + ".golden"
		if *updateGolden {
			if err := os.WriteFile(name, m.objs[k], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(want, m.objs[k]) {
			t.Errorf("%s changed:\n%s\nwant:\n%s", k, m.objs[k], want)
		}
	}
	got, err := c.Get(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	merged, _ := json.MarshalIndent(got, "", "  ")
	if *updateGolden {
		os.WriteFile("testdata/merged-entry.golden.json", append(merged, '\n'), 0o644)
	} else if want, _ := os.ReadFile("testdata/merged-entry.golden.json"); !bytes.Equal(want, append(merged, '\n')) {
		t.Errorf("merged entry changed:\n%s", merged)
	}
}

func TestStrays(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{})
	a := entry(t, "prod", "neo4j", t0, Full, "aaaa", 1, 5)
	b := entry(t, "prod", "neo4j", t0.Add(time.Hour), Full, "bbbb", 1, 6)
	for _, e := range []Entry{a, b} {
		if _, err := c.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
		m.objs[e.Object] = []byte("ciphertext")
	}
	if err := c.AddVerification(ctx, b.ID, Verification{Result: VerificationPassed, Started: t0, Method: "x"}); err != nil {
		t.Fatal(err)
	}
	nb, _ := ParseID(b.ID)
	delete(m.objs, nb.EntryKey()) // prune interrupted after the entry went
	orphanUpload := "artifacts/prod/neo4j/20241007T180000Z-full-cccc.backup.enc"
	m.objs[orphanUpload] = []byte("partial")
	s, err := c.Strays(ctx, Filter{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Updates) != 1 || s.Updates[0] != b.ID || len(s.Artifacts) != 2 || s.Artifacts[0] != b.Object || s.Artifacts[1] != orphanUpload {
		t.Fatalf("strays %+v", s)
	}
}
