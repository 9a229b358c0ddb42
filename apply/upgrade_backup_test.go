package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// An upgrade pre-flight with a backup age passes only when every database
// has a catalogued backup younger than it; a stale or missing backup, an
// unreadable catalogue or no reader at all stops it before the Pod.
func TestUpgradePreflightBackupCheck(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	step := plan.Step{ID: "s01", Kind: plan.KindUpgradePreflight, Address: "k8s:apps/StatefulSet/ns/graph",
		Upgrade: &plan.UpgradeStep{From: "5.26.0", To: "5.26.1", MaxBackupAge: "6h0m0s"},
		Rollout: &plan.Rollout{StatefulSet: plantest.Name, Pods: []string{plantest.Name + "-2"}}}
	reader := func(dbs []healthcheck.BackupDatabase, err error) func(context.Context) ([]healthcheck.BackupDatabase, error) {
		return func(context.Context) ([]healthcheck.BackupDatabase, error) { return dbs, err }
	}
	tests := []struct {
		name   string
		reader func(context.Context) ([]healthcheck.BackupDatabase, error)
		want   string // "" means passes
	}{
		{name: "fresh", reader: reader([]healthcheck.BackupDatabase{{Name: "movies", LastSuccess: now.Add(-time.Hour)}, {Name: "system", LastSuccess: now.Add(-2 * time.Hour)}}, nil)},
		{name: "stale", reader: reader([]healthcheck.BackupDatabase{{Name: "movies", LastSuccess: now.Add(-7 * time.Hour)}}, nil), want: "movies's newest backup is 7h0m0s old"},
		{name: "none", reader: reader([]healthcheck.BackupDatabase{{Name: "movies"}}, nil), want: "movies has no backup"},
		{name: "unreadable", reader: reader(nil, errors.New("bucket gone")), want: "could not read the catalogue: bucket gone"},
		{name: "no reader", want: "could not read the catalogue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, k, n := newFakes(3)
			ex := executor(k, n, &recorder{})
			ex.Options.StepTimeout, ex.Options.Now, ex.Options.Backups = 200*time.Millisecond, func() time.Time { return now }, tt.reader
			_, err := ex.upgradePreflight(context.Background(), step)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want the pre-flight to pass", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--skip-backup-check")):
				t.Errorf("got %v, want an error naming %q and the way out (--skip-backup-check)", err, tt.want)
			}
		})
	}
}
