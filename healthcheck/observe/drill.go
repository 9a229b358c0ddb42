package observe

import (
	"context"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Drills reads, for the backup.drill check, status and watch's drill
// metrics, the cluster's DR drill records beside its catalogue, opened as
// `neo4jctl backup list` opens it. nil when the cluster file has no
// spec.backups, or no drill schedule and no drill was ever recorded (the
// check is then absent).
func Drills(ctx context.Context, c *clusterfile.Cluster, secretsDir string) *healthcheck.DrillInput {
	b := c.Spec.Backups
	if b == nil {
		return nil
	}
	in := &healthcheck.DrillInput{}
	if b.Drill != nil {
		in.Schedule = b.Drill.Schedule
	}
	if b.Schedule != nil {
		in.TimeZone = b.Schedule.TimeZone
	}
	ctx, cancel := context.WithTimeout(ctx, backupReadTimeout)
	defer cancel()
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: secretsDir})
	if err != nil {
		in.Err = err.Error()
		return in
	}
	ds, err := s.Catalog.ListDrills(ctx, c.Metadata.Name)
	if err != nil {
		in.Err = s.Log.Redact(err.Error())
		return in
	}
	in.Last, in.LastPassed = DrillsOf(ds)
	if in.Schedule == "" && in.Last == nil {
		return nil
	}
	return in
}

// DrillsOf is the newest drill and the newest passed drill of records
// sorted oldest first (catalog.ListDrills' order).
func DrillsOf(ds []catalog.Drill) (last, lastPassed *healthcheck.DrillRun) {
	for i := range ds {
		r := DrillRunOf(ds[i])
		last = &r
		if r.Passed {
			lastPassed = &r
		}
	}
	return last, lastPassed
}

// DrillRunOf is one drill record as the check reads it.
func DrillRunOf(d catalog.Drill) healthcheck.DrillRun {
	r := healthcheck.DrillRun{ID: d.ID, Started: d.Started, Passed: d.Passed(), Healthy: d.Healthy != nil, RTO: d.RTO,
		RTOObjective: d.RTOObjective, RPOObjective: d.RPOObjective, Missed: d.Missed, Simulated: d.Simulated, Where: d.Where}
	r.RPO, r.HasRPO = d.MaxRPO()
	return r
}
