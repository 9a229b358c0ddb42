package restore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

var day = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func at(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }

// entry builds a catalogued online backup of prod/neo4j taken at hour h
// with transactions lo..hi; parent is the entry it continues (nil: a full).
func entry(t *testing.T, h int, lo, hi int64, parent *catalog.Entry) catalog.Entry {
	t.Helper()
	typ := catalog.Full
	if parent != nil {
		typ = catalog.Diff
	}
	id, err := catalog.NewID("prod", "neo4j", at(h), typ, fmt.Sprintf("t%03d", h))
	if err != nil {
		t.Fatal(err)
	}
	e := catalog.Entry{ID: id, Cluster: "prod", Database: "neo4j", Type: typ, Format: inspect.FormatBackup,
		File: "neo4j-" + at(h).Format("2006-01-02T15-04-05") + ".backup", Created: at(h), LowestTx: lo, HighestTx: hi,
		CiphertextSHA256: fmt.Sprintf("%064x", h)}
	e.ChainID = id
	if parent != nil {
		e.Parent, e.ChainID = parent.ID, parent.ChainID
	}
	return e
}

func copied(e catalog.Entry, url string) catalog.Entry {
	e.Copies = append(e.Copies, catalog.Copy{URL: url, Object: e.Object, SHA256: e.CiphertextSHA256, Verified: e.Created.Add(time.Minute)})
	return e
}

func chainIDs(p Point) string {
	var s []string
	for _, e := range p.Chain {
		s = append(s, e.Created.Format("15h")+string(e.Type[0]))
	}
	return strings.Join(s, " ")
}

func passed(p Point) string {
	var s []string
	for _, x := range p.Passed {
		s = append(s, x.ID[strings.LastIndex(x.ID, "/")+1:strings.LastIndex(x.ID, "-")]+": "+x.Reason)
	}
	return strings.Join(s, "; ")
}

func TestSelect(t *testing.T) {
	f1 := entry(t, 2, 1, 10, nil)
	d1 := entry(t, 8, 11, 20, &f1)
	d2 := entry(t, 14, 21, 30, &d1)
	f2 := entry(t, 20, 1, 35, nil)
	d3 := entry(t, 22, 36, 40, &f2)
	gapped := entry(t, 23, 45, 50, &d3) // transactions 41..44 are in no backup
	other := entry(t, 9, 1, 3, nil)
	other.Database, other.ID = "movies", strings.Replace(other.ID, "/neo4j/", "/movies/", 1)
	const dr = "s3://dr-eu/neo4j"

	tests := []struct {
		name    string
		entries []catalog.Entry
		req     Request
		chain   string
		until   time.Time
		to      time.Time
		passed  string
		err     string
	}{
		{name: "latest skips a differential after a gap",
			entries: []catalog.Entry{f1, d1, d2, f2, d3, gapped, other}, req: Request{Latest: true},
			chain: "20hF 22hD", to: at(22),
			passed: "20261207T230000Z-diff: gap: transactions 41..44 are in no catalogued backup (its parent prod/neo4j/20261207T220000Z-diff-t022 ends at 40)"},
		{name: "until inside a chain is an exact cut of the first backup after it",
			entries: []catalog.Entry{f1, d1, d2, f2, d3}, req: Request{Until: at(10).Add(90 * time.Second)},
			chain: "02hF 08hD 14hD", until: at(10).Add(90 * time.Second), to: at(10).Add(90 * time.Second)},
		{name: "until on a backup's time cuts the next one (restore-until excludes that instant's later commits)",
			entries: []catalog.Entry{f1, d1, d2}, req: Request{Until: at(8)},
			chain: "02hF 08hD 14hD", until: at(8), to: at(8)},
		{name: "until after the last link of a chain replays it whole",
			entries: []catalog.Entry{f1, d1, d2, f2}, req: Request{Until: at(16)},
			chain: "02hF 08hD 14hD", to: at(14)},
		{name: "until before a new full stays in the older chain",
			entries: []catalog.Entry{f1, d1, f2, d3}, req: Request{Until: at(19)},
			chain: "02hF 08hD", to: at(8)},
		{name: "until with the next link missing falls back to the newest whole point, and says why",
			entries: []catalog.Entry{f1, d2}, req: Request{Until: at(10)},
			chain: "02hF", to: at(2),
			passed: "20261207T140000Z-diff: its parent prod/neo4j/20261207T080000Z-diff-t008 is not in the catalogue"},
		{name: "latest names the differential whose parent is gone",
			entries: []catalog.Entry{f1, d2}, req: Request{Latest: true},
			chain: "02hF", to: at(2),
			passed: "20261207T140000Z-diff: its parent prod/neo4j/20261207T080000Z-diff-t008 is not in the catalogue"},
		{name: "never a differential whose full is missing",
			entries: []catalog.Entry{d1, d2}, req: Request{Latest: true},
			err: "no restorable backup of prod/neo4j in the storage (2 backups cannot be restored"},
		{name: "until before the first backup",
			entries: []catalog.Entry{f1, d1}, req: Request{Until: at(1)},
			err: "no restorable backup of prod/neo4j taken before 2026-12-07T01:00:00Z"},
		{name: "an ID restores its chain",
			entries: []catalog.Entry{f1, d1, d2, f2}, req: Request{ID: d1.ID},
			chain: "02hF 08hD", to: at(8)},
		{name: "an ID whose chain is broken is refused",
			entries: []catalog.Entry{f1, d2}, req: Request{ID: d2.ID},
			err: "cannot be restored: its parent"},
		{name: "an ID of another database is refused",
			entries: []catalog.Entry{f1, other}, req: Request{ID: other.ID},
			err: "is a backup of prod/movies, not of prod/neo4j"},
		{name: "from a copy only what was copied there counts",
			entries: []catalog.Entry{copied(f1, dr), copied(d1, dr+"/"), d2, f2, copied(d3, dr)}, req: Request{Latest: true, Location: dr},
			chain: "02hF 08hD", to: at(8),
			passed: "20261207T220000Z-diff: its parent prod/neo4j/20261207T200000Z-full-t020 is not in the catalogue; 20261207T140000Z-diff: not copied to s3://dr-eu/neo4j; 20261207T200000Z-full: not copied to s3://dr-eu/neo4j"},
		{name: "from a copy, an exact cut needs the next link copied too",
			entries: []catalog.Entry{copied(f1, dr), copied(d1, dr), d2}, req: Request{Until: at(10), Location: dr},
			chain: "02hF 08hD", to: at(8),
			passed: "20261207T140000Z-diff: not copied to s3://dr-eu/neo4j"},
		{name: "a copy whose digest differs is not a copy",
			entries: func() []catalog.Entry {
				bad := copied(f1, dr)
				bad.Copies[0].SHA256 = strings.Repeat("0", 64)
				return []catalog.Entry{bad}
			}(), req: Request{Latest: true, Location: dr},
			err: "no restorable backup of prod/neo4j in copy s3://dr-eu/neo4j"},
		{name: "an ID never copied to the location is refused",
			entries: []catalog.Entry{f1}, req: Request{ID: f1.ID, Location: dr},
			err: "was never copied to s3://dr-eu/neo4j"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Cluster, tt.req.Database = "prod", "neo4j"
			p, err := Select(tt.entries, tt.req)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v (chain %s), want an error containing %q", err, chainIDs(p), tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := chainIDs(p); got != tt.chain {
				t.Errorf("chain: got %s, want %s", got, tt.chain)
			}
			if !p.RestoreUntil.Equal(tt.until) {
				t.Errorf("restore until: got %v, want %v", p.RestoreUntil, tt.until)
			}
			if !p.RestoredTo.Equal(tt.to) {
				t.Errorf("restored to: got %v, want %v", p.RestoredTo, tt.to)
			}
			if got := passed(p); got != tt.passed {
				t.Errorf("passed over:\ngot  %s\nwant %s", got, tt.passed)
			}
		})
	}
}

