package catalog

import (
	"fmt"
	"sort"
	"time"
)

// A backup chain is a full backup followed by contiguous differentials
// (Operations Manual 5, backup-restore/online-backup.adoc, "Backup chain");
// the differentials are linked by transaction ranges: a differential starts
// at the transaction after the last one its predecessor holds (inspect.adoc,
// "Inspecting backup chains": full [1,5], then differential [6,6]). An empty
// differential (0..0) holds no transaction and continues whatever precedes
// it.

// Chain is one full and the differentials that continue it, chronologically.
type Chain struct {
	ID       string // the full's ID
	Cluster  string
	Database string
	Members  []Entry
}

// Orphan is an entry that cannot be restored: its full or a link of its
// chain is missing.
type Orphan struct {
	Entry  Entry
	Reason string
}

// Graph is the chain structure of a set of entries: for every restorable
// entry the path of entries a restore replays (its full first, itself last),
// for every other entry why it cannot be restored.
type Graph struct {
	byID   map[string]Entry
	path   map[string][]string
	orphan map[string]string
	order  []string
}

// Assemble links entries into chains through their recorded parents and
// checks each link: same cluster, database and database ID, the parent
// older, and the transaction ranges contiguous.
func Assemble(entries []Entry) *Graph {
	g := &Graph{byID: map[string]Entry{}, path: map[string][]string{}, orphan: map[string]string{}}
	sorted := append([]Entry(nil), entries...)
	SortEntries(sorted)
	for _, e := range sorted {
		if _, dup := g.byID[e.ID]; dup {
			continue
		}
		g.byID[e.ID] = e
		g.order = append(g.order, e.ID)
	}
	for _, id := range g.order {
		g.resolve(id, map[string]bool{})
	}
	return g
}

func (g *Graph) resolve(id string, visiting map[string]bool) {
	if _, done := g.path[id]; done {
		return
	}
	if _, done := g.orphan[id]; done {
		return
	}
	e := g.byID[id]
	fail := func(format string, args ...any) { g.orphan[id] = fmt.Sprintf(format, args...) }
	if e.IsFull() {
		g.path[id] = []string{id}
		return
	}
	if e.Type != Diff {
		fail("type %q is neither FULL nor DIFF", e.Type)
		return
	}
	if e.Parent == "" {
		fail("no parent recorded")
		return
	}
	p, ok := g.byID[e.Parent]
	if !ok {
		fail("its parent %s is not in the catalogue", e.Parent)
		return
	}
	if visiting[id] {
		fail("its parents form a cycle")
		return
	}
	visiting[id] = true
	g.resolve(p.ID, visiting)
	if why, bad := g.orphan[p.ID]; bad {
		fail("its parent %s cannot be restored (%s)", p.ID, why)
		return
	}
	switch {
	case p.Cluster != e.Cluster || p.Database != e.Database:
		fail("its parent %s is a backup of %s/%s", p.ID, p.Cluster, p.Database)
		return
	case p.DatabaseID != "" && e.DatabaseID != "" && p.DatabaseID != e.DatabaseID:
		fail("its parent %s is of another database with that name (id %s, this one %s)", p.ID, p.DatabaseID, e.DatabaseID)
		return
	case !p.Created.Before(e.Created) && !(p.Created.Equal(e.Created) && p.ID < e.ID):
		fail("its parent %s is not older", p.ID)
		return
	}
	if !e.Empty() {
		tip := g.tip(p.ID)
		if e.LowestTx != tip+1 {
			if e.LowestTx > tip+1 {
				fail("gap: transactions %d..%d are in no catalogued backup (its parent %s ends at %d)", tip+1, e.LowestTx-1, p.ID, tip)
			} else {
				fail("starts at transaction %d, its parent %s ends at %d", e.LowestTx, p.ID, tip)
			}
			return
		}
	}
	g.path[id] = append(append([]string(nil), g.path[p.ID]...), id)
}

// tip is the last transaction a restorable entry's path holds.
func (g *Graph) tip(id string) int64 {
	p := g.path[id]
	for i := len(p) - 1; i >= 0; i-- {
		if e := g.byID[p[i]]; !e.Empty() {
			return e.HighestTx
		}
	}
	return 0
}

