package watch

import (
	"strconv"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// DR drill alert names (group DrillRuleGroupName), on the drill metrics
// watch exports from the drill records (drift/watch/drill.go).
const (
	AlertDrillFailed       = "Neo4jctlDRDrillFailed"
	AlertDrillStale        = "Neo4jctlDRDrillStale"
	AlertDrillRTOObjective = "Neo4jctlDRDrillRTOAboveObjective"
)

// DrillRuleGroupName is the name of the DR drill rule group: its own
// group, so no other feature's rules are edited to add it.
const DrillRuleGroupName = "neo4jctl-dr-drill"

// DrillStaleFactor is how many drill schedule periods may pass without a
// passed drill before the stale alert fires: backup.drill's WARN bound
// (healthcheck.CheckDrill).
const DrillStaleFactor = 2

// DrillRuleGroup alerts when the newest drill failed (what backup.drill
// FAILs on), when no drill passed within two schedule periods (a
// scheduled cluster with none exports a last success of 0, so it fires
// at once), and when the newest drill's RTO is above the objective.
func DrillRuleGroup() RuleGroup {
	return RuleGroup{Name: DrillRuleGroupName, Rules: []Rule{
		{AlertDrillFailed, dwatch.MetricDrillFailed + " == 1", "0m", "critical",
			"The newest DR drill of {{ $labels.cluster }} missed an objective or never became healthy: a recovery now would not meet spec.backups.objectives. See neo4jctl healthcheck's backup.drill and the drill's report."},
		{AlertDrillStale, "time() - " + dwatch.MetricDrillLastSuccess + " > on(cluster) " + strconv.Itoa(DrillStaleFactor) + " * " + dwatch.MetricDrillSchedulePeriod, "1h", "warning",
			"No DR drill of {{ $labels.cluster }} passed within two periods of spec.backups.drill.schedule: check the job that runs neo4jctl dr drill."},
		{AlertDrillRTOObjective, dwatch.MetricDrillRTO + " > on(cluster) " + dwatch.MetricDrillRTOObjective, "0m", "warning",
			"The newest DR drill of {{ $labels.cluster }} took {{ $value | humanizeDuration }} to be healthy, above spec.backups.objectives.rto."},
	}}
}

// drillRow is the dashboard's DR drill row.
var drillRow = DashboardRow{Title: "DR drills (records)", Panels: []Panel{
	{"RTO achieved (newest drill)", dwatch.MetricDrillRTO, "{{cluster}}", "s"},
	{"RTO objective", dwatch.MetricDrillRTOObjective, "{{cluster}}", "s"},
	{"RPO (newest drill)", dwatch.MetricDrillRPO, "{{cluster}}", "s"},
	{"Age of the newest passed drill", "time() - " + dwatch.MetricDrillLastSuccess, "{{cluster}}", "s"},
	{"Newest drill failed", dwatch.MetricDrillFailed, "{{cluster}}", "bool"},
}}

// DrillMonitoring is the drill rule group and dashboard row for
// Options.RuleGroups and Options.DashboardRows when the cluster file sets
// spec.backups.drill.schedule; none otherwise (without a schedule a drill
// is a one-off, and healthcheck still FAILs a failed one).
func DrillMonitoring(b *clusterfile.Backups) ([]RuleGroup, []DashboardRow) {
	if b == nil || b.Drill == nil || b.Drill.Schedule == "" {
		return nil, nil
	}
	return []RuleGroup{DrillRuleGroup()}, []DashboardRow{drillRow}
}
