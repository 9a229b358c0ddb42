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
		{name: "unprepared", to: "2025.10.1", modes: []string{"V1_ONLY"}, refusal: "Preparation (Operations Manual 5.x"},
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

// helmDiscoveryPlan plans a 3-server cluster adopted from the Helm chart
// (spec.layout: helm: its settings are spec.config, nothing renders
// V2_ONLY) whose servers run 5.26.0 on discovery V1_ONLY, prepared or
// not, with spec.version to and spec.config config.
func helmDiscoveryPlan(t *testing.T, to string, config map[string]string, prepared bool) *plan.Plan {
	t.Helper()
	old := plantest.Cluster(3)
	old.Spec.Version, old.Spec.Image = "5.26.0", "neo4j:5.26.0-enterprise"
	was := plantest.Converged(old, 3)
	c := plantest.Cluster(3)
	c.Spec.Version, c.Spec.Image = to, "neo4j:"+to+"-enterprise"
	c.Spec.Config = config
	k := plantest.Converged(c, 3)
	// The live objects are what the servers run: the old version and
	// settings; a ConfigMap of the new settings does not exist yet.
	for i := range k.Objects {
		o := &k.Objects[i]
		for _, w := range was.Objects {
			if w.Kind == o.Kind && w.Name == o.Name {
				o.Live = w.Live
			}
		}
	}
	if config != nil {
		// The Pod template's configuration checksum changes with the
		// settings (plantest renders a fixed one), as the chart's
		// checksum/<release>-config does under layout: helm.
		sts := plantest.Object(&k, "StatefulSet", plantest.Name)
		sts.Live["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"] = map[string]any{"neo4jctl.io/config-hash": "0ld"}
	}
	n := plantest.Neo4j(3)
	for id, s := range n.Servers {
		s.Version = "5.26.0"
		n.Servers[id] = s
	}
	onDiscovery([]string{"V1_ONLY"}, prepared)(&n)
	d := plantest.Desired(c)
	d.Cluster.Spec.Layout = "helm"
	return mustCompute(t, d, k, n, plan.Options{})
}

// TestDiscoveryPreparationIsPhaseOne: on a Helm-layout cluster whose
// servers run discovery v1 without the manual's Preparation, a roll that
// keeps V1_ONLY is an ordinary roll (no move, no refusal); one that
// brings the Preparation through spec.config is planned as phase 1 of
// the move; a version change to a calendar version is refused with the
// exact setting and value to add; once prepared, the upgrade moves
// discovery first.
func TestDiscoveryPreparationIsPhaseOne(t *testing.T) {
	const prep = "dbms.kubernetes.discovery.v2.service_port_name"
	t.Run("phase 1 through spec.config", func(t *testing.T) {
		// heap: the rendering here is neo4jctl's, which has the v2
		// setting already; the Helm layout's -user-config ConfigMap
		// changes with it alone.
		p := helmDiscoveryPlan(t, "5.26.0", map[string]string{prep: "tcp-tx", "server.memory.heap.max_size": "1g"}, false)
		if len(p.Refusals) > 0 {
			t.Fatalf("refusals %+v, want none", p.Refusals)
		}
		var rolls int
		for _, s := range p.Steps {
			if s.Kind == plan.KindDiscoveryMove {
				t.Errorf("phase 1 plans a move: %s", s.Reason)
			}
			if s.Kind == plan.KindRollingUpdate {
				rolls++
				if !strings.Contains(s.Reason, "phase 1 of 2") || !strings.Contains(s.Reason, "Preparation") {
					t.Errorf("the roll does not say it is phase 1 of the move: %q", s.Reason)
				}
			}
		}
		if rolls == 0 {
			t.Fatalf("no roll planned: %v", discoveryKinds(p))
		}
	})
	t.Run("unrelated setting keeps v1", func(t *testing.T) {
		p := helmDiscoveryPlan(t, "5.26.0", map[string]string{"db.transaction.timeout": "5m", "server.memory.heap.max_size": "1g"}, false)
		if len(p.Refusals) > 0 {
			t.Fatalf("refusals %+v, want none: the roll keeps V1_ONLY", p.Refusals)
		}
		rolls := 0
		for _, s := range p.Steps {
			if s.Kind == plan.KindDiscoveryMove || strings.Contains(s.Reason, "phase 1") {
				t.Errorf("step %s: %q, want a plain roll", s.Kind, s.Reason)
			}
			if s.Kind == plan.KindRollingUpdate {
				rolls++
			}
		}
		if rolls == 0 {
			t.Fatalf("no roll planned: %v", discoveryKinds(p))
		}
	})
	t.Run("calendar upgrade unprepared", func(t *testing.T) {
		p := helmDiscoveryPlan(t, "2025.10.1", nil, false)
		if len(p.Refusals) == 0 {
			t.Fatalf("no refusal: %v", discoveryKinds(p))
		}
		f := p.Refusals[0].Fix
		for _, want := range []string{"keep spec.version on 5.26.0", prep + ": tcp-tx", "Phase 2"} {
			if !strings.Contains(f, want) {
				t.Errorf("fix %q does not say %q", f, want)
			}
		}
	})
	t.Run("calendar upgrade prepared", func(t *testing.T) {
		p := helmDiscoveryPlan(t, "2025.10.1", map[string]string{prep: "tcp-tx"}, true)
		if len(p.Refusals) > 0 {
			t.Fatalf("refusals %+v", p.Refusals)
		}
		got := discoveryKinds(p)
		if len(got) < 3 || got[0] != "move V1_ONLY→V1_OVER_V2" || got[2] != "move V2_OVER_V1→V2_ONLY" {
			t.Errorf("steps %q, want the three moves first", got)
		}
	})
	t.Run("spec.config mode other than V2_ONLY", func(t *testing.T) {
		p := helmDiscoveryPlan(t, "5.26.0", map[string]string{prep: "tcp-tx", "server.memory.heap.max_size": "1g", plan.SettingDiscoveryVersion: "V1_OVER_V2"}, true)
		if len(p.Refusals) == 0 || !strings.Contains(p.Refusals[0].Reason, "V1_OVER_V2") {
			t.Fatalf("refusals %+v, want the mode refused", p.Refusals)
		}
	})
}
