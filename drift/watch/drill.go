package watch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// DR drill metric names, per cluster (issue 16), also used by the
// PrometheusRule group and dashboard row manifests/watch renders when a
// drill schedule is set (DrillRuleGroup). They come from the drill
// records beside the catalogue, read for the backup.drill health check
// once per health run: the record is the evidence, wherever the drill
// ran (a CI job, a terminal), not watch's memory.
const (
	// MetricDrillLastSuccess is when the newest passed drill started
	// (Unix seconds); 0 with a drill schedule and no passed drill, so the
	// stale alert fires; absent otherwise.
	MetricDrillLastSuccess = "neo4jctl_dr_drill_last_success_timestamp_seconds"
	// MetricDrillRTO is the newest drill's RTO achieved; absent when it
	// never became healthy (then MetricDrillFailed is 1).
	MetricDrillRTO = "neo4jctl_dr_drill_rto_seconds"
	// MetricDrillRPO is the newest drill's RPO: the largest age of a
	// drilled database's newest restorable backup at its start.
	MetricDrillRPO = "neo4jctl_dr_drill_rpo_seconds"
	// MetricDrillFailed is 1 when the newest drill missed an objective or
	// never became healthy, 0 when it passed.
	MetricDrillFailed = "neo4jctl_dr_drill_failed"
	// MetricDrillRTOObjective is spec.backups.objectives.rto as the newest
	// drill was judged against (absent when none set).
	MetricDrillRTOObjective = "neo4jctl_dr_drill_rto_objective_seconds"
	// MetricDrillSchedulePeriod is the drill schedule's longest gap
	// between two runs (absent without spec.backups.drill.schedule).
	MetricDrillSchedulePeriod = "neo4jctl_dr_drill_schedule_period_seconds"
)

// DrillMetrics are the drill gauges.
type DrillMetrics struct {
	lastSuccess, rto, rpo, failed, rtoObjective, period *prometheus.GaugeVec
}

// NewDrillMetrics registers the drill gauges.
func NewDrillMetrics(reg prometheus.Registerer) *DrillMetrics {
	g := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"cluster"})
	}
	m := &DrillMetrics{
		lastSuccess:  g(MetricDrillLastSuccess, "Start of the newest passed DR drill (Unix seconds; 0: none passed while drills are scheduled), from the drill records."),
		rto:          g(MetricDrillRTO, "RTO the newest DR drill achieved: wall time from its start until every restored database answered."),
		rpo:          g(MetricDrillRPO, "RPO of the newest DR drill: the largest age of a database's newest restorable backup at its start."),
		failed:       g(MetricDrillFailed, "1 when the newest DR drill missed an objective or never became healthy, 0 when it passed."),
		rtoObjective: g(MetricDrillRTOObjective, "spec.backups.objectives.rto the newest DR drill was judged against."),
		period:       g(MetricDrillSchedulePeriod, "Longest gap between two runs of spec.backups.drill.schedule."),
	}
	reg.MustRegister(m.lastSuccess, m.rto, m.rpo, m.failed, m.rtoObjective, m.period)
	return m
}

// Forget removes a cluster's drill series.
func (m *DrillMetrics) Forget(cluster string) {
	for _, v := range []*prometheus.GaugeVec{m.lastSuccess, m.rto, m.rpo, m.failed, m.rtoObjective, m.period} {
		v.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	}
}

// Record replaces a cluster's drill series with one observation. Records
// that could not be read leave none: backup.drill is UNKNOWN then, which
// Neo4jctlHealthCheckUnknown reports, and stale figures would hide it.
func (m *DrillMetrics) Record(cluster string, in *healthcheck.DrillInput) {
	m.Forget(cluster)
	if in == nil || in.Err != "" {
		return
	}
	scheduled := false
	if p, err := healthcheck.DrillPeriod(*in); err == nil && p > 0 {
		scheduled = true
		m.period.WithLabelValues(cluster).Set(p.Seconds())
	}
	switch {
	case in.LastPassed != nil:
		m.lastSuccess.WithLabelValues(cluster).Set(float64(in.LastPassed.Started.UnixNano()) / 1e9)
	case scheduled:
		m.lastSuccess.WithLabelValues(cluster).Set(0)
	}
	last := in.Last
	if last == nil {
		return
	}
	failed := 1.0
	if last.Passed {
		failed = 0
	}
	m.failed.WithLabelValues(cluster).Set(failed)
	if last.Healthy {
		m.rto.WithLabelValues(cluster).Set(last.RTO.Seconds())
	}
	if last.HasRPO {
		m.rpo.WithLabelValues(cluster).Set(last.RPO.Seconds())
	}
	if last.RTOObjective > 0 {
		m.rtoObjective.WithLabelValues(cluster).Set(last.RTOObjective.Seconds())
	}
}
