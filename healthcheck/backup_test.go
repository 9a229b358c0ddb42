package healthcheck

import (
	"strings"
	"testing"
	"time"
)

func TestCheckBackups(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Nightly fulls at 02:00 and differentials at 08, 14 and 20: the
	// longest gap is 20:00 → 02:00, six hours.
	base := BackupInput{Now: now, Full: "0 2 * * *", Differential: "0 8,14,20 * * *"}
	tests := []struct {
		name    string
		dbs     []BackupDatabase
		mod     func(*BackupInput)
		want    Status
		summary string
	}{
		{name: "fresh", dbs: []BackupDatabase{
			{Name: "neo4j", LastSuccess: at("2026-12-07T14:03:00Z"), ChainLength: 3},
			{Name: "system", LastSuccess: at("2026-12-07T14:01:00Z"), ChainLength: 3},
		}, want: Pass, summary: "2 databases backed up"},
		{name: "one run missed", dbs: []BackupDatabase{
			{Name: "neo4j", LastSuccess: at("2026-12-07T08:02:00Z"), ChainLength: 2, LastFailure: at("2026-12-07T14:05:00Z"), LastFailureReason: "neo4j-admin exited 1"},
		}, want: Warn, summary: "1 of 1 database"},
		{name: "missed schedule: older than two periods", dbs: []BackupDatabase{
			{Name: "neo4j", LastSuccess: at("2026-12-07T02:04:00Z"), ChainLength: 1},
			{Name: "system", LastSuccess: at("2026-12-07T14:01:00Z"), ChainLength: 3},
		}, want: Fail, summary: "1 of 2 databases"},
		{name: "a database never backed up", dbs: []BackupDatabase{{Name: "movies"}}, want: Fail},
		{name: "empty catalogue", want: Fail, summary: "holds no backup"},
		{name: "no schedule", mod: func(in *BackupInput) { in.Full, in.Differential = "", "" }, want: Skip},
		{name: "catalogue unreadable", mod: func(in *BackupInput) { in.Err = "403 Forbidden" }, want: Unknown},
		{name: "weekly full only, five days old", dbs: []BackupDatabase{{Name: "neo4j", LastSuccess: at("2026-12-02T02:00:00Z")}},
			mod: func(in *BackupInput) { in.Full, in.Differential = "0 2 * * 3", "" }, want: Pass},
		{name: "time zone shifts the runs", dbs: []BackupDatabase{{Name: "neo4j", LastSuccess: at("2026-12-06T01:10:00Z")}},
			// 02:00 Berlin is 01:00 UTC: the last run was 14 hours ago, the period a day.
			mod: func(in *BackupInput) { in.Full, in.Differential, in.TimeZone = "0 2 * * *", "", "Europe/Berlin" }, want: Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.Databases = tt.dbs
			if tt.mod != nil {
				tt.mod(&in)
			}
			c := CheckBackups(in)
			if c.Status != tt.want || !strings.Contains(c.Summary, tt.summary) {
				t.Errorf("got %s %q, want %s containing %q\nevidence: %q", c.Status, c.Summary, tt.want, tt.summary, c.Evidence)
			}
			if (c.Status == Warn || c.Status == Fail) && c.Fix == "" {
				t.Errorf("%s without a fix", c.Status)
			}
		})
	}
}

func TestSchedulePeriod(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		full, diff string
		want       time.Duration
	}{
		{"0 2 * * *", "", 24 * time.Hour},
		{"0 2 * * *", "0 */6 * * *", 6 * time.Hour},
		{"0 2 * * *", "0 8,14,20 * * *", 6 * time.Hour},
		{"0 2 * * 0", "", 7 * 24 * time.Hour},
		{"@hourly", "", time.Hour},
	}
	for _, tt := range tests {
		got, _, err := schedulePeriod(tt.full, tt.diff, "", now)
		if err != nil || got != tt.want {
			t.Errorf("schedulePeriod(%q, %q) = %s, %v; want %s", tt.full, tt.diff, got, err, tt.want)
		}
	}
}
