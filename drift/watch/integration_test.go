package watch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/drift"
	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// neo4jctlBinary builds neo4jctl once per test process: watch is tested as
// the process users run.
func neo4jctlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "neo4jctl-watch-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "neo4jctl")
		// Built as released (make build, goreleaser, the image): stripped
		// and static, so resident-memory figures are the shipped binary's.
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "github.com/neo4jctl/neo4jctl")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// fixture is one applied cluster with its simulator, and the watch
// ServiceAccount's kubeconfig.
type fixture struct {
	env      *testenv.Env
	ns       string
	file     string
	addrMap  string
	cluster  *clusterfile.Cluster
	dyn      dynamic.Interface
	saConfig string
	sa       string
	sim      *harness.Sim
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Shared(t)
	bin := neo4jctlBinary(t)
	ns := testenv.Namespace(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "namespace: neo4j", "namespace: "+ns, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pw := "watch-test-password"
	if err := harness.PrepareNamespace(ctx, env, c, ns, pw); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(context.Background(), env, c, ns, pw, neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	out, err := exec.CommandContext(ctx, bin, "apply", "-f", file, "--auto-approve", "--kubeconfig", env.Kubeconfig).CombinedOutput()
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	amap, _ := json.Marshal(sim.AddressMap())
	addrMap := filepath.Join(dir, "addresses.json")
	if err := os.WriteFile(addrMap, amap, 0o600); err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{env: env, ns: ns, file: file, addrMap: addrMap, cluster: c, dyn: dyn, sa: "neo4jctl-watch", sim: sim}
	f.saConfig, err = env.ServiceAccountKubeconfig(ctx, ns, f.sa)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) user() string { return "system:serviceaccount:" + f.ns + ":" + f.sa }

// grant applies the rendered Role and RoleBinding (optionally edited) as
// the admin, as a user installing the watch Deployment would.
func (f *fixture) grant(t *testing.T, opts watchmanifests.Options, edit func([]rbacv1.PolicyRule) []rbacv1.PolicyRule) {
	t.Helper()
	opts.Namespace = f.ns
	opts.Version = "1.0.0" // a release: the image must be pinned
	objs, err := watchmanifests.Render(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Role":
			if edit != nil && o.GetNamespace() == f.ns { // watch's own Role, not the one in default
				rules := edit(watchmanifests.Rules(opts))
				var raw []any
				b, _ := json.Marshal(rules)
				_ = json.Unmarshal(b, &raw)
				o.Object["rules"] = raw
			}
		case "RoleBinding":
		default:
			continue
		}
		f.apply(t, o)
	}
}

func (f *fixture) apply(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	gvr := map[string]string{"Role": "roles", "RoleBinding": "rolebindings"}[o.GetKind()]
	ns := o.GetNamespace() // watch's own, or default (the API server's EndpointSlice)
	if ns == "" {
		ns = f.ns
	}
	res := f.dyn.Resource(rbacGVR(gvr)).Namespace(ns)
	_, err := res.Apply(context.Background(), o.GetName(), o, metav1.ApplyOptions{FieldManager: "watch-test", Force: true})
	if err != nil {
		t.Fatalf("apply %s: %v", o.GetKind(), err)
	}
}

// editPDB changes spec.maxUnavailable out of band, as kubectl edit does
// (an Update-operation manager).
func (f *fixture) editPDB(t *testing.T, v int) time.Time {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"maxUnavailable":%d}}`, v)
	at := time.Now()
	_, err := f.dyn.Resource(pdbGVR).Namespace(f.ns).Patch(context.Background(), f.cluster.Metadata.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func (f *fixture) pdbMaxUnavailable(t *testing.T) int64 {
	t.Helper()
	u, err := f.dyn.Resource(pdbGVR).Namespace(f.ns).Get(context.Background(), f.cluster.Metadata.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := unstructured.NestedInt64(u.Object, "spec", "maxUnavailable")
	return v
}

// proc is a running `neo4jctl watch`.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	events []dwatch.Event
	stderr strings.Builder
	cond   *sync.Cond
	exited bool
	err    error
	// stopOnForbidden ends waits as soon as stderr (klog) reports a
	// Forbidden, e.g. from leader election.
	stopOnForbidden bool
}

func (f *fixture) startWatch(t *testing.T, args ...string) *proc {
	t.Helper()
	return f.startWatchArgs(t, append([]string{"watch", "-f", f.file, "--kubeconfig", f.saConfig, "--namespace", f.ns, "-o", "json", "--metrics-addr", "127.0.0.1:0",
		"--test-only-neo4j-address-map", f.addrMap, "--interval", "5s", "--debounce", "100ms"}, args...)...)
}

func (f *fixture) startWatchArgs(t *testing.T, all ...string) *proc {
	t.Helper()
	cmd := exec.Command(neo4jctlBinary(t), all...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	p := &proc{cmd: cmd}
	p.cond = sync.NewCond(&p.mu)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
		for sc.Scan() {
			var e dwatch.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				p.mu.Lock()
				p.events = append(p.events, e)
				p.cond.Broadcast()
				p.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	go func() {
		wg.Wait()
		err := cmd.Wait()
		p.mu.Lock()
		p.exited, p.err = true, err
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// waitFor blocks until match accepts an event (returning it) or the
// process exits; a deadline only guards against a hung test.
func (p *proc) waitFor(t *testing.T, what string, match func(dwatch.Event) bool) (dwatch.Event, bool) {
	t.Helper()
	timedOut := false
	deadline := time.AfterFunc(90*time.Second, func() {
		p.mu.Lock()
		timedOut = true
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer deadline.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := 0
	for {
		for ; seen < len(p.events); seen++ {
			if match(p.events[seen]) {
				return p.events[seen], true
			}
		}
		if p.exited || timedOut || (p.stopOnForbidden && strings.Contains(strings.ToLower(p.stderr.String()), "forbidden")) {
			if timedOut {
				t.Errorf("gave up waiting for %s", what)
			}
			return dwatch.Event{}, false
		}
		p.cond.Wait()
	}
}

func (p *proc) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, e := range p.events {
		fmt.Fprintf(&b, "  %s %s %s %s\n", e.Time.Format("15:04:05.000"), e.Type, e.Cluster, e.Message)
	}
	fmt.Fprintf(&b, "stderr:\n%s\nexit: %v", p.stderr.String(), p.err)
	return b.String()
}

func (p *proc) forbidden() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.events {
		if strings.Contains(strings.ToLower(e.Message), "forbidden") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(p.stderr.String()), "forbidden")
}

// deniedFor reports an authorizer denial naming verb and resource.
func (p *proc) deniedFor(verb, resource string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := p.stderr.String()
	for _, e := range p.events {
		all += "\n" + e.Message
	}
	all = strings.ReplaceAll(all, `\"`, `"`)
	return strings.Contains(all, fmt.Sprintf(`cannot %s resource "%s"`, verb, resource))
}

func (p *proc) metricsAddr(t *testing.T) string {
	e, ok := p.waitFor(t, "serving", func(e dwatch.Event) bool { return e.Type == "serving" })
	if !ok {
		t.Fatalf("watch never served metrics:\n%s", p.dump())
	}
	return e.Addr
}

// stop sends SIGTERM and waits: watch must exit 0 after a clean shutdown
// (SIGTERM is how Kubernetes stops a Pod; Ctrl-C would be 130); any other
// status is returned as an error.
func (p *proc) stop() error {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if !exited && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		// A watch that does not stop within a grace period, as a
		// kubelet would give it, is killed and reported.
		kill := time.AfterFunc(30*time.Second, func() { _ = p.cmd.Process.Kill() })
		defer kill.Stop()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.exited {
		p.cond.Wait()
	}
	if p.err != nil {
		return fmt.Errorf("after SIGTERM: %w, want exit 0 (a clean shutdown)", p.err)
	}
	return nil
}

func typeIs(typ string) func(dwatch.Event) bool {
	return func(e dwatch.Event) bool { return e.Type == typ }
}

func scrape(t *testing.T, addr, metric string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + `\s+(\S+)$`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// deniedRequests are the audit log's 403s for user since a time.
func deniedRequests(t *testing.T, env *testenv.Env, user string, since time.Time) []string {
	t.Helper()
	events, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.User.Username != user || e.StageTimestamp.Before(since) || e.ResponseStatus == nil || e.ResponseStatus.Code != http.StatusForbidden {
			continue
		}
		out = append(out, e.Verb+" "+e.RequestURI)
	}
	return out
}

// TestWatchWarnThenEnforce runs watch as a process with the rendered
// ServiceAccount's token: warn mode reports an out-of-band edit, enforce
// mode reverts one, and every request it made was allowed.
func TestWatchWarnThenEnforce(t *testing.T) {
	f := newFixture(t)
	since := time.Now()
	f.grant(t, watchmanifests.Options{}, nil)

	w := f.startWatch(t, "--mode", "warn")
	if _, ok := w.waitFor(t, "in-sync", typeIs("in-sync")); !ok {
		t.Fatalf("warn: no in-sync event:\n%s", w.dump())
	}
	edited := f.editPDB(t, 2)
	e, ok := w.waitFor(t, "drift", typeIs("drift"))
	if !ok {
		t.Fatalf("warn: the edit was not reported:\n%s", w.dump())
	}
	want := "k8s:policy/PodDisruptionBudget/" + f.ns + "/" + f.cluster.Metadata.Name
	if len(e.Addresses) != 1 || e.Addresses[0] != want {
		t.Errorf("warn: drift addresses: got %v, want [%s]", e.Addresses, want)
	}
	t.Logf("warn: edit → drift reported in %s", e.Time.Sub(edited).Round(time.Millisecond))
	if got := f.pdbMaxUnavailable(t); got != 2 {
		t.Errorf("warn mode changed the PDB: maxUnavailable %d, want the edited 2", got)
	}
	assertKubeEvent(t, f, "DriftDetected")
	// A second field drifts on the object already drifting: reported,
	// with the field.
	patch := `{"spec":{"unhealthyPodEvictionPolicy":"IfHealthyBudget"}}`
	edited = time.Now()
	if _, err := f.dyn.Resource(pdbGVR).Namespace(f.ns).Patch(context.Background(), f.cluster.Metadata.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	e, ok = w.waitFor(t, "a second drift", func(e dwatch.Event) bool { return e.Type == "drift" && e.Time.After(edited) })
	if !ok {
		t.Fatalf("warn: a new field drifting on an already drifted object was not reported:\n%s", w.dump())
	}
	if wantChanged := []string{want + " spec.unhealthyPodEvictionPolicy"}; !slices.Equal(e.Changed, wantChanged) || !strings.Contains(e.Message, "changed since the last report: "+wantChanged[0]) {
		t.Errorf("warn: second drift: changed %v, message %q; want changed %v, named in the message\n%s", e.Changed, e.Message, wantChanged, w.dump())
	}
	if err := w.stop(); err != nil {
		t.Errorf("warn: exit after SIGTERM: %v\n%s", err, w.dump())
	}

	f.grant(t, watchmanifests.Options{Mode: dwatch.ModeEnforce}, nil)
	w = f.startWatch(t, "--mode", "enforce")
	if _, ok := w.waitFor(t, "applied", typeIs("applied")); !ok {
		t.Fatalf("enforce: the standing edit was not reverted:\n%s", w.dump())
	}
	if _, ok := w.waitFor(t, "in-sync", func(e dwatch.Event) bool { return e.Type == "in-sync" && strings.Contains(e.Message, "resolved") }); !ok {
		t.Fatalf("enforce: no in-sync after the revert:\n%s", w.dump())
	}
	edited = f.editPDB(t, 3)
	e, ok = w.waitFor(t, "applied", func(e dwatch.Event) bool { return e.Type == "applied" && e.Time.After(edited) })
	if !ok {
		t.Fatalf("enforce: the edit was not reverted:\n%s", w.dump())
	}
	t.Logf("enforce: edit → reverted in %s", e.Time.Sub(edited).Round(time.Millisecond))
	if got := f.pdbMaxUnavailable(t); got != 1 {
		t.Errorf("enforce: PDB maxUnavailable %d, want 1 (reverted)", got)
	}
	if _, ok := w.waitFor(t, "in-sync", func(e dwatch.Event) bool { return e.Type == "in-sync" && e.Time.After(edited) }); !ok {
		t.Fatalf("enforce: no in-sync after the second revert:\n%s", w.dump())
	}

	// Idle: no requests beyond watches and Lease renewals. The window
	// spans more than one Neo4j poll (--interval 5s).
	idleFrom := time.Now()
	time.Sleep(12 * time.Second)
	idleTo := time.Now()
	n, list := idleRequests(t, f.env, f.user(), idleFrom, idleTo)
	t.Logf("idle: %d requests in %s beyond watches and Lease renewals (%.1f/min)", n, idleTo.Sub(idleFrom).Round(time.Second), float64(n)/idleTo.Sub(idleFrom).Minutes())
	if n != 0 {
		t.Errorf("idle watch made %d requests beyond watches and Lease renewals:\n%s", n, strings.Join(list, "\n"))
	}
	if err := w.stop(); err != nil {
		t.Errorf("enforce: exit after SIGTERM: %v\n%s", err, w.dump())
	}
	if d := deniedRequests(t, f.env, f.user(), since); len(d) > 0 {
		t.Errorf("the rendered Role is not sufficient: %d requests denied:\n%s", len(d), strings.Join(d, "\n"))
	}
}

func idleRequests(t *testing.T, env *testenv.Env, user string, from, to time.Time) (int, []string) {
	events, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.User.Username != user || e.StageTimestamp.Before(from) || e.StageTimestamp.After(to) {
			continue
		}
		if e.Verb == "watch" || (e.ObjectRef != nil && e.ObjectRef.Resource == "leases") {
			continue
		}
		if e.Stage != "ResponseComplete" {
			continue
		}
		out = append(out, e.Verb+" "+e.RequestURI)
	}
	return len(out), out
}

func assertKubeEvent(t *testing.T, f *fixture, reason string) {
	t.Helper()
	list, err := f.dyn.Resource(eventsGVR).Namespace(f.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		r, _, _ := unstructured.NestedString(e.Object, "reason")
		kind, _, _ := unstructured.NestedString(e.Object, "involvedObject", "kind")
		if r == reason && kind == "StatefulSet" {
			return
		}
	}
	t.Errorf("no Kubernetes Event with reason %s on the StatefulSet", reason)
}

// TestWatchRoleIsMinimal removes each verb of each resource from the
// rendered warn-mode Role in turn and requires watch to fail or report a
// Forbidden: every verb the Role lists is one watch uses.
func TestWatchRoleIsMinimal(t *testing.T) {
	f := newFixture(t)
	opts := watchmanifests.Options{}
	rules := watchmanifests.Rules(opts)
	for _, r := range rules {
		for _, v := range []([]string){r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
			for _, s := range v {
				if strings.Contains(s, "*") {
					t.Fatalf("wildcard in the Role: %+v", r)
				}
			}
		}
	}
	f.editPDB(t, 2) // a standing drift: every run reports it (and records an Event)
	f.touchEveryMember(t)
	for ri, r := range rules {
		for _, res := range r.Resources {
			for _, verb := range r.Verbs {
				if verb == "get" && res != "configmaps" && slices.Contains(r.Verbs, "patch") {
					// Live objects come from the inventory's LISTs; get is
					// there for a rendered object that exists without the
					// ApplySet label (adopted, or labelled away), which
					// Observe reads on its own. This fixture has none.
					continue
				}
				name := res + "/" + verb
				t.Run(name, func(t *testing.T) {
					f.grant(t, opts, func(rs []rbacv1.PolicyRule) []rbacv1.PolicyRule {
						return without(rs, ri, res, verb)
					})
					// Each run starts without the Lease, so create is exercised.
					err := f.dyn.Resource(leaseGVR).Namespace(f.ns).Delete(context.Background(), dwatch.DefaultLeaseName, metav1.DeleteOptions{})
					if err != nil && !apierrors.IsNotFound(err) {
						t.Fatal(err)
					}
					lease := leaseRenewTime(t, f)
					// As the rendered Deployment runs it: health checks on.
					w := f.startWatch(t, "--mode", "warn", "--leader-elect", "--leader-elect-lease-duration", "3s", "--health-interval", "5s")
					w.mu.Lock()
					w.stopOnForbidden = true
					w.mu.Unlock()
					// Either a denial shows, or watch reports the drift and
					// renews its leader Lease — then the verb was not needed.
					e, ok := w.waitFor(t, "drift", func(e dwatch.Event) bool {
						return e.Type == "drift" || strings.Contains(strings.ToLower(e.Message), "forbidden")
					})
					if ok && e.Type == "drift" && !w.forbidden() {
						// A denied watch can surface a moment after the
						// drift its LIST made possible: give it at least
						// 3 s, and leader renewals, before concluding.
						minWait := time.Now().Add(3 * time.Second)
						for i := 0; i < 100 && !w.forbidden(); i++ {
							if rt := leaseRenewTime(t, f); rt != "" && rt != lease && time.Now().After(minWait) && renewedTwice(t, f, rt) {
								break
							}
							time.Sleep(100 * time.Millisecond)
						}
					}
					_ = w.stop()
					if testing.Verbose() {
						t.Logf("run:\n%s", w.dump())
					}
					if !w.forbidden() {
						t.Errorf("watch worked without %s on %s: the Role is not minimal\n%s", verb, res, w.dump())
					} else if !w.deniedFor(verb, res) {
						t.Errorf("without %s on %s watch failed, but not with that denial:\n%s", verb, res, w.dump())
					}
				})
			}
		}
	}
	f.grant(t, opts, nil)
}

// renewedTwice waits for one more renewal after rt: the first renewal
// after acquiring is an update, and the test must see it succeed.
func renewedTwice(t *testing.T, f *fixture, rt string) bool {
	for i := 0; i < 30; i++ {
		if cur := leaseRenewTime(t, f); cur != rt {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func leaseRenewTime(t *testing.T, f *fixture) string {
	u, err := f.dyn.Resource(leaseGVR).Namespace(f.ns).Get(context.Background(), dwatch.DefaultLeaseName, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	h, _, _ := unstructured.NestedString(u.Object, "spec", "holderIdentity")
	rt, _, _ := unstructured.NestedString(u.Object, "spec", "renewTime")
	return h + "@" + rt
}

// without returns rules minus one verb on one resource of rule ri.
func without(rules []rbacv1.PolicyRule, ri int, res, verb string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for i, r := range rules {
		if i != ri {
			out = append(out, r)
			continue
		}
		for _, rr := range r.Resources {
			nr := r
			nr.Resources = []string{rr}
			nr.Verbs = nil
			for _, v := range r.Verbs {
				if !(rr == res && v == verb) {
					nr.Verbs = append(nr.Verbs, v)
				}
			}
			if len(nr.Verbs) > 0 {
				out = append(out, nr)
			}
		}
	}
	return out
}

// TestWatchLeaderElection runs two replicas: only the leader reconciles;
// killing it hands over to the other.
func TestWatchLeaderElection(t *testing.T) {
	f := newFixture(t)
	f.grant(t, watchmanifests.Options{}, nil)
	args := []string{"--mode", "warn", "--leader-elect", "--leader-elect-lease-duration", "3s"}
	a := f.startWatch(t, args...)
	if _, ok := a.waitFor(t, "leader", typeIs("leader")); !ok {
		t.Fatalf("first replica never led:\n%s", a.dump())
	}
	b := f.startWatch(t, args...)
	if _, ok := b.waitFor(t, "follower", typeIs("follower")); !ok {
		t.Fatalf("second replica did not see the leader:\n%s", b.dump())
	}
	if _, ok := a.waitFor(t, "in-sync", typeIs("in-sync")); !ok {
		t.Fatalf("leader never reconciled:\n%s", a.dump())
	}
	aAddr, bAddr := a.metricsAddr(t), b.metricsAddr(t)
	if got := scrape(t, aAddr, "neo4jctl_leader"); got != "1" {
		t.Errorf("leader: neo4jctl_leader %s, want 1", got)
	}
	if got := scrape(t, bAddr, "neo4jctl_leader"); got != "0" {
		t.Errorf("follower: neo4jctl_leader %s, want 0", got)
	}
	f.editPDB(t, 2)
	if _, ok := a.waitFor(t, "drift", typeIs("drift")); !ok {
		t.Fatalf("leader did not report the drift:\n%s", a.dump())
	}
	b.mu.Lock()
	for _, e := range b.events {
		if e.Type == "reconciled" || e.Type == "drift" {
			t.Errorf("the follower reconciled: %s %s", e.Type, e.Message)
		}
	}
	b.mu.Unlock()

	killed := time.Now()
	_ = a.cmd.Process.Kill() // no clean release: the Lease must expire
	e, ok := b.waitFor(t, "leader", typeIs("leader"))
	if !ok {
		t.Fatalf("the follower never took over:\n%s", b.dump())
	}
	t.Logf("handover after SIGKILL of the leader: %s (lease duration 3s)", e.Time.Sub(killed).Round(time.Millisecond))
	if _, ok := b.waitFor(t, "drift", typeIs("drift")); !ok {
		t.Fatalf("the new leader did not report the standing drift:\n%s", b.dump())
	}
	if got := scrape(t, bAddr, "neo4jctl_leader"); got != "1" {
		t.Errorf("new leader: neo4jctl_leader %s, want 1", got)
	}
}

// TestMeasureWatchRSS measures the resident memory of a watch of 10
// clusters (docs/watch.md) run as users run it: each cluster has a
// simulator, and watch reads every Neo4j plane through a port-forward to a
// server Pod (no address map, no --skip-neo4j). It is a measurement, not
// an assertion: run it with NEO4JCTL_WATCH_MEASURE=1.
func TestMeasureWatchRSS(t *testing.T) {
	if os.Getenv("NEO4JCTL_WATCH_MEASURE") != "1" {
		t.Skip("measurement: set NEO4JCTL_WATCH_MEASURE=1")
	}
	env := testenv.Shared(t)
	bin := neo4jctlBinary(t)
	ns := testenv.Namespace(t, env)
	src, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pw := "measure-password"
	for i := 0; i < 10; i++ {
		y := strings.Replace(string(src), "namespace: neo4j", "namespace: "+ns, 1)
		y = strings.Replace(y, "name: quickstart", fmt.Sprintf("name: graph%02d", i), 1)
		file := filepath.Join(dir, fmt.Sprintf("graph%02d.yaml", i))
		if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := clusterfile.LoadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := harness.PrepareNamespace(ctx, env, c, ns, pw); err != nil {
			t.Fatal(err)
		}
		sim, err := harness.StartSim(context.Background(), env, c, ns, pw, neo4jsim.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sim.Close)
		if out, err := exec.CommandContext(ctx, bin, "apply", "-f", file, "--auto-approve", "--kubeconfig", env.Kubeconfig).CombinedOutput(); err != nil {
			t.Fatalf("apply %s: %v\n%s", file, err, out)
		}
	}
	f := &fixture{env: env, ns: ns, file: dir, saConfig: env.Kubeconfig}
	w := f.startWatchArgs(t, "watch", "-f", dir, "--kubeconfig", env.Kubeconfig, "-o", "json", "--metrics-addr", "127.0.0.1:0")
	synced := map[string]bool{}
	if _, ok := w.waitFor(t, "10 clusters reconciled", func(e dwatch.Event) bool {
		if e.Type == "reconciled" {
			synced[e.Cluster] = true
		}
		return len(synced) == 10
	}); !ok {
		t.Fatalf("not all clusters reconciled:\n%s", w.dump())
	}
	w.mu.Lock()
	for _, e := range w.events {
		if e.Type == "neo4j-unreachable" {
			t.Errorf("Neo4j not read through the port-forward: %s %s", e.Cluster, e.Message)
		}
	}
	w.mu.Unlock()
	time.Sleep(5 * time.Second) // let the heap settle after the first reconciles
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
			t.Log("watch of 10 clusters, Neo4j through port-forwards: " + line)
		}
	}
}

// TestWatchIdleThroughPortForward measures watch the way a user outside
// the cluster runs it: no address map, no --skip-neo4j — the Neo4j plane
// is read through a port-forward to a server Pod (kwok forwards it to the
// simulator), with the rendered Role plus what a port-forward needs. An
// idle watch then makes no Kubernetes request beyond its watches and Lease
// renewals, Neo4j polls included (the Bolt connection, and with it the
// port-forward, stays open between polls). Resident memory is logged.
func TestWatchIdleThroughPortForward(t *testing.T) {
	f := newFixture(t)
	since := time.Now()
	f.grant(t, watchmanifests.Options{}, func(r []rbacv1.PolicyRule) []rbacv1.PolicyRule {
		// Outside the cluster only: in a Pod watch reads Neo4j through
		// the client Service and needs neither.
		return append(r,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/portforward"}, Verbs: []string{"create"}},
		)
	})
	w := f.startWatchArgs(t, "watch", "-f", f.file, "--kubeconfig", f.saConfig, "--namespace", f.ns, "-o", "json",
		"--metrics-addr", "127.0.0.1:0", "--interval", "5s", "--debounce", "100ms", "--mode", "warn")
	if _, ok := w.waitFor(t, "in-sync", typeIs("in-sync")); !ok {
		t.Fatalf("no in-sync event:\n%s", w.dump())
	}
	// Two Neo4j polls, both through the port-forward.
	polls := 0
	if _, ok := w.waitFor(t, "two Neo4j polls", func(e dwatch.Event) bool {
		if e.Type == "reconciled" {
			polls++
		}
		return polls >= 2
	}); !ok {
		t.Fatalf("fewer than two reconciles:\n%s", w.dump())
	}
	w.mu.Lock()
	for _, e := range w.events {
		if e.Type == "neo4j-unreachable" || e.Type == "circuit" {
			t.Errorf("Neo4j not read through the port-forward: %s", e.Message)
		}
	}
	w.mu.Unlock()

	// The path is the port-forward: the API server saw watch open one.
	evs, err := f.env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	forwards := 0
	for _, e := range evs {
		if e.User.Username == f.user() && e.ObjectRef != nil && e.ObjectRef.Subresource == "portforward" && !e.StageTimestamp.Before(since) {
			forwards++
		}
	}
	if forwards == 0 {
		t.Fatal("watch opened no port-forward: the Neo4j plane was not read the way a user outside the cluster reads it")
	}

	idleFrom := time.Now()
	time.Sleep(12 * time.Second)
	idleTo := time.Now()
	n, list := idleRequests(t, f.env, f.user(), idleFrom, idleTo)
	t.Logf("idle through a port-forward: %d requests in %s beyond watches and Lease renewals (%.1f/min)", n, idleTo.Sub(idleFrom).Round(time.Second), float64(n)/idleTo.Sub(idleFrom).Minutes())
	if n != 0 {
		t.Errorf("idle watch made %d requests beyond watches and Lease renewals:\n%s", n, strings.Join(list, "\n"))
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Log("watch of 1 cluster, Neo4j through a port-forward: " + line)
			}
		}
	}
	if err := w.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, w.dump())
	}
	if d := deniedRequests(t, f.env, f.user(), since); len(d) > 0 {
		t.Errorf("%d requests denied:\n%s", len(d), strings.Join(d, "\n"))
	}
}

// TestWatchEnforceAuditsEveryAttempt: an enforce attempt that cannot take
// the apply lock (an apply by someone else holds it) leaves an
// enforce-failed line per drifted address with the reason; the attempt
// after the lock is free leaves change-applied lines. Both attempts are in
// the audit log under their own ids: no attempt goes unrecorded.
func TestWatchEnforceAuditsEveryAttempt(t *testing.T) {
	f := newFixture(t)
	f.grant(t, watchmanifests.Options{Mode: dwatch.ModeEnforce}, nil)
	ctx := context.Background()
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	lockName := "neo4jctl-lock-" + f.cluster.Metadata.Name
	now := metav1.NewMicroTime(time.Now())
	holder, dur := "alice@laptop pid 42", int32(3600)
	if _, err := cs.CoordinationV1().Leases(f.ns).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: lockName},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &now, RenewTime: &now},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pdb := "k8s:policy/PodDisruptionBudget/" + f.ns + "/" + f.cluster.Metadata.Name
	f.editPDB(t, 2)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	w := f.startWatch(t, "--mode", "enforce", "--audit-log", auditFile, "--retry-base", "500ms")
	readAudit := func() []drift.AuditEntry {
		b, _ := os.ReadFile(auditFile)
		var out []drift.AuditEntry
		for _, ln := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e drift.AuditEntry
			if ln != "" && json.Unmarshal([]byte(ln), &e) == nil {
				out = append(out, e)
			}
		}
		return out
	}
	waitAudit := func(what string, match func(drift.AuditEntry) bool) drift.AuditEntry {
		t.Helper()
		for i := 0; i < 300; i++ {
			for _, e := range readAudit() {
				if match(e) {
					return e
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no audit line %s; log:\n%v\nwatch:\n%s", what, readAudit(), w.dump())
		return drift.AuditEntry{}
	}
	failed := waitAudit("enforce-failed for the PDB", func(e drift.AuditEntry) bool {
		return e.Action == drift.ActionEnforceFailed && e.Address == pdb
	})
	if failed.Attempt == "" || !strings.Contains(failed.Error, "alice@laptop") {
		t.Errorf("enforce-failed line: attempt %q, error %q; want an attempt id and the lock holder", failed.Attempt, failed.Error)
	}
	if err := cs.CoordinationV1().Leases(f.ns).Delete(ctx, lockName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	applied := waitAudit("change-applied for the PDB", func(e drift.AuditEntry) bool {
		return e.Action == drift.ActionChangeApplied && e.Address == pdb
	})
	if applied.Attempt == "" || applied.Attempt == failed.Attempt {
		t.Errorf("attempt ids: failed %q, applied %q; want two distinct ids", failed.Attempt, applied.Attempt)
	}
	if err := w.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, w.dump())
	}
}
