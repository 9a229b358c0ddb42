package suites

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestRollingUpdateIsGatedPerPod changes a setting (the config hash in the
// Pod template changes) and makes the highest Pod's server fail to rejoin
// after its restart. apply must release that one Pod, wait for its server,
// and stop there: the two other Pods keep running the old revision (same
// Pod uids), the StatefulSet keeps the partition. Once the server comes
// back, the next plan resumes the rolling update at that Pod and apply
// finishes it; the plan after that is empty.
func TestRollingUpdateIsGatedPerPod(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	pods := []string{c.name + "-2", c.name + "-1", c.name + "-0"}
	before := c.podUIDs()

	top, ok := c.serverOf(pods[0])
	if !ok {
		t.Fatalf("no server for %s", pods[0])
	}
	if err := c.sim.SetDownAfterRestart(top.ID, true); err != nil {
		t.Fatal(err)
	}
	c.edit(func(doc map[string]any) { setPath(doc, "400m", "spec", "config", "server.memory.heap.max_size") })

	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after a config change: want exit 2\n%s", res)
	}
	roll, sts := rolloutSteps(t, p)
	if !slices.Equal(roll.Rollout.Pods, pods) || !roll.Rollout.Servers {
		t.Errorf("rollout: got pods %v servers %v, want %v gated on servers", roll.Rollout.Pods, roll.Rollout.Servers, pods)
	}
	if sts.Partition == nil || *sts.Partition != 3 {
		t.Errorf("StatefulSet step partition: got %v, want 3", sts.Partition)
	}

	res = c.apply("--step-timeout", "5s")
	if res.code != 1 {
		t.Fatalf("apply with %s's server down after its restart: want exit 1\n%s", pods[0], res)
	}
	if !strings.Contains(res.stderr+res.stdout, "partition 2 holds them") {
		t.Errorf("apply's error should say the Pods below %s were held:\n%s", pods[0], res)
	}
	after := c.podUIDs()
	if after[pods[0]] == before[pods[0]] {
		t.Errorf("%s was not restarted", pods[0])
	}
	for _, pod := range pods[1:] {
		if after[pod] != before[pod] {
			t.Errorf("%s was restarted although %s's server never came back", pod, pods[0])
		}
	}
	if got := c.partition(); got != 2 {
		t.Errorf("live partition after the stopped rollout: got %d, want 2", got)
	}

	// The server rejoins: the next plan resumes at the held Pod.
	if err := c.sim.SetDownAfterRestart(top.ID, false); err != nil {
		t.Fatal(err)
	}
	p, res = c.plan()
	if res.code != 2 {
		t.Fatalf("plan after the stopped rollout: want exit 2\n%s", res)
	}
	roll, sts = rolloutSteps(t, p)
	if !slices.Equal(roll.Rollout.Pods, pods) {
		t.Errorf("resumed rollout: got pods %v, want %v", roll.Rollout.Pods, pods)
	}
	if sts.Partition == nil || *sts.Partition != 2 {
		t.Errorf("resumed StatefulSet step partition: got %v, want 2 (held where it was)", sts.Partition)
	}
	c.converge()

	final := c.podUIDs()
	for _, pod := range pods {
		if final[pod] == before[pod] {
			t.Errorf("%s still runs the old revision (same uid)", pod)
		}
	}
	if final[pods[0]] != after[pods[0]] {
		t.Errorf("%s was restarted twice", pods[0])
	}
	if n := c.readyPods(); n != 3 {
		t.Errorf("%d Pods Ready, want 3", n)
	}
	if st := c.serverStates(); st[neo4jsim.StateEnabled] != 3 || len(st) != 1 {
		t.Errorf("servers %v, want 3 Enabled", st)
	}
	if got := c.partition(); got != 0 {
		t.Errorf("partition after the rollout: got %d, want 0", got)
	}
}

func rolloutSteps(t *testing.T, p planDoc) (roll, sts planStep) {
	t.Helper()
	var found bool
	for _, s := range p.Steps {
		switch {
		case s.Kind == "rolling-update" && s.Rollout != nil:
			roll, found = s, true
		case strings.Contains(s.Address, "/StatefulSet/") && (s.Kind == "apply" || s.Kind == "scale-statefulset"):
			sts = s
		}
	}
	if !found {
		t.Fatalf("no rolling-update step in %+v", p.Steps)
	}
	return roll, sts
}

// podUIDs maps the cluster's Pods to their uids: a new uid is a replaced Pod.
func (c *cluster) podUIDs() map[string]string {
	c.t.Helper()
	out := map[string]string{}
	for _, p := range c.pods() {
		out[p.Name] = string(p.UID)
	}
	return out
}

// partition is the StatefulSet's live rollingUpdate partition (0 unset).
func (c *cluster) partition() int {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets(c.ns).Get(context.Background(), c.name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}
