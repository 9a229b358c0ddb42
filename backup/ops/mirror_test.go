package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/retention"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// TestCopyCatalogueFollowsTheEntry: over file:// buckets (blob's real
// driver), a copy writes the entry and the copy into the copy bucket's
// own catalogue; a verification recorded later reaches it too; prune
// deletes the copy's entry with its artifact. A copy bucket holding an
// artifact and no entry (an older neo4jctl's copy) is refused by ListCopy
// naming backup copy.
func TestCopyCatalogueFollowsTheEntry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	primary, copyDir := filepath.Join(dir, "primary"), filepath.Join(dir, "copy")
	for _, d := range []string{primary, copyDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &clusterfile.Cluster{}
	c.Metadata.Name = "prod"
	c.Spec.Backups = &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "file://" + primary},
		Copies: []clusterfile.BackupLocation{{URL: "file://" + copyDir}}}
	s, err := Open(ctx, Options{Cluster: c, OpenCopies: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := catalog.FromDump("prod", "neo4j.dump", time.Now().Add(-time.Hour), catalog.NewToken())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("ciphertext stand-in")
	sum := sha256.Sum256(data)
	e.KeyID, e.CiphertextSHA256, e.PlaintextSHA256 = "1", hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
	e.CiphertextSize, e.PlaintextSize = int64(len(data)), int64(len(data))
	if err := s.Storage.PutIfAbsent(ctx, e.Object, data); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Catalog.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, e.ID, "file://"+copyDir); err != nil {
		t.Fatal(err)
	}
	copySession := func() *Session {
		cc := *c
		b := *c.Spec.Backups
		b.Storage, b.Copies = b.Copies[0], nil
		cc.Spec.Backups = &b
		cs, err := Open(ctx, Options{Cluster: &cc})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	es, err := copySession().ListCopy(ctx, "neo4j")
	if err != nil || len(es) != 1 || es[0].ID != e.ID || len(es[0].Copies) != 1 || es[0].Copies[0].URL != "file://"+copyDir || es[0].CiphertextSHA256 != e.CiphertextSHA256 {
		t.Fatalf("the copy's catalogue: %+v, %v", es, err)
	}

	got, err := s.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := catalog.Verification{Result: catalog.VerificationPassed, Started: time.Now(), Duration: time.Second, Method: "neo4j-admin database load+check", Where: "test"}
	if _, err := s.recordVerification(ctx, got, v); err != nil {
		t.Fatal(err)
	}
	es, err = copySession().ListCopy(ctx, "neo4j")
	if err != nil || len(es) != 1 || len(es[0].Verifications) != 1 || es[0].Verifications[0].Result != catalog.VerificationPassed {
		t.Fatalf("the copy's catalogue after a verification: %+v, %v", es, err)
	}

	plan := PrunePlan{Cluster: "prod", Databases: []DatabaseDecision{{Database: "neo4j", Decision: retention.Decision{Delete: []retention.Item{{ID: e.ID}}}}}}
	if n, err := s.ApplyPrune(ctx, plan); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	cs := copySession()
	if _, err := cs.Catalog.Get(ctx, e.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("the copy's entry after prune: %v, want gone", err)
	}

	// An older neo4jctl's copy: the artifact alone.
	if err := cs.Storage.PutIfAbsent(ctx, e.Object, data); err != nil {
		t.Fatal(err)
	}
	_, err = cs.ListCopy(ctx, "neo4j")
	if !errors.Is(err, ErrNoCopyCatalogue) || !strings.Contains(err.Error(), "rerun neo4jctl backup copy ID --to file://"+copyDir) {
		t.Errorf("a copy without entries: %v, want ErrNoCopyCatalogue naming backup copy", err)
	}
}
