package clusterfile

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLazyRegexpsCompile compiles every expression the package compiles
// on first use (lazyRegexp): a bad one must fail here, not in a user's
// plan.
func TestLazyRegexpsCompile(t *testing.T) {
	if len(lazyExprs) == 0 {
		t.Fatal("no lazy expressions registered")
	}
	for _, e := range lazyExprs {
		if _, err := regexp.Compile(e); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
}

// TestInitIsCheap: every neo4jctl command runs this package's init, so it
// must do no real work (it compiled some twenty regular expressions, about
// 2 300 allocations, before they became lazy). The figure is the runtime's
// own (GODEBUG=inittrace=1) for this test binary, run again without tests.
func TestInitIsCheap(t *testing.T) {
	if os.Getenv("CLUSTERFILE_INIT_PROBE") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "CLUSTERFILE_INIT_PROBE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// "init github.com/…/internal/clusterfile @2.1 ms, 0.9 ms clock, 287712 bytes, 2362 allocs"
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != "init" || f[1] != "github.com/neo4jctl/neo4jctl/internal/clusterfile" {
			continue
		}
		allocs, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", line, err)
		}
		if allocs > 200 {
			t.Errorf("the package's init made %d allocations, want at most 200 (nothing compiled or parsed at init): %s", allocs, line)
		}
		return
	}
	t.Fatalf("no inittrace line for the package in:\n%s", out)
}
