package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// onDiscovery gives every server of n the per-server settings of a 5.x
// server started with mode, with (prepared) or without the v2 port name
// the manual's Preparation adds for the K8S resolver.
func onDiscovery(modes []string, prepared bool) func(*state.Neo4j) {
	return func(n *state.Neo4j) {
		n.ServerSettings = map[string]map[string]state.Setting{}
		for i, id := range plantest.ServerIDs[:len(n.Servers)] {
			set := map[string]state.Setting{
				plan.SettingDiscoveryVersion:           {Name: plan.SettingDiscoveryVersion, Value: modes[i%len(modes)]},
				"dbms.cluster.discovery.resolver_type": {Name: "dbms.cluster.discovery.resolver_type", Value: "K8S"},
				"dbms.routing.enabled":                 {Name: "dbms.routing.enabled", Value: "true"},
			}
			if prepared {
				set["dbms.kubernetes.discovery.v2.service_port_name"] = state.Setting{Name: "dbms.kubernetes.discovery.v2.service_port_name", Value: "tcp-cluster"}
			}
			n.ServerSettings[id] = set
		}
	}
}

// kinds lists the plan's discovery and upgrade steps in order.
func discoveryKinds(p *plan.Plan) []string {
	var got []string
	for _, s := range p.Steps {
		switch s.Kind {
		case plan.KindDiscoveryMove:
			got = append(got, "move "+s.Discovery.From+"→"+s.Discovery.To)
		case plan.KindDiscoveryVerify:
			got = append(got, "verify "+s.Discovery.To)
		case plan.KindUpgradePreflight:
			got = append(got, "preflight")
		case plan.KindRollingUpdate:
			got = append(got, "roll")
		case plan.KindUpgradeVerify:
			got = append(got, "upgrade-verify")
		}
	}
	return got
}

// TestComputeDiscoveryMove: a 5.26 cluster on discovery v1, prepared as
// the manual says, moves to v2 with the manual's procedure for moving an
// entire cluster — three moves, each to be checked on every server —
// before the first server restarts; on 5.x a check after the roll that
// the rendered V2_ONLY took; an interrupted move (V2_OVER_V1) continues
// from there; mixed modes and a missing Preparation are refused.
func TestComputeDiscoveryMove(t *testing.T) {
	moves := []string{"move V1_ONLY→V1_OVER_V2", "move V1_OVER_V2→V2_OVER_V1", "move V2_OVER_V1→V2_ONLY"}
	rolls := []string{"preflight", "roll", "preflight", "roll", "preflight", "roll", "upgrade-verify"}
	tests := []struct {
		name, to string
		modes    []string
		prepared bool
		want     []string
		refusal  string
	}{
		{name: "v1 to calendar", to: "2025.10.1", modes: []string{"V1_ONLY"}, prepared: true, want: append(append([]string{}, moves...), rolls...)},
		{name: "v1 within 5.26", to: "5.26.1", modes: []string{"V1_ONLY"}, prepared: true, want: append(append(append([]string{}, moves...), rolls...), "verify V2_ONLY")},
		{name: "interrupted at v2 over v1", to: "2025.10.1", modes: []string{"V2_OVER_V1"}, prepared: true, want: append([]string{moves[2]}, rolls...)},
		{name: "v2 only", to: "2025.10.1", modes: []string{"V2_ONLY"}, prepared: true, want: rolls},
		{name: "unprepared", to: "2025.10.1", modes: []string{"V1_ONLY"}, refusal: "Preparation is not done"},
		{name: "mixed", to: "2025.10.1", modes: []string{"V1_ONLY", "V1_OVER_V2"}, prepared: true, refusal: "different discovery modes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := upgradePlan(t, "5.26.0", tt.to, plan.Options{}, onDiscovery(tt.modes, tt.prepared))
			if tt.refusal != "" {
				if len(p.Refusals) == 0 || !strings.Contains(p.Refusals[0].Reason, tt.refusal) {
					t.Fatalf("refusals %+v, want one saying %q", p.Refusals, tt.refusal)
				}
				return
			}
			if len(p.Refusals) > 0 {
				t.Fatalf("refusals %+v, want none", p.Refusals)
			}
			if got := discoveryKinds(p); strings.Join(got, " | ") != strings.Join(tt.want, " | ") {
				t.Errorf("steps:\n got %q\nwant %q", got, tt.want)
			}
			for _, s := range p.Steps {
				if s.Kind == plan.KindDiscoveryMove && (!strings.Contains(s.Reason, "moveToNextDiscoveryVersion") || !strings.Contains(s.Reason, "showParallelDiscoveryState") || !strings.Contains(s.Reason, "Moving from discovery service v1 to v2")) {
					t.Errorf("move reason %q does not name the procedures and the manual's section", s.Reason)
				}
			}
		})
	}
}
