package watch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// brokenWriter fails every write while broken.
type brokenWriter struct {
	bytes.Buffer
	broken bool
}

func (b *brokenWriter) Write(p []byte) (int, error) {
	if b.broken {
		return 0, errors.New("read-only file system")
	}
	return b.Buffer.Write(p)
}

func auditCluster(t *testing.T, out *brokenWriter) (*Watcher, *cluster, *[]Event) {
	t.Helper()
	var events []Event
	reg := prometheus.NewRegistry()
	w := &Watcher{Report: func(e Event) { events = append(events, e) }, Audit: drift.NewAuditLog(out, "watch"), Registry: reg}
	w.m = newMetrics(reg)
	w.clusters = map[string]*cluster{}
	w.synced.Store(true)
	c := &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "g"}}
	return w, &cluster{w: w, t: &pipeline.Target{Cluster: c, Namespace: "db"}, name: "db/g"}, &events
}

func oneStepPlan() *plan.Plan {
	return &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "k8s:apps/StatefulSet/db/g", Action: plan.ActionUpdate,
		FieldDiffs: []plan.FieldDiff{{Path: "spec.replicas", Before: float64(5), After: float64(3)}}}}}
}

// TestAuditWriteFailureIsMetricLogAndReadiness: an audit line watch cannot
// write is counted, logged and makes the replica unready; it is written
// once the log works again, and readiness comes back.
func TestAuditWriteFailureIsMetricLogAndReadiness(t *testing.T) {
	out := &brokenWriter{broken: true}
	w, cl, events := auditCluster(t, out)
	cl.audit(oneStepPlan(), drift.ActionDriftDetected)

	if ok, why := w.Ready(); ok || !strings.Contains(why, "audit log") {
		t.Errorf("Ready with an unwritable audit log: got %v %q, want false and a reason naming the audit log", ok, why)
	}
	if got := testutil.ToFloat64(w.m.auditFailures); got != 1 {
		t.Errorf("%s: got %v, want 1", MetricAuditWriteFailures, got)
	}
	if got := testutil.ToFloat64(w.m.auditPending); got != 1 {
		t.Errorf("%s: got %v, want 1", MetricAuditPending, got)
	}
	logged := false
	for _, e := range *events {
		if e.Type == "audit-failed" && e.Level == LevelError && strings.Contains(e.Message, "read-only file system") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no audit-failed error event; got %+v", *events)
	}

	out.broken = false
	cl.audit(oneStepPlan(), drift.ActionDriftDetected)
	if ok, why := w.Ready(); !ok {
		t.Errorf("Ready after the log recovered: got false (%s)", why)
	}
	if got := strings.Count(out.String(), "\n"); got != 2 {
		t.Errorf("audit lines after recovery: got %d, want 2 (the held one and the new one)\n%s", got, out.String())
	}
	if got := testutil.ToFloat64(w.m.auditPending); got != 0 {
		t.Errorf("%s after recovery: got %v, want 0", MetricAuditPending, got)
	}
}

// TestEnforceAttemptIsAuditedStepByStep: a partial enforce leaves a line per
// step — applied, failed (with the error) and never reached — under one
// attempt id; an attempt that fails before applying leaves a line per
// drifted address; a step apply ran after its verifying plan (the TLS
// certificate baseline) is recorded too.
func TestEnforceAttemptIsAuditedStepByStep(t *testing.T) {
	out := &brokenWriter{}
	_, cl, _ := auditCluster(t, out)
	p := &plan.Plan{Steps: []plan.Step{
		{ID: "s01", Address: "k8s:core/ConfigMap/db/g-config", Action: plan.ActionUpdate},
		{ID: "s02", Address: "k8s:apps/StatefulSet/db/g", Action: plan.ActionUpdate, DependsOn: []string{"s01"},
			FieldDiffs: []plan.FieldDiff{{Path: "spec.replicas", Before: float64(5), After: float64(3)}}},
		{ID: "s03", Address: "neo4j:database/orders", Action: plan.ActionUpdate, DependsOn: []string{"s02"}},
		{ID: "s04", Address: "k8s:policy/PodDisruptionBudget/db/g", Action: plan.ActionRead},
	}}
	res := &apply.Result{Steps: []apply.StepResult{
		{ID: "s01", Address: "k8s:core/ConfigMap/db/g-config", Status: apply.StatusApplied},
		{ID: "s02", Address: "k8s:apps/StatefulSet/db/g", Status: apply.StatusFailed, Err: errors.New("conflict with kubectl")},
	}}
	cl.auditAttempt("a1", p, res, errors.New("1 step failed"))
	cl.auditEnforceFailed("a2", []string{"k8s:core/Service/db/g"}, errors.New("locked by apply of alice"))
	// An attempt whose verifying plan found only the certificate baseline
	// cert-manager issued during it: apply ran that step too.
	baseline := &plan.Plan{Steps: []plan.Step{{ID: "verify-s01", Address: "k8s:apps/StatefulSet/db/g", Action: plan.ActionUpdate,
		FieldDiffs: []plan.FieldDiff{{Path: "metadata.annotations.neo4jctl.io/tls-certificate", After: "ab12"}}}}}
	cl.auditAttempt("a3", &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "k8s:core/ConfigMap/db/g-config", Action: plan.ActionUpdate}}},
		&apply.Result{Steps: []apply.StepResult{
			{ID: "s01", Address: "k8s:core/ConfigMap/db/g-config", Status: apply.StatusApplied},
			{ID: "verify-s01", Address: "k8s:apps/StatefulSet/db/g", Status: apply.StatusApplied},
		}, TLSBaseline: baseline}, nil)

	type line struct{ Attempt, Action, Address, Field, Error string }
	var got []line
	sc := bufio.NewScanner(&out.Buffer)
	for sc.Scan() {
		var e drift.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, line{e.Attempt, string(e.Action), e.Address, e.Field, e.Error})
	}
	want := []line{
		{"a1", "change-applied", "k8s:core/ConfigMap/db/g-config", "", ""},
		{"a1", "change-failed", "k8s:apps/StatefulSet/db/g", "spec.replicas", "conflict with kubectl"},
		{"a1", "change-skipped", "neo4j:database/orders", "", ""},
		{"a2", "enforce-failed", "k8s:core/Service/db/g", "", "locked by apply of alice"},
		{"a3", "change-applied", "k8s:core/ConfigMap/db/g-config", "", ""},
		{"a3", "change-applied", "k8s:apps/StatefulSet/db/g", "metadata.annotations.neo4jctl.io/tls-certificate", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit lines (-want +got):\n%s", diff)
	}
}
