package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/neo4jctl/neo4jctl/plan"
)

// AuditAction is what an audit entry records.
type AuditAction string

// Audit actions.
const (
	ActionDriftDetected AuditAction = "drift-detected"
	// ActionChangeApplied: a step of an enforce attempt took effect (or
	// found nothing left to send).
	ActionChangeApplied AuditAction = "change-applied"
	// ActionChangeFailed: the step failed; Error says why.
	ActionChangeFailed AuditAction = "change-failed"
	// ActionChangeSkipped: the attempt ended before the step ran (a step
	// it depends on failed, or it was interrupted); nothing was sent.
	ActionChangeSkipped AuditAction = "change-skipped"
	// ActionEnforceFailed: an enforce attempt for a drifted address ended
	// before applying anything (the apply lock, the fresh plan, a
	// refusal); Error says why.
	ActionEnforceFailed AuditAction = "enforce-failed"
	ActionViolation     AuditAction = "violation"
)

// AuditEntry is one line of the audit log. Values never appear: only the
// sha256 of their canonical JSON, so the log shows that and when a field
// changed, and lets a reader check a known value, without holding secrets.
type AuditEntry struct {
	Time    time.Time   `json:"time"`
	Actor   string      `json:"actor"`
	Action  AuditAction `json:"action"`
	Cluster string      `json:"cluster"`
	Address string      `json:"address"`
	Field   string      `json:"field,omitempty"`
	// BeforeDigest and AfterDigest are Digest of the value before (live)
	// and after (desired); empty when there is no value or it is secret.
	BeforeDigest string   `json:"before_digest,omitempty"`
	AfterDigest  string   `json:"after_digest,omitempty"`
	Severity     Severity `json:"severity,omitempty"`
	// Manager is who made a Kubernetes change out of band; Rule the policy
	// a violation breaks.
	Manager string `json:"manager,omitempty"`
	Rule    string `json:"rule,omitempty"`
	// Sensitive marks an entry about a secret value: it has no digests,
	// since a digest of a short secret can be guessed.
	Sensitive bool `json:"sensitive,omitempty"`
	// Attempt ties together the entries of one enforce attempt, so a
	// reader sees every step of a partial apply, not only those that
	// took effect.
	Attempt string `json:"attempt,omitempty"`
	// Error is why a change or an attempt failed.
	Error string `json:"error,omitempty"`
}

// AuditLog writes AuditEntry values as JSON lines. It is safe for
// concurrent use (watch reports from several goroutines); each entry is one
// write, so lines from several processes appending to one file do not
// interleave.
//
// It never drops an entry: one that cannot be written (a full disk, a
// closed pipe) is kept, in order, and written before anything else by the
// next Write or Flush — the rest of a line cut short included, so the file
// holds whole lines. Until then Write and Flush return the error and
// Pending and Err say so; callers turn that into a metric, a log line and
// a readiness failure rather than carry on unrecorded.
type AuditLog struct {
	// Actor is who acts: user@host, or the ServiceAccount in a Pod.
	Actor string
	// Now stamps entries; nil is time.Now.
	Now func() time.Time

	mu      sync.Mutex
	w       io.Writer
	closer  io.Closer
	pending [][]byte // encoded lines not yet (fully) written, oldest first
	err     error    // the last write error while pending is not empty
	// partialLine is the whole first pending line when the log took part
	// of it (partial bytes); DrainTo writes it whole elsewhere.
	partialLine []byte
	partial     int
}

// NewAuditLog writes entries to w as actor.
func NewAuditLog(w io.Writer, actor string) *AuditLog {
	return &AuditLog{Actor: actor, w: w}
}

// OpenAuditLog opens the audit log at path for appending (created 0600), or
// writes to stdout when path is "-".
func OpenAuditLog(path string, stdout io.Writer) (*AuditLog, error) {
	if path == "-" {
		return NewAuditLog(stdout, DefaultActor()), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := NewAuditLog(f, DefaultActor())
	l.closer = f
	return l, nil
}

// Close closes the file OpenAuditLog opened.
func (l *AuditLog) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// Write appends one entry, filling in the time and actor when unset.
func (l *AuditLog) Write(e AuditEntry) error {
	if l == nil {
		return nil
	}
	if e.Time.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		e.Time = now().UTC()
	}
	if e.Actor == "" {
		e.Actor = l.Actor
	}
	if e.Sensitive {
		e.BeforeDigest, e.AfterDigest = "", ""
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, append(b, '\n'))
	return l.flushLocked()
}

