package restore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

func cluster(edition clusterfile.Edition) *clusterfile.Cluster {
	c := &clusterfile.Cluster{}
	c.Metadata.Name = "prod"
	c.Spec.Edition = edition
	c.Spec.Version = "5.26.0"
	c.Spec.Backups = &clusterfile.Backups{
		Storage:    clusterfile.BackupLocation{URL: "s3://b/p", CredentialsSecret: "bk-s3"},
		Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "bk-keyset", Key: "keyset.json"}},
	}
	return c
}

func dump(t *testing.T, h int) catalog.Entry {
	e := entry(t, h, 0, 0, nil)
	e.Format, e.File = inspect.FormatDump, "neo4j.dump"
	return e
}

func TestComputeCommunity(t *testing.T) {
	now := at(12)
	in := Input{Cluster: cluster(clusterfile.EditionCommunity), Namespace: "graphs", Database: "neo4j",
		Point: Point{Chain: []catalog.Entry{dump(t, 2)}, RestoredTo: at(2)}, Now: now, IntoExists: true, Replicas: 1}
	p := Compute(in)
	if len(p.Refusals) != 0 || p.Action != ActionReplace || p.ConfirmName != "neo4j" || p.Kind != KindCommunityLoad || p.Claim != "data-prod-0" {
		t.Fatalf("plan: %+v", p)
	}
	var kinds []string
	for _, s := range p.Steps {
		kinds = append(kinds, string(s.Kind))
	}
	if got := strings.Join(kinds, " "); got != "stop load start cleanup healthcheck" {
		t.Errorf("steps: %s", got)
	}
	if want := "every write to neo4j after 2026-12-07T02:00:00Z is discarded (10h0m0s of writes up to now)"; p.Window.Description != want {
		t.Errorf("window: got %q, want %q", p.Window.Description, want)
	}

	// Refusals: a new name, claims deleted on scale-down, an online
	// backup, no StatefulSet.
	bad := in
	bad.As, bad.ClaimsDeletedOnScaleDown, bad.IntoExists = "other", true, false
	bad.Point = Point{Chain: []catalog.Entry{entry(t, 2, 1, 5, nil)}, RestoredTo: at(2)}
	p = Compute(bad)
	got := strings.Join(p.Refusals, "\n")
	for _, want := range []string{"--as other: Neo4j Community runs one standard database", "whenScaled is Delete", "is an online backup", "does not exist: run `neo4jctl apply` first"} {
		if !strings.Contains(got, want) {
			t.Errorf("refusals lack %q:\n%s", want, got)
		}
	}
}

