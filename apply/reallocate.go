package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// batchReallocator is the bounded reallocation; *neo4j.Client has it. It is
// asked for by assertion so the Neo4j interface (and its fakes) need not
// grow for it.
type batchReallocator interface {
	ReallocateNumberOfDatabases(ctx context.Context, n int, dryRun bool) ([]neo4j.Reallocation, error)
}

// maxReallocateRounds stops a reallocation that never settles (each round
// moves something) instead of looping for ever.
const maxReallocateRounds = 200

// reallocateInRounds moves at most *s.Batch databases per round with
// dbms.cluster.reallocateNumberOfDatabases, waits until every database is
// online with its requested counts, and goes again until a round moves
// nothing, as the manual advises for large clusters (plan/balance.go).
func (e *Executor) reallocateInRounds(ctx context.Context, s plan.Step) (outcome, error) {
	c, err := e.connectRetrying(ctx)
	if err != nil {
		return outcome{}, err
	}
	br, ok := c.(batchReallocator)
	if !ok {
		return outcome{}, errors.New("this Neo4j connection cannot call dbms.cluster.reallocateNumberOfDatabases")
	}
	n := int(*s.Batch)
	var o outcome
	moved := 0
	for round := 1; round <= maxReallocateRounds; round++ {
		moves, err := br.ReallocateNumberOfDatabases(ctx, n, false)
		if err != nil {
			e.dropConn(err)
			if !neo4j.IsRefused(err) {
				o.wrote = true
			}
			return o, fmt.Errorf("round %d of dbms.cluster.reallocateNumberOfDatabases(%d): %w (not resent; run neo4jctl plan to see where the databases are)", round, n, err)
		}
		if len(moves) == 0 {
			if moved == 0 {
				o.unchanged = true
			}
			o.note = fmt.Sprintf("%d allocations moved in %d rounds of at most %d databases", moved, round-1, n)
			return o, nil
		}
		o.wrote = true
		moved += len(moves)
		e.hook().StepProgress(s, fmt.Sprintf("Round %d: %s", round, describeMoves(moves)))
		if err := e.waitDatabasesOnline(ctx, s); err != nil {
			return o, fmt.Errorf("after round %d: %w", round, err)
		}
	}
	return o, fmt.Errorf("the databases were still being moved after %d rounds of dbms.cluster.reallocateNumberOfDatabases(%d)", maxReallocateRounds, n)
}