// Flush writes the entries an earlier write failed to write.
func (l *AuditLog) Flush() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *AuditLog) flushLocked() error {
	for len(l.pending) > 0 {
		line := l.pending[0]
		n, err := l.w.Write(line)
		if err == nil && n < len(line) {
			err = io.ErrShortWrite
		}
		if err != nil {
			// What was written stays written; the rest follows it on the
			// next try, so the line ends up whole.
			if n > 0 && n < len(line) {
				if l.partial == 0 {
					l.partialLine = line
				}
				l.partial += n
				l.pending[0] = line[n:]
			}
			l.err = fmt.Errorf("audit log: %d %s not written: %w", len(l.pending), plural(len(l.pending), "entry", "entries"), err)
			return l.err
		}
		l.pending[0] = nil
		l.pending, l.partial, l.partialLine = l.pending[1:], 0, nil
	}
	l.err = nil
	return nil
}

// DrainTo writes the pending entries to w instead — the last resort of a
// process that must stop while its log cannot be written (stderr reaches
// the Pod's log) — and forgets them once w took them. A line the log took
// only in part is written whole to w.
func (l *AuditLog) DrainTo(w io.Writer) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.pending) > 0 {
		line := l.pending[0]
		if l.partial > 0 {
			line = l.partialLine
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		l.pending, l.partial, l.partialLine = l.pending[1:], 0, nil
	}
	l.err = nil
	return nil
}

// Pending returns how many entries wait to be written.
func (l *AuditLog) Pending() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Err returns why entries are pending, nil when none are.
func (l *AuditLog) Err() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// RecordReport writes a drift-detected entry per finding and a violation
// entry per violation of r.
func (l *AuditLog) RecordReport(r *Report) error {
	if l == nil {
		return nil
	}
	at := time.Time{}
	if r.CheckedAt != nil {
		at = *r.CheckedAt
	}
	for _, f := range r.Findings {
		e := AuditEntry{Time: at, Action: ActionDriftDetected, Cluster: r.Name(), Address: f.Address, Field: f.Field,
			BeforeDigest: Digest(f.Live), AfterDigest: Digest(f.Desired), Severity: f.Severity, Manager: f.Manager, Sensitive: f.Sensitive}
		if err := l.Write(e); err != nil {
			return err
		}
	}
	for _, v := range r.Violations {
		e := AuditEntry{Time: at, Action: ActionViolation, Cluster: r.Name(), Address: v.Address, Field: v.Field,
			BeforeDigest: Digest(v.Value), Severity: v.Severity, Rule: v.Rule, Sensitive: v.Value == plan.Sensitive}
		if err := l.Write(e); err != nil {
			return err
		}
	}
	return nil
}

// Digest is "sha256:" and the hex sha256 of v's canonical JSON (object keys
// sorted, as encoding/json writes maps; numbers in their shortest form), or
// "" for nil. Callers pass redacted values: a digest is not a secret's
// hiding place.
func Digest(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ActorEnv overrides the actor recorded in the audit log (a CI job can set
// it to the person or pipeline that triggered it).
const ActorEnv = "NEO4JCTL_ACTOR"

// serviceAccountNamespaceFile exists in every Pod with a mounted
// ServiceAccount token.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// DefaultActor names who runs neo4jctl: $NEO4JCTL_ACTOR; in a Pod the
// ServiceAccount (system:serviceaccount:<namespace>:<name>, the name from
// $NEO4JCTL_SERVICE_ACCOUNT, which the watch Deployment sets from
// spec.serviceAccountName); otherwise user@host.
func DefaultActor() string {
	if a := os.Getenv(ActorEnv); a != "" {
		return a
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		if ns, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
			sa := os.Getenv("NEO4JCTL_SERVICE_ACCOUNT")
			if sa == "" {
				sa = "default"
			}
			return "system:serviceaccount:" + strings.TrimSpace(string(ns)) + ":" + sa
		}
	}
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}
