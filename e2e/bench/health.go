package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// healthSection marks the healthcheck/status figures in docs/benchmarks.md,
// so -health-only can refresh them alone.
const healthSection = "## healthcheck and status (issue 13)"

// healthReport holds issue 13's figures: healthcheck of the quickstart ≤
// 1.5× a plan of it; status of a 10-cluster fleet ≤ 1 s; every cluster
// applied and followed by a simulator (the Neo4j plane is read).
type healthReport struct {
	note                  string
	healthcheck, plan     sample
	fleetStatus           sample
	fleetHealth           sample
	fleetPlan             sample
	fleetSize             int
	fleetBuilt, fleetDone time.Duration
}

// measureHealth measures on qs (the converged quickstart with its
// simulator) and on a fleet of n converged quickstarts, each with a
// simulator. healthcheck and status exit 3 on a FAIL or UNKNOWN: that is a
// verdict, not a failed run, so 3 counts as a run.
func measureHealth(ctx context.Context, tag string, qs *target, n int, note string) (*healthReport, error) {
	h := &healthReport{note: note, fleetSize: n}
	hc := neo4jctlCmd("healthcheck", "-f", qs.file)
	hc.ok = []int{0, 3}
	h.healthcheck = measure(hc)
	h.plan = qs.plan()

	start := time.Now()
	dir := filepath.Join(work, tag+"-hfleet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i := range n {
		t, err := newTarget(ctx, "examples/quickstart.yaml", fmt.Sprintf("%s-h%02d", tag, i), fmt.Sprintf("graph%02d", i), true)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(t.file)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cluster-%02d.yaml", i)), b, 0o644); err != nil {
			return nil, err
		}
	}
	h.fleetBuilt = time.Since(start)
	if _, err := neo4jctl(nil, "apply", "-f", dir, "--auto-approve"); err != nil {
		return nil, err
	}
	h.fleetDone = time.Since(start)
	st := neo4jctlCmd("status", "-f", dir)
	st.ok = []int{0, 3}
	h.fleetStatus = measure(st)
	hf := neo4jctlCmd("healthcheck", "-f", dir)
	hf.ok = []int{0, 3}
	h.fleetHealth = measure(hf)
	pf := neo4jctlCmd("plan", "-f", dir)
	h.fleetPlan = measure(pf)
	return h, nil
}

func (h *healthReport) markdown() string {
	var b strings.Builder
	b.WriteString(healthSection + "\n\n")
	if h.note != "" {
		fmt.Fprintf(&b, "**%s**\n\n", h.note)
	}
	b.WriteString("Every cluster applied and followed by a simulator, so the Neo4j plane is read (SHOW SERVERS, SHOW DATABASES, dbms.cluster.statusCheck) through a port-forward as in production. healthcheck and status exit 3 on a FAIL or UNKNOWN verdict; that counts as a run.\n\n")
	ra := float64(h.healthcheck.median()) / float64(max(h.plan.median(), 1))
	b.WriteString("| what | command | median | peak RSS | goal |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| healthcheck, quickstart | `%s` | %s | %s | ≤ 1.5× plan: **%.2f×** — %s |\n", h.healthcheck.cmd, ms(h.healthcheck.median()), mib(h.healthcheck.rss), ra, verdict(ra, 1.5))
	fmt.Fprintf(&b, "| plan, quickstart | `%s` | %s | %s | |\n", h.plan.cmd, ms(h.plan.median()), mib(h.plan.rss))
	met := "**met**"
	if h.fleetStatus.median() > time.Second {
		met = "**missed**"
	}
	fmt.Fprintf(&b, "| status, %d clusters | `%s` | %s | %s | ≤ 1 s: %s |\n", h.fleetSize, h.fleetStatus.cmd, ms(h.fleetStatus.median()), mib(h.fleetStatus.rss), met)
	fmt.Fprintf(&b, "| healthcheck, %d clusters | `%s` | %s | %s | |\n", h.fleetSize, h.fleetHealth.cmd, ms(h.fleetHealth.median()), mib(h.fleetHealth.rss))
	fmt.Fprintf(&b, "| plan, %d clusters | `%s` | %s | %s | |\n", h.fleetSize, h.fleetPlan.cmd, ms(h.fleetPlan.median()), mib(h.fleetPlan.rss))
	for _, s := range []sample{h.healthcheck, h.plan, h.fleetStatus, h.fleetHealth, h.fleetPlan} {
		if s.err != nil {
			b.WriteString(errNote(s))
		}
	}
	fmt.Fprintf(&b, "\nRuns (ms): healthcheck %s; plan %s; fleet status %s.\n", walls(h.healthcheck), walls(h.plan), walls(h.fleetStatus))
	return b.String()
}

// spliceHealth replaces the health section of the file at path (or
// appends it), leaving every other figure as it was measured.
func spliceHealth(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	if i := strings.Index(s, healthSection); i >= 0 {
		rest := s[i+len(healthSection):]
		end := len(s)
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = i + len(healthSection) + j + 1
		}
		s = s[:i] + section + "\n" + s[end:]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
