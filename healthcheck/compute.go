package healthcheck

// Compute runs every check over one observation. It is pure: the same
// Input gives the same Report.
func Compute(in Input) *Report {
	r := &Report{APIVersion: APIVersion, Cluster: in.Expected.Cluster, File: in.File, ObservedAt: in.Now.UTC(), Status: Pass}
	checks := []func(*Input) Check{
		checkPods, checkRestarts, checkClaims, checkPDB, checkRollout, checkEvents,
		checkServers, checkStrays, checkDatabaseStatus, checkTopology, checkWriters, checkStatusCheck, checkReplicationLag,
		checkStorage, checkMemory, checkTLS,
	}
	if in.Backups != nil {
		// Only a cluster file that schedules backups has this check: a
		// cluster without spec.backups.schedule shows no SKIP line for it.
		checks = append(checks, checkBackups)
	}
	if in.Verifications != nil {
		checks = append(checks, checkVerification)
	}
	if in.Drill != nil {
		checks = append(checks, checkDrill)
	}
	for _, check := range checks {
		c := check(&in)
		if c.Status.Worse(r.Status) {
			r.Status = c.Status
		}
		r.Checks = append(r.Checks, c)
	}
	return r
}
