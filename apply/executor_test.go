package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// The fakes below stand in for the pure interfaces only: they record what
// apply sent, in order, and keep just enough server state (SHOW SERVERS /
// SHOW DATABASES) for the waits to end. What the real API server and a
// Bolt server do with these calls is tested in the integration tests.

type log struct {
	mu    sync.Mutex
	calls []string
}

func (l *log) add(format string, args ...any) {
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *log) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

type fakeKube struct {
	log *log
	// fail maps a call ("apply ConfigMap/prod-config") to its error.
	fail map[string]error
	// onWaitSts runs when a StatefulSet wait starts (Pods come up).
	onWaitSts func(want int)
	// retry, when set, is called during Apply like a client retry loop.
	retry func()
	// onRestart runs when a Pod's update is waited for (rollout_test.go).
	onRestart func(pod string)
}

func (k *fakeKube) key(verb string, o *unstructured.Unstructured) string {
	return verb + " " + o.GetKind() + "/" + o.GetName()
}

func (k *fakeKube) DryRunApply(_ context.Context, o *unstructured.Unstructured, _ bool) (*unstructured.Unstructured, error) {
	key := k.key("dry-run", o)
	k.log.add("%s", key)
	return o, k.fail[key]
}

func (k *fakeKube) Apply(_ context.Context, o *unstructured.Unstructured, _ bool) (*unstructured.Unstructured, error) {
	key := k.key("apply", o)
	if o.GetKind() == "StatefulSet" {
		k.log.add("%s replicas=%d", key, replicasOf(o))
	} else {
		k.log.add("%s", key)
	}
	if k.retry != nil {
		k.retry()
	}
	return o, k.fail[key]
}

func (k *fakeKube) Delete(_ context.Context, r kube.Ref) error {
	key := "delete " + r.Kind + "/" + r.Name
	k.log.add("%s", key)
	return k.fail[key]
}

func (k *fakeKube) EnsureInventory(_ context.Context, inv kube.InventoryRef, kinds []schema.GroupKind) error {
	k.log.add("inventory %s (%d kinds)", inv.ParentName(), len(kinds))
	return nil
}

func (k *fakeKube) WaitStatefulSet(ctx context.Context, ns, name string, want int, onProgress func(ready, want int)) error {
	k.log.add("wait StatefulSet/%s %d", name, want)
	if k.onWaitSts != nil {
		k.onWaitSts(want)
	}
	if onProgress != nil {
		onProgress(want, want)
	}
	return k.fail["wait StatefulSet/"+name]
}

func (k *fakeKube) WaitPodReady(ctx context.Context, ns, name string) error {
	if err := k.fail["wait Pod/"+name]; err != nil {
		<-ctx.Done() // a Pod that never becomes Ready
		return ctx.Err()
	}
	return nil
}

type fakeNeo4j struct {
	log     *log
	mu      sync.Mutex
	servers map[string]state.Server
	dbs     []state.DatabaseAllocation
	// fail maps a statement ("DEALLOCATE <id>") to its error; tookEffect
	// lists statements whose reply is lost although they took effect.
	fail       map[string]error
	tookEffect map[string]bool
	readErrs   int // the next readErrs SHOW SERVERS fail transiently
	// moves is what (DRYRUN) REALLOCATE answers.
	moves []neo4j.Reallocation
}

func (n *fakeNeo4j) send(stmt string, effect func()) error {
	n.log.add("%s", stmt)
	if err := n.fail[stmt]; err != nil {
		if n.tookEffect[stmt] {
			effect()
		}
		return err
	}
	effect()
	return nil
}

func (n *fakeNeo4j) Servers(context.Context) (map[string]state.Server, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.readErrs > 0 {
		n.readErrs--
		return nil, &neo4j.Error{Op: "SHOW SERVERS", Kind: neo4j.KindTransient, Message: "database unavailable"}
	}
	out := map[string]state.Server{}
	for k, v := range n.servers {
		out[k] = v
	}
	return out, nil
}

func (n *fakeNeo4j) Databases(context.Context) ([]state.DatabaseAllocation, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]state.DatabaseAllocation(nil), n.dbs...), nil
}

func (n *fakeNeo4j) setState(id, st, health string, hosting ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.servers[id]
	s.State, s.Health = st, health
	if hosting != nil {
		s.Hosting = hosting
	}
	n.servers[id] = s
}

func (n *fakeNeo4j) EnableServer(_ context.Context, id string, o neo4j.ServerOptions) error {
	return n.send("ENABLE "+id, func() { n.setState(id, state.ServerEnabled, state.HealthAvailable) })
}

func (n *fakeNeo4j) AlterServerOptions(_ context.Context, name string, o neo4j.ServerOptions) error {
	return n.send("ALTER "+name+" "+o.ModeConstraint, func() {})
}

