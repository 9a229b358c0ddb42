package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// WaitPodUpdated makes the Pod's server leave and come back as a restart
// does, through onRestart.
func (k *fakeKube) WaitPodUpdated(ctx context.Context, ns, sts, pod string, onProgress func(string)) error {
	k.log.add("wait Pod/%s updated", pod)
	if k.onRestart != nil {
		k.onRestart(pod)
	}
	return k.fail["wait Pod/"+pod+" updated"]
}

// rollKube logs the partition every StatefulSet apply sends.
type rollKube struct{ *fakeKube }

func (k rollKube) Apply(ctx context.Context, o *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	if o.GetKind() == "StatefulSet" {
		p, ok, _ := unstructured.NestedInt64(o.Object, "spec", "updateStrategy", "rollingUpdate", "partition")
		if ok {
			k.log.add("apply StatefulSet/%s partition=%d", o.GetName(), p)
		} else {
			k.log.add("apply StatefulSet/%s no partition", o.GetName())
		}
		return o, k.fail["apply StatefulSet/"+o.GetName()]
	}
	return k.fakeKube.Apply(ctx, o, force)
}

// restartServers returns an onRestart that takes the Pod's server away and
// brings it back 20 ms later (logged), unless the Pod is in stuck.
func restartServers(l *log, n *fakeNeo4j, stuck ...string) func(pod string) {
	return func(pod string) {
		id := plantest.ServerIDs[ordinalOf(pod)]
		n.setState(id, state.ServerEnabled, state.HealthUnavailable, []string{}...)
		n.mu.Lock()
		s := n.servers[id]
		hosting := s.RequestedHosting
		s.Hosting = nil
		n.servers[id] = s
		n.mu.Unlock()
		for _, p := range stuck {
			if p == pod {
				return
			}
		}
		go func() {
			time.Sleep(20 * time.Millisecond)
			l.add("server of %s back", pod)
			n.setState(id, state.ServerEnabled, state.HealthAvailable, hosting...)
		}()
	}
}

