package lifecycle

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// NextKey is the Secret key that holds the password a rotation is moving
// to, beside key (the one the cluster file references), from the moment
// before the password changes in Neo4j until the rotation is done. Whoever
// logs in with the Secret (plan, apply, watch, healthcheck) tries key, then
// NextKey: between the change and the end of the rotation only the next
// password works.
func NextKey(key string) string { return "next-" + key }

// RotateStep names a step of a password rotation, in order.
type RotateStep string

// The steps of a rotation. A process killed after any of them leaves a
// state the next run finishes (or rolls back) without locking the admin
// out: the Secret always holds a password that logs in, under key or
// NextKey(key).
const (
	// StepLogin: find which password logs in (the current, or the next
	// one an interrupted rotation recorded).
	StepLogin RotateStep = "login"
	// StepRecordNext: the new password is written to NextKey(key) in the
	// Secret, before Neo4j hears of it.
	StepRecordNext RotateStep = "record-next"
	// StepAlter: ALTER CURRENT USER SET PASSWORD FROM current TO next.
	StepAlter RotateStep = "alter"
	// StepVerify: the next password logs in.
	StepVerify RotateStep = "verify"
	// StepPromote: the next password becomes key's value and NextKey is
	// removed, in one write of the Secret.
	StepPromote RotateStep = "promote"
	// StepRollBack: Neo4j refused the change and the current password
	// still logs in: NextKey is removed.
	StepRollBack RotateStep = "roll-back"
)

// Outcome says how a rotation ended.
type Outcome string

// Outcomes.
const (
	// Rotated: a new password was made current.
	Rotated Outcome = "rotated"
	// Finished: an interrupted rotation was finished.
	Finished Outcome = "finished"
	// RolledBack: Neo4j refused the change; nothing changed.
	RolledBack Outcome = "rolled-back"
)

// Session is a Neo4j connection logged in as the admin.
type Session interface {
	ChangeOwnPassword(ctx context.Context, old, next string) error
	Close(ctx context.Context) error
}

// SecretStore reads and writes the Secret holding the password.
type SecretStore interface {
	ReadSecretData(ctx context.Context, ns, name string) (kube.SecretData, error)
	UpdateSecretData(ctx context.Context, ns, name, resourceVersion string, set map[string][]byte, remove []string) (string, error)
}

// Rotator rotates the admin password kept in a Secret.
type Rotator struct {
	Secrets   SecretStore
	Namespace string
	Secret    string
	Key       string
	// Login opens a session with password; an error for which
	// neo4j.IsAuth is true means the password is wrong, any other error
	// that Neo4j could not be asked.
	Login func(ctx context.Context, password string) (Session, error)
	// Generate returns a new password (default: 32 random characters).
	Generate func() (string, error)
	// Step is told about each step once it is done; an error it returns
	// stops the rotation there (tests inject a crash this way).
	Step func(s RotateStep) error
	// Secret values seen are reported here first (to hide them from every
	// output).
	OnSecret func(v string)
}

// ErrLockedOut is returned when no password the Secret holds logs in.
var ErrLockedOut = errors.New("no password in the Secret logs in")

