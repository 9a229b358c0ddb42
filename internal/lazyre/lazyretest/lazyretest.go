// Package lazyretest holds the test helpers of package lazyre: every
// registered expression compiles, and a package's init stays cheap. It is
// apart from lazyre so the command's binary does not link package testing.
package lazyretest

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/lazyre"
)

// CompileAll compiles every expression registered in the test binary.
func CompileAll(t *testing.T) {
	t.Helper()
	exprs := lazyre.Exprs()
	if len(exprs) == 0 {
		t.Fatal("no lazy expressions registered")
	}
	for _, e := range exprs {
		if _, err := regexp.Compile(e); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
}

const probeEnv = "LAZYRE_INIT_PROBE"

// InitAllocs runs the test binary again, with no tests, under
// GODEBUG=inittrace=1 and returns the allocations the runtime reports for
// pkg's init. The child returns at once from the calling test (ok=false):
// callers return when ok is false.
func InitAllocs(t *testing.T, pkg string) (allocs int, ok bool) {
	t.Helper()
	if os.Getenv(probeEnv) != "" {
		return 0, false
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", probeEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// "init github.com/…/plan @2.1 ms, 0.9 ms clock, 123424 bytes, 946 allocs"
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != "init" || f[1] != pkg {
			continue
		}
		n, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", line, err)
		}
		return n, true
	}
	t.Fatalf("no inittrace line for %s in:\n%s", pkg, out)
	return 0, false
}

// InitIsCheap fails t when pkg's init made more than max allocations:
// every neo4jctl command runs every package's init, so a package that
// compiles an expression there charges it to each start.
func InitIsCheap(t *testing.T, pkg string, max int) {
	t.Helper()
	allocs, ok := InitAllocs(t, pkg)
	if !ok {
		return
	}
	if allocs > max {
		t.Errorf("%s's init made %d allocations, want at most %d (no expression compiled at init)", pkg, allocs, max)
	}
}
