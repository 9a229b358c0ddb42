package retention

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// sim builds catalogue entries the way the agent links them: a full starts a
// chain, a differential continues a parent with contiguous transactions.
type sim struct {
	t       testing.TB
	cluster string
	db      string
	n       int
	tx      int64
	entries []catalog.Entry
	last    *catalog.Entry
	tips    map[string]int64 // last transaction each entry's chain holds
}

func (s *sim) add(at time.Time, typ catalog.Type, parent *catalog.Entry, txs int64) catalog.Entry {
	s.t.Helper()
	s.n++
	id, err := catalog.NewID(s.cluster, s.db, at, typ, fmt.Sprintf("t%05d", s.n))
	if err != nil {
		s.t.Fatal(err)
	}
	e := catalog.Entry{ID: id, Cluster: s.cluster, Database: s.db, Type: typ, Created: at.UTC()}
	if s.tips == nil {
		s.tips = map[string]int64{}
	}
	switch {
	case typ == catalog.Full:
		s.tx += txs
		e.LowestTx, e.HighestTx, e.ChainID = 1, s.tx, id
		s.tips[id] = e.HighestTx
	case txs == 0: // empty differential
		e.Parent, e.ChainID = parent.ID, parent.ChainID
		s.tips[id] = s.tips[parent.ID]
	default:
		e.Parent, e.ChainID = parent.ID, parent.ChainID
		e.LowestTx, e.HighestTx = s.tips[parent.ID]+1, s.tips[parent.ID]+txs
		s.tips[id] = e.HighestTx
		s.tx = max(s.tx, e.HighestTx)
	}
	s.entries = append(s.entries, e)
	s.last = &s.entries[len(s.entries)-1]
	return e
}

func ids(items []Item) map[string]Item {
	m := map[string]Item{}
	for _, it := range items {
		m[it.ID] = it
	}
	return m
}

