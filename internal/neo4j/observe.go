package neo4j

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j/dbtype"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Observation statements, exported for the simulator's and the contract
// suite's tests.
const (
	ShowServersStatement   = "SHOW SERVERS YIELD *"
	ShowDatabasesStatement = "SHOW DATABASES YIELD *"
	ShowSettingsStatement  = "SHOW SETTINGS YIELD *"
	ListConfigStatement    = "CALL dbms.listConfig()"
)

// Servers runs SHOW SERVERS YIELD * and returns the servers keyed by
// serverId. Rows without a serverId are skipped: nothing else identifies a
// server stably. List columns are sorted (they are sets).
func (c *Client) Servers(ctx context.Context) (map[string]state.Server, error) {
	rows, err := c.read(ctx, ShowServersStatement)
	if err != nil {
		return nil, err
	}
	return serversFromRows(rows), nil
}

func serversFromRows(rows []row) map[string]state.Server {
	out := make(map[string]state.Server, len(rows))
	for _, r := range rows {
		id := str(r, "serverId")
		if id == "" {
			continue
		}
		out[id] = state.Server{
			ID:               id,
			Name:             str(r, "name"),
			Address:          str(r, "address"),
			HTTPAddress:      str(r, "httpAddress"),
			HTTPSAddress:     str(r, "httpsAddress"),
			State:            str(r, "state"),
			Health:           str(r, "health"),
			Hosting:          sortedList(r, "hosting"),
			RequestedHosting: sortedList(r, "requestedHosting"),
			Tags:             sortedList(r, "tags"),
			AllowedDatabases: sortedList(r, "allowedDatabases"),
			DeniedDatabases:  sortedList(r, "deniedDatabases"),
			ModeConstraint:   str(r, "modeConstraint"),
			Version:          str(r, "version"),
		}
	}
	return out
}

// Databases runs SHOW DATABASES YIELD * and returns one allocation per row,
// sorted by name, serverID and address so output is stable.
func (c *Client) Databases(ctx context.Context) ([]state.DatabaseAllocation, error) {
	rows, err := c.read(ctx, ShowDatabasesStatement)
	if err != nil {
		return nil, err
	}
	return databasesFromRows(rows), nil
}

// replicationLag reads SHOW DATABASES' replicationLag: the transactions a
// copy is behind the writer. The Operations Manual (5.26) gives it two
// signs: database-administration/standard-databases/listing-databases.adoc
// § SHOW DATABASES output says "expressed in negative integers",
// clustering/monitoring/show-databases-monitoring.adoc's table shows 1 for
// "the difference in transaction numbers between this server and the
// writer". The magnitude is the lag either way. NULL (a copy not online
// or deallocating) is unknown: nil.
func replicationLag(r row) *int64 {
	switch v := r["replicationLag"].(type) {
	case int64:
		if v < 0 {
			v = -v
		}
		return &v
	case float64:
		n := int64(v)
		if n < 0 {
			n = -n
		}
		return &n
	}
	return nil
}

func databasesFromRows(rows []row) []state.DatabaseAllocation {
	out := make([]state.DatabaseAllocation, 0, len(rows))
	for _, r := range rows {
		d := state.DatabaseAllocation{
			Name:                 str(r, "name"),
			Type:                 str(r, "type"),
			Aliases:              sortedList(r, "aliases"),
			Access:               str(r, "access"),
			Address:              str(r, "address"),
			Role:                 str(r, "role"),
			Writer:               boolean(r, "writer"),
			RequestedStatus:      str(r, "requestedStatus"),
			CurrentStatus:        str(r, "currentStatus"),
			StatusMessage:        str(r, "statusMessage"),
			Default:              boolean(r, "default"),
			Home:                 boolean(r, "home"),
			DatabaseID:           str(r, "databaseID"),
			ServerID:             str(r, "serverID"),
			CurrentPrimaries:     integer(r, "currentPrimariesCount"),
			CurrentSecondaries:   integer(r, "currentSecondariesCount"),
			RequestedPrimaries:   integer(r, "requestedPrimariesCount"),
			RequestedSecondaries: integer(r, "requestedSecondariesCount"),
		}
		if opts, ok := r["options"].(map[string]any); ok && len(opts) > 0 {
			d.Options = plainMap(opts)
		}
		d.ReplicationLag = replicationLag(r)
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.ServerID != b.ServerID {
			return a.ServerID < b.ServerID
		}
		return a.Address < b.Address
	})
	return out
}

// Settings returns the server's settings keyed by name: SHOW SETTINGS
// YIELD * (Neo4j 5), or CALL dbms.listConfig() where the server does not
// understand SHOW SETTINGS (it refuses it as a client error).
func (c *Client) Settings(ctx context.Context) (map[string]state.Setting, error) {
	rows, err := c.read(ctx, ShowSettingsStatement)
	if err != nil {
		if !IsRefused(err) {
			return nil, err
		}
		var fallbackErr error
		rows, fallbackErr = c.read(ctx, ListConfigStatement)
		if fallbackErr != nil {
			return nil, fallbackErr
		}
	}
	return settingsFromRows(rows), nil
}

