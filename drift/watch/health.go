package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/healthcheck/observe"
)

// Health metric names, also used by the PrometheusRule and the dashboard
// that manifests/watch renders.
const (
	// MetricHealthCheck is each healthcheck check's status: 0 PASS, 1 WARN,
	// 2 FAIL (docs/healthcheck.md lists the check IDs). A check that does
	// not apply (SKIP) or could not run (UNKNOWN) has no series here.
	MetricHealthCheck = "neo4jctl_health_check"
	// MetricHealthCheckUnknown is 1 for a check that could not run, so an
	// unreadable plane is seen without being mistaken for a FAIL.
	MetricHealthCheckUnknown = "neo4jctl_health_check_unknown"
	// MetricHealthSplitBrain counts the databases more than one server
	// reports itself writer for (on two reads apart when the first shows
	// any); absent while SHOW DATABASES cannot be read.
	MetricHealthSplitBrain = "neo4jctl_health_split_brain_databases"
	// MetricHealthStorageUsed is each claim's used fraction of its
	// capacity, from the kubelets' volume stats.
	MetricHealthStorageUsed = "neo4jctl_health_storage_used_ratio"
	// MetricHealthMemoryBudget is each pool's heap + page cache over its
	// container's memory limit (the cluster file's figures).
	MetricHealthMemoryBudget = "neo4jctl_health_memory_budget_ratio"
	// MetricHealthCertificateExpiry is the seconds until the TLS Secret's
	// leaf certificate expires.
	MetricHealthCertificateExpiry = "neo4jctl_health_certificate_expiry_seconds"
	// MetricReplicationLag is how many transactions each copy of a
	// database is behind its writer (SHOW DATABASES replicationLag), per
	// server; absent while SHOW DATABASES cannot be read.
	MetricReplicationLag = "neo4jctl_database_replication_lag"
)

// healthMetrics are the collectors of the healthcheck's figures.
type healthMetrics struct {
	check   *prometheus.GaugeVec
	unknown *prometheus.GaugeVec
	split   *prometheus.GaugeVec
	storage *prometheus.GaugeVec
	memory  *prometheus.GaugeVec
	cert    *prometheus.GaugeVec
	lag     *prometheus.GaugeVec
	verify  *verifyMetrics
	drill   *DrillMetrics
}

func newHealthMetrics(reg *prometheus.Registry) *healthMetrics {
	h := &healthMetrics{
		check: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthCheck, Help: "Status of each neo4jctl healthcheck check: 0 PASS, 1 WARN, 2 FAIL (SKIP and UNKNOWN have no series).",
		}, []string{"cluster", "check"}),
		unknown: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthCheckUnknown, Help: "1 for a healthcheck check that could not run (its plane could not be read).",
		}, []string{"cluster", "check"}),
		split: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthSplitBrain, Help: "Databases that more than one server reports itself writer for (a split-brain when it lasts).",
		}, []string{"cluster"}),
		storage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthStorageUsed, Help: "Used fraction of each claim's capacity (kubelet volume stats).",
		}, []string{"cluster", "claim"}),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthMemoryBudget, Help: "Heap + page cache over the container's memory limit, per StatefulSet (1 or more cannot fit).",
		}, []string{"cluster", "statefulset"}),
		cert: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHealthCertificateExpiry, Help: "Seconds until the TLS Secret's leaf certificate expires.",
		}, []string{"cluster", "secret"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricReplicationLag, Help: "Transactions each copy of a database is behind its writer (SHOW DATABASES replicationLag).",
		}, []string{"cluster", "database", "server"}),
	}
	reg.MustRegister(h.check, h.unknown, h.split, h.storage, h.memory, h.cert, h.lag)
	h.verify = newVerifyMetrics(reg)
	h.drill = NewDrillMetrics(reg)
	return h
}

