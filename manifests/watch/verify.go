package watch

import (
	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

// Verification alert names (group VerificationRuleGroupName), on the
// metrics watch exports from the backup catalogue (drift/watch/verify.go).
const (
	AlertVerificationFailed = "Neo4jctlBackupVerificationFailed"
	AlertVerificationStale  = "Neo4jctlBackupVerificationStale"
)

// VerificationRuleGroupName is the name of the backup verification rule
// group: its own group, so the backup alerts' owner and this one never
// edit the same list.
const VerificationRuleGroupName = "neo4jctl-backup-verification"

// VerificationRuleGroup alerts when a database's newest verification by
// restore failed (its backups are not proven restorable: what
// `neo4jctl healthcheck` FAILs on as backup.verification), and, as a
// warning, when none passed in 8 days: a bound that holds for the usual
// daily or weekly verification schedules without knowing them (the
// health check judges against the cluster file's schedule itself).
func VerificationRuleGroup() RuleGroup {
	return RuleGroup{Name: VerificationRuleGroupName, Rules: []Rule{
		{AlertVerificationFailed, dwatch.MetricVerificationFailed + " == 1", "0m", "critical",
			"The newest verification by restore of {{ $labels.database }}'s backups ({{ $labels.cluster }}) failed: they are not proven restorable. See neo4jctl backup describe, then take and verify a new backup."},
		{AlertVerificationStale, "time() - " + dwatch.MetricVerificationLastSuccess + " > 8 * 86400", "1h", "warning",
			"No verification by restore of {{ $labels.database }}'s backups ({{ $labels.cluster }}) passed for {{ $value | humanizeDuration }}; check the verification CronJob."},
	}}
}
