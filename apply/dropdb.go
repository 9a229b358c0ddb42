package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// databaseDropper is the part of the Neo4j client a drop-database step
// needs. It is asserted, not part of Neo4j, so that clients without it
// (test fakes) keep compiling; the real client has it.
type databaseDropper interface {
	DropDatabase(ctx context.Context, name string, d neo4j.DropDatabase) error
}

// dropDatabase runs a drop-database step (state: absent, confirmed with the
// database's name before apply started): DROP DATABASE x IF EXISTS DESTROY
// DATA, sent once (delete-databases.adoc; not idempotent in effect, so on
// an error SHOW DATABASES says whether it took effect), never retried.
func (e *Executor) dropDatabase(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Database == nil {
		return outcome{}, errors.New("the step names no database")
	}
	name := s.Database.Name
	c, err := e.connectRetrying(ctx)
	if err != nil {
		return outcome{}, err
	}
	dbs, err := c.Databases(ctx)
	if err != nil {
		e.dropConn(err)
		return outcome{}, err
	}
	if !hasDatabase(dbs, name) {
		return outcome{unchanged: true, note: "already dropped"}, nil
	}
	d, ok := c.(databaseDropper)
	if !ok {
		return outcome{}, errors.New("this Neo4j client cannot drop databases")
	}
	sendErr := d.DropDatabase(ctx, name, neo4j.DropDatabase{IfExists: true})
	if sendErr == nil {
		return outcome{wrote: true}, nil
	}
	e.dropConn(sendErr)
	if neo4j.IsRefused(sendErr) {
		return outcome{}, sendErr
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rereadTimeout)
	defer cancel()
	c2, err := e.neo4jConn(rctx)
	if err == nil {
		dbs, err = c2.Databases(rctx)
	}
	if err != nil {
		return outcome{wrote: true}, fmt.Errorf("%w; and re-reading SHOW DATABASES to learn whether DROP DATABASE took effect failed too: %v", sendErr, err)
	}
	if !hasDatabase(dbs, name) {
		return outcome{wrote: true, note: "the reply was lost but the database is gone"}, ctx.Err()
	}
	return outcome{wrote: true}, fmt.Errorf("%w (SHOW DATABASES shows it did not take effect)", sendErr)
}
