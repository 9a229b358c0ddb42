package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestLargeReallocationGoesInRounds: more databases to move than
// plan.ReallocateThreshold are moved in rounds of plan.ReallocateBatch with
// dbms.cluster.reallocateNumberOfDatabases, as the manual advises for large
// clusters (clustering/databases.adoc § Reallocate databases using a Cypher
// command); a few go with one REALLOCATE DATABASES.
func TestLargeReallocationGoesInRounds(t *testing.T) {
	c5 := plantest.Cluster(5)
	d, k, n := plantest.Desired(c5), plantest.Converged(c5, 5), plantest.Neo4j(5)
	reallocate := func(dbs int) *plan.Step {
		t.Helper()
		n.DryRuns = []state.DryRun{{Kind: state.DryRunReallocate}}
		for i := 0; i < dbs; i++ {
			n.DryRuns[0].Moves = append(n.DryRuns[0].Moves, state.Move{Database: fmt.Sprintf("db%02d", i),
				FromServerID: plantest.ServerIDs[0], ToServerID: plantest.ServerIDs[4], Mode: "primary"})
		}
		p := mustCompute(t, d, k, n, plan.Options{})
		for i := range p.Steps {
			if p.Steps[i].Kind == plan.KindReallocate {
				return &p.Steps[i]
			}
		}
		t.Fatalf("no reallocate step: %v", kinds(p))
		return nil
	}
	if s := reallocate(plan.ReallocateThreshold); s.Batch != nil {
		t.Errorf("%d databases: batch %d, want one REALLOCATE DATABASES", plan.ReallocateThreshold, *s.Batch)
	}
	s := reallocate(plan.ReallocateThreshold + 1)
	if s.Batch == nil || *s.Batch != plan.ReallocateBatch || !strings.Contains(s.Reason, "reallocateNumberOfDatabases") {
		t.Errorf("%d databases: batch %v reason %q, want rounds of %d", plan.ReallocateThreshold+1, s.Batch, s.Reason, plan.ReallocateBatch)
	}
}
