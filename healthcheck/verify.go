package healthcheck

import (
	"fmt"
	"sort"
	"time"
)

// IDVerification is the check of the backups' verifications by restore.
const IDVerification = "backup.verification"

// VerificationInput is what CheckVerification looks at: spec.backups.
// verification.schedule and, per database, the catalogue's newest backup
// and verifications (`neo4jctl backup verify`, by hand or scheduled).
type VerificationInput struct {
	Now time.Time
	// Schedule is spec.backups.verification.schedule (cron, read in
	// TimeZone, empty: UTC); empty when verification is not scheduled,
	// then only a failed verification is judged.
	Schedule, TimeZone string
	Databases          []VerificationDatabase
	// Err says why the catalogue could not be read (the check is then
	// UNKNOWN).
	Err string
}

// VerificationDatabase is one database's backups and verifications as the
// catalogue shows them.
type VerificationDatabase struct {
	Name string
	// LastBackup is when the newest catalogued backup was taken (zero:
	// none); LastBackupID is its catalogue ID.
	LastBackup   time.Time
	LastBackupID string
	// Last is the newest verification of any of the database's backups
	// (by its start), nil when none was ever recorded.
	Last *VerificationRun
	// LastPassed is the newest verification that passed, nil when none.
	LastPassed *VerificationRun
}

// VerificationRun is one recorded verification of one backup.
type VerificationRun struct {
	BackupID string
	// BackupCreated is when the verified backup was taken: a restore of
	// it brings the database back to that point.
	BackupCreated time.Time
	Started       time.Time
	Passed        bool
	// Where ran it ("local", "job <namespace>/<name>").
	Where   string
	Message string
}

// CheckVerification judges each database's verifications: FAIL when its
// newest verification failed (the newest backup that was restored could
// not be: treat the backups as unproven until one passes, as pgBackRest's
// `verify` and Velero's restore checks are read); with a schedule, WARN
// when none passed within two of its periods (the verification runs stopped
// or cannot run), PASS otherwise. It is pure: the same input, the same
// check.
func CheckVerification(in VerificationInput) Check {
	c := Check{ID: IDVerification, Title: "Backups verified by restore"}
	if in.Err != "" {
		c.Status, c.Summary = Unknown, "could not read the backup catalogue: "+in.Err
		c.Fix = "check the storage credentials (neo4jctl backup list -f CLUSTER_FILE shows the same error)"
		return c
	}
	period, _, err := schedulePeriod(in.Schedule, "", in.TimeZone, in.Now)
	if err != nil {
		c.Status, c.Summary = Unknown, "cannot read spec.backups.verification.schedule: "+err.Error()
		return c
	}
	dbs := append([]VerificationDatabase(nil), in.Databases...)
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].Name < dbs[j].Name })
	c.Status = Pass
	var failed, stale int
	for _, d := range dbs {
		status := Pass
		line := d.Name + ": "
		switch {
		case d.Last == nil:
			line += "never verified"
			if period > 0 {
				status = Warn
			}
		case !d.Last.Passed:
			status = Fail
			line += fmt.Sprintf("verification of %s FAILED %s ago (%s, %s): %s", d.Last.BackupID, roundAge(in.Now.Sub(d.Last.Started)),
				d.Last.Started.UTC().Format(time.RFC3339), d.Last.Where, d.Last.Message)
		default:
			line += fmt.Sprintf("%s verified %s ago (%s, %s)", d.Last.BackupID, roundAge(in.Now.Sub(d.Last.Started)), d.Last.Started.UTC().Format(time.RFC3339), d.Last.Where)
		}
		if status == Pass && period > 0 && (d.LastPassed == nil || in.Now.Sub(d.LastPassed.Started) > 2*period) {
			status = Warn
		}
		if status == Warn && d.Last != nil && d.LastPassed != nil {
			line += fmt.Sprintf("; last passed %s ago", roundAge(in.Now.Sub(d.LastPassed.Started)))
		}
		switch status {
		case Fail:
			failed++
		case Warn:
			stale++
		}
		line += " [" + string(status) + "]"
		c.Evidence = append(c.Evidence, line)
		if status.Worse(c.Status) {
			c.Status = status
		}
	}
	c.Evidence = capEvidence(c.Evidence)
	n := len(dbs)
	switch {
	case n == 0:
		c.Status, c.Summary = Warn, "the catalogue holds no backup to verify"
		if period == 0 {
			c.Status = Skip
		}
	case failed > 0:
		c.Summary = fmt.Sprintf("the newest verification of %d of %d %s failed: those backups are not proven restorable", failed, n, plural(n, "database", "databases"))
		c.Fix = "read the failure (neo4jctl backup describe ID -f CLUSTER_FILE), take a new backup (neo4jctl backup create) and verify it (neo4jctl backup verify --latest --database DB)"
	case stale > 0:
		c.Summary = fmt.Sprintf("%d of %d %s without a passed verification within two periods of the schedule (%s)", stale, n, plural(n, "database", "databases"), roundAge(period))
		c.Fix = "see why the scheduled verifications did not run or record (kubectl get jobs -l app.kubernetes.io/component=neo4jctl-verify), or run neo4jctl backup verify --latest"
	case period > 0:
		c.Summary = fmt.Sprintf("%d %s verified by restore within the schedule's period (%s)", n, plural(n, "database", "databases"), roundAge(period))
	default:
		c.Summary = fmt.Sprintf("no failed verification (%d %s; no verification schedule)", n, plural(n, "database", "databases"))
	}
	return c
}

// checkVerification is CheckVerification over the observation, at its time.
func checkVerification(in *Input) Check {
	v := *in.Verifications
	if v.Now.IsZero() {
		v.Now = in.Now
	}
	return CheckVerification(v)
}

// RecoveryOverview is one database's recovery evidence for status: its
// newest backup and its newest verified restore.
type RecoveryOverview struct {
	Database   string `json:"database"`
	LastBackup string `json:"lastBackup,omitempty"` // RFC 3339
	// LastVerifiedRestore is when the newest passed verification ran, and
	// LastVerifiedBackup the backup it restored.
	LastVerifiedRestore string `json:"lastVerifiedRestore,omitempty"`
	LastVerifiedBackup  string `json:"lastVerifiedBackup,omitempty"`
	// LastVerification is "passed" or "failed": the newest one's result.
	LastVerification string `json:"lastVerification,omitempty"`
}

// recoveryOverview is status's backup lines: from the verification
// observation when there is one, else from the backups check's input
// (last backup only).
func recoveryOverview(in *Input) []RecoveryOverview {
	var out []RecoveryOverview
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	switch {
	case in.Verifications != nil && in.Verifications.Err == "":
		for _, d := range in.Verifications.Databases {
			r := RecoveryOverview{Database: d.Name, LastBackup: stamp(d.LastBackup)}
			if d.LastPassed != nil {
				r.LastVerifiedRestore, r.LastVerifiedBackup = stamp(d.LastPassed.Started), d.LastPassed.BackupID
			}
			if d.Last != nil {
				r.LastVerification = "failed"
				if d.Last.Passed {
					r.LastVerification = "passed"
				}
			}
			out = append(out, r)
		}
	case in.Backups != nil && in.Backups.Err == "":
		for _, d := range in.Backups.Databases {
			out = append(out, RecoveryOverview{Database: d.Name, LastBackup: stamp(d.LastSuccess)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Database < out[j].Database })
	return out
}
