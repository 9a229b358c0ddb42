package healthcheck

// Compute runs every check over one observation. It is pure: the same
// Input gives the same Report.
func Compute(in Input) *Report {
	r := &Report{APIVersion: APIVersion, Cluster: in.Expected.Cluster, File: in.File, ObservedAt: in.Now.UTC(), Status: Pass}
	for _, check := range []func(*Input) Check{
		checkPods, checkRestarts, checkClaims, checkPDB, checkRollout, checkEvents,
		checkServers, checkStrays, checkDatabaseStatus, checkTopology, checkWriters, checkStatusCheck,
		checkStorage, checkMemory, checkTLS,
	} {
		c := check(&in)
		if c.Status.Worse(r.Status) {
			r.Status = c.Status
		}
		r.Checks = append(r.Checks, c)
	}
	return r
}
