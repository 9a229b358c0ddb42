package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DrillPrefix is where DR drill records live, beside the catalogue's
// entries: drills/v1/<cluster>/<YYYYMMDDTHHMMSSZ>-<token>.json, the time
// being the drill's start (UTC), so a LIST of a cluster's prefix is its
// drills in time order.
const DrillPrefix = "drills/v1/"

// DrillSchemaVersion is the version of the drill record. A reader refuses
// a newer one rather than misreading it; fields are only ever added.
const DrillSchemaVersion = 1

// DrillResult is a drill's verdict against spec.backups.objectives.
type DrillResult string

const (
	// DrillPassed: the scratch cluster became healthy, every database
	// answered its count, and every objective was met.
	DrillPassed DrillResult = "passed"
	// DrillFailed: an objective was missed, or the scratch cluster never
	// became healthy.
	DrillFailed DrillResult = "failed"
)

// Drill is the record of one `neo4jctl dr drill`: written once, when the
// drill ends (after its teardown), create-if-absent like every catalogue
// object. status, healthcheck (backup.drill) and watch's drill metrics
// read the newest ones; no drill decides anything from an older record.
type Drill struct {
	SchemaVersion int `json:"schemaVersion"`
	// ID is <cluster>/<YYYYMMDDTHHMMSSZ>-<token>.
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	// Namespace is the drilled cluster's; ScratchNamespace the one the
	// drill restored into and deleted.
	Namespace        string `json:"namespace"`
	ScratchNamespace string `json:"scratchNamespace"`
	// Where ran the drill: "local" (a terminal or CI) or "job <ns>/<name>".
	Where string `json:"where,omitempty"`
	// Started is the drill's start: RTO is measured from it.
	Started time.Time `json:"started"`
	// Healthy is when every restored database answered its count query
	// after healthcheck passed; nil when that never happened.
	Healthy *time.Time `json:"healthy,omitempty"`
	// Finished is when the teardown ended and the record was written.
	Finished time.Time `json:"finished"`
	// RTO is Healthy - Started (0 when never healthy).
	RTO time.Duration `json:"rtoNanos"`
	// RTOObjective and RPOObjective are spec.backups.objectives at the
	// time of the drill (0: not set).
	RTOObjective time.Duration   `json:"rtoObjectiveNanos,omitempty"`
	RPOObjective time.Duration   `json:"rpoObjectiveNanos,omitempty"`
	Databases    []DrillDatabase `json:"databases"`
	Result       DrillResult     `json:"result"`
	// Missed lists each objective missed, with the figures.
	Missed []string `json:"missed,omitempty"`
	// Simulated is true when a step was stood in for (kwok Pods, the Neo4j
	// simulator): such a drill proves the procedure, not a recovery time.
	Simulated bool `json:"simulated"`
}

// DrillDatabase is one database's part in a drill.
type DrillDatabase struct {
	Name string `json:"name"`
	// Restored is the catalogue entry restored (empty: none was).
	Restored string `json:"restored,omitempty"`
	// Newest is the newest restorable entry at the drill's start, and RPO
	// its age then; Available false when there was none.
	Newest    string        `json:"newest,omitempty"`
	RPO       time.Duration `json:"rpoNanos"`
	Available bool          `json:"available"`
	// Nodes is what MATCH (n) RETURN count(n) answered (nil: no answer).
	Nodes *int64 `json:"nodes,omitempty"`
	// Error says why the restore or the count failed; never a secret.
	Error string `json:"error,omitempty"`
}

// Passed reports whether the drill met every objective.
func (d Drill) Passed() bool { return d.Result == DrillPassed }

// MaxRPO is the largest RPO of a database with a restorable backup:
// the drill's recovery point objective figure. ok is false when no
// database had one.
func (d Drill) MaxRPO() (rpo time.Duration, ok bool) {
	for _, db := range d.Databases {
		if db.Available && (!ok || db.RPO > rpo) {
			rpo, ok = db.RPO, true
		}
	}
	return rpo, ok
}

func (d Drill) validate() error {
	if !namePart.MatchString(d.Cluster) {
		return fmt.Errorf("drill: cluster %q: want letters, digits, '.', '-', '_' (no '/')", d.Cluster)
	}
	if d.Started.IsZero() || d.Finished.IsZero() {
		return errors.New("drill: started and finished are required")
	}
	if d.Result != DrillPassed && d.Result != DrillFailed {
		return fmt.Errorf("drill: result %q, want passed or failed", d.Result)
	}
	if d.Result == DrillPassed && (d.Healthy == nil || len(d.Missed) > 0) {
		return errors.New("drill: a passed drill has a healthy time and misses nothing")
	}
	return nil
}

func drillKey(id string) string { return DrillPrefix + id + entrySuffix }

// PutDrill records a finished drill under a new ID (set from its cluster
// and start time; a random token keeps two drills started in the same
// second apart). It returns the record as written.
func (c *Catalog) PutDrill(ctx context.Context, d Drill) (Drill, error) {
	d.SchemaVersion = DrillSchemaVersion
	d.Started, d.Finished = d.Started.UTC(), d.Finished.UTC()
	if d.Healthy != nil {
		h := d.Healthy.UTC()
		d.Healthy = &h
	}
	if err := d.validate(); err != nil {
		return Drill{}, err
	}
	d.ID = d.Cluster + "/" + d.Started.Format(stampLayout) + "-" + NewToken()
	key := drillKey(d.ID)
	if _, err := c.write(ctx, key, d); err != nil {
		return Drill{}, fmt.Errorf("writing %s: %w", key, err)
	}
	return d, nil
}

// ListDrills reads a cluster's drill records, oldest first (by start,
// then ID).
func (c *Catalog) ListDrills(ctx context.Context, cluster string) ([]Drill, error) {
	if !namePart.MatchString(cluster) {
		return nil, fmt.Errorf("cluster %q: want letters, digits, '.', '-', '_' (no '/')", cluster)
	}
	keys, err := c.list(ctx, DrillPrefix+cluster+"/")
	if err != nil {
		return nil, err
	}
	var out []Drill
	for _, k := range keys {
		if !strings.HasSuffix(k, entrySuffix) {
			continue
		}
		data, err := c.read(ctx, k)
		if err != nil {
			if c.notFound(err) {
				continue // deleted since the listing
			}
			return nil, err
		}
		var d Drill
		if err := decodeDrill(data, &d); err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		if drillKey(d.ID) != k || d.Cluster != cluster {
			return nil, fmt.Errorf("%s: holds drill %q of cluster %q (the object was renamed or copied by hand)", k, d.ID, d.Cluster)
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// decodeDrill is decode for drill records, whose version is their own.
func decodeDrill(data []byte, d *Drill) error {
	return decodeVersioned(data, d, "drill record", "drill schema", DrillSchemaVersion)
}
