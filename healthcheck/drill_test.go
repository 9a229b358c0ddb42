package healthcheck

import (
	"strings"
	"testing"
	"time"
)

// The newest drill decides: failed → FAIL whatever the schedule; with a
// drill schedule, none passed within two periods (or none at all) → WARN.
func TestCheckDrill(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	run := func(id string, ago time.Duration, passed bool) *DrillRun {
		r := &DrillRun{ID: "prod/" + id, Started: now.Add(-ago), Passed: passed, Healthy: true, RTO: 4*time.Minute + 12*time.Second,
			RTOObjective: 10 * time.Minute, RPO: 35 * time.Minute, HasRPO: true, RPOObjective: time.Hour, Where: "local"}
		if !passed {
			r.RTO, r.Missed = 14*time.Minute, []string{"RTO: 14m0s achieved, objective 10m0s"}
		}
		return r
	}
	weekly := "0 5 * * 1"
	for _, tc := range []struct {
		name             string
		schedule         string
		last, lastPassed *DrillRun
		err              string
		want             Status
		text             string
	}{
		{"passed recently", weekly, run("a", 30*time.Hour, true), run("a", 30*time.Hour, true), "", Pass, "RTO 4m12s (objective 10m0s), RPO 35m0s (objective 1h0m0s)"},
		{"newest failed", weekly, run("b", time.Hour, false), run("a", 30*time.Hour, true), "", Fail, "missed: RTO: 14m0s achieved"},
		{"newest failed, not scheduled", "", run("b", 900*time.Hour, false), nil, "", Fail, "failed: RTO: 14m0s achieved"},
		{"none passed within two periods", weekly, run("a", 15*24*time.Hour, true), run("a", 15*24*time.Hour, true), "", Warn, "two periods"},
		{"just within two periods", weekly, run("a", 13*24*time.Hour, true), run("a", 13*24*time.Hour, true), "", Pass, ""},
		{"none recorded, scheduled", weekly, nil, nil, "", Warn, "no DR drill recorded"},
		{"old pass, not scheduled", "", run("a", 900*time.Hour, true), run("a", 900*time.Hour, true), "", Pass, ""},
		{"unreadable records", weekly, nil, nil, "403 Forbidden", Unknown, "403 Forbidden"},
		{"bad schedule", "@every 1h", nil, nil, "", Unknown, "spec.backups.drill.schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckDrill(DrillInput{Now: now, Schedule: tc.schedule, Last: tc.last, LastPassed: tc.lastPassed, Err: tc.err})
			all := c.Summary + "\n" + strings.Join(c.Evidence, "\n")
			if c.Status != tc.want || c.ID != IDDrill {
				t.Fatalf("got %s %s, want %s\n%s", c.ID, c.Status, tc.want, all)
			}
			if !strings.Contains(all, tc.text) {
				t.Errorf("lacks %q:\n%s", tc.text, all)
			}
			if (c.Status == Fail || c.Status == Warn) && c.Fix == "" {
				t.Errorf("%s without a fix", c.Status)
			}
		})
	}
}

// Compute runs backup.drill only when the observation has drill input,
// and status's overview carries the newest drill.
func TestComputeWithDrill(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	in := Input{Now: now}
	for _, c := range Compute(in).Checks {
		if c.ID == IDDrill {
			t.Fatalf("backup.drill without drill input: %+v", c)
		}
	}
	last := &DrillRun{ID: "prod/x", Started: now.Add(-3 * time.Hour), Passed: false, Missed: []string{"RTO: the scratch cluster never became healthy"}}
	in.Drill = &DrillInput{Last: last}
	r := Compute(in)
	var found bool
	for _, c := range r.Checks {
		if c.ID == IDDrill {
			found = c.Status == Fail
		}
	}
	if !found || r.Status == Pass {
		t.Errorf("backup.drill FAIL not in the report (status %s)", r.Status)
	}
	o := drillOverview(&in)
	if o == nil || o.Result != "failed" || o.Age != "3h0m0s" || o.Started != "2026-12-07T09:00:00Z" || !strings.Contains(o.Figures, "RTO not achieved (never healthy)") {
		t.Errorf("overview: %+v", o)
	}
}
