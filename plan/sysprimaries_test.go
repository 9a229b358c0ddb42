package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestScaleInRefusedWhenSystemPrimariesLoseTheirMajority: what counts is
// which servers SHOW DATABASES reports as system primaries, not
// spec.systemPrimaries. Five servers all host system as primaries (an
// earlier rendering made them so); the file asks for 2 servers and 1
// system primary, which the count alone allows; three of five primaries
// would leave and system would have no majority.
func TestScaleInRefusedWhenSystemPrimariesLoseTheirMajority(t *testing.T) {
	c := plantest.Cluster(2)
	c.Spec.SystemPrimaries = 1
	c.Spec.Databases[0].Topology.Primaries = 1
	n := plantest.Neo4j(5)
	for i, a := range n.Databases {
		if a.Name == "system" {
			n.Databases[i].Role = "primary"
		}
	}
	p, err := plan.Compute(plantest.Desired(c), plantest.Converged(c, 5), n, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, r := range p.Refusals {
		if strings.Contains(r.Reason, "system database's 5 primaries") {
			found++
		}
	}
	if found != 1 {
		t.Errorf("want one refusal naming the system primaries' majority, got %+v", p.Refusals)
	}
}

// TestRollWarnsWhenSystemPrimariesBecomeSecondaries: a template change
// restarts prod-3 and prod-4, system primaries today, as secondaries
// (ordinals ≥ spec.systemPrimaries): the plan says so.
func TestRollWarnsWhenSystemPrimariesBecomeSecondaries(t *testing.T) {
	c := plantest.Cluster(5)
	k := plantest.Converged(c, 5)
	sts := plantest.Object(&k, "StatefulSet", plantest.Name)
	ctr := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	ctr["image"] = "neo4j:5.26.1-enterprise"
	n := plantest.Neo4j(5)
	for i, a := range n.Databases {
		if a.Name == "system" {
			n.Databases[i].Role = "primary"
		}
	}
	p, err := plan.Compute(plantest.Desired(c), k, n, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range p.Warnings {
		if strings.Contains(w, "prod-3, prod-4 back as system secondaries") && strings.Contains(w, "from 5 primaries to 3") {
			return
		}
	}
	t.Errorf("no warning about prod-3 and prod-4 becoming system secondaries: %q (steps %v)", p.Warnings, stepKinds(p))
}
