package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const password = "integration-s3cret-pw"

// fixture is one cluster in its own namespace of the test control plane,
// with the simulator following its StatefulSet once it exists.
type fixture struct {
	t      *testing.T
	env    *testenv.Env
	ns     string
	dir    string
	kc     *kube.Client
	sim    *neo4jsim.Simulator
	pwFile string
	// writeTimeout is apply's Neo4j write deadline (0: none).
	writeTimeout time.Duration

	mu        sync.Mutex
	following bool
	hook      *hook
}

func newFixture(t *testing.T) *fixture {
	env := testenv.Shared(t)
	f := &fixture{t: t, env: env, ns: testenv.Namespace(t, env), dir: t.TempDir(), hook: &hook{}}
	f.pwFile = filepath.Join(f.dir, "password")
	if err := os.WriteFile(f.pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{OnRetry: func(what string, attempt int, err error) {
		f.hook.StepRetry(plan.Step{}, what, attempt, err)
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.kc = kc
	// The pre-flight refuses a plan whose auth Secret is missing.
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(f.ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "neo4j-auth", Namespace: f.ns},
		StringData: map[string]string{"password": password}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: -1, Password: password, TransitionDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	f.sim = sim
	return f
}

// clusterFile writes the quickstart with the fixture's namespace and the
// given number of servers, and loads it.
func (f *fixture) load(servers int) *pipeline.Target {
	f.t.Helper()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	s := strings.Replace(string(b), "namespace: neo4j", "namespace: "+f.ns, 1)
	s = strings.Replace(s, "servers: 3", fmt.Sprintf("servers: %d", servers), 1)
	path := filepath.Join(f.dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		f.t.Fatal(err)
	}
	t, err := pipeline.Load(path, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// runner is built per use: the simulator's address map grows as Pods start.
func (f *fixture) runner(onRetry func(int, error)) *pipeline.Runner {
	m := f.sim.AddressMap()
	if m == nil {
		m = map[string]string{}
	}
	return &pipeline.Runner{Kube: f.kc, Neo4j: pipeline.Neo4jAccess{PasswordFile: f.pwFile, AddressMap: m, OnRetry: onRetry, ConnectTimeout: 2 * time.Second, WriteTimeout: f.writeTimeout}}
}

func (f *fixture) plan(ctx context.Context, t *pipeline.Target) *plan.Plan {
	f.t.Helper()
	p, _, err := f.runner(nil).Plan(ctx, t, plan.Options{})
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	return p
}

func (f *fixture) executor(t *pipeline.Target) *apply.Executor {
	ex := &apply.Executor{Kube: f.kc, Hook: f.hook,
		Options: apply.Options{PollInterval: 100 * time.Millisecond, StepTimeout: 90 * time.Second, ProgressEvery: 2 * time.Second}}
	ex.Neo4j = func(ctx context.Context) (apply.Neo4j, func(), error) {
		c, closeFn, err := f.runner(ex.Neo4jRetry).Neo4j.Connect(ctx, f.kc, t)
		if err != nil {
			return nil, nil, err
		}
		return c, closeFn, nil
	}
	ex.Verify = func(ctx context.Context) (*plan.Plan, error) {
		p, _, err := f.runner(nil).Plan(ctx, t, plan.Options{})
		return p, err
	}
	f.hook.onFinish = func(s plan.Step) {
		// The simulator follows the StatefulSet from the moment apply has
		// created it, as Neo4j servers start in its Pods.
		if s.Object != nil && s.Object.Kind == "StatefulSet" && !f.isFollowing() {
			f.follow(t)
		}
	}
	return ex
}

func (f *fixture) isFollowing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.following
}

func (f *fixture) follow(t *pipeline.Target) {
	ctx, cancel := context.WithCancel(context.Background())
	f.t.Cleanup(cancel)
	err := f.sim.FollowStatefulSet(ctx, f.env.RESTConfig(), neo4jsim.FollowOptions{
		Namespace: f.ns, StatefulSet: t.Desired.Pools[0].StatefulSet, InitialMembers: 3,
	})
	if err != nil {
		f.t.Errorf("FollowStatefulSet: %v", err)
		return
	}
	f.mu.Lock()
	f.following = true
	f.mu.Unlock()
}

func (f *fixture) apply(ctx context.Context, t *pipeline.Target, p *plan.Plan) *apply.Result {
	f.t.Helper()
	res, err := f.executor(t).Apply(ctx, apply.Target{Namespace: t.Namespace, Objects: t.Objects, Inventory: t.Inventory}, p)
	if err != nil {
		f.t.Fatalf("apply: %v\nsteps: %s", err, f.hook.dump())
	}
	return res
}

// hook records what apply reported.
type hook struct {
	mu       sync.Mutex
	events   []string
	started  map[string]time.Time
	onFinish func(plan.Step)
}

func (h *hook) add(format string, args ...any) {
	h.mu.Lock()
	h.events = append(h.events, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *hook) dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.events, "\n")
}

// reset forgets what was reported so far, so a test can count what one
// apply reports.
func (h *hook) reset() {
	h.mu.Lock()
	h.events = nil
	h.mu.Unlock()
}

func (h *hook) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (h *hook) Message(msg string) { h.add("message %s", msg) }
func (h *hook) StepStarted(s plan.Step) {
	h.mu.Lock()
	if h.started == nil {
		h.started = map[string]time.Time{}
	}
	h.started[string(s.Kind)+" "+s.Address] = time.Now()
	h.mu.Unlock()
	h.add("start %s %s %s", s.ID, s.Kind, s.Address)
}
func (h *hook) StepProgress(s plan.Step, msg string) { h.add("progress %s %s", s.ID, msg) }
func (h *hook) StepRetry(s plan.Step, what string, attempt int, err error) {
	h.add("retry %s %s #%d: %v", s.ID, what, attempt, err)
}
func (h *hook) StepFinished(s plan.Step, r apply.StepResult) {
	h.add("finish %s %s %s %v %s", s.ID, s.Kind, r.Status, r.Err, r.Note)
	if h.onFinish != nil {
		h.onFinish(s)
	}
}
func (h *hook) Summary(r *apply.Result) { h.add("summary %s", r.SummaryLine()) }

func (h *hook) startedAt(kind plan.Kind, addr string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.started[string(kind)+" "+addr]
}

func serversByState(sim *neo4jsim.Simulator) map[string]int {
	out := map[string]int{}
	for _, s := range sim.Servers() {
		out[s.State+"/"+s.Health]++
	}
	return out
}

// TestApplyLifecycle applies the quickstart from an empty namespace,
// scales it out 3 → 5 and back in 5 → 3, each time requiring a follow-up
// plan to be empty; on the way a scale-in that would remove a database's
// only primary is refused before anything is written.
func TestApplyLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Empty → converged.
	t3 := f.load(3)
	p := f.plan(ctx, t3)
	if !p.HasChanges() || !p.Applicable() {
		t.Fatalf("fresh plan: changes %v applicable %v: %+v", p.HasChanges(), p.Applicable(), p.Refusals)
	}
	start := time.Now()
	res := f.apply(ctx, t3, p)
	t.Logf("create from empty: %s, %s", time.Since(start).Round(time.Millisecond), res.SummaryLine())
	if !res.Verified {
		t.Errorf("create: got Verified false")
	}
	if again := f.plan(ctx, t3); again.HasChanges() {
		t.Errorf("plan after create has %d steps, want none: %+v", len(again.Steps), again.Steps)
	}
	if got := f.sim.Allocations("movies"); len(got) != 3 {
		t.Errorf("movies allocations: got %v, want 3", got)
	}

	// Scale out 3 → 5.
	t5 := f.load(5)
	p = f.plan(ctx, t5)
	start = time.Now()
	res = f.apply(ctx, t5, p)
	t.Logf("scale out 3 → 5: %s, %s", time.Since(start).Round(time.Millisecond), res.SummaryLine())
	if diff := cmp.Diff(map[string]int{"Enabled/Available": 5}, serversByState(f.sim)); diff != "" {
		t.Errorf("servers after scale-out (-want +got):\n%s", diff)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	if err := f.kc.WaitStatefulSet(wctx, f.ns, t5.Desired.Pools[0].StatefulSet, 5, nil); err != nil {
		t.Errorf("five Pods Ready: %v", err)
	}
	wcancel()
	if again := f.plan(ctx, t5); again.HasChanges() {
		t.Errorf("plan after scale-out has %d steps, want none: %+v", len(again.Steps), again.Steps)
	}

	// A database whose only primary lands on an outgoing server (the new
	// servers are the least loaded) makes the scale-in refused, before
	// anything is written.
	c, closeFn, err := f.runner(nil).Neo4j.Connect(ctx, f.kc, t5)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if err := c.CreateDatabase(ctx, "solo", neo4j.CreateDatabase{Topology: neo4j.Topology{Primaries: 1}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the allocation comes online
	f.sim.ResetLog()
	p = f.plan(ctx, f.load(3))
	if p.Applicable() || !strings.Contains(fmt.Sprint(p.Refusals), "only primary of database solo") {
		t.Fatalf("scale-in with a sole primary leaving: got refusals %+v, want the sole-primary refusal", p.Refusals)
	}
	_, err = f.executor(t3).Apply(ctx, apply.Target{Namespace: f.ns, Objects: t3.Objects, Inventory: t3.Inventory}, p)
	if !errors.Is(err, apply.ErrNotApplicable) {
		t.Errorf("apply of the refused plan: got %v, want ErrNotApplicable", err)
	}
	// Only the plan's read-only DRYRUN reached Neo4j (and Neo4j refused
	// it too).
	for _, st := range f.sim.Log() {
		if st.Command != "DRYRUN DEALLOCATE DATABASES" {
			t.Errorf("refused plan sent %s: %+v", st.Command, st)
		}
	}
	if err := c.DropDatabase(ctx, "solo", neo4j.DropDatabase{}); err != nil {
		t.Fatal(err)
	}

	// Scale in 5 → 3: the plan's DRYRUN for both outgoing servers, CORDON
	// each (highest ordinal first), one DEALLOCATE for both, then wait →
	// DROP per server, all before the StatefulSet shrinks.
	byAddr := map[string]string{}
	for _, s := range f.sim.Servers() {
		byAddr[strings.SplitN(s.Advertised, ".", 2)[0]] = s.ID
	}
	sts := t3.Desired.Pools[0].StatefulSet
	f.sim.ResetLog()
	p = f.plan(ctx, t3)
	start = time.Now()
	res = f.apply(ctx, t3, p)
	t.Logf("scale in 5 → 3: %s, %s", time.Since(start).Round(time.Millisecond), res.SummaryLine())
	var got []string
	var lastDrop time.Time
	for _, st := range f.sim.Log() {
		got = append(got, st.Command+" "+st.Query[strings.Index(st.Query, "'")+1:strings.LastIndex(st.Query, "'")])
		if st.Command == "DROP SERVER" {
			lastDrop = st.Time
		}
	}
	both := []string{byAddr[sts+"-3"], byAddr[sts+"-4"]}
	sort.Strings(both)
	want := []string{
		"DRYRUN DEALLOCATE DATABASES " + strings.Join(both, "', '"),
		"CALL dbms.cluster.cordonServer " + byAddr[sts+"-4"], "CALL dbms.cluster.cordonServer " + byAddr[sts+"-3"],
		"DEALLOCATE DATABASES " + strings.Join(both, "', '"),
		"DROP SERVER " + byAddr[sts+"-4"], "DROP SERVER " + byAddr[sts+"-3"],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statement log (-want +got):\n%s", diff)
	}
	scaled := f.hook.startedAt(plan.KindScaleStatefulSet, "k8s:apps/StatefulSet/"+f.ns+"/"+sts)
	if scaled.IsZero() || !scaled.After(lastDrop) {
		t.Errorf("StatefulSet scaled in at %v, want after the last DROP SERVER at %v", scaled, lastDrop)
	}
	if again := f.plan(ctx, t3); again.HasChanges() {
		t.Errorf("plan after scale-in has %d steps, want none: %+v", len(again.Steps), again.Steps)
	}

	// A converged cluster: apply sends nothing.
	f.sim.ResetLog()
	p = f.plan(ctx, t3)
	res = f.apply(ctx, t3, p)
	if res.Wrote || len(f.sim.Log()) != 0 {
		t.Errorf("no-op apply: wrote %v, statements %+v", res.Wrote, f.sim.Log())
	}
}

// TestApplyRetriesTransientNeo4jErrors makes the simulator fail the next
// three statements with a transient error in the middle of a scale-out:
// the retries are reported and the apply succeeds.
func TestApplyRetriesTransientNeo4jErrors(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t3 := f.load(3)
	f.apply(ctx, t3, f.plan(ctx, t3))

	t4 := f.load(4)
	p := f.plan(ctx, t4)
	ex := f.executor(t4)
	armed := false
	f.hook.onFinish = func(s plan.Step) {
		if s.Kind == plan.KindWaitServerFree && !armed {
			armed = true
			f.sim.FailNext(3)
		}
	}
	res, err := ex.Apply(ctx, apply.Target{Namespace: t4.Namespace, Objects: t4.Objects, Inventory: t4.Inventory}, p)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, f.hook.dump())
	}
	if n := f.hook.count("retry "); n < 3 {
		t.Errorf("got %d retries reported, want at least 3:\n%s", n, f.hook.dump())
	}
	t.Logf("%s with %d retries", res.SummaryLine(), f.hook.count("retry "))
	if diff := cmp.Diff(map[string]int{"Enabled/Available": 4}, serversByState(f.sim)); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
}

// TestApplyWrongPassword: one clear error, no retry storm.
func TestApplyWrongPassword(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t3 := f.load(3)
	f.apply(ctx, t3, f.plan(ctx, t3))

	if err := os.WriteFile(f.pwFile, []byte("not-the-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Plan with the right password (the plan needs Neo4j), apply with the wrong one.
	t4 := f.load(4)
	if err := os.WriteFile(f.pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	p := f.plan(ctx, t4)
	if err := os.WriteFile(f.pwFile, []byte("not-the-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.sim.ResetLog()
	// The count below is of this apply's retries only: the first apply may
	// retry while a new server's Pod is still coming up (the routing table
	// names it before its address resolves).
	f.hook.reset()
	start := time.Now()
	res, err := f.executor(t4).Apply(ctx, apply.Target{Namespace: t4.Namespace, Objects: t4.Objects, Inventory: t4.Inventory}, p)
	if err == nil {
		t.Fatal("apply with a wrong password succeeded")
	}
	var failed []apply.StepResult
	for _, s := range res.Steps {
		if s.Status == apply.StatusFailed {
			failed = append(failed, s)
		}
	}
	if len(failed) != 1 || !neo4j.IsAuth(failed[0].Err) {
		t.Errorf("got failed steps %+v, want one auth failure", failed)
	}
	if n := f.hook.count("retry "); n != 0 {
		t.Errorf("got %d retries, want none:\n%s", n, f.hook.dump())
	}
	t.Logf("wrong password: failed after %s: %v", time.Since(start).Round(time.Millisecond), failed[0].Err)
}
