package watch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/neo4jctl/neo4jctl/internal/kube"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
)

// missedExpr is the shape of the missed-schedule rule: time() - A > on(cluster)
// group_left() F * B. The test reads A, F and B from the rendered rule, so
// the rule and the metrics cannot drift apart unseen.
var missedExpr = regexp.MustCompile(`^time\(\) - (\w+) > on\(cluster\) group_left\(\) (\d+) \* (\w+)$`)

// evalMissed evaluates the rendered missed-schedule expression at now on
// the gathered series: per database, whether it fires.
func evalMissed(t *testing.T, reg *prometheus.Registry, now time.Time) map[string]bool {
	t.Helper()
	var expr string
	for _, r := range watchmanifests.BackupRuleGroup().Rules {
		if r.Alert == watchmanifests.AlertBackupMissed {
			expr = r.Expr
		}
	}
	m := missedExpr.FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("missed-schedule rule %q is not of the shape this test evaluates", expr)
	}
	factor, _ := strconv.ParseFloat(m[2], 64)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string][]*dto.Metric{}
	for _, f := range families {
		series[f.GetName()] = f.GetMetric()
	}
	label := func(mt *dto.Metric, name string) string {
		for _, l := range mt.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	period := map[string]float64{}
	for _, mt := range series[m[3]] {
		period[label(mt, "cluster")] = mt.GetGauge().GetValue()
	}
	out := map[string]bool{}
	for _, mt := range series[m[1]] {
		p, ok := period[label(mt, "cluster")]
		if !ok {
			continue // on(cluster): no match, no result
		}
		age := float64(now.Unix()) - mt.GetGauge().GetValue()
		out[label(mt, "database")] = age > factor*p
	}
	if len(out) == 0 {
		t.Fatalf("no series for %s joined with %s: %v", m[1], m[3], families)
	}
	return out
}

// catalogue writes one catalogued full backup per database, taken at the
// given time, into a file:// bucket, as the agent would.
func catalogue(t *testing.T, dir, cluster string, taken map[string]time.Time) {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+dir, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	for db, at := range taken {
		e, err := catalog.FromDump(cluster, db+".dump", at, catalog.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(db))
		e.KeyID, e.PlaintextSHA256, e.CiphertextSHA256 = "1234", hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
		e.PlaintextSize, e.CiphertextSize = 1000, 1040
		e.Catalogued = at.Add(90 * time.Second)
		if _, err := c.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMissedScheduleFailsHealthAndFiresAlert: a daily schedule whose
// newest backup of neo4j is three days old. The catalogue is a real
// file:// bucket read through healthcheck/observe as watch reads it; the
// health check FAILs, and the rendered missed-schedule alert's expression,
// evaluated on the metrics watch exports, is true for neo4j and false for
// movies (backed up two hours ago), which the check passes.
func TestMissedScheduleFailsHealthAndFiresAlert(t *testing.T) {
	dir := t.TempDir()
	// Noon UTC of yesterday, not the clock: with the daily 02:00 schedule
	// below, movies' backup two hours before a run between 02:00 and 04:00
	// would predate the last scheduled run, and the test failed then.
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
	catalogue(t, dir, "g", map[string]time.Time{"neo4j": now.Add(-72 * time.Hour), "movies": now.Add(-2 * time.Hour)})
	c := &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "g"}, Spec: clusterfile.Spec{
		Databases: []clusterfile.Database{{Name: "neo4j"}, {Name: "movies"}},
		Backups: &clusterfile.Backups{
			Storage:    clusterfile.BackupLocation{URL: "file://" + dir},
			Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "k"}},
			Schedule:   &clusterfile.BackupSchedule{Full: "0 2 * * *", Databases: []string{"neo4j", "movies"}},
		},
	}}
	in := observe.Backups(context.Background(), c, t.TempDir())
	if in == nil || in.Err != "" {
		t.Fatalf("observe.Backups: %+v", in)
	}
	in.Now = now
	check := healthcheck.CheckBackups(*in)
	if check.Status != healthcheck.Fail {
		t.Errorf("backups check: %s (%s), want FAIL\n%v", check.Status, check.Summary, check.Evidence)
	}
	reg := prometheus.NewRegistry()
	m := dwatch.NewBackupMetrics(reg)
	m.Record("g", in, false)
	fires := evalMissed(t, reg, now)
	if !fires["neo4j"] || fires["movies"] {
		t.Errorf("missed-schedule alert: %v, want neo4j firing and movies not", fires)
	}
	for _, d := range in.Databases {
		if d.Name == "movies" && (d.Bytes != 1040 || d.Duration != 90*time.Second) {
			t.Errorf("movies: bytes %d, duration %s; want 1040, 1m30s", d.Bytes, d.Duration)
		}
	}

	// A fresh backup of neo4j: the check passes and the alert stops.
	catalogue(t, dir, "g", map[string]time.Time{"neo4j": now.Add(-1 * time.Hour)})
	in = observe.Backups(context.Background(), c, t.TempDir())
	in.Now = now
	if check := healthcheck.CheckBackups(*in); check.Status != healthcheck.Pass {
		t.Errorf("after a fresh backup: %s (%s), want PASS", check.Status, check.Summary)
	}
	m.Record("g", in, false)
	if fires := evalMissed(t, reg, now); fires["neo4j"] || fires["movies"] {
		t.Errorf("after a fresh backup the alert fires: %v", fires)
	}
}

// Each failed backup Job counts once per database it names, however often
// watch sees it.
func TestBackupFailuresCountEachJobOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := dwatch.NewBackupMetrics(reg)
	jobs := []kube.FailedJob{
		{UID: "a", Args: []string{"backup", "lock", "--database", "*"}},
		{UID: "b", Args: []string{"backup", "lock", "--database", "neo4j", "--database", "movies"}},
	}
	m.CountFailures("g", jobs)
	m.CountFailures("g", jobs)
	families, _ := reg.Gather()
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != dwatch.MetricBackupFailures {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "database" {
					got[l.GetValue()] = mt.GetCounter().GetValue()
				}
			}
		}
	}
	if got["*"] != 1 || got["neo4j"] != 1 || got["movies"] != 1 {
		t.Errorf("failures: %v, want 1 each for *, neo4j, movies", got)
	}
}
