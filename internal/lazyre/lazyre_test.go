package lazyre

import (
	"slices"
	"testing"
)

// TestCompiledOnFirstUse: New registers the expression without compiling
// it; the first use compiles it and later uses share the result.
func TestCompiledOnFirstUse(t *testing.T) {
	r := New(`^a(b+)c$`)
	if !slices.Contains(Exprs(), `^a(b+)c$`) {
		t.Fatalf("expression not registered: %q", Exprs())
	}
	if !r.MatchString("abbc") || r.MatchString("ac") {
		t.Error("MatchString")
	}
	if m := r.FindStringSubmatch("abbbc"); len(m) != 2 || m[1] != "bbb" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	if r.Regexp() != r.Regexp() {
		t.Error("compiled twice")
	}
}

// TestBadExpressionPanicsOnUse: a bad expression costs nothing at New and
// panics when used, as regexp.MustCompile would have at init.
func TestBadExpressionPanicsOnUse(t *testing.T) {
	r := New(`(`)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	r.MatchString("x")
}