// forget removes a cluster's series.
func (h *healthMetrics) forget(cluster string) {
	for _, v := range []*prometheus.GaugeVec{h.check, h.unknown, h.split, h.storage, h.memory, h.cert, h.lag} {
		v.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	}
	h.verify.forget(cluster)
	h.drill.Forget(cluster)
}

// record replaces a cluster's series with one report and its figures.
func (h *healthMetrics) record(cluster string, rep *healthcheck.Report, f healthcheck.Figures) {
	h.forget(cluster)
	for _, c := range rep.Checks {
		switch c.Status {
		case healthcheck.Pass:
			h.check.WithLabelValues(cluster, c.ID).Set(0)
		case healthcheck.Warn:
			h.check.WithLabelValues(cluster, c.ID).Set(1)
		case healthcheck.Fail:
			h.check.WithLabelValues(cluster, c.ID).Set(2)
		case healthcheck.Unknown:
			h.unknown.WithLabelValues(cluster, c.ID).Set(1)
		}
	}
	if f.SplitBrainDatabases >= 0 {
		h.split.WithLabelValues(cluster).Set(float64(f.SplitBrainDatabases))
	}
	for _, s := range f.Storage {
		h.storage.WithLabelValues(cluster, s.Claim).Set(s.Ratio)
	}
	for _, m := range f.Memory {
		h.memory.WithLabelValues(cluster, m.StatefulSet).Set(m.Ratio)
	}
	for _, c := range f.CertificateExpiry {
		h.cert.WithLabelValues(cluster, c.Secret).Set(c.Seconds)
	}
	for _, l := range f.ReplicationLag {
		h.lag.WithLabelValues(cluster, l.Database, l.Server).Set(float64(l.Transactions))
	}
}

// Health observation settings: those of `neo4jctl healthcheck`'s
// defaults, except that the kubelets' volume stats are not read: the node
// proxy needs a ClusterRole (nodes/proxy), which watch's Role cannot hold,
// so asking would only be refused on every run.
const (
	healthRecheck            = 5 * time.Second
	healthStatusCheckTimeout = time.Second
)

// checkHealth runs the healthcheck over one observation of the cluster
// (healthcheck/observe, through watch's own Neo4j connection) and exports
// it. It runs with each poll of Neo4j, not on every informer event: it
// reads more than drift needs.
func (c *cluster) checkHealth(ctx context.Context) {
	w := c.w
	c.healthAt = time.Now()
	o := observe.Options{Recheck: healthRecheck, StatusCheckTimeout: healthStatusCheckTimeout, VolumeStats: "off", Conn: c.conn}
	if c.conn == nil {
		o.Unreachable = c.neo.Reason
		if o.Unreachable == "" {
			o.Unreachable = "no connection"
		}
	}
	in := observe.Input(ctx, w.Runner, c.t, o)
	if ctx.Err() != nil {
		return
	}
	rep := healthcheck.Compute(in)
	w.hm.record(c.name, rep, healthcheck.ComputeFigures(in))
	w.hm.verify.record(c.name, in.Verifications)
	w.hm.drill.Record(c.name, in.Drill)
	c.recordBackups(ctx, in.Backups)
	if in.KubeErr != "" {
		w.emit(Event{Type: "health", Level: LevelWarn, Cluster: c.name, Message: "healthcheck: " + in.KubeErr})
	}
	counts := rep.Counts()
	if d := fmt.Sprintf("%s %v", rep.Status, counts); d != c.lastHealth {
		c.lastHealth = d
		lvl := LevelInfo
		if rep.Status == healthcheck.Fail || rep.Status == healthcheck.Unknown {
			lvl = LevelWarn
		}
		w.emit(Event{Type: "health", Level: lvl, Cluster: c.name, Message: fmt.Sprintf("healthcheck %s: %d PASS, %d WARN, %d FAIL, %d UNKNOWN",
			rep.Status, counts[healthcheck.Pass], counts[healthcheck.Warn], counts[healthcheck.Fail], counts[healthcheck.Unknown])})
	}
}
