package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// The upgrade pre-flight passes on a whole cluster and, while a server
// does not host what it should or a database is not at its requested
// status, waits and then stops naming the rows the guide's queries return.
func TestUpgradePreflight(t *testing.T) {
	step := plan.Step{ID: "s01", Kind: plan.KindUpgradePreflight, Address: "k8s:apps/StatefulSet/ns/graph",
		Rollout: &plan.Rollout{StatefulSet: plantest.Name, Pods: []string{plantest.Name + "-2"}}}
	tests := []struct {
		name    string
		breakIt func(n *fakeNeo4j)
		want    string // "" means passes
	}{
		{name: "whole cluster"},
		{name: "hosting other than requested", breakIt: func(n *fakeNeo4j) {
			id := plantest.ServerIDs[1]
			s := n.servers[id]
			s.Hosting = []string{"system"}
			n.servers[id] = s
		}, want: "hosts [system], requested"},
		{name: "database not at its requested status", breakIt: func(n *fakeNeo4j) {
			n.dbs[0].CurrentStatus = "starting"
		}, want: "is starting, requested online"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, k, n := newFakes(3)
			if tt.breakIt != nil {
				tt.breakIt(n)
			}
			ex := executor(k, n, &recorder{})
			ex.Options.StepTimeout, ex.Options.Now = 200*time.Millisecond, time.Now
			_, err := ex.upgradePreflight(context.Background(), step)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want the pre-flight to pass", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "was not restarted")):
				t.Errorf("got %v, want an error naming %q and saying the Pod was not restarted", err, tt.want)
			}
		})
	}
}

// upgrade-verify passes only once every Pod's server reports the new
// version.
func TestUpgradeVerify(t *testing.T) {
	pods := []string{plantest.Name + "-2", plantest.Name + "-1", plantest.Name + "-0"}
	step := plan.Step{ID: "s01", Kind: plan.KindUpgradeVerify, Address: "k8s:apps/StatefulSet/ns/graph",
		Upgrade: &plan.UpgradeStep{From: "5.26.0", To: "2025.10.1"},
		Rollout: &plan.Rollout{StatefulSet: plantest.Name, Pods: pods}}
	for _, lagging := range []int{-1, 0} {
		_, k, n := newFakes(3)
		for i, id := range plantest.ServerIDs[:3] {
			s := n.servers[id]
			s.Version = "2025.10.1"
			if i == lagging {
				s.Version = "5.26.0"
			}
			n.servers[id] = s
		}
		ex := executor(k, n, &recorder{})
		ex.Options.StepTimeout, ex.Options.Now = 200*time.Millisecond, time.Now
		_, err := ex.upgradeVerify(context.Background(), step)
		if lagging < 0 && err != nil {
			t.Errorf("all on 2025.10.1: got %v, want nil", err)
		}
		if lagging >= 0 && (err == nil || !strings.Contains(err.Error(), "reports 5.26.0")) {
			t.Errorf("server %d on 5.26.0: got %v, want an error naming it", lagging, err)
		}
	}
}
