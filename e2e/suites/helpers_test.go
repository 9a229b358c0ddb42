package suites

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// runTimeout bounds one run of a binary. It is a guard against a hang
// taking the whole suite down, not an assertion about speed.
const runTimeout = 4 * time.Minute

// result is what a finished process left behind.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs name with args and returns its exit code and output. A process
// that could not start, or was killed by the guard timeout, fails the test.
func run(t testing.TB, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{args: append([]string{filepath.Base(name)}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v (guard timeout %s)\n%s", name, err, runTimeout, res)
	}
	return res
}

// bg is a process running in the background whose output can be watched
// while it runs.
type bg struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	code   int
	cancel context.CancelFunc
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs name in the background, stdout and stderr interleaved into
// one buffer (the way a user sees them on a terminal).
func start(t testing.TB, env []string, name string, args ...string) *bg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	b := &bg{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{}), cancel: cancel}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			b.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				b.code = 128 + int(ws.Signal())
			}
		} else if err != nil {
			b.code = -1
		}
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = cmd.Process.Kill()
			<-b.done
		}
		cancel()
	})
	return b
}

// waitOutput waits until the process printed want, or ended.
func (b *bg) waitOutput(t testing.TB, want string) {
	t.Helper()
	for {
		if strings.Contains(b.out.String(), want) {
			return
		}
		select {
		case <-b.done:
			if strings.Contains(b.out.String(), want) {
				return
			}
			t.Fatalf("process ended (exit %d) before printing %q:\n%s", b.code, want, b.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (b *bg) wait() int {
	<-b.done
	return b.code
}

// ---------------------------------------------------------------------------
// A cluster under test: a namespace, its auth Secret, a cluster file and a
// simulator following its StatefulSet.

type cluster struct {
	t        testing.TB
	env      *testenv.Env
	ns       string
	name     string
	dir      string
	file     string
	password string
	sim      *harness.Sim
	spec     map[string]any // the cluster file as written last
	// skipNeo4j adds --skip-neo4j to plan and apply.
	skipNeo4j bool
}

type clusterOpts struct {
	// mutate edits the quickstart's document before it is written.
	mutate func(doc map[string]any)
	// sim configures the simulator.
	sim neo4jsim.Config
	// noSim leaves Neo4j out: every plan and apply gets --skip-neo4j.
	noSim bool
}

// newCluster prepares a namespace for a copy of examples/quickstart.yaml:
// its namespace replaced by a fresh one, its Secret created with a random
// password, and a simulator following the StatefulSet once neo4jctl
// creates it.
func newCluster(t testing.TB, env *testenv.Env, o clusterOpts) *cluster {
	t.Helper()
	ns := testenv.Namespace(t, env)
	c := &cluster{t: t, env: env, ns: ns, dir: t.TempDir(), password: "pw-" + randomHex(t, 12)}
	c.file = filepath.Join(c.dir, "cluster.yaml")
	doc := readYAML(t, filepath.Join("..", "..", "examples", "quickstart.yaml"))
	setPath(doc, ns, "metadata", "namespace")
	if o.mutate != nil {
		o.mutate(doc)
	}
	c.name = getPath(doc, "metadata", "name").(string)
	c.write(doc)

	cf, err := clusterfile.LoadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := harness.PrepareNamespace(ctx, env, cf, ns, c.password); err != nil {
		t.Fatal(err)
	}
	if o.noSim {
		c.skipNeo4j = true
		return c
	}
	sim, err := harness.StartSim(context.Background(), env, cf, ns, c.password, o.sim)
	if err != nil {
		t.Fatal(err)
	}
	c.sim = sim
	t.Cleanup(func() {
		sim.Close()
		for _, err := range sim.Errs() {
			t.Errorf("simulator: %v", err)
		}
	})
	return c
}

// write replaces the cluster file with doc.
func (c *cluster) write(doc map[string]any) {
	c.t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(c.file, b, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.spec = doc
}

// edit rewrites the cluster file with f applied to a copy of its document.
func (c *cluster) edit(f func(doc map[string]any)) {
	c.t.Helper()
	b, _ := json.Marshal(c.spec)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	f(doc)
	c.write(doc)
}

func (c *cluster) setServers(n int) {
	c.edit(func(doc map[string]any) { setPath(doc, n, "spec", "servers") })
}

func (c *cluster) kubeEnv() []string { return []string{"NO_COLOR=1", "KUBECONFIG=" + c.env.Kubeconfig} }

// neo4jctl runs the binary under test against this cluster's control plane.
func (c *cluster) neo4jctl(args ...string) result {
	c.t.Helper()
	return run(c.t, c.kubeEnv(), binary, append(args, "--kubeconfig", c.env.Kubeconfig)...)
}

// startNeo4jctl runs the binary in the background.
func (c *cluster) startNeo4jctl(args ...string) *bg {
	c.t.Helper()
	return start(c.t, c.kubeEnv(), binary, append(args, "--kubeconfig", c.env.Kubeconfig)...)
}

// kubectl runs the installed kubectl (the one users have) against the
// same control plane. KUBE_EDITOR and friends come from env.
func (c *cluster) kubectl(env []string, args ...string) result {
	c.t.Helper()
	return run(c.t, append(c.kubeEnv(), env...), kubectlPath(), append([]string{"--kubeconfig", c.env.Kubeconfig, "-n", c.ns}, args...)...)
}

// plan runs `neo4jctl plan -o json --detailed-exitcode` and decodes it.
func (c *cluster) plan(extra ...string) (planDoc, result) {
	c.t.Helper()
	res := c.neo4jctl(append(c.planeFlags("plan", "-f", c.file, "-o", "json", "--detailed-exitcode"), extra...)...)
	var p planDoc
	if res.code == 0 || res.code == 2 || strings.HasPrefix(strings.TrimSpace(res.stdout), "{") {
		if err := json.Unmarshal([]byte(res.stdout), &p); err != nil {
			c.t.Fatalf("plan -o json is not JSON: %v\n%s", err, res)
		}
	}
	return p, res
}

// apply runs `neo4jctl apply -f FILE --auto-approve`.
func (c *cluster) apply(extra ...string) result {
	c.t.Helper()
	return c.neo4jctl(append(c.planeFlags("apply", "-f", c.file, "--auto-approve"), extra...)...)
}

func (c *cluster) planeFlags(args ...string) []string {
	if c.skipNeo4j {
		args = append(args, "--skip-neo4j")
	}
	return args
}

// converge applies and then requires an empty plan (exit 0 under
// --detailed-exitcode): the invariant every test rests on.
func (c *cluster) converge() {
	c.t.Helper()
	if res := c.apply(); res.code != 0 {
		c.t.Fatalf("apply did not succeed:\n%s", res)
	}
	c.requireEmptyPlan()
}

func (c *cluster) requireEmptyPlan() {
	c.t.Helper()
	p, res := c.plan()
	if res.code != 0 {
		c.t.Fatalf("plan after apply is not empty (want exit 0 with --detailed-exitcode):\n%s", res)
	}
	if p.HasChanges || len(p.Changes) > 0 || len(p.Steps) > 0 {
		c.t.Fatalf("plan after apply has changes: %+v", p.Changes)
	}
}

// rendered writes `neo4jctl render` of the cluster file to a file for
// kubectl: the very objects neo4jctl plans with.
func (c *cluster) rendered() string {
	c.t.Helper()
	res := c.neo4jctl("render", "-f", c.file)
	if res.code != 0 {
		c.t.Fatalf("render:\n%s", res)
	}
	path := filepath.Join(c.dir, "rendered.yaml")
	if err := os.WriteFile(path, []byte(res.stdout), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// pods lists the Pods of the cluster's StatefulSet.
func (c *cluster) pods() []corev1.Pod {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "neo4jctl.io/cluster=" + c.name})
	if err != nil {
		c.t.Fatal(err)
	}
	return pods.Items
}

// readyPods counts the Ready Pods of the cluster's StatefulSet.
func (c *cluster) readyPods() int {
	c.t.Helper()
	n := 0
	for _, p := range c.pods() {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				n++
			}
		}
	}
	return n
}

// servers returns the simulator's servers by state (Dropped excluded).
func (c *cluster) serverStates() map[string]int {
	out := map[string]int{}
	for _, s := range c.sim.Servers() {
		if s.State != neo4jsim.StateDropped {
			out[s.State]++
		}
	}
	return out
}

// serverOf finds the simulator server of a Pod by its advertised address.
func (c *cluster) serverOf(pod string) (neo4jsim.ServerInfo, bool) {
	for _, s := range c.sim.Servers() {
		if strings.HasPrefix(s.Advertised, pod+".") && s.State != neo4jsim.StateDropped {
			return s, true
		}
	}
	return neo4jsim.ServerInfo{}, false
}

// ---------------------------------------------------------------------------
// The audit log: what the binary asked of the API server.

// auditMark remembers how long the audit log was, so later events can be
// told apart from earlier ones.
func auditMark(t testing.TB, env *testenv.Env) int {
	t.Helper()
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// neo4jctlRequests returns the requests (one per request, at the
// ResponseComplete stage) the binary under test made in namespace ns since
// mark. The binary identifies itself as "neo4jctl/<version>".
func neo4jctlRequests(t testing.TB, env *testenv.Env, mark int, ns string) []testenv.AuditEvent {
	t.Helper()
	// The API server writes an event when it has answered; the request
	// that ended last may not be flushed yet. Waiting for the log to stop
	// growing is not possible on a shared server, so read it twice a
	// moment apart and take the longer read.
	time.Sleep(200 * time.Millisecond)
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var out []testenv.AuditEvent
	for _, ev := range evs[min(mark, len(evs)):] {
		if !strings.HasPrefix(ev.UserAgent, "neo4jctl/") || ev.Stage != "ResponseComplete" {
			continue
		}
		if ev.ObjectRef != nil && ev.ObjectRef.Namespace != "" && ev.ObjectRef.Namespace != ns {
			continue
		}
		// A rules review is cluster-scoped: its namespace is in its body.
		// Parallel tests' binaries ask about theirs.
		if rn := ev.ReviewNamespace(); rn != "" && rn != ns {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func isDryRun(ev testenv.AuditEvent) bool { return strings.Contains(ev.RequestURI, "dryRun=All") }

func isWrite(ev testenv.AuditEvent) bool {
	switch resourceOf(ev) {
	case "selfsubjectrulesreviews", "selfsubjectaccessreviews":
		// A question to the authorizer (fast plans ask whether the
		// credentials may dry-run what they skip): a create the API
		// server answers and stores nowhere.
		return false
	}
	switch ev.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

func resourceOf(ev testenv.AuditEvent) string {
	if ev.ObjectRef == nil {
		return ""
	}
	r := ev.ObjectRef.Resource
	if ev.ObjectRef.Subresource != "" {
		r += "/" + ev.ObjectRef.Subresource
	}
	return r
}

// ---------------------------------------------------------------------------
// The plan document (docs/plan-json.md), only the parts the tests read.

type planDoc struct {
	FormatVersion string       `json:"format_version"`
	HasChanges    bool         `json:"has_changes"`
	Applicable    bool         `json:"applicable"`
	Incomplete    bool         `json:"incomplete"`
	Changes       []planChange `json:"changes"`
	Steps         []planStep   `json:"steps"`
	Refusals      []struct {
		Address string `json:"address"`
		Reason  string `json:"reason"`
		Fix     string `json:"fix"`
	} `json:"refusals"`
}

type planChange struct {
	Address    string   `json:"address"`
	Actions    []string `json:"actions"`
	Kind       string   `json:"kind"`
	FieldDiffs []struct {
		Path      string `json:"path"`
		Before    any    `json:"before"`
		After     any    `json:"after"`
		Manager   string `json:"manager"`
		Sensitive bool   `json:"sensitive"`
	} `json:"field_diffs"`
}

type planStep struct {
	ID           string   `json:"id"`
	Address      string   `json:"address"`
	Action       string   `json:"action"`
	Kind         string   `json:"kind"`
	Irreversible bool     `json:"irreversible"`
	Reason       string   `json:"reason"`
	DependsOn    []string `json:"depends_on"`
	Replicas     *int     `json:"replicas"`
	Partition    *int     `json:"partition"`
	Rollout      *struct {
		StatefulSet string   `json:"statefulset"`
		Pods        []string `json:"pods"`
		Servers     bool     `json:"servers"`
	} `json:"rollout"`
	Object *struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"object"`
	Server  *planServer  `json:"server"`
	Servers []planServer `json:"servers"`
	DryRun  *struct {
		Statement string `json:"statement"`
		Moves     []struct {
			Database     string `json:"database"`
			FromServerID string `json:"fromServerId"`
			ToServerID   string `json:"toServerId"`
		} `json:"moves"`
	} `json:"dry_run"`
}

type planServer struct {
	ServerID       string `json:"server_id"`
	PendingAddress string `json:"pending_address"`
	StatefulSet    string `json:"statefulset"`
	Ordinal        int    `json:"ordinal"`
	Name           string `json:"name"`
}

// k8sChanges is the set of Kubernetes objects the plan changes, as
// "Kind/name" (a plan covers one namespace).
func (p planDoc) k8sChanges() []string {
	var out []string
	for _, c := range p.Changes {
		if !strings.HasPrefix(c.Address, "k8s:") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(c.Address, "k8s:"), "/")
		if len(parts) != 4 {
			continue
		}
		out = append(out, parts[1]+"/"+parts[3])
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// kubectl

// kubectlPath is the kubectl users have: /usr/bin/kubectl, else the one
// on PATH, else the v1.37 built next to the control plane.
func kubectlPath() string {
	if _, err := os.Stat("/usr/bin/kubectl"); err == nil {
		return "/usr/bin/kubectl"
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p
	}
	return filepath.Join(testenv.DefaultBinDir(), "kubectl")
}

// kubectlDiffObjects parses `kubectl diff` output into the set of objects
// that differ, as "Kind/namespace/name". kubectl names each compared file
// group.version.Kind.namespace.name (core objects v1.Kind.namespace.name),
// in the "diff -u -N LIVE MERGED" line it prints per differing object.
func kubectlDiffObjects(out string) []string {
	var objs []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "diff ") {
			continue
		}
		f := strings.Fields(line)
		base := filepath.Base(f[len(f)-1])
		parts := strings.Split(base, ".")
		for i, p := range parts {
			if p != "" && p[0] >= 'A' && p[0] <= 'Z' && i+2 < len(parts) {
				objs = append(objs, p+"/"+parts[i+1]+"/"+strings.Join(parts[i+2:], "."))
				break
			}
		}
	}
	sort.Strings(objs)
	return objs
}

// ---------------------------------------------------------------------------
// Counting Bolt connections: a TCP proxy in front of each simulated server.

// connCounter counts the TCP connections neo4jctl opens to the simulated
// servers.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) count() int64 { return c.n.Load() }

// countConnections re-points every current server's kwok port-forward at a
// counting proxy in front of it. Servers that appear later are not
// counted; call it on a settled cluster.
func (c *cluster) countConnections() *connCounter {
	c.t.Helper()
	cc := &connCounter{}
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	for _, s := range c.sim.Servers() {
		if s.State == neo4jsim.StateDropped {
			continue
		}
		pod := strings.SplitN(s.Advertised, ".", 2)[0]
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.t.Fatal(err)
		}
		c.t.Cleanup(func() { ln.Close() })
		target := s.Listen
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				cc.n.Add(1)
				go pipe(ctx, conn, target)
			}
		}()
		if err := c.env.PortForward(ctx, c.ns, pod, 7687, ln.Addr().(*net.TCPAddr).Port); err != nil {
			c.t.Fatal(err)
		}
	}
	return cc
}

func pipe(ctx context.Context, a net.Conn, target string) {
	defer a.Close()
	b, err := (&net.Dialer{}).DialContext(ctx, "tcp", target)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, a); done <- struct{}{} }()
	go func() { _, _ = io.Copy(a, b); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// ---------------------------------------------------------------------------
// Small things.

func readYAML(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// setPath sets doc[k1][k2]…, creating maps on the way.
func setPath(doc map[string]any, v any, keys ...string) {
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func getPath(doc map[string]any, keys ...string) any {
	var v any = doc
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// requireE2E skips under -short, where TestMain built nothing.
func requireE2E(t testing.TB) {
	t.Helper()
	if testing.Short() || binary == "" {
		t.Skip("end-to-end test of the built binary (skipped with -short)")
	}
}
