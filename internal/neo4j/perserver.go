package neo4j

import (
	"context"
	"fmt"
	"sort"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Settings are per server: SHOW SETTINGS answers for the server the session
// runs on, and CALL dbms.setConfigValue "affects only the cluster member it
// is run against" (Operations Manual 5.26, configuration/dynamic-settings.adoc).
// These helpers run on one server over a direct (bolt://) connection to its
// advertised address, through the Resolver like every other connection.

// onServer runs stmt with params once on the server advertised at address.
func (c *Client) onServer(ctx context.Context, address, stmt string, params map[string]any, write bool) ([]row, error) {
	c.mu.Lock()
	d, ok := c.direct[address]
	c.mu.Unlock()
	if !ok {
		nd, err := c.newDirect(address)
		if err != nil {
			return nil, c.fail(stmt, err)
		}
		c.mu.Lock()
		if c.direct == nil {
			c.direct = map[string]driver.DriverWithContext{}
		}
		if old, ok := c.direct[address]; ok {
			_ = nd.Close(ctx)
			nd = old
		} else {
			c.direct[address] = nd
		}
		c.mu.Unlock()
		d = nd
	}
	mode := driver.AccessModeRead
	if write {
		mode = driver.AccessModeWrite
	}
	sess := d.NewSession(ctx, driver.SessionConfig{DatabaseName: systemDB, AccessMode: mode})
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	res, err := sess.Run(ctx, stmt, params)
	if err != nil {
		return nil, c.fail(stmt, err)
	}
	recs, err := res.Collect(ctx)
	if err != nil {
		return nil, c.fail(stmt, err)
	}
	rows := make([]row, len(recs))
	for i, r := range recs {
		rows[i] = r.AsMap()
	}
	return rows, nil
}

// ServerSettings reads SHOW SETTINGS on each Enabled, Available server with
// an address, keyed by serverId. A server that cannot be asked is left out
// (its settings are unknown, not different).
func (c *Client) ServerSettings(ctx context.Context, servers map[string]state.Server) map[string]map[string]state.Setting {
	ids := make([]string, 0, len(servers))
	for id, s := range servers {
		if s.Address != "" && s.Health == state.HealthAvailable && s.State != state.ServerDropped && s.State != state.ServerFree {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := map[string]map[string]state.Setting{}
	for _, id := range ids {
		// A server that does not answer (its Pod going away under a
		// port-forward) must not hold the whole observation: it is left
		// out after the connect timeout, twice over.
		sctx, cancel := context.WithTimeout(ctx, 2*c.connectTimeout())
		rows, err := c.onServer(sctx, servers[id].Address, ShowSettingsStatement, nil, false)
		cancel()
		if err != nil {
			continue
		}
		out[id] = settingsFromRows(rows)
	}
	return out
}

// SetConfigValue runs CALL dbms.setConfigValue(key, value) on the server
// advertised at address only. The value is a parameter, never part of the
// statement text, so it appears in no log or error.
func (c *Client) SetConfigValue(ctx context.Context, address, key, value string) error {
	if key == "" {
		return badInput("dbms.setConfigValue", fmt.Errorf("empty setting name"))
	}
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	_, err := c.onServer(wctx, address, "CALL dbms.setConfigValue($name, $value)", map[string]any{"name": key, "value": value}, true)
	return c.timedOut(ctx, wctx, err)
}
