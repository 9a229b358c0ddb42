package clusterfile

import "github.com/neo4jctl/neo4jctl/internal/lazyre"

// lazyRegexp is a regular expression compiled on its first use, not when
// the package initialises: every neo4jctl command links this package and
// runs its init, and most use few of its expressions (`version`, `watch`
// and the backup commands none; a plan only those its cluster file's
// fields call for). Compiling them all at init cost about 2 300
// allocations on every start. The type now lives in internal/lazyre,
// shared with the other packages that had package-level expressions; an
// expression that does not compile still panics, on first use, and
// TestLazyRegexpsCompile compiles every one.
type lazyRegexp = *lazyre.Regexp

// lazyExprs are the expressions of this package's lazyRegexps, for the
// test.
var lazyExprs []string

// newLazyRegexp returns expr compiled on first use.
func newLazyRegexp(expr string) lazyRegexp {
	lazyExprs = append(lazyExprs, expr)
	return lazyre.New(expr)
}
