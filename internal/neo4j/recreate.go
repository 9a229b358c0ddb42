package neo4j

import (
	"context"
	"errors"
)

// RecreateDatabaseStatement builds CALL dbms.cluster.recreateDatabase('name',
// {seedURI: '…'[, primaries: n, secondaries: m]}): the 5.26 procedure that
// replaces every allocation's store with the seed, keeping the database's
// privileges (Operations Manual 5.26,
// database-administration/standard-databases/recreate-database.adoc,
// "Syntax" and "Use seedURI"; clustering/databases.adoc, "Restore a
// database using the dbms.recreateDatabase() procedure", where the page
// writes the 2025.04 name dbms.recreateDatabase — the procedure reference
// of 5.26 lists dbms.cluster.recreateDatabase). A zero topology keeps the
// database's own.
func RecreateDatabaseStatement(name, seedURI string, t Topology) (string, error) {
	if err := ValidateDatabaseName(name); err != nil {
		return "", err
	}
	if name == "system" {
		return "", errors.New("the system database cannot be recreated")
	}
	if seedURI == "" {
		return "", errors.New("recreate needs a seed URI")
	}
	q, err := QuoteString(name)
	if err != nil {
		return "", err
	}
	opts := map[string]any{"seedURI": seedURI}
	if t.Primaries > 0 {
		opts["primaries"] = int64(t.Primaries)
		opts["secondaries"] = int64(t.Secondaries)
	}
	m, err := MapLiteral(opts)
	if err != nil {
		return "", err
	}
	return "CALL dbms.cluster.recreateDatabase(" + q + ", " + m + ")", nil
}

// RecreateDatabase runs dbms.cluster.recreateDatabase, sent once: a second
// call would start a second recreation.
func (c *Client) RecreateDatabase(ctx context.Context, name, seedURI string, t Topology) error {
	stmt, err := RecreateDatabaseStatement(name, seedURI, t)
	if err != nil {
		return badInput("recreate database", err)
	}
	_, err = c.writeOnce(ctx, stmt)
	return err
}
