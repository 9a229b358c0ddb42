package restore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

// Request says which point of one database to restore: one of ID, Latest
// or Until.
type Request struct {
	Cluster  string
	Database string
	// ID restores that entry (with its chain).
	ID string
	// Latest restores the newest restorable entry.
	Latest bool
	// Until restores the data committed before this instant (UTC,
	// whole seconds): point-in-time recovery.
	Until time.Time
	// Location restricts the choice to artifacts copied to this bucket
	// URL (a spec.backups.copies entry); empty is the primary storage.
	Location string
}

// Point is a chosen restore point: what is replayed and how far.
type Point struct {
	// Chain is what neo4j-admin replays, the full first and the target
	// last; every member is in Location.
	Chain []catalog.Entry `json:"chain"`
	// Location is where the artifacts are read from ("" the storage).
	Location string `json:"location,omitempty"`
	// RestoreUntil is the --restore-until instant when the chain is cut
	// (zero: replayed whole). It drives the restore Job's arguments.
	RestoreUntil time.Time `json:"restoreUntil,omitempty"`
	// RestoredTo is the time of the newest data the restore brings back:
	// RestoreUntil when the chain is cut, else the target's time.
	RestoredTo time.Time `json:"restoredTo"`
	// Passed are newer entries of the database that were not chosen
	// because they cannot be restored (from Location), with the reason:
	// shown in the plan, so a user sees why the point is older than
	// expected.
	Passed []Passed `json:"passed,omitempty"`
}

// Passed is an entry the selection passed over.
type Passed struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Target is the chain's last entry: the artifact named to neo4j-admin.
func (p Point) Target() catalog.Entry { return p.Chain[len(p.Chain)-1] }

// Cut reports whether the chain is replayed only up to RestoreUntil.
func (p Point) Cut() bool { return !p.RestoreUntil.IsZero() }

// ErrNoPoint is returned when no restorable point matches the request.
var ErrNoPoint = errors.New("no restorable backup")

// Select chooses the restore point for r among a cluster's catalogue
// entries (any order; other databases are ignored).
//
// With Until it prefers an exact cut: the earliest restorable online
// backup taken after Until whose chain's full was taken no later than
// Until holds every transaction committed before Until, so restoring it
// with --restore-until=Until loses nothing before that instant. Without
// one (the chain was cut by a new full, the newer links are missing, or
// the artifacts are dumps, which neo4j-admin cannot cut) it is the newest
// restorable entry taken no later than Until, replayed whole.
func Select(entries []catalog.Entry, r Request) (Point, error) {
	if r.Database == "" {
		return Point{}, errors.New("restore: no database named")
	}
	n := 0
	for _, set := range []bool{r.ID != "", r.Latest, !r.Until.IsZero()} {
		if set {
			n++
		}
	}
	if n != 1 {
		return Point{}, errors.New("restore: give exactly one of an ID, latest, or an until time")
	}
	var mine []catalog.Entry
	absent := map[string]bool{}
	for _, e := range entries {
		if e.Cluster != r.Cluster || e.Database != r.Database {
			continue
		}
		if r.Location != "" && !copiedTo(e, r.Location) {
			// Kept out of the graph: a link missing there breaks the
			// chain there, and Assemble says so of its successors.
			absent[e.ID] = true
			continue
		}
		mine = append(mine, e)
	}
	g := catalog.Assemble(mine)
	where := "the storage"
	if r.Location != "" {
		where = "copy " + r.Location
	}
	point := func(target catalog.Entry, until time.Time) (Point, error) {
		ids, err := g.Path(target.ID)
		if err != nil {
			return Point{}, err
		}
		p := Point{Location: r.Location, RestoreUntil: until, RestoredTo: target.Created}
		if !until.IsZero() {
			p.RestoredTo = until
		}
		byID := map[string]catalog.Entry{}
		for _, e := range mine {
			byID[e.ID] = e
		}
		for _, id := range ids {
			p.Chain = append(p.Chain, byID[id])
		}
		if r.ID == "" {
			// Why newer entries were passed over: any of them, restorable,
			// would have been a closer point (or the link of a cut).
			newer := func(e catalog.Entry) bool { return e.Created.After(target.Created) }
			for _, o := range g.Orphans() {
				if newer(o.Entry) {
					p.Passed = append(p.Passed, Passed{ID: o.Entry.ID, Reason: o.Reason})
				}
			}
			for _, e := range entries {
				if absent[e.ID] && newer(e) {
					p.Passed = append(p.Passed, Passed{ID: e.ID, Reason: "not copied to " + r.Location})
				}
			}
		}
		return p, nil
	}

	switch {
	case r.ID != "":
		for _, e := range entries {
			if e.ID == r.ID && (e.Cluster != r.Cluster || e.Database != r.Database) {
				return Point{}, fmt.Errorf("%s is a backup of %s/%s, not of %s/%s", r.ID, e.Cluster, e.Database, r.Cluster, r.Database)
			}
		}
		if absent[r.ID] {
			return Point{}, fmt.Errorf("%s was never copied to %s (restore it from the storage, or copy it with `neo4jctl backup copy`)", r.ID, r.Location)
		}
		ids, err := g.Path(r.ID)
		if err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return Point{}, fmt.Errorf("%s: not in the catalogue of %s (list them with `neo4jctl backup list`)", r.ID, where)
			}
			return Point{}, err
		}
		for _, e := range mine {
			if e.ID == ids[len(ids)-1] {
				return point(e, time.Time{})
			}
		}
		return Point{}, fmt.Errorf("%s: %w", r.ID, catalog.ErrNotFound)
	case r.Latest:
		e, ok := g.NewestRestorable(r.Cluster, r.Database, time.Time{})
		if !ok {
			return Point{}, fmt.Errorf("%w of %s/%s in %s%s", ErrNoPoint, r.Cluster, r.Database, where, orphanNote(g))
		}
		return point(e, time.Time{})
	}

	until := r.Until.UTC().Truncate(time.Second)
	// An exact cut: the earliest restorable online backup after until
	// whose full is no later than until.
	for _, c := range g.Chains() {
		if c.Members[0].Created.After(until) {
			continue
		}
		for _, e := range c.Members {
			if !e.Created.After(until) {
				continue
			}
			if !cuttable(c.Members, e) {
				break
			}
			return point(e, until)
		}
	}
	e, ok := g.NewestRestorable(r.Cluster, r.Database, until)
	if !ok {
		return Point{}, fmt.Errorf("%w of %s/%s taken before %s in %s%s", ErrNoPoint, r.Cluster, r.Database, until.Format(time.RFC3339), where, orphanNote(g))
	}
	return point(e, time.Time{})
}