func TestComputeAndBuildEnterprise(t *testing.T) {
	f1 := entry(t, 2, 1, 10, nil)
	d1 := entry(t, 8, 11, 20, &f1)
	c := cluster(clusterfile.EditionEnterprise)
	until := at(5)
	in := Input{Cluster: c, Namespace: "graphs", Database: "sales", As: "sales-0500",
		Point: Point{Chain: []catalog.Entry{f1, d1}, RestoreUntil: until, RestoredTo: until}, Until: until, Now: at(12), Primaries: 3}
	p := Compute(in)
	if p.Action != ActionCreate || p.ConfirmName != "" || p.SeedFile != "" || p.Kind != KindClusterSeed {
		t.Fatalf("plan: %+v", p)
	}
	if !strings.HasPrefix(p.SeedURI, "http://prod-restore-sales-0500-") || !strings.HasSuffix(p.SeedURI, ".graphs.svc:8080/sales-0500.dump") {
		t.Errorf("seed URI %s", p.SeedURI)
	}
	if !p.Window.Exact || !strings.Contains(p.Window.Description, "restored exactly to 2026-12-07T05:00:00Z") {
		t.Errorf("window: %+v", p.Window)
	}
	o, err := Build(c, p, "kind: Neo4jCluster\n")
	if err != nil {
		t.Fatal(err)
	}
	var names, cmds []string
	for _, ic := range o.Pod.Spec.InitContainers {
		names = append(names, ic.Name)
		cmds = append(cmds, strings.Join(append(ic.Command, ic.Args...), " "))
	}
	if got := strings.Join(names, " "); got != "fetch-0 fetch-1 restore dump" {
		t.Errorf("init containers: %s", got)
	}
	if want := "neo4j-admin database restore --from-path=/restore/work/" + d1.File + " --restore-until=2026-12-07 05:00:00 --overwrite-destination=true sales-0500 --additional-config=/restore/conf/admin.conf"; cmds[2] != want {
		t.Errorf("restore:\ngot  %s\nwant %s", cmds[2], want)
	}
	if want := "neo4j-admin database dump sales-0500 --to-path=/restore/work --additional-config=/restore/conf/admin.conf"; cmds[3] != want {
		t.Errorf("dump:\ngot  %s\nwant %s", cmds[3], want)
	}
	if got := strings.Join(o.Pod.Spec.Containers[0].Args, " "); !strings.Contains(got, "restore serve --dir /restore/work --file sales-0500.dump") {
		t.Errorf("serve: %s", got)
	}
	from := o.NetworkPolicy.Spec.Ingress[0].From[0].PodSelector.MatchLabels
	if from["app.kubernetes.io/component"] != "database" || from["neo4jctl.io/cluster"] != "prod" {
		t.Errorf("NetworkPolicy admits %v, want the cluster's server Pods only", from)
	}
	if o.Pod.Spec.ActiveDeadlineSeconds == nil || o.Pod.Spec.AutomountServiceAccountToken == nil || *o.Pod.Spec.AutomountServiceAccountToken {
		t.Errorf("seed Pod: deadline %v, token %v", o.Pod.Spec.ActiveDeadlineSeconds, o.Pod.Spec.AutomountServiceAccountToken)
	}

	// One full, not cut: served as is, no replay.
	in.Point = Point{Chain: []catalog.Entry{f1}, RestoredTo: at(2)}
	in.Until, in.As, in.IntoExists = time.Time{}, "", true
	p = Compute(in)
	if p.SeedFile != f1.File || p.Action != ActionReplace || p.Steps[1].Kind != StepRecreate {
		t.Errorf("single full over sales: seed %q action %s step %s", p.SeedFile, p.Action, p.Steps[1].Kind)
	}
	o, _ = Build(c, p, "x")
	if len(o.Pod.Spec.InitContainers) != 1 {
		t.Errorf("single full: %d init containers, want only the fetch", len(o.Pod.Spec.InitContainers))
	}
}

func TestObjectNameIsADNSLabel(t *testing.T) {
	for _, db := range []string{"sales", "Sales.EU-2026", strings.Repeat("x", 63)} {
		n := objectName("a-rather-long-cluster-name", db)
		if len(n) > 63 || strings.ContainsAny(n, "._") || strings.ToLower(n) != n {
			t.Errorf("objectName(%q) = %q: not a DNS label", db, n)
		}
	}
	if objectName("c", "a.b") == objectName("c", "a-b") {
		t.Error("two names that sanitise alike share an object name")
	}
}

// fakeNeo4j is a small honest stand-in: a database list the statements
// change as Neo4j would (seeds fail or succeed as told).
type fakeNeo4j struct {
	rows      []state.DatabaseAllocation
	seedOK    bool
	recreated int
}

func (f *fakeNeo4j) Databases(context.Context) ([]state.DatabaseAllocation, error) {
	return f.rows, nil
}
func (f *fakeNeo4j) CreateDatabase(_ context.Context, name string, cd neo4j.CreateDatabase) error {
	f.set(name, cd.Options.SeedURI)
	return nil
}
func (f *fakeNeo4j) RecreateDatabase(_ context.Context, name, uri string, _ neo4j.Topology) error {
	f.recreated++
	f.set(name, uri)
	return nil
}
func (f *fakeNeo4j) set(name, uri string) {
	var rows []state.DatabaseAllocation
	for _, r := range f.rows {
		if r.Name != name {
			rows = append(rows, r)
		}
	}
	for i := 0; i < 3; i++ {
		r := state.DatabaseAllocation{Name: name, CurrentStatus: "online", RequestedPrimaries: 3, Options: map[string]any{"seedURI": uri}}
		if !f.seedOK {
			r.CurrentStatus, r.StatusMessage = "offline", "Unable to start database `DatabaseId{1234abcd[x]}`"
		}
		rows = append(rows, r)
	}
	f.rows = rows
}

type fakeKube struct{ Kube }

