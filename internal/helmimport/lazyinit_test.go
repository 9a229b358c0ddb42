package helmimport

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/lazyre/lazyretest"
)

// TestLazyRegexpsCompile: the package's expressions are compiled on first
// use (lazyre); a bad one must fail here, not in a user's command.
func TestLazyRegexpsCompile(t *testing.T) { lazyretest.CompileAll(t) }

// TestInitIsCheap: every neo4jctl command runs this package's init,
// so it compiles nothing there.
func TestInitIsCheap(t *testing.T) {
	lazyretest.InitIsCheap(t, "github.com/neo4jctl/neo4jctl/internal/helmimport", 30)
}
