package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/e2e/helmtool"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/plan"
)

// TestImportHelmStandalone installs the official chart with real helm on
// the local control plane, imports the release and checks that validate
// accepts the cluster file; the chart's default image (5.17) is refused
// with "upgrade to 5.26 first" and nothing is written.
func TestImportHelmStandalone(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and helm (integration)")
	}
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	const password = "import-s3cret-pw"

	install := func(release string, extra ...string) {
		t.Helper()
		args := append([]string{"install", release, chart, "-n", ns,
			"--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
			"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password=" + password}, extra...)
		if out, err := helmtool.Run(t, env.Kubeconfig, args...); err != nil {
			t.Fatalf("helm install %s: %v\n%s", release, err, out)
		}
	}
	install("standalone", "--set", "neo4j.name=graph1", "--set", "image.customImage=neo4j:5.26.0-enterprise",
		"--set", "neo4j.resources.memory=3Gi", "--set", `config.db\.logs\.query\.enabled=INFO`)

	file := filepath.Join(t.TempDir(), "graph1.yaml")
	code, stdout, stderr := runApplyCLI(t, env, "import", "--helm-release", "standalone", "-n", ns, "-o", file, "--skip-neo4j")
	if code != 0 {
		t.Fatalf("import: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name: "graph1"`, `version: "5.26.0"`, `memory: "3Gi"`, `db.logs.query.enabled: "INFO"`, "# podSpec.terminationGracePeriodSeconds = 3600"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("cluster file lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data)+stdout+stderr, password) {
		t.Errorf("the chart's password appears in the cluster file or the output")
	}
	t.Logf("imported:\n%s", data)
	code, stdout, stderr = runApplyCLI(t, env, "validate", "-f", file)
	if code != 0 {
		t.Fatalf("validate of the imported file: exit %d\n%s%s\nfile:\n%s", code, stdout, stderr, data)
	}

	// The chart's default image is Neo4j 5.17: refused, nothing written.
	install("old", "--set", "neo4j.name=graph2")
	refused := filepath.Join(t.TempDir(), "graph2.yaml")
	code, _, stderr = runApplyCLI(t, env, "import", "--helm-cluster", "graph2", "-n", ns, "-o", refused, "--skip-neo4j")
	if code == 0 || !strings.Contains(stderr, "upgrade to 5.26 first") || !strings.Contains(stderr, "image.customImage") {
		t.Errorf("import of the 5.17 default: exit %d, stderr:\n%s\nwant a refusal naming image.customImage and saying upgrade to 5.26 first", code, stderr)
	}
	t.Logf("refusal:\n%s", stderr)
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote %s", refused)
	}
}

