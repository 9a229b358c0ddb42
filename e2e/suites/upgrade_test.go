package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestUpgradeOneServerAtATime upgrades a 3-server cluster with a database
// of 3 primaries (the quickstart's movies) 5.26.0 → 5.26.1 → 2025.10.1
// with the built binary. The Pods' restarts (watched in the API server)
// and the simulator's statement log show one server at a time, highest
// ordinal first, each after its pre-flight (the guide's SHOW SERVERS and
// SHOW DATABASES) and the health gate. In the second upgrade the server of
// the middle Pod does not come back: apply stops with two of three servers
// still Available and the lowest Pod untouched on the old version; once
// the server is back a rerun finishes and every server reports 2025.10.1.
func TestUpgradeOneServerAtATime(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	// LogReads: the gate's and the pre-flight's SHOW SERVERS and SHOW
	// DATABASES are in the statement log with the admin statements.
	c := newCluster(t, env, clusterOpts{sim: neo4jsim.Config{LogReads: true}})
	c.converge()
	pods := []string{c.name + "-2", c.name + "-1", c.name + "-0"}

	// 5.26.0 → 5.26.1: the plan names the upgrade and a pre-flight per
	// server; apply restarts one Pod at a time, each gated.
	c.edit(func(doc map[string]any) { setPath(doc, "5.26.1", "spec", "version") })
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan 5.26.0 → 5.26.1: want exit 2\n%s", res)
	}
	var order []string
	for _, s := range p.Steps {
		switch s.Kind {
		case "upgrade-preflight":
			order = append(order, "preflight")
		case "rolling-update":
			order = append(order, "roll "+strings.Join(s.Rollout.Pods, ","))
		case "upgrade-verify":
			order = append(order, "verify")
		}
	}
	want := []string{"preflight", "roll " + pods[0], "preflight", "roll " + pods[1], "preflight", "roll " + pods[2], "verify"}
	if !slices.Equal(order, want) {
		t.Errorf("upgrade steps: got %q, want %q", order, want)
	}
	if !strings.Contains(res.stdout, "upgrade 5.26.0 → 5.26.1") || !strings.Contains(res.stdout, "requestedHosting <> hosting") ||
		!strings.Contains(res.stdout, "currentStatus <> requestedStatus") {
		t.Errorf("the plan does not name the upgrade and its pre-flight:\n%s", res.stdout)
	}
	w := c.watchRestarts()
	mark := len(c.sim.Log())
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply 5.26.0 → 5.26.1:\n%s", res)
	}
	_, maxAway := w.stop()
	c.checkOneAtATime(c.podDeletes(w.audit), maxAway, pods, mark)
	if vs := c.serverVersions(); vs["5.26.1"] != 3 {
		t.Errorf("after 5.26.0 → 5.26.1: servers report %v, want 3 × 5.26.1", vs)
	}
	c.requireEmptyPlan()

	// 5.26.1 → 2025.10.1 with the middle Pod's server failing to return.
	mid, ok := c.serverOf(pods[1])
	if !ok {
		t.Fatalf("no server for %s", pods[1])
	}
	if err := c.sim.SetDownAfterRestart(mid.ID, true); err != nil {
		t.Fatal(err)
	}
	c.edit(func(doc map[string]any) { setPath(doc, "2025.10.1", "spec", "version") })
	before := c.podUIDs()
	res = c.apply("--step-timeout", "5s")
	if res.code != 1 {
		t.Fatalf("apply 5.26.1 → 2025.10.1 with %s's server down after its restart: want exit 1\n%s", pods[1], res)
	}
	after := c.podUIDs()
	if after[pods[0]] == before[pods[0]] || after[pods[1]] == before[pods[1]] {
		t.Errorf("%s and %s should have been restarted", pods[0], pods[1])
	}
	if after[pods[2]] != before[pods[2]] {
		t.Errorf("%s was restarted although %s's server never came back", pods[2], pods[1])
	}
	avail, byName := c.serverHealth()
	t.Logf("stopped mid-upgrade: %v", byName)
	if avail != 2 {
		t.Errorf("stopped mid-upgrade: %d servers Available, want 2 of 3 still serving (%v)", avail, byName)
	}
	if v := byName[pods[2]]; !strings.HasPrefix(v, "5.26.1 ") {
		t.Errorf("%s's server: got %q, want still 5.26.1", pods[2], v)
	}
	if v := byName[pods[0]]; !strings.HasPrefix(v, "2025.10.1 Available") {
		t.Errorf("%s's server: got %q, want 2025.10.1 Available", pods[0], v)
	}

	// The server returns: a rerun continues at the held Pod and finishes.
	if err := c.sim.SetDownAfterRestart(mid.ID, false); err != nil {
		t.Fatal(err)
	}
	if res := c.apply(); res.code != 0 {
		t.Fatalf("rerun of the upgrade:\n%s", res)
	}
	final := c.podUIDs()
	if final[pods[0]] != after[pods[0]] {
		t.Errorf("%s was restarted again by the rerun", pods[0])
	}
	if vs := c.serverVersions(); vs["2025.10.1"] != 3 || len(vs) != 1 {
		t.Errorf("after the rerun: servers report %v, want 3 × 2025.10.1", vs)
	}
	if st := c.serverStates(); st[neo4jsim.StateEnabled] != 3 {
		t.Errorf("servers %v, want 3 Enabled", st)
	}
	c.requireEmptyPlan()
}

