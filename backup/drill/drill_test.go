package drill

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func entry(t *testing.T, db string, h int, lo, hi int64, parent *catalog.Entry, verified catalog.VerificationResult) catalog.Entry {
	t.Helper()
	typ := catalog.Full
	if parent != nil {
		typ = catalog.Diff
	}
	created := t0.Add(time.Duration(h) * time.Hour)
	id, err := catalog.NewID("prod", db, created, typ, fmt.Sprintf("t%03d", h))
	if err != nil {
		t.Fatal(err)
	}
	e := catalog.Entry{ID: id, Cluster: "prod", Database: db, Type: typ, Format: inspect.FormatBackup, Created: created, LowestTx: lo, HighestTx: hi, ChainID: id}
	if parent != nil {
		e.Parent, e.ChainID = parent.ID, parent.ChainID
	}
	if verified != "" {
		e.Verifications = []catalog.Verification{{Result: verified}}
	}
	return e
}

func TestPointsAndLatestVerified(t *testing.T) {
	f := entry(t, "sales", 2, 1, 10, nil, catalog.VerificationPassed)
	d1 := entry(t, "sales", 8, 11, 20, &f, catalog.VerificationFailed)
	gap := entry(t, "sales", 14, 25, 30, &d1, catalog.VerificationPassed) // 21..24 missing: not restorable
	orphan := entry(t, "movies", 5, 11, 12, &catalog.Entry{ID: "prod/movies/20261206T000000Z-full-zzzz", ChainID: "prod/movies/20261206T000000Z-full-zzzz"}, "")
	es := []catalog.Entry{f, d1, gap, orphan}
	now := t0.Add(20 * time.Hour)
	ps := Points(es, "prod", Databases(es, "prod"), now)
	if len(ps) != 2 || ps[0].Database != "movies" || ps[1].Database != "sales" {
		t.Fatalf("points: %+v", ps)
	}
	if ps[0].Available {
		t.Errorf("movies has only an orphan differential, yet a recovery point: %+v", ps[0])
	}
	s := ps[1]
	if s.Newest != d1.ID || time.Duration(s.RPO) != 12*time.Hour || s.Verified != f.ID {
		t.Errorf("sales: newest %s RPO %s verified %s; want %s, 12h, %s (the gapped one passed verification but cannot be restored)", s.Newest, time.Duration(s.RPO), s.Verified, d1.ID, f.ID)
	}
}

func TestEvaluate(t *testing.T) {
	b := &clusterfile.Backups{Objectives: &clusterfile.BackupObjectives{RPO: "6h", RTO: "30m"}}
	r := &Report{Started: t0, Healthy: t0.Add(31 * time.Minute), Objectives: ObjectivesOf(b),
		Points: []Point{{Database: "sales", Available: true, Newest: "x", RPO: Duration(7 * time.Hour)}, {Database: "movies", Available: true, RPO: Duration(time.Hour)}},
		Steps:  []Step{{Name: "restore sales", Simulated: "kwok completed the load Job's Pod"}}}
	r.Evaluate()
	if r.Met() || len(r.Missed) != 2 || !strings.HasPrefix(r.Missed[0], "RTO: 31m0s achieved, objective 30m0s") || !strings.Contains(r.Missed[1], "RPO of sales") || !r.Simulated {
		t.Errorf("missed %q simulated %v", r.Missed, r.Simulated)
	}
	if time.Duration(r.RTO) != 31*time.Minute {
		t.Errorf("RTO %s, want the wall time start→healthy, 31m", time.Duration(r.RTO))
	}
	r.Healthy, r.Points = t0.Add(10*time.Minute), r.Points[1:]
	r.Evaluate()
	if !r.Met() {
		t.Errorf("within objectives, yet missed %q", r.Missed)
	}
	r.Healthy = time.Time{}
	r.Evaluate()
	if r.Met() || !strings.Contains(r.Missed[0], "never became healthy") {
		t.Errorf("never healthy: missed %q", r.Missed)
	}
	doc, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(doc), `"rto":{"seconds":0`) {
		t.Errorf("json: %s %v", doc, err)
	}
}