// TestImportHelmThreeReleases: the chart installs a three-server cluster
// as three releases of one neo4j.name; --helm-cluster finds them all and
// they become one cluster file of three servers.
func TestImportHelmThreeReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and helm (integration)")
	}
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	for _, r := range []string{"server-1", "server-2", "server-3"} {
		out, err := helmtool.Run(t, env.Kubeconfig, "install", r, chart, "-n", ns,
			"--set", "neo4j.name=prod", "--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
			"--set", "neo4j.minimumClusterSize=3", "--set", "image.customImage=neo4j:5.26.0-enterprise",
			"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password=three-s3cret-pw")
		if err != nil {
			t.Fatalf("helm install %s: %v\n%s", r, err, out)
		}
	}
	// Neo4j's own view comes from the simulator (real Bolt); the password
	// is read from the chart's Secret (NEO4J_AUTH=neo4j/<password>).
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: 3, Password: "three-s3cret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	file := filepath.Join(t.TempDir(), "prod.yaml")
	code, stdout, stderr := runApplyCLI(t, env, "import", "--helm-cluster", "prod", "-n", ns, "-o", file, "--neo4j-uri", sim.URI("bolt"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"servers: 3", "systemPrimaries: 3", "one server per release: server-1, server-2, server-3", "databases:\n    - name: \"neo4j\""} {
		if !strings.Contains(string(data), want) {
			t.Errorf("cluster file lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data)+stdout+stderr, "three-s3cret-pw") {
		t.Errorf("the password appears in the file or the output")
	}
	if strings.Contains(string(data), "allowSmallCluster") {
		t.Errorf("three servers need no allowSmallCluster:\n%s", data)
	}
	if code, stdout, stderr = runApplyCLI(t, env, "validate", "-f", file); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s\n%s", code, stdout, stderr, data)
	}
	// Two of the three named: the third is missing and import says so.
	code, _, stderr = runApplyCLI(t, env, "import", "--helm-release", "server-1", "--helm-release", "server-2", "-n", ns, "-o", filepath.Join(t.TempDir(), "two.yaml"), "--skip-neo4j")
	if code == 0 || !strings.Contains(stderr, "neo4j.minimumClusterSize") {
		t.Errorf("import of two of three releases: exit %d, stderr:\n%s\nwant the minimumClusterSize refusal", code, stderr)
	}
}

// TestImportHelmAdoptInPlace installs the chart with real helm, imports the
// release (layout: helm) and plans: the only steps take the objects over
// from helm, with no value changed, and the chart's other objects are
// listed as kept. apply takes them over without restarting the Pod or
// touching its claim, and the next plan has nothing to do. A config change
// then rolls the Pod through the chart's checksum; the claim stays.
func TestImportHelmAdoptInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local control plane and helm (integration)")
	}
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	ctx := context.Background()
	out, err := helmtool.Run(t, env.Kubeconfig, "install", "graph1", chart, "-n", ns,
		"--set", "neo4j.name=graph1", "--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
		"--set", "image.customImage=neo4j:5.26.0-enterprise", "--set", "volumes.data.mode=defaultStorageClass",
		"--set", "neo4j.password=adopt-s3cret-pw")
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	cs := kubernetes.NewForConfigOrDie(env.RESTConfig())
	uids := func() (pod, claim string) {
		t.Helper()
		var p *corev1.Pod
		deadline := time.Now().Add(90 * time.Second)
		for {
			p, err = cs.CoreV1().Pods(ns).Get(ctx, "graph1-0", metav1.GetOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Pod graph1-0: %v", err)
			}
			time.Sleep(time.Second)
		}
		c, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-graph1-0", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim data-graph1-0: %v", err)
		}
		return string(p.UID), string(c.UID)
	}
	podBefore, claimBefore := uids()

	file := filepath.Join(t.TempDir(), "graph1.yaml")
	if code, stdout, stderr := runApplyCLI(t, env, "import", "--helm-release", "graph1", "-n", ns, "-o", file, "--skip-neo4j"); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "adopt-s3cret-pw") || strings.Contains(string(data), "YWRvcHQtczNjcmV0LXB3") {
		t.Fatalf("the cluster file holds the chart's password")
	}

	code, stdout, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "-o", "json", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("first plan: exit %d, want 2 (objects to take over)\n%s%s", code, stdout, stderr)
	}
	var p struct {
		Changes []struct {
			Address    string
			Actions    []string
			Reason     string
			FieldDiffs []any `json:"field_diffs"`
		} `json:"changes"`
		Warnings []string `json:"warnings"`
		Refusals []any    `json:"refusals"`
	}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, stdout)
	}
	if len(p.Refusals) != 0 {
		t.Fatalf("refusals: %v", p.Refusals)
	}
	taken := 0
	for _, c := range p.Changes {
		if c.Reason != plan.TakeOverReason || len(c.FieldDiffs) != 0 {
			t.Errorf("change %v %s: %q with %d field change(s), want only take-overs without changes", c.Actions, c.Address, c.Reason, len(c.FieldDiffs))
		}
		taken++
	}
	// A standalone release: 1 StatefulSet, 2 Services (no -internals), 6
	// ConfigMaps.
	if taken != 9 {
		t.Errorf("got %d take-overs, want 9\n%s", taken, stdout)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "k8s:core/Service/"+ns+"/graph1-lb-neo4j") || !strings.Contains(w, "never deleted") {
		t.Errorf("warnings do not list the kept objects: %s", w)
	}
	t.Logf("first plan (human):\n%s", func() string { _, o, _ := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j"); return o }())

	// Neo4j's own view, from the simulator following the release's Pod as
	// the chart runs it: a standalone's ConfigMaps set no advertised
	// address, so SHOW SERVERS reports localhost:7687. Its one server is
	// the one Pod's: no Neo4j step, and the plan says how it mapped them.
	sim := followRelease(t, env, ns, "graph1", "adopt-s3cret-pw")
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "graph1-password"},
		StringData: map[string]string{"password": "adopt-s3cret-pw"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if srv := sim.Servers(); len(srv) != 1 || srv[0].Advertised != "localhost:7687" {
		t.Fatalf("SHOW SERVERS of the chart's standalone: %+v, want one server at localhost:7687", srv)
	}
	planNeo4j := func(what string, wantCode int) {
		t.Helper()
		code, stdout, stderr := runApplyCLI(t, env, "plan", "-f", file, "-o", "json", "--detailed-exitcode")
		if code != wantCode {
			t.Fatalf("%s with Neo4j: exit %d, want %d\n%s%s", what, code, wantCode, stdout, stderr)
		}
		p.Changes, p.Warnings, p.Refusals = nil, nil, nil
		if err := json.Unmarshal([]byte(stdout), &p); err != nil {
			t.Fatalf("plan JSON: %v\n%s", err, stdout)
		}
		for _, c := range p.Changes {
			if strings.HasPrefix(c.Address, "neo4j:") {
				t.Errorf("%s: Neo4j step %v %s (%s), want none: the one server is the one Pod's", what, c.Actions, c.Address, c.Reason)
			}
		}
		w := strings.Join(p.Warnings, "\n")
		if len(p.Refusals) != 0 || strings.Contains(w, "not a Pod of this cluster") || !strings.Contains(w, "taken as the server of Pod graph1-0") {
			t.Errorf("%s: refusals %v, warnings:\n%s\nwant the server mapped to graph1-0, said so", what, p.Refusals, w)
		}
	}
	planNeo4j("first plan", 2)

	if code, stdout, stderr = runApplyCLI(t, env, "apply", "-f", file, "--skip-neo4j", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr = runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--detailed-exitcode"); code != 0 || !strings.Contains(stdout, "No changes") {
		t.Fatalf("plan after apply: exit %d, want 0 and No changes\n%s%s", code, stdout, stderr)
	}
	planNeo4j("plan after apply", 0)
	sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "graph1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]bool{}
	for _, m := range sts.ManagedFields {
		managers[m.Manager+"/"+string(m.Operation)] = true
	}
	if !managers["neo4jctl/Apply"] {
		t.Errorf("StatefulSet managers %v: neo4jctl does not manage it", managers)
	}
	if pod, claim := uids(); pod != podBefore || claim != claimBefore {
		t.Errorf("Pod/claim uid changed by taking over: %s/%s → %s/%s", podBefore, claimBefore, pod, claim)
	}
	if _, err := cs.CoreV1().Services(ns).Get(ctx, "graph1-lb-neo4j", metav1.GetOptions{}); err != nil {
		t.Errorf("the chart's load-balancer Service: %v (kept, never deleted)", err)
	}

	// A setting change: the user config and the chart's checksum change
	// (a rolling restart of the one Pod); the claim is the same.
	edited := strings.Replace(string(data), "\n  layout: \"helm\"", "\n  layout: \"helm\"\n  config:\n    db.logs.query.enabled: \"INFO\"", 1)
	if edited == string(data) {
		t.Fatalf("could not add a setting to:\n%s", data)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "db.logs.query.enabled") || !strings.Contains(stdout, "checksum/graph1-config") {
		t.Fatalf("plan of a setting: exit %d, want 2 with the setting and the chart's checksum\n%s%s", code, stdout, stderr)
	}

	// --forget-helm-release after an apply with nothing to do: helm no
	// longer lists the release; the cluster is untouched.
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr = runApplyCLI(t, env, "apply", "-f", file, "--skip-neo4j", "--auto-approve", "--forget-helm-release"); code != 0 || !strings.Contains(stderr, "sh.helm.release.v1.graph1.v1") {
		t.Fatalf("apply --forget-helm-release: exit %d, want 0 naming the deleted record\n%s%s", code, stdout, stderr)
	}
	t.Logf("forget: %s", stderr)
	if out, err := helmtool.Run(t, env.Kubeconfig, "list", "-n", ns, "-a", "-q"); err != nil || strings.Contains(out, "graph1") {
		t.Errorf("helm list after --forget-helm-release: %v\n%q, want no graph1", err, out)
	}
	if pod, claim := uids(); pod != podBefore || claim != claimBefore {
		t.Errorf("Pod/claim uid changed by forgetting the release: %s/%s → %s/%s", podBefore, claimBefore, pod, claim)
	}
	for _, name := range []string{"graph1-user-config", "graph1-env"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("ConfigMap %s after forgetting the release: %v", name, err)
		}
	}
	if _, err := cs.CoreV1().Secrets(ns).Get(ctx, "graph1-auth", metav1.GetOptions{}); err != nil {
		t.Errorf("the chart's auth Secret after forgetting the release: %v (only release records go)", err)
	}
	if code, stdout, stderr = runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--detailed-exitcode"); code != 0 {
		t.Errorf("plan after forgetting: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
}

// followRelease starts a simulator (real Bolt, password pw) that follows
// the Pod of Helm release r as the chart runs it, port-forwarded from the
// Pod's Bolt port, and waits for its server to be Enabled.
func followRelease(t *testing.T, env *testenv.Env, ns, r, pw string) *neo4jsim.Simulator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: -1, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	opts := neo4jsim.FollowOptions{Namespace: ns, StatefulSet: r, InitialMembers: 1,
		OnListen: func(pod *corev1.Pod, server neo4jsim.ServerInfo) {
			_, port, _ := strings.Cut(server.Listen, ":")
			n, _ := strconv.Atoi(port)
			for attempt := 0; attempt < 50 && ctx.Err() == nil; attempt++ {
				if err := env.PortForward(ctx, ns, pod.Name, 7687, n); err == nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}}
	if err := sim.FollowStatefulSet(ctx, env.RESTConfig(), opts); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		srv := sim.Servers()
		if len(srv) == 1 && srv[0].State == neo4jsim.StateEnabled && srv[0].Health == "Available" {
			return sim
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulator's server for %s never became Enabled and Available: %+v", r, srv)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
