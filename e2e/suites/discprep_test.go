package suites

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/helmtool"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestHelmClusterPreparesDiscoveryV2 follows a cluster made by the
// official Helm chart (5.17 chart, 5.26.0 image: discovery v1, with
// dbms.kubernetes.service_port_name and no v2 setting) and adopted with
// spec.layout: helm through the Operations Manual 5.x's "Moving from
// discovery service v1 to v2" (clustering/setup/discovery.adoc) with the
// built binary:
//
//   - spec.version 2025.10.1 is refused, the fix naming the exact line
//     for spec.config (dbms.kubernetes.discovery.v2.service_port_name:
//     tcp-tx, the chart's cluster port) and the two applies;
//   - phase 1, that line with the version unchanged: the plan is a roll
//     marked "phase 1 of 2", no discovery move; apply restarts one
//     server at a time; they still run V1_ONLY;
//   - phase 2, dbms.cluster.discovery.version: V2_ONLY: three moveToNextDiscoveryVersion calls, each followed by
//     showParallelDiscoveryState on every server, before any Pod goes;
//     then the roll one server at a time, each followed by the check
//     that every server runs V2_ONLY; at the end every server reports
//     V2_ONLY, and the plan is empty.
func TestHelmClusterPreparesDiscoveryV2(t *testing.T) {
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
	sim, err := neo4jsim.Start(neo4jsim.Config{Servers: -1, Password: c.password, DefaultPrimaries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c.sim = &harness.Sim{Simulator: sim}
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
	if res := c.neo4jctl("import", "--helm-cluster", "prod", "-n", ns, "-o", c.file); res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-password"},
		StringData: map[string]string{"password": c.password},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	c.spec = doc
	c.converge()
	modes := c.discoveryModes()
	for name, m := range modes {
		if m != "V1_ONLY" {
			t.Fatalf("after adoption %s runs discovery %q, want the chart's V1_ONLY (%v)", name, m, modes)
		}
	}

	// A calendar version: refused, the fix says what to write.
	c.edit(func(doc map[string]any) { setPath(doc, "2025.10.1", "spec", "version") })
	p, res := c.plan()
	if res.code != 1 || len(p.Refusals) == 0 {
		t.Fatalf("plan 5.26.0 (v1, unprepared) → 2025.10.1: want a refusal (exit 1)\n%s", res)
	}
	fix := p.Refusals[0].Fix
	for _, want := range []string{"keep spec.version on 5.26.0", "dbms.kubernetes.discovery.v2.service_port_name: tcp-tx", "Phase 1", "Phase 2"} {
		if !strings.Contains(fix, want) {
			t.Errorf("the refusal's fix does not say %q: %s", want, fix)
		}
	}
	t.Logf("refusal: %s\nfix: %s", p.Refusals[0].Reason, fix)

	// Phase 1: the user does what the fix says.
	c.edit(func(doc map[string]any) {
		setPath(doc, "5.26.0", "spec", "version")
		setPath(doc, "tcp-tx", "spec", "config", "dbms.kubernetes.discovery.v2.service_port_name")
	})
	p, res = c.plan()
	if res.code != 2 || len(p.Refusals) > 0 {
		t.Fatalf("phase 1 plan: want exit 2 and no refusal\n%s", res)
	}
	rolls := 0
	for _, s := range p.Steps {
		switch {
		case s.Kind == "discovery-move":
			t.Errorf("phase 1 plans a discovery move: %s", s.Reason)
		case s.Kind == "rolling-update" && s.Rollout != nil && s.Rollout.Servers:
			rolls++
			if !strings.Contains(s.Reason, "phase 1 of 2") {
				t.Errorf("roll of %v does not say it is phase 1 of the move: %s", s.Rollout.Pods, s.Reason)
			}
		}
	}
	if rolls != 3 {
		t.Fatalf("phase 1 plan has %d server rolls, want 3 (one per release)\n%s", rolls, res.stdout)
	}
	maxDown, stop := watchNotReady(t, c)
	res = c.apply("--step-timeout", "60s")
	stop()
	if res.code != 0 {
		t.Fatalf("phase 1 apply:\n%s", res)
	}
	if *maxDown > 1 {
		t.Errorf("%d servers down at once in phase 1, want one at a time", *maxDown)
	}
	c.requireEmptyPlan()
	if modes := c.discoveryModes(); !allEqual(modes, "V1_ONLY") {
		t.Errorf("after phase 1 the servers run %v, want V1_ONLY everywhere (prepared, not moved)", modes)
	}

	// Phase 2: the move, then the roll onto V2_ONLY. The version stays:
	// the upgrade-verify of a Helm-layout roll does not yet map the
	// chart's servers to its Pods (their addresses are the releases'
	// Services), which is the Pod mapping's business, not discovery's.
	c.edit(func(doc map[string]any) {
		setPath(doc, "V2_ONLY", "spec", "config", "dbms.cluster.discovery.version")
	})
	p, res = c.plan()
	if res.code != 2 || len(p.Refusals) > 0 {
		t.Fatalf("phase 2 plan: want exit 2 and no refusal\n%s", res)
	}
	var order []string
	for _, s := range p.Steps {
		switch s.Kind {
		case "discovery-move", "discovery-verify", "upgrade-preflight", "upgrade-verify":
			order = append(order, s.Kind)
		case "rolling-update":
			order = append(order, "roll")
		}
	}
	// Three moves, then per release: pre-flight, roll, its version and
	// discovery checks.
	want := []string{"discovery-move", "discovery-move", "discovery-move"}
	for range helmReleases {
		want = append(want, "roll", "discovery-verify")
	}
	if !slices.Equal(order, want) {
		t.Fatalf("phase 2 steps:\n got %q\nwant %q\n%s", order, want, res.stdout)
	}
	mark := len(sim.Log())
	before := helmUIDs(t, c)
	maxDown, stop = watchNotReady(t, c)
	res = c.apply("--step-timeout", "60s")
	stop()
	if res.code != 0 {
		t.Fatalf("phase 2 apply:\n%s", res)
	}
	if *maxDown > 1 {
		t.Errorf("%d servers down at once in phase 2, want one at a time", *maxDown)
	}
	var moves []time.Time
	checksAfter := map[int]int{}
	for _, st := range sim.Log()[mark:] {
		q := strings.ToLower(st.Query)
		switch {
		case strings.Contains(q, "movetonextdiscoveryversion"):
			moves = append(moves, st.Time)
		case strings.Contains(q, "showparalleldiscoverystate"):
			checksAfter[len(moves)]++
		}
	}
	if len(moves) != 3 {
		t.Fatalf("phase 2: %d moveToNextDiscoveryVersion calls, want 3", len(moves))
	}
	for i := 1; i <= 3; i++ {
		if checksAfter[i] < 3 {
			t.Errorf("after move %d: %d showParallelDiscoveryState calls, want one per server at least", i, checksAfter[i])
		}
	}
	// Every Pod is new, and none started before the last move.
	after := helmUIDs(t, c)
	for _, r := range helmReleases {
		pod, err := cs.CoreV1().Pods(ns).Get(ctx, r+"-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pod.CreationTimestamp.Time.Before(moves[2].Truncate(time.Second)) {
			t.Errorf("Pod %s was created at %s, before the last discovery move (%s)", pod.Name, pod.CreationTimestamp, moves[2])
		}
	}
	if slices.Equal(before, after) {
		t.Errorf("phase 2 restarted no Pod")
	}
	if modes := c.discoveryModes(); !allEqual(modes, "V2_ONLY") {
		t.Errorf("after phase 2 the servers run %v, want V2_ONLY everywhere", modes)
	}
	if vs := c.serverVersions(); vs["5.26.0"] != 3 || len(vs) != 1 {
		t.Errorf("after phase 2 the servers report %v, want 3 × 5.26.0", vs)
	}
	c.requireEmptyPlan()

	// Then an ordinary patch upgrade of the adopted cluster: its servers
	// advertise their release's Service, not the Pod's name, and the
	// upgrade's closing check must still find each of them.
	c.edit(func(doc map[string]any) { setPath(doc, "5.26.1", "spec", "version") })
	if res := c.apply("--step-timeout", "60s"); res.code != 0 {
		t.Fatalf("upgrade 5.26.0 → 5.26.1 of the adopted cluster:\n%s", res)
	}
	if vs := c.serverVersions(); vs["5.26.1"] != 3 || len(vs) != 1 {
		t.Errorf("after the upgrade the servers report %v, want 3 × 5.26.1", vs)
	}
	c.requireEmptyPlan()
}

// allEqual says whether every value of m is want (and m is not empty).
func allEqual(m map[string]string, want string) bool {
	for _, v := range m {
		if v != want {
			return false
		}
	}
	return len(m) > 0
}