// A year of daily fulls at 00:00 and differentials at 06:00, 12:00 and
// 18:00 through GFS 7/4/12/5, planned at 2026-01-01T00:00Z.
func TestYearOfDailyFullsAndSixHourlyDiffs(t *testing.T) {
	s := &sim{t: t, cluster: "prod", db: "neo4j"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for day := start; day.Year() == 2025; day = day.AddDate(0, 0, 1) {
		f := s.add(day, catalog.Full, nil, 100)
		p := f
		for _, h := range []int{6, 12, 18} {
			p = s.add(day.Add(time.Duration(h)*time.Hour), catalog.Diff, &p, 10)
		}
	}
	if len(s.entries) != 365*4 {
		t.Fatalf("%d entries", len(s.entries))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := Plan(s.entries, Policy{Daily: 7, Weekly: 4, Monthly: 12, Yearly: 5}, now)

	// The expectation, worked out from the calendar by hand. Each kept day
	// keeps its 18:00 differential (the day's newest backup) and so its
	// whole chain: the 00:00 full and the 06:00 and 12:00 differentials.
	//   daily 7:    Dec 25 … Dec 31
	//   weekly 4:   2026-W01 (Mon Dec 29 – Sun Jan 4) → Dec 31; 2025-W52 → Sun Dec 28;
	//               2025-W51 → Sun Dec 21; 2025-W50 → Sun Dec 14
	//   monthly 12: the last day of every month of 2025
	//   yearly 5:   only 2025 has backups → Dec 31
	wantDays := []string{
		"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30",
		"2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30",
		"2025-12-14", "2025-12-21",
		"2025-12-25", "2025-12-26", "2025-12-27", "2025-12-28", "2025-12-29", "2025-12-30", "2025-12-31",
	}
	want := map[string]bool{}
	for _, e := range s.entries {
		for _, day := range wantDays {
			if e.Created.Format("2006-01-02") == day {
				want[e.ID] = true
			}
		}
	}
	if len(want) != 80 {
		t.Fatalf("expectation has %d backups, want 20 days x 4", len(want))
	}
	kept := ids(d.Keep)
	for id := range want {
		if _, ok := kept[id]; !ok {
			t.Errorf("not kept: %s", id)
		}
	}
	for id, it := range kept {
		if !want[id] {
			t.Errorf("kept but not expected: %s %v", id, it.Reasons)
		}
	}
	if len(d.Keep)+len(d.Delete) != len(s.entries) {
		t.Errorf("keep %d + delete %d != %d", len(d.Keep), len(d.Delete), len(s.entries))
	}
	// No kept differential without its full (and the whole chain between).
	byID := map[string]catalog.Entry{}
	for _, e := range s.entries {
		byID[e.ID] = e
	}
	for id := range kept {
		for cur := byID[id]; cur.Parent != ""; cur = byID[cur.Parent] {
			if _, ok := kept[cur.Parent]; !ok {
				t.Errorf("kept %s without %s", id, cur.Parent)
			}
		}
	}
	// Dec 31 18:00 represents its day, week, month and year, and is the
	// newest restorable backup (none is verified).
	last := s.entries[len(s.entries)-1]
	var rs []string
	for _, r := range kept[last.ID].Reasons {
		rs = append(rs, r.String())
	}
	if got := strings.Join(rs, ", "); got != "daily 2025-12-31, weekly 2026-W01, monthly 2025-12, yearly 2025, newest-restorable: no backup of the database is verified" {
		t.Errorf("reasons of the newest: %s", got)
	}
	full := byID[byID[byID[last.Parent].Parent].Parent]
	if r := kept[full.ID].Reasons; len(r) != 1 || r[0].Rule != NeededBy || r[0].By != last.ID {
		t.Errorf("reasons of Dec 31's full: %v", r)
	}
	checkDeleteOrder(t, s.entries, d)
	for _, it := range d.Delete {
		if len(it.Reasons) != 1 || it.Reasons[0].Rule != NoSlot {
			t.Errorf("%s deleted for %v", it.ID, it.Reasons)
		}
	}
}

// checkDeleteOrder: a backup is deleted before anything it depends on.
func checkDeleteOrder(t *testing.T, entries []catalog.Entry, d Decision) {
	t.Helper()
	pos := map[string]int{}
	for i, it := range d.Delete {
		pos[it.ID] = i
	}
	byID := map[string]catalog.Entry{}
	for _, e := range entries {
		byID[e.ID] = e
	}
	for id, i := range pos {
		seen := map[string]bool{}
		for cur := byID[id]; cur.Parent != "" && !seen[cur.Parent]; cur = byID[cur.Parent] {
			seen[cur.Parent] = true
			if j, ok := pos[cur.Parent]; ok && j < i {
				t.Errorf("%s (delete #%d) depends on %s deleted before it (#%d)", id, i, cur.Parent, j)
			}
		}
	}
}

func verified(e *catalog.Entry, ok bool) {
	r := catalog.VerificationFailed
	if ok {
		r = catalog.VerificationPassed
	}
	e.Verifications = append(e.Verifications, catalog.Verification{Result: r, Started: e.Created.Add(time.Hour), Method: "test"})
}

func TestProtections(t *testing.T) {
	s := &sim{t: t, cluster: "prod", db: "neo4j"}
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	f1 := s.add(base, catalog.Full, nil, 10)
	d1 := s.add(base.Add(time.Hour), catalog.Diff, &f1, 5)
	f2 := s.add(base.Add(24*time.Hour), catalog.Full, nil, 10)
	verified(&s.entries[1], true) // d1 verified
	verified(&s.entries[2], false)
	now := base.Add(30 * 24 * time.Hour)
	// Keep nothing by GFS: the newest verified backup (d1) and its full stay.
	d := Plan(s.entries, Policy{}, now)
	kept := ids(d.Keep)
	if len(kept) != 2 || kept[d1.ID].Reasons[0].Rule != NewestVerified || kept[f1.ID].Reasons[0].By != d1.ID {
		t.Fatalf("keep %+v", d.Keep)
	}
	if len(d.Delete) != 1 || d.Delete[0].ID != f2.ID {
		t.Fatalf("delete %+v", d.Delete)
	}
	// maxAge does not beat the newest verified backup.
	d = Plan(s.entries, Policy{Daily: 3, MaxAge: 24 * time.Hour}, now)
	if _, ok := ids(d.Keep)[d1.ID]; !ok {
		t.Fatal("maxAge deleted the newest verified backup")
	}
	if it := ids(d.Delete)[f2.ID]; it.Reasons[0].Rule != MaxAge {
		t.Errorf("f2 deleted for %v", it.Reasons)
	}

	// A young differential whose full is not catalogued (yet) is kept by
	// minAge, with the present parent it was built on; an old orphan goes.
	s2 := &sim{t: t, cluster: "prod", db: "movies"}
	old := s2.add(base, catalog.Full, nil, 10)
	oldDiff := s2.add(base.Add(time.Hour), catalog.Diff, &old, 3)
	youngFull := s2.add(now.Add(-3*time.Hour), catalog.Full, nil, 10)
	youngDiff := s2.add(now.Add(-2*time.Hour), catalog.Diff, &youngFull, 3)
	youngDiff2 := s2.add(now.Add(-time.Hour), catalog.Diff, &youngDiff, 3)
	entries := []catalog.Entry{s2.entries[1], s2.entries[3], s2.entries[4]} // old full and young full lost
	d = Plan(entries, Policy{MinAge: 150 * time.Minute}, now)
	kept = ids(d.Keep)
	if _, ok := kept[youngDiff2.ID]; !ok {
		t.Errorf("young orphan not kept: %+v", d.Delete)
	}
	if r := kept[youngDiff.ID].Reasons; len(r) != 2 || r[0].Rule != MinAge || r[1].Rule != NeededBy {
		t.Errorf("young diff reasons %v", r)
	}
	del := ids(d.Delete)
	if r := del[oldDiff.ID].Reasons; len(r) != 1 || r[0].Rule != Orphan || !strings.Contains(r[0].Detail, "not in the catalogue") {
		t.Errorf("old orphan: %v", r)
	}
	_ = old
}

func TestInvalidPolicyKeepsEverything(t *testing.T) {
	s := &sim{t: t, cluster: "prod", db: "neo4j"}
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	f := s.add(base, catalog.Full, nil, 10)
	s.add(base.Add(time.Hour), catalog.Diff, &f, 1)
	p := Policy{Daily: -1, MinAge: 48 * time.Hour, MaxAge: 24 * time.Hour}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "daily: -1 is negative") || !strings.Contains(err.Error(), "maxAge: 24h0m0s is below minAge") {
		t.Fatalf("Validate: %v", err)
	}
	d := Plan(s.entries, p, base.AddDate(1, 0, 0))
	if len(d.Delete) != 0 || len(d.Keep) != 2 || d.Keep[0].Reasons[0].Rule != InvalidPolicy {
		t.Fatalf("invalid policy decision %+v", d)
	}
}

// gfsReps is an independent statement of the GFS rule: group the
// candidates by period, take the newest of each, and keep the n most recent
// periods.
func gfsReps(cands []catalog.Entry, n int, period func(time.Time) string) []string {
	newest := map[string]catalog.Entry{}
	for _, e := range cands {
		k := period(e.Created)
		if cur, ok := newest[k]; !ok || e.Created.After(cur.Created) || (e.Created.Equal(cur.Created) && e.ID > cur.ID) {
			newest[k] = e
		}
	}
	var periods []string
	for k := range newest {
		periods = append(periods, k)
	}
	sort.Slice(periods, func(i, j int) bool { return newest[periods[i]].Created.After(newest[periods[j]].Created) })
	var out []string
	for i := 0; i < n && i < len(periods); i++ {
		out = append(out, newest[periods[i]].ID)
	}
	return out
}

var periods = map[Rule]func(time.Time) string{
	Daily:   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	Weekly:  func(t time.Time) string { y, w := t.UTC().ISOWeek(); return fmt.Sprint(y, "/", w) },
	Monthly: func(t time.Time) string { return t.UTC().Format("2006-01") },
	Yearly:  func(t time.Time) string { return fmt.Sprint(t.UTC().Year()) },
}

// randomCase makes a random catalogue: one or two databases, random
// intervals, fulls and differentials (some empty, some forking from an
// older backup), entries lost afterwards (gaps, missing fulls) and random
// verifications; and a random policy.
func randomCase(r *rand.Rand, t testing.TB) ([]catalog.Entry, Policy, time.Time) {
	var all []catalog.Entry
	start := time.Date(2020+r.Intn(5), time.Month(1+r.Intn(12)), 1+r.Intn(28), r.Intn(24), 0, 0, 0, time.UTC)
	var end time.Time
	for dbi := 0; dbi < 1+r.Intn(3); dbi++ {
		// Two clusters may hold a database of the same name: separate.
		s := &sim{t: t, cluster: []string{"prod", "dr"}[dbi%2], db: fmt.Sprintf("db%d", dbi/2)}
		at := start
		pFull := 0.05 + r.Float64()*0.6
		step := []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 5 * 24 * time.Hour}[r.Intn(4)]
		for i, n := 0, r.Intn(120); i < n; i++ {
			at = at.Add(time.Duration(1+r.Int63n(int64(2*step/time.Second))) * time.Second)
			switch {
			case s.last == nil || r.Float64() < pFull:
				s.add(at, catalog.Full, nil, 1+r.Int63n(50))
			case r.Float64() < 0.1: // fork from an older backup
				p := s.entries[r.Intn(len(s.entries))]
				s.add(at, catalog.Diff, &p, 1+r.Int63n(20))
			case r.Float64() < 0.1:
				s.add(at, catalog.Diff, s.last, 0)
			default:
				s.add(at, catalog.Diff, s.last, 1+r.Int63n(20))
			}
		}
		if at.After(end) {
			end = at
		}
		all = append(all, s.entries...)
	}
	var kept []catalog.Entry
	for _, e := range all {
		if r.Float64() < 0.08 {
			continue // lost: a gap or a missing full
		}
		if r.Float64() < 0.1 {
			verified(&e, r.Float64() < 0.7)
		}
		kept = append(kept, e)
	}
	r.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	p := Policy{Daily: r.Intn(8), Weekly: r.Intn(6), Monthly: r.Intn(13), Yearly: r.Intn(4)}
	if r.Intn(6) == 0 {
		p = Policy{} // only the protections and minAge decide
	}
	if r.Intn(3) > 0 {
		p.MinAge = time.Duration(r.Int63n(int64(10 * 24 * time.Hour)))
	}
	if r.Intn(2) == 0 {
		p.MaxAge = p.MinAge + time.Duration(r.Int63n(int64(400*24*time.Hour)))
	}
	now := end.Add(time.Duration(r.Int63n(int64(20 * 24 * time.Hour))))
	return kept, p, now
}

