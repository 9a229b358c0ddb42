package neo4j

import (
	"context"
	"fmt"
)

// ReallocateNumberOfDatabases calls dbms.cluster.reallocateNumberOfDatabases(n
// [, dryRun]): it moves at most n user databases toward balance and returns
// the moves (Operations Manual 5.26, procedures/built-in-procedures.adoc
// § dbms.cluster.reallocateNumberOfDatabases(); clustering/databases.adoc
// § Reallocate databases using a procedure). Sent once; a dry run is
// retried.
func (c *Client) ReallocateNumberOfDatabases(ctx context.Context, n int, dryRun bool) ([]Reallocation, error) {
	if n < 1 {
		return nil, badInput("dbms.cluster.reallocateNumberOfDatabases", fmt.Errorf("number must be at least 1, got %d", n))
	}
	stmt := fmt.Sprintf("CALL dbms.cluster.reallocateNumberOfDatabases(%d, %t)", n, dryRun)
	rows, err := c.sendMaybeOnce(ctx, stmt, dryRun)
	if err != nil {
		return nil, err
	}
	return reallocationsFromRows(rows), nil
}
