package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// fakeNeo4j is one admin user with a password.
type fakeNeo4j struct {
	password string
	// refuse makes ALTER fail as Neo4j refusing it.
	refuse bool
	// dropAfterAlter changes the password, then reports a lost connection.
	dropAfterAlter bool
}

type fakeSession struct{ db *fakeNeo4j }

func (s fakeSession) ChangeOwnPassword(_ context.Context, old, next string) error {
	switch {
	case s.db.refuse:
		return &neo4j.Error{Kind: neo4j.KindRefused, Code: "Neo.ClientError.Statement.ArgumentError", Message: "refused"}
	case old != s.db.password:
		return &neo4j.Error{Kind: neo4j.KindRefused, Code: "Neo.ClientError.Statement.ArgumentError", Message: "Invalid principal or credentials."}
	}
	s.db.password = next
	if s.db.dropAfterAlter {
		return &neo4j.Error{Kind: neo4j.KindUnreachable, Message: "connection reset"}
	}
	return nil
}
func (fakeSession) Close(context.Context) error { return nil }

func (db *fakeNeo4j) login(_ context.Context, pw string) (Session, error) {
	if pw != db.password {
		return nil, &neo4j.Error{Kind: neo4j.KindAuth, Code: "Neo.ClientError.Security.Unauthorized", Message: "unauthorized"}
	}
	return fakeSession{db}, nil
}

// fakeSecrets is one Secret with a resourceVersion.
type fakeSecrets struct {
	data map[string][]byte
	rv   int
}

func (f *fakeSecrets) ReadSecretData(context.Context, string, string) (kube.SecretData, error) {
	d := map[string][]byte{}
	for k, v := range f.data {
		d[k] = v
	}
	return kube.SecretData{Data: d, ResourceVersion: strconv.Itoa(f.rv)}, nil
}

func (f *fakeSecrets) UpdateSecretData(_ context.Context, _, _, rv string, set map[string][]byte, remove []string) (string, error) {
	if rv != strconv.Itoa(f.rv) {
		return "", errors.New("conflict")
	}
	for k, v := range set {
		f.data[k] = v
	}
	for _, k := range remove {
		delete(f.data, k)
	}
	f.rv++
	return strconv.Itoa(f.rv), nil
}

var errCrash = errors.New("crash")

func rotator(db *fakeNeo4j, sec *fakeSecrets, crashAfter RotateStep, n *int) *Rotator {
	return &Rotator{
		Secrets: sec, Namespace: "graph", Secret: "neo4j-auth", Key: "password", Login: db.login,
		Generate: func() (string, error) { *n++; return fmt.Sprintf("canary-new-%d", *n), nil },
		Step: func(s RotateStep) error {
			if s == crashAfter {
				return errCrash
			}
			return nil
		},
	}
}

// loginWorks reports whether a password the Secret holds logs in.
func loginWorks(db *fakeNeo4j, sec *fakeSecrets) bool {
	return string(sec.data["password"]) == db.password || string(sec.data["next-password"]) == db.password
}

// TestRotateCrashAfterEachStep: killed after any step, the Secret still
// holds a password that logs in, and a rerun ends with the Secret's key
// holding the password Neo4j accepts and no next key.
func TestRotateCrashAfterEachStep(t *testing.T) {
	for _, crash := range []RotateStep{StepLogin, StepRecordNext, StepAlter, StepVerify, StepPromote} {
		t.Run(string(crash), func(t *testing.T) {
			db := &fakeNeo4j{password: "canary-old"}
			sec := &fakeSecrets{data: map[string][]byte{"password": []byte("canary-old")}}
			n := 0
			_, err := rotator(db, sec, crash, &n).Rotate(context.Background())
			if !errors.Is(err, errCrash) {
				t.Fatalf("first run: %v, want the injected crash", err)
			}
			if !loginWorks(db, sec) {
				t.Fatalf("after a crash at %s the Secret holds no working password", crash)
			}
			out, err := rotator(db, sec, "", &n).Rotate(context.Background())
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if got := string(sec.data["password"]); got != db.password {
				t.Errorf("Secret password %q, Neo4j's %q", got, db.password)
			}
			if _, ok := sec.data["next-password"]; ok {
				t.Error("next-password left in the Secret")
			}
			if db.password == "canary-old" {
				t.Error("the password never changed")
			}
			// A crash once the statement ran is finished; before, the
			// recorded password is used; after promote, a new rotation.
			want := map[RotateStep]Outcome{StepLogin: Rotated, StepRecordNext: Finished, StepAlter: Finished, StepVerify: Finished, StepPromote: Rotated}[crash]
			if out != want {
				t.Errorf("rerun outcome %s, want %s", out, want)
			}
			if crash == StepRecordNext && db.password != "canary-new-1" {
				t.Errorf("the rerun did not use the recorded next password: %q", db.password)
			}
		})
	}
}

// TestRotateUnknownOutcome: the connection drops after Neo4j changed the
// password; the rotation learns it by logging in and finishes.
func TestRotateUnknownOutcome(t *testing.T) {
	db := &fakeNeo4j{password: "canary-old", dropAfterAlter: true}
	sec := &fakeSecrets{data: map[string][]byte{"password": []byte("canary-old")}}
	n := 0
	out, err := rotator(db, sec, "", &n).Rotate(context.Background())
	if err != nil || out != Rotated {
		t.Fatalf("got %s, %v; want rotated", out, err)
	}
	if string(sec.data["password"]) != db.password {
		t.Errorf("Secret does not hold Neo4j's password")
	}
}

// TestRotateRefusedRollsBack: Neo4j refuses the change: the next key is
// removed and the current password stays.
func TestRotateRefusedRollsBack(t *testing.T) {
	db := &fakeNeo4j{password: "canary-old", refuse: true}
	sec := &fakeSecrets{data: map[string][]byte{"password": []byte("canary-old")}}
	n := 0
	out, err := rotator(db, sec, "", &n).Rotate(context.Background())
	if err == nil || out != RolledBack {
		t.Fatalf("got %s, %v; want rolled back with an error", out, err)
	}
	if _, ok := sec.data["next-password"]; ok || string(sec.data["password"]) != "canary-old" || db.password != "canary-old" {
		t.Errorf("after roll back: secret %q, neo4j %q", sec.data, db.password)
	}
}

// TestRotateLockedOut: no password in the Secret logs in: nothing is
// changed and the error says so.
func TestRotateLockedOut(t *testing.T) {
	db := &fakeNeo4j{password: "canary-elsewhere"}
	sec := &fakeSecrets{data: map[string][]byte{"password": []byte("canary-old"), "next-password": []byte("canary-next")}}
	n := 0
	_, err := rotator(db, sec, "", &n).Rotate(context.Background())
	if !errors.Is(err, ErrLockedOut) {
		t.Fatalf("got %v, want ErrLockedOut", err)
	}
	if sec.rv != 0 {
		t.Error("the Secret was written")
	}
}
