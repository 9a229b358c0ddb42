package contract

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/dbtype"
)

var update = flag.Bool("update", false, "rewrite testdata/community-5.26.json from the real server")

// factsFile is what the real server said; the simulator is built to match it.
const factsFile = "testdata/community-5.26.json"

// Facts is the recorded behaviour of a real Neo4j Community server.
type Facts struct {
	Server  ServerFacts            `json:"server"`
	Queries map[string]QueryFacts  `json:"queries"`
	Errors  map[string]*ErrorFacts `json:"errors"`
}

// ServerFacts identifies the server the facts came from.
type ServerFacts struct {
	Version string `json:"version"`
	Edition string `json:"edition"`
	Note    string `json:"note"`
}

// QueryFacts is the shape of one successful query's result.
type QueryFacts struct {
	Database string       `json:"database"`
	Query    string       `json:"query"`
	Keys     []string     `json:"keys"`
	Columns  []ColumnFact `json:"columns"`
	RowCount int          `json:"rowCount"`
	// Rows holds the values of small results, volatile fields (ids, times,
	// ports) replaced by "<volatile>"; nil for large ones (SHOW SETTINGS).
	Rows []map[string]any `json:"rows,omitempty"`
	// Sample holds selected rows of large results, keyed by name.
	Sample map[string]map[string]any `json:"sample,omitempty"`
}

// ColumnFact is one column and every Cypher value type seen in it.
type ColumnFact struct {
	Name  string   `json:"name"`
	Types []string `json:"types"`
}

// ErrorFacts is one failed statement (or login): the server's error in full.
type ErrorFacts struct {
	Database             string         `json:"database,omitempty"`
	Statement            string         `json:"statement,omitempty"`
	Code                 string         `json:"code"`
	Message              string         `json:"message"`
	GqlStatus            string         `json:"gqlStatus,omitempty"`
	GqlStatusDescription string         `json:"gqlStatusDescription,omitempty"`
	GqlClassification    string         `json:"gqlClassification,omitempty"`
	GqlDiagnosticRecord  map[string]any `json:"gqlDiagnosticRecord,omitempty"`
	GqlCause             *ErrorFacts    `json:"gqlCause,omitempty"`
	// Succeeded is set instead of Code when the statement did not fail.
	Succeeded bool `json:"succeeded,omitempty"`
}

// volatileColumns change between runs of the same server version.
var volatileColumns = map[string]bool{
	"databaseID": true, "serverID": true, "address": true, "creationTime": true,
	"lastStartTime": true, "lastStopTime": true, "lastCommittedTxn": true, "store": true,
	"replicationLag": true,
}

// querySpecs are the reads neo4jctl's adapter and the simulator must agree on.
var querySpecs = []struct {
	name, db, query string
	keepRows        bool
	sampleKey       string
	sampleNames     []string
}{
	{"SHOW DATABASES YIELD *", "system", "SHOW DATABASES YIELD *", true, "", nil},
	{"SHOW DATABASES", "system", "SHOW DATABASES", true, "", nil},
	{"SHOW SETTINGS YIELD *", "system", "SHOW SETTINGS YIELD *", false, "name", []string{
		"server.bolt.listen_address", "server.backup.enabled", "server.backup.listen_address",
		"db.logs.query.enabled", "server.memory.pagecache.size", "dbms.security.auth_enabled",
		"initial.dbms.default_primaries_count", "server.cluster.system_database_mode",
	}},
	{"CALL dbms.listConfig()", "system", "CALL dbms.listConfig()", false, "name", []string{"server.bolt.listen_address"}},
	{"CALL dbms.components()", "system", "CALL dbms.components()", true, "", nil},
	{"SHOW CURRENT USER", "system", "SHOW CURRENT USER", true, "", nil},
}

