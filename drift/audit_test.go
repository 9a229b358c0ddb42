package drift

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/plan"
)

func TestAuditLogRecordReport(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := &Report{Cluster: "prod", Namespace: "graph", CheckedAt: &at,
		Findings: []Finding{
			{Address: sts, Field: "spec.replicas", Live: float64(5), Desired: float64(3), Manager: "kubectl", Severity: SeverityError},
			{Address: sts, Field: ctr + ".env[name=NEO4J_AUTH].value", Live: plan.Sensitive, Desired: plan.Sensitive, Sensitive: true, Severity: SeverityError},
		},
		Violations: []Violation{{Rule: "heap", Severity: SeverityCritical, Address: "neo4j:setting/x.y", Field: "x.y", Value: "1g"}},
	}
	var buf bytes.Buffer
	l := NewAuditLog(&buf, "alice@ci")
	if err := l.RecordReport(r); err != nil {
		t.Fatal(err)
	}
	var got []AuditEntry
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	want := []AuditEntry{
		{Time: at, Actor: "alice@ci", Action: ActionDriftDetected, Cluster: "graph/prod", Address: sts, Field: "spec.replicas",
			BeforeDigest: Digest(5), AfterDigest: Digest(3), Severity: SeverityError, Manager: "kubectl"},
		{Time: at, Actor: "alice@ci", Action: ActionDriftDetected, Cluster: "graph/prod", Address: sts, Field: ctr + ".env[name=NEO4J_AUTH].value",
			Severity: SeverityError, Sensitive: true},
		{Time: at, Actor: "alice@ci", Action: ActionViolation, Cluster: "graph/prod", Address: "neo4j:setting/x.y", Field: "x.y",
			BeforeDigest: Digest("1g"), Severity: SeverityCritical, Rule: "heap"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), `"1g"`) {
		t.Errorf("the audit log holds a value:\n%s", buf.String())
	}
}

func TestDigest(t *testing.T) {
	// Canonical: map key order and number types do not change the digest.
	a := Digest(map[string]any{"b": 1, "a": []any{"x"}})
	b := Digest(map[string]any{"a": []any{"x"}, "b": float64(1)})
	if a != b || !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+64 {
		t.Errorf("got %q and %q, want one sha256 digest", a, b)
	}
	if Digest(nil) != "" {
		t.Errorf("Digest(nil): got %q, want empty", Digest(nil))
	}
	if Digest("3") == Digest(3) {
		t.Error("a string and a number got the same digest")
	}
}

func TestDefaultActor(t *testing.T) {
	t.Setenv(ActorEnv, "ci-pipeline-42")
	if got := DefaultActor(); got != "ci-pipeline-42" {
		t.Errorf("got %q, want the %s override", got, ActorEnv)
	}
	t.Setenv(ActorEnv, "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if got := DefaultActor(); !strings.Contains(got, "@") {
		t.Errorf("got %q, want user@host", got)
	}
}

// flakyWriter fails the writes it is told to, the first one after
// writing part of the line (a full disk), then works again.
type flakyWriter struct {
	bytes.Buffer
	fail int
}

func (f *flakyWriter) Write(p []byte) (int, error) {
	if f.fail > 0 {
		f.fail--
		n := len(p) / 2
		f.Buffer.Write(p[:n])
		return n, errors.New("no space left on device")
	}
	return f.Buffer.Write(p)
}

// TestAuditLogNeverDropsAnEntry: a failed write is returned as an error,
// the entry is kept (Pending, Err), and the next write or Flush writes it
// first, completing a torn line, so the log ends up with every entry in
// order and every line whole.
func TestAuditLogNeverDropsAnEntry(t *testing.T) {
	w := &flakyWriter{fail: 2}
	l := NewAuditLog(w, "watch")
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	entry := func(addr string) AuditEntry {
		return AuditEntry{Time: at, Action: ActionChangeApplied, Cluster: "db/g", Address: addr}
	}
	if err := l.Write(entry("a")); err == nil {
		t.Fatal("Write on a failing writer returned no error")
	}
	if err := l.Write(entry("b")); err == nil {
		t.Fatal("second Write on a failing writer returned no error")
	}
	if got := l.Pending(); got != 2 {
		t.Errorf("Pending: got %d, want 2 (a, b)", got)
	}
	if l.Err() == nil {
		t.Error("Err: got nil while entries are pending")
	}
	if err := l.Write(entry("c")); err != nil {
		t.Fatalf("Write after the writer recovered: %v", err)
	}
	if l.Pending() != 0 || l.Err() != nil {
		t.Errorf("after recovery: Pending %d, Err %v; want 0, nil", l.Pending(), l.Err())
	}
	var got []string
	sc := bufio.NewScanner(&w.Buffer)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("torn line %q: %v", sc.Text(), err)
		}
		got = append(got, e.Address)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("addresses in the log (-want +got):\n%s", diff)
	}
}

// TestAuditLogDrainTo: entries still pending when the process must stop go
// to another writer (stderr, and so the Pod's log) whole, not to nowhere.
func TestAuditLogDrainTo(t *testing.T) {
	w := &flakyWriter{fail: 100}
	l := NewAuditLog(w, "watch")
	for _, a := range []string{"a", "b"} {
		_ = l.Write(AuditEntry{Action: ActionChangeFailed, Cluster: "db/g", Address: a, Error: "conflict"})
	}
	var stderr bytes.Buffer
	if err := l.DrainTo(&stderr); err != nil {
		t.Fatal(err)
	}
	if l.Pending() != 0 {
		t.Errorf("Pending after DrainTo: %d, want 0", l.Pending())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("drained %d lines, want 2:\n%s", len(lines), stderr.String())
	}
	for _, ln := range lines {
		var e AuditEntry
		if err := json.Unmarshal([]byte(ln), &e); err != nil {
			t.Errorf("drained line %q is not an entry: %v", ln, err)
		}
	}
}
