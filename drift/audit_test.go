package drift

import (
	"bufio"
	"bytes"
	"encoding/json"
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
