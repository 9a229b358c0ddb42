package suites

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/helmtool"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/plan"
)

// helmReleases are the three releases of one chart cluster, one server
// each, as the chart's documentation installs a cluster.
var helmReleases = []string{"server-1", "server-2", "server-3"}

// TestHelmAdoptThreeServers installs a three-server cluster with the
// official chart (three releases, real helm) on the local control plane,
// with the simulator following the chart's Pods, and adopts it with the
// built binary: import; plan takes the chart's objects over without a
// value change and no Neo4j step; apply; plan is empty; no Pod, claim or
// server changed. Then ordinary work: a setting change rolls one server at
// a time, drift sees an out-of-band edit, and --forget-helm-release drops
// Helm's records (helm list is empty) leaving the cluster untouched.
func TestHelmAdoptThreeServers(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	chart := helmtool.Chart(t)
	helmtool.Path(t)
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	c := &cluster{t: t, env: env, ns: ns, name: "prod", dir: t.TempDir(), password: "pw-" + randomHex(t, 12)}
	c.file = filepath.Join(c.dir, "prod.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}

	installChartCluster(t, env, chart, ns, c.password)

	// The simulator follows each release's StatefulSet; the chart's three
	// servers are all system primaries and form the cluster together.
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: -1, Password: c.password, DefaultPrimaries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
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
	waitFor(t, time.Minute, "three Enabled servers", func() bool {
		n := 0
		for _, s := range sim.Servers() {
			if s.State == neo4jsim.StateEnabled && s.Health == "Available" {
				n++
			}
		}
		return n == 3
	})
	serversBefore := serverIDs(sim)
	for _, s := range sim.Servers() {
		if !strings.HasSuffix(strings.Split(s.Advertised, ":")[0], "."+ns+".svc.cluster.local") || strings.Count(s.Advertised, ".") != 4 {
			t.Errorf("server %s advertises %s, want its release's Service (the chart's address)", s.ID, s.Advertised)
		}
	}
	uidsBefore := helmUIDs(t, c)

	// import reads the releases, the StatefulSets and Neo4j (through a
	// port-forward to server-1-0, with the chart's password).
	if res := c.neo4jctl("import", "--helm-cluster", "prod", "-n", ns, "-o", c.file); res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	data, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), c.password) {
		t.Fatal("the cluster file holds the password")
	}
	// The Secret neo4jctl reads the password from, as the file's comment
	// says to create it.
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-password"},
		StringData: map[string]string{"password": c.password},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	p, res := c.plan()
	if res.code != 2 || len(p.Refusals) > 0 {
		t.Fatalf("first plan: want exit 2 (objects to take over), no refusal\n%s", res)
	}
	for _, s := range p.Steps {
		if s.Reason != plan.TakeOverReason {
			t.Errorf("first plan step %s %s %s: %q, want only take-overs from helm (no value change, no Neo4j step)", s.ID, s.Action, s.Address, s.Reason)
		}
	}
	for _, ch := range p.Changes {
		if len(ch.FieldDiffs) > 0 {
			t.Errorf("first plan changes values of %s: %+v", ch.Address, ch.FieldDiffs)
		}
	}
	if len(p.Steps) != 3*10 {
		t.Errorf("first plan: %d steps, want 30 (per release a StatefulSet, 3 Services, 6 ConfigMaps)", len(p.Steps))
	}
	human := c.neo4jctl(c.planeFlags("plan", "-f", c.file)...)
	t.Logf("first plan:\n%s", human.stdout)
	if !strings.Contains(human.stdout, "takes over fields from helm") || !strings.Contains(human.stdout, "never deleted") {
		t.Errorf("the human plan does not say it takes over from helm and lists the kept objects:\n%s", human.stdout)
	}

	c.converge()
	if got := helmUIDs(t, c); !equalStrings(got, uidsBefore) {
		t.Errorf("Pod and claim UIDs changed by adopting:\nbefore %v\nafter  %v", uidsBefore, got)
	}
	if got := serverIDs(sim); !equalStrings(got, serversBefore) {
		t.Errorf("SHOW SERVERS changed by adopting:\nbefore %v\nafter  %v", serversBefore, got)
	}

	// A restart setting rolls the three servers one at a time (each its
	// own StatefulSet); claims and servers stay.
	edited := strings.Replace(string(data), "\n  layout: \"helm\"", "\n  layout: \"helm\"\n  config:\n    server.bolt.thread_pool_max_size: \"300\"", 1)
	if err := os.WriteFile(c.file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	maxDown, stop := watchNotReady(t, c)
	res = c.apply("--step-timeout", "60s")
	stop()
	if res.code != 0 {
		t.Fatalf("apply of a setting:\n%s", res)
	}
	t.Logf("apply of a setting:\n%s", res.stdout)
	if strings.Contains(res.stdout, "system secondaries") {
		t.Errorf("the roll warns of system modes neo4jctl does not render for the chart's servers:\n%s", res.stdout)
	}
	if *maxDown > 1 {
		t.Errorf("%d servers were down at once during the roll, want one at a time", *maxDown)
	}
	c.requireEmptyPlan()
	for _, r := range helmReleases {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, r+"-user-config", metav1.GetOptions{})
		if err != nil || cm.Data["server.bolt.thread_pool_max_size"] != "300" {
			t.Errorf("%s-user-config: %v %v, want the setting", r, err, cm.Data)
		}
	}
	if got := serverIDs(sim); !equalStrings(got, serversBefore) {
		t.Errorf("SHOW SERVERS changed by the roll:\nbefore %v\nafter  %v", serversBefore, got)
	}
	rolled := helmUIDs(t, c)
	for i := range rolled {
		was, now := uidsBefore[i], rolled[i]
		if strings.HasPrefix(now, "Pod/") == (was == now) {
			t.Errorf("after the roll %s (before %s): every Pod is new, every claim the same", now, was)
		}
	}

	// drift sees an out-of-band edit of an adopted object.
	if res := c.kubectl(nil, "patch", "configmap", "server-2-user-config", "--type=merge", "-p", `{"data":{"server.bolt.thread_pool_max_size":"10"}}`); res.code != 0 {
		t.Fatalf("kubectl patch:\n%s", res)
	}
	res = c.neo4jctl(c.planeFlags("drift", "-f", c.file)...)
	if res.code != 2 || !strings.Contains(res.stdout, "server-2-user-config") {
		t.Errorf("drift after an out-of-band edit: want exit 2 naming server-2-user-config\n%s", res)
	}
	c.converge()

	// --forget-helm-release: only Helm's records go.
	uidsBefore = helmUIDs(t, c)
	if res := c.apply("--forget-helm-release"); res.code != 0 || !strings.Contains(res.stderr, "sh.helm.release.v1.server-3.v1") {
		t.Fatalf("apply --forget-helm-release:\n%s", res)
	}
	if out, err := helmtool.Run(t, env.Kubeconfig, "list", "-n", ns, "-a", "-q"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("helm list after --forget-helm-release: %v %q, want no release", err, out)
	}
	if got := helmUIDs(t, c); !equalStrings(got, uidsBefore) {
		t.Errorf("Pod and claim UIDs changed by forgetting the releases:\nbefore %v\nafter  %v", uidsBefore, got)
	}
	c.requireEmptyPlan()
}

