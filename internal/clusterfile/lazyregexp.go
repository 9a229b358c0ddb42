package clusterfile

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on its first use, not when
// the package initialises: every neo4jctl command links this package and
// runs its init, and most use few of its expressions (`version`, `watch`
// and the backup commands none; a plan only those its cluster file's
// fields call for). Compiling them all at init cost about 2 300
// allocations on every start. An expression that does not compile still
// panics, on first use; TestLazyRegexpsCompile compiles every one.
type lazyRegexp struct{ re func() *regexp.Regexp }

// lazyExprs are the expressions of every lazyRegexp, for the test.
var lazyExprs []string

// newLazyRegexp returns expr compiled on first use.
func newLazyRegexp(expr string) lazyRegexp {
	lazyExprs = append(lazyExprs, expr)
	return lazyRegexp{sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

func (l lazyRegexp) MatchString(s string) bool { return l.re().MatchString(s) }

func (l lazyRegexp) FindStringSubmatch(s string) []string { return l.re().FindStringSubmatch(s) }

func (l lazyRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	return l.re().FindAllStringSubmatch(s, n)
}

func (l lazyRegexp) ReplaceAllString(src, repl string) string {
	return l.re().ReplaceAllString(src, repl)
}
