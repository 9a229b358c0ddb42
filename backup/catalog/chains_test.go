package catalog

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

// manualEntries catalogues the artifacts of the Operations Manual's inspect
// example (backup-restore/inspect.adoc, "Listing the metadata of the backup
// files"; fixture in backup/inspect/testdata) the way the agent would: in
// the order they were taken, each linked to what was catalogued before it.
func manualEntries(t *testing.T) []Entry {
	t.Helper()
	f, err := os.Open("../inspect/testdata/manual-5.26-show-metadata-empty.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arts, err := inspect.ParseTabular("manual", f)
	if err != nil {
		t.Fatal(err)
	}
	// The table lists newest first; catalogue oldest first.
	var out []Entry
	for i := len(arts) - 1; i >= 0; i-- {
		e, err := FromArtifact("prod", arts[i], fmt.Sprintf("t%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		e.PlaintextSHA256, e.CiphertextSHA256, e.KeyID = digest("p"+e.ID), digest("c"+e.ID), "1"
		if err := Link(out, &e); err != nil {
			t.Fatalf("Link(%s): %v", e.File, err)
		}
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func files(es []Entry) string {
	var s []string
	for _, e := range es {
		s = append(s, strings.TrimSuffix(e.File, ".backup"))
	}
	return strings.Join(s, " ")
}

func TestChainsOfTheManualExample(t *testing.T) {
	es := manualEntries(t)
	g := Assemble(es)
	var got []string
	for _, c := range g.Chains() {
		got = append(got, files(c.Members))
	}
	// malmo: full 1..5, empty, diff 6..6, diff 7..7, empty; then two fulls
	// (1..7 and 1..8) that each start a chain. london: full 1..5, diff 6..6.
	want := []string{
		"malmo-2024-10-07T16-00-07 malmo-2024-10-07T16-00-19 malmo-2024-10-07T16-00-34 malmo-2024-10-07T16-00-44 malmo-2024-10-07T16-00-50",
		"malmo-2024-10-07T16-01-08",
		"malmo-2024-10-07T16-01-24",
		"london-2024-10-07T16-03-51 london-2024-10-07T16-04-05",
		"neo4j-2024-10-07T16-05-37",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("chains:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if o := g.Orphans(); len(o) != 0 {
		t.Fatalf("orphans %+v", o)
	}
	// Restoring the 16:00:44 differential replays the full, the empty and
	// the 6..6 differential first.
	byFile := map[string]Entry{}
	for _, e := range es {
		byFile[strings.TrimSuffix(e.File, ".backup")] = e
	}
	p, err := g.Path(byFile["malmo-2024-10-07T16-00-44"].ID)
	if err != nil || len(p) != 4 || p[0] != byFile["malmo-2024-10-07T16-00-07"].ID || p[2] != byFile["malmo-2024-10-07T16-00-34"].ID {
		t.Fatalf("path %v %v", p, err)
	}

	// A differential 8..8 taken after the full 1..7 continues that full (the
	// newest backup ending at 7), not the older chain whose tip is also 7.
	d8 := entry(t, "prod", "malmo", time.Date(2024, 10, 7, 16, 1, 15, 0, time.UTC), Diff, "d008", 8, 8)
	d8.DatabaseID = byFile["malmo-2024-10-07T16-00-07"].DatabaseID
	if err := Link(es, &d8); err != nil {
		t.Fatal(err)
	}
	if d8.Parent != byFile["malmo-2024-10-07T16-01-08"].ID || d8.ChainID != d8.Parent {
		t.Errorf("8..8 linked to %s (chain %s)", d8.Parent, d8.ChainID)
	}
	// A differential starting at 10 continues nothing: the catalogue has no
	// backup ending at 9.
	d10 := entry(t, "prod", "malmo", time.Date(2024, 10, 7, 16, 2, 0, 0, time.UTC), Diff, "d010", 10, 12)
	d10.DatabaseID = d8.DatabaseID
	if err := Link(es, &d10); err == nil || !strings.Contains(err.Error(), "ends at transaction 9") {
		t.Errorf("Link of 10..12: %v", err)
	}
	// A recreated database with the same name (another DATABASE ID) does not
	// continue the old one's chain.
	other := entry(t, "prod", "london", time.Date(2024, 10, 7, 16, 5, 0, 0, time.UTC), Diff, "d007", 7, 7)
	other.DatabaseID = "another-id"
	if err := Link(es, &other); err == nil {
		t.Errorf("Link across database ids: parent %s", other.Parent)
	}
}

func TestChainGapsAndMissingParents(t *testing.T) {
	es := manualEntries(t)
	byFile := map[string]Entry{}
	for _, e := range es {
		byFile[strings.TrimSuffix(e.File, ".backup")] = e
	}
	without := func(drop string) []Entry {
		var out []Entry
		for _, e := range es {
			if strings.TrimSuffix(e.File, ".backup") != drop {
				out = append(out, e)
			}
		}
		return out
	}
	// The 6..6 differential is deleted by hand: 7..7 and the empty after it
	// can no longer be restored; the full and the first empty still can.
	g := Assemble(without("malmo-2024-10-07T16-00-34"))
	var orphans []string
	for _, o := range g.Orphans() {
		orphans = append(orphans, strings.TrimSuffix(o.Entry.File, ".backup")+": "+o.Reason)
	}
	if len(orphans) != 2 || !strings.HasPrefix(orphans[0], "malmo-2024-10-07T16-00-44: its parent") ||
		!strings.Contains(orphans[0], "is not in the catalogue") || !strings.HasPrefix(orphans[1], "malmo-2024-10-07T16-00-50: its parent") {
		t.Fatalf("orphans:\n%s", strings.Join(orphans, "\n"))
	}
	if !g.Restorable(byFile["malmo-2024-10-07T16-00-19"].ID) || !g.Restorable(byFile["london-2024-10-07T16-04-05"].ID) {
		t.Error("unrelated entries became orphans")
	}
	// The full of london is gone: its differential is an orphan.
	g = Assemble(without("london-2024-10-07T16-03-51"))
	if _, err := g.Path(byFile["london-2024-10-07T16-04-05"].ID); err == nil {
		t.Error("london's differential restorable without its full")
	}
	// A recorded parent whose range does not meet the child's: a gap.
	bad := byFile["malmo-2024-10-07T16-00-44"]
	bad.Parent = byFile["malmo-2024-10-07T16-00-07"].ID // full 1..5, child starts at 7
	g = Assemble(append(without("malmo-2024-10-07T16-00-44"), bad))
	if _, err := g.Path(bad.ID); err == nil || !strings.Contains(err.Error(), "gap: transactions 6..6 are in no catalogued backup") {
		t.Errorf("gap not detected: %v", err)
	}
	// A parent that is newer than its child is refused.
	late := byFile["london-2024-10-07T16-04-05"]
	late.Parent = byFile["neo4j-2024-10-07T16-05-37"].ID
	g = Assemble(append(without("london-2024-10-07T16-04-05"), late))
	if _, err := g.Path(late.ID); err == nil {
		t.Error("a backup of another database accepted as parent")
	}
}

func TestNewestRestorable(t *testing.T) {
	es := manualEntries(t)
	at := func(s string) time.Time { x, _ := time.Parse("2006-01-02T15:04:05", s); return x }
	without34 := []Entry{}
	for _, e := range es {
		if e.File != "malmo-2024-10-07T16-00-34.backup" {
			without34 = append(without34, e)
		}
	}
	for _, c := range []struct {
		entries  []Entry
		db       string
		notAfter time.Time
		want     string
	}{
		{es, "malmo", time.Time{}, "malmo-2024-10-07T16-01-24.backup"},
		{es, "malmo", at("2024-10-07T16:01:00"), "malmo-2024-10-07T16-00-50.backup"},
		{es, "malmo", at("2024-10-07T16:00:45"), "malmo-2024-10-07T16-00-44.backup"},
		// 6..6 lost: 7..7 and the empty after it cannot be restored; the
		// newest restorable point before 16:01 is the first empty backup.
		{without34, "malmo", at("2024-10-07T16:01:00"), "malmo-2024-10-07T16-00-19.backup"},
		{es, "malmo", at("2024-10-07T16:00:00"), ""},
		{es, "london", time.Time{}, "london-2024-10-07T16-04-05.backup"},
	} {
		e, ok := Assemble(c.entries).NewestRestorable("prod", c.db, c.notAfter)
		if ok != (c.want != "") || e.File != c.want {
			t.Errorf("%s not after %v: %q %v, want %q", c.db, c.notAfter, e.File, ok, c.want)
		}
	}
}
