package neo4jsim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
)

const testPassword = "s3cret-pw"

func startSim(t testing.TB, cfg Config) *Simulator {
	t.Helper()
	if cfg.Password == "" {
		cfg.Password = testPassword
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newDriver(t testing.TB, uri, password string, opts ...func(*config.Config)) neo4j.DriverWithContext {
	t.Helper()
	opts = append(opts, func(c *config.Config) {
		c.MaxTransactionRetryTime = 5 * time.Second
		c.SocketConnectTimeout = 2 * time.Second
	})
	d, err := neo4j.NewDriverWithContext(uri, neo4j.BasicAuth("neo4j", password, ""), opts...)
	if err != nil {
		t.Fatalf("NewDriverWithContext: %v", err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// run executes one auto-commit statement on system and returns its records
// as maps.
func run(t testing.TB, d neo4j.DriverWithContext, query string, params map[string]any) ([]map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess := d.NewSession(ctx, neo4j.SessionConfig{DatabaseName: "system"})
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, query, params)
	if err != nil {
		return nil, err
	}
	recs, err := res.Collect(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = r.AsMap()
	}
	return out, nil
}

func mustRun(t testing.TB, d neo4j.DriverWithContext, query string, params map[string]any) []map[string]any {
	t.Helper()
	rows, err := run(t, d, query, params)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rows
}

func neo4jCode(err error) string {
	var ne *neo4j.Neo4jError
	if errors.As(err, &ne) {
		return ne.Code
	}
	return ""
}

func serverRow(t testing.TB, d neo4j.DriverWithContext, id string) map[string]any {
	t.Helper()
	for _, r := range mustRun(t, d, "SHOW SERVERS YIELD *", nil) {
		if r["serverId"] == id {
			return r
		}
	}
	t.Fatalf("server %s not in SHOW SERVERS", id)
	return nil
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBoltDirectAllMinorVersions(t *testing.T) {
	for _, minor := range []int{0, 1, 4, 7, 8} {
		t.Run(string(rune('0'+minor)), func(t *testing.T) {
			limit := minor
			if minor == 0 {
				limit = -1
			}
			s := startSim(t, Config{MaxBoltMinor: limit, Servers: 1})
			d := newDriver(t, s.URI("bolt"), testPassword)
			ctx := context.Background()
			res, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1, 'x' AS s, $p AS p", map[string]any{"p": []any{int64(2), "y"}},
				neo4j.EagerResultTransformer)
			if err != nil {
				t.Fatalf("ExecuteQuery: %v", err)
			}
			if got, want := res.Keys, []string{"1", "s", "p"}; !slices.Equal(got, want) {
				t.Errorf("keys: got %v, want %v", got, want)
			}
			if diff := cmp.Diff([]any{int64(1), "x", []any{int64(2), "y"}}, res.Records[0].Values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if got := res.Summary.Server().ProtocolVersion(); got.Major != 5 || got.Minor != minor {
				t.Errorf("protocol: got %d.%d, want 5.%d", got.Major, got.Minor, minor)
			}
			if err := d.VerifyAuthentication(ctx, nil); err != nil {
				t.Errorf("VerifyAuthentication: %v", err)
			}
		})
	}
}

func TestRoutingUsesEveryServer(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("neo4j"), testPassword)
	ctx := context.Background()
	if err := d.VerifyConnectivity(ctx); err != nil {
		t.Fatalf("VerifyConnectivity: %v", err)
	}
	// A write on system must go to the system leader, reads elsewhere.
	res, err := neo4j.ExecuteQuery(ctx, d, "SHOW SERVERS YIELD serverId, address", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("system"), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		t.Fatalf("SHOW SERVERS via routing: %v", err)
	}
	if len(res.Records) != 3 {
		t.Fatalf("got %d servers, want 3", len(res.Records))
	}
	adv := map[string]bool{}
	for _, r := range res.Records {
		a, _ := r.Get("address")
		adv[a.(string)] = true
	}
	for advertised, listen := range s.AddressMap() {
		if !adv[advertised] {
			t.Errorf("SHOW SERVERS lacks advertised address %s", advertised)
		}
		if !strings.HasPrefix(listen, "127.0.0.1:") {
			t.Errorf("listen address %s is not loopback", listen)
		}
	}
	if _, err := neo4j.ExecuteQuery(ctx, d, "CREATE DATABASE routed", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("system")); err != nil {
		t.Fatalf("CREATE DATABASE via routing: %v", err)
	}
	log := s.Log()
	if len(log) != 1 || log[0].ServerID != systemLeader(s) {
		t.Errorf("CREATE DATABASE ran on %+v, want the system leader %s", log, systemLeader(s))
	}
}

func systemLeader(s *Simulator) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sysLeader
}

func TestEnableFreeServerAndCreateDatabase(t *testing.T) {
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	free, err := s.AddServer("neo4j-3.neo4j-headless.db.svc.cluster.local:7687")
	if err != nil {
		t.Fatal(err)
	}
	row := serverRow(t, d, free.ID)
	if row["state"] != StateFree || row["address"] != free.Advertised {
		t.Fatalf("new server: got state %v address %v, want Free at %s", row["state"], row["address"], free.Advertised)
	}
	mustRun(t, d, "ENABLE SERVER $id OPTIONS {modeConstraint: 'PRIMARY', tags: ['zone-a'], allowedDatabases: ['orders', \"neo4j\"]}",
		map[string]any{"id": free.ID})
	row = serverRow(t, d, free.ID)
	want := map[string]any{"state": StateEnabled, "modeConstraint": "PRIMARY", "tags": []any{"zone-a"},
		"allowedDatabases": []any{"orders", "neo4j"}, "deniedDatabases": []any{}}
	for k, v := range want {
		if diff := cmp.Diff(v, row[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	// Enabling again with the same options is a no-op, as in Neo4j.
	mustRun(t, d, "ENABLE SERVER '"+free.ID+"' OPTIONS {modeConstraint: 'PRIMARY', tags: ['zone-a'], allowedDatabases: ['orders', 'neo4j']}", nil)

	mustRun(t, d, "CREATE DATABASE `orders` IF NOT EXISTS TOPOLOGY 3 PRIMARIES OPTIONS {txLogEnrichment: 'FULL'} WAIT", nil)
	allocs := s.Allocations("orders")
	if len(allocs) != 3 {
		t.Fatalf("orders allocations: got %v, want 3 primaries", allocs)
	}
	for id, role := range allocs {
		if role != rolePrimary {
			t.Errorf("server %s hosts orders as %s, want primary", id, role)
		}
	}
	rows := mustRun(t, d, "SHOW DATABASE orders YIELD *", nil)
	if len(rows) != 3 {
		t.Fatalf("SHOW DATABASE orders: got %d rows, want 3 (one per allocation)", len(rows))
	}
	for _, r := range rows {
		if r["currentStatus"] != "online" || r["requestedPrimariesCount"] != int64(3) || r["currentPrimariesCount"] != int64(3) {
			t.Errorf("row: %v", r)
		}
		if _, ok := r["creationTime"].(time.Time); !ok {
			t.Errorf("creationTime: got %T, want a DateTime", r["creationTime"])
		}
	}
	// IF NOT EXISTS makes a second CREATE a no-op; without it Neo4j refuses.
	mustRun(t, d, "CREATE DATABASE orders IF NOT EXISTS", nil)
	if _, err := run(t, d, "CREATE DATABASE orders", nil); neo4jCode(err) != CodeExistingDatabase {
		t.Errorf("duplicate CREATE: got %v, want %s", err, CodeExistingDatabase)
	}
	// Not enough servers for 6 primaries.
	_, err = run(t, d, "CREATE DATABASE big TOPOLOGY 6 PRIMARIES", nil)
	if neo4jCode(err) != CodeArgumentError || !strings.Contains(err.Error(), "Could not create database 'big'") {
		t.Errorf("oversized CREATE: got %v", err)
	}
}

func TestDeallocateLifecycle(t *testing.T) {
	s := startSim(t, Config{Servers: 4, TransitionDelay: 150 * time.Millisecond})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE shop TOPOLOGY 3 PRIMARIES WAIT", nil)
	// neo4j has 1 primary by default: deallocating its host is refused.
	var solo string
	for id := range s.Allocations("neo4j") {
		solo = id
	}
	_, err := run(t, d, "DEALLOCATE DATABASES FROM SERVER '"+solo+"'", nil)
	if neo4jCode(err) != CodeArgumentError || !strings.Contains(err.Error(), "Could not deallocate server(s) '"+solo+"'.") {
		t.Fatalf("sole-primary DEALLOCATE: got %v, want refusal", err)
	}
	if row := serverRow(t, d, solo); row["state"] != StateEnabled {
		t.Errorf("refused DEALLOCATE changed state to %v", row["state"])
	}
	mustRun(t, d, "ALTER DATABASE neo4j SET TOPOLOGY 2 PRIMARIES", nil)
	// many → 1 is refused (51N41).
	_, err = run(t, d, "ALTER DATABASE `shop` SET TOPOLOGY 1 PRIMARY 0 SECONDARIES", nil)
	if neo4jCode(err) != CodeArgumentError || !strings.Contains(err.Error(), "Can't go from multiple primaries to one primary.") {
		t.Errorf("ALTER 3→1: got %v", err)
	}

	// Pick a shop host and drain it.
	var victim string
	for id := range s.Allocations("shop") {
		if id != solo {
			victim = id
			break
		}
	}
	dry := mustRun(t, d, "DRYRUN DEALLOCATE DATABASES FROM SERVERS $ids", map[string]any{"ids": []any{victim}})
	if len(dry) == 0 {
		t.Fatal("DRYRUN returned no moves")
	}
	for _, r := range dry {
		if r["fromServerId"] != victim || r["toServerId"] == victim || r["mode"] == nil {
			t.Errorf("dry-run row: %v", r)
		}
	}
	if st, _ := s.Server(victim); st.State != StateEnabled {
		t.Fatalf("DRYRUN changed state to %s", st.State)
	}
	// DROP before deallocation is refused.
	if _, err := run(t, d, "DROP SERVER '"+victim+"'", nil); neo4jCode(err) != CodeArgumentError {
		t.Errorf("early DROP: got %v, want %s", err, CodeArgumentError)
	}
	mustRun(t, d, "DEALLOCATE DATABASE FROM SERVER '"+victim+"'", nil)
	row := serverRow(t, d, victim)
	if row["state"] != StateDeallocating {
		t.Errorf("right after DEALLOCATE: state %v, want Deallocating", row["state"])
	}
	if slices.Equal(row["hosting"].([]any), row["requestedHosting"].([]any)) {
		t.Errorf("while deallocating hosting %v should differ from requestedHosting %v", row["hosting"], row["requestedHosting"])
	}
	waitFor(t, "Deallocated", func() bool { return serverRow(t, d, victim)["state"] == StateDeallocated })
	if diff := cmp.Diff([]any{"system"}, serverRow(t, d, victim)["hosting"]); diff != "" {
		t.Errorf("deallocated hosting (-want +got):\n%s", diff)
	}
	if got := s.Allocations("shop"); len(got) != 3 || got[victim] != "" {
		t.Errorf("shop after deallocation: %v", got)
	}
	mustRun(t, d, "DROP SERVER '"+victim+"'", nil)
	// Listed as Dropped while its process runs, gone once it stops.
	if row := serverRow(t, d, victim); row["state"] != StateDropped {
		t.Errorf("after DROP: state %v, want Dropped", row["state"])
	}
	if err := s.SetAvailable(victim, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range mustRun(t, d, "SHOW SERVERS YIELD *", nil) {
		if r["serverId"] == victim {
			t.Errorf("stopped dropped server still listed: %v", r)
		}
	}

	var got []string
	for _, st := range s.Log() {
		got = append(got, st.Command+" "+st.Outcome)
	}
	want := []string{
		"CREATE DATABASE ok",
		"DEALLOCATE DATABASES " + CodeArgumentError,
		"ALTER DATABASE ok",
		"ALTER DATABASE " + CodeArgumentError,
		"DRYRUN DEALLOCATE DATABASES ok",
		"DROP SERVER " + CodeArgumentError,
		"DEALLOCATE DATABASES ok",
		"DROP SERVER ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statement log (-want +got):\n%s", diff)
	}
}

func TestStuckDeallocating(t *testing.T) {
	s := startSim(t, Config{Servers: 3, TransitionDelay: 10 * time.Millisecond})
	d := newDriver(t, s.URI("bolt"), testPassword)
	srv := s.Servers()[2]
	if err := s.SetStuckDeallocating(srv.ID, true); err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": srv.ID})
	time.Sleep(50 * time.Millisecond)
	if got := serverRow(t, d, srv.ID)["state"]; got != StateDeallocating {
		t.Fatalf("stuck server: got %v, want Deallocating", got)
	}
	s.SetStuckDeallocating(srv.ID, false)
	if got := serverRow(t, d, srv.ID)["state"]; got != StateDeallocated {
		t.Fatalf("unstuck server: got %v, want Deallocated", got)
	}
}

func TestCommunityRejectsClusterCommands(t *testing.T) {
	s := startSim(t, Config{Community: true})
	d := newDriver(t, s.URI("neo4j"), testPassword)
	// Real Community 5.26 files SHOW SERVERS under NotSystemDatabaseError.
	if _, err := run(t, d, "SHOW SERVERS", nil); neo4jCode(err) != codeNotSystemDatabase ||
		!strings.Contains(err.Error(), "Unsupported administration command: SHOW SERVERS") {
		t.Errorf("SHOW SERVERS: got %v, want %s", err, codeNotSystemDatabase)
	}
	for _, q := range []string{
		"ENABLE SERVER 'x'", "ALTER SERVER 'x' SET OPTIONS {}", "RENAME SERVER 'a' TO 'b'",
		"DROP SERVER 'x'", "DEALLOCATE DATABASES FROM SERVER 'x'", "DRYRUN REALLOCATE DATABASES",
		"CREATE DATABASE foo", "ALTER DATABASE neo4j SET TOPOLOGY 3 PRIMARIES",
	} {
		_, err := run(t, d, q, nil)
		if neo4jCode(err) != CodeUnsupportedAdmin || !strings.Contains(err.Error(), "Unsupported administration command: "+q) {
			t.Errorf("%s: got %v, want %s", q, err, CodeUnsupportedAdmin)
		}
	}
	if _, err := run(t, d, "CALL dbms.cluster.cordonServer('x')", nil); neo4jCode(err) != CodeProcedureNotFound {
		t.Errorf("cordon on community: got %v, want %s", err, CodeProcedureNotFound)
	}
	rows := mustRun(t, d, "CALL dbms.components()", nil)
	want := []map[string]any{{"name": "Neo4j Kernel", "versions": []any{"5.26.0"}, "edition": "community"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	names := map[any]bool{}
	for _, r := range mustRun(t, d, "SHOW DATABASES", nil) {
		names[r["name"]] = true
	}
	if !names["neo4j"] || !names["system"] || len(names) != 2 {
		t.Errorf("community databases: %v", names)
	}
}

func TestTransientFaultRetriedByExecuteQuery(t *testing.T) {
	s := startSim(t, Config{Servers: 1})
	d := newDriver(t, s.URI("neo4j"), testPassword)
	s.FailNext(1) // one refusal: the driver backs off ≈1s
	res, err := neo4j.ExecuteQuery(context.Background(), d, "RETURN 42 AS n", nil, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatalf("ExecuteQuery after a transient failure: %v", err)
	}
	if n, _ := res.Records[0].Get("n"); n != int64(42) {
		t.Errorf("got %v, want 42", n)
	}
	var refused int
	for _, st := range s.Log() {
		if st.Outcome == CodeDatabaseUnavailable {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("log shows %d DatabaseUnavailable refusals, want 1", refused)
	}
}

func TestWrongPassword(t *testing.T) {
	s := startSim(t, Config{Servers: 1})
	d := newDriver(t, s.URI("bolt"), "wrong")
	err := d.VerifyConnectivity(context.Background())
	if neo4jCode(err) != CodeUnauthorized || !strings.Contains(err.Error(), msgUnauthorized) {
		t.Fatalf("wrong password: got %v, want %s", err, CodeUnauthorized)
	}
	// A rotated credential: the old password stops working for new connections.
	s.SetPassword("rotated")
	d2 := newDriver(t, s.URI("bolt"), testPassword)
	if err := d2.VerifyConnectivity(context.Background()); neo4jCode(err) != CodeUnauthorized {
		t.Fatalf("after rotation: got %v, want %s", err, CodeUnauthorized)
	}
	d3 := newDriver(t, s.URI("bolt"), "rotated")
	if err := d3.VerifyConnectivity(context.Background()); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestManagedTransactionsAndFailedState(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("bolt"), testPassword)
	ctx := context.Background()
	sess := d.NewSession(ctx, neo4j.SessionConfig{DatabaseName: "system"})
	defer sess.Close(ctx)
	n, err := sess.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		r1, err := tx.Run(ctx, "SHOW SERVERS YIELD serverId", nil)
		if err != nil {
			return nil, err
		}
		r2, err := tx.Run(ctx, "RETURN $x AS x", map[string]any{"x": "y"})
		if err != nil {
			return nil, err
		}
		recs1, err := r1.Collect(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := r2.Single(ctx); err != nil {
			return nil, err
		}
		return len(recs1), nil
	})
	if err != nil || n != 3 {
		t.Fatalf("ExecuteWrite: got %v, %v; want 3 servers", n, err)
	}
	// A syntax error fails the transaction; the session recovers (RESET).
	_, err = sess.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		r, err := tx.Run(ctx, "SHOW NONSENSE", nil)
		if err != nil {
			return nil, err
		}
		return r.Consume(ctx)
	})
	if neo4jCode(err) != CodeSyntaxError {
		t.Fatalf("syntax error: got %v", err)
	}
	if _, err := sess.Run(ctx, "RETURN 1", nil); err != nil {
		t.Fatalf("after failure: %v", err)
	}
}

func TestStatusCheckSplitBrainAndCordon(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "ALTER DATABASE neo4j SET TOPOLOGY 3 PRIMARIES", nil)
	leaders := func() map[any]bool {
		m := map[any]bool{}
		for _, r := range mustRun(t, d, "CALL dbms.cluster.statusCheck(['neo4j'], 1000)", nil) {
			m[r["recognisedLeader"]] = true
		}
		return m
	}
	if got := leaders(); len(got) != 1 {
		t.Errorf("healthy cluster: leaders %v, want one", got)
	}
	s.SetSplitBrain("neo4j", true)
	if got := leaders(); len(got) != 2 {
		t.Errorf("split brain: leaders %v, want two", got)
	}
	id := s.Servers()[1].ID
	mustRun(t, d, "CALL dbms.cluster.cordonServer($id)", map[string]any{"id": id})
	if got := serverRow(t, d, id)["state"]; got != StateCordoned {
		t.Errorf("after cordon: %v", got)
	}
	mustRun(t, d, "ENABLE SERVER '"+id+"'", nil)
	if got := serverRow(t, d, id)["state"]; got != StateEnabled {
		t.Errorf("after ENABLE on cordoned: %v", got)
	}
}

func TestSettingsAndRenameAlter(t *testing.T) {
	s := startSim(t, Config{Settings: map[string]string{"server.backup.listen_address": "0.0.0.0:6362"}})
	d := newDriver(t, s.URI("bolt"), testPassword)
	rows := mustRun(t, d, "SHOW SETTINGS ['server.backup.listen_address', 'server.backup.enabled'] YIELD *", nil)
	if len(rows) != 2 || rows[1]["value"] != "0.0.0.0:6362" || rows[1]["isExplicitlySet"] != true {
		t.Errorf("SHOW SETTINGS: %v", rows)
	}
	rows = mustRun(t, d, "CALL dbms.listConfig('backup.listen') YIELD name, value", nil)
	if diff := cmp.Diff([]map[string]any{{"name": "server.backup.listen_address", "value": "0.0.0.0:6362"}}, rows); diff != "" {
		t.Errorf("listConfig (-want +got):\n%s", diff)
	}
	id := s.Servers()[0].ID
	mustRun(t, d, "RENAME SERVER '"+id+"' TO 'graph-0'", nil)
	mustRun(t, d, "ALTER SERVER 'graph-0' SET OPTIONS {tags: ['a']}", nil)
	row := serverRow(t, d, id)
	if row["name"] != "graph-0" || cmp.Diff([]any{"a"}, row["tags"]) != "" || row["modeConstraint"] != "NONE" {
		t.Errorf("after rename/alter: %v", row)
	}
}

func TestNotALeaderRetriedThroughRouting(t *testing.T) {
	s := startSim(t, Config{})
	s.SetNotALeader(true)
	// Start the driver on a follower: the routing table sends writes to the
	// leader anyway; a direct bolt:// connection to a follower is refused.
	var follower ServerInfo
	for _, srv := range s.Servers() {
		if srv.ID != systemLeader(s) {
			follower = srv
		}
	}
	d := newDriver(t, "bolt://"+follower.Listen, testPassword)
	if _, err := run(t, d, "REALLOCATE DATABASES", nil); neo4jCode(err) != CodeNotALeader {
		t.Errorf("admin on follower: got %v, want %s", err, CodeNotALeader)
	}
	dr := newDriver(t, "neo4j://"+follower.Listen, testPassword)
	if _, err := neo4j.ExecuteQuery(context.Background(), dr, "REALLOCATE DATABASES", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("system")); err != nil {
		t.Errorf("routed admin: %v", err)
	}
}

func TestDropConnectionsAndRefuse(t *testing.T) {
	s := startSim(t, Config{Servers: 1})
	d := newDriver(t, s.URI("bolt"), testPassword)
	ctx := context.Background()
	if err := d.VerifyConnectivity(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.DropConnections(); n == 0 {
		t.Errorf("DropConnections closed nothing")
	}
	// The driver notices the dead pooled connection and retries.
	if _, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1", nil, neo4j.EagerResultTransformer); err != nil {
		t.Errorf("after drop: %v", err)
	}
	s.RefuseConnections(true)
	d2 := newDriver(t, s.URI("bolt"), testPassword)
	if err := d2.VerifyConnectivity(ctx); err == nil {
		t.Errorf("refused connections: VerifyConnectivity succeeded")
	}
}

func BenchmarkSimpleQuery(b *testing.B) {
	s := startSim(b, Config{Servers: 1})
	d := newDriver(b, s.URI("bolt"), testPassword)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1", nil, neo4j.EagerResultTransformer); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

func TestColumnsMatchNeo4j(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("bolt"), testPassword)
	ctx := context.Background()
	keys := func(q string) []string {
		t.Helper()
		res, err := neo4j.ExecuteQuery(ctx, d, q, nil, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase("system"))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res.Keys
	}
	tests := map[string][]string{
		"SHOW SERVERS": {"name", "address", "state", "health", "hosting"},
		"SHOW SERVERS YIELD *": {"name", "serverId", "address", "httpAddress", "httpsAddress", "state", "health",
			"hosting", "requestedHosting", "tags", "allowedDatabases", "deniedDatabases", "modeConstraint", "version"},
		"SHOW DATABASES": {"name", "type", "aliases", "access", "address", "role", "writer", "requestedStatus",
			"currentStatus", "statusMessage", "default", "home", "constituents"},
		"SHOW SETTINGS":               {"name", "value", "isDynamic", "defaultValue", "description"},
		"CALL dbms.components()":      {"name", "versions", "edition"},
		"CALL dbms.listConfig()":      {"name", "description", "value", "dynamic", "defaultValue", "startupValue", "explicitlySet", "validValues"},
		"DRYRUN REALLOCATE DATABASES": {"database", "fromServerName", "fromServerId", "toServerName", "toServerId", "mode"},
		"CALL dbms.cluster.statusCheck([], 1000)": {"database", "serverId", "serverName", "address", "replicationSuccessful",
			"memberStatus", "recognisedLeader", "recognisedLeaderTerm", "requester", "error"},
	}
	for q, want := range tests {
		if diff := cmp.Diff(want, keys(q)); diff != "" {
			t.Errorf("%s columns (-want +got):\n%s", q, diff)
		}
	}
	for _, col := range []string{"databaseID", "serverID", "currentPrimariesCount", "requestedSecondariesCount", "creationTime", "options"} {
		if !slices.Contains(keys("SHOW DATABASES YIELD *"), col) {
			t.Errorf("SHOW DATABASES YIELD * lacks %s", col)
		}
	}
}

func TestAdminNeedsSystemDatabase(t *testing.T) {
	s := startSim(t, Config{})
	d := newDriver(t, s.URI("bolt"), testPassword)
	_, err := neo4j.ExecuteQuery(context.Background(), d, "CREATE DATABASE x", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("neo4j"))
	if neo4jCode(err) != "Neo.ClientError.Statement.NotSystemDatabaseError" {
		t.Errorf("admin on neo4j: got %v", err)
	}
}

func TestDeallocateOfflineDatabaseRefused(t *testing.T) {
	s := startSim(t, Config{Servers: 4})
	d := newDriver(t, s.URI("bolt"), testPassword)
	mustRun(t, d, "CREATE DATABASE inv TOPOLOGY 3 PRIMARIES WAIT", nil)
	if err := s.SetDatabaseOffline("inv", "store corrupted"); err != nil {
		t.Fatal(err)
	}
	var host string
	for id := range s.Allocations("inv") {
		host = id
	}
	_, err := run(t, d, "DEALLOCATE DATABASES FROM SERVER $id", map[string]any{"id": host})
	if neo4jCode(err) != CodeArgumentError || !strings.Contains(err.Error(), "'inv' is offline") {
		t.Errorf("DEALLOCATE with offline db: got %v", err)
	}
	for _, r := range mustRun(t, d, "SHOW DATABASE inv", nil) {
		if r["currentStatus"] != "offline" || r["statusMessage"] != "store corrupted" {
			t.Errorf("offline row: %v", r)
		}
	}
}

// TestCommunityErrorsAsReal526 checks the GQL side of Community's refusals
// against what a real 5.26 server was recorded sending
// (e2e/contract/testdata/community-5.26.json).
func TestCommunityErrorsAsReal526(t *testing.T) {
	s := startSim(t, Config{Community: true})
	d := newDriver(t, s.URI("bolt"), testPassword)
	type shape struct{ Code, Msg, GqlStatus, Description, Classification string }
	for _, tt := range []struct {
		query string
		code  string
	}{
		{"SHOW SERVERS YIELD *", codeNotSystemDatabase},
		{"ENABLE SERVER 'x'", CodeUnsupportedAdmin},
		{"CREATE DATABASE foo", CodeUnsupportedAdmin},
	} {
		_, err := run(t, d, tt.query, nil)
		var ne *neo4j.Neo4jError
		if !errors.As(err, &ne) {
			t.Fatalf("%s: got %v, want a Neo4jError", tt.query, err)
		}
		want := shape{tt.code, "Unsupported administration command: " + tt.query, "50N42",
			"error: general processing exception - unexpected error. Unexpected error has occurred. See debug log for details.", "UNKNOWN"}
		got := shape{ne.Code, ne.Msg, ne.GqlStatus, ne.GqlStatusDescription, string(ne.GqlClassification)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
		if _, ok := ne.GqlDiagnosticRecord["_classification"]; ok {
			t.Errorf("%s: diagnostic record has a _classification, real 5.26 sends none: %v", tt.query, ne.GqlDiagnosticRecord)
		}
	}

	_, err := run(t, d, "CALL dbms.cluster.statusCheck(['neo4j'])", nil)
	var ne *neo4j.Neo4jError
	if !errors.As(err, &ne) {
		t.Fatalf("statusCheck: got %v, want a Neo4jError", err)
	}
	if ne.Code != CodeProcedureNotFound || ne.GqlStatus != "42001" || ne.GqlClassification != "CLIENT_ERROR" {
		t.Errorf("statusCheck: got %s [%s, %s], want %s [42001, CLIENT_ERROR]", ne.Code, ne.GqlStatus, ne.GqlClassification, CodeProcedureNotFound)
	}
	wantCause := "42N08: The procedure or function dbms.cluster.statusCheck() was not registered for this database instance. Verify that the spelling is correct."
	if c := ne.GqlCause; c == nil || c.GqlStatus != "42N08" || c.Msg != wantCause {
		t.Errorf("statusCheck cause: got %+v, want 42N08 %q", c, wantCause)
	}
}

// TestCommunityDatabasesAndSettings checks the Community shapes that differ
// from Enterprise: no requested topology, no last committed transaction, no
// Enterprise-only settings.
func TestCommunityDatabasesAndSettings(t *testing.T) {
	for _, community := range []bool{true, false} {
		s := startSim(t, Config{Community: community, Servers: 1})
		d := newDriver(t, s.URI("bolt"), testPassword)
		for _, r := range mustRun(t, d, "SHOW DATABASES YIELD *", nil) {
			for _, col := range []string{"requestedPrimariesCount", "requestedSecondariesCount", "lastCommittedTxn"} {
				_, isInt := r[col].(int64)
				if community && r[col] != nil || !community && !isInt {
					t.Errorf("community=%v %s %s: got %#v", community, r["name"], col, r[col])
				}
			}
		}
		set := map[string]map[string]any{}
		for _, r := range mustRun(t, d, "SHOW SETTINGS YIELD *", nil) {
			set[r["name"].(string)] = r
		}
		if r := set["dbms.security.auth_enabled"]; r == nil || r["value"] != "true" {
			t.Errorf("community=%v: dbms.security.auth_enabled: got %v, want value true", community, r)
		}
		if r := set["server.memory.pagecache.size"]; r == nil || r["value"] != nil || r["defaultValue"] != nil {
			t.Errorf("community=%v: unset server.memory.pagecache.size: got %v, want null value and default", community, r)
		}
		for _, name := range []string{"server.backup.enabled", "server.cluster.system_database_mode", "initial.dbms.default_primaries_count"} {
			if _, ok := set[name]; ok == community {
				t.Errorf("community=%v: %s reported=%v, want %v", community, name, ok, !community)
			}
		}
	}
}
