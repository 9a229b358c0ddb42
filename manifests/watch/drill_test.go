package watch

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// With spec.backups.drill.schedule the PrometheusRule holds the DR drill
// group, its own, and the dashboard a drill row; without a schedule (or
// without backups) neither is rendered.
func TestDrillRuleGroupOnlyWithSchedule(t *testing.T) {
	render := func(b *clusterfile.Backups) (map[string]string, string) {
		o := Options{Backups: b != nil}
		o.RuleGroups, o.DashboardRows = DrillMonitoring(b)
		objs, err := Render(pinned(o))
		if err != nil {
			t.Fatal(err)
		}
		rule := find(objs, "PrometheusRule")
		gs, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
		out := map[string]string{}
		for _, g := range gs {
			g := g.(map[string]any)
			var exprs []string
			for _, r := range g["rules"].([]any) {
				exprs = append(exprs, r.(map[string]any)["alert"].(string)+": "+r.(map[string]any)["expr"].(string))
			}
			out[g["name"].(string)] = strings.Join(exprs, "\n")
		}
		dash, _, _ := unstructured.NestedString(find(objs, "ConfigMap").Object, "data", "neo4jctl-watch.json")
		return out, dash
	}
	scheduled := &clusterfile.Backups{Drill: &clusterfile.BackupDrill{Schedule: "0 5 * * 1"}}
	groups, dash := render(scheduled)
	g, ok := groups[DrillRuleGroupName]
	for _, want := range []string{
		AlertDrillFailed + ": neo4jctl_dr_drill_failed == 1",
		AlertDrillStale + ": time() - neo4jctl_dr_drill_last_success_timestamp_seconds > on(cluster) 2 * neo4jctl_dr_drill_schedule_period_seconds",
		AlertDrillRTOObjective + ": neo4jctl_dr_drill_rto_seconds > on(cluster) neo4jctl_dr_drill_rto_objective_seconds",
	} {
		if !ok || !strings.Contains(g, want) {
			t.Errorf("group %s lacks %q:\n%s", DrillRuleGroupName, want, g)
		}
	}
	if _, ok := groups[VerificationRuleGroupName]; !ok {
		t.Errorf("the verification group is gone: %v", groups)
	}
	for _, m := range []string{"DR drills (records)", dwatch.MetricDrillRTO, dwatch.MetricDrillRPO, dwatch.MetricDrillLastSuccess, dwatch.MetricDrillFailed} {
		if !strings.Contains(dash, m) {
			t.Errorf("dashboard lacks %s", m)
		}
	}
	for name, b := range map[string]*clusterfile.Backups{"no backups": nil, "no drill schedule": {}} {
		groups, dash := render(b)
		if _, ok := groups[DrillRuleGroupName]; ok || strings.Contains(dash, "DR drills") {
			t.Errorf("%s: drill group or row rendered", name)
		}
	}
}