// Rotate changes the admin password, or finishes a rotation an earlier
// run left halfway. It decides what to do by which password logs in,
// never by what the Secret says alone.
func (r *Rotator) Rotate(ctx context.Context) (Outcome, error) {
	sd, err := r.Secrets.ReadSecretData(ctx, r.Namespace, r.Secret)
	if err != nil {
		return "", err
	}
	nextKey := NextKey(r.Key)
	cur, ok := sd.Data[r.Key]
	if !ok {
		return "", fmt.Errorf("Secret %s/%s has no key %q", r.Namespace, r.Secret, r.Key)
	}
	next, hasNext := sd.Data[nextKey]
	r.seen(string(cur))
	if hasNext {
		r.seen(string(next))
	}

	sess, err := r.Login(ctx, string(cur))
	if err != nil && !neo4j.IsAuth(err) {
		return "", fmt.Errorf("log in to Neo4j: %w", err)
	}
	if err != nil {
		// The current password is refused: an earlier rotation changed it
		// in Neo4j and stopped before it promoted the next one.
		if !hasNext {
			return "", fmt.Errorf("%w: key %q of Secret %s/%s is refused and no %q is recorded; set %q to the admin's current password, then rotate again", ErrLockedOut, r.Key, r.Namespace, r.Secret, nextKey, r.Key)
		}
		s2, err := r.Login(ctx, string(next))
		if err != nil {
			if neo4j.IsAuth(err) {
				return "", fmt.Errorf("%w: neither key %q nor %q of Secret %s/%s is accepted; nothing was changed", ErrLockedOut, r.Key, nextKey, r.Namespace, r.Secret)
			}
			return "", fmt.Errorf("log in to Neo4j with the next password: %w", err)
		}
		_ = s2.Close(context.WithoutCancel(ctx))
		if err := r.step(StepLogin); err != nil {
			return "", err
		}
		if err := r.promote(ctx, sd.ResourceVersion, next); err != nil {
			return "", err
		}
		return Finished, nil
	}
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	if err := r.step(StepLogin); err != nil {
		return "", err
	}

	outcome := Finished
	rv := sd.ResourceVersion
	if !hasNext || string(next) == string(cur) {
		// A new rotation: the next password is recorded before Neo4j
		// hears of it, so whatever happens next the Secret holds it.
		gen := r.Generate
		if gen == nil {
			gen = GeneratePassword
		}
		pw, err := gen()
		if err != nil {
			return "", err
		}
		r.seen(pw)
		next = []byte(pw)
		if rv, err = r.Secrets.UpdateSecretData(ctx, r.Namespace, r.Secret, rv, map[string][]byte{nextKey: next}, nil); err != nil {
			return "", fmt.Errorf("record the next password: %w", err)
		}
		if err := r.step(StepRecordNext); err != nil {
			return "", err
		}
		outcome = Rotated
	}

	if err := sess.ChangeOwnPassword(ctx, string(cur), string(next)); err != nil {
		// Sent once: whether it took effect is learnt by logging in.
		s2, lerr := r.Login(ctx, string(next))
		switch {
		case lerr == nil:
			_ = s2.Close(context.WithoutCancel(ctx))
		case neo4j.IsAuth(lerr) && neo4j.ClassOf(err) != neo4j.KindUnreachable && !neo4j.IsWriteTimeout(err) && ctx.Err() == nil:
			// Neo4j answered and refused: the current password is still
			// the one. Roll back: forget the next password.
			if _, rerr := r.Secrets.UpdateSecretData(ctx, r.Namespace, r.Secret, rv, nil, []string{nextKey}); rerr != nil {
				return "", fmt.Errorf("ALTER CURRENT USER SET PASSWORD was refused (%v); removing %q failed too: %w (the current password still works)", err, nextKey, rerr)
			}
			_ = r.step(StepRollBack)
			return RolledBack, fmt.Errorf("ALTER CURRENT USER SET PASSWORD was refused; the password is unchanged and %q was removed: %w", nextKey, err)
		default:
			return "", fmt.Errorf("ALTER CURRENT USER SET PASSWORD: %w; its outcome is unknown: run rotate again, it finishes or rolls back by trying which password logs in", err)
		}
	}
	if err := r.step(StepAlter); err != nil {
		return "", err
	}
	s2, err := r.Login(ctx, string(next))
	if err != nil {
		return "", fmt.Errorf("log in with the new password after changing it: %w; run rotate again", err)
	}
	_ = s2.Close(context.WithoutCancel(ctx))
	if err := r.step(StepVerify); err != nil {
		return "", err
	}
	if err := r.promote(ctx, rv, next); err != nil {
		return "", err
	}
	return outcome, nil
}

// promote makes next the value of Key and removes NextKey, in one write.
func (r *Rotator) promote(ctx context.Context, rv string, next []byte) error {
	if _, err := r.Secrets.UpdateSecretData(ctx, r.Namespace, r.Secret, rv, map[string][]byte{r.Key: next}, []string{NextKey(r.Key)}); err != nil {
		return fmt.Errorf("store the new password under %q: %w; the new password is in %q and works: run rotate again to finish", r.Key, err, NextKey(r.Key))
	}
	return r.step(StepPromote)
}

func (r *Rotator) step(s RotateStep) error {
	if r.Step == nil {
		return nil
	}
	return r.Step(s)
}

func (r *Rotator) seen(v string) {
	if r.OnSecret != nil && v != "" {
		r.OnSecret(v)
	}
}

const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns 32 characters from crypto/rand (about 186 bits).
func GeneratePassword() (string, error) {
	b := make([]byte, 32)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate a password: %w", err)
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b), nil
}