func (n *fakeNeo4j) RenameServer(_ context.Context, from, to string) error {
	return n.send("RENAME "+from+" "+to, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		s := n.servers[from]
		s.Name = to
		n.servers[from] = s
	})
}

func (n *fakeNeo4j) ReallocateDatabases(_ context.Context, dry bool) ([]neo4j.Reallocation, error) {
	if dry {
		return n.moves, n.send("DRYRUN REALLOCATE", func() {})
	}
	return n.moves, n.send("REALLOCATE", func() {})
}

func (n *fakeNeo4j) CordonServer(_ context.Context, id string) error {
	return n.send("CORDON "+id, func() { n.setState(id, state.ServerCordoned, state.HealthAvailable) })
}

func (n *fakeNeo4j) DeallocateServers(_ context.Context, dry bool, ids ...string) ([]neo4j.Reallocation, error) {
	if dry {
		return nil, n.send("DRYRUN DEALLOCATE "+strings.Join(ids, ","), func() {})
	}
	return nil, n.send("DEALLOCATE "+strings.Join(ids, ","), func() {
		for _, id := range ids {
			n.setState(id, state.ServerDeallocated, state.HealthAvailable, "system")
		}
	})
}

func (n *fakeNeo4j) DropServer(_ context.Context, id string) error {
	return n.send("DROP "+id, func() {
		n.mu.Lock()
		delete(n.servers, id)
		n.mu.Unlock()
	})
}

func (n *fakeNeo4j) CreateDatabase(_ context.Context, name string, c neo4j.CreateDatabase) error {
	return n.send(fmt.Sprintf("CREATE %s %d", name, c.Topology.Primaries), func() {
		n.mu.Lock()
		n.dbs = append(n.dbs, state.DatabaseAllocation{Name: name, CurrentStatus: "online", RequestedPrimaries: 3, CurrentPrimaries: 3})
		n.mu.Unlock()
	})
}

func (n *fakeNeo4j) AlterDatabaseTopology(_ context.Context, name string, t neo4j.Topology) error {
	return n.send(fmt.Sprintf("TOPOLOGY %s %d", name, t.Primaries), func() {})
}

func (n *fakeNeo4j) AlterDatabaseAccess(_ context.Context, name string, ro bool) error {
	return n.send(fmt.Sprintf("ACCESS %s %v", name, ro), func() {})
}

// recorder is a Hook that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished []string
	retries  []string
	progress []string
	summary  *Result
}

func (r *recorder) Message(string) {}
func (r *recorder) StepStarted(s plan.Step) {
	r.mu.Lock()
	r.started = append(r.started, s.ID)
	r.mu.Unlock()
}
func (r *recorder) StepProgress(s plan.Step, msg string) {
	r.mu.Lock()
	r.progress = append(r.progress, s.ID+": "+msg)
	r.mu.Unlock()
}
func (r *recorder) StepRetry(s plan.Step, what string, attempt int, err error) {
	r.mu.Lock()
	r.retries = append(r.retries, fmt.Sprintf("%s: %s #%d", s.ID, what, attempt))
	r.mu.Unlock()
}
func (r *recorder) StepFinished(s plan.Step, res StepResult) {
	r.mu.Lock()
	r.finished = append(r.finished, s.ID+" "+string(res.Status))
	r.mu.Unlock()
}
func (r *recorder) Summary(res *Result) { r.summary = res }

// scenario returns a plantest scenario's plan and its rendered objects.
func scenario(t *testing.T, name string) (*plan.Plan, Target) {
	t.Helper()
	for _, s := range plantest.Scenarios() {
		if s.Name != name {
			continue
		}
		p, err := plan.Compute(s.Desired, s.Kube, s.Neo4j, s.Options)
		if err != nil {
			t.Fatal(err)
		}
		tg := Target{Namespace: plantest.Namespace, Inventory: kube.InventoryRef{Namespace: plantest.Namespace, Cluster: plantest.Name}}
		for _, o := range s.Kube.Objects {
			tg.Objects = append(tg.Objects, &unstructured.Unstructured{Object: plantest.Clone(o.Desired)})
		}
		return p, tg
	}
	t.Fatalf("no scenario %q", name)
	return nil, Target{}
}

func newFakes(n int) (*log, *fakeKube, *fakeNeo4j) {
	l := &log{}
	live := plantest.Neo4j(n)
	nf := &fakeNeo4j{log: l, servers: live.Servers, dbs: live.Databases, fail: map[string]error{}, tookEffect: map[string]bool{}}
	return l, &fakeKube{log: l, fail: map[string]error{}}, nf
}

