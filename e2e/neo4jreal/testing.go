package neo4jreal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
)

// Required reports whether RequireEnv asks for missing prerequisites to fail
// tests instead of skipping them.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// StartT starts a server for t and stops it when t ends. When a prerequisite
// is missing it skips t with a message starting "SKIP:" that names what is
// missing, printed to stdout as well so it shows without -v; with RequireEnv
// set it fails t instead. Any other error fails t.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		HandleStartError(t, err)
		return nil
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop real Neo4j: %v", err)
		}
	})
	return s
}

// HandleStartError skips or fails t for an error from Start, following the
// rules of StartT. It is for callers that share one server between tests.
func HandleStartError(t testing.TB, err error) {
	t.Helper()
	var u *UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("start real Neo4j: %v", err)
		return
	}
	if Required() {
		t.Fatalf("%s=1 but %v", RequireEnv, err)
		return
	}
	msg := SkipMessage(err)
	// t.Skip output is hidden without -v; a skipped contract suite must be
	// impossible to mistake for a passing one.
	fmt.Println(msg)
	t.Skip(msg)
}

// SkipMessage is the loud one-line skip notice for an *UnavailableError.
func SkipMessage(err error) string {
	var u *UnavailableError
	if errors.As(err, &u) {
		return fmt.Sprintf("SKIP: real Neo4j contract tests: missing %s (set %s=1 to fail instead)", u.Missing, RequireEnv)
	}
	return "SKIP: real Neo4j contract tests: " + err.Error()
}
