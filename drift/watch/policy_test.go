package watch

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// TestCheckPoliciesReportsLiveViolationsOnce: a live setting below a
// policy's minimum is counted in the gauge on every reconcile, but
// reported (event + audit line) only when the set of violations changes.
func TestCheckPoliciesReportsLiveViolationsOnce(t *testing.T) {
	c := &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "graph"}}
	c.Spec.Policies = []clusterfile.PolicyRule{{Name: "heap", Severity: "critical", Setting: "server.memory.heap.max_size", Min: "2g"}}
	var events []Event
	var audit bytes.Buffer
	w := &Watcher{Report: func(e Event) { events = append(events, e) }, Audit: drift.NewAuditLog(&audit, "test")}
	w.m = newMetrics(prometheus.NewRegistry())
	cl := &cluster{w: w, t: &pipeline.Target{Cluster: c, Namespace: "ns"}, name: "ns/graph"}

	neo := func(heap string) state.Neo4j {
		return state.Neo4j{Reachable: true, Settings: map[string]state.Setting{"server.memory.heap.max_size": {Name: "server.memory.heap.max_size", Value: heap}}}
	}
	cl.checkPolicies(state.Kube{}, neo("1g"))
	cl.checkPolicies(state.Kube{}, neo("1g"))
	if len(events) != 1 || events[0].Type != "violation" || !strings.Contains(events[0].Message, "heap [critical]") {
		t.Fatalf("after two reconciles with one standing violation, got events %+v, want one violation event", events)
	}
	if got := testutil.ToFloat64(w.m.violation.WithLabelValues("ns/graph", "critical")); got != 1 {
		t.Errorf("critical gauge: got %v, want 1", got)
	}
	if !strings.Contains(audit.String(), `"action":"violation"`) || strings.Count(audit.String(), "\n") != 1 {
		t.Errorf("audit log: got %q, want one violation line", audit.String())
	}
	cl.checkPolicies(state.Kube{}, neo("4g"))
	if got := testutil.ToFloat64(w.m.violation.WithLabelValues("ns/graph", "critical")); got != 0 {
		t.Errorf("after the fix, critical gauge: got %v, want 0", got)
	}
}
