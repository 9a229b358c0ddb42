package neo4j

import (
	"context"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Observer is what the pure layers need to read the Neo4j plane.
type Observer interface {
	Observe(ctx context.Context) state.Neo4j
}

// Admin is what apply needs to change the Neo4j plane. Methods documented
// "sent once" are not idempotent: after an error the outcome is unknown and
// the caller must re-read SHOW SERVERS / SHOW DATABASES before deciding the
// next step.
type Admin interface {
	EnableServer(ctx context.Context, id string, opts ServerOptions) error
	AlterServerOptions(ctx context.Context, name string, opts ServerOptions) error
	RenameServer(ctx context.Context, from, to string) error
	CordonServer(ctx context.Context, id string) error
	DeallocateServers(ctx context.Context, dryRun bool, ids ...string) ([]Reallocation, error)
	ReallocateDatabases(ctx context.Context, dryRun bool) ([]Reallocation, error)
	DropServer(ctx context.Context, id string) error
	CreateDatabase(ctx context.Context, name string, c CreateDatabase) error
	AlterDatabaseTopology(ctx context.Context, name string, t Topology) error
	AlterDatabaseAccess(ctx context.Context, name string, readOnly bool) error
	DropDatabase(ctx context.Context, name string, d DropDatabase) error
}

var (
	_ Observer = (*Client)(nil)
	_ Admin    = (*Client)(nil)
)

// Reallocation is one database allocation a DEALLOCATE or REALLOCATE moves
// (the rows a DRYRUN returns).
type Reallocation = state.Move

func reallocationsFromRows(rows []row) []Reallocation {
	out := make([]Reallocation, 0, len(rows))
	for _, r := range rows {
		out = append(out, Reallocation{
			Database:       str(r, "database"),
			FromServerName: str(r, "fromServerName"),
			FromServerID:   str(r, "fromServerId"),
			ToServerName:   str(r, "toServerName"),
			ToServerID:     str(r, "toServerId"),
			Mode:           str(r, "mode"),
		})
	}
	return out
}

// badInput reports a statement that could not be built; nothing was sent.
func badInput(op string, err error) error {
	return &Error{Op: op, Kind: KindUnknown, Message: err.Error()}
}

// EnableServer runs ENABLE SERVER (idempotent for equal options; retried).
func (c *Client) EnableServer(ctx context.Context, id string, opts ServerOptions) error {
	stmt, err := EnableServerStatement(id, opts)
	if err != nil {
		return badInput("enable server", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// AlterServerOptions runs ALTER SERVER … SET OPTIONS with the full option
// set (retried).
func (c *Client) AlterServerOptions(ctx context.Context, name string, opts ServerOptions) error {
	stmt, err := AlterServerOptionsStatement(name, opts)
	if err != nil {
		return badInput("alter server", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// RenameServer runs RENAME SERVER (retried). A retry after a lost reply
// can fail because the old name is gone; re-read SHOW SERVERS then.
func (c *Client) RenameServer(ctx context.Context, from, to string) error {
	stmt, err := RenameServerStatement(from, to)
	if err != nil {
		return badInput("rename server", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// CordonServer calls dbms.cluster.cordonServer (retried).
func (c *Client) CordonServer(ctx context.Context, id string) error {
	stmt, err := CordonServerStatement(id)
	if err != nil {
		return badInput("cordon server", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// DeallocateServers runs [DRYRUN] DEALLOCATE DATABASES FROM SERVER(S). The
// real run is irreversible and sent once; the dry run changes nothing and
// is retried. Both return the moves the server reports.
func (c *Client) DeallocateServers(ctx context.Context, dryRun bool, ids ...string) ([]Reallocation, error) {
	stmt, err := DeallocateServersStatement(dryRun, ids...)
	if err != nil {
		return nil, badInput("deallocate", err)
	}
	rows, err := c.sendMaybeOnce(ctx, stmt, dryRun)
	if err != nil {
		return nil, err
	}
	return reallocationsFromRows(rows), nil
}

// ReallocateDatabases runs [DRYRUN] REALLOCATE DATABASES: sent once, or
// retried as a dry run.
func (c *Client) ReallocateDatabases(ctx context.Context, dryRun bool) ([]Reallocation, error) {
	rows, err := c.sendMaybeOnce(ctx, ReallocateDatabasesStatement(dryRun), dryRun)
	if err != nil {
		return nil, err
	}
	return reallocationsFromRows(rows), nil
}

// DropServer runs DROP SERVER (sent once).
func (c *Client) DropServer(ctx context.Context, id string) error {
	stmt, err := DropServerStatement(id)
	if err != nil {
		return badInput("drop server", err)
	}
	_, err = c.writeOnce(ctx, stmt)
	return err
}

// CreateDatabase runs CREATE DATABASE (sent once, even with IF NOT EXISTS:
// OPTIONS such as a seed make a second attempt observable).
func (c *Client) CreateDatabase(ctx context.Context, name string, cd CreateDatabase) error {
	stmt, err := CreateDatabaseStatement(name, cd)
	if err != nil {
		return badInput("create database", err)
	}
	_, err = c.writeOnce(ctx, stmt)
	return err
}

// AlterDatabaseTopology runs ALTER DATABASE … SET TOPOLOGY (retried).
func (c *Client) AlterDatabaseTopology(ctx context.Context, name string, t Topology) error {
	stmt, err := AlterDatabaseTopologyStatement(name, t)
	if err != nil {
		return badInput("alter database", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// AlterDatabaseAccess runs ALTER DATABASE … SET ACCESS (retried).
func (c *Client) AlterDatabaseAccess(ctx context.Context, name string, readOnly bool) error {
	stmt, err := AlterDatabaseAccessStatement(name, readOnly)
	if err != nil {
		return badInput("alter database", err)
	}
	_, err = c.writeIdempotent(ctx, stmt)
	return err
}

// DropDatabase runs DROP DATABASE (sent once).
func (c *Client) DropDatabase(ctx context.Context, name string, d DropDatabase) error {
	stmt, err := DropDatabaseStatement(name, d)
	if err != nil {
		return badInput("drop database", err)
	}
	_, err = c.writeOnce(ctx, stmt)
	return err
}

func (c *Client) sendMaybeOnce(ctx context.Context, stmt string, idempotent bool) ([]row, error) {
	if idempotent {
		return c.writeIdempotent(ctx, stmt)
	}
	return c.writeOnce(ctx, stmt)
}
