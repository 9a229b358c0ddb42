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

// TestAllowIrreversibleOnlyFromCommandLine: only watch's own
// --allow-irreversible grants irreversible steps; an annotation on the
// cluster file or on its ConfigMap may withdraw the grant for one cluster,
// and can never give it.
func TestAllowIrreversibleOnlyFromCommandLine(t *testing.T) {
	ann := func(v string) map[string]string { return map[string]string{AnnotationAllowIrreversible: v} }
	tests := []struct {
		name        string
		flag        bool
		file, cm    map[string]string
		want        bool
		wantWhyPart string
	}{
		{name: "nothing", want: false, wantWhyPart: "--allow-irreversible"},
		{name: "flag", flag: true, want: true},
		{name: "file annotation cannot widen", file: ann("true"), want: false, wantWhyPart: "cannot grant"},
		{name: "ConfigMap annotation cannot widen", cm: ann("true"), want: false, wantWhyPart: "cannot grant"},
		{name: "file annotation narrows", flag: true, file: ann("false"), want: false, wantWhyPart: "cluster file"},
		{name: "ConfigMap annotation narrows", flag: true, cm: ann("false"), want: false, wantWhyPart: "ConfigMap"},
		{name: "true next to the flag changes nothing", flag: true, file: ann("true"), cm: ann("true"), want: true},
		{name: "an unreadable value narrows", flag: true, file: ann("yes please"), want: false, wantWhyPart: "cluster file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := AllowIrreversible(tc.flag, tc.file, tc.cm)
			if got != tc.want {
				t.Fatalf("got allow=%v (%q), want %v", got, why, tc.want)
			}
			if !strings.Contains(why, tc.wantWhyPart) {
				t.Errorf("got reason %q, want it to mention %q", why, tc.wantWhyPart)
			}
		})
	}
}
