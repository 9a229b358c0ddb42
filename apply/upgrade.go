package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/plan"
)

// upgradePreflight waits until the two queries the Upgrade and Migration
// Guide runs before each server of an in-place rolling upgrade return no
// rows (plan.KindUpgradePreflight): every server hosts what it is
// requested to host, and every database allocation is at its requested
// status. The rows are read once per attempt with the roll gate's own
// observation, and the WHERE clauses evaluated on them, so the pre-flight
// and the gate see the same cluster. Not met within the step timeout, the
// upgrade stops before the server's Pod is touched.
func (e *Executor) upgradePreflight(ctx context.Context, s plan.Step) (outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	pod := ""
	if s.Server != nil {
		pod = s.Server.Name
	}
	err := e.poll(ctx, s, "the upgrade pre-flight before "+pod+" (no server hosting other than requested, no database other than its requested status)", func(ctx context.Context) (bool, string, error) {
		in, err := e.readRollInput(ctx)
		if err != nil {
			return false, "", err
		}
		rows := preflightRows(in)
		return len(rows) == 0, strings.Join(rows, "; "), nil
	})
	if err != nil {
		return outcome{}, fmt.Errorf("%w; %s was not restarted and the servers not yet upgraded keep their version: make the cluster whole again and run apply again", err, pod)
	}
	return outcome{unchanged: true, note: "pre-flight passed: both queries returned no rows"}, nil
}

// preflightRows are the rows plan.PreflightServers and
// plan.PreflightDatabases would return, as text.
func preflightRows(in healthcheck.RollInput) []string {
	var rows []string
	ids := make([]string, 0, len(in.Servers))
	for id := range in.Servers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		srv := in.Servers[id]
		// Compared as sets (sameSet): the order of the two lists is not
		// what the guide's check is about.
		if !sameSet(srv.Hosting, srv.RequestedHosting) {
			rows = append(rows, fmt.Sprintf("server %s hosts [%s], requested [%s]", srv.Name, strings.Join(srv.Hosting, ", "), strings.Join(srv.RequestedHosting, ", ")))
		}
	}
	for _, a := range in.Databases {
		if a.CurrentStatus != a.RequestedStatus {
			rows = append(rows, fmt.Sprintf("database %s on %s is %s, requested %s", a.Name, a.Address, orDash(a.CurrentStatus), a.RequestedStatus))
		}
	}
	return rows
}
