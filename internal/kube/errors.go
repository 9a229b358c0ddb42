package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// ConflictError is a server-side-apply conflict: fields neo4jctl applies
// that another field manager owns with a different value. It is never
// retried; the user decides (--force-conflicts takes ownership).
type ConflictError struct {
	// Address is the object's k8s:… address.
	Address string
	// Conflicts lists each field and its owner, paths in the same form as
	// state.FieldManager.Fields.
	Conflicts []state.Conflict
	// Err is the API server's error.
	Err error
}

// Error names every conflicting field with its owner and the way out.
func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apply %s: conflict with other field managers:", e.Address)
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, " %s (owned by %q);", c.Field, c.Manager)
	}
	if len(e.Conflicts) == 0 && e.Err != nil {
		fmt.Fprintf(&b, " %v;", e.Err)
	}
	b.WriteString(" pass --force-conflicts to take ownership, or remove the field from the other tool")
	return b.String()
}

// Unwrap returns the API server's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying: the request may succeed
// unchanged a moment later (API server timeouts, throttling, 500/503/504, a
// restarting API server refusing or dropping connections, an etcd leader
// change). Conflicts, validation errors, RBAC denials and a cancelled context
// are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return false
	}
	if apierrors.IsNotFound(err) {
		// Also a 404 without a Status body ("404 page not found" for a
		// resource the server does not serve), which client-go marks as
		// an unexpected response: the answer is definite.
		return false
	}
	if apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		switch se.Status().Code {
		case 500, 502, 503, 504:
			return true
		}
		// Any other status the server chose to send is a definite answer.
		return isEtcdTransient(se.Status().Message)
	}
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	msg := err.Error()
	return isEtcdTransient(msg) || strings.Contains(msg, "http2: server sent GOAWAY") ||
		strings.Contains(msg, "http2: client connection lost") || strings.Contains(msg, "TLS handshake timeout")
}

func isEtcdTransient(msg string) bool {
	return strings.Contains(msg, "etcdserver: leader changed") || strings.Contains(msg, "etcdserver: request timed out") ||
		strings.Contains(msg, "etcdserver: no leader") || strings.Contains(msg, "etcdserver: too many requests")
}

// IsForbidden reports an RBAC denial (403): the credentials lack a verb; the
// user must grant it (or, for plan and drift, use the read-only mode).
func IsForbidden(err error) bool { return apierrors.IsForbidden(err) }

// IsNotFound reports a 404 from the API server.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }

// IsUnauthorized reports rejected credentials (401).
func IsUnauthorized(err error) bool { return apierrors.IsUnauthorized(err) }

type retryHookKey struct{}

// WithRetryHook returns a context whose requests report their retries to
// fn instead of to Options.OnRetry. One Client then serves every cluster
// of a fleet (one connection, one server version read) while each
// cluster's retries show in that cluster's progress output.
func WithRetryHook(ctx context.Context, fn func(what string, attempt int, err error)) context.Context {
	return context.WithValue(ctx, retryHookKey{}, fn)
}

func retryHook(ctx context.Context, fallback func(string, int, error)) func(string, int, error) {
	if fn, ok := ctx.Value(retryHookKey{}).(func(string, int, error)); ok && fn != nil {
		return fn
	}
	return fallback
}

// retry runs fn until it succeeds, fails with an error that is not
// transient, the context ends or Backoff.Steps attempts have failed. It is
// client-go's retry.OnError with two differences that matter to a CLI: the
// sleeps end with the context (Ctrl-C must not wait out a 5 s step), and
// reaching Backoff.Cap does not silently cut the attempts short (in
// wait.ExponentialBackoff hitting the cap zeroes the remaining steps).
func (c *Client) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	b := c.opts.Backoff
	attempts := max(b.Steps, 1)
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if !IsTransient(err) {
			return err
		}
		if attempt >= attempts {
			return fmt.Errorf("%s: giving up after %d attempts: %w", what, attempt, err)
		}
		if hook := retryHook(ctx, c.opts.OnRetry); hook != nil {
			hook(what, attempt, err)
		}
		t := time.NewTimer(b.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// conflictsFromStatus reads the field/manager pairs out of a 409 from a
// server-side apply. The server puts one cause per field, with the field in
// structured-merge-diff form (`.spec.replicas`) and the message
// `conflict with "manager" using apps/v1`.
func conflictsFromStatus(err error) []state.Conflict {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || se.Status().Details == nil {
		return nil
	}
	var out []state.Conflict
	for _, cause := range se.Status().Details.Causes {
		if cause.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		out = append(out, state.Conflict{Field: smdPathToField(cause.Field), Manager: managerFromConflictMessage(cause.Message)})
	}
	return out
}

func managerFromConflictMessage(msg string) string {
	// conflict with "kubectl" using apps/v1
	// conflict with "kubectl" with subresource "scale" using apps/v1
	i := strings.Index(msg, `"`)
	if i < 0 {
		return msg
	}
	j := strings.Index(msg[i+1:], `"`)
	if j < 0 {
		return msg
	}
	return msg[i+1 : i+1+j]
}
