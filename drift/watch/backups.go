package watch

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Backup metric names, per cluster and database, also used by the
// PrometheusRule group and dashboard row manifests/watch renders.
//
// They are exported by watch from the catalogue it already reads for the
// backups health check, not pushed by the backup Pods: a Pushgateway
// would keep a dead run's last push forever and needs a push path from
// every Job, while the catalogue is the record of what was stored —
// a backup counts when its entry exists, whoever took it (CronJob,
// backup create, another region sharing the bucket).
const (
	// MetricBackupLastSuccess is when the newest catalogued backup was
	// taken (Unix seconds); 0 for a scheduled database with none.
	MetricBackupLastSuccess = "neo4jctl_backup_last_success_timestamp_seconds"
	// MetricBackupFailures counts the failed backup Jobs watch has seen
	// (the Job controller keeps the last three per CronJob; a counter
	// that restarts with watch, as counters do).
	MetricBackupFailures = "neo4jctl_backup_failures_total"
	// MetricBackupBytes is the newest backup's stored (encrypted) size.
	MetricBackupBytes = "neo4jctl_backup_bytes"
	// MetricBackupDuration is the newest backup's time from neo4j-admin's
	// timestamp to its catalogue entry.
	MetricBackupDuration = "neo4jctl_backup_duration_seconds"
	// MetricBackupSchedulePeriod is the schedule's longest gap between
	// two runs: the alerts compare ages with it, as the health check does.
	MetricBackupSchedulePeriod = "neo4jctl_backup_schedule_period_seconds"
	// MetricBackupCopyLag is the age of the oldest backup still missing
	// a copy in one of spec.backups.copies (0 when all are copied).
	MetricBackupCopyLag = "neo4jctl_backup_copy_lag_seconds"
)

// BackupMetrics are the backup collectors.
type BackupMetrics struct {
	last, bytes, duration, copyLag *prometheus.GaugeVec
	period                         *prometheus.GaugeVec
	failures                       *prometheus.CounterVec

	mu      sync.Mutex
	counted map[string]bool // failed Job UIDs already counted
}

// NewBackupMetrics registers the backup collectors.
func NewBackupMetrics(reg prometheus.Registerer) *BackupMetrics {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &BackupMetrics{
		last:     g(MetricBackupLastSuccess, "When the newest catalogued backup of the database was taken (Unix seconds; 0: none).", "cluster", "database"),
		bytes:    g(MetricBackupBytes, "Stored (encrypted) size of the newest backup of the database.", "cluster", "database"),
		duration: g(MetricBackupDuration, "Time from neo4j-admin's timestamp to the catalogue entry of the newest backup.", "cluster", "database"),
		copyLag:  g(MetricBackupCopyLag, "Age of the oldest backup still missing a copy (0: all copied).", "cluster", "database"),
		period:   g(MetricBackupSchedulePeriod, "Longest gap between two runs of the backup schedule.", "cluster"),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricBackupFailures, Help: "Failed backup Jobs seen, by database of the run."}, []string{"cluster", "database"}),
		counted:  map[string]bool{},
	}
	reg.MustRegister(m.last, m.bytes, m.duration, m.copyLag, m.period, m.failures)
	return m
}

// Forget removes a cluster's gauges (its failure counter stays: a
// counter only grows).
func (m *BackupMetrics) Forget(cluster string) {
	for _, v := range []*prometheus.GaugeVec{m.last, m.bytes, m.duration, m.copyLag, m.period} {
		v.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	}
}

// Record replaces a cluster's gauges with what the catalogue shows (in,
// as the health check read it). A catalogue that could not be read
// leaves no series: the health check's UNKNOWN says why, and stale
// figures would hide it.
func (m *BackupMetrics) Record(cluster string, in *healthcheck.BackupInput, copies bool) {
	m.Forget(cluster)
	if in == nil || in.Err != "" {
		return
	}
	if p, err := healthcheck.SchedulePeriod(*in); err == nil && p > 0 {
		m.period.WithLabelValues(cluster).Set(p.Seconds())
	}
	for _, d := range in.Databases {
		if d.LastSuccess.IsZero() {
			m.last.WithLabelValues(cluster, d.Name).Set(0)
			continue
		}
		m.last.WithLabelValues(cluster, d.Name).Set(float64(d.LastSuccess.Unix()))
		m.bytes.WithLabelValues(cluster, d.Name).Set(float64(d.Bytes))
		m.duration.WithLabelValues(cluster, d.Name).Set(d.Duration.Seconds())
		if copies {
			lag := 0.0
			if !d.UncopiedSince.IsZero() {
				lag = in.Now.Sub(d.UncopiedSince).Seconds()
			}
			m.copyLag.WithLabelValues(cluster, d.Name).Set(lag)
		}
	}
}

// CountFailures adds the failed backup Jobs not counted yet, once per
// database each names (the lock holder's --database arguments).
func (m *BackupMetrics) CountFailures(cluster string, jobs []kube.FailedJob) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range jobs {
		if m.counted[j.UID] {
			continue
		}
		m.counted[j.UID] = true
		dbs := map[string]bool{}
		for i := 0; i+1 < len(j.Args); i++ {
			if j.Args[i] == "--database" {
				dbs[j.Args[i+1]] = true
			}
		}
		if len(dbs) == 0 {
			dbs["*"] = true
		}
		for db := range dbs {
			m.failures.WithLabelValues(cluster, db).Inc()
		}
	}
}

// recordBackups exports the backup metrics of one health observation and
// counts the cluster's failed backup Jobs.
func (c *cluster) recordBackups(ctx context.Context, in *healthcheck.BackupInput) {
	w := c.w
	b := c.t.Cluster.Spec.Backups
	if w.bm == nil || b == nil {
		return
	}
	w.bm.Record(c.name, in, len(b.Copies) > 0)
	sel := manifests.LabelComponent + "=" + manifests.BackupComponent + "," + manifests.LabelInstance + "=" + c.t.Cluster.Metadata.Name
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	jobs, err := w.Runner.Kube.FailedJobs(lctx, c.t.Namespace, sel)
	if err != nil {
		if ctx.Err() == nil {
			w.emit(Event{Type: "health", Level: LevelWarn, Cluster: c.name, Message: "backup Jobs: " + err.Error()})
		}
		return
	}
	w.bm.CountFailures(c.name, jobs)
}
