package observe

import (
	"context"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Per database: the newest backup, the newest verification of any of its
// backups (by start, not by the backup's age) and the newest that passed.
func TestVerificationsOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	entry := func(db string, at time.Time, vs ...catalog.Verification) catalog.Entry {
		id, err := catalog.NewID("graph", db, at, catalog.Full, catalog.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		return catalog.Entry{ID: id, Cluster: "graph", Database: db, Type: catalog.Full, ChainID: id, Created: at, Verifications: vs}
	}
	v := func(at time.Time, r catalog.VerificationResult) catalog.Verification {
		return catalog.Verification{Result: r, Started: at, Method: "m", Where: "local"}
	}
	old := entry("neo4j", t0, v(t0.Add(time.Hour), catalog.VerificationPassed), v(t0.Add(50*time.Hour), catalog.VerificationFailed))
	newer := entry("neo4j", t0.Add(24*time.Hour), v(t0.Add(25*time.Hour), catalog.VerificationPassed))
	sys := entry("system", t0)
	got := VerificationsOf([]catalog.Entry{newer, sys, old})
	if len(got) != 2 || got[0].Name != "neo4j" || got[1].Name != "system" {
		t.Fatalf("got %+v, want neo4j and system", got)
	}
	n := got[0]
	if n.LastBackupID != newer.ID || n.Last == nil || n.Last.BackupID != old.ID || n.Last.Passed || n.LastPassed == nil || n.LastPassed.BackupID != newer.ID {
		t.Errorf("neo4j: got %+v last %+v passed %+v; want newest backup %s, last verification the failed one of %s, last passed of %s", n, n.Last, n.LastPassed, newer.ID, old.ID, newer.ID)
	}
	if s := got[1]; s.Last != nil || s.LastPassed != nil || !s.LastBackup.Equal(t0) {
		t.Errorf("system: got %+v, want a backup and no verification", s)
	}
}

// No spec.backups: no observation, no catalogue read.
func TestVerificationsWithoutBackups(t *testing.T) {
	if got := Verifications(context.Background(), &clusterfile.Cluster{}, t.TempDir()); got != nil {
		t.Errorf("got %+v, want nil", got)
	}
}
