package observe

import (
	"context"
	"sort"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Verifications reads, for the backup.verification check and status, each
// database's newest backup and verifications from the catalogue, opened
// as `neo4jctl backup list` opens it. nil when the cluster file has no
// spec.backups, or no verification schedule and the catalogue records no
// verification (the check is then absent).
func Verifications(ctx context.Context, c *clusterfile.Cluster, secretsDir string) *healthcheck.VerificationInput {
	b := c.Spec.Backups
	if b == nil {
		return nil
	}
	in := &healthcheck.VerificationInput{}
	if b.Verification != nil {
		in.Schedule = b.Verification.Schedule
	}
	if b.Schedule != nil {
		in.TimeZone = b.Schedule.TimeZone
	}
	entries, err := readCatalogue(ctx, c, secretsDir)
	if err != nil {
		in.Err = err.Error()
		return in
	}
	in.Databases = VerificationsOf(entries)
	if in.Schedule == "" {
		any := false
		for _, d := range in.Databases {
			any = any || d.Last != nil
		}
		if !any {
			return nil
		}
	}
	return in
}

// VerificationsOf is each catalogued database's newest backup, newest
// verification and newest passed verification, by database name. watch's
// verification metrics read the same.
func VerificationsOf(entries []catalog.Entry) []healthcheck.VerificationDatabase {
	by := map[string]*healthcheck.VerificationDatabase{}
	for _, e := range entries {
		d := by[e.Database]
		if d == nil {
			d = &healthcheck.VerificationDatabase{Name: e.Database}
			by[e.Database] = d
		}
		if e.Created.After(d.LastBackup) {
			d.LastBackup, d.LastBackupID = e.Created, e.ID
		}
		for _, v := range e.Verifications {
			run := &healthcheck.VerificationRun{BackupID: e.ID, BackupCreated: e.Created, Started: v.Started,
				Passed: v.Result == catalog.VerificationPassed, Where: v.Where, Message: v.Message}
			if d.Last == nil || v.Started.After(d.Last.Started) {
				d.Last = run
			}
			if run.Passed && (d.LastPassed == nil || v.Started.After(d.LastPassed.Started)) {
				d.LastPassed = run
			}
		}
	}
	out := make([]healthcheck.VerificationDatabase, 0, len(by))
	for _, d := range by {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
