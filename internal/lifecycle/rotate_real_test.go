package lifecycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// realSession is a client logged in to a server.
type realSession struct{ *neo4j.Client }

// TestRotateAgainstRealNeo4j rotates the admin password of a real Neo4j
// Community server (the contract suite's launcher, a server of its own:
// the contract suite's shared one must keep its password), killed after
// each step and rerun, and checks that the simulator refuses a wrong or
// unchanged old password with the code the real server sends.
func TestRotateAgainstRealNeo4j(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Neo4j; skipped with -short")
	}
	const first = "canary-real-old-7c2a"
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: first})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	login := func(uri string, resolver neo4j.Resolver) func(ctx context.Context, pw string) (Session, error) {
		return func(ctx context.Context, pw string) (Session, error) {
			c, err := neo4j.Open(ctx, neo4j.Config{URI: uri, Username: "neo4j", Password: pw, Resolver: resolver})
			if err != nil {
				return nil, err
			}
			return realSession{c}, nil
		}
	}
	realLogin := login(srv.BoltURI, nil)

	// The simulator answers the refusals as the real server does.
	sim, err := neo4jsim.Start(neo4jsim.Config{Password: first})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	simLogin := login(sim.URI("bolt"), neo4j.MapResolver(sim.AddressMap()))
	for _, tc := range []struct{ name, old, next string }{
		{"wrong old password", "canary-wrong-1", "canary-next-x1"},
		{"unchanged password", first, first},
	} {
		var codes [2]string
		for i, l := range []func(context.Context, string) (Session, error){realLogin, simLogin} {
			s, err := l(ctx, first)
			if err != nil {
				t.Fatalf("log in: %v", err)
			}
			err = s.ChangeOwnPassword(ctx, tc.old, tc.next)
			_ = s.Close(ctx)
			var e *neo4j.Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: got %v, want a Neo4j error", tc.name, err)
			}
			if strings.Contains(err.Error(), tc.old) || strings.Contains(err.Error(), tc.next) {
				t.Errorf("%s: the error holds a password", tc.name)
			}
			if neo4j.IsAuth(err) {
				t.Errorf("%s: classified as a login failure: %v", tc.name, err)
			}
			codes[i] = e.Code
		}
		t.Logf("%s: real Neo4j %s answers %s", tc.name, srv.Version, codes[0])
		if codes[0] != codes[1] {
			t.Errorf("%s: real Neo4j answers %s, the simulator %s", tc.name, codes[0], codes[1])
		}
	}

	pw := first
	n := 0
	for _, crash := range []RotateStep{StepLogin, StepRecordNext, StepAlter, StepVerify, StepPromote} {
		sec := &fakeSecrets{data: map[string][]byte{"password": []byte(pw)}}
		r := &Rotator{Secrets: sec, Namespace: "graph", Secret: "neo4j-auth", Key: "password", Login: realLogin,
			Step: func(s RotateStep) error {
				if s == crash {
					return errCrash
				}
				return nil
			}}
		if _, err := r.Rotate(ctx); !errors.Is(err, errCrash) {
			t.Fatalf("kill after %s: %v", crash, err)
		}
		works := 0
		for _, k := range []string{"password", "next-password"} {
			if v, ok := sec.data[k]; ok {
				if s, err := realLogin(ctx, string(v)); err == nil {
					_ = s.Close(ctx)
					works++
				}
			}
		}
		if works == 0 {
			t.Fatalf("killed after %s: locked out of the real server", crash)
		}
		r.Step = nil
		if _, err := r.Rotate(ctx); err != nil {
			t.Fatalf("rerun after a kill at %s: %v", crash, err)
		}
		n++
		if _, ok := sec.data["next-password"]; ok {
			t.Errorf("kill at %s: next-password left after the rerun", crash)
		}
		pw = string(sec.data["password"])
		s, err := realLogin(ctx, pw)
		if err != nil {
			t.Fatalf("kill at %s: the Secret's password does not log in: %v", crash, err)
		}
		_ = s.Close(ctx)
	}
	if _, err := realLogin(ctx, first); !neo4j.IsAuth(err) {
		t.Errorf("the first password still logs in (err %v)", err)
	}
}
