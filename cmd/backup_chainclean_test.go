package cmd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

func chainEntry(t *testing.T, db string, at time.Time, typ catalog.Type, parent *catalog.Entry, lo, hi int64) catalog.Entry {
	t.Helper()
	e, err := catalog.FromArtifact("g", inspect.Artifact{
		File: "file:///backups/chains/" + db + "-" + at.UTC().Format("2006-01-02T15-04-05") + ".backup", Database: db,
		Time: at, Type: typ, Compressed: true, LowestTx: lo, HighestTx: hi,
	}, catalog.NewToken())
	if err != nil {
		t.Fatal(err)
	}
	e.ChainID = e.ID
	if parent != nil {
		e.ChainID, e.Parent = parent.ChainID, parent.ID
	}
	return e
}

// The chain claim keeps the chain a DIFF extends and loses the chains a
// newer full superseded, once every file of them is uploaded.
func TestSupersededChainFiles(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	f1 := chainEntry(t, "neo4j", t0, catalog.Full, nil, 1, 10)
	d1 := chainEntry(t, "neo4j", t0.Add(6*time.Hour), catalog.Diff, &f1, 11, 20)
	f2 := chainEntry(t, "neo4j", t0.Add(24*time.Hour), catalog.Full, nil, 1, 30)
	d2 := chainEntry(t, "neo4j", t0.Add(30*time.Hour), catalog.Diff, &f2, 31, 40)
	m1 := chainEntry(t, "movies", t0, catalog.Full, nil, 1, 5)
	files := []string{f1.File, d1.File, f2.File, d2.File, m1.File, "neo4j.dump", "inspect.txt"}

	got := supersededChainFiles([]catalog.Entry{f1, d1, f2, d2, m1}, files)
	if want := []string{f1.File, d1.File}; !slices.Equal(got, want) {
		t.Errorf("got %v, want the first chain of neo4j %v", got, want)
	}
	// The old chain's differential never uploaded: the whole chain stays.
	if got := supersededChainFiles([]catalog.Entry{f1, f2, d2, m1}, files); len(got) != 0 {
		t.Errorf("with an uncatalogued file: got %v, want nothing removed", got)
	}
	// The newest full not catalogued yet: the previous chain is still
	// the one to extend.
	if got := supersededChainFiles([]catalog.Entry{f1, d1, m1}, files); len(got) != 0 {
		t.Errorf("newest full not catalogued: got %v, want nothing removed", got)
	}
}

// The lock holder removes the superseded chain from the claim's
// directory, only for the databases of its run.
func TestLockCleansChainDirectory(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	f1 := chainEntry(t, "neo4j", t0, catalog.Full, nil, 1, 10)
	f2 := chainEntry(t, "neo4j", t0.Add(24*time.Hour), catalog.Full, nil, 1, 30)
	m1 := chainEntry(t, "movies", t0, catalog.Full, nil, 1, 5)
	m2 := chainEntry(t, "movies", t0.Add(24*time.Hour), catalog.Full, nil, 1, 9)
	dir := t.TempDir()
	for _, e := range []catalog.Entry{f1, f2, m1, m2} {
		if err := os.WriteFile(filepath.Join(dir, e.File), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	io, _, _, errOut := iostreams.Test()
	o := &BackupLockOptions{BackupOptions: BackupOptions{IO: io}, Databases: []string{"neo4j"}, CleanChains: dir}
	o.cleanChains(context.Background(), func(context.Context, string) ([]catalog.Entry, error) {
		return []catalog.Entry{f1, f2, m1, m2}, nil
	})
	var left []string
	des, _ := os.ReadDir(dir)
	for _, d := range des {
		left = append(left, d.Name())
	}
	if want := []string{m1.File, m2.File, f2.File}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v (neo4j's old chain removed, movies untouched: not this run's)\n%s", left, want, errOut)
	}
}
