package drill

import (
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// Record is the catalogue's record of an evaluated report (Evaluate has
// run): what status, healthcheck's backup.drill and watch's drill metrics
// read. where says what ran the drill ("local", "job <ns>/<name>").
func (r *Report) Record(where string, finished time.Time) catalog.Drill {
	d := catalog.Drill{
		Cluster: r.Cluster, Namespace: r.Namespace, ScratchNamespace: r.ScratchNamespace, Where: where,
		Started: r.Started, Finished: finished, RTO: time.Duration(r.RTO),
		RTOObjective: time.Duration(r.Objectives.RTO), RPOObjective: time.Duration(r.Objectives.RPO),
		Result: catalog.DrillPassed, Missed: r.Missed, Simulated: r.Simulated,
	}
	if !r.Healthy.IsZero() {
		h := r.Healthy
		d.Healthy = &h
	}
	if !r.Met() {
		d.Result = catalog.DrillFailed
	}
	counts := map[string]Count{}
	for _, c := range r.Counts {
		counts[c.Database] = c
	}
	failed := map[string]string{}
	for _, s := range r.Steps {
		if db, ok := restoreStepDatabase(s.Name); ok && s.Error != "" {
			failed[db] = s.Error
		}
	}
	for _, p := range r.Points {
		db := catalog.DrillDatabase{Name: p.Database, Restored: r.Restored[p.Database], Newest: p.Newest, RPO: time.Duration(p.RPO),
			Available: p.Available, Error: failed[p.Database]}
		if c, ok := counts[p.Database]; ok {
			if c.Error != "" {
				db.Error = c.Error
			} else {
				n := c.Nodes
				db.Nodes = &n
			}
		}
		d.Databases = append(d.Databases, db)
	}
	return d
}

// RestoreStep is the name of the step restoring db.
func RestoreStep(db string) string { return "restore " + db }

func restoreStepDatabase(step string) (string, bool) {
	const p = "restore "
	if len(step) > len(p) && step[:len(p)] == p {
		return step[len(p):], true
	}
	return "", false
}
