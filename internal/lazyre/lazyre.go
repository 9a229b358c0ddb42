package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use. An expression that
// does not compile panics on first use, like regexp.MustCompile; Exprs lets
// a test compile every registered one up front.
type Regexp struct {
	re func() *regexp.Regexp
}

var (
	mu    sync.Mutex
	exprs []string
)

// New returns expr, to be compiled on first use. It is meant for
// package-level variables.
func New(expr string) *Regexp {
	mu.Lock()
	exprs = append(exprs, expr)
	mu.Unlock()
	return &Regexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// Exprs returns the expressions of every Regexp made so far (in a test
// binary: those of every linked package's variables).
func Exprs() []string {
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), exprs...)
}

// Regexp returns the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.re() }

func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }

func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.re().FindAllStringSubmatch(s, n)
}

func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.re().ReplaceAllString(src, repl)
}

func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.re().ReplaceAllStringFunc(src, repl)
}
