package contract

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	adapter "github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// target is one DBMS the suite talks to: the real server or the simulator.
type target struct {
	name     string
	uri      string
	user     string
	password string
}

const simPassword = "sim-contract-pw"

// targets returns the real server and a Community-mode simulator.
func targets(t *testing.T) (real, sim target) {
	t.Helper()
	s := realNeo4j(t)
	simulator, err := neo4jsim.Start(neo4jsim.Config{Community: true, Password: simPassword, Version: s.Version})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { simulator.Close() })
	return target{"real", s.BoltURI, s.User, s.Password},
		target{"sim", simulator.URI("bolt"), "neo4j", simPassword}
}

func (tg target) driver(t *testing.T) driver.DriverWithContext {
	t.Helper()
	d, err := driver.NewDriverWithContext(tg.uri, driver.BasicAuth(tg.user, tg.password, ""))
	if err != nil {
		t.Fatalf("%s: driver: %v", tg.name, err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

func (tg target) client(ctx context.Context, t *testing.T) *adapter.Client {
	t.Helper()
	c, err := adapter.Open(ctx, adapter.Config{
		URI: tg.uri, Username: tg.user, Password: tg.password,
		MaxTransactionRetryTime: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("%s: adapter Open: %v", tg.name, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestResultShapes runs the adapter's reads on both DBMSs and checks the
// simulator answers with the real column names, in order, and no value type
// the real server never produced.
func TestResultShapes(t *testing.T) {
	real, sim := targets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rd, sd := real.driver(t), sim.driver(t)
	for _, q := range []struct{ name, db, query string }{
		{"databases", "system", "SHOW DATABASES YIELD *"},
		{"settings", "system", "SHOW SETTINGS YIELD *"},
		{"listConfig", "system", "CALL dbms.listConfig()"},
		{"components", "system", "CALL dbms.components()"},
	} {
		t.Run(q.name, func(t *testing.T) {
			rr, err := driver.ExecuteQuery(ctx, rd, q.query, nil, driver.EagerResultTransformer, driver.ExecuteQueryWithDatabase(q.db))
			if err != nil {
				t.Fatalf("real: %s: %v", q.query, err)
			}
			sr, err := driver.ExecuteQuery(ctx, sd, q.query, nil, driver.EagerResultTransformer, driver.ExecuteQueryWithDatabase(q.db))
			if err != nil {
				t.Fatalf("sim: %s: %v", q.query, err)
			}
			if diff := cmp.Diff(rr.Keys, sr.Keys); diff != "" {
				t.Errorf("%s columns (-real +sim):\n%s", q.query, diff)
			}
			realTypes, simTypes := columnTypes(rr), columnTypes(sr)
			for col, sts := range simTypes {
				for st := range sts {
					if !typeSeen(realTypes[col], st) {
						t.Errorf("%s column %s: sim returned %s, real only %v", q.query, col, st, keys(realTypes[col]))
					}
				}
			}
		})
	}

	rc, sc := real.client(ctx, t), sim.client(ctx, t)
	t.Run("adapter components", func(t *testing.T) {
		for _, c := range []*adapter.Client{rc, sc} {
			if got := c.Edition(); got != "community" {
				t.Errorf("Edition: got %q, want community", got)
			}
		}
		if rc.Version() != sc.Version() {
			t.Errorf("Version: real %q, sim %q", rc.Version(), sc.Version())
		}
	})
	t.Run("adapter databases", func(t *testing.T) {
		rdbs, err := rc.Databases(ctx)
		if err != nil {
			t.Fatalf("real Databases: %v", err)
		}
		sdbs, err := sc.Databases(ctx)
		if err != nil {
			t.Fatalf("sim Databases: %v", err)
		}
		summary := func(dbs []state.DatabaseAllocation) []string {
			var out []string
			for _, d := range dbs {
				out = append(out, fmt.Sprintf("%s type=%s access=%s role=%s writer=%v status=%s/%s default=%v home=%v primaries=%d/%d",
					d.Name, d.Type, d.Access, d.Role, d.Writer, d.RequestedStatus, d.CurrentStatus, d.Default, d.Home,
					d.CurrentPrimaries, d.CurrentSecondaries))
			}
			sort.Strings(out)
			return out
		}
		if diff := cmp.Diff(summary(rdbs), summary(sdbs)); diff != "" {
			t.Errorf("Databases (-real +sim):\n%s", diff)
		}
	})
	t.Run("adapter settings", func(t *testing.T) {
		rs, err := rc.Settings(ctx)
		if err != nil {
			t.Fatalf("real Settings: %v", err)
		}
		ss, err := sc.Settings(ctx)
		if err != nil {
			t.Fatalf("sim Settings: %v", err)
		}
		for _, name := range []string{"server.bolt.listen_address", "dbms.security.auth_enabled"} {
			if _, ok := rs[name]; !ok {
				t.Errorf("real Settings lacks %s", name)
			}
			if _, ok := ss[name]; !ok {
				t.Errorf("sim Settings lacks %s (real has it)", name)
			}
		}
	})
	t.Run("adapter servers", func(t *testing.T) {
		_, rerr := rc.Servers(ctx)
		_, serr := sc.Servers(ctx)
		if got, want := describe(serr), describe(rerr); got != want {
			t.Errorf("Servers on Community: sim %s, real %s", got, want)
		}
		// Whatever code Community files it under, a caller must learn
		// that SHOW SERVERS needs Enterprise.
		for name, err := range map[string]error{"real": rerr, "sim": serr} {
			if k := adapter.ClassOf(err); k != adapter.KindEnterpriseRequired {
				t.Errorf("adapter classifies %s Community's SHOW SERVERS refusal as %s, want %s", name, k, adapter.KindEnterpriseRequired)
			}
		}
	})
}

// TestWrongPassword checks both DBMSs refuse a wrong password the same way
// and the adapter classifies it as an auth error.
func TestWrongPassword(t *testing.T) {
	real, sim := targets(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tg := range []target{real, sim} {
		_, err := adapter.Open(ctx, adapter.Config{URI: tg.uri, Username: tg.user, Password: "not-the-password"})
		if err == nil {
			t.Fatalf("%s: login with a wrong password succeeded", tg.name)
		}
		var e *adapter.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: got %T %v, want *neo4j.Error", tg.name, err, err)
		}
		if e.Kind != adapter.KindAuth || e.Code != adapter.CodeUnauthorized {
			t.Errorf("%s: got kind %s code %q, want auth %s", tg.name, e.Kind, e.Code, adapter.CodeUnauthorized)
		}
		if strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("%s: error text leaks the password: %v", tg.name, err)
		}
	}
}

// hostileNames are names an attacker or a careless cluster file could hand
// the statement builders; every one must reach the parser as one string.
var hostileNames = []string{
	"plain",
	"back`tick",
	"it's",
	`quo"te`,
	`back\slash`,
	`\u0027 RETURN 1 //`,
	"new\nline",
	"cr\rlf",
	"ünïcødé-名前-😀",
	"} RETURN 1 //",
	"'; DROP DATABASE neo4j; //",
	"bidi\u202eevil",
}

// adminCall is one statement builder with the adapter method that sends it.
type adminCall struct {
	name  string
	build func(n string) (string, error)
	run   func(ctx context.Context, c *adapter.Client, n string) error
	// wantCode is what real Community answers.
	wantCode string
}

var dbNames = []string{"foo", "a.b-c", "Upper.Case-9"}

func adminCalls() []adminCall {
	opts := adapter.ServerOptions{ModeConstraint: adapter.ModePrimary, AllowedDatabases: []string{"neo4j"}, Tags: []string{"t'1", "`2", "\\3"}}
	unsupported := adapter.CodeUnsupportedAdminCmd
	return []adminCall{
		{"enable server", func(n string) (string, error) { return adapter.EnableServerStatement(n, opts) },
			func(ctx context.Context, c *adapter.Client, n string) error { return c.EnableServer(ctx, n, opts) }, unsupported},
		{"alter server", func(n string) (string, error) { return adapter.AlterServerOptionsStatement(n, opts) },
			func(ctx context.Context, c *adapter.Client, n string) error {
				return c.AlterServerOptions(ctx, n, opts)
			}, unsupported},
		{"rename server", func(n string) (string, error) { return adapter.RenameServerStatement(n, n+"-2") },
			func(ctx context.Context, c *adapter.Client, n string) error { return c.RenameServer(ctx, n, n+"-2") }, unsupported},
		{"cordon server", adapter.CordonServerStatement,
			func(ctx context.Context, c *adapter.Client, n string) error { return c.CordonServer(ctx, n) }, adapter.CodeProcedureNotFound},
		{"dryrun deallocate", func(n string) (string, error) { return adapter.DeallocateServersStatement(true, n, "other") },
			func(ctx context.Context, c *adapter.Client, n string) error {
				_, err := c.DeallocateServers(ctx, true, n, "other")
				return err
			}, unsupported},
		{"deallocate", func(n string) (string, error) { return adapter.DeallocateServersStatement(false, n) },
			func(ctx context.Context, c *adapter.Client, n string) error {
				_, err := c.DeallocateServers(ctx, false, n)
				return err
			}, unsupported},
		{"drop server", adapter.DropServerStatement,
			func(ctx context.Context, c *adapter.Client, n string) error { return c.DropServer(ctx, n) }, unsupported},
	}
}

func dbCalls() []adminCall {
	unsupported := adapter.CodeUnsupportedAdminCmd
	create := adapter.CreateDatabase{IfNotExists: true, Topology: adapter.Topology{Primaries: 3, Secondaries: 1},
		Options: adapter.DatabaseOptions{ExistingData: "use", SeedURI: "s3://b/it's `x` \\ }.backup", StoreFormat: "block"},
		Wait:    adapter.WaitFor(5 * time.Second)}
	drop := adapter.DropDatabase{IfExists: true, Wait: adapter.Wait{Mode: adapter.NoWait}}
	return []adminCall{
		{"create database", func(n string) (string, error) { return adapter.CreateDatabaseStatement(n, create) },
			func(ctx context.Context, c *adapter.Client, n string) error { return c.CreateDatabase(ctx, n, create) }, unsupported},
		{"alter topology", func(n string) (string, error) {
			return adapter.AlterDatabaseTopologyStatement(n, adapter.Topology{Primaries: 3})
		}, func(ctx context.Context, c *adapter.Client, n string) error {
			return c.AlterDatabaseTopology(ctx, n, adapter.Topology{Primaries: 3})
		}, unsupported},
		{"alter access", func(n string) (string, error) { return adapter.AlterDatabaseAccessStatement(n, true) },
			func(ctx context.Context, c *adapter.Client, n string) error {
				return c.AlterDatabaseAccess(ctx, n, true)
			}, unsupported},
		{"drop database", func(n string) (string, error) { return adapter.DropDatabaseStatement(n, drop) },
			func(ctx context.Context, c *adapter.Client, n string) error { return c.DropDatabase(ctx, n, drop) }, unsupported},
	}
}

// TestAdminStatementsReachTheParser sends every admin statement the adapter
// builds, with hostile names, to real Community and to the simulator. Real
// Community must refuse each as unsupported (cordon: procedure not found) —
// never a SyntaxError, which would mean the quoting let a name escape its
// literal — and the simulator must refuse it the same way.
func TestAdminStatementsReachTheParser(t *testing.T) {
	real, sim := targets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rd, sd := real.driver(t), sim.driver(t)
	rc, sc := real.client(ctx, t), sim.client(ctx, t)

	check := func(t *testing.T, call adminCall, name string) {
		stmt, err := call.build(name)
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		t.Logf("statement: %s", stmt)
		rerr := rawRun(ctx, rd, stmt)
		serr := rawRun(ctx, sd, stmt)
		if got := codeOf(rerr); got != call.wantCode {
			t.Errorf("real: got %s, want %s\nstatement: %s", describe(rerr), call.wantCode, stmt)
		}
		if codeOf(serr) != codeOf(rerr) {
			t.Errorf("sim answers %s, real %s\nstatement: %s", describe(serr), describe(rerr), stmt)
		}
		ra, sa := call.run(ctx, rc, name), call.run(ctx, sc, name)
		if codeOf(ra) != codeOf(rerr) {
			t.Errorf("adapter against real: got %s, raw statement got %s", describe(ra), describe(rerr))
		}
		if adapter.ClassOf(sa) != adapter.ClassOf(ra) || codeOf(sa) != codeOf(ra) {
			t.Errorf("adapter: sim %s (kind %s), real %s (kind %s)", describe(sa), adapter.ClassOf(sa), describe(ra), adapter.ClassOf(ra))
		}
		// Both ways Community refuses (an unsupported command, a missing
		// dbms.cluster.* procedure) mean "needs Enterprise" to a caller.
		if adapter.ClassOf(ra) != adapter.KindEnterpriseRequired {
			t.Errorf("adapter classifies real Community's refusal as %s, want %s", adapter.ClassOf(ra), adapter.KindEnterpriseRequired)
		}
	}

	for _, call := range adminCalls() {
		for _, n := range hostileNames {
			t.Run(call.name+"/"+n, func(t *testing.T) { check(t, call, n) })
		}
	}
	for _, call := range dbCalls() {
		for _, n := range dbNames {
			t.Run(call.name+"/"+n, func(t *testing.T) { check(t, call, n) })
		}
		// Hostile database names never reach a server: the builder refuses them.
		for _, n := range hostileNames[1:] { // [0] "plain" is a valid name
			if _, err := call.build(n); err == nil {
				t.Errorf("%s: builder accepted database name %q", call.name, n)
			}
		}
	}
	t.Run("reallocate", func(t *testing.T) {
		for _, dry := range []bool{true, false} {
			stmt := adapter.ReallocateDatabasesStatement(dry)
			rerr, serr := rawRun(ctx, rd, stmt), rawRun(ctx, sd, stmt)
			if codeOf(rerr) != adapter.CodeUnsupportedAdminCmd || codeOf(serr) != codeOf(rerr) {
				t.Errorf("%s: real %s, sim %s", stmt, describe(rerr), describe(serr))
			}
		}
	})
	t.Run("status check", func(t *testing.T) {
		stmt, err := adapter.StatusCheckStatement([]string{"neo4j", "a.b-c"}, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rerr, serr := rawRun(ctx, rd, stmt), rawRun(ctx, sd, stmt)
		if codeOf(rerr) != adapter.CodeProcedureNotFound || codeOf(serr) != codeOf(rerr) {
			t.Errorf("%s: real %s, sim %s", stmt, describe(rerr), describe(serr))
		}
		_, ra := rc.StatusCheck(ctx, []string{"neo4j"}, 2*time.Second)
		_, sa := sc.StatusCheck(ctx, []string{"neo4j"}, 2*time.Second)
		if adapter.ClassOf(ra) != adapter.ClassOf(sa) || codeOf(ra) != codeOf(sa) {
			t.Errorf("adapter StatusCheck: real %s, sim %s", describe(ra), describe(sa))
		}
		if adapter.ClassOf(ra) != adapter.KindEnterpriseRequired {
			t.Errorf("adapter classifies real Community's missing statusCheck as %s, want %s", adapter.ClassOf(ra), adapter.KindEnterpriseRequired)
		}
	})
}

// rawRun sends stmt to system once, as an auto-commit query, through the
// driver alone, so the server's own answer is seen without the adapter.
func rawRun(ctx context.Context, d driver.DriverWithContext, stmt string) error {
	s := d.NewSession(ctx, driver.SessionConfig{DatabaseName: "system"})
	defer s.Close(ctx)
	res, err := s.Run(ctx, stmt, nil)
	if err != nil {
		return err
	}
	_, err = res.Consume(ctx)
	return err
}

func codeOf(err error) string {
	var ae *adapter.Error
	if errors.As(err, &ae) && ae.Code != "" {
		return ae.Code
	}
	var ne *driver.Neo4jError
	if errors.As(err, &ne) {
		return ne.Code
	}
	if err == nil {
		return "(success)"
	}
	return fmt.Sprintf("(%T)", err)
}

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return codeOf(err) + ": " + err.Error()
}

func columnTypes(r *driver.EagerResult) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, k := range r.Keys {
		out[k] = map[string]bool{}
	}
	for _, rec := range r.Records {
		for i, k := range rec.Keys {
			out[k][CypherType(rec.Values[i])] = true
		}
	}
	return out
}

// typeSeen reports whether the real server produced type st in a column.
// An empty list carries no element type, so LIST<NOTHING> matches any list
// and any list matches a column the real server only ever left empty.
func typeSeen(real map[string]bool, st string) bool {
	if real[st] {
		return true
	}
	if strings.HasPrefix(st, "LIST<") {
		for rt := range real {
			if strings.HasPrefix(rt, "LIST<") && (st == "LIST<NOTHING>" || rt == "LIST<NOTHING>") {
				return true
			}
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
