package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// With spec.backups, each upgrade pre-flight carries the backup age apply
// checks in the catalogue (spec.upgrade.maxBackupAge, default 24h), and
// the plan says so; --skip-backup-check leaves it out; without
// spec.backups there is none.
func TestComputeUpgradeBackupCheck(t *testing.T) {
	compute := func(backups *clusterfile.Backups, upgrade *clusterfile.UpgradeSpec, opts plan.Options) *plan.Plan {
		c := plantest.Cluster(3)
		c.Spec.Version, c.Spec.Image = "5.26.1", "neo4j:5.26.1-enterprise"
		c.Spec.Backups, c.Spec.Upgrade = backups, upgrade
		k := plantest.Converged(c, 3)
		sts := plantest.Object(&k, "StatefulSet", plantest.Name)
		spec := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		spec["containers"].([]any)[0].(map[string]any)["image"] = "neo4j:5.26.0-enterprise"
		n := plantest.Neo4j(3)
		for id, s := range n.Servers {
			s.Version = "5.26.0"
			n.Servers[id] = s
		}
		return mustCompute(t, plantest.Desired(c), k, n, opts)
	}
	ages := func(p *plan.Plan) (got []string) {
		for _, s := range p.Steps {
			if s.Kind == plan.KindUpgradePreflight {
				if s.Upgrade == nil {
					t.Fatalf("pre-flight %s carries no upgrade", s.ID)
				}
				got = append(got, s.Upgrade.MaxBackupAge+"|"+s.Reason)
			}
		}
		return got
	}
	bk := &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "file:///backups"}}
	for _, tt := range []struct {
		name    string
		backups *clusterfile.Backups
		upgrade *clusterfile.UpgradeSpec
		opts    plan.Options
		age     string
		reason  string
	}{
		{name: "default age", backups: bk, age: "24h0m0s", reason: "catalogued backup younger than 24h0m0s"},
		{name: "set age", backups: bk, upgrade: &clusterfile.UpgradeSpec{MaxBackupAge: "6h"}, age: "6h0m0s", reason: "younger than 6h0m0s"},
		{name: "skipped", backups: bk, opts: plan.Options{SkipBackupCheck: true}, reason: "backup check skipped (--skip-backup-check)"},
		{name: "no spec.backups", reason: "no backup check: spec.backups is not set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ages(compute(tt.backups, tt.upgrade, tt.opts))
			if len(got) != 3 {
				t.Fatalf("got %d pre-flights, want 3", len(got))
			}
			for _, g := range got {
				age, reason, _ := strings.Cut(g, "|")
				if age != tt.age || !strings.Contains(reason, tt.reason) {
					t.Errorf("pre-flight age %q reason %q: want age %q and a reason with %q", age, reason, tt.age, tt.reason)
				}
			}
		})
	}
}
