package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// upgradePlan computes the plan of a converged 3-server cluster whose
// servers report from and whose cluster file says to.
func upgradePlan(t *testing.T, from, to string, opts plan.Options, edit func(*state.Neo4j)) *plan.Plan {
	t.Helper()
	c := plantest.Cluster(3)
	c.Spec.Version, c.Spec.Image = to, "neo4j:"+to+"-enterprise"
	k := plantest.Converged(c, 3)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	spec := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	spec["containers"].([]any)[0].(map[string]any)["image"] = "neo4j:" + from + "-enterprise"
	n := plantest.Neo4j(3)
	for id, s := range n.Servers {
		s.Version = from
		n.Servers[id] = s
	}
	if edit != nil {
		edit(&n)
	}
	return mustCompute(t, plantest.Desired(c), k, n, opts)
}

// An upgrade is planned server by server: a pre-flight naming the
// upgrade, its path and the guide's two queries, then the restart of that
// one Pod, highest ordinal first.
func TestComputeUpgradePreflightPerServer(t *testing.T) {
	p := upgradePlan(t, "5.26.0", "2025.10.1", plan.Options{}, nil)
	if len(p.Refusals) > 0 {
		t.Fatalf("got refusals %v, want none", p.Refusals)
	}
	var got []string
	for _, s := range p.Steps {
		switch s.Kind {
		case plan.KindUpgradePreflight:
			got = append(got, "preflight "+strings.Join(s.Rollout.Pods, ","))
			for _, want := range []string{"upgrade 5.26.0 → 2025.10.1", "5.26 LTS to a calendar version", plan.PreflightServers, plan.PreflightDatabases, "health gate", "backup"} {
				if !strings.Contains(s.Reason, want) {
					t.Errorf("pre-flight reason %q does not say %q", s.Reason, want)
				}
			}
		case plan.KindRollingUpdate:
			got = append(got, "roll "+strings.Join(s.Rollout.Pods, ","))
		case plan.KindUpgradeVerify:
			got = append(got, "verify "+s.Upgrade.To+" "+strings.Join(s.Rollout.Pods, ","))
		}
	}
	pod := func(i string) string { return plantest.Name + "-" + i }
	want := []string{"preflight " + pod("2"), "roll " + pod("2"), "preflight " + pod("1"), "roll " + pod("1"), "preflight " + pod("0"), "roll " + pod("0"),
		"verify 2025.10.1 " + pod("2") + "," + pod("1") + "," + pod("0")}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("got steps %q, want %q", got, want)
	}
	// Each restart depends on its pre-flight, each pre-flight on the
	// restart before it: apply stops at the first that fails.
	byID := map[string]plan.Step{}
	for _, s := range p.Steps {
		byID[s.ID] = s
	}
	var prev string
	for _, s := range p.Steps {
		if s.Kind != plan.KindUpgradePreflight && s.Kind != plan.KindRollingUpdate && s.Kind != plan.KindUpgradeVerify {
			continue
		}
		if prev != "" && !contains(s.DependsOn, prev) {
			t.Errorf("step %s (%s) depends on %v, want %s", s.ID, s.Kind, s.DependsOn, prev)
		}
		prev = s.ID
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// --skip-backup-check is printed in the plan.
func TestComputeUpgradeSkipBackupCheck(t *testing.T) {
	p := upgradePlan(t, "5.26.0", "5.26.1", plan.Options{SkipBackupCheck: true}, nil)
	n := 0
	for _, s := range p.Steps {
		if s.Kind == plan.KindUpgradePreflight {
			n++
			if !strings.Contains(s.Reason, "--skip-backup-check") {
				t.Errorf("pre-flight reason %q does not print --skip-backup-check", s.Reason)
			}
		}
	}
	if n != 3 {
		t.Errorf("got %d pre-flights, want 3", n)
	}
}

// A cluster still on discovery v1 whose servers lack the v2 settings
// cannot restart onto the rendered V2_ONLY nor go to a calendar version
// (2025.01 removed v1); with V2_ONLY nothing is refused. Older than
// 5.26 to a calendar version is refused with the checkpoint fix.
func TestComputeUpgradeDiscoveryAndCheckpoint(t *testing.T) {
	tests := []struct {
		name, from, to, discovery, refusal, fix string
	}{
		// Without the v2 settings of the manual's Preparation, the move
		// cannot be planned (discovery_test.go plans it with them).
		{name: "v1 to calendar unprepared", from: "5.26.0", to: "2025.10.1", discovery: "V1_ONLY", refusal: "discovery service v1", fix: "Moving from discovery service v1 to v2"},
		{name: "v2 over v1 to calendar unprepared", from: "5.26.0", to: "2025.10.1", discovery: "V2_OVER_V1", refusal: "discovery service v1", fix: "Moving from discovery service v1 to v2"},
		{name: "v2 only to calendar", from: "5.26.0", to: "2025.10.1", discovery: "V2_ONLY"},
		{name: "v1 within 5.26 unprepared", from: "5.26.0", to: "5.26.1", discovery: "V1_ONLY", refusal: "discovery service v1", fix: "In-place rolling"},
		{name: "5.20 to calendar", from: "5.20.0", to: "2025.10.1", refusal: "must be upgraded to 5.26 first", fix: "5.20.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := upgradePlan(t, tt.from, tt.to, plan.Options{}, func(n *state.Neo4j) {
				if tt.discovery != "" {
					if n.Settings == nil {
						n.Settings = map[string]state.Setting{}
					}
					n.Settings["dbms.cluster.discovery.version"] = state.Setting{Name: "dbms.cluster.discovery.version", Value: tt.discovery}
				}
			})
			switch {
			case tt.refusal == "" && len(p.Refusals) > 0:
				t.Errorf("got refusals %v, want none", p.Refusals)
			case tt.refusal != "":
				found := false
				for _, r := range p.Refusals {
					if strings.Contains(r.Reason, tt.refusal) && strings.Contains(r.Fix, tt.fix) {
						found = true
					}
				}
				if !found {
					t.Errorf("got refusals %+v, want one saying %q with a fix naming %q", p.Refusals, tt.refusal, tt.fix)
				}
			}
		})
	}
}
