package drill

import (
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// The record carries the report's verdict and figures: a met drill is
// passed with its healthy time, RTO and each database's restored backup,
// RPO and count; a database whose restore failed says why; a missed
// objective makes it failed with the miss.
func TestRecord(t *testing.T) {
	b := &clusterfile.Backups{Objectives: &clusterfile.BackupObjectives{RPO: "6h", RTO: "30m"}}
	r := &Report{Cluster: "prod", Namespace: "graphs", ScratchNamespace: "prod-drill", Started: t0, Healthy: t0.Add(12 * time.Minute),
		Objectives: ObjectivesOf(b),
		Points: []Point{{Database: "movies", Available: true, Newest: "prod/movies/x", RPO: Duration(time.Hour)},
			{Database: "sales", Available: true, Newest: "prod/sales/y", RPO: Duration(2 * time.Hour)}},
		Steps:    []Step{{Name: RestoreStep("movies"), Simulated: "kwok"}, {Name: RestoreStep("sales")}},
		Counts:   []Count{{Database: "movies", Restored: "prod/movies/x", Nodes: 171}, {Database: "sales", Restored: "prod/sales/y", Nodes: 9}},
		Restored: map[string]string{"movies": "prod/movies/x", "sales": "prod/sales/y"},
	}
	r.Evaluate()
	d := r.Record("local", t0.Add(13*time.Minute))
	if !d.Passed() || d.Healthy == nil || !d.Healthy.Equal(t0.Add(12*time.Minute)) || d.RTO != 12*time.Minute ||
		d.RTOObjective != 30*time.Minute || d.RPOObjective != 6*time.Hour || !d.Simulated || d.Where != "local" {
		t.Errorf("met drill: %+v", d)
	}
	if len(d.Databases) != 2 || d.Databases[0].Restored != "prod/movies/x" || d.Databases[0].Nodes == nil || *d.Databases[0].Nodes != 171 ||
		d.Databases[1].RPO != 2*time.Hour {
		t.Errorf("databases: %+v", d.Databases)
	}
	if rpo, _ := d.MaxRPO(); rpo != 2*time.Hour {
		t.Errorf("MaxRPO %s, want 2h", rpo)
	}

	// sales failed to restore: never healthy, failed, the reason kept.
	r.Healthy, r.Counts, r.Restored = time.Time{}, nil, map[string]string{"movies": "prod/movies/x"}
	r.Steps[1].Error = "no restorable backup of sales has passed verification"
	r.Evaluate()
	d = r.Record("local", t0.Add(13*time.Minute))
	if d.Passed() || d.Result != catalog.DrillFailed || d.Healthy != nil || d.RTO != 0 || len(d.Missed) == 0 {
		t.Errorf("failed drill: %+v", d)
	}
	if d.Databases[1].Error == "" || d.Databases[1].Restored != "" || d.Databases[0].Restored != "prod/movies/x" || d.Databases[0].Nodes != nil {
		t.Errorf("databases of the failed drill: %+v", d.Databases)
	}
}
