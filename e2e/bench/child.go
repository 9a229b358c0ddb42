package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// rssWrap is the path of the built rsswrap (buildRSSWrap): every measured
// command runs as its child, so that its peak RSS is its own.
var rssWrap string

// buildRSSWrap builds e2e/bench/rsswrap into dir.
func buildRSSWrap(dir string) (string, error) {
	out := filepath.Join(dir, "rsswrap")
	cmd := exec.Command("go", "build", "-o", out, "github.com/neo4jctl/neo4jctl/e2e/bench/rsswrap")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build rsswrap: %v\n%s", err, b)
	}
	return out, nil
}

// measured is what rsswrap reports of one command.
type measured struct {
	wall, cpu time.Duration
	rss       int64 // KiB
	code      int
	stderr    string
}

// runMeasured runs bin through wrap (rsswrap) with env, and returns the
// command's wall time (fork to exit, as rsswrap saw it: the wrapper's own
// start is not in it), its CPU time, its peak RSS and its exit code. The
// command's stdout is discarded.
func runMeasured(wrap, bin string, args, env []string) (measured, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return measured{}, err
	}
	defer r.Close()
	cmd := exec.Command(wrap, append([]string{bin}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	cmd.ExtraFiles = []*os.File{w} // fd 3 in rsswrap
	err = cmd.Start()
	w.Close()
	if err != nil {
		return measured{}, err
	}
	var report bytes.Buffer
	_, _ = report.ReadFrom(r)
	err = cmd.Wait()
	m := measured{stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	f := strings.Fields(report.String())
	if len(f) != 4 {
		return m, fmt.Errorf("%s: rsswrap reported %q (%v): %s", filepath.Base(bin), report.String(), err, lastLine(m.stderr))
	}
	var n [4]int64
	for i, s := range f {
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return m, fmt.Errorf("rsswrap reported %q: %w", report.String(), err)
		}
	}
	m.wall, m.cpu, m.rss = time.Duration(n[0]), time.Duration(n[1]+n[2]), n[3]
	return m, nil
}
