package neo4jsim

import (
	"context"
	"strings"
	"testing"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// TestAlterCurrentUserPassword: the statement changes the password new
// connections need, only from the right old password, only on system, and
// the log never holds a password.
func TestAlterCurrentUserPassword(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("bolt"), testPassword)
	const stmt = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"
	on := func(db, q string, p map[string]any) error {
		sess := d.NewSession(context.Background(), neo4j.SessionConfig{DatabaseName: db})
		defer sess.Close(context.Background())
		r, err := sess.Run(context.Background(), q, p)
		if err == nil {
			_, err = r.Consume(context.Background())
		}
		return err
	}
	sys := func(q string, p map[string]any) error { return on("system", q, p) }
	// Not on system: refused.
	if err := on("neo4j", stmt, map[string]any{"old": testPassword, "new": "canary-next-1"}); neo4jCode(err) != codeNotSystemDatabase {
		t.Errorf("on neo4j: got %v, want %s", err, codeNotSystemDatabase)
	}
	if err := sys(stmt, map[string]any{"old": "wrong", "new": "canary-next-1"}); neo4jCode(err) != CodeArgumentError {
		t.Errorf("wrong old password: got %v, want %s", err, CodeArgumentError)
	}
	if err := sys(stmt, map[string]any{"old": testPassword, "new": testPassword}); neo4jCode(err) != CodeArgumentError {
		t.Errorf("unchanged password: got %v, want %s", err, CodeArgumentError)
	}
	if err := sys(stmt, map[string]any{"old": testPassword, "new": "canary-next-1"}); err != nil {
		t.Fatalf("ALTER CURRENT USER: %v", err)
	}
	// The open connection stays authenticated; new ones need the new password.
	if err := newDriver(t, s.URI("bolt"), testPassword).VerifyConnectivity(context.Background()); neo4jCode(err) != CodeUnauthorized {
		t.Errorf("old password after the change: got %v, want %s", err, CodeUnauthorized)
	}
	if err := newDriver(t, s.URI("bolt"), "canary-next-1").VerifyConnectivity(context.Background()); err != nil {
		t.Errorf("new password: %v", err)
	}
	// Literals work too.
	if err := sys("ALTER CURRENT USER SET PASSWORD FROM 'canary-next-1' TO 'canary-next-2'", nil); err != nil {
		t.Fatalf("with literals: %v", err)
	}
	for _, st := range s.Log() {
		all := st.Query + " " + st.Message
		for _, v := range st.Params {
			all += " " + v.(string)
		}
		if strings.Contains(all, "canary") || strings.Contains(all, testPassword) {
			t.Errorf("the statement log holds a password: %+v", st)
		}
	}
}
