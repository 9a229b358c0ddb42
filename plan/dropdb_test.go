package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/plan"
)

// TestComputeDropDatabase: state: absent plans an irreversible DROP
// DATABASE that needs the name typed; an absent database already gone
// plans nothing; the default database is refused; a database merely
// removed from the file is unmanaged and never dropped.
func TestComputeDropDatabase(t *testing.T) {
	s := scenario("no-changes")
	s.Desired.Databases[0].Absent = true
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if diff := cmp.Diff([]string{"neo4j:database/movies drop-database"}, kinds(p)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	st := p.Steps[0]
	if !st.Irreversible || st.Action != plan.ActionDelete || p.Summary.Destroy != 1 || p.Summary.Irreversible != 1 {
		t.Errorf("got %+v, summary %+v: want an irreversible delete counted as destroyed", st, p.Summary)
	}
	if diff := cmp.Diff([]string{"movies"}, plan.DropConfirmations(p)); diff != "" {
		t.Errorf("confirmations (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 0 || len(p.Refusals) != 0 {
		t.Errorf("warnings %q refusals %v, want none", p.Warnings, p.Refusals)
	}

	// Gone already: nothing to do.
	s = scenario("no-changes")
	s.Desired.Databases = append(s.Desired.Databases, plan.Database{Name: "shop", Primaries: 1, Absent: true})
	if p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options); len(p.Steps) != 0 || len(p.Warnings) != 0 {
		t.Errorf("absent and gone: steps %v warnings %q, want none", kinds(p), p.Warnings)
	}

	// The default database.
	s = scenario("no-changes")
	s.Desired.Databases = append(s.Desired.Databases, plan.Database{Name: "neo4j", Primaries: 1, Absent: true})
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "default database") || len(plan.DropConfirmations(p)) != 0 {
		t.Errorf("absent default database: refusals %v steps %v", p.Refusals, kinds(p))
	}

	// Removed from the file: unmanaged, never dropped.
	s = scenario("no-changes")
	s.Desired.Databases = nil
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Steps) != 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "unmanaged") {
		t.Errorf("removed from the file: steps %v warnings %q, want no step and the unmanaged warning", kinds(p), p.Warnings)
	}
}