func (fakeKube) Pod(context.Context, string, string) (*corev1.Pod, error)          { return nil, nil }
func (fakeKube) CreateRestoreObject(context.Context, runtime.Object) error         { return nil }
func (fakeKube) WaitPodReady(context.Context, string, string) error                { return nil }
func (fakeKube) DeleteRestoreObject(context.Context, string, string, string) error { return nil }
func (fakeKube) Job(context.Context, string, string) (*batchv1.Job, error)         { return nil, nil }
func (fakeKube) FollowJob(context.Context, string, string, time.Duration, func(string)) (kube.JobOutcome, error) {
	return kube.JobOutcome{}, nil
}

type quietHook struct{ lines []string }

func (h *quietHook) StepStarted(Step)     {}
func (h *quietHook) StepDone(Step, error) {}
func (h *quietHook) Progress(l string)    { h.lines = append(h.lines, l) }

// TestExecuteSeedFailsThenRerunSeedsAgain: a seed that fails as the
// database starts fails the restore at wait-online, not at CREATE; the
// same plan run again, the seed now readable, finds the database its
// earlier run created and seeds it again instead of giving up on it.
func TestExecuteSeedFailsThenRerunSeedsAgain(t *testing.T) {
	c := cluster(clusterfile.EditionEnterprise)
	p := Compute(Input{Cluster: c, Namespace: "graphs", Database: "sales", As: "sales-copy",
		Point: Point{Chain: []catalog.Entry{entry(t, 2, 1, 10, nil)}, RestoredTo: at(2)}, Now: at(3)})
	n := &fakeNeo4j{}
	h := &quietHook{}
	x := &Executor{Kube: fakeKube{}, Neo4j: n, Hook: h, Interval: time.Millisecond, OnlineTimeout: time.Second}
	err := x.Execute(context.Background(), p)
	var se *StateError
	if err == nil || !strings.Contains(err.Error(), "the seed failed as sales-copy started") || !errors.As(err, &se) || se.Step.Kind != StepWaitOnline {
		t.Fatalf("got %v, want a failure at wait-online naming the seed", err)
	}
	n.seedOK = true
	if err := x.Execute(context.Background(), p); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if n.recreated != 1 || !strings.Contains(strings.Join(h.lines, "\n"), "recreating it from the seed") {
		t.Errorf("rerun recreated %d times, lines %v; want the failed database seeded again once", n.recreated, h.lines)
	}
}

// TestRestorePodsCarrySpecPodUnderWorkloadIdentity: the restore's Pods
// read the bucket like the backup Pods, so under workload identity they
// carry spec.pod's labels and annotations (Azure's
// azure.workload.identity/use), neo4jctl's own labels and annotation
// winning; the seed Service still selects only the restore's labels.
func TestRestorePodsCarrySpecPodUnderWorkloadIdentity(t *testing.T) {
	for _, ed := range []clusterfile.Edition{clusterfile.EditionCommunity, clusterfile.EditionEnterprise} {
		c := cluster(ed)
		c.Spec.Backups.Storage = clusterfile.BackupLocation{URL: "azblob://b/p", WorkloadIdentity: true}
		c.Spec.Pod = &clusterfile.PodMeta{Labels: map[string]string{"azure.workload.identity/use": "true"},
			Annotations: map[string]string{"azure.workload.identity/skip-containers": "serve", AnnotationPoint: "not mine"}}
		in := Input{Cluster: c, Namespace: "graphs", Database: "neo4j", Point: Point{Chain: []catalog.Entry{dump(t, 2)}, RestoredTo: at(2)},
			Now: at(12), IntoExists: true, Replicas: 1, Primaries: 1}
		p := Compute(in)
		o, err := Build(c, p, "x")
		if err != nil {
			t.Fatal(err)
		}
		var m metav1.ObjectMeta
		if o.Job != nil {
			m = o.Job.Spec.Template.ObjectMeta
		} else {
			m = o.Pod.ObjectMeta
		}
		if m.Labels["azure.workload.identity/use"] != "true" || m.Labels["neo4jctl.io/restore"] != p.ObjectName ||
			m.Annotations["azure.workload.identity/skip-containers"] != "serve" {
			t.Errorf("%s: restore Pod labels %v annotations %v, want spec.pod's beside neo4jctl's", ed, m.Labels, m.Annotations)
		}
		if o.Pod != nil && m.Annotations[AnnotationPoint] != p.Point.Target().ID {
			t.Errorf("%s: %s = %q, neo4jctl's must win", ed, AnnotationPoint, m.Annotations[AnnotationPoint])
		}
	}
}
