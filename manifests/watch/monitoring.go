package watch

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

// RuleGroup is one group of the rendered PrometheusRule. Watch's own group
// comes first (WatchRuleGroupName); features with their own metrics
// (health, backup) add theirs through Options.RuleGroups, so one object
// carries every neo4jctl alert and each feature owns its group.
type RuleGroup struct {
	Name  string
	Rules []Rule
}

// Rule is one alerting rule.
type Rule struct {
	Alert string
	// Expr must fire when its subject is gone, not only when a series has
	// a bad value: an alert on a metric of a process that is down sees no
	// series and never fires, so such rules add absent() (see
	// AlertWatchDown).
	Expr     string
	For      string
	Severity string // critical | warning
	Summary  string
}

// Alert names in the PrometheusRule.
const (
	AlertWatchDown        = "Neo4jctlWatchDown"
	AlertNoLeader         = "Neo4jctlWatchNoLeader"
	AlertAuditFailing     = "Neo4jctlAuditLogFailing"
	AlertDrift            = "Neo4jctlDriftPresent"
	AlertReconcileFail    = "Neo4jctlReconcileFailing"
	AlertNeo4jUnreachable = "Neo4jctlNeo4jUnreachable"
)

// WatchRuleGroupName is the name of watch's own rule group.
const WatchRuleGroupName = "neo4jctl-watch"

// scrapeSelector matches the series Prometheus stores for watch's
// replicas: the ServiceMonitor's scrape sets job to the Service's name and
// namespace to the Service's namespace. absent() of a series with these
// equality matchers returns them as labels, so the alert says which watch.
func scrapeSelector(o Options) string {
	return fmt.Sprintf(`{job=%q,namespace=%q}`, o.Name, o.Namespace)
}

// WatchRuleGroup is watch's own rule group.
func WatchRuleGroup(o Options) RuleGroup {
	o = o.withDefaults()
	sel := scrapeSelector(o)
	return RuleGroup{Name: WatchRuleGroupName, Rules: []Rule{
		// No replica scraped and up: nothing reconciles, reports drift or
		// writes the audit log, and every other watch alert is silent.
		{AlertWatchDown, "absent(up" + sel + " == 1)", "5m", "critical",
			"No neo4jctl watch replica in {{ $labels.namespace }} is up: drift goes unreported and unrepaired. Check the Deployment " + o.Name + "."},
		// Replicas up but none leading, or no replica at all.
		{AlertNoLeader, "max(" + dwatch.MetricLeader + sel + ") < 1 or absent(" + dwatch.MetricLeader + sel + ")", "5m", "warning",
			"No neo4jctl watch replica holds the leader Lease: nothing is being reconciled."},
		{AlertAuditFailing, dwatch.MetricAuditPending + sel + " > 0", "5m", "critical",
			"neo4jctl watch cannot write its audit log ({{ $value }} entries waiting): enforce mode is stopped and the replica is not ready."},
		{AlertDrift, dwatch.MetricDriftObjects + " > 0", "10m", "warning",
			"Neo4j cluster {{ $labels.cluster }} has drifted from its cluster file ({{ $value }} addresses); run neo4jctl drift to see what changed."},
		{AlertReconcileFail, "increase(" + dwatch.MetricReconcileErrors + "[15m]) > 0 and on(cluster) increase(" + dwatch.MetricReconcileDuration + "_count[15m]) == 0", "15m", "warning",
			"neo4jctl watch cannot reconcile {{ $labels.cluster }}: see the watch logs and the cluster's Events."},
		{AlertNeo4jUnreachable, dwatch.MetricNeo4jReachable + " == 0", "5m", "critical",
			"neo4jctl watch cannot reach Neo4j of {{ $labels.cluster }}; see neo4jctl_circuit_state and the watch logs."},
	}}
}

// ruleGroups is watch's group, the health group (watch always exports
// the health metrics), then o.RuleGroups, names unique.
func ruleGroups(o Options) ([]RuleGroup, error) {
	groups := []RuleGroup{WatchRuleGroup(o), HealthRuleGroup()}
	if o.Backups {
		// watch exports the backup and verification metrics of clusters
		// with backups.
		groups = append(groups, BackupRuleGroup(), VerificationRuleGroup())
	}
	groups = append(groups, o.RuleGroups...)
	seen := map[string]bool{}
	for _, g := range groups {
		if g.Name == "" || seen[g.Name] {
			return nil, fmt.Errorf("PrometheusRule group name %q is empty or repeated", g.Name)
		}
		seen[g.Name] = true
	}
	return groups, nil
}

