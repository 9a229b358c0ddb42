package neo4j

import (
	"context"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// CountNodesStatement is the data query a DR drill runs on each restored
// database: it reads the store, so it fails unless the database serves
// queries, and its answer is comparable with the backup's node count.
const CountNodesStatement = "MATCH (n) RETURN count(n) AS count"

// CountNodes runs CountNodesStatement on database db (a read, routed as
// any read on db; not retried: a drill reports the failure as it is).
func (c *Client) CountNodes(ctx context.Context, db string) (int64, error) {
	sess := c.main.NewSession(ctx, driver.SessionConfig{DatabaseName: db, AccessMode: driver.AccessModeRead})
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	res, err := sess.Run(ctx, CountNodesStatement, nil)
	if err != nil {
		return 0, c.fail(CountNodesStatement, err)
	}
	recs, err := res.Collect(ctx)
	if err != nil {
		return 0, c.fail(CountNodesStatement, err)
	}
	if len(recs) != 1 {
		return 0, &Error{Op: CountNodesStatement, Kind: KindUnknown, Message: "expected one row"}
	}
	return integer(recs[0].AsMap(), "count"), nil
}