func executor(k *fakeKube, n *fakeNeo4j, h Hook) *Executor {
	return &Executor{
		Kube: k, Hook: h,
		Neo4j: func(context.Context) (Neo4j, func(), error) {
			return n, func() {}, nil
		},
		Verify:  func(context.Context) (*plan.Plan, error) { return &plan.Plan{}, nil },
		Options: Options{PollInterval: time.Millisecond, ProgressEvery: time.Hour, StepTimeout: 5 * time.Second},
	}
}

// addFreeServers makes the servers of new Pods appear, as Neo4j does when
// their Pods start.
func addFreeServers(n *fakeNeo4j, from, to int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := from; i < to; i++ {
		id := fmt.Sprintf("new-%d", i)
		n.servers[id] = state.Server{ID: id, Name: id, Address: plantest.PodDNS(plantest.Name, i) + ":7687",
			State: state.ServerFree, Health: state.HealthAvailable, Hosting: []string{"system"}}
	}
}

func TestApplyScaleOutOrder(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	l, k, n := newFakes(3)
	k.onWaitSts = func(want int) { addFreeServers(n, 3, want) }
	rec := &recorder{}
	res, err := executor(k, n, rec).Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{
		"dry-run StatefulSet/prod",
		"inventory neo4jctl-prod-applyset (1 kinds)",
		"apply StatefulSet/prod replicas=5",
		"wait StatefulSet/prod 5",
		"ENABLE new-3", "RENAME new-3 prod-3",
		"ENABLE new-4", "RENAME new-4 prod-4",
		// The DRYRUN moves nothing here: no REALLOCATE is sent.
		"DRYRUN REALLOCATE",
	}
	if diff := cmp.Diff(want, l.get()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got, want := res.SummaryLine(), "Apply complete: 10 applied, 1 unchanged."; got != want {
		t.Errorf("summary: got %q, want %q", got, want)
	}
	if !res.Verified {
		t.Errorf("got Verified false, want true after writing")
	}
	if rec.summary != res {
		t.Errorf("Summary hook not called with the result")
	}
}

func TestApplyScaleInOrder(t *testing.T) {
	p, tg := scenario(t, "scale-in")
	l, k, n := newFakes(5)
	res, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	id3, id4 := plantest.ServerIDs[3], plantest.ServerIDs[4]
	want := []string{
		"dry-run StatefulSet/prod",
		"inventory neo4jctl-prod-applyset (1 kinds)",
		"CORDON " + id4, "CORDON " + id3,
		// The plan carries no DRYRUN answer (none was observed): apply
		// asks before the one DEALLOCATE.
		"DRYRUN DEALLOCATE " + id3 + "," + id4,
		"DEALLOCATE " + id3 + "," + id4,
		"DROP " + id4, "DROP " + id3,
		"apply StatefulSet/prod replicas=3",
		"wait StatefulSet/prod 3",
	}
	if diff := cmp.Diff(want, l.get()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if res.Count(StatusApplied) != 8 {
		t.Errorf("got %d applied, want 8", res.Count(StatusApplied))
	}
}

// After the new servers are enabled, apply asks DRYRUN REALLOCATE, sends
// REALLOCATE once when it would move something, and waits until every
// database is online with its requested counts.
func TestApplyScaleOutRebalances(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	l, k, n := newFakes(3)
	k.onWaitSts = func(want int) { addFreeServers(n, 3, want) }
	n.moves = []neo4j.Reallocation{{Database: "movies", FromServerID: plantest.ServerIDs[0], ToServerID: "new-3", Mode: "primary"}}
	res, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := l.get()
	if tail := got[len(got)-2:]; !cmp.Equal(tail, []string{"DRYRUN REALLOCATE", "REALLOCATE"}) {
		t.Errorf("got calls ending %v, want DRYRUN REALLOCATE then REALLOCATE", tail)
	}
	last := res.Steps[len(res.Steps)-2]
	if last.Kind != plan.KindReallocate || !strings.Contains(last.Note, "movies (primary)") {
		t.Errorf("got reallocate result %+v, want the DRYRUN's moves in its note", last)
	}
}

func TestApplyFailureSkipsDependentsOnly(t *testing.T) {
	p, tg := scenario(t, "create-all")
	l, k, n := newFakes(0)
	k.fail["apply ConfigMap/prod-config"] = errors.New("admission webhook denied it")
	rec := &recorder{}
	res, err := executor(k, n, rec).Apply(context.Background(), tg, p)
	if err == nil {
		t.Fatal("Apply: got nil error, want the failure")
	}
	// s01 (ConfigMap) fails; the StatefulSet (s05) needs it, and every
	// server and database step hangs off the StatefulSet. The
	// ServiceAccount, Service and PDB are independent and still applied.
	wantFinished := []string{"s01 failed", "s02 applied", "s03 applied", "s04 applied", "s05 skipped", "s06 skipped",
		"s07 skipped", "s08 skipped", "s09 skipped", "s10 skipped", "s11 skipped", "s12 skipped", "s13 skipped",
		"s14 skipped", "s15 skipped", "s16 skipped", "s17 skipped", "s18 skipped", "s19 skipped"}
	if diff := cmp.Diff(wantFinished, rec.finished); diff != "" {
		t.Errorf("step results (-want +got):\n%s", diff)
	}
	if got, want := res.SummaryLine(), "Apply failed: 3 applied, 1 failed, 15 skipped."; got != want {
		t.Errorf("summary: got %q, want %q", got, want)
	}
	if !strings.Contains(err.Error(), "Apply failed: 3 applied, 1 failed, 15 skipped.") {
		t.Errorf("error %q does not carry the summary", err)
	}
	if res.Steps[4].Note != "depends on s01, which failed" {
		t.Errorf("s05 note: got %q", res.Steps[4].Note)
	}
	for _, c := range l.get() {
		if strings.HasPrefix(c, "apply StatefulSet") {
			t.Errorf("StatefulSet applied although its ConfigMap failed: %v", l.get())
		}
	}
}

func TestApplyRefusesNonApplicablePlans(t *testing.T) {
	refused, tg := scenario(t, "refusal")
	tests := []struct {
		name string
		p    *plan.Plan
		want string
	}{
		{"refusal", refused, "holds the only primary of database neo4j"},
		{"incomplete", &plan.Plan{Incomplete: true, Unknown: []plan.UnknownPlane{{Plane: "neo4j", Reason: "connection refused"}}, Steps: []plan.Step{{ID: "s01"}}},
			"the neo4j plane was not observed: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, k, n := newFakes(5)
			_, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, tc.p)
			if !errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrNotApplicable mentioning %q", err, tc.want)
			}
			if calls := l.get(); len(calls) != 0 {
				t.Errorf("got calls %v, want none", calls)
			}
		})
	}
}