// TestUpgradeCheckpointRefused: a cluster whose servers run 5.20 (the
// cluster file refuses 5.20 as spec.version, so the servers run it through
// spec.image, as an adopted cluster would) cannot jump to a calendar
// version: plan and apply refuse with the checkpoint fix (5.26 first) and
// nothing is restarted.
func TestUpgradeCheckpointRefused(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) {
		setPath(doc, "docker.io/library/neo4j:5.20.0-enterprise", "spec", "image")
	}})
	c.apply() // its verifying plan refuses (the servers run 5.20.0, not spec.version): that is the premise
	if vs := c.serverVersions(); vs["5.20.0"] != 3 {
		t.Fatalf("servers report %v, want 3 × 5.20.0", vs)
	}
	before := c.podUIDs()
	c.edit(func(doc map[string]any) {
		setPath(doc, "2025.10.1", "spec", "version")
		delete(doc["spec"].(map[string]any), "image")
	})
	p, res := c.plan()
	if res.code != 1 || len(p.Refusals) == 0 {
		t.Fatalf("plan 5.20.0 → 2025.10.1: want exit 1 with a refusal\n%s", res)
	}
	if !strings.Contains(res.stdout, "must be upgraded to 5.26 first") {
		t.Errorf("the refusal does not name the checkpoint:\n%s", res.stdout)
	}
	if res := c.apply(); res.code == 0 {
		t.Fatalf("apply 5.20.0 → 2025.10.1 succeeded:\n%s", res)
	}
	after := c.podUIDs()
	for pod, uid := range before {
		if after[pod] != uid {
			t.Errorf("%s was restarted by a refused upgrade", pod)
		}
	}
	if vs := c.serverVersions(); vs["5.20.0"] != 3 {
		t.Errorf("after the refused apply servers report %v, want 3 × 5.20.0", vs)
	}
}

// restartWatch records, from a watch on the cluster's Pods, the order in
// which Pods went away (deleted or not Ready) and the most that were away
// at once.
type restartWatch struct {
	// audit marks the API server's audit log when the watch began.
	audit  int
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []podEvent
	away   map[string]bool
	max    int
}

type podEvent struct {
	at  time.Time
	pod string
}