func TestPlanProperties(t *testing.T) {
	const cases = 600
	r := rand.New(rand.NewSource(20261207))
	for c := 0; c < cases; c++ {
		entries, p, now := randomCase(r, t)
		d := Plan(entries, p, now)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d (policy %+v, now %s, %d entries): %s", c, p, now.Format(time.RFC3339), len(entries), fmt.Sprintf(format, args...))
		}
		byID := map[string]catalog.Entry{}
		for _, e := range entries {
			byID[e.ID] = e
		}
		// keep ∪ delete = input, disjoint, each once, each with a reason.
		seen := map[string]string{}
		for name, items := range map[string][]Item{"keep": d.Keep, "delete": d.Delete} {
			for _, it := range items {
				if prev, dup := seen[it.ID]; dup {
					fail("%s in %s and %s", it.ID, prev, name)
				}
				seen[it.ID] = name
				if _, ok := byID[it.ID]; !ok {
					fail("%s is not an input", it.ID)
				}
				if len(it.Reasons) == 0 {
					fail("%s %s without a reason", name, it.ID)
				}
				for _, rs := range it.Reasons {
					isDelete := rs.Rule == NoSlot || rs.Rule == MaxAge || rs.Rule == Orphan
					if isDelete != (name == "delete") {
						fail("%s %s with reason %v", name, it.ID, rs)
					}
				}
			}
		}
		if len(seen) != len(byID) {
			fail("%d decided, %d inputs", len(seen), len(byID))
		}
		keep := ids(d.Keep)
		// The expected keep set, stated independently of Plan: GFS
		// representatives, young backups, the protected newest, and
		// everything those depend on.
		g := catalog.Assemble(entries)
		want := map[string]bool{}
		groups := map[string][]catalog.Entry{}
		for _, e := range entries {
			groups[e.Cluster+"/"+e.Database] = append(groups[e.Cluster+"/"+e.Database], e)
		}
		for _, es := range groups {
			var cands []catalog.Entry
			var newestV, newestR, newest *catalog.Entry
			for i := range es {
				e := &es[i]
				if g.Restorable(e.ID) && (p.MaxAge == 0 || now.Sub(e.Created) <= p.MaxAge) {
					cands = append(cands, *e)
				}
				if now.Sub(e.Created) < p.MinAge {
					want[e.ID] = true
					if _, ok := keep[e.ID]; !ok {
						fail("young %s (%s old, minAge %s) not kept", e.ID, now.Sub(e.Created), p.MinAge)
					}
				}
				newer := func(a *catalog.Entry) bool {
					return a == nil || e.Created.After(a.Created) || (e.Created.Equal(a.Created) && e.ID > a.ID)
				}
				if e.Verified() && newer(newestV) {
					newestV = e
				}
				if g.Restorable(e.ID) && newer(newestR) {
					newestR = e
				}
				if newer(newest) {
					newest = e
				}
			}
			prot := newestV
			if prot == nil {
				prot = newestR
			}
			if prot == nil {
				prot = newest
			}
			if prot != nil {
				want[prot.ID] = true
				if _, ok := keep[prot.ID]; !ok {
					fail("protected newest %s (verified %v) not kept", prot.ID, prot.Verified())
				}
			}
			for rule, n := range map[Rule]int{Daily: p.Daily, Weekly: p.Weekly, Monthly: p.Monthly, Yearly: p.Yearly} {
				for _, id := range gfsReps(cands, n, periods[rule]) {
					want[id] = true
					if _, ok := keep[id]; !ok {
						fail("%s representative %s not kept", rule, id)
					}
				}
			}
		}
		for id := range want {
			seenP := map[string]bool{}
			for cur := byID[id]; cur.Parent != "" && !seenP[cur.Parent]; cur = byID[cur.Parent] {
				if _, ok := byID[cur.Parent]; !ok {
					break
				}
				seenP[cur.Parent] = true
				want[cur.Parent] = true
			}
		}
		for id := range keep {
			if !want[id] {
				fail("%s kept for %v, no rule asks for it", id, keep[id].Reasons)
			}
		}
		for id := range want {
			if _, ok := keep[id]; !ok {
				fail("%s should be kept (a representative, young, protected or a dependency)", id)
			}
		}
		// Chain closure: nothing kept depends on something deleted.
		for id := range keep {
			for cur := byID[id]; cur.Parent != ""; cur = byID[cur.Parent] {
				if _, present := byID[cur.Parent]; !present {
					break
				}
				if _, ok := keep[cur.Parent]; !ok {
					fail("kept %s depends on deleted %s", id, cur.Parent)
				}
			}
		}
		// maxAge: anything older that is kept is kept by a protection.
		if p.MaxAge > 0 {
			for id, it := range keep {
				if now.Sub(byID[id].Created) <= p.MaxAge {
					continue
				}
				for _, rs := range it.Reasons {
					if rs.Rule == Daily || rs.Rule == Weekly || rs.Rule == Monthly || rs.Rule == Yearly {
						fail("%s older than maxAge kept by %v", id, rs)
					}
				}
			}
		}
		checkDeleteOrder(t, entries, d)
		// The decision does not depend on the order of the input.
		shuffled := append([]catalog.Entry(nil), entries...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		a, _ := json.Marshal(d)
		b, _ := json.Marshal(Plan(shuffled, p, now))
		if string(a) != string(b) {
			fail("the decision changes with the order of the input")
		}
		for i := 1; i < len(d.Keep); i++ {
			if d.Keep[i].Created.Before(d.Keep[i-1].Created) {
				fail("keep list not chronological")
			}
		}
	}
}

