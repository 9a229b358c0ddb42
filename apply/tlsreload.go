package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
)

// tlsReloader runs CALL dbms.security.reloadTLS() on one server;
// *neo4j.Client has it. Asked for by assertion, as configSetter is.
type tlsReloader interface {
	ReloadTLS(ctx context.Context, address string) error
}

var _ tlsReloader = (*neo4j.Client)(nil)

// reloadTLS runs CALL dbms.security.reloadTLS() on the step's server over
// a direct connection (plan.KindReloadTLS): the procedure acts on the
// server it runs on. Its address is read from SHOW SERVERS now, by the
// server's id. New connections use the renewed certificate; open ones
// keep theirs (security/ssl-framework.adoc § Certificates rotation).
func (e *Executor) reloadTLS(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Server == nil || s.Server.ServerID == "" {
		return outcome{}, errors.New("the step names no server")
	}
	srv, err := e.serverFor(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	if srv.Address == "" {
		return outcome{}, fmt.Errorf("server %s has no address in SHOW SERVERS", srv.Name)
	}
	c, err := e.neo4jConn(ctx)
	if err != nil {
		return outcome{}, err
	}
	r, ok := c.(tlsReloader)
	if !ok {
		return outcome{}, errors.New("this Neo4j connection cannot run a procedure on one server")
	}
	if err := r.ReloadTLS(ctx, srv.Address); err != nil {
		return outcome{}, fmt.Errorf("%s on %s: %w", neo4j.ReloadTLSStatement, srv.Name, err)
	}
	return outcome{wrote: true, note: "certificates reloaded on " + srv.Name}, nil
}