func TestRollingUpdateReleasesOnePodAtATime(t *testing.T) {
	p, tg := scenario(t, "out-of-band")
	l, k, n := newFakes(3)
	k.onRestart = restartServers(l, n)
	ex := executor(k, n, &recorder{})
	ex.Kube = rollKube{k}
	if _, err := ex.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var got []string
	for _, c := range l.get() {
		if strings.HasPrefix(c, "apply StatefulSet") || strings.Contains(c, "Pod/") || strings.Contains(c, "server of") {
			got = append(got, c)
		}
	}
	want := []string{
		"apply StatefulSet/prod partition=3",
		"apply StatefulSet/prod partition=2",
		"wait Pod/prod-2 updated",
		"server of prod-2 back",
		"apply StatefulSet/prod partition=1",
		"wait Pod/prod-1 updated",
		"server of prod-1 back",
		"apply StatefulSet/prod no partition",
		"wait Pod/prod-0 updated",
		"server of prod-0 back",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestRollingUpdateStopsAtAServerThatDoesNotComeBack(t *testing.T) {
	p, tg := scenario(t, "out-of-band")
	l, k, n := newFakes(3)
	k.onRestart = restartServers(l, n, "prod-2")
	ex := executor(k, n, &recorder{})
	ex.Kube = rollKube{k}
	ex.Options.StepTimeout = 100 * time.Millisecond
	res, err := ex.Apply(context.Background(), tg, p)
	if err == nil {
		t.Fatal("Apply succeeded with prod-2's server gone")
	}
	for _, c := range l.get() {
		if strings.Contains(c, "partition=1") || strings.Contains(c, "no partition") || strings.Contains(c, "prod-1") {
			t.Errorf("released the next Pod although prod-2's server is not back: %q", c)
		}
	}
	var roll *StepResult
	for i, s := range res.Steps {
		if s.Kind == plan.KindRollingUpdate {
			roll = &res.Steps[i]
		}
	}
	if roll == nil || roll.Status != StatusFailed {
		t.Fatalf("rolling-update step: %+v, want failed", roll)
	}
	if msg := roll.Err.Error(); !strings.Contains(msg, "partition 2 holds them") || !strings.Contains(msg, "prod-2") {
		t.Errorf("error %q should say the server of prod-2 did not come back and that the partition holds the rest", msg)
	}
}

func TestRollingUpdateWithoutServersGatesOnPodsOnly(t *testing.T) {
	p, tg := scenario(t, "out-of-band")
	for i := range p.Steps {
		if p.Steps[i].Rollout != nil {
			p.Steps[i].Rollout.Servers = false
		}
	}
	l, k, n := newFakes(3)
	k.fail["wait Pod/prod-1 updated"] = errors.New("pod prod-1 is Failed and will not become Ready")
	ex := executor(k, n, &recorder{})
	ex.Kube = rollKube{k}
	_, err := ex.Apply(context.Background(), tg, p)
	if err == nil || !strings.Contains(err.Error(), "1 failed") {
		t.Fatalf("Apply: got %v, want the rolling update failed", err)
	}
	got := fmt.Sprint(l.get())
	if strings.Contains(got, "no partition") {
		t.Errorf("prod-0 released after prod-1 failed: %s", got)
	}
	if !strings.Contains(got, "wait Pod/prod-2 updated") || !strings.Contains(got, "apply StatefulSet/prod partition=1") {
		t.Errorf("expected prod-2 then prod-1 released: %s", got)
	}
}

// TestRollingUpdateHoldsWhileTheClusterCannotLoseTheNextPod: prod-2's
// server comes back, but meanwhile prod-0's server has become Unavailable
// to the cluster (its Pod still Ready: the fake Kubernetes knows nothing of
// it). Restarting prod-1 now would leave one of three primaries: the roll
// must stop before releasing prod-1 and say which server holds it.
func TestRollingUpdateHoldsWhileTheClusterCannotLoseTheNextPod(t *testing.T) {
	p, tg := scenario(t, "out-of-band")
	l, k, n := newFakes(3)
	restart := restartServers(l, n)
	k.onRestart = func(pod string) {
		restart(pod)
		if pod == "prod-2" {
			n.setState(plantest.ServerIDs[0], state.ServerEnabled, state.HealthUnavailable)
		}
	}
	ex := executor(k, n, &recorder{})
	ex.Kube = rollKube{k}
	ex.Options.StepTimeout = 200 * time.Millisecond
	res, err := ex.Apply(context.Background(), tg, p)
	if err == nil {
		t.Fatal("Apply succeeded with prod-0's server Unavailable")
	}
	got := fmt.Sprint(l.get())
	if !strings.Contains(got, "server of prod-2 back") {
		t.Fatalf("prod-2's server never came back: %s", got)
	}
	for _, c := range l.get() {
		if strings.Contains(c, "partition=1") || strings.Contains(c, "no partition") || strings.Contains(c, "Pod/prod-1") {
			t.Errorf("released prod-1 while the cluster could not lose it: %q", c)
		}
	}
	var roll *StepResult
	for i, s := range res.Steps {
		if s.Kind == plan.KindRollingUpdate {
			roll = &res.Steps[i]
		}
	}
	if roll == nil || roll.Status != StatusFailed {
		t.Fatalf("rolling-update step: %+v, want failed", roll)
	}
	msg := roll.Err.Error()
	for _, want := range []string{"able to lose prod-1", "is Unavailable", "prod-1 and the Pods below it were not restarted"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestRollingUpdateWaitsForTheDatabasesOnTheRestartedServer: prod-2's
// server is Enabled, Available and hosts its databases again, but one
// allocation on it is still starting (SHOW DATABASES). The next Pod waits
// until it is online.
func TestRollingUpdateWaitsForTheDatabasesOnTheRestartedServer(t *testing.T) {
	p, tg := scenario(t, "out-of-band")
	l, k, n := newFakes(3)
	restart := restartServers(l, n)
	id := plantest.ServerIDs[2]
	setStatus := func(status string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		for i, a := range n.dbs {
			if a.ServerID == id && a.Name != "system" {
				n.dbs[i].CurrentStatus = status
			}
		}
	}
	k.onRestart = func(pod string) {
		restart(pod)
		if pod == "prod-2" {
			setStatus("starting")
			go func() {
				time.Sleep(80 * time.Millisecond)
				l.add("databases on prod-2 online")
				setStatus("online")
			}()
		}
	}
	ex := executor(k, n, &recorder{})
	ex.Kube = rollKube{k}
	if _, err := ex.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var order []string
	for _, c := range l.get() {
		if strings.Contains(c, "databases on prod-2") || strings.Contains(c, "partition=1") {
			order = append(order, c)
		}
	}
	want := []string{"databases on prod-2 online", "apply StatefulSet/prod partition=1"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
