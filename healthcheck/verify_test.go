package healthcheck

import (
	"strings"
	"testing"
	"time"
)

// The newest verification decides: failed → FAIL whatever the schedule;
// with a schedule, no passed verification within two periods → WARN.
func TestCheckVerification(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	run := func(ago time.Duration, passed bool) *VerificationRun {
		return &VerificationRun{BackupID: "graph/neo4j/x", Started: now.Add(-ago), Passed: passed, Where: "local", Message: "neo4j-admin database check exited 1: inconsistent store"}
	}
	daily := "0 3 * * *"
	for _, tc := range []struct {
		name     string
		schedule string
		dbs      []VerificationDatabase
		want     Status
		evidence string
	}{
		{"passed recently", daily, []VerificationDatabase{{Name: "neo4j", Last: run(5*time.Hour, true), LastPassed: run(5*time.Hour, true)}}, Pass, "verified 5h0m0s ago"},
		{"newest failed", daily, []VerificationDatabase{{Name: "neo4j", Last: run(time.Hour, false), LastPassed: run(30*time.Hour, true)}}, Fail, "FAILED 1h0m0s ago"},
		{"newest failed, no schedule", "", []VerificationDatabase{{Name: "neo4j", Last: run(100*time.Hour, false)}}, Fail, "inconsistent store"},
		{"an older failure does not count", daily, []VerificationDatabase{{Name: "neo4j", Last: run(time.Hour, true), LastPassed: run(time.Hour, true)}, {Name: "system", Last: run(2*time.Hour, true), LastPassed: run(2*time.Hour, true)}}, Pass, "system:"},
		{"none within two periods", daily, []VerificationDatabase{{Name: "neo4j", Last: run(49*time.Hour, true), LastPassed: run(49*time.Hour, true)}}, Warn, "verified 2d ago"},
		{"just within two periods", daily, []VerificationDatabase{{Name: "neo4j", Last: run(47*time.Hour, true), LastPassed: run(47*time.Hour, true)}}, Pass, ""},
		{"never verified, scheduled", daily, []VerificationDatabase{{Name: "neo4j"}}, Warn, "never verified"},
		{"never verified, not scheduled", "", []VerificationDatabase{{Name: "neo4j"}, {Name: "system", Last: run(400*time.Hour, true), LastPassed: run(400*time.Hour, true)}}, Pass, "never verified"},
		{"no backups, scheduled", daily, nil, Warn, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckVerification(VerificationInput{Now: now, Schedule: tc.schedule, Databases: tc.dbs})
			if c.Status != tc.want || c.ID != IDVerification {
				t.Fatalf("got %s %s (%s), want %s\n%s", c.ID, c.Status, c.Summary, tc.want, strings.Join(c.Evidence, "\n"))
			}
			if !strings.Contains(strings.Join(c.Evidence, "\n"), tc.evidence) {
				t.Errorf("evidence lacks %q:\n%s", tc.evidence, strings.Join(c.Evidence, "\n"))
			}
			if c.Status == Fail && c.Fix == "" {
				t.Errorf("a FAIL without a fix")
			}
		})
	}
	c := CheckVerification(VerificationInput{Now: now, Err: "403 Forbidden"})
	if c.Status != Unknown {
		t.Errorf("unreadable catalogue: got %s, want UNKNOWN", c.Status)
	}
	c = CheckVerification(VerificationInput{Now: now, Schedule: "not cron"})
	if c.Status != Unknown {
		t.Errorf("bad schedule: got %s, want UNKNOWN", c.Status)
	}
}

// A failed verification makes the whole report FAIL (healthcheck exits
// 3), and status shows each database's last backup and verified restore.
func TestComputeWithVerificationAndOverview(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	in := Input{Now: now, Verifications: &VerificationInput{Databases: []VerificationDatabase{{
		Name: "neo4j", LastBackup: now.Add(-time.Hour), LastBackupID: "graph/neo4j/b",
		Last:       &VerificationRun{BackupID: "graph/neo4j/b", Started: now.Add(-30 * time.Minute), Passed: false},
		LastPassed: &VerificationRun{BackupID: "graph/neo4j/a", Started: now.Add(-25 * time.Hour), Passed: true},
	}}}}
	r := Compute(in)
	var found bool
	for _, c := range r.Checks {
		if c.ID == IDVerification {
			found = c.Status == Fail
		}
	}
	// The rest of this empty observation is UNKNOWN; the point is that
	// the verification's FAIL counts towards the verdict (exit 3).
	if !found || Fail.Worse(r.Status) {
		t.Fatalf("report %s, want at least FAIL with %s failing", r.Status, IDVerification)
	}
	o := Summarize(in, r)
	want := RecoveryOverview{Database: "neo4j", LastBackup: "2026-12-07T11:00:00Z", LastVerifiedRestore: "2026-12-06T11:00:00Z", LastVerifiedBackup: "graph/neo4j/a", LastVerification: "failed"}
	if len(o.Recovery) != 1 || o.Recovery[0] != want {
		t.Errorf("recovery overview: got %+v, want %+v", o.Recovery, want)
	}
	// Without a verification observation, status still shows the last
	// backup from the backups check's input.
	in = Input{Now: now, Backups: &BackupInput{Databases: []BackupDatabase{{Name: "neo4j", LastSuccess: now.Add(-time.Hour)}}}}
	o = Summarize(in, Compute(in))
	if len(o.Recovery) != 1 || o.Recovery[0].LastBackup != "2026-12-07T11:00:00Z" || o.Recovery[0].LastVerifiedRestore != "" {
		t.Errorf("recovery overview from backups: %+v", o.Recovery)
	}
}
