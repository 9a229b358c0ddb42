package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client CPU of one plan (-client-cpu): the CPU time (user + system) a
// single `neo4jctl plan` spends in its own process, its wall time and its
// peak RSS, for one or more builds run alternately on one control plane.
//
// CPU time is the figure to compare on a shared, loaded machine: a process
// waiting for a core accrues wall time but not CPU time, so the medians of
// CPU move far less with the load than those of wall time. Alternating the
// builds run by run puts them under the same load, so a before/after pair
// is fair even when the load drifts. The init figure is the sum of the
// package initialisers' clock times that GODEBUG=inittrace=1 prints for
// `neo4jctl version` (every linked package's init runs before any command).
//
//	bench -client-cpu BIN[,BIN...] [-runs 30]

// clientCPUScenario is one plan measured for every build.
type clientCPUScenario struct {
	name string
	args []string // after "plan -f FILE"
	file string
}

// clientFigures are one build's runs of one scenario.
type clientFigures struct {
	cpu, wall []time.Duration
	rss       []int64 // KiB
}

func (f *clientFigures) add(m measured) {
	f.cpu = append(f.cpu, m.cpu)
	f.wall = append(f.wall, m.wall)
	f.rss = append(f.rss, m.rss)
}

func medianOf[T int64 | time.Duration | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// measureClientCPU runs each scenario runs times per build, alternating
// the builds, and prints a Markdown table of the medians. The objects are
// made present (and the quickstart converged) with the first build.
func measureClientCPU(ctx context.Context, tag string, bins []string) error {
	for i, b := range bins {
		abs, err := filepath.Abs(b)
		if err != nil {
			return err
		}
		bins[i] = abs
	}
	first := bins[0]
	neo4jctlBin = first // neo4jctl() (the set-up commands) runs the first build
	prod, err := newTarget(ctx, "examples/production.yaml", tag+"-cprod", "", false)
	if err != nil {
		return err
	}
	qs, err := newTarget(ctx, "examples/quickstart.yaml", tag+"-cqs", "", true)
	if err != nil {
		return err
	}
	defer qs.sim.Close()
	if _, err := neo4jctl(nil, "apply", "-f", qs.file, "--auto-approve"); err != nil {
		return err
	}
	type result struct {
		sc  clientCPUScenario
		per []clientFigures
	}
	var results []result
	scenarios := []clientCPUScenario{
		{name: "production example, fresh namespace", file: prod.file},
		{name: "production example, objects present (--skip-neo4j)", file: prod.file, args: []string{"--skip-neo4j"}},
		{name: "quickstart, converged, Neo4j plane read (simulator)", file: qs.file},
	}
	kenv := append(os.Environ(), "NO_COLOR=1", "KUBECONFIG="+env.Kubeconfig)
	for i, sc := range scenarios {
		if i == 1 {
			if _, err := neo4jctl(nil, "apply", "-f", prod.file, "--auto-approve", "--skip-neo4j", "--wait=false"); err != nil {
				return err
			}
		}
		args := append([]string{"plan", "-f", sc.file}, sc.args...)
		args = append(args, "--kubeconfig", env.Kubeconfig)
		per := make([]clientFigures, len(bins))
		for _, b := range bins { // warm-up, not counted
			if _, err := runMeasured(rssWrap, b, args, kenv); err != nil {
				return err
			}
		}
		for range runs {
			for j, b := range bins {
				m, err := runMeasured(rssWrap, b, args, kenv)
				if err == nil && m.code != 0 && m.code != 2 { // 2: plan has changes
					err = fmt.Errorf("exit %d: %s", m.code, lastLine(m.stderr))
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", b, strings.Join(args, " "), err)
				}
				per[j].add(m)
			}
		}
		for j, b := range bins {
			logf("%s: %s: CPU %v, wall %v", sc.name, filepath.Base(b), medianOf(per[j].cpu).Round(time.Millisecond), medianOf(per[j].wall).Round(time.Millisecond))
		}
		results = append(results, result{sc, per})
	}
	inits := make([][]float64, len(bins))
	for range runs {
		for j, b := range bins {
			ms, err := initClock(b)
			if err != nil {
				return err
			}
			inits[j] = append(inits[j], ms)
		}
	}

	var w strings.Builder
	fmt.Fprintf(&w, "Medians of %d alternating runs per build (user+sys CPU / wall / peak RSS of the command):\n\n", runs)
	fmt.Fprintf(&w, "| plan |")
	for _, b := range bins {
		fmt.Fprintf(&w, " %s |", filepath.Base(b))
	}
	fmt.Fprintf(&w, "\n|---|%s\n", strings.Repeat("---|", len(bins)))
	for _, r := range results {
		fmt.Fprintf(&w, "| %s |", r.sc.name)
		for _, f := range r.per {
			fmt.Fprintf(&w, " %d ms / %d ms / %d MiB |", medianOf(f.cpu).Milliseconds(), medianOf(f.wall).Milliseconds(), medianOf(f.rss)/1024)
		}
		fmt.Fprintln(&w)
	}
	fmt.Fprintf(&w, "| `version`: package inits, clock (GODEBUG=inittrace=1) |")
	for _, xs := range inits {
		fmt.Fprintf(&w, " %.1f ms |", medianOf(xs))
	}
	fmt.Fprintln(&w)
	fmt.Print(w.String())
	return nil
}

// initClock runs `bin version` with GODEBUG=inittrace=1 and returns the
// sum of the initialisers' clock times (ms), which the runtime prints on
// standard error.
func initClock(bin string) (float64, error) {
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s version: %v: %s", bin, err, stderr.String())
	}
	out := stderr.String()
	var sum float64
	n := 0
	// "init PKG @T ms, C ms clock, B bytes, A allocs"
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		c, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			return 0, fmt.Errorf("inittrace line %q: %w", line, err)
		}
		sum += c
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("%s version: no inittrace lines", bin)
	}
	return sum, nil
}
