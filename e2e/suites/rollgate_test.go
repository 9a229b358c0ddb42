package suites

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestRollingRestartStopsWhenAnotherServerIsUnavailable: the roll gate of
// issue 13 item 3, with the built binary, the control plane and the
// simulator. The server of -1 is Unavailable to the cluster while its Pod
// stays Ready in Kubernetes (the simulator's SetAvailable; neo4jctl
// connects through -0). A setting change
// asks for a roll of the three Pods, highest first; restarting -2 now would
// leave one of three primaries of every database, so apply must not release
// it: it stops, names the Unavailable server, and no Pod is replaced (before
// the gate, -2 was released, never came back for want of a quorum, and the
// roll failed with the cluster one more server down). Once the server is
// back, apply rolls -2, -1, -0 in that order, and the simulator's statement
// log (reads included) shows the gate reading SHOW SERVERS, SHOW DATABASES
// and dbms.cluster.statusCheck between one Pod's replacement and the next.
func TestRollingRestartStopsWhenAnotherServerIsUnavailable(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{sim: neo4jsim.Config{LogReads: true}})
	c.converge()
	pods := []string{c.name + "-2", c.name + "-1", c.name + "-0"}
	before := c.podUIDs()
	down, ok := c.serverOf(pods[1])
	if !ok {
		t.Fatalf("no server for %s", pods[1])
	}
	if err := c.sim.SetAvailable(down.ID, false); err != nil {
		t.Fatal(err)
	}
	tl := watchReplacements(t, c, before)
	c.edit(func(doc map[string]any) { setPath(doc, "400m", "spec", "config", "server.memory.heap.max_size") })
	res := c.apply("--step-timeout", "5s")
	if res.code != 1 {
		t.Fatalf("apply with %s's server Unavailable: want exit 1\n%s", pods[1], res)
	}
	out := res.stderr + res.stdout
	for _, want := range []string{"able to lose " + pods[0], "is Unavailable", pods[0] + " and the Pods below it were not restarted"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply's output lacks %q:\n%s", want, res)
		}
	}
	for _, pod := range pods {
		if got := c.podUIDs()[pod]; got != before[pod] {
			t.Errorf("%s was restarted although the server of %s was Unavailable", pod, pods[1])
		}
	}
	if n := c.readyPods(); n != 3 {
		t.Errorf("%d Pods Ready, want 3: the fault is Neo4j's view only", n)
	}

	// Back: the next apply rolls every Pod, gated one by one.
	if err := c.sim.SetAvailable(down.ID, true); err != nil {
		t.Fatal(err)
	}
	c.sim.ResetLog()
	c.converge()
	final := c.podUIDs()
	for _, pod := range pods {
		if final[pod] == before[pod] {
			t.Errorf("%s still runs the old revision", pod)
		}
	}
	if got := tl.order(); strings.Join(got, " ") != strings.Join(pods, " ") {
		t.Fatalf("Pods replaced in the order %v, want %v", got, pods)
	}
	log := c.sim.Log()
	for i := 0; i+1 < len(pods); i++ {
		from, to := tl.at(pods[i]), tl.at(pods[i+1])
		seen := map[string]bool{}
		for _, st := range log {
			if st.Time.Before(from) || st.Time.After(to) {
				continue
			}
			for _, q := range []string{"SHOW SERVERS", "SHOW DATABASES", "dbms.cluster.statusCheck"} {
				if strings.Contains(st.Query, q) {
					seen[q] = true
				}
			}
		}
		for _, q := range []string{"SHOW SERVERS", "SHOW DATABASES", "dbms.cluster.statusCheck"} {
			if !seen[q] {
				t.Errorf("no %s read between the replacement of %s and of %s", q, pods[i], pods[i+1])
			}
		}
	}
}

// timeline records when each Pod was first seen Ready with a new uid.
type timeline struct {
	mu   sync.Mutex
	when map[string]time.Time
}

func (tl *timeline) at(pod string) time.Time {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.when[pod]
}

func (tl *timeline) order() []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var pods []string
	for p := range tl.when {
		pods = append(pods, p)
	}
	sort.Slice(pods, func(i, j int) bool { return tl.when[pods[i]].Before(tl.when[pods[j]]) })
	return pods
}

// watchReplacements watches the cluster's Pods and records when each is
// first Ready with a uid other than before's. It stops with the test.
func watchReplacements(t *testing.T, c *cluster, before map[string]string) *timeline {
	t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := cs.CoreV1().Pods(c.ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	tl := &timeline{when: map[string]time.Time{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || string(p.UID) == before[p.Name] || !podReady(p) {
				continue
			}
			tl.mu.Lock()
			if _, dup := tl.when[p.Name]; !dup {
				tl.when[p.Name] = time.Now()
			}
			tl.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		w.Stop()
		cancel()
		<-done
	})
	return tl
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