func prometheusRule(o Options, labels map[string]string, groups []RuleGroup) *unstructured.Unstructured {
	var gs []any
	for _, g := range groups {
		var rules []any
		for _, r := range g.Rules {
			rules = append(rules, map[string]any{
				"alert": r.Alert, "expr": r.Expr, "for": r.For,
				"labels":      map[string]any{"severity": r.Severity},
				"annotations": map[string]any{"summary": r.Summary},
			})
		}
		gs = append(gs, map[string]any{"name": g.Name, "rules": rules})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
		"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": anyMap(labels)},
		"spec":     map[string]any{"groups": gs},
	}}
}

// DashboardRow is a collapsible row of the dashboard. Watch's panels come
// first; features add rows through Options.DashboardRows.
type DashboardRow struct {
	Title  string
	Panels []Panel
}

// Panel is one time series panel.
type Panel struct {
	Title  string
	Expr   string
	Legend string
	Unit   string
}

// watchRow is watch's own row.
var watchRow = DashboardRow{Title: "neo4jctl watch", Panels: []Panel{
	{"Drifted addresses", dwatch.MetricDriftObjects, "{{cluster}}", "short"},
	{"Reconcile duration (p95)", "histogram_quantile(0.95, sum by (le, cluster) (rate(" + dwatch.MetricReconcileDuration + "_bucket[5m])))", "{{cluster}}", "s"},
	{"Enforce applies", "sum by (cluster, result) (increase(" + dwatch.MetricApplyTotal + "[1h]))", "{{cluster}} {{result}}", "short"},
	{"Neo4j reachable", dwatch.MetricNeo4jReachable, "{{cluster}}", "bool"},
	{"Circuit breaker (0 closed, 1 half-open, 2 open)", dwatch.MetricCircuitState, "{{cluster}}", "short"},
	{"Leader", dwatch.MetricLeader, "{{pod}}", "bool"},
	{"Steps waiting for a person", dwatch.MetricHeldSteps, "{{cluster}}", "short"},
	{"Reconcile errors", "increase(" + dwatch.MetricReconcileErrors + "[15m])", "{{cluster}}", "short"},
	{"Audit entries waiting to be written", dwatch.MetricAuditPending, "{{pod}}", "short"},
}}

// Dashboard is the Grafana dashboard JSON (Prometheus data source chosen
// by the ${datasource} variable): watch's row, the health row, then rows, each a row
// panel followed by its panels, two to a line.
func Dashboard(rows ...DashboardRow) string {
	var panels []any
	id, y := 1, 0
	for _, r := range append([]DashboardRow{watchRow, healthRow}, rows...) {
		panels = append(panels, map[string]any{
			"id": id, "type": "row", "title": r.Title, "collapsed": false,
			"gridPos": map[string]any{"h": 1, "w": 24, "x": 0, "y": y},
		})
		id, y = id+1, y+1
		for i, p := range r.Panels {
			legend := p.Legend
			if legend == "" {
				legend = "{{cluster}}"
			}
			panels = append(panels, map[string]any{
				"id": id, "title": p.Title, "type": "timeseries", "datasource": map[string]any{"type": "prometheus", "uid": "${datasource}"},
				"gridPos":     map[string]any{"h": 8, "w": 12, "x": 12 * (i % 2), "y": y + 8*(i/2)},
				"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
				"targets":     []any{map[string]any{"expr": p.Expr, "legendFormat": legend, "refId": "A"}},
			})
			id++
		}
		y += 8 * ((len(r.Panels) + 1) / 2)
	}
	d := map[string]any{
		"title": "neo4jctl", "uid": "neo4jctl-watch", "schemaVersion": 39, "version": 1,
		"tags": []any{"neo4j", "neo4jctl"}, "time": map[string]any{"from": "now-6h", "to": "now"},
		"templating": map[string]any{"list": []any{map[string]any{"name": "datasource", "type": "datasource", "query": "prometheus"}}},
		"panels":     panels,
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
