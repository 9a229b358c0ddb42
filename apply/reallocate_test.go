package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// batchNeo4j adds dbms.cluster.reallocateNumberOfDatabases to the fake:
// each call moves the next round's allocations, then nothing.
type batchNeo4j struct {
	*fakeNeo4j
	rounds [][]neo4j.Reallocation
	calls  []int
}

func (b *batchNeo4j) ReallocateNumberOfDatabases(_ context.Context, n int, dry bool) ([]neo4j.Reallocation, error) {
	b.calls = append(b.calls, n)
	var moves []neo4j.Reallocation
	if len(b.rounds) > 0 {
		moves, b.rounds = b.rounds[0], b.rounds[1:]
	}
	return moves, b.send(fmt.Sprintf("REALLOCATE NUMBER %d", n), func() {})
}

// TestReallocateInRoundsUntilNothingMoves: a reallocate step with a batch
// calls dbms.cluster.reallocateNumberOfDatabases(batch), waits for the
// databases after each round, and stops when a round moves nothing; it
// never sends REALLOCATE DATABASES.
func TestReallocateInRoundsUntilNothingMoves(t *testing.T) {
	_, tg := scenario(t, "no-changes")
	l, k, n := newFakes(3)
	move := func(db string) []neo4j.Reallocation {
		return []neo4j.Reallocation{{Database: db, FromServerID: "a", ToServerID: "b", Mode: "primary"}}
	}
	b := &batchNeo4j{fakeNeo4j: n, rounds: [][]neo4j.Reallocation{move("db1"), move("db2")}}
	e := executor(k, n, &recorder{})
	e.Neo4j = func(context.Context) (Neo4j, func(), error) { return b, func() {}, nil }
	batch := int32(5)
	p := &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "neo4j:databases", Action: plan.ActionNeo4j, Kind: plan.KindReallocate, Batch: &batch}}}
	res, err := e.Apply(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(b.calls) != 3 || b.calls[0] != 5 {
		t.Errorf("reallocateNumberOfDatabases calls %v, want three of 5 (two rounds that move, one that does not)", b.calls)
	}
	for _, c := range l.get() {
		if c == "REALLOCATE" || c == "DRYRUN REALLOCATE" {
			t.Errorf("REALLOCATE DATABASES sent: %v", l.get())
		}
	}
	if got := res.Steps[0].Note; !strings.Contains(got, "2 allocations moved in 2 rounds") {
		t.Errorf("note %q", got)
	}
}
