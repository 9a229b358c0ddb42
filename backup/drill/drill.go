package drill

import (
	"fmt"
	"sort"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/restore"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Point is the recovery point of one database.
type Point struct {
	Database string `json:"database"`
	// Newest is the newest restorable entry (its whole chain present):
	// what a restore right now would bring back. Empty when none.
	Newest    string    `json:"newest,omitempty"`
	NewestAt  time.Time `json:"newestAt,omitempty"`
	RPO       Duration  `json:"rpo"`
	Verified  string    `json:"verified,omitempty"` // newest restorable entry whose last verification passed
	Available bool      `json:"available"`
}

// Duration is a time.Duration that encodes as seconds and a string.
type Duration time.Duration

// MarshalJSON encodes {"seconds": n, "milliseconds": n, "text": "1h2m"}
// (seconds truncated; milliseconds for a CI that compares RTOs closely).
func (d Duration) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"seconds":%d,"milliseconds":%d,"text":%q}`, int64(time.Duration(d)/time.Second), time.Duration(d).Milliseconds(), time.Duration(d).Round(time.Second).String()), nil
}

// Points computes each database's recovery point at now from the
// catalogue: RPO is now minus the newest restorable point's time; a
// database with no restorable backup has none (Available false).
func Points(entries []catalog.Entry, cluster string, databases []string, now time.Time) []Point {
	var out []Point
	for _, db := range databases {
		p := Point{Database: db}
		if pt, err := restore.Select(entries, restore.Request{Cluster: cluster, Database: db, Latest: true}); err == nil {
			t := pt.Target()
			p.Newest, p.NewestAt, p.Available = t.ID, t.Created, true
			p.RPO = Duration(now.Sub(t.Created))
		}
		if v, ok := LatestVerified(entries, cluster, db); ok {
			p.Verified = v.ID
		}
		out = append(out, p)
	}
	return out
}

// LatestVerified is the newest restorable entry of db whose last
// verification by restore passed: what a drill restores.
func LatestVerified(entries []catalog.Entry, cluster, db string) (catalog.Entry, bool) {
	g := catalog.Assemble(entries)
	var cands []catalog.Entry
	for _, e := range entries {
		if e.Cluster == cluster && e.Database == db && e.Verified() && g.Restorable(e.ID) {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return catalog.Entry{}, false
	}
	catalog.SortEntries(cands)
	return cands[len(cands)-1], true
}

// Databases are the databases a cluster's catalogue holds backups of.
func Databases(entries []catalog.Entry, cluster string) []string {
	set := map[string]bool{}
	for _, e := range entries {
		if e.Cluster == cluster && e.Database != "system" {
			set[e.Database] = true
		}
	}
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Step is one step of a drill as it ran.
type Step struct {
	Name string   `json:"name"`
	Took Duration `json:"took"`
	// Simulated says the step's effect was stood in for (kwok completed
	// a Pod, the simulator answered for Neo4j), with how.
	Simulated string `json:"simulated,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Objectives are spec.backups.objectives, parsed (zero: none set).
type Objectives struct {
	RPO Duration `json:"rpo"`
	RTO Duration `json:"rto"`
}

// ObjectivesOf parses spec.backups.objectives (validated on load).
func ObjectivesOf(b *clusterfile.Backups) Objectives {
	var o Objectives
	if b == nil || b.Objectives == nil {
		return o
	}
	if d, err := clusterfile.ParseAge(b.Objectives.RPO); err == nil {
		o.RPO = Duration(d)
	}
	if d, err := clusterfile.ParseAge(b.Objectives.RTO); err == nil {
		o.RTO = Duration(d)
	}
	return o
}

// Report is one drill.
type Report struct {
	Cluster          string    `json:"cluster"`
	Namespace        string    `json:"namespace"`
	ScratchNamespace string    `json:"scratchNamespace"`
	Started          time.Time `json:"started"`
	Healthy          time.Time `json:"healthy,omitempty"`
	Points           []Point   `json:"points"`
	Steps            []Step    `json:"steps"`
	// Counts are the count query's answers on the restored databases.
	Counts []Count `json:"counts,omitempty"`
	// Restored is the catalogue entry restored, by database (for the
	// drill's record; the report shows it with the counts).
	Restored   map[string]string `json:"-"`
	Objectives Objectives        `json:"objectives"`
	// RTO is the wall time from Started to Healthy (zero when the
	// scratch cluster never became healthy).
	RTO Duration `json:"rto"`
	// Missed lists each objective missed, with the figures.
	Missed []string `json:"missed,omitempty"`
	// Simulated is true when any step was.
	Simulated bool `json:"simulated"`
	// Backups is the bucket the catalogue and artifacts were read from:
	// the primary storage, or the copy --from-copy named.
	Backups string `json:"backups,omitempty"`
	// Context is the Kubernetes context the scratch cluster ran in when
	// not the cluster's own (--to-context).
	Context string `json:"context,omitempty"`
}

// Evaluate sets RTO, Simulated and Missed: an RTO over the objective (or
// no healthy cluster at all), a database whose RPO is over the objective
// or that has no restorable backup.
func (r *Report) Evaluate() {
	r.Missed = nil
	r.Simulated = false
	for _, s := range r.Steps {
		if s.Simulated != "" {
			r.Simulated = true
		}
	}
	if r.Healthy.IsZero() {
		r.RTO = 0
		r.Missed = append(r.Missed, "RTO: the scratch cluster never became healthy")
	} else {
		r.RTO = Duration(r.Healthy.Sub(r.Started))
		if o := r.Objectives.RTO; o > 0 && r.RTO > o {
			r.Missed = append(r.Missed, fmt.Sprintf("RTO: %s achieved, objective %s", time.Duration(r.RTO).Round(time.Second), time.Duration(o)))
		}
	}
	for _, p := range r.Points {
		switch {
		case !p.Available:
			r.Missed = append(r.Missed, fmt.Sprintf("RPO of %s: no restorable backup", p.Database))
		case r.Objectives.RPO > 0 && p.RPO > r.Objectives.RPO:
			r.Missed = append(r.Missed, fmt.Sprintf("RPO of %s: the newest restorable backup (%s) is %s old, objective %s", p.Database, p.Newest, time.Duration(p.RPO).Round(time.Second), time.Duration(r.Objectives.RPO)))
		}
	}
}

// Met reports whether every objective was met.
func (r *Report) Met() bool { return len(r.Missed) == 0 }

// Count is the node count a restored database answered.
type Count struct {
	Database string `json:"database"`
	Restored string `json:"restored,omitempty"` // the backup restored
	Nodes    int64  `json:"nodes"`
	Error    string `json:"error,omitempty"`
}
