package healthcheck

import (
	"fmt"
	"sort"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// IDBackups is the check of backup freshness against the schedule.
const IDBackups = "backup.freshness"

// BackupInput is what CheckBackups looks at: the schedules of
// spec.backups and, per database, what the catalogue holds.
type BackupInput struct {
	Now time.Time
	// Full and Differential are spec.backups.schedule's cron schedules,
	// read in TimeZone (empty: UTC).
	Full, Differential, TimeZone string
	// Databases are the catalogue's databases, each with its newest
	// successful backup. A database the schedule covers but the catalogue
	// lacks must be listed with a zero LastSuccess.
	Databases []BackupDatabase
	// Err says why the catalogue could not be read (the check is then
	// UNKNOWN).
	Err string
}

// BackupDatabase is one database's backups as the catalogue shows them.
type BackupDatabase struct {
	Name string
	// LastSuccess is when the newest catalogued backup was taken; zero
	// when there is none.
	LastSuccess time.Time
	// ChainLength counts the newest chain's artifacts (its full and the
	// differentials after it).
	ChainLength int
	// LastFailure and LastFailureReason are the newest failed run, when
	// known (zero otherwise).
	LastFailure       time.Time
	LastFailureReason string
	// Bytes is the newest backup's stored (encrypted) size; Duration the
	// time from neo4j-admin's timestamp to its catalogue entry (backup,
	// upload, verification). Zero when unknown. Exported as metrics by
	// watch; no check judges them.
	Bytes    int64
	Duration time.Duration
	// UncopiedSince is when the oldest backup still missing a copy in one
	// of spec.backups.copies was taken; zero when every backup is copied
	// (or there are no copies).
	UncopiedSince time.Time
}

// SchedulePeriod is the longest gap between two runs of in's schedule
// (0 without one): the check FAILs past two of them, and the backup
// alerts compare with the same figure.
func SchedulePeriod(in BackupInput) (time.Duration, error) {
	p, _, err := schedulePeriod(in.Full, in.Differential, in.TimeZone, in.Now)
	return p, err
}

// CheckBackups judges each database's newest backup against the schedule,
// as CloudNativePG and Velero users expect a missed schedule to show:
// PASS while the newest backup is at least as new as the last scheduled
// run that should have finished (a grace of a quarter period, at most an
// hour, after its minute); WARN when it is older (that run stored
// nothing); FAIL when it is older than two periods (the longest gap
// between two scheduled runs), or there is none. It is pure: the same input, the same check.
func CheckBackups(in BackupInput) Check {
	c := Check{ID: IDBackups, Title: "Backups fresh"}
	if in.Err != "" {
		c.Status, c.Summary = Unknown, "could not read the backup catalogue: "+in.Err
		c.Fix = "check the storage credentials (neo4jctl backup list -f CLUSTER_FILE shows the same error)"
		return c
	}
	period, runs, err := schedulePeriod(in.Full, in.Differential, in.TimeZone, in.Now)
	if err != nil {
		c.Status, c.Summary = Unknown, "cannot read the schedule: "+err.Error()
		return c
	}
	if period == 0 {
		c.Status, c.Summary = Skip, "no backup schedule (spec.backups.schedule)"
		return c
	}
	// The run itself takes time after its scheduled minute.
	grace := min(period/4, time.Hour)
	due := lastDue(runs, in.Now, grace)
	dbs := append([]BackupDatabase(nil), in.Databases...)
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].Name < dbs[j].Name })
	c.Status = Pass
	var stale, missing int
	for _, d := range dbs {
		line := d.Name + ": "
		status := Pass
		if d.LastSuccess.IsZero() {
			status, missing = Fail, missing+1
			line += "no backup"
		} else {
			age := in.Now.Sub(d.LastSuccess)
			switch {
			case age > 2*period:
				status = Fail
			case d.LastSuccess.Before(due):
				// The run that should have finished by now did not
				// store anything.
				status = Warn
			}
			if status != Pass {
				stale++
			}
			line += fmt.Sprintf("last backup %s ago (%s), chain of %d", roundAge(age), d.LastSuccess.UTC().Format(time.RFC3339), d.ChainLength)
		}
		if !d.LastFailure.IsZero() {
			line += fmt.Sprintf("; last failure %s ago: %s", roundAge(in.Now.Sub(d.LastFailure)), d.LastFailureReason)
		}
		line += " [" + string(status) + "]"
		c.Evidence = append(c.Evidence, line)
		if status.Worse(c.Status) {
			c.Status = status
		}
	}
	c.Evidence = capEvidence(c.Evidence)
	switch {
	case len(dbs) == 0:
		c.Status, c.Summary = Fail, "the schedule runs every "+roundAge(period)+" but the catalogue holds no backup"
	case c.Status == Pass:
		c.Summary = fmt.Sprintf("%d %s backed up within the schedule's period (%s)", len(dbs), plural(len(dbs), "database", "databases"), roundAge(period))
	default:
		c.Summary = fmt.Sprintf("%d of %d %s without a backup within the schedule's period (%s): FAIL past two periods",
			stale+missing, len(dbs), plural(len(dbs), "database", "databases"), roundAge(period))
	}
	if c.Status != Pass {
		c.Fix = "see why the last runs failed (kubectl get jobs -l app.kubernetes.io/component=neo4jctl-backup; kubectl logs job/NAME --all-containers), then take one now with neo4jctl backup create -f CLUSTER_FILE"
	}
	return c
}

