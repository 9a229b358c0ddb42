package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// The versions guard: spec.version against what the servers report,
// before anything is written.
func TestComputeVersionsGuard(t *testing.T) {
	tests := []struct {
		name     string
		want     string // spec.version (and the image tag)
		reported string // what every server reports
		rolling  bool   // the Pod template changes (a rolling update is planned)
		refusal  string // "" means none
	}{
		{name: "same version", want: "5.26.0", reported: "5.26.0"},
		{name: "5.26 patch upgrade", want: "5.26.3", reported: "5.26.0", rolling: true},
		{name: "5.26 LTS to a calendar version", want: "2025.10.1", reported: "5.26.0", rolling: true},
		{name: "calendar forward", want: "2026.01.0", reported: "2025.10.1", rolling: true},
		{name: "5 minor forward", want: "5.24.0", reported: "5.20.0", rolling: true},
		{name: "downgrade", want: "5.26.0", reported: "2025.01.0", rolling: true, refusal: "does not support downgrades"},
		{name: "patch downgrade", want: "5.26.0", reported: "5.26.1", rolling: true, refusal: "does not support downgrades"},
		{name: "older than 5.26 to calendar", want: "2025.01.0", reported: "5.20.0", rolling: true, refusal: "must be upgraded to 5.26 first"},
		{name: "4.4 is a migration", want: "5.26.0", reported: "4.4.30", rolling: true, refusal: "is a migration"},
		{name: "upgrade that did not happen", want: "5.26.1", reported: "5.26.0", refusal: "the upgrade did not happen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := plantest.Cluster(3)
			c.Spec.Version = tt.want
			c.Spec.Image = "neo4j:" + tt.want + "-enterprise"
			k := plantest.Converged(c, 3)
			if tt.rolling {
				sts := plantest.Object(&k, "StatefulSet", plantest.Name)
				spec := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
				ctr := spec["containers"].([]any)[0].(map[string]any)
				ctr["image"] = "neo4j:" + tt.reported + "-enterprise"
			}
			n := plantest.Neo4j(3)
			for id, s := range n.Servers {
				s.Version = tt.reported
				n.Servers[id] = s
			}
			p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
			var got []string
			for _, r := range p.Refusals {
				got = append(got, r.Reason)
			}
			switch {
			case tt.refusal == "" && len(got) > 0:
				t.Errorf("got refusals %q, want none", got)
			case tt.refusal != "" && (len(got) != 1 || !strings.Contains(got[0], tt.refusal)):
				t.Errorf("got refusals %q, want one saying %q", got, tt.refusal)
			}
			if tt.rolling && tt.refusal == "" && !hasKind(p, plan.KindRollingUpdate) {
				t.Errorf("got steps %v, want the rolling update (the test's premise)", kinds(p))
			}
		})
	}
}

func hasKind(p *plan.Plan, k plan.Kind) bool {
	for _, s := range p.Steps {
		if s.Kind == k {
			return true
		}
	}
	return false
}

// A mixed cluster in the middle of a rolling upgrade is not a downgrade.
func TestComputeVersionsMidRoll(t *testing.T) {
	c := plantest.Cluster(3)
	c.Spec.Version, c.Spec.Image = "2025.10.1", "neo4j:2025.10.1-enterprise"
	k := plantest.Converged(c, 3)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	sts.Live["spec"].(map[string]any)["updateStrategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": float64(1)}}
	n := plantest.Neo4j(3)
	for i, id := range plantest.ServerIDs[:3] {
		s := n.Servers[id]
		s.Version = "5.26.0"
		if i >= 1 {
			s.Version = "2025.10.1"
		}
		n.Servers[id] = s
	}
	p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
	if len(p.Refusals) > 0 {
		t.Errorf("got refusals %+v, want none: the rolling update resumes", p.Refusals)
	}
}
