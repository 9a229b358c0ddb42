package plan_test

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestAlterServerKeepsListsTheFileDoesNotManage: ALTER SERVER replaces all
// options (clustering/servers.adoc § Altering server options), so lists an
// operator set and the file does not manage are sent back, not wiped.
func TestAlterServerKeepsListsTheFileDoesNotManage(t *testing.T) {
	c := plantest.Cluster(3)
	n := plantest.Neo4j(3)
	srv := n.Servers[plantest.ServerIDs[1]]
	srv.AllowedDatabases = []string{"movies", "neo4j"}
	n.Servers[srv.ID] = srv
	p, err := plan.Compute(plantest.Desired(c), plantest.Converged(c, 3), n, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps {
		if s.Kind == plan.KindAlterServer {
			t.Errorf("ALTER SERVER planned although the file does not manage allowedDatabases: %+v", s.Server.Options)
		}
	}
}

// TestAlterServerShowsTheDatabasesItMoves: denying a database a server
// hosts makes Neo4j move it; the plan says so and waits for it.
func TestAlterServerShowsTheDatabasesItMoves(t *testing.T) {
	c := plantest.Cluster(4)
	d := plantest.Desired(c)
	d.Pools[0].Options.DeniedDatabases = []string{"movies"}
	d.Pools[0].ManagesDatabaseLists = true
	// (Validation refuses a file whose lists leave movies too few
	// servers; plan is handed the pool directly to look at one server.)
	p, err := plan.Compute(d, plantest.Converged(c, 4), plantest.Neo4j(4), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var alter, wait bool
	for _, s := range p.Steps {
		if s.Address != "neo4j:server/"+plantest.ServerIDs[0] {
			continue
		}
		switch s.Kind {
		case plan.KindAlterServer:
			alter = true
			if !strings.Contains(s.Reason, "moves movies") || len(s.Server.Options.DeniedDatabases) != 1 {
				t.Errorf("alter-server of prod-0: reason %q, options %+v; want it to name the move of movies", s.Reason, s.Server.Options)
			}
		case plan.KindWaitDatabasesOnline:
			wait = alter
		}
	}
	if !alter || !wait {
		t.Errorf("want ALTER SERVER of prod-0 followed by a wait for the moved databases: %v", stepKinds(p))
	}
}
