package neo4j

import (
	"context"
	"fmt"
)

// Moving a 5.x cluster from discovery service v1 to v2 (Operations Manual
// 5.x, clustering/setup/discovery.adoc § "Moving from discovery service
// v1 to v2", "Procedure for moving an entire cluster"): the state of the
// server a session runs on, and the cluster-wide move to the next mode.
// Both procedures were removed in 2025.01 (breaking-changes.adoc §
// Procedures), with v1 itself.

// DiscoveryStateStatement reports the discovery mode of the server it runs
// on, with the comparison of the v1 and v2 views of the cluster.
const DiscoveryStateStatement = "CALL dbms.cluster.showParallelDiscoveryState()"

// MoveDiscoveryStatement moves every server to the next discovery mode:
// V1_ONLY → V1_OVER_V2 → V2_OVER_V1 → V2_ONLY.
const MoveDiscoveryStatement = "CALL dbms.cluster.moveToNextDiscoveryVersion()"

// DiscoveryState is one server's answer to DiscoveryStateStatement. The
// counts are strings in Neo4j's answer ("3", or "N/A" for a service the
// server does not run).
type DiscoveryState struct {
	Mode            string
	StateComparison string
	V1ServerCount   string
	V2ServerCount   string
}

// DiscoveryState runs DiscoveryStateStatement on the server advertised at
// address (over a direct connection: the answer is that server's).
func (c *Client) DiscoveryState(ctx context.Context, address string) (DiscoveryState, error) {
	rows, err := c.onServer(ctx, address, DiscoveryStateStatement, nil, false)
	if err != nil {
		return DiscoveryState{}, err
	}
	if len(rows) != 1 {
		return DiscoveryState{}, fmt.Errorf("%s on %s returned %d rows, want 1", DiscoveryStateStatement, address, len(rows))
	}
	r := rows[0]
	return DiscoveryState{Mode: str(r, "mode"), StateComparison: str(r, "stateComparison"),
		V1ServerCount: fmt.Sprint(r["v1ServerCount"]), V2ServerCount: fmt.Sprint(r["v2ServerCount"])}, nil
}

// MoveToNextDiscoveryVersion runs MoveDiscoveryStatement once, on the
// server advertised at address. It is not idempotent (each call moves one
// mode further): it is never retried; the caller re-reads the state.
func (c *Client) MoveToNextDiscoveryVersion(ctx context.Context, address string) error {
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	_, err := c.onServer(wctx, address, MoveDiscoveryStatement, nil, true)
	return c.timedOut(ctx, wctx, err)
}

// ReloadTLSStatement re-reads the certificates and SSL policies of the
// server it runs on (Operations Manual, procedures/built-in-procedures.adoc
// § dbms.security.reloadTLS(): Enterprise, admin only, mode DBMS, from
// 2025.03; security/ssl-framework.adoc § Certificates rotation: "Connect
// to each cluster member in turn … using a bolt URI scheme and run the
// reload procedure").
const ReloadTLSStatement = "CALL dbms.security.reloadTLS()"

// ReloadTLS runs ReloadTLSStatement on the server advertised at address.
// Reloading twice is harmless, so a lost answer is simply retried by the
// caller.
func (c *Client) ReloadTLS(ctx context.Context, address string) error {
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	_, err := c.onServer(wctx, address, ReloadTLSStatement, nil, true)
	return c.timedOut(ctx, wctx, err)
}
