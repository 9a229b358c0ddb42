package neo4j

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// HasStatusCheck reports whether a Neo4j version has
// dbms.cluster.statusCheck: 5.24 and later, so every calendar version
// (2025.01 on) too (Operations Manual, clustering/monitoring/status-check:
// "Introduced in 5.24"). An unparsable version is assumed to have it: the
// call then fails and the check says so, rather than being skipped.
func HasStatusCheck(version string) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return true
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return major > 5 || (major == 5 && minor >= 24)
}

// ObserveHealth reads what the health check needs of the Neo4j plane:
// edition and version, SHOW SERVERS and SHOW DATABASES (settings are not
// read), then dbms.cluster.statusCheck for every clustered database where
// the version has it. The status check's own failure is returned apart
// (statusErr) so the servers and databases still count; checks is nil when
// the procedure does not exist in this version or edition.
func (c *Client) ObserveHealth(ctx context.Context, timeout time.Duration) (out state.Neo4j, checks []state.StatusCheck, statusErr error) {
	edition, version, err := c.recentComponents(ctx)
	if err != nil {
		return unreachable(err), nil, nil
	}
	out.Edition, out.Version = edition, version
	if edition != EditionCommunity {
		servers, err := c.Servers(ctx)
		switch {
		case IsEnterpriseRequired(err):
		case err != nil:
			return unreachable(err), nil, nil
		default:
			out.Servers = servers
		}
	}
	if out.Databases, err = c.Databases(ctx); err != nil {
		return unreachable(err), nil, nil
	}
	out.Reachable = true
	if edition == EditionCommunity || out.Servers == nil || !HasStatusCheck(version) {
		return out, nil, nil
	}
	// An empty list checks every clustered database this server hosts as
	// a primary (Operations Manual, clustering/monitoring/status-check).
	checks, statusErr = c.StatusCheck(ctx, nil, timeout)
	if statusErr == nil && checks == nil {
		checks = []state.StatusCheck{}
	}
	return out, checks, statusErr
}
