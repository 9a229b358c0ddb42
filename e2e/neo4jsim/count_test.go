package neo4jsim

import (
	"context"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// TestCountQuery: MATCH (n) RETURN count(n) on a user database answers
// the count set for it, named by its alias; a stopped database refuses it
// with DatabaseUnavailable, an unknown one with DatabaseNotFound.
func TestCountQuery(t *testing.T) {
	s := startSim(t, Config{Servers: 1})
	s.SetNodeCount("neo4j", 7)
	d := newDriver(t, s.URI("bolt"), testPassword)
	count := func(db, q string) (map[string]any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sess := d.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db})
		defer sess.Close(ctx)
		res, err := sess.Run(ctx, q, nil)
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return rec.AsMap(), nil
	}
	if m, err := count("neo4j", "MATCH (n) RETURN count(n) AS count"); err != nil || m["count"] != int64(7) {
		t.Errorf("count on neo4j: %v %v, want count 7", m, err)
	}
	if m, err := count("neo4j", "match (n)  return COUNT(n)"); err != nil || m["count(n)"] != int64(7) {
		t.Errorf("count without an alias: %v %v, want count(n) 7", m, err)
	}
	if _, err := count("nope", "MATCH (n) RETURN count(n) AS count"); neo4jCode(err) != CodeDatabaseNotFound {
		t.Errorf("count on an unknown database: %v, want %s", err, CodeDatabaseNotFound)
	}
	mustRun(t, d, "STOP DATABASE neo4j WAIT", nil)
	if _, err := count("neo4j", "MATCH (n) RETURN count(n) AS count"); neo4jCode(err) != CodeDatabaseUnavailable {
		t.Errorf("count on a stopped database: %v, want %s", err, CodeDatabaseUnavailable)
	}
}