func TestApplyPreflightReportsAllAndWritesNothing(t *testing.T) {
	p, tg := scenario(t, "create-all")
	l, k, n := newFakes(0)
	k.fail["dry-run Service/prod"] = errors.New("spec.ports[0].port: Invalid value")
	k.fail["dry-run StatefulSet/prod"] = errors.New("spec.template: forbidden by policy")
	res, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
	if err == nil || !strings.Contains(err.Error(), "Invalid value") || !strings.Contains(err.Error(), "forbidden by policy") {
		t.Fatalf("got %v, want both refusals", err)
	}
	if len(res.Preflight) != 2 {
		t.Errorf("got %d preflight errors, want 2", len(res.Preflight))
	}
	for _, c := range l.get() {
		if !strings.HasPrefix(c, "dry-run ") {
			t.Errorf("wrote %q after a failed preflight", c)
		}
	}
}

// observedIn returns the observation scenario name's plan was computed
// from, as apply gets it when it planned a moment ago itself.
func observedIn(t *testing.T, name string) *state.Kube {
	t.Helper()
	for _, s := range plantest.Scenarios() {
		if s.Name == name {
			k := s.Kube
			k.Objects = append([]state.Object(nil), k.Objects...)
			return &k
		}
	}
	t.Fatalf("no scenario %q", name)
	return nil
}

