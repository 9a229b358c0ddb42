package suites

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestSettingsDynamicWithoutRestartRestartSettingsRoll: a dynamic setting
// (Operations Manual 5.26, configuration/dynamic-settings.adoc) changes
// on each running server with CALL dbms.setConfigValue, over a direct
// connection to that server, and restarts nothing; a restart setting makes
// a new configuration revision and rolls the servers one at a time, and
// the old revision's ConfigMap goes only after the roll. Each ends in an
// empty plan: every server reports the file's values.
func TestSettingsDynamicWithoutRestartRestartSettingsRoll(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	before := c.podUIDs()

	c.edit(func(doc map[string]any) { setPath(doc, "5s", "spec", "config", "db.logs.query.threshold") })
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after a dynamic setting change: want exit 2\n%s", res)
	}
	set := map[string]bool{}
	for _, s := range p.Steps {
		switch s.Kind {
		case "set-config-value":
			if s.Server == nil {
				t.Fatalf("set-config-value without a server: %+v", s)
			}
			set[s.Server.ServerID] = true
		case "rolling-update", "restart-server":
			t.Errorf("a dynamic setting planned a restart: %+v", s)
		}
	}
	if len(set) != 3 {
		t.Errorf("set-config-value on %d servers, want each of the 3: %+v", len(set), p.Steps)
	}
	c.sim.ResetLog()
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply: %s", res)
	}
	on := map[string]bool{}
	for _, st := range c.sim.Log() {
		if strings.Contains(st.Query, "dbms.setConfigValue") && st.Outcome == "ok" {
			if st.Params["name"] != "db.logs.query.threshold" || st.Params["value"] != "5s" {
				t.Errorf("setConfigValue with %v", st.Params)
			}
			on[st.ServerID] = true
		}
	}
	for id := range set {
		if !on[id] {
			t.Errorf("no dbms.setConfigValue ran on server %s: %+v", id, c.sim.Log())
		}
	}
	after := c.podUIDs()
	for pod, uid := range before {
		if after[pod] != uid {
			t.Errorf("%s restarted for a dynamic setting", pod)
		}
	}
	c.requireEmptyPlan()

	// A restart setting: a new revision, one Pod at a time, the old
	// revision deleted after the roll.
	c.edit(func(doc map[string]any) { setPath(doc, "400m", "spec", "config", "server.memory.heap.max_size") })
	p, res = c.plan()
	if res.code != 2 {
		t.Fatalf("plan after a restart setting change: want exit 2\n%s", res)
	}
	roll, _ := rolloutSteps(t, p)
	var deleted bool
	for _, s := range p.Steps {
		if s.Kind == "delete" && s.Object != nil && s.Object.Kind == "ConfigMap" && strings.HasPrefix(s.Object.Name, c.name+"-config-") {
			deleted = true
			if !containsString(s.DependsOn, roll.ID) {
				t.Errorf("the old revision %s is deleted before the roll: depends on %v", s.Object.Name, s.DependsOn)
			}
		}
		if s.Kind == "set-config-value" {
			t.Errorf("a restart setting was set at runtime: %+v", s)
		}
	}
	if !deleted {
		t.Errorf("the old configuration revision is not deleted: %+v", p.Steps)
	}
	c.converge()
	final := c.podUIDs()
	for pod, uid := range after {
		if final[pod] == uid {
			t.Errorf("%s still runs the old revision", pod)
		}
	}
}

func containsString(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// TestServerWithOtherSettingsRestartsAlone: one server runs with another
// restart setting than its (unchanged) configuration — it restarted with
// an out-of-band neo4j.conf. Plan restarts that server alone; apply evicts
// its Pod through the gate, and the plan after is empty (drift green).
func TestServerWithOtherSettingsRestartsAlone(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	before := c.podUIDs()
	odd, ok := c.serverOf(c.name + "-1")
	if !ok {
		t.Fatalf("no server for %s-1", c.name)
	}
	if err := c.sim.SetSettingOn(odd.ID, "server.memory.heap.max_size", "512m"); err != nil {
		t.Fatal(err)
	}
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan with one server on other settings: want exit 2\n%s", res)
	}
	var restarts []string
	for _, s := range p.Steps {
		switch s.Kind {
		case "restart-server":
			restarts = append(restarts, s.Server.ServerID)
		case "rolling-update":
			t.Errorf("a cluster-wide roll for one server's settings: %+v", s)
		}
	}
	if len(restarts) != 1 || restarts[0] != odd.ID {
		t.Fatalf("restart-server steps for %v, want only %s: %+v", restarts, odd.ID, p.Steps)
	}
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply: %s", res)
	}
	after := c.podUIDs()
	for pod, uid := range before {
		if restarted := after[pod] != uid; restarted != (pod == c.name+"-1") {
			t.Errorf("%s restarted: %v", pod, restarted)
		}
	}
	c.requireEmptyPlan()
}
