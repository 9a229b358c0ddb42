package healthcheck

import (
	"fmt"
	"strings"
	"time"
)

// IDDrill is the check of the DR drills (`neo4jctl dr drill`).
const IDDrill = "backup.drill"

// DrillInput is what CheckDrill looks at: spec.backups.drill.schedule
// and the newest drill records the catalogue holds.
type DrillInput struct {
	Now time.Time
	// Schedule is spec.backups.drill.schedule (cron, read in TimeZone,
	// empty: UTC); empty when drills are not scheduled, then only a
	// failed newest drill is judged.
	Schedule, TimeZone string
	// Last is the newest drill (by start), LastPassed the newest that
	// passed; nil when none.
	Last, LastPassed *DrillRun
	// Err says why the drill records could not be read (UNKNOWN).
	Err string
}

// DrillRun is one recorded drill.
type DrillRun struct {
	ID      string
	Started time.Time
	Passed  bool
	// Healthy is false when the scratch cluster never became healthy
	// (then RTO is meaningless).
	Healthy      bool
	RTO          time.Duration
	RTOObjective time.Duration // 0: none set
	// RPO is the largest recovery point age of the drilled databases
	// (HasRPO false when none had a restorable backup).
	RPO          time.Duration
	HasRPO       bool
	RPOObjective time.Duration
	Missed       []string
	// Simulated drills prove the procedure, not a recovery time.
	Simulated bool
	Where     string
}

// Figures is the run's RTO and RPO against their objectives, for status
// and the check's evidence: "RTO 4m12s (objective 10m0s), RPO 35m0s
// (objective 1h0m0s)".
func (r DrillRun) Figures() string {
	obj := func(d time.Duration) string {
		if d == 0 {
			return "no objective"
		}
		return "objective " + d.String()
	}
	rto := "not achieved (never healthy)"
	if r.Healthy {
		rto = r.RTO.Round(time.Second).String()
	}
	rpo := "none (no restorable backup)"
	if r.HasRPO {
		rpo = r.RPO.Round(time.Second).String()
	}
	return fmt.Sprintf("RTO %s (%s), RPO %s (%s)", rto, obj(r.RTOObjective), rpo, obj(r.RPOObjective))
}

// CheckDrill judges the DR drills: FAIL when the newest drill missed an
// objective or never became healthy (a recovery as rehearsed would not
// meet spec.backups.objectives); with a drill schedule, WARN when no
// drill passed within two of its periods (the drills stopped running or
// recording) — the same two-period bound as backup.verification; PASS
// otherwise. Pure.
func CheckDrill(in DrillInput) Check {
	c := Check{ID: IDDrill, Title: "DR drill"}
	if in.Err != "" {
		c.Status, c.Summary = Unknown, "could not read the drill records: "+in.Err
		c.Fix = "check the storage credentials (neo4jctl backup list -f CLUSTER_FILE shows the same error)"
		return c
	}
	period, _, err := schedulePeriod(in.Schedule, "", in.TimeZone, in.Now)
	if err != nil {
		c.Status, c.Summary = Unknown, "cannot read spec.backups.drill.schedule: "+err.Error()
		return c
	}
	line := func(what string, r *DrillRun) string {
		s := fmt.Sprintf("%s: %s started %s ago (%s, %s): %s", what, r.ID, roundAge(in.Now.Sub(r.Started)), r.Started.UTC().Format(time.RFC3339), r.Where, r.Figures())
		if r.Simulated {
			s += " [simulated steps: proves the procedure, not a recovery time]"
		}
		return s
	}
	if in.Last != nil {
		c.Evidence = append(c.Evidence, line("newest drill", in.Last))
		for _, m := range in.Last.Missed {
			c.Evidence = append(c.Evidence, "  missed: "+m)
		}
	}
	if in.LastPassed != nil && (in.Last == nil || in.LastPassed.ID != in.Last.ID) {
		c.Evidence = append(c.Evidence, line("newest passed drill", in.LastPassed))
	}
	c.Evidence = capEvidence(c.Evidence)
	switch {
	case in.Last == nil && period == 0:
		c.Status, c.Summary = Skip, "no DR drill recorded and none scheduled"
	case in.Last == nil:
		c.Status = Warn
		c.Summary = fmt.Sprintf("no DR drill recorded; spec.backups.drill.schedule expects one every %s", roundAge(period))
		c.Fix = "run neo4jctl dr drill -f CLUSTER_FILE on the schedule (docs/restore.md: the CI job)"
	case !in.Last.Passed:
		c.Status = Fail
		why := strings.Join(in.Last.Missed, "; ")
		if why == "" {
			why = "objective missed"
		}
		c.Summary = fmt.Sprintf("the newest DR drill (%s ago) failed: %s", roundAge(in.Now.Sub(in.Last.Started)), why)
		c.Fix = "a recovery now would not meet spec.backups.objectives: see the drill's report (neo4jctl dr drill -o markdown), fix what it names, and drill again"
	case period > 0 && (in.LastPassed == nil || in.Now.Sub(in.LastPassed.Started) > 2*period):
		c.Status = Warn
		c.Summary = fmt.Sprintf("no DR drill passed within two periods of the drill schedule (%s)", roundAge(period))
		c.Fix = "see why the scheduled drills did not run or record, or run neo4jctl dr drill -f CLUSTER_FILE"
	default:
		c.Status = Pass
		c.Summary = fmt.Sprintf("the newest DR drill passed %s ago: %s", roundAge(in.Now.Sub(in.Last.Started)), in.Last.Figures())
	}
	return c
}

// checkDrill is CheckDrill over the observation, at its time.
func checkDrill(in *Input) Check {
	d := *in.Drill
	if d.Now.IsZero() {
		d.Now = in.Now
	}
	return CheckDrill(d)
}

// DrillOverview is status's line about the newest DR drill.
type DrillOverview struct {
	Started string `json:"started"` // RFC 3339
	Age     string `json:"age"`
	Result  string `json:"result"` // passed | failed
	// Figures is "RTO x (objective y), RPO z (objective w)".
	Figures   string   `json:"figures"`
	Missed    []string `json:"missed,omitempty"`
	Simulated bool     `json:"simulated,omitempty"`
}

// drillOverview is the newest drill for status; nil when none.
func drillOverview(in *Input) *DrillOverview {
	if in.Drill == nil || in.Drill.Err != "" || in.Drill.Last == nil {
		return nil
	}
	r := in.Drill.Last
	o := &DrillOverview{Started: r.Started.UTC().Format(time.RFC3339), Age: roundAge(in.Now.Sub(r.Started)), Result: "failed",
		Figures: r.Figures(), Missed: r.Missed, Simulated: r.Simulated}
	if r.Passed {
		o.Result = "passed"
	}
	return o
}

// DrillPeriod is the longest gap between two runs of the drill schedule
// (0 when none is set): watch exports it for the stale-drill alert, which
// compares the last passed drill's age with twice it, as CheckDrill does.
func DrillPeriod(in DrillInput) (time.Duration, error) {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	p, _, err := schedulePeriod(in.Schedule, "", in.TimeZone, in.Now)
	return p, err
}