func TestDecisionJSON(t *testing.T) {
	s := &sim{t: t, cluster: "prod", db: "neo4j"}
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	f := s.add(base, catalog.Full, nil, 10)
	s.add(base.Add(time.Hour), catalog.Diff, &f, 1)
	s.entries[0].CiphertextSize = 4096
	s.entries[0].Copies = []catalog.Copy{{URL: "gs://dr/p"}}
	p := Policy{Daily: 7, Weekly: 4, Monthly: 12, Yearly: 5, MinAge: 24 * time.Hour, MaxAge: 400 * 24 * time.Hour}
	d := Plan(s.entries, p, base.Add(2*time.Hour))
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"policy":{"daily":7,"weekly":4,"monthly":12,"yearly":5,"minAge":"24h0m0s","maxAge":"9600h0m0s"}`,
		`"size":4096,"copies":1,"reasons":[{"rule":"min-age","detail":"2h old"}`, `"delete":[]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}
	if sum := d.Summary(); sum != (Summary{Kept: 2}) {
		t.Errorf("summary %+v", sum)
	}
	d2 := Plan(s.entries, Policy{}, base.AddDate(0, 0, 2))
	if sum := d2.Summary(); sum != (Summary{Kept: 2}) {
		t.Errorf("summary %+v", sum)
	}
	s.add(base.Add(2*time.Hour), catalog.Full, nil, 12)
	d3 := Plan(s.entries, Policy{}, base.AddDate(0, 0, 2))
	if sum := d3.Summary(); sum != (Summary{Kept: 1, Deleted: 2, FreedBytes: 4096}) {
		t.Errorf("summary %+v", sum)
	}
	var back Decision
	if err := json.Unmarshal(data, &back); err != nil || back.Policy != p || len(back.Keep) != 2 {
		t.Fatalf("round trip: %+v %v", back.Policy, err)
	}
}
