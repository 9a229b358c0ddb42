package watch

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// The verification gauges follow the catalogue's newest verification per
// database: a failed one is 1, a passed one 0 with its start as the last
// success; a database never verified has no series; a cluster forgotten
// has none left.
func TestVerifyMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHealthMetrics(reg)
	at := time.Unix(1796000000, 0)
	in := &healthcheck.VerificationInput{Databases: []healthcheck.VerificationDatabase{
		{Name: "neo4j", Last: &healthcheck.VerificationRun{Started: at.Add(time.Hour)}, LastPassed: &healthcheck.VerificationRun{Started: at, Passed: true}},
		{Name: "system", Last: &healthcheck.VerificationRun{Started: at, Passed: true}, LastPassed: &healthcheck.VerificationRun{Started: at, Passed: true}},
		{Name: "movies"},
	}}
	h.verify.record("graph/prod", in)
	want := `
# HELP neo4jctl_backup_verification_failed 1 when the newest verification by restore of the database's backups failed, 0 when it passed (backup catalogue).
# TYPE neo4jctl_backup_verification_failed gauge
neo4jctl_backup_verification_failed{cluster="graph/prod",database="neo4j"} 1
neo4jctl_backup_verification_failed{cluster="graph/prod",database="system"} 0
# HELP neo4jctl_backup_verification_last_success_timestamp_seconds Start of the newest passed verification by restore of the database's backups (Unix seconds), from the backup catalogue.
# TYPE neo4jctl_backup_verification_last_success_timestamp_seconds gauge
neo4jctl_backup_verification_last_success_timestamp_seconds{cluster="graph/prod",database="neo4j"} 1.796e+09
neo4jctl_backup_verification_last_success_timestamp_seconds{cluster="graph/prod",database="system"} 1.796e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricVerificationFailed, MetricVerificationLastSuccess); err != nil {
		t.Error(err)
	}
	h.forget("graph/prod")
	if n, _ := testutil.GatherAndCount(reg, MetricVerificationFailed, MetricVerificationLastSuccess); n != 0 {
		t.Errorf("%d series left after forget", n)
	}
}