func settingsFromRows(rows []row) map[string]state.Setting {
	out := make(map[string]state.Setting, len(rows))
	for _, r := range rows {
		name := str(r, "name")
		if name == "" {
			continue
		}
		dynamic := boolean(r, "isDynamic")
		if _, ok := r["isDynamic"]; !ok {
			dynamic = boolean(r, "dynamic") // dbms.listConfig()
		}
		out[name] = state.Setting{
			Name:    name,
			Value:   text(r, "value"),
			Dynamic: dynamic,
			Default: text(r, "defaultValue"),
		}
	}
	return out
}

// StatusCheck runs CALL dbms.cluster.statusCheck for dbs (every database
// when empty), letting each member wait up to timeout for replication.
// Members may recognise different leaders; trust the highest term.
func (c *Client) StatusCheck(ctx context.Context, dbs []string, timeout time.Duration) ([]state.StatusCheck, error) {
	stmt, err := StatusCheckStatement(dbs, timeout)
	if err != nil {
		return nil, &Error{Op: "status check", Kind: KindUnknown, Message: err.Error()}
	}
	rows, err := c.read(ctx, stmt)
	if err != nil {
		return nil, err
	}
	return statusChecksFromRows(rows), nil
}

func statusChecksFromRows(rows []row) []state.StatusCheck {
	out := make([]state.StatusCheck, 0, len(rows))
	for _, r := range rows {
		out = append(out, state.StatusCheck{
			Database:              str(r, "database"),
			ServerID:              str(r, "serverId"),
			ServerName:            str(r, "serverName"),
			Address:               str(r, "address"),
			ReplicationSuccessful: boolean(r, "replicationSuccessful"),
			MemberStatus:          str(r, "memberStatus"),
			RecognisedLeader:      str(r, "recognisedLeader"),
			RecognisedLeaderTerm:  integer(r, "recognisedLeaderTerm"),
			Error:                 str(r, "error"),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Database != out[j].Database {
			return out[i].Database < out[j].Database
		}
		return out[i].ServerID < out[j].ServerID
	})
	return out
}

// Observe gathers edition, version, servers, databases and settings in one
// pass. It never returns an error: when something cannot be read,
// Reachable is false and Reason says what failed, so a plan marks the Neo4j
// plane unknown instead of planning blind. Community Edition has no
// servers, and that is not a failure.
func (c *Client) Observe(ctx context.Context) state.Neo4j {
	var out state.Neo4j
	edition, version, err := c.recentComponents(ctx)
	if err != nil {
		return unreachable(err)
	}
	out.Edition, out.Version = edition, version
	if edition != EditionCommunity {
		servers, err := c.Servers(ctx)
		switch {
		case IsEnterpriseRequired(err):
			// A server that says "enterprise" yet refuses SHOW SERVERS
			// is standalone for planning purposes.
		case err != nil:
			return unreachable(err)
		default:
			out.Servers = servers
		}
	}
	if out.Databases, err = c.Databases(ctx); err != nil {
		return unreachable(err)
	}
	if out.Settings, err = c.Settings(ctx); err != nil {
		return unreachable(err)
	}
	if len(out.Servers) > 1 {
		out.ServerSettings = c.ServerSettings(ctx, out.Servers)
	}
	out.Reachable = true
	return out
}

// componentsFresh is how long after reading them Observe trusts the edition
// and version instead of asking again: Open has just read them (asking
// again would cost a plan a round trip through the port-forward), but a
// long-lived client (watch) must notice a server upgraded under it.
const componentsFresh = 5 * time.Second

// recentComponents returns the edition and version, read again unless they
// were read within componentsFresh.
func (c *Client) recentComponents(ctx context.Context) (edition, version string, err error) {
	c.mu.Lock()
	edition, version, at := c.edition, c.version, c.componentsAt
	c.mu.Unlock()
	if edition != "" && time.Since(at) < componentsFresh {
		return edition, version, nil
	}
	return c.Components(ctx)
}

func unreachable(err error) state.Neo4j {
	return state.Neo4j{Reachable: false, Reason: err.Error()}
}

// The helpers below read one column of a row, tolerating a missing column,
// null and the numeric types different servers use.

func str(r row, k string) string {
	s, _ := r[k].(string)
	return s
}

// text renders scalar values as strings (settings values are strings on
// Neo4j 5 but were other types on some versions).
func text(r row, k string) string {
	switch v := r[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func boolean(r row, k string) bool {
	b, _ := r[k].(bool)
	return b
}

func integer(r row, k string) int64 {
	switch v := r[k].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

// sortedList reads a LIST<STRING> column; non-strings are skipped and
// null or missing yields nil.
func sortedList(r row, k string) []string {
	l := strList(r, k)
	sort.Strings(l)
	return l
}

func strList(r row, k string) []string {
	switch v := r[k].(type) {
	case []string:
		return append([]string(nil), v...)
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// plainMap converts driver temporal values in an options map to strings so
// state stays plain, JSON-friendly data.
func plainMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			out[k] = plainMap(x)
		case time.Time:
			out[k] = x.Format(time.RFC3339Nano)
		case dbtype.Date, dbtype.LocalDateTime, dbtype.LocalTime, dbtype.Time, dbtype.Duration:
			out[k] = fmt.Sprint(x)
		default:
			out[k] = v
		}
	}
	return out
}
