package observe

import (
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Each database's newest entry and the length of its chain; a scheduled
// database the catalogue lacks is listed with no backup.
func TestNewestBackups(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	entry := func(db string, at time.Time, typ catalog.Type, parent *catalog.Entry, lo, hi int64) catalog.Entry {
		id, err := catalog.NewID("graph", db, at, typ, catalog.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		e := catalog.Entry{ID: id, Cluster: "graph", Database: db, Type: typ, ChainID: id, Created: at, LowestTx: lo, HighestTx: hi}
		if parent != nil {
			e.ChainID, e.Parent = parent.ChainID, parent.ID
		}
		return e
	}
	full := entry("system", t0, catalog.Full, nil, 1, 5)
	diff := entry("system", t0.Add(6*time.Hour), catalog.Diff, &full, 6, 6)
	old := entry("neo4j", t0, catalog.Full, nil, 1, 5)
	newer := entry("neo4j", t0.Add(24*time.Hour), catalog.Full, nil, 1, 9)
	got := newestBackups([]catalog.Entry{newer, full, old, diff}, []string{"movies"})
	want := map[string]struct {
		at    time.Time
		chain int
	}{"movies": {}, "system": {diff.Created, 2}, "neo4j": {newer.Created, 1}}
	if len(got) != len(want) || got[0].Name != "movies" {
		t.Fatalf("got %+v; want movies (scheduled) first, then system and neo4j", got)
	}
	for _, d := range got {
		w := want[d.Name]
		if !d.LastSuccess.Equal(w.at) || d.ChainLength != w.chain {
			t.Errorf("%s: got %s chain %d, want %s chain %d", d.Name, d.LastSuccess, d.ChainLength, w.at, w.chain)
		}
	}
}

// "*" is every database: those the cluster file declares must have one.
func TestScheduledDatabases(t *testing.T) {
	c := &clusterfile.Cluster{}
	c.Spec.Databases = []clusterfile.Database{{Name: "movies"}}
	c.Spec.Backups = &clusterfile.Backups{Schedule: &clusterfile.BackupSchedule{Databases: []string{"*"}}}
	if got := scheduledDatabases(c); len(got) != 1 || got[0] != "movies" {
		t.Errorf("*: got %q, want [movies]", got)
	}
	c.Spec.Backups.Schedule.Databases = []string{"neo4j", "system"}
	if got := scheduledDatabases(c); len(got) != 2 || got[1] != "system" {
		t.Errorf("named: got %q, want [neo4j system]", got)
	}
}
