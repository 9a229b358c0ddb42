package helmimport

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/lazyre/lazyretest"
)

// TestLazyRegexpsCompile: the package's expressions are compiled on first
// use (lazyre); a bad one must fail here, not in a user's command.
func TestLazyRegexpsCompile(t *testing.T) { lazyretest.CompileAll(t) }

// TestInitIsCheap: every neo4jctl command runs this package's init, so it
// compiles nothing (GODEBUG=inittrace=1 of this test binary, run again
// without tests).
func TestInitIsCheap(t *testing.T) {
	allocs, ok := lazyretest.InitAllocs(t, "github.com/neo4jctl/neo4jctl/internal/helmimport")
	if !ok {
		return
	}
	if allocs > 30 {
		t.Errorf("the package's init made %d allocations, want at most 30 (no expression compiled at init)", allocs)
	}
}
