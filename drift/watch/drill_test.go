package watch_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/healthcheck/observe"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
)

// The shapes of the drill rules this test evaluates; it reads the metric
// names and the factor from the rendered rules, so rule and metrics
// cannot drift apart unseen.
var (
	drillFailedExpr = regexp.MustCompile(`^(\w+) == 1$`)
	drillStaleExpr  = regexp.MustCompile(`^time\(\) - (\w+) > on\(cluster\) (\d+) \* (\w+)$`)
	drillRTOExpr    = regexp.MustCompile(`^(\w+) > on\(cluster\) (\w+)$`)
)

// gauges is each gathered gauge's value by metric name and cluster label.
func gauges(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			if out[f.GetName()] == nil {
				out[f.GetName()] = map[string]float64{}
			}
			out[f.GetName()][clusterLabel(mt)] = mt.GetGauge().GetValue()
		}
	}
	return out
}

func clusterLabel(mt *dto.Metric) string {
	for _, l := range mt.GetLabel() {
		if l.GetName() == "cluster" {
			return l.GetValue()
		}
	}
	return ""
}

// evalDrillRules evaluates the rendered drill rules at now on the
// gathered series: for each alert, whether it fires for cluster.
func evalDrillRules(t *testing.T, reg *prometheus.Registry, cluster string, now time.Time) map[string]bool {
	t.Helper()
	g := gauges(t, reg)
	fires := map[string]bool{}
	for _, r := range watchmanifests.DrillRuleGroup().Rules {
		switch r.Alert {
		case watchmanifests.AlertDrillFailed:
			m := drillFailedExpr.FindStringSubmatch(r.Expr)
			if m == nil {
				t.Fatalf("%s: %q is not of the shape this test evaluates", r.Alert, r.Expr)
			}
			v, ok := g[m[1]][cluster]
			fires[r.Alert] = ok && v == 1
		case watchmanifests.AlertDrillStale:
			m := drillStaleExpr.FindStringSubmatch(r.Expr)
			if m == nil {
				t.Fatalf("%s: %q is not of the shape this test evaluates", r.Alert, r.Expr)
			}
			factor, _ := strconv.ParseFloat(m[2], 64)
			last, ok1 := g[m[1]][cluster]
			period, ok2 := g[m[3]][cluster]
			fires[r.Alert] = ok1 && ok2 && float64(now.Unix())-last > factor*period
		case watchmanifests.AlertDrillRTOObjective:
			m := drillRTOExpr.FindStringSubmatch(r.Expr)
			if m == nil {
				t.Fatalf("%s: %q is not of the shape this test evaluates", r.Alert, r.Expr)
			}
			rto, ok1 := g[m[1]][cluster]
			obj, ok2 := g[m[2]][cluster]
			fires[r.Alert] = ok1 && ok2 && rto > obj
		default:
			t.Fatalf("rule %s is not evaluated by this test", r.Alert)
		}
	}
	return fires
}

// putDrill records a drill in the file:// bucket as `dr drill` does.
func putDrill(t *testing.T, dir, cluster string, started time.Time, rto time.Duration, passed bool) {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+dir, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	healthy := started.Add(rto)
	d := catalog.Drill{Cluster: cluster, Namespace: "graphs", ScratchNamespace: cluster + "-drill", Where: "local",
		Started: started, Healthy: &healthy, Finished: healthy.Add(time.Minute), RTO: rto, RTOObjective: 10 * time.Minute, RPOObjective: time.Hour,
		Result: catalog.DrillPassed, Databases: []catalog.DrillDatabase{{Name: "neo4j", Newest: cluster + "/neo4j/x", RPO: 35 * time.Minute, Available: true}}}
	if !passed {
		d.Result, d.Missed = catalog.DrillFailed, []string{"RTO: " + rto.String() + " achieved, objective 10m0s"}
	}
	if _, err := c.PutDrill(ctx, d); err != nil {
		t.Fatal(err)
	}
}

// TestDrillFailsHealthAndFiresAlerts: the drill records are a real
// file:// bucket read through healthcheck/observe as watch reads them. A
// weekly drill schedule whose newest drill missed its RTO objective and
// whose last passed drill is 20 days old: backup.drill FAILs, and the
// rendered rules evaluated on the metrics watch exports fire (failed,
// stale, RTO above objective). A passed drill now: PASS, none fires. A
// scheduled cluster with no drill at all: WARN, and the stale alert
// fires (its last success is exported as 0).
func TestDrillFailsHealthAndFiresAlerts(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	cluster := func(name string) *clusterfile.Cluster {
		return &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: name}, Spec: clusterfile.Spec{Backups: &clusterfile.Backups{
			Storage:    clusterfile.BackupLocation{URL: "file://" + dir},
			Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "k"}},
			Drill:      &clusterfile.BackupDrill{Schedule: "0 5 * * 1"},
		}}}
	}
	putDrill(t, dir, "g", now.Add(-20*24*time.Hour), 4*time.Minute, true)
	putDrill(t, dir, "g", now.Add(-time.Hour), 14*time.Minute, false)
	reg := prometheus.NewRegistry()
	m := dwatch.NewDrillMetrics(reg)
	observeAndRecord := func(name string) healthcheck.Check {
		in := observe.Drills(context.Background(), cluster(name), t.TempDir())
		if in == nil || in.Err != "" {
			t.Fatalf("observe.Drills: %+v", in)
		}
		in.Now = now
		m.Record(name, in)
		return healthcheck.CheckDrill(*in)
	}

	if c := observeAndRecord("g"); c.Status != healthcheck.Fail {
		t.Errorf("backup.drill: %s (%s), want FAIL", c.Status, c.Summary)
	}
	g := gauges(t, reg)
	if g[dwatch.MetricDrillFailed]["g"] != 1 || g[dwatch.MetricDrillRTO]["g"] != 840 || g[dwatch.MetricDrillRPO]["g"] != 2100 ||
		g[dwatch.MetricDrillLastSuccess]["g"] != float64(now.Add(-20*24*time.Hour).Unix()) || g[dwatch.MetricDrillSchedulePeriod]["g"] != 7*86400 {
		t.Errorf("exported: %v", g)
	}
	fires := evalDrillRules(t, reg, "g", now)
	for _, a := range []string{watchmanifests.AlertDrillFailed, watchmanifests.AlertDrillStale, watchmanifests.AlertDrillRTOObjective} {
		if !fires[a] {
			t.Errorf("%s does not fire: %v", a, fires)
		}
	}

	// A passed drill now: the check passes and no alert fires.
	putDrill(t, dir, "g", now.Add(-10*time.Minute), 5*time.Minute, true)
	if c := observeAndRecord("g"); c.Status != healthcheck.Pass {
		t.Errorf("after a passed drill: %s (%s), want PASS", c.Status, c.Summary)
	}
	for a, f := range evalDrillRules(t, reg, "g", now) {
		if f {
			t.Errorf("after a passed drill %s fires", a)
		}
	}

	// Scheduled, never drilled: WARN, and the stale alert fires.
	if c := observeAndRecord("h"); c.Status != healthcheck.Warn {
		t.Errorf("never drilled: %s (%s), want WARN", c.Status, c.Summary)
	}
	if fires := evalDrillRules(t, reg, "h", now); !fires[watchmanifests.AlertDrillStale] || fires[watchmanifests.AlertDrillFailed] {
		t.Errorf("never drilled: %v, want only the stale alert", fires)
	}
	m.Forget("g")
	if _, ok := gauges(t, reg)[dwatch.MetricDrillFailed]["g"]; ok {
		t.Error("series left after Forget")
	}
}
