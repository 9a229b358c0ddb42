package pipeline

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// quickstartIn loads the quickstart example into namespace ns.
func quickstartIn(t *testing.T, ns string) *Target {
	t.Helper()
	b, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1)
	tg, err := LoadData("quickstart.yaml", []byte(data), "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// Observing a cluster reads its Pods once for both planes (the Kubernetes
// plane reports them, the Neo4j plane connects to a Ready one) and opens
// one port-forward; a cluster without Pods is still reported as such.
func TestObserveBothPlanesListsPodsOnce(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	tg := quickstartIn(t, ns)
	if err := harness.PrepareNamespace(ctx, env, tg.Cluster, ns, "observe-password"); err != nil {
		t.Fatal(err)
	}
	admin, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}

	agent := "neo4jctl-pipeline-test/" + ns
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Kube: kc}
	// Nothing applied yet: no Pod to connect to.
	obs := r.Observe(ctx, tg)
	if !obs.Kube.Reachable || len(obs.Kube.Pods) != 0 {
		t.Fatalf("before apply: got reachable=%v pods=%v (%s), want reachable without Pods", obs.Kube.Reachable, obs.Kube.Pods, obs.Kube.Reason)
	}
	if obs.Neo4j.Reachable || !strings.Contains(obs.Neo4j.Reason, "no Ready server Pod of StatefulSet "+ns+"/quickstart") {
		t.Errorf("before apply: got Neo4j reachable=%v reason %q, want no Ready server Pod", obs.Neo4j.Reachable, obs.Neo4j.Reason)
	}

	if err := admin.EnsureInventory(ctx, tg.Inventory, kube.KindsOf(tg.Objects)); err != nil {
		t.Fatal(err)
	}
	for _, o := range tg.Objects {
		if _, err := admin.Apply(ctx, o, false); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := harness.StartSim(ctx, env, tg.Cluster, ns, "observe-password", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// The simulator enables its servers as their Pods become Ready.
	for {
		obs = r.Observe(ctx, tg)
		if obs.Neo4j.Reachable && len(obs.Neo4j.Servers) == 3 && readyPods(obs.Kube.Pods) == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster never converged: Neo4j %q, %d Pods", obs.Neo4j.Reason, len(obs.Kube.Pods))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A client of its own, so that no request of the observations above
	// (a port-forward is logged when it closes) is counted.
	measured := agent + "/measured"
	if r.Kube, err = kube.NewForConfig(env.RESTConfig(), kube.Options{UserAgent: measured}); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	obs = r.Observe(ctx, tg)
	if !obs.Kube.Reachable || !obs.Neo4j.Reachable || readyPods(obs.Kube.Pods) != 3 {
		t.Fatalf("got Kubernetes reachable=%v (%s), Neo4j reachable=%v (%s), %d Ready Pods; want both reachable, 3 Pods",
			obs.Kube.Reachable, obs.Kube.Reason, obs.Neo4j.Reachable, obs.Neo4j.Reason, readyPods(obs.Kube.Pods))
	}
	time.Sleep(300 * time.Millisecond) // the last request's audit event
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var podReads, forwards []string
	for _, ev := range evs {
		if ev.UserAgent != measured || ev.StageTimestamp.Before(since) || ev.Stage != "ResponseComplete" || ev.ObjectRef == nil || ev.ObjectRef.Resource != "pods" {
			continue
		}
		if ev.ObjectRef.Subresource == "portforward" {
			forwards = append(forwards, ev.ObjectRef.Name)
		} else {
			podReads = append(podReads, ev.Verb+" "+ev.ObjectRef.Name)
		}
	}
	if len(podReads) != 1 || podReads[0] != "list " {
		t.Errorf("got Pod reads %q, want one list for both planes", podReads)
	}
	// One port-forward per server: settings are per server, so each
	// server answers SHOW SETTINGS itself (plan/settings.go); the first
	// forward serves every other query.
	seen := map[string]bool{}
	for _, f := range forwards {
		if seen[f] {
			t.Errorf("got port-forwards to %q, want one per server", forwards)
		}
		seen[f] = true
	}
	if len(forwards) != 3 {
		t.Errorf("got port-forwards to %q, want one to each of the 3 servers", forwards)
	}
}

func readyPods(pods []state.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Ready {
			n++
		}
	}
	return n
}