// cuttable reports whether the chain up to e can be replayed with
// --restore-until: online backups only (a dump is a store, not a log).
func cuttable(members []catalog.Entry, e catalog.Entry) bool {
	for _, m := range members {
		if m.Format != inspect.FormatBackup {
			return false
		}
		if m.ID == e.ID {
			return true
		}
	}
	return false
}

func copiedTo(e catalog.Entry, location string) bool {
	_, ok := CopyIn(e, location)
	return ok
}

func orphanNote(g *catalog.Graph) string {
	os := g.Orphans()
	if len(os) == 0 {
		return ""
	}
	o := os[len(os)-1]
	return fmt.Sprintf(" (%d backups cannot be restored, the newest %s: %s)", len(os), o.Entry.ID, o.Reason)
}

// RestoreUntilArg is neo4j-admin's --restore-until argument for t: a UTC
// date and time, "YYYY-MM-DD HH:MM:SS" (Operations Manual 5.26,
// backup-restore/restore-backup.adoc, "Options": "the required date
// predicate should look like --restore-until=2021-09-11 10:15:30, where
// 2021-09-11 10:15:30 is a UTC date and time"). It is one argv element:
// no shell ever reads it.
func RestoreUntilArg(t time.Time) string {
	return "--restore-until=" + t.UTC().Format("2006-01-02 15:04:05")
}

// AdminRestoreArgs are the arguments of `neo4j-admin database restore` for
// p with its artifacts in dir under their own names: --from-path names the
// chain's last artifact, and neo4j-admin finds the rest of the chain in
// the same directory (restore-backup.adoc, "Options", --from-path: "a
// differential backup, in which case the command tries first to find in
// the folder a backup chain ending at that specific differential backup").
func (p Point) AdminRestoreArgs(dir, database string, overwrite bool) []string {
	args := []string{"database", "restore", "--from-path=" + strings.TrimRight(dir, "/") + "/" + p.Target().File}
	if p.Cut() {
		args = append(args, RestoreUntilArg(p.RestoreUntil))
	}
	if overwrite {
		args = append(args, "--overwrite-destination=true")
	}
	return append(args, database)
}