// errorSpecs are statements the real Community server is expected to refuse;
// what it actually answers is recorded, whatever it is.
var errorSpecs = []struct{ name, db, stmt string }{
	{"SHOW SERVERS", "system", "SHOW SERVERS"},
	{"SHOW SERVERS YIELD *", "system", "SHOW SERVERS YIELD *"},
	{"ENABLE SERVER", "system", "ENABLE SERVER 'x'"},
	{"ENABLE SERVER OPTIONS", "system", "ENABLE SERVER 'x' OPTIONS {modeConstraint: 'NONE', tags: ['a']}"},
	{"ALTER SERVER SET OPTIONS", "system", "ALTER SERVER 'x' SET OPTIONS {tags: ['a']}"},
	{"RENAME SERVER", "system", "RENAME SERVER 'x' TO 'y'"},
	{"DEALLOCATE DATABASES FROM SERVER", "system", "DEALLOCATE DATABASES FROM SERVER 'x'"},
	{"DRYRUN DEALLOCATE DATABASES FROM SERVER", "system", "DRYRUN DEALLOCATE DATABASES FROM SERVER 'x'"},
	{"REALLOCATE DATABASES", "system", "REALLOCATE DATABASES"},
	{"DRYRUN REALLOCATE DATABASES", "system", "DRYRUN REALLOCATE DATABASES"},
	{"DROP SERVER", "system", "DROP SERVER 'x'"},
	{"CREATE DATABASE", "system", "CREATE DATABASE foo"},
	{"CREATE DATABASE TOPOLOGY", "system", "CREATE DATABASE foo IF NOT EXISTS TOPOLOGY 3 PRIMARIES 1 SECONDARY"},
	{"ALTER DATABASE SET TOPOLOGY", "system", "ALTER DATABASE neo4j SET TOPOLOGY 3 PRIMARIES"},
	{"ALTER DATABASE SET ACCESS", "system", "ALTER DATABASE neo4j SET ACCESS READ ONLY"},
	{"DROP DATABASE", "system", "DROP DATABASE foo"},
	{"CREATE ROLE", "system", "CREATE ROLE r"},
	{"CALL dbms.cluster.cordonServer", "system", "CALL dbms.cluster.cordonServer('x')"},
	{"CALL dbms.cluster.statusCheck", "system", "CALL dbms.cluster.statusCheck(['neo4j'])"},
	{"CALL dbms.cluster.reallocateNumberOfDatabases", "system", "CALL dbms.cluster.reallocateNumberOfDatabases(1)"},
	{"admin command on neo4j", "neo4j", "SHOW SERVERS"},
	{"syntax error", "system", "SHOW SERVERZ"},
	{"unknown database", "nosuchdb", "RETURN 1"},
}

// TestCommunityFacts records what a real Neo4j Community server answers
// (with -update) or checks that it still answers exactly that.
func TestCommunityFacts(t *testing.T) {
	s := realNeo4j(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth(s.User, s.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)

	got := Facts{
		Server: ServerFacts{
			Version: s.Version, Edition: s.Edition,
			Note: "Recorded by `go test ./e2e/contract -run TestCommunityFacts -update` against an embedded " +
				"Neo4j Community server (e2e/neo4jreal), neo4j-go-driver v5.28.4. Do not edit by hand.",
		},
		Queries: map[string]QueryFacts{},
		Errors:  map[string]*ErrorFacts{},
	}
	for _, q := range querySpecs {
		res, err := neo4j.ExecuteQuery(ctx, d, q.query, nil, neo4j.EagerResultTransformer,
			neo4j.ExecuteQueryWithDatabase(q.db))
		if err != nil {
			got.Errors[q.name] = errorFacts(err)
			got.Errors[q.name].Database, got.Errors[q.name].Statement = q.db, q.query
			continue
		}
		got.Queries[q.name] = queryFacts(q.db, q.query, res, q.keepRows, q.sampleKey, q.sampleNames)
	}
	for _, e := range errorSpecs {
		_, err := neo4j.ExecuteQuery(ctx, d, e.stmt, nil, neo4j.EagerResultTransformer,
			neo4j.ExecuteQueryWithDatabase(e.db))
		f := &ErrorFacts{Succeeded: true}
		if err != nil {
			f = errorFacts(err)
		}
		f.Database, f.Statement = e.db, e.stmt
		got.Errors[e.name] = f
	}
	got.Errors["wrong password"] = loginError(ctx, s.BoltURI, s.User, "wrong-password")
	got.Errors["unknown user"] = loginError(ctx, s.BoltURI, "nosuchuser", "whatever-pw")
	got.Errors["auth rate limit"] = rateLimitError(ctx, t, d, s.BoltURI)

	path := filepath.FromSlash(factsFile)
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to record it): %v", path, err)
	}
	var want Facts
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	// Round-trip got through JSON so both sides hold the same Go types.
	b, _ := json.Marshal(got)
	var gotJSON Facts
	if err := json.Unmarshal(b, &gotJSON); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, gotJSON); diff != "" {
		t.Errorf("the real server no longer answers as %s records (-want +got); if the change is intended, rerun with -update and tell the simulator:\n%s", path, diff)
	}
}

