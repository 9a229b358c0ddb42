package watch

import (
	"strconv"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

// Backup alert names in the PrometheusRule (group BackupRuleGroupName),
// on the backup metrics watch exports from the catalogue
// (drift/watch/backups.go).
const (
	AlertBackupMissed      = "Neo4jctlBackupMissed"
	AlertBackupFailing     = "Neo4jctlBackupFailing"
	AlertBackupCopyLagging = "Neo4jctlBackupCopyLagging"
)

// BackupRuleGroupName is the name of the backups' rule group.
const BackupRuleGroupName = "neo4jctl-backup"

// BackupMissedFactor is how many schedule periods a database's newest
// backup may be old before the missed-schedule alert fires: the backups
// health check's FAIL threshold (healthcheck.CheckBackups), so the alert
// fires on what `neo4jctl healthcheck` exits 3 for.
const BackupMissedFactor = 2

// BackupRuleGroup alerts on a missed schedule, failed runs and copies
// lagging behind. A scheduled database without any backup is exported
// with a last success of 0, so it counts as missed at once.
func BackupRuleGroup() RuleGroup {
	return RuleGroup{Name: BackupRuleGroupName, Rules: []Rule{
		{AlertBackupMissed, "time() - " + dwatch.MetricBackupLastSuccess + " > on(cluster) group_left() " +
			strconv.Itoa(BackupMissedFactor) + " * " + dwatch.MetricBackupSchedulePeriod, "10m", "critical",
			"Database {{ $labels.database }} of {{ $labels.cluster }} has no backup within two schedule periods; see neo4jctl healthcheck's backup.freshness and the backup Jobs."},
		{AlertBackupFailing, "increase(" + dwatch.MetricBackupFailures + "[1h]) > 0", "0m", "warning",
			"A backup run of {{ $labels.database }} of {{ $labels.cluster }} failed in the last hour: kubectl logs job/NAME --all-containers (label app.kubernetes.io/component=neo4jctl-backup)."},
		{AlertBackupCopyLagging, dwatch.MetricBackupCopyLag + " > on(cluster) group_left() " + dwatch.MetricBackupSchedulePeriod, "30m", "warning",
			"A backup of {{ $labels.database }} of {{ $labels.cluster }} has been missing a copy for {{ $value | humanizeDuration }}: check the copy buckets' credentials and the agent's log."},
	}}
}

// backupRow is the dashboard's backup row.
var backupRow = DashboardRow{Title: "Backups (catalogue)", Panels: []Panel{
	{"Age of the newest backup", "time() - " + dwatch.MetricBackupLastSuccess, "{{cluster}} {{database}}", "s"},
	{"Schedule period", dwatch.MetricBackupSchedulePeriod, "{{cluster}}", "s"},
	{"Failed runs (1h)", "increase(" + dwatch.MetricBackupFailures + "[1h])", "{{cluster}} {{database}}", "short"},
	{"Size of the newest backup", dwatch.MetricBackupBytes, "{{cluster}} {{database}}", "bytes"},
	{"Duration of the newest backup", dwatch.MetricBackupDuration, "{{cluster}} {{database}}", "s"},
	{"Copy lag", dwatch.MetricBackupCopyLag, "{{cluster}} {{database}}", "s"},
}}

// backupRows is the backup row when watch watches cluster files with
// spec.backups.
func backupRows(o Options) []DashboardRow {
	if !o.Backups {
		return nil
	}
	return []DashboardRow{backupRow}
}