// Path is what restoring id replays, its full first and id last; the error
// says why it cannot be restored.
func (g *Graph) Path(id string) ([]string, error) {
	if p, ok := g.path[id]; ok {
		return append([]string(nil), p...), nil
	}
	if why, ok := g.orphan[id]; ok {
		return nil, fmt.Errorf("%s cannot be restored: %s", id, why)
	}
	return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
}

// Restorable reports whether id's whole chain is present and contiguous.
func (g *Graph) Restorable(id string) bool { _, ok := g.path[id]; return ok }

// Chains returns the chains, ordered by their full's time; members are
// chronological.
func (g *Graph) Chains() []Chain {
	byRoot := map[string]*Chain{}
	var roots []string
	for _, id := range g.order {
		p, ok := g.path[id]
		if !ok {
			continue
		}
		root := g.byID[p[0]]
		c := byRoot[root.ID]
		if c == nil {
			c = &Chain{ID: root.ID, Cluster: root.Cluster, Database: root.Database}
			byRoot[root.ID] = c
			roots = append(roots, root.ID)
		}
		c.Members = append(c.Members, g.byID[id])
	}
	out := make([]Chain, 0, len(roots))
	for _, r := range roots {
		out = append(out, *byRoot[r])
	}
	return out
}

// Orphans returns the entries that cannot be restored, chronologically.
func (g *Graph) Orphans() []Orphan {
	var out []Orphan
	for _, id := range g.order {
		if why, ok := g.orphan[id]; ok {
			out = append(out, Orphan{Entry: g.byID[id], Reason: why})
		}
	}
	return out
}

// Link sets a new entry's ChainID and Parent from the entries already
// catalogued. A full starts its own chain. A differential continues the
// newest restorable backup of the same database that ends at the
// transaction before its first one (an empty differential: the newest
// restorable backup before it) — the artifact neo4j-admin continued from the
// target directory. A differential nothing continues is an error: it cannot
// be restored, and the caller must say so rather than catalogue it as part
// of a chain.
func Link(existing []Entry, e *Entry) error {
	if e.IsFull() {
		e.ChainID, e.Parent = e.ID, ""
		return nil
	}
	g := Assemble(existing)
	var cands []Entry
	for _, id := range g.order {
		c := g.byID[id]
		if c.ID == e.ID || c.Cluster != e.Cluster || c.Database != e.Database || !g.Restorable(id) {
			continue
		}
		if c.DatabaseID != "" && e.DatabaseID != "" && c.DatabaseID != e.DatabaseID {
			continue
		}
		if c.Created.After(e.Created) {
			continue
		}
		if !e.Empty() && g.tip(id) != e.LowestTx-1 {
			continue
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		if e.Empty() {
			return fmt.Errorf("%s: empty differential with no earlier restorable backup of %s/%s", e.ID, e.Cluster, e.Database)
		}
		return fmt.Errorf("%s: no restorable backup of %s/%s ends at transaction %d: this differential (%d..%d) cannot be restored", e.ID, e.Cluster, e.Database, e.LowestTx-1, e.LowestTx, e.HighestTx)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if !cands[i].Created.Equal(cands[j].Created) {
			return cands[i].Created.Before(cands[j].Created)
		}
		return cands[i].ID < cands[j].ID
	})
	p := cands[len(cands)-1]
	e.Parent = p.ID
	e.ChainID = g.path[p.ID][0]
	return nil
}

// NewestRestorable is the newest entry of a database that can be restored
// (its whole chain present), taken no later than notAfter (zero: no bound) —
// the restore point for `restore --latest` or `--until`.
func (g *Graph) NewestRestorable(cluster, database string, notAfter time.Time) (Entry, bool) {
	for i := len(g.order) - 1; i >= 0; i-- {
		e := g.byID[g.order[i]]
		if e.Cluster != cluster || e.Database != database || !g.Restorable(e.ID) {
			continue
		}
		if !notAfter.IsZero() && e.Created.After(notAfter) {
			continue
		}
		return e, true
	}
	return Entry{}, false
}
