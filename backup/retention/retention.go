package retention

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// Policy is the retention of one database's backups. Zero counts keep
// nothing for that rule; MaxAge 0 means no limit.
type Policy struct {
	Daily   int           `json:"daily"`
	Weekly  int           `json:"weekly"`
	Monthly int           `json:"monthly"`
	Yearly  int           `json:"yearly"`
	MinAge  time.Duration `json:"minAge"`
	MaxAge  time.Duration `json:"maxAge"`
}

// policyJSON writes the ages as Go durations ("168h0m0s"), which people
// can read in `-o json` output; time.Duration alone would be nanoseconds.
type policyJSON struct {
	Daily   int    `json:"daily"`
	Weekly  int    `json:"weekly"`
	Monthly int    `json:"monthly"`
	Yearly  int    `json:"yearly"`
	MinAge  string `json:"minAge,omitempty"`
	MaxAge  string `json:"maxAge,omitempty"`
}

// MarshalJSON writes MinAge and MaxAge as duration strings (omitted when 0).
func (p Policy) MarshalJSON() ([]byte, error) {
	j := policyJSON{Daily: p.Daily, Weekly: p.Weekly, Monthly: p.Monthly, Yearly: p.Yearly}
	if p.MinAge != 0 {
		j.MinAge = p.MinAge.String()
	}
	if p.MaxAge != 0 {
		j.MaxAge = p.MaxAge.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Policy) UnmarshalJSON(data []byte) error {
	var j policyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*p = Policy{Daily: j.Daily, Weekly: j.Weekly, Monthly: j.Monthly, Yearly: j.Yearly}
	for _, f := range []struct {
		s   string
		dst *time.Duration
		n   string
	}{{j.MinAge, &p.MinAge, "minAge"}, {j.MaxAge, &p.MaxAge, "maxAge"}} {
		if f.s == "" {
			continue
		}
		d, err := time.ParseDuration(f.s)
		if err != nil {
			return fmt.Errorf("%s: %v", f.n, err)
		}
		*f.dst = d
	}
	return nil
}

// Validate reports every problem in the policy, one per line, as
// `field: problem (fix)`.
func (p Policy) Validate() error {
	var errs []string
	for _, f := range []struct {
		name string
		n    int
	}{{"daily", p.Daily}, {"weekly", p.Weekly}, {"monthly", p.Monthly}, {"yearly", p.Yearly}} {
		if f.n < 0 {
			errs = append(errs, fmt.Sprintf("%s: %d is negative (use 0 to keep none)", f.name, f.n))
		}
	}
	if p.MinAge < 0 {
		errs = append(errs, "minAge: negative")
	}
	if p.MaxAge < 0 {
		errs = append(errs, "maxAge: negative (use 0 for no limit)")
	}
	if p.MaxAge > 0 && p.MaxAge < p.MinAge {
		errs = append(errs, fmt.Sprintf("maxAge: %s is below minAge %s (raise maxAge or lower minAge)", p.MaxAge, p.MinAge))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// Rule names why a backup is kept or deleted.
type Rule string

const (
	// Keep rules.
	Daily            Rule = "daily"
	Weekly           Rule = "weekly"
	Monthly          Rule = "monthly"
	Yearly           Rule = "yearly"
	MinAge           Rule = "min-age"
	NewestVerified   Rule = "newest-verified"
	NewestRestorable Rule = "newest-restorable"
	Newest           Rule = "newest"
	NeededBy         Rule = "needed-by"
	InvalidPolicy    Rule = "invalid-policy"
	// Delete rules.
	NoSlot Rule = "no-slot"
	MaxAge Rule = "max-age"
	Orphan Rule = "orphan"
)

// Reason is one reason for a decision.
type Reason struct {
	Rule Rule `json:"rule"`
	// Period is the GFS period a backup represents (2025-12-31, 2025-W52,
	// 2025-12, 2025).
	Period string `json:"period,omitempty"`
	// By is the kept backup that depends on this one (NeededBy).
	By string `json:"by,omitempty"`
	// Detail explains an orphan, an age or an invalid policy.
	Detail string `json:"detail,omitempty"`
}

func (r Reason) String() string {
	switch {
	case r.Period != "":
		return fmt.Sprintf("%s %s", r.Rule, r.Period)
	case r.By != "":
		return fmt.Sprintf("%s %s", r.Rule, r.By)
	case r.Detail != "":
		return fmt.Sprintf("%s: %s", r.Rule, r.Detail)
	}
	return string(r.Rule)
}

// Item is one backup in a Decision.
type Item struct {
	ID       string       `json:"id"`
	Cluster  string       `json:"cluster"`
	Database string       `json:"database"`
	Type     catalog.Type `json:"type"`
	Created  time.Time    `json:"created"`
	Verified bool         `json:"verified"`
	// Size is the stored (ciphertext) size; Copies how many other buckets
	// hold it too — what deleting it frees, and where else it goes.
	Size    int64    `json:"size"`
	Copies  int      `json:"copies"`
	Reasons []Reason `json:"reasons"`
}

// Decision is what Plan decided: every input backup is in exactly one of
// Keep (chronological) and Delete (in the order to delete). It is plain data
// for the views to render and for prune to carry out.
type Decision struct {
	Now    time.Time `json:"now"`
	Policy Policy    `json:"policy"`
	Keep   []Item    `json:"keep"`
	Delete []Item    `json:"delete"`
}

// Period keys of the GFS rules, in UTC.
func periodOf(r Rule, t time.Time) string {
	t = t.UTC()
	switch r {
	case Daily:
		return t.Format("2006-01-02")
	case Weekly:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Monthly:
		return t.Format("2006-01")
	case Yearly:
		return t.Format("2006")
	}
	panic("no period for rule " + string(r))
}

// Plan applies the policy to the entries (any clusters and databases: each
// database is planned on its own). A policy that does not validate keeps
// everything: retention fails safe.
func Plan(entries []catalog.Entry, p Policy, now time.Time) Decision {
	// Empty lists, not null, in JSON.
	d := Decision{Now: now, Policy: p, Keep: []Item{}, Delete: []Item{}}
	reasons := map[string][]Reason{}
	if err := p.Validate(); err != nil {
		for _, e := range entries {
			reasons[e.ID] = []Reason{{Rule: InvalidPolicy, Detail: strings.ReplaceAll(err.Error(), "\n", "; ")}}
		}
		return finish(d, entries, reasons, map[string]bool{})
	}
	g := catalog.Assemble(entries)
	byID := map[string]catalog.Entry{}
	groups := map[[2]string][]catalog.Entry{}
	var keys [][2]string
	for _, e := range entries {
		if _, dup := byID[e.ID]; dup {
			continue
		}
		byID[e.ID] = e
		k := [2]string{e.Cluster, e.Database}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], e)
	}
	keep := map[string]bool{}
	add := func(id string, r Reason) {
		keep[id] = true
		reasons[id] = append(reasons[id], r)
	}
	for _, k := range keys {
		es := groups[k]
		newestFirst(es)
		var cands []catalog.Entry
		for _, e := range es {
			if g.Restorable(e.ID) && (p.MaxAge == 0 || now.Sub(e.Created) <= p.MaxAge) {
				cands = append(cands, e)
			}
		}
		for _, rule := range []struct {
			r Rule
			n int
		}{{Daily, p.Daily}, {Weekly, p.Weekly}, {Monthly, p.Monthly}, {Yearly, p.Yearly}} {
			n, last := rule.n, ""
			for _, e := range cands {
				if n == 0 {
					break
				}
				if per := periodOf(rule.r, e.Created); per != last {
					add(e.ID, Reason{Rule: rule.r, Period: per})
					last = per
					n--
				}
			}
		}
		for _, e := range es {
			if now.Sub(e.Created) < p.MinAge {
				add(e.ID, Reason{Rule: MinAge, Detail: fmt.Sprintf("%s old", age(now.Sub(e.Created)))})
			}
		}
		protected := false
		for _, e := range es {
			if e.Verified() {
				add(e.ID, Reason{Rule: NewestVerified})
				protected = true
				break
			}
		}
		if !protected {
			for _, e := range es {
				if g.Restorable(e.ID) {
					add(e.ID, Reason{Rule: NewestRestorable, Detail: "no backup of the database is verified"})
					protected = true
					break
				}
			}
		}
		if !protected && len(es) > 0 {
			add(es[0].ID, Reason{Rule: Newest, Detail: "no backup of the database is verified or restorable"})
		}
	}
	// Dependencies of everything kept, newest dependant first: walking from
	// newest to oldest, a parent is reached after all its kept children.
	all := make([]catalog.Entry, 0, len(byID))
	for _, e := range byID {
		all = append(all, e)
	}
	newestFirst(all)
	needed := map[string]bool{}
	for _, e := range all {
		if !keep[e.ID] {
			continue
		}
		seen := map[string]bool{e.ID: true}
		for cur := e; cur.Parent != ""; {
			par, ok := byID[cur.Parent]
			if !ok || seen[par.ID] {
				break
			}
			seen[par.ID] = true
			if needed[par.ID] {
				break // reached before: its own dependencies are kept already
			}
			needed[par.ID] = true
			add(par.ID, Reason{Rule: NeededBy, By: e.ID})
			cur = par
		}
	}
	for _, e := range all {
		if keep[e.ID] {
			continue
		}
		switch {
		case !g.Restorable(e.ID):
			_, err := g.Path(e.ID)
			reasons[e.ID] = []Reason{{Rule: Orphan, Detail: strings.TrimPrefix(err.Error(), e.ID+" ")}}
		case p.MaxAge > 0 && now.Sub(e.Created) > p.MaxAge:
			reasons[e.ID] = []Reason{{Rule: MaxAge, Detail: fmt.Sprintf("%s old, maxAge %s", age(now.Sub(e.Created)), age(p.MaxAge))}}
		default:
			reasons[e.ID] = []Reason{{Rule: NoSlot}}
		}
	}
	return finish(d, entries, reasons, keep)
}

func finish(d Decision, entries []catalog.Entry, reasons map[string][]Reason, keep map[string]bool) Decision {
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		it := Item{ID: e.ID, Cluster: e.Cluster, Database: e.Database, Type: e.Type, Created: e.Created, Verified: e.Verified(),
			Size: e.CiphertextSize, Copies: len(e.Copies), Reasons: reasons[e.ID]}
		if keep[e.ID] || (len(it.Reasons) > 0 && it.Reasons[0].Rule == InvalidPolicy) {
			d.Keep = append(d.Keep, it)
		} else {
			d.Delete = append(d.Delete, it)
		}
	}
	sortItems(d.Keep, false)
	// Newest first: a differential is newer than what it depends on, so it
	// goes first.
	sortItems(d.Delete, true)
	return d
}

func sortItems(items []Item, newestFirst bool) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if newestFirst {
			a, b = b, a
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	})
}

// age prints a duration in days and hours, as people think of backup ages.
func age(d time.Duration) string {
	if d < 0 {
		return "0h"
	}
	days := int(d / (24 * time.Hour))
	hours := int((d % (24 * time.Hour)) / time.Hour)
	if days == 0 {
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}

func newestFirst(es []catalog.Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].Created.Equal(es[j].Created) {
			return es[i].Created.After(es[j].Created)
		}
		return es[i].ID > es[j].ID
	})
}

// Summary counts a Decision for a one-line report.
type Summary struct {
	Kept    int `json:"kept"`
	Deleted int `json:"deleted"`
	// FreedBytes is the stored size of what is deleted (copies in other
	// buckets come on top).
	FreedBytes int64 `json:"freedBytes"`
}

// Summary counts the decision.
func (d Decision) Summary() Summary {
	s := Summary{Kept: len(d.Keep), Deleted: len(d.Delete)}
	for _, it := range d.Delete {
		s.FreedBytes += it.Size
	}
	return s
}