func (c *cluster) watchRestarts() *restartWatch {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wi, err := cs.CoreV1().Pods(c.ns).Watch(ctx, metav1.ListOptions{LabelSelector: "neo4jctl.io/cluster=" + c.name})
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	w := &restartWatch{audit: auditMark(c.t, c.env), cancel: cancel, done: make(chan struct{}), away: map[string]bool{}}
	go func() {
		defer close(w.done)
		defer wi.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-wi.ResultChan():
				if !ok {
					return
				}
				p, ok := ev.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				gone := ev.Type == watch.Deleted || p.DeletionTimestamp != nil || !isReady(p)
				w.mu.Lock()
				if gone && !w.away[p.Name] {
					w.away[p.Name] = true
					w.events = append(w.events, podEvent{at: time.Now(), pod: p.Name})
				} else if !gone {
					delete(w.away, p.Name)
				}
				w.max = max(w.max, len(w.away))
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (w *restartWatch) stop() ([]podEvent, int) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events), w.max
}

// podDeletes lists, in order, the deletions of the cluster's Pods since
// the audit mark, by anyone but kwok: the StatefulSet controller deletes a
// Pod when a lowered partition releases it, which is what a restart by
// neo4jctl is. kwok's deletions are left out: it finishes every graceful
// deletion with a delete by name without a UID precondition
// (sigs.k8s.io/kwok v0.8.0 pod_controller.go deleteResource), and under
// load a second such delete queued for the old Pod can land on the new
// Pod of the same name — a restart neither neo4jctl nor the controller
// asked for, seen once in a parallel CI run as "quickstart-1" going away
// twice in a row.
func (c *cluster) podDeletes(mark int) []podEvent {
	c.t.Helper()
	time.Sleep(200 * time.Millisecond) // the last event may not be flushed yet
	evs, err := c.env.AuditEvents()
	if err != nil {
		c.t.Fatal(err)
	}
	var out []podEvent
	for _, ev := range evs[min(mark, len(evs)):] {
		if ev.Verb != "delete" || ev.Stage != "ResponseComplete" || ev.ObjectRef == nil ||
			ev.ObjectRef.Resource != "pods" || ev.ObjectRef.Subresource != "" || ev.ObjectRef.Namespace != c.ns ||
			!strings.HasPrefix(ev.ObjectRef.Name, c.name+"-") || strings.HasPrefix(ev.UserAgent, "kwok") ||
			ev.ResponseStatus == nil || ev.ResponseStatus.Code >= 300 {
			continue
		}
		out = append(out, podEvent{at: ev.StageTimestamp, pod: ev.ObjectRef.Name})
	}
	return out
}

// checkOneAtATime: each Pod went away once, in order, never two at once,
// and before each (the pre-flight) and between two (the gate) the
// simulator answered SHOW SERVERS and SHOW DATABASES.
func (c *cluster) checkOneAtATime(restarts []podEvent, maxAway int, pods []string, mark int) {
	c.t.Helper()
	var got []string
	for _, r := range restarts {
		got = append(got, r.pod)
	}
	c.t.Logf("restart order: %v (at most %d Pod(s) away at once)", got, maxAway)
	if !slices.Equal(got, pods) {
		c.t.Errorf("restart order: got %v, want %v", got, pods)
	}
	if maxAway != 1 {
		c.t.Errorf("%d Pods were away at once, want 1", maxAway)
	}
	log := c.sim.Log()[mark:]
	prev := time.Time{}
	for _, r := range restarts {
		servers, dbs := 0, 0
		for _, st := range log {
			if st.Time.After(prev) && st.Time.Before(r.at) && st.OK() {
				switch st.Command {
				case "SHOW SERVERS":
					servers++
				case "SHOW DATABASES":
					dbs++
				}
			}
		}
		c.t.Logf("before %s went away: %d SHOW SERVERS, %d SHOW DATABASES", r.pod, servers, dbs)
		if servers == 0 || dbs == 0 {
			c.t.Errorf("%s went away with no SHOW SERVERS / SHOW DATABASES since the previous restart: not gated", r.pod)
		}
		prev = r.at
	}
}

// serverHealth counts the Available servers and maps each server's name to
// "version health", asked over Bolt.
func (c *cluster) serverHealth() (int, map[string]string) {
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
	n, out := 0, map[string]string{}
	for _, s := range servers {
		if s.State == "Dropped" {
			continue
		}
		if s.Health == "Available" {
			n++
		}
		out[s.Name] = fmt.Sprintf("%s %s", s.Version, s.Health)
	}
	return n, out
}
