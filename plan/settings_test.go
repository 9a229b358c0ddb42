package plan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// perServer gives each of n servers its own SHOW SETTINGS answer.
func perServer(n *state.Neo4j, values ...map[string]state.Setting) {
	n.ServerSettings = map[string]map[string]state.Setting{}
	for i, v := range values {
		n.ServerSettings[plantest.ServerIDs[i]] = v
	}
}

func setting(key, value string, dynamic bool) map[string]state.Setting {
	return map[string]state.Setting{key: {Name: key, Value: value, Dynamic: dynamic}}
}

func stepKinds(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, string(s.Kind)+" "+s.Address)
	}
	return out
}

func computeSettings(t *testing.T, config map[string]string, n state.Neo4j) *plan.Plan {
	t.Helper()
	c := plantest.Cluster(3)
	c.Spec.Config = config
	p, err := plan.Compute(plantest.Desired(c), plantest.Converged(c, 3), n, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSettingsCompareAsNeo4jReportsThem: Neo4j reports 384m as 402653184;
// that is no change (plan and drift used to disagree on it).
func TestSettingsCompareAsNeo4jReportsThem(t *testing.T) {
	n := plantest.Neo4j(3)
	n.Settings = setting("server.memory.pagecache.size", "402653184", false)
	perServer(&n, n.Settings, n.Settings, n.Settings)
	p := computeSettings(t, map[string]string{"server.memory.pagecache.size": "384m"}, n)
	if len(p.Steps) != 0 || len(p.Warnings) != 0 {
		t.Errorf("384m vs 402653184 planned steps %v, warnings %v; want none", stepKinds(p), p.Warnings)
	}
}

// TestDynamicSettingIsSetPerServerWithoutRestart: a dynamic setting that
// differs on one server is set there with dbms.setConfigValue, and nothing
// restarts (Operations Manual 5.26, configuration/dynamic-settings.adoc).
func TestDynamicSettingIsSetPerServerWithoutRestart(t *testing.T) {
	const key = "db.logs.query.threshold"
	n := plantest.Neo4j(3)
	n.Settings = setting(key, "5s", true)
	perServer(&n, setting(key, "5s", true), setting(key, "0s", true), setting(key, "5s", true))
	p := computeSettings(t, map[string]string{key: "5s"}, n)
	if len(p.Steps) != 1 {
		t.Fatalf("steps %v, want one set-config-value on prod-1", stepKinds(p))
	}
	s := p.Steps[0]
	if s.Kind != plan.KindSetConfigValue || s.Server == nil || s.Server.ServerID != plantest.ServerIDs[1] || s.Setting.Key != key {
		t.Errorf("step %+v, want set-config-value of %s on %s", s, key, plantest.ServerIDs[1])
	}
}

// TestRestartSettingDifferingOnOneServerRestartsOnlyIt: the ConfigMap is
// unchanged but prod-1 runs with another heap size (it restarted with an
// out-of-band ConfigMap): prod-1 alone is restarted, not the cluster.
func TestRestartSettingDifferingOnOneServerRestartsOnlyIt(t *testing.T) {
	const key = "server.memory.heap.max_size"
	n := plantest.Neo4j(3)
	perServer(&n, setting(key, "2G", false), setting(key, "1G", false), setting(key, "2G", false))
	p := computeSettings(t, map[string]string{key: "2G"}, n)
	if len(p.Steps) != 1 {
		t.Fatalf("steps %v, want one restart-server of prod-1", stepKinds(p))
	}
	s := p.Steps[0]
	if s.Kind != plan.KindRestartServer || s.Server == nil || s.Server.StatefulSet != plantest.Name || s.Server.Ordinal != 1 {
		t.Errorf("step %+v, want the restart of prod-1", s)
	}
}

// TestInitialSettingNeverRolls: initial.* settings only matter when the
// cluster is created; the plan says so and changes nothing.
func TestInitialSettingNeverRolls(t *testing.T) {
	const key = "initial.dbms.default_primaries_count"
	n := plantest.Neo4j(3)
	n.Settings = setting(key, "1", false)
	perServer(&n, n.Settings, n.Settings, n.Settings)
	p := computeSettings(t, map[string]string{key: "3"}, n)
	if len(p.Steps) != 0 {
		t.Errorf("steps %v, want none", stepKinds(p))
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "first created") {
		t.Errorf("warnings %q, want one saying initial.* apply at creation only", p.Warnings)
	}
}

// TestEarlierConfigRevisionDeletedAfterTheRoll: the restart settings'
// ConfigMap of the previous revision is still mounted by every Pod that
// has not rolled yet, so its deletion waits for the rolling restart.
func TestEarlierConfigRevisionDeletedAfterTheRoll(t *testing.T) {
	s := plantest.OutOfBand()
	s.Kube.Orphans = append(s.Kube.Orphans, state.Object{Address: "k8s:core/ConfigMap/graph/prod-config-0123456789", Version: "v1", Kind: "ConfigMap",
		Namespace: plantest.Namespace, Name: "prod-config-0123456789",
		Live: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "prod-config-0123456789", "namespace": plantest.Namespace}}})
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	_, roll := stsAndRollout(t, p)
	if roll == nil {
		t.Fatalf("no rolling update: %v", stepKinds(p))
	}
	for _, st := range p.Steps {
		if st.Kind == plan.KindDelete && st.Object != nil && st.Object.Name == "prod-config-0123456789" {
			if !slices.Contains(st.DependsOn, roll.ID) {
				t.Errorf("the old revision's delete depends on %v, want the rolling update %s", st.DependsOn, roll.ID)
			}
			return
		}
	}
	t.Fatalf("no delete of the old revision: %v", stepKinds(p))
}

// TestDynamicSettingStepsRunInTheirChainOrder: the per-server steps of a
// setting form a chain, and the plan lists each after the one it depends
// on (apply skips a step whose dependency did not run yet).
func TestDynamicSettingStepsRunInTheirChainOrder(t *testing.T) {
	const key = "db.logs.query.threshold"
	n := plantest.Neo4j(3)
	old := setting(key, "0s", true)
	n.Settings = old
	perServer(&n, old, old, old)
	p := computeSettings(t, map[string]string{key: "5s"}, n)
	seen := map[string]bool{}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			if !seen[d] {
				t.Errorf("%s depends on %s, which comes after it: %v", s.ID, d, stepKinds(p))
			}
		}
		seen[s.ID] = true
	}
	if len(p.Steps) != 3 {
		t.Errorf("steps %v, want a set-config-value on each of the 3 servers", stepKinds(p))
	}
}

// TestRollingRestartBringsRestartSettingsWithoutPerServerRestarts: when
// the plan rolls the StatefulSet (here a template change; also a roll an
// earlier apply left halfway), servers still on the old settings are
// restarted by the roll, not once more on their own.
func TestRollingRestartBringsRestartSettingsWithoutPerServerRestarts(t *testing.T) {
	const key = "server.memory.heap.max_size"
	s := plantest.OutOfBand()
	// The ConfigMap is as rendered; only the template differs.
	cm := plantest.Object(&s.Kube, "ConfigMap", plantest.Name+"-config")
	cm.Live = plantest.Clone(cm.Desired)
	old := setting(key, "2G", false)
	perServer(&s.Neo4j, old, old, old)
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if _, roll := stsAndRollout(t, p); roll == nil {
		t.Fatalf("no rolling update: %v", stepKinds(p))
	}
	for _, st := range p.Steps {
		if st.Kind == plan.KindRestartServer {
			t.Errorf("a server restart besides the rolling update: %v", stepKinds(p))
		}
	}
}