func queryFacts(db, query string, res *neo4j.EagerResult, keepRows bool, sampleKey string, sampleNames []string) QueryFacts {
	qf := QueryFacts{Database: db, Query: query, Keys: res.Keys, RowCount: len(res.Records)}
	types := map[string]map[string]bool{}
	for _, k := range res.Keys {
		types[k] = map[string]bool{}
	}
	wanted := map[string]bool{}
	for _, n := range sampleNames {
		wanted[n] = true
	}
	for _, rec := range res.Records {
		row := map[string]any{}
		for i, k := range rec.Keys {
			v := rec.Values[i]
			types[k][CypherType(v)] = true
			if volatileColumns[k] && v != nil {
				row[k] = "<volatile>"
			} else {
				row[k] = jsonValue(v)
			}
		}
		if keepRows {
			qf.Rows = append(qf.Rows, row)
		}
		if sampleKey != "" {
			if name, ok := row[sampleKey].(string); ok && wanted[name] {
				if qf.Sample == nil {
					qf.Sample = map[string]map[string]any{}
				}
				qf.Sample[name] = row
			}
		}
	}
	if keepRows {
		sort.SliceStable(qf.Rows, func(i, j int) bool { return fmt.Sprint(qf.Rows[i]["name"]) < fmt.Sprint(qf.Rows[j]["name"]) })
	}
	for _, k := range res.Keys {
		var ts []string
		for t := range types[k] {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		qf.Columns = append(qf.Columns, ColumnFact{Name: k, Types: ts})
	}
	return qf
}

// CypherType names v's Cypher type as the Go driver decodes it.
func CypherType(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "STRING"
	case int64:
		return "INTEGER"
	case float64:
		return "FLOAT"
	case bool:
		return "BOOLEAN"
	case []byte:
		return "BYTES"
	case time.Time:
		return "ZONED DATETIME"
	case dbtype.LocalDateTime:
		return "LOCAL DATETIME"
	case dbtype.Date:
		return "DATE"
	case dbtype.Time:
		return "ZONED TIME"
	case dbtype.LocalTime:
		return "LOCAL TIME"
	case dbtype.Duration:
		return "DURATION"
	case map[string]any:
		return "MAP"
	case []any:
		elems := map[string]bool{}
		for _, e := range v {
			elems[CypherType(e)] = true
		}
		if len(elems) == 0 {
			return "LIST<NOTHING>"
		}
		var es []string
		for e := range elems {
			es = append(es, e)
		}
		sort.Strings(es)
		return "LIST<" + strings.Join(es, " | ") + ">"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// jsonValue makes driver values JSON-friendly and stable.
func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = jsonValue(e)
		}
		return out
	default:
		return v
	}
}

func errorFacts(err error) *ErrorFacts {
	var ne *neo4j.Neo4jError
	if !errors.As(err, &ne) {
		return &ErrorFacts{Code: fmt.Sprintf("(not a Neo4jError: %T)", err), Message: err.Error()}
	}
	return neo4jErrorFacts(ne)
}

func neo4jErrorFacts(ne *neo4j.Neo4jError) *ErrorFacts {
	f := &ErrorFacts{
		Code: ne.Code, Message: ne.Msg,
		GqlStatus: ne.GqlStatus, GqlStatusDescription: ne.GqlStatusDescription,
		GqlClassification: string(ne.GqlClassification),
	}
	if len(ne.GqlDiagnosticRecord) > 0 {
		f.GqlDiagnosticRecord = map[string]any{}
		for k, v := range ne.GqlDiagnosticRecord {
			f.GqlDiagnosticRecord[k] = jsonValue(v)
		}
	}
	if ne.GqlCause != nil {
		f.GqlCause = neo4jErrorFacts(ne.GqlCause)
	}
	return f
}

func loginError(ctx context.Context, uri, user, password string) *ErrorFacts {
	d, err := neo4j.NewDriverWithContext(uri, neo4j.BasicAuth(user, password, ""))
	if err != nil {
		return errorFacts(err)
	}
	defer d.Close(ctx)
	if err := d.VerifyConnectivity(ctx); err != nil {
		f := errorFacts(err)
		f.Statement = "(login as " + user + ")"
		return f
	}
	return &ErrorFacts{Succeeded: true, Statement: "(login as " + user + ")"}
}

// rateLimitError records what a fourth wrong login in a row gets (Neo4j
// locks a user after dbms.security.auth_max_failed_attempts=3). It uses its
// own user so the neo4j user the rest of the suite needs is never locked.
func rateLimitError(ctx context.Context, t *testing.T, admin neo4j.DriverWithContext, uri string) *ErrorFacts {
	if _, err := neo4j.ExecuteQuery(ctx, admin,
		"CREATE USER ratelimited IF NOT EXISTS SET PASSWORD 'right-password' CHANGE NOT REQUIRED",
		nil, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase("system")); err != nil {
		t.Fatalf("create user for the rate-limit probe: %v", err)
	}
	var last *ErrorFacts
	for i := 0; i < 4; i++ {
		last = loginError(ctx, uri, "ratelimited", "wrong-password")
	}
	last.Statement = "(4th wrong login in a row as one user)"
	return last
}
