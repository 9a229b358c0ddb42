package watch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// Verification metric names (issue 16), also used by the PrometheusRule
// group manifests/watch renders (VerificationRuleGroup). They come from
// the catalogue read for the backup.verification health check, once per
// health run: the catalogue is the record, not watch's memory.
const (
	// MetricVerificationLastSuccess is when the newest passed verification
	// by restore of a database's backups started (Unix seconds); absent
	// while none passed.
	MetricVerificationLastSuccess = "neo4jctl_backup_verification_last_success_timestamp_seconds"
	// MetricVerificationFailed is 1 when a database's newest verification
	// failed, 0 when it passed; absent while none was recorded.
	MetricVerificationFailed = "neo4jctl_backup_verification_failed"
)

// verifyMetrics are the verification gauges, by cluster and database.
type verifyMetrics struct {
	lastSuccess, failed *prometheus.GaugeVec
}

func newVerifyMetrics(reg *prometheus.Registry) *verifyMetrics {
	v := &verifyMetrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricVerificationLastSuccess, Help: "Start of the newest passed verification by restore of the database's backups (Unix seconds), from the backup catalogue.",
		}, []string{"cluster", "database"}),
		failed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricVerificationFailed, Help: "1 when the newest verification by restore of the database's backups failed, 0 when it passed (backup catalogue).",
		}, []string{"cluster", "database"}),
	}
	reg.MustRegister(v.lastSuccess, v.failed)
	return v
}

func (v *verifyMetrics) forget(cluster string) {
	v.lastSuccess.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	v.failed.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
}

// record replaces a cluster's series with one observation (healthMetrics.
// record has forgotten the old ones). An unreadable catalogue leaves none:
// the check is UNKNOWN then, which Neo4jctlHealthCheckUnknown reports.
func (v *verifyMetrics) record(cluster string, in *healthcheck.VerificationInput) {
	v.forget(cluster)
	if in == nil || in.Err != "" {
		return
	}
	for _, d := range in.Databases {
		if d.LastPassed != nil {
			v.lastSuccess.WithLabelValues(cluster, d.Name).Set(float64(d.LastPassed.Started.UnixNano()) / 1e9)
		}
		if d.Last != nil {
			f := 0.0
			if !d.Last.Passed {
				f = 1
			}
			v.failed.WithLabelValues(cluster, d.Name).Set(f)
		}
	}
}
