package watch

import (
	"strconv"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// Health alert names in the PrometheusRule (group HealthRuleGroupName),
// on the healthcheck metrics watch exports (drift/watch/health.go).
const (
	AlertHealthCheckFailing  = "Neo4jctlHealthCheckFailing"
	AlertHealthCheckUnknown  = "Neo4jctlHealthCheckUnknown"
	AlertSplitBrain          = "Neo4jctlSplitBrain"
	AlertStorageAlmostFull   = "Neo4jctlStorageAlmostFull"
	AlertCertificateExpiring = "Neo4jctlCertificateExpiring"
	AlertReplicationLag      = "Neo4jctlReplicationLag"
)

// HealthRuleGroupName is the name of the health check's rule group.
const HealthRuleGroupName = "neo4jctl-health"

// HealthRuleGroup alerts on the checks that FAIL. The thresholds are the
// checks' own FAIL thresholds (docs/healthcheck.md), so an alert fires on
// what `neo4jctl healthcheck` would exit 3 for; the generic rule names the
// check, the specific ones carry the figure.
func HealthRuleGroup() RuleGroup {
	return RuleGroup{Name: HealthRuleGroupName, Rules: []Rule{
		{AlertHealthCheckFailing, dwatch.MetricHealthCheck + " == 2", "5m", "critical",
			"Health check {{ $labels.check }} of {{ $labels.cluster }} FAILs; run neo4jctl healthcheck for the evidence and the fix."},
		// Two reads at least 5 s apart already showed it: a split-brain is
		// never a flap. neo4jctl does not act on it.
		{AlertSplitBrain, dwatch.MetricHealthSplitBrain + " > 0", "1m", "critical",
			"{{ $value }} database(s) of {{ $labels.cluster }} have two servers reporting themselves writer (split-brain); neo4jctl does not act on it: see neo4jctl healthcheck's neo4j.databases.writer."},
		{AlertStorageAlmostFull, dwatch.MetricHealthStorageUsed + " >= 0.95", "5m", "critical",
			"Claim {{ $labels.claim }} of {{ $labels.cluster }} is {{ $value | humanizePercentage }} full; grow spec.storage.data.size and run neo4jctl apply."},
		{AlertCertificateExpiring, dwatch.MetricHealthCertificateExpiry + " < 7 * 86400", "10m", "critical",
			"The TLS certificate in Secret {{ $labels.secret }} of {{ $labels.cluster }} expires in {{ $value | humanizeDuration }}; check cert-manager's Certificate."},
		// The healthcheck warns above healthcheck.ReplicationLagWarn; the
		// alert waits for it to last ("persistently high", the manual).
		{AlertReplicationLag, dwatch.MetricReplicationLag + " > " + strconv.Itoa(healthcheck.ReplicationLagWarn), "15m", "warning",
			"The copy of {{ $labels.database }} on {{ $labels.server }} ({{ $labels.cluster }}) has been {{ $value }} transactions behind its writer for 15 minutes; see neo4jctl healthcheck's neo4j.databases.lag."},
		{AlertHealthCheckUnknown, dwatch.MetricHealthCheckUnknown + " == 1", "15m", "warning",
			"Health check {{ $labels.check }} of {{ $labels.cluster }} could not run; see the watch logs (a plane that cannot be read is never healthy)."},
	}}
}

// healthRow is the dashboard's health row.
var healthRow = DashboardRow{Title: "Health (neo4jctl healthcheck)", Panels: []Panel{
	{"Failing checks", "count by (cluster) (" + dwatch.MetricHealthCheck + " == 2) or sum by (cluster) (" + dwatch.MetricHealthCheck + " * 0)", "{{cluster}}", "short"},
	{"Check status (0 PASS, 1 WARN, 2 FAIL)", dwatch.MetricHealthCheck, "{{cluster}} {{check}}", "short"},
	{"Split-brain databases", dwatch.MetricHealthSplitBrain, "{{cluster}}", "short"},
	{"Store used", dwatch.MetricHealthStorageUsed, "{{cluster}} {{claim}}", "percentunit"},
	{"Heap + page cache of the memory limit", dwatch.MetricHealthMemoryBudget, "{{cluster}} {{statefulset}}", "percentunit"},
	{"Certificate expiry", dwatch.MetricHealthCertificateExpiry, "{{cluster}} {{secret}}", "s"},
	{"Replication lag (transactions behind the writer)", dwatch.MetricReplicationLag, "{{cluster}} {{database}} {{server}}", "short"},
	{"Checks that could not run", "sum by (cluster) (" + dwatch.MetricHealthCheckUnknown + ")", "{{cluster}}", "short"},
}}