func TestSelectDumpsAreNeverCut(t *testing.T) {
	var es []catalog.Entry
	for _, h := range []int{2, 14} {
		e := entry(t, h, 0, 0, nil)
		e.Format, e.File = inspect.FormatDump, "neo4j.dump"
		es = append(es, e)
	}
	p, err := Select(es, Request{Cluster: "prod", Database: "neo4j", Until: at(10)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cut() || chainIDs(p) != "02hF" || !p.RestoredTo.Equal(at(2)) {
		t.Errorf("got chain %s cut %v to %v, want the 02h dump whole", chainIDs(p), p.Cut(), p.RestoredTo)
	}
}

func TestSelectNeedsExactlyOneOf(t *testing.T) {
	for _, r := range []Request{{}, {Latest: true, ID: "x"}, {Latest: true, Until: at(1)}} {
		r.Cluster, r.Database = "prod", "neo4j"
		if _, err := Select(nil, r); err == nil || errors.Is(err, ErrNoPoint) {
			t.Errorf("%+v: got %v, want a usage error", r, err)
		}
	}
}

func TestAdminRestoreArgs(t *testing.T) {
	f1 := entry(t, 2, 1, 10, nil)
	d1 := entry(t, 8, 11, 20, &f1)
	p := Point{Chain: []catalog.Entry{f1, d1}, RestoreUntil: time.Date(2026, 12, 7, 7, 30, 15, 0, time.FixedZone("CET", 3600))}
	got := p.AdminRestoreArgs("/work/chain/", "neo4j", false)
	want := []string{"database", "restore", "--from-path=/work/chain/neo4j-2026-12-07T08-00-00.backup", "--restore-until=2026-12-07 06:30:15", "neo4j"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	p.RestoreUntil = time.Time{}
	got = p.AdminRestoreArgs("/w", "neo4j", true)
	want = []string{"database", "restore", "--from-path=/w/neo4j-2026-12-07T08-00-00.backup", "--overwrite-destination=true", "neo4j"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}