// helmUIDs lists "kind/name=uid" of the chart's Pods and data claims.
func helmUIDs(t *testing.T, c *cluster) []string {
	t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range helmReleases {
		var pod *corev1.Pod
		waitFor(t, time.Minute, "Pod "+r+"-0", func() bool {
			pod, err = cs.CoreV1().Pods(c.ns).Get(context.Background(), r+"-0", metav1.GetOptions{})
			return err == nil && pod.DeletionTimestamp == nil
		})
		pvc, err := cs.CoreV1().PersistentVolumeClaims(c.ns).Get(context.Background(), "data-"+r+"-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "Pod/"+pod.Name+"="+string(pod.UID), "PersistentVolumeClaim/"+pvc.Name+"="+string(pvc.UID))
	}
	sort.Strings(out)
	return out
}

// serverIDs is SHOW SERVERS as the simulator holds it: id, address, state.
func serverIDs(sim *neo4jsim.Simulator) []string {
	var out []string
	for _, s := range sim.Servers() {
		out = append(out, fmt.Sprintf("%s %s %s", s.ID, s.Advertised, s.State))
	}
	sort.Strings(out)
	return out
}

// watchNotReady samples the chart's Pods until stop and records the most
// that were not Ready (or missing) at once.
func watchNotReady(t *testing.T, c *cluster) (*int, func()) {
	cs, err := c.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	most := new(int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			pods, err := cs.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "helm.neo4j.com/neo4j.name=prod"})
			if err != nil {
				continue
			}
			ready := 0
			for _, p := range pods.Items {
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
						ready++
					}
				}
			}
			if down := len(helmReleases) - ready; down > *most {
				*most = down
			}
		}
	}()
	return most, func() { close(done); wg.Wait() }
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func listenPort(hostport string) int {
	var p int
	fmt.Sscanf(hostport[strings.LastIndex(hostport, ":")+1:], "%d", &p)
	return p
}

// installChartCluster installs the official chart as the three releases of
// one Enterprise cluster "prod" on 5.26.0 (the chart's own 5.17 default is
// below neo4jctl's floor), as the import tests adopt it.
func installChartCluster(t *testing.T, env *testenv.Env, chart, ns, password string) {
	t.Helper()
	for _, r := range helmReleases {
		out, err := helmtool.Run(t, env.Kubeconfig, "install", r, chart, "-n", ns,
			"--set", "neo4j.name=prod", "--set", "neo4j.edition=enterprise", "--set", "neo4j.acceptLicenseAgreement=yes",
			"--set", "neo4j.minimumClusterSize=3", "--set", "image.customImage=neo4j:5.26.0-enterprise",
			"--set", "volumes.data.mode=defaultStorageClass", "--set", "neo4j.password="+password)
		if err != nil {
			t.Fatalf("helm install %s: %v\n%s", r, err, out)
		}
	}
}
