package watch

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metric names, also used by the PrometheusRule and the dashboard that
// manifests/watch renders.
const (
	MetricDriftObjects      = "neo4jctl_drift_objects"
	MetricReconcileDuration = "neo4jctl_reconcile_duration_seconds"
	MetricReconcileErrors   = "neo4jctl_reconcile_errors_total"
	MetricApplyTotal        = "neo4jctl_apply_total"
	MetricHeldSteps         = "neo4jctl_held_steps"
	MetricNeo4jReachable    = "neo4jctl_neo4j_reachable"
	MetricCircuitState      = "neo4jctl_circuit_state"
	MetricLeader            = "neo4jctl_leader"
	MetricSuspended         = "neo4jctl_suspended"
	MetricPolicyViolations  = "neo4jctl_policy_violations"
	// MetricAuditWriteFailures counts audit-log writes that failed; the
	// entries are kept and written later, never dropped.
	MetricAuditWriteFailures = "neo4jctl_audit_write_failures_total"
	// MetricAuditPending is how many audit entries wait to be written;
	// while it is above 0 the replica is not ready and enforce stops.
	MetricAuditPending = "neo4jctl_audit_pending_entries"
)

// metrics are the Watcher's Prometheus collectors.
type metrics struct {
	reg       *prometheus.Registry
	drift     *prometheus.GaugeVec
	duration  *prometheus.HistogramVec
	errors    *prometheus.CounterVec
	applies   *prometheus.CounterVec
	held      *prometheus.GaugeVec
	reachable *prometheus.GaugeVec
	circuit   *prometheus.GaugeVec
	suspended *prometheus.GaugeVec
	violation *prometheus.GaugeVec
	leader    prometheus.Gauge

	auditFailures prometheus.Counter
	auditPending  prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		reg: reg,
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricDriftObjects, Help: "Addresses (Kubernetes objects, Neo4j servers, databases, settings) that differ from the cluster file.",
		}, []string{"cluster"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricReconcileDuration, Help: "Time one reconcile took (observe, plan and, in enforce mode, apply).",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"cluster"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricReconcileErrors, Help: "Reconciles that failed (the cluster could not be observed or planned).",
		}, []string{"cluster"}),
		applies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricApplyTotal, Help: "Applies made by enforce mode, by result (success, failed, locked, not_applicable).",
		}, []string{"cluster", "result"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricHeldSteps, Help: "Irreversible or data-losing steps enforce mode leaves for a person.",
		}, []string{"cluster"}),
		reachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricNeo4jReachable, Help: "1 when the last Neo4j observation succeeded.",
		}, []string{"cluster"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricCircuitState, Help: "Circuit breaker around the cluster's Neo4j endpoint: 0 closed, 1 half-open, 2 open.",
		}, []string{"cluster"}),
		suspended: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricSuspended, Help: "1 while reconciliation of the cluster is suspended.",
		}, []string{"cluster"}),
		violation: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricPolicyViolations, Help: "Compliance-policy violations of the live cluster, by severity.",
		}, []string{"cluster", "severity"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricLeader, Help: "1 while this replica holds the leader Lease (and reconciles).",
		}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricAuditWriteFailures, Help: "Audit-log writes that failed (their entries are kept and retried, never dropped).",
		}),
		auditPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricAuditPending, Help: "Audit entries waiting to be written; above 0 the replica is not ready and enforce mode applies nothing.",
		}),
	}
	reg.MustRegister(m.drift, m.duration, m.errors, m.applies, m.held, m.reachable, m.circuit, m.suspended, m.violation, m.leader,
		m.auditFailures, m.auditPending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// forget removes a cluster's series when it is no longer watched.
func (m *metrics) forget(cluster string) {
	for _, v := range []*prometheus.GaugeVec{m.drift, m.held, m.reachable, m.circuit, m.suspended} {
		v.DeleteLabelValues(cluster)
	}
	m.violation.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
}
