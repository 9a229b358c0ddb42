package suites

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// discoveryModes reads each server's CALL
// dbms.cluster.showParallelDiscoveryState() over a direct connection, as
// apply does, keyed by server name.
func (c *cluster) discoveryModes() map[string]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: c.password,
		Resolver: neo4j.MapResolver(c.sim.AddressMap())})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close(ctx)
	servers, err := cl.Servers(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range servers {
		st, err := cl.DiscoveryState(ctx, s.Address)
		if err != nil {
			out[s.Name] = "error: " + err.Error()
			continue
		}
		out[s.Name] = st.Mode
	}
	return out
}

// updateSTS edits the cluster's StatefulSet out of band, as another tool
// would (a plain update, not neo4jctl's field manager).
func (c *cluster) updateSTS(edit func(*appsv1.StatefulSet)) {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		sts, err := cs.AppsV1().StatefulSets(c.ns).Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			c.t.Fatal(err)
		}
		edit(sts)
		_, err = cs.AppsV1().StatefulSets(c.ns).Update(ctx, sts, metav1.UpdateOptions{FieldManager: "older-deployment"})
		if err == nil {
			return
		}
		if attempt > 5 {
			c.t.Fatal(err)
		}
	}
}

const discoveryEnv = "NEO4J_dbms_cluster_discovery_version"

// TestUpgradeMovesDiscoveryV1First: a 3-server 5.26.0 cluster whose
// servers run discovery v1 (V1_ONLY) is upgraded to 2025.10.1 with the
// built binary. The plan moves discovery to v2 first, with the Operations
// Manual's procedure for moving an entire cluster (clustering/setup/
// discovery.adoc): three moves, V1_ONLY → V1_OVER_V2 → V2_OVER_V1 →
// V2_ONLY, each checked on every server; then the version roll. The
// simulator's statement log shows the three moves, each followed by its
// checks, before any Pod goes away, and the upgrade after.
//
// Set-up: neo4jctl renders V2_ONLY, so the v1 servers are made as an
// older deployment left them: their Pods started with
// NEO4J_dbms_cluster_discovery_version=V1_ONLY (added to the Pod template
// out of band and rolled in); the variable is then taken out of the
// template with the Pods held (partition 3), so the servers still run
// V1_ONLY and the template is neo4jctl's again.
func TestUpgradeMovesDiscoveryV1First(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	pods := []string{c.name + "-2", c.name + "-1", c.name + "-0"}

	c.updateSTS(func(sts *appsv1.StatefulSet) {
		for i := range sts.Spec.Template.Spec.Containers {
			ctr := &sts.Spec.Template.Spec.Containers[i]
			if ctr.Name == "neo4j" {
				ctr.Env = append(ctr.Env, corev1.EnvVar{Name: discoveryEnv, Value: "V1_ONLY"})
			}
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		modes := c.discoveryModes()
		n := 0
		for _, m := range modes {
			if m == "V1_ONLY" {
				n++
			}
		}
		if n == 3 && c.readyPods() == 3 {
			t.Logf("servers on discovery v1: %v", modes)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the servers did not restart onto V1_ONLY: %v", modes)
		}
		time.Sleep(time.Second)
	}
	c.updateSTS(func(sts *appsv1.StatefulSet) {
		held := int32(3)
		sts.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &held}
		for i := range sts.Spec.Template.Spec.Containers {
			ctr := &sts.Spec.Template.Spec.Containers[i]
			ctr.Env = slices.DeleteFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == discoveryEnv })
		}
	})

	c.edit(func(doc map[string]any) { setPath(doc, "2025.10.1", "spec", "version") })
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan 5.26.0 (discovery v1) → 2025.10.1: want exit 2\n%s", res)
	}
	var order []string
	for _, s := range p.Steps {
		switch s.Kind {
		case "discovery-move":
			// The mode it moves to, as the reason names it ("(A → B)").
			to := "?"
			for _, m := range []string{"V1_OVER_V2", "V2_OVER_V1", "V2_ONLY"} {
				if strings.Contains(s.Reason, "→ "+m+")") {
					to = m
				}
			}
			order = append(order, "move "+to)
		case "upgrade-preflight":
			order = append(order, "preflight")
		case "rolling-update":
			order = append(order, "roll "+strings.Join(s.Rollout.Pods, ","))
		case "upgrade-verify":
			order = append(order, "verify")
		}
	}
	want := []string{"move V1_OVER_V2", "move V2_OVER_V1", "move V2_ONLY",
		"preflight", "roll " + pods[0], "preflight", "roll " + pods[1], "preflight", "roll " + pods[2], "verify"}
	if !slices.Equal(order, want) {
		t.Fatalf("plan steps: got %q, want %q\n%s", order, want, res.stdout)
	}
	if !strings.Contains(res.stdout, "Moving from discovery service v1 to v2") || !strings.Contains(res.stdout, "moveToNextDiscoveryVersion") {
		t.Errorf("the plan does not name the manual's procedure:\n%s", res.stdout)
	}

	w := c.watchRestarts()
	mark := len(c.sim.Log())
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply 5.26.0 (discovery v1) → 2025.10.1:\n%s", res)
	}
	restarts, _ := w.stop()
	if len(restarts) == 0 {
		t.Fatal("no Pod restarted")
	}
	// The statement log: three moves, each followed by a state check on
	// every server (three in a row reporting the new mode), all before
	// the first Pod went away.
	var moves []time.Time
	var lines []string
	checksAfter := map[int]int{}
	for _, st := range c.sim.Log()[mark:] {
		q := strings.ToLower(st.Query)
		switch {
		case strings.Contains(q, "movetonextdiscoveryversion"):
			moves = append(moves, st.Time)
			lines = append(lines, st.Time.Format("15:04:05.000")+" "+st.ServerName+" "+st.Query)
		case strings.Contains(q, "showparalleldiscoverystate"):
			checksAfter[len(moves)]++
		}
	}
	t.Logf("moves:\n%s\nfirst Pod away at %s (%s)", strings.Join(lines, "\n"), restarts[0].at.Format("15:04:05.000"), restarts[0].pod)
	if len(moves) != 3 {
		t.Fatalf("the statement log has %d moveToNextDiscoveryVersion calls, want 3", len(moves))
	}
	for i := 1; i <= 3; i++ {
		if checksAfter[i] < 3 {
			t.Errorf("after move %d the log has %d showParallelDiscoveryState calls, want one per server at least", i, checksAfter[i])
		}
	}
	if !moves[2].Before(restarts[0].at) {
		t.Errorf("the last discovery move (%s) was not before the first restart (%s)", moves[2], restarts[0].at)
	}
	var got []string
	for _, r := range restarts {
		got = append(got, r.pod)
	}
	if !slices.Equal(got, pods) {
		t.Errorf("restart order %v, want %v", got, pods)
	}
	if vs := c.serverVersions(); vs["2025.10.1"] != 3 || len(vs) != 1 {
		t.Errorf("after the upgrade servers report %v, want 3 × 2025.10.1", vs)
	}
	c.requireEmptyPlan()
}