// checkBackups is CheckBackups over the observation's backups, at its
// time.
func checkBackups(in *Input) Check {
	b := *in.Backups
	if b.Now.IsZero() {
		b.Now = in.Now
	}
	return CheckBackups(b)
}

// schedulePeriod is the longest gap between two consecutive runs of the
// full and differential schedules together, over the eight days before
// now (a weekly schedule shows its whole cycle), and the scheduled runs
// in that window, oldest first. Zero: nothing scheduled.
func schedulePeriod(full, diff, tz string, now time.Time) (time.Duration, []time.Time, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return 0, nil, err
		}
		loc = l
	}
	var next []func(time.Time) time.Time
	for _, s := range []string{full, diff} {
		if s == "" {
			continue
		}
		sched, err := clusterfile.ParseSchedule(s)
		if err != nil {
			return 0, nil, fmt.Errorf("%q: %w", s, err)
		}
		next = append(next, sched.Next)
	}
	if len(next) == 0 {
		return 0, nil, nil
	}
	earliest := func(t time.Time) time.Time {
		var n time.Time
		for _, f := range next {
			if x := f(t); n.IsZero() || x.Before(n) {
				n = x
			}
		}
		return n
	}
	from := now.In(loc).Add(-8 * 24 * time.Hour)
	var runs []time.Time
	var gap time.Duration
	for t := from; len(runs) < 20000; {
		n := earliest(t)
		if n.IsZero() || n.After(now) {
			break
		}
		if len(runs) > 0 && n.Sub(runs[len(runs)-1]) > gap {
			gap = n.Sub(runs[len(runs)-1])
		}
		runs = append(runs, n)
		t = n
	}
	if gap == 0 {
		// Fewer than two runs in eight days (a monthly schedule): the
		// gap from the last run (or the window's start) to the next.
		prev := from
		if len(runs) > 0 {
			prev = runs[len(runs)-1]
		}
		gap = earliest(now.In(loc)).Sub(prev)
	}
	return gap, runs, nil
}

// lastDue is the newest scheduled run that should have finished by now.
func lastDue(runs []time.Time, now time.Time, grace time.Duration) time.Time {
	for i := len(runs) - 1; i >= 0; i-- {
		if !runs[i].After(now.Add(-grace)) {
			return runs[i]
		}
	}
	return time.Time{}
}

func roundAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
