package suites

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/e2e/helmtool"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/plan"
)

// healthcheck's exit codes (docs/healthcheck.md).
const (
	exitHealthy   = 0
	exitUnhealthy = 3
)

// adopted is a three-server cluster installed by the official chart (three
// releases, real helm), followed by the simulator, imported and applied
// by the built binary: from then on neo4jctl manages it in the chart's
// layout (spec.layout: helm).
type adopted struct {
	*cluster
	sim *neo4jsim.Simulator
	cs  kubernetes.Interface
}

// adoptThreeReleases installs the releases server-1..3 of cluster prod in
// a namespace of its own, imports them and converges (apply, then an
// empty plan).
func adoptThreeReleases(t *testing.T) *adopted {
	t.Helper()
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	c := &cluster{t: t, env: env, ns: ns, name: "prod", dir: t.TempDir(), password: "pw-" + randomHex(t, 12)}
	c.file = filepath.Join(c.dir, "prod.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	installChartCluster(t, env, chart, ns, c.password)
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: -1, Password: c.password, DefaultPrimaries: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	for _, r := range helmReleases {
		opts := neo4jsim.FollowOptions{Namespace: ns, StatefulSet: r, InitialMembers: 1,
			OnListen: func(pod *corev1.Pod, server neo4jsim.ServerInfo) {
				for attempt := 0; attempt < 50 && ctx.Err() == nil; attempt++ {
					if err := env.PortForward(ctx, ns, pod.Name, 7687, listenPort(server.Listen)); err == nil {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
			}}
		if err := sim.FollowStatefulSet(ctx, env.RESTConfig(), opts); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, time.Minute, "three Enabled servers", func() bool { return enabledAvailable(sim) == 3 })
	if res := c.neo4jctl("import", "--helm-cluster", "prod", "-n", ns, "-o", c.file); res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-password"},
		StringData: map[string]string{"password": c.password},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.converge()
	return &adopted{cluster: c, sim: sim, cs: cs}
}

func enabledAvailable(sim *neo4jsim.Simulator) int {
	n := 0
	for _, s := range sim.Servers() {
		if s.State == neo4jsim.StateEnabled && s.Health == "Available" {
			n++
		}
	}
	return n
}

// healthcheck runs `healthcheck -o json` and returns its exit code and
// the cluster's checks by id.
func (a *adopted) healthcheck() (int, map[string]healthcheck.Check, result) {
	a.t.Helper()
	res := a.neo4jctl("healthcheck", "-f", a.file, "-o", "json", "--volume-stats", "off")
	var doc views.HealthDocument
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Reports) != 1 {
		a.t.Fatalf("healthcheck -o json: %v, %d reports\n%s", err, len(doc.Reports), res)
	}
	checks := map[string]healthcheck.Check{}
	for _, c := range doc.Reports[0].Checks {
		checks[c.ID] = c
	}
	return res.code, checks, res
}

// TestAdoptedHelmClusterSeenByEveryCommand: after import and apply, every
// command sees the adopted cluster's servers, whose Pods, StatefulSets
// and claims keep the chart's labels (not neo4jctl's cluster label):
// healthcheck finds the three Pods, their claims and StatefulSets and the
// three servers; status lists the Pods with their servers; report bundles
// the Pods; watch's health observation finds them too. Then one release's
// Pod stops being Ready: plan and healthcheck still reach Neo4j, through
// another release's Pod, and healthcheck names the server that is down.
func TestAdoptedHelmClusterSeenByEveryCommand(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	a := adoptThreeReleases(t)

	code, checks, res := a.healthcheck()
	for _, c := range checks {
		if c.Status == healthcheck.Warn {
			t.Logf("healthcheck WARN %s: %s %q", c.ID, c.Summary, c.Evidence)
		}
	}
	if code != exitHealthy {
		t.Errorf("healthcheck of the adopted cluster: exit %d, want %d\n%s", code, exitHealthy, res)
	}
	for id, want := range map[string]string{
		healthcheck.IDPods:    "3 of 3 Pods Ready",
		healthcheck.IDClaims:  "3 of 3 claims Bound",
		healthcheck.IDServers: "3 of 3 servers Enabled and Available",
	} {
		if c := checks[id]; c.Status != healthcheck.Pass || c.Summary != want {
			t.Errorf("healthcheck %s: %s %q %q, want PASS %q", id, c.Status, c.Summary, c.Evidence, want)
		}
	}
	if c := checks[healthcheck.IDRollout]; c.Status != healthcheck.Pass {
		t.Errorf("healthcheck %s: %s %q %q, want PASS with the three releases' StatefulSets", healthcheck.IDRollout, c.Status, c.Summary, c.Evidence)
	}

	// status: one row per release's Pod, Ready, with its server.
	res = a.neo4jctl("status", "-f", a.file, "-o", "json", "--volume-stats", "off")
	var st views.StatusDocument
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || len(st.Clusters) != 1 {
		t.Fatalf("status -o json: %v\n%s", err, res)
	}
	if res.code != exitHealthy {
		t.Errorf("status: exit %d, want %d\n%s", res.code, exitHealthy, res)
	}
	var rows []string
	for _, s := range st.Clusters[0].Servers {
		rows = append(rows, s.Pod)
		if !s.Ready || s.Node == "" || s.Server == "" || s.State != "Enabled" {
			t.Errorf("status row %+v: want the Pod Ready on a node, its server Enabled", s)
		}
	}
	if want := []string{"server-1-0", "server-2-0", "server-3-0"}; !equalStrings(rows, want) {
		t.Errorf("status lists Pods %v, want %v", rows, want)
	}

	// report: the bundle holds the three Pods.
	bundle := filepath.Join(a.dir, "support.tar.gz")
	if res := a.neo4jctl("report", "-f", a.file, "-o", bundle, "--logs-tail", "0", "--volume-stats", "off"); res.code != 0 {
		t.Fatalf("report:\n%s", res)
	}
	pods := bundleFile(t, bundle, "pods.yaml")
	for _, r := range helmReleases {
		if !regexp.MustCompile(`(?m)^\s+name: ` + r + `-0$`).MatchString(pods) {
			t.Errorf("the bundle's pods.yaml lacks Pod %s-0:\n%.2000s", r, pods)
		}
	}

	// watch: its health observation exports the Pods and servers as PASS,
	// and an out-of-band edit of an adopted object wakes it.
	watchAdopted(t, a)
	a.converge()

	// One release's Pod is no longer Ready (kwok leaves a status it has
	// set alone); the simulator makes its server Unavailable.
	patch := `{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`
	if _, err := a.cs.CoreV1().Pods(a.ns).Patch(context.Background(), "server-1-0", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "server-1 Unavailable", func() bool { return enabledAvailable(a.sim) == 2 })

	p, res := a.plan()
	if res.code == 1 || p.Incomplete {
		t.Errorf("plan with server-1-0 not Ready: exit %d, incomplete %v; want Neo4j reached through another release\n%s", res.code, p.Incomplete, res)
	}
	code, checks, res = a.healthcheck()
	if code != exitUnhealthy {
		t.Errorf("healthcheck with server-1-0 not Ready: exit %d, want %d\n%s", code, exitUnhealthy, res)
	}
	if c := checks[healthcheck.IDPods]; c.Status != healthcheck.Fail || !strings.Contains(strings.Join(c.Evidence, "\n"), "server-1-0: not Ready") {
		t.Errorf("healthcheck %s: %s %q, want FAIL naming server-1-0", healthcheck.IDPods, c.Status, c.Evidence)
	}
	c := checks[healthcheck.IDServers]
	if c.Status != healthcheck.Fail || c.Summary != "2 of 3 servers Enabled and Available" ||
		!regexp.MustCompile(`server-1-0: server \S+ Enabled, Unavailable`).MatchString(strings.Join(c.Evidence, "\n")) {
		t.Errorf("healthcheck %s: %s %q %q, want FAIL from SHOW SERVERS (read through another Pod) naming server-1-0 Unavailable", healthcheck.IDServers, c.Status, c.Summary, c.Evidence)
	}
}

// watchAdopted runs watch (warn mode, the healthcheck on every Neo4j
// poll) until its first health run, and reads the exported checks: the
// Pods', claims', StatefulSets' and servers' must be PASS (0). Then a
// value neo4jctl took over from helm in a ConfigMap of the chart is
// patched (a key it does not own would be no drift under server-side
// apply): watch's informers must see it (the
// chart's objects carry no neo4jctl.io/cluster label) and report the
// drift, which its Neo4j polls alone never would (they re-observe only
// objects an informer saw change).
func watchAdopted(t *testing.T, a *adopted) {
	t.Helper()
	w := a.startNeo4jctl("watch", "-f", a.file, "-o", "json", "--mode", "warn", "--metrics-addr", "127.0.0.1:0",
		"--interval", "2s", "--health-interval", "1s", "--debounce", "100ms")
	defer func() {
		if w.cmd.Process != nil {
			_ = w.cmd.Process.Kill()
		}
		w.wait()
	}()
	events := func() []dwatch.Event {
		var out []dwatch.Event
		sc := bufio.NewScanner(strings.NewReader(w.out.String()))
		sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
		for sc.Scan() {
			var e dwatch.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Type != "" {
				out = append(out, e)
			}
		}
		return out
	}
	// waitEvent returns the first event ok accepts, within d.
	waitEvent := func(what string, d time.Duration, ok func(dwatch.Event) bool) dwatch.Event {
		t.Helper()
		for deadline := time.Now().Add(d); ; {
			for _, e := range events() {
				if ok(e) {
					return e
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("watch: no %s in %s:\n%s", what, d, w.out.String())
			}
			select {
			case <-w.done:
				t.Fatalf("watch ended (exit %d) before %s:\n%s", w.code, what, w.out.String())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	addr := waitEvent("serving event", time.Minute, func(e dwatch.Event) bool { return e.Type == "serving" }).Addr
	health := waitEvent("health run", 2*time.Minute, func(e dwatch.Event) bool { return e.Type == "health" })
	t.Logf("watch: %s", health.Message)
	for _, check := range []string{healthcheck.IDPods, healthcheck.IDClaims, healthcheck.IDRollout, healthcheck.IDServers} {
		series := dwatch.MetricHealthCheck + `{check="` + check + `",cluster="` + a.ns + `/prod"}`
		if got := scrapeMetric(t, addr, series); got != "0" {
			t.Errorf("watch exports %s = %q, want 0 (PASS); its first health run: %s", series, got, health.Message)
		}
	}
	waitEvent("first reconcile", time.Minute, func(e dwatch.Event) bool { return e.Type == "in-sync" })

	if res := a.kubectl(nil, "patch", "configmap", "server-2-user-config", "--type=merge", "-p", `{"data":{"server.config.strict_validation.enabled":"true"}}`); res.code != 0 {
		t.Fatalf("kubectl patch:\n%s", res)
	}
	addrCM := "k8s:core/ConfigMap/" + a.ns + "/server-2-user-config"
	waitEvent("drift event naming "+addrCM, 30*time.Second, func(e dwatch.Event) bool {
		return e.Type == "drift" && slices.Contains(e.Addresses, addrCM)
	})
}

// scrapeMetric reads one series' value from a /metrics page ("" if absent).
func scrapeMetric(t *testing.T, addr, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + `\s+(\S+)$`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// bundleFile returns one file of a report bundle (.tar.gz).
func bundleFile(t *testing.T, path, name string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("the bundle has no %s", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name || strings.HasSuffix(h.Name, "/"+name) {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestAdoptedHelmStandaloneCommunityRealNeo4j adopts a standalone release
// of the official chart (Community Edition) whose Pod reaches a real Neo4j
// Community 5.26 server (e2e/neo4jreal; kwok forwards the Pod's Bolt port
// to it): import reads Neo4j's own view, the first plan only takes the
// chart's objects over (no value change, no Neo4j step), apply, and the
// plan after it is empty, every time with the real server observed.
//
// The chart sets the servers' advertised addresses only for a cluster
// (neo4j.minimumClusterSize ≥ 3, templates/neo4j-config.yaml), so a
// standalone server advertises the default, localhost:7687 (Operations
// Manual 5.26, configuration/configuration-settings.adoc,
// server.default_advertised_address: localhost). Community is reached
// with bolt:// (direct, no routing table), so the advertised address never
// matters here.
func TestAdoptedHelmStandaloneCommunityRealNeo4j(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	c := &cluster{t: t, env: env, ns: ns, name: "solo", dir: t.TempDir(), password: "pw-" + randomHex(t, 12)}
	c.file = filepath.Join(c.dir, "solo.yaml")
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: c.password})
	if srv == nil {
		return
	}
	// The chart's image names the version the real server runs (5.26.30):
	// plan refuses an image older than the running server (a downgrade).
	realVersion := srv.Version
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := env.PortForward(ctx, ns, "graph-0", 7687, listenPort(srv.BoltURI)); err != nil {
		t.Fatal(err)
	}
	out, err := helmtool.Run(t, env.Kubeconfig, "install", "graph", chart, "-n", ns,
		"--set", "neo4j.name=solo", "--set", "neo4j.edition=community", "--set", "image.customImage=neo4j:"+realVersion,
		"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password="+c.password)
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "Pod graph-0 Ready", func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "graph-0", metav1.GetOptions{})
		return err == nil && podReady(p)
	})

	res := c.neo4jctl("import", "--helm-release", "graph", "-n", ns, "-o", c.file)
	if res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	data, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported:\n%s", data)
	if strings.Contains(string(data)+res.stdout+res.stderr, c.password) {
		t.Fatal("the password appears in the cluster file or import's output")
	}
	if strings.Contains(string(data), "databases were not imported") {
		t.Errorf("import did not read the real server:\n%s", data)
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "solo-password"},
		StringData: map[string]string{"password": c.password},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	p, res := c.plan()
	if res.code != 2 || p.Incomplete || len(p.Refusals) > 0 {
		t.Fatalf("first plan: want exit 2 (objects to take over), Neo4j observed, no refusal\n%s", res)
	}
	for _, s := range p.Steps {
		if s.Reason != plan.TakeOverReason {
			t.Errorf("first plan step %s %s %s: %q, want only take-overs from helm", s.ID, s.Action, s.Address, s.Reason)
		}
	}
	for _, ch := range p.Changes {
		if len(ch.FieldDiffs) > 0 {
			t.Errorf("first plan changes values of %s: %+v", ch.Address, ch.FieldDiffs)
		}
	}
	c.converge()
	code, checks, res := (&adopted{cluster: c, cs: cs}).healthcheck()
	if code != exitHealthy {
		t.Errorf("healthcheck of the adopted standalone: exit %d\n%s", code, res)
	}
	if ch := checks[healthcheck.IDPods]; ch.Status != healthcheck.Pass {
		t.Errorf("healthcheck %s: %s %q %q, want PASS", ch.ID, ch.Status, ch.Summary, ch.Evidence)
	}
}