// TestApplyPreflightSkipsThePlansOwnDryRuns: an object the plan's
// observation (made moments ago in this process) dry-ran cleanly is not
// dry-run again; everything else is: every object without that
// observation (a saved or confirmed plan), one the server refused, a
// structural observation's, and a scale step's (it sends other replicas
// than the rendered object the observation dry-ran).
func TestApplyPreflightSkipsThePlansOwnDryRuns(t *testing.T) {
	refused := func(k *state.Kube) *state.Kube {
		for i := range k.Objects {
			if k.Objects[i].Kind == "Service" && k.Objects[i].Name == "prod" {
				k.Objects[i].Predicted, k.Objects[i].DryRunError = nil, "spec.ports[0].port: Invalid value"
			}
		}
		return k
	}
	structural := func(k *state.Kube) *state.Kube { k.Mode = kube.ModeStructural; return k }
	tests := []struct {
		name       string
		scenario   string
		observed   func(t *testing.T, scenario string) *state.Kube
		wantDryRun func(all []string) []string
	}{
		{name: "no observation", scenario: "create-all",
			observed:   func(*testing.T, string) *state.Kube { return nil },
			wantDryRun: func(all []string) []string { return all }},
		{name: "fresh observation", scenario: "create-all",
			observed:   observedIn,
			wantDryRun: func([]string) []string { return nil }},
		{name: "an object the plan's dry run refused", scenario: "create-all",
			observed:   func(t *testing.T, n string) *state.Kube { return refused(observedIn(t, n)) },
			wantDryRun: func([]string) []string { return []string{"dry-run Service/prod"} }},
		{name: "structural observation", scenario: "create-all",
			observed:   func(t *testing.T, n string) *state.Kube { return structural(observedIn(t, n)) },
			wantDryRun: func(all []string) []string { return all }},
		{name: "scale step", scenario: "scale-out",
			observed:   observedIn,
			wantDryRun: func([]string) []string { return []string{"dry-run StatefulSet/prod"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, tg := scenario(t, tc.scenario)
			var all []string
			for _, s := range p.Steps {
				if s.Object != nil && (s.Kind == plan.KindApply || s.Kind == plan.KindScaleStatefulSet) {
					all = append(all, "dry-run "+s.Object.Kind+"/"+s.Object.Name)
				}
			}
			tg.Observed = tc.observed(t, tc.scenario)
			l, k, n := newFakes(map[string]int{"scale-out": 3, "create-all": 0}[tc.scenario])
			k.onWaitSts = func(want int) { addFreeServers(n, len(n.servers), want) }
			if _, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var got []string
			for _, c := range l.get() {
				if strings.HasPrefix(c, "dry-run ") {
					got = append(got, c)
				}
			}
			want := tc.wantDryRun(all)
			sort.Strings(got)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("preflight dry runs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyPreflightRefusesWhatThePlansDryRunRefused: a create the plan's
// dry run refused is planned (the plan has nothing live to compare), so
// the preflight must still dry-run it and stop apply before any write.
func TestApplyPreflightRefusesWhatThePlansDryRunRefused(t *testing.T) {
	p, tg := scenario(t, "create-all")
	tg.Observed = observedIn(t, "create-all")
	for i, o := range tg.Observed.Objects {
		if o.Kind == "Service" && o.Name == "prod" {
			tg.Observed.Objects[i].Predicted, tg.Observed.Objects[i].DryRunError = nil, "spec.ports[0].port: Invalid value"
		}
	}
	l, k, n := newFakes(0)
	k.fail["dry-run Service/prod"] = errors.New("spec.ports[0].port: Invalid value")
	res, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
	if err == nil || len(res.Preflight) != 1 {
		t.Fatalf("got error %v and %d preflight refusals, want the Service's", err, len(res.Preflight))
	}
	if calls := l.get(); !cmp.Equal(calls, []string{"dry-run Service/prod"}) {
		t.Errorf("got calls %v, want only the Service's dry run", calls)
	}
}

func TestApplyRetriesAreReportedAgainstTheStep(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	_, k, n := newFakes(3)
	k.onWaitSts = func(want int) { addFreeServers(n, 3, want) }
	rec := &recorder{}
	ex := executor(k, n, rec)
	k.retry = func() {
		ex.KubeRetry("apply k8s:apps/StatefulSet/graph/prod", 1, errors.New("etcdserver: leader changed"))
	}
	n.readErrs = 2
	if _, err := ex.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{
		"s01: apply k8s:apps/StatefulSet/graph/prod #1",
		"s02: check the server of prod-3 in SHOW SERVERS #1",
		"s02: check the server of prod-3 in SHOW SERVERS #2",
	}
	if diff := cmp.Diff(want, rec.retries); diff != "" {
		t.Errorf("retries (-want +got):\n%s", diff)
	}
}

func TestApplyDeallocate(t *testing.T) {
	id4 := plantest.ServerIDs[4]
	both := plantest.ServerIDs[3] + "," + id4
	lost := &neo4j.Error{Op: "DEALLOCATE", Kind: neo4j.KindUnreachable, Message: "connection reset"}
	refused := &neo4j.Error{Op: "DEALLOCATE", Kind: neo4j.KindRefused, Code: "Neo.ClientError.Cluster.CannotDeallocate", Message: "sole primary"}
	tests := []struct {
		name       string
		err        error
		tookEffect bool
		wantErr    bool
		wantCalls  []string
	}{
		{"reply lost but it took effect", lost, true, false,
			[]string{"DEALLOCATE " + both, "DROP " + id4}},
		{"reply lost and it did not", lost, false, true,
			[]string{"DEALLOCATE " + both}},
		{"refused by Neo4j", refused, false, true,
			[]string{"DEALLOCATE " + both}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, tg := scenario(t, "scale-in")
			l, k, n := newFakes(5)
			stmt := "DEALLOCATE " + both
			n.fail[stmt] = tc.err
			n.tookEffect[stmt] = tc.tookEffect
			_, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Apply: got %v, want error %v", err, tc.wantErr)
			}
			var got []string
			for _, c := range l.get() {
				if strings.HasPrefix(c, "DEALLOCATE") || strings.HasPrefix(c, "DROP") {
					if strings.Contains(c, id4) {
						got = append(got, c)
					}
				}
				if tc.wantErr && strings.HasPrefix(c, "apply StatefulSet") {
					t.Errorf("StatefulSet scaled in although DEALLOCATE failed")
				}
			}
			if diff := cmp.Diff(tc.wantCalls, got); diff != "" {
				t.Errorf("statements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyInterrupted(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	_, k, n := newFakes(3)
	// prod-3's Pod never becomes Ready; Ctrl-C arrives during the wait.
	k.fail["wait Pod/prod-3"] = errors.New("never")
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	ex := executor(k, n, rec)
	ex.Hook = startHook{rec, func(s plan.Step) {
		if s.ID == "s02" {
			time.AfterFunc(10*time.Millisecond, cancel)
		}
	}}
	res, err := ex.Apply(ctx, tg, p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if !res.Interrupted {
		t.Errorf("got Interrupted false")
	}
	want := []string{"s01 applied", "s02 failed", "s03 skipped", "s04 skipped", "s05 skipped", "s06 skipped", "s07 skipped",
		"s08 skipped", "s09 skipped", "s10 skipped", "s11 skipped"}
	if diff := cmp.Diff(want, rec.finished); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

type startHook struct {
	*recorder
	onStart func(plan.Step)
}

func (h startHook) StepStarted(s plan.Step) {
	h.recorder.StepStarted(s)
	h.onStart(s)
}

func TestApplyWrongPasswordFailsOnce(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	_, k, n := newFakes(3)
	k.onWaitSts = func(want int) { addFreeServers(n, 3, want) }
	connects := 0
	ex := executor(k, n, &recorder{})
	ex.Neo4j = func(context.Context) (Neo4j, func(), error) {
		connects++
		return nil, nil, &neo4j.Error{Op: "connect", Kind: neo4j.KindAuth, Code: neo4j.CodeUnauthorized, Message: "The client is unauthorized due to authentication failure."}
	}
	res, err := ex.Apply(context.Background(), tg, p)
	if err == nil {
		t.Fatal("got nil error")
	}
	if connects != 1 {
		t.Errorf("got %d connection attempts, want 1 (no retry storm)", connects)
	}
	if res.Steps[1].Err == nil || !neo4j.IsAuth(res.Steps[1].Err) {
		t.Errorf("s02: got %v, want the auth error", res.Steps[1].Err)
	}
}

func TestApplyVerificationMustBeEmpty(t *testing.T) {
	p, tg := scenario(t, "scale-in")
	_, k, n := newFakes(5)
	ex := executor(k, n, &recorder{})
	ex.Verify = func(context.Context) (*plan.Plan, error) {
		return &plan.Plan{Steps: []plan.Step{{ID: "s01", Kind: plan.KindApply, Address: "k8s:apps/StatefulSet/graph/prod"}}}, nil
	}
	res, err := ex.Apply(context.Background(), tg, p)
	if err == nil || !strings.Contains(err.Error(), "apply k8s:apps/StatefulSet/graph/prod") {
		t.Fatalf("got %v, want the verification failure naming what differs", err)
	}
	if res.Verified {
		t.Errorf("got Verified true")
	}
}

func TestApplyEmptyPlanSendsNothing(t *testing.T) {
	p, tg := scenario(t, "no-changes")
	l, k, n := newFakes(3)
	verified := false
	ex := executor(k, n, &recorder{})
	ex.Verify = func(context.Context) (*plan.Plan, error) { verified = true; return &plan.Plan{}, nil }
	res, err := ex.Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatal(err)
	}
	if calls := l.get(); len(calls) != 0 || verified {
		t.Errorf("got calls %v (verified %v), want none", calls, verified)
	}
	if got, want := res.SummaryLine(), "Apply complete: 0 applied."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestApplyEnableAlreadyEnabledServer(t *testing.T) {
	p, tg := scenario(t, "create-all")
	l, k, n := newFakes(0)
	// Bootstrap servers enable themselves: prod-0 is Enabled with the
	// options the file wants (nothing to send), prod-1 with other options
	// (ALTER SERVER, never a second ENABLE), prod-2 is Free.
	k.onWaitSts = func(want int) {
		addFreeServers(n, 0, want)
		n.setState("new-0", state.ServerEnabled, state.HealthAvailable)
		n.setState("new-1", state.ServerEnabled, state.HealthAvailable)
		n.mu.Lock()
		s0 := n.servers["new-0"]
		s0.ModeConstraint = "NONE"
		n.servers["new-0"] = s0
		s1 := n.servers["new-1"]
		s1.ModeConstraint = "SECONDARY"
		n.servers["new-1"] = s1
		n.mu.Unlock()
	}
	res, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var got []string
	for _, c := range l.get() {
		if strings.HasPrefix(c, "ENABLE") || strings.HasPrefix(c, "ALTER") || strings.HasPrefix(c, "CREATE") {
			got = append(got, c)
		}
	}
	want := []string{"ALTER new-1 NONE", "ENABLE new-2", "CREATE movies 3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statements (-want +got):\n%s", diff)
	}
	if res.Steps[6].Status != StatusUnchanged {
		t.Errorf("s07 (enable prod-0): got %s, want unchanged", res.Steps[6].Status)
	}
}

// A saved plan (plan --out, then apply PLANFILE) must drive apply exactly
// as the plan it was encoded from.
func TestApplySavedPlanRoundTrip(t *testing.T) {
	for _, name := range []string{"scale-out", "scale-in", "create-all"} {
		t.Run(name, func(t *testing.T) {
			p, tg := scenario(t, name)
			var buf strings.Builder
			if err := plan.Encode(&buf, p); err != nil {
				t.Fatal(err)
			}
			saved, err := plan.Decode(strings.NewReader(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			calls := func(p *plan.Plan) []string {
				l, k, n := newFakes(map[string]int{"scale-out": 3, "scale-in": 5, "create-all": 0}[name])
				k.onWaitSts = func(want int) { addFreeServers(n, len(n.servers), want) }
				if _, err := executor(k, n, &recorder{}).Apply(context.Background(), tg, p); err != nil {
					t.Fatalf("Apply: %v", err)
				}
				// The preflight dry runs go out in parallel, so their
				// order is not part of what is compared; everything after
				// them runs in the plan's order.
				got := l.get()
				pre := 0
				for pre < len(got) && strings.HasPrefix(got[pre], "dry-run ") {
					pre++
				}
				sort.Strings(got[:pre])
				return got
			}
			if diff := cmp.Diff(calls(p), calls(saved)); diff != "" {
				t.Errorf("saved plan drives apply differently (-computed +saved):\n%s", diff)
			}
		})
	}
}

// TestApplyNoRolloutWait: --wait=false applies a new StatefulSet without
// waiting for its Pods; by default apply waits for them.
func TestApplyNoRolloutWait(t *testing.T) {
	for _, noWait := range []bool{false, true} {
		p, tg := scenario(t, "create-all")
		// The Kubernetes plane only, so no Neo4j step waits for the Pods.
		var steps []plan.Step
		for _, s := range p.Steps {
			if s.Object != nil && s.Action == plan.ActionCreate {
				s.DependsOn = nil
				steps = append(steps, s)
			}
		}
		p.Steps = steps
		l, k, n := newFakes(0)
		ex := executor(k, n, &recorder{})
		ex.Options.NoRolloutWait = noWait
		if _, err := ex.Apply(context.Background(), tg, p); err != nil {
			t.Fatalf("noWait=%v: Apply: %v", noWait, err)
		}
		waited := false
		for _, c := range l.get() {
			if strings.HasPrefix(c, "wait StatefulSet/") {
				waited = true
			}
		}
		if waited == noWait {
			t.Errorf("NoRolloutWait=%v: waited for the StatefulSet = %v; calls: %v", noWait, waited, l.get())
		}
	}
}

// One failure stops every later destructive step of the apply, in every
// pool and sequence, even one that does not depend on the failed step.
func TestApplyFailureStopsLaterDestructiveSteps(t *testing.T) {
	l, k, n := newFakes(5)
	id1, id4 := plantest.ServerIDs[1], plantest.ServerIDs[4]
	n.setState(id4, state.ServerDeallocated, state.HealthAvailable, "system")
	n.fail["ALTER "+id1+" SECONDARY"] = &neo4j.Error{Op: "ALTER SERVER", Kind: neo4j.KindRefused, Message: "no"}
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Steps: []plan.Step{
		{ID: "s01", Address: "neo4j:server/" + id1, Action: plan.ActionNeo4j, Kind: plan.KindAlterServer, Sequence: "servers:prod",
			Server: &plan.ServerStep{ServerID: id1, Options: &plan.ServerOptions{ModeConstraint: "SECONDARY"}}},
		{ID: "s02", Address: "neo4j:server/" + id4, Action: plan.ActionNeo4j, Kind: plan.KindDropServer, Irreversible: true, Sequence: "servers:prod-analytics",
			Server: &plan.ServerStep{ServerID: id4}},
	}}
	rec := &recorder{}
	res, err := executor(k, n, rec).Apply(context.Background(), Target{Namespace: plantest.Namespace}, p)
	if err == nil {
		t.Fatal("Apply: got nil error, want the failure")
	}
	if diff := cmp.Diff([]string{"s01 failed", "s02 skipped"}, rec.finished); diff != "" {
		t.Errorf("step results (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.Steps[1].Note, "s01 failed") {
		t.Errorf("s02 note: got %q, want it to name the failure that stopped it", res.Steps[1].Note)
	}
	for _, c := range l.get() {
		if strings.HasPrefix(c, "DROP") {
			t.Errorf("sent %s after a failure", c)
		}
	}
}

// A wait that gives up says what it saw: each allocation not online, with
// Neo4j's statusMessage.
func TestApplyWaitReportsWhatItSaw(t *testing.T) {
	_, k, n := newFakes(3)
	for i, d := range n.dbs {
		if d.Name == "movies" && d.ServerID == plantest.ServerIDs[2] {
			n.dbs[i].CurrentStatus, n.dbs[i].StatusMessage = "offline", "Unable to start: disk full"
		}
	}
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Steps: []plan.Step{{ID: "s01", Address: "neo4j:database/movies",
		Action: plan.ActionRead, Kind: plan.KindWaitDatabaseOnline, Database: &plan.DatabaseStep{Name: "movies"}}}}
	ex := executor(k, n, &recorder{})
	ex.Options.StepTimeout = 50 * time.Millisecond
	res, _ := ex.Apply(context.Background(), Target{Namespace: plantest.Namespace}, p)
	if err := res.Steps[0].Err; err == nil || !strings.Contains(err.Error(), "offline on "+plantest.ServerIDs[2]+": Unable to start: disk full") {
		t.Errorf("got %v, want the timeout to say which allocation is offline and why", err)
	}
}

// A Pod that comes back on a volume kept from an earlier scale-in carries
// a dropped server's identity: the wait for its Free server fails at once,
// saying which claim to delete, instead of hanging until its timeout.
func TestApplyReturningOnRetainedVolumeFailsFast(t *testing.T) {
	p, tg := scenario(t, "scale-out")
	_, k, n := newFakes(3)
	k.onWaitSts = func(int) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.servers["old-3"] = state.Server{ID: "old-3", Name: "old-3", Address: plantest.PodDNS(plantest.Name, 3) + ":7687",
			State: state.ServerDropped, Health: state.HealthAvailable, Hosting: []string{"system"}}
	}
	ex := executor(k, n, &recorder{})
	ex.Options.StepTimeout = time.Minute
	start := time.Now()
	res, err := ex.Apply(context.Background(), tg, p)
	if err == nil {
		t.Fatal("Apply: got nil error, want the returning server reported")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s: the wait hung instead of failing at once", time.Since(start))
	}
	var msg string
	for _, r := range res.Steps {
		if r.Err != nil {
			msg = r.Err.Error()
		}
	}
	if !strings.Contains(msg, "old-3") || !strings.Contains(msg, "PVC data-prod-3") {
		t.Errorf("got %q, want the dropped identity and the claim to delete named", msg)
	}
}

// A lost server (Unavailable) that DEALLOCATE has emptied in Neo4j's view
// (requestedHosting only system) is dropped although it cannot report its
// databases stopped, as the disaster-recovery chapter says.
func TestApplyDropsLostServerOnceDeallocating(t *testing.T) {
	l, k, n := newFakes(5)
	id4 := plantest.ServerIDs[4]
	n.mu.Lock()
	s := n.servers[id4]
	s.State, s.Health = state.ServerDeallocating, state.HealthUnavailable
	s.Hosting, s.RequestedHosting = []string{"movies", "system"}, []string{"system"}
	n.servers[id4] = s
	n.mu.Unlock()
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Steps: []plan.Step{
		{ID: "s01", Address: "neo4j:server/" + id4, Action: plan.ActionRead, Kind: plan.KindWaitDeallocated, Server: &plan.ServerStep{ServerID: id4}},
		{ID: "s02", Address: "neo4j:server/" + id4, Action: plan.ActionNeo4j, Kind: plan.KindDropServer, Irreversible: true,
			DependsOn: []string{"s01"}, Server: &plan.ServerStep{ServerID: id4}},
	}}
	ex := executor(k, n, &recorder{})
	ex.Options.StepTimeout = 200 * time.Millisecond
	if _, err := ex.Apply(context.Background(), Target{Namespace: plantest.Namespace}, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := l.get(); !cmp.Equal(got, []string{"DROP " + id4}) {
		t.Errorf("got calls %v, want the lost server dropped", got)
	}
}
