package neo4j_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// These tests drive the real driver over TCP against the Bolt simulator.

const testPassword = "integration-Pa55word"

func startSim(t *testing.T, cfg neo4jsim.Config) *neo4jsim.Simulator {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Bolt simulator")
	}
	cfg.Password = testPassword
	if cfg.TransitionDelay == 0 {
		cfg.TransitionDelay = -1 // immediate
	}
	sim, err := neo4jsim.Start(cfg)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// connectModes are the ways neo4jctl reaches a cluster: the driver routing
// on reachable addresses, direct bolt, and our own routing through a
// resolver from advertised (Pod DNS) addresses.
func connectModes(sim *neo4jsim.Simulator) map[string]neo4j.Config {
	// Enter through the last server, which is not the system leader, so
	// own routing has to find the writer.
	servers := sim.Servers()
	entry := servers[len(servers)-1]
	return map[string]neo4j.Config{
		"driver routing": {URI: sim.URI("neo4j"), Username: "neo4j", Password: testPassword},
		"direct":         {URI: sim.URI("bolt"), Username: "neo4j", Password: testPassword},
		"resolver": {URI: "neo4j://" + entry.Advertised, Username: "neo4j", Password: testPassword,
			Resolver: neo4j.MapResolver(sim.AddressMap())},
	}
}

func open(t *testing.T, cfg neo4j.Config) *neo4j.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 2 * time.Second
	}
	c, err := neo4j.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestIntegrationObserve(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	for name, cfg := range connectModes(sim) {
		t.Run(name, func(t *testing.T) {
			c := open(t, cfg)
			if c.Edition() != neo4j.EditionEnterprise || c.Version() != "5.26.0" {
				t.Errorf("got edition %q version %q, want enterprise 5.26.0", c.Edition(), c.Version())
			}
			obs := c.Observe(context.Background())
			if !obs.Reachable {
				t.Fatalf("got unreachable: %s", obs.Reason)
			}
			if len(obs.Servers) != 3 {
				t.Errorf("got %d servers, want 3", len(obs.Servers))
			}
			for id, s := range obs.Servers {
				if id != s.ID || s.State != state.ServerEnabled || s.Health != state.HealthAvailable {
					t.Errorf("got server %+v, want Enabled/Available keyed by id", s)
				}
			}
			names := map[string]bool{}
			for _, d := range obs.Databases {
				names[d.Name] = true
			}
			if !names["neo4j"] || !names["system"] {
				t.Errorf("got databases %v, want neo4j and system", names)
			}
			if len(obs.Settings) == 0 {
				t.Errorf("got no settings, want some")
			}
		})
	}
}

func TestIntegrationCommunity(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{Community: true})
	c := open(t, neo4j.Config{URI: sim.URI("neo4j"), Username: "neo4j", Password: testPassword})
	obs := c.Observe(context.Background())
	if !obs.Reachable || obs.Edition != neo4j.EditionCommunity || len(obs.Servers) != 0 {
		t.Errorf("got %+v, want a reachable community DBMS without servers", obs)
	}
	err := c.EnableServer(context.Background(), "x", neo4j.ServerOptions{})
	if !neo4j.IsEnterpriseRequired(err) {
		t.Errorf("got %v, want an enterprise-required error", err)
	}
}

func TestIntegrationWrongPassword(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	const wrong = "wrong-Pa55word-xyz"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := neo4j.Open(ctx, neo4j.Config{URI: sim.URI("neo4j"), Username: "neo4j", Password: wrong, ConnectTimeout: 2 * time.Second})
	if !neo4j.IsAuth(err) {
		t.Fatalf("got %v, want an auth error", err)
	}
	if s := fmt.Sprintf("%v %+v", err, err); strings.Contains(s, wrong) {
		t.Errorf("got the password in %q", s)
	}
}

func TestIntegrationServerLifecycle(t *testing.T) {
	for _, mode := range []string{"driver routing", "resolver"} {
		t.Run(mode, func(t *testing.T) {
			sim := startSim(t, neo4jsim.Config{})
			// Admin statements must reach the system leader.
			sim.SetNotALeader(true)
			ctx := context.Background()
			fresh, err := sim.AddServer("neo4j-3.neo4j-headless.default.svc.cluster.local:7687")
			if err != nil {
				t.Fatal(err)
			}
			c := open(t, connectModes(sim)[mode])

			opts := neo4j.ServerOptions{ModeConstraint: neo4j.ModeSecondary, Tags: []string{"zone-b"}}
			if err := c.EnableServer(ctx, fresh.ID, opts); err != nil {
				t.Fatalf("enable: %v", err)
			}
			want, _ := neo4j.EnableServerStatement(fresh.ID, opts)
			if !logged(sim, want) {
				t.Errorf("got log %v, want %q", sim.Log(), want)
			}
			servers, err := c.Servers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := servers[fresh.ID]
			if got.State != state.ServerEnabled || got.ModeConstraint != neo4j.ModeSecondary || strings.Join(got.Tags, ",") != "zone-b" {
				t.Errorf("got %+v, want Enabled SECONDARY tagged zone-b", got)
			}

			moves, err := c.DeallocateServers(ctx, true, fresh.ID)
			if err != nil {
				t.Fatalf("dry-run deallocate: %v", err)
			}
			for _, m := range moves {
				if m.FromServerID != fresh.ID || m.Database == "" {
					t.Errorf("got move %+v, want one away from %s", m, fresh.ID)
				}
			}
			if _, err := c.DeallocateServers(ctx, false, fresh.ID); err != nil {
				t.Fatalf("deallocate: %v", err)
			}
			waitState(t, c, fresh.ID, state.ServerDeallocated)
			if err := c.DropServer(ctx, fresh.ID); err != nil {
				t.Fatalf("drop: %v", err)
			}
			servers, err = c.Servers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := servers[fresh.ID]; ok && s.State != state.ServerDropped {
				t.Errorf("got %+v after DROP SERVER, want dropped or gone", s)
			}
		})
	}
}

func TestIntegrationRefusedAndOnce(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	c := open(t, connectModes(sim)["resolver"])
	ctx := context.Background()
	id := sim.Servers()[0].ID

	// An Enabled server cannot be dropped: the server refuses.
	err := c.DropServer(ctx, id)
	if !neo4j.IsRefused(err) {
		t.Errorf("got %v, want a refusal", err)
	}
	var e *neo4j.Error
	if ok := asError(err, &e); !ok || e.Code == "" {
		t.Errorf("got %#v, want an *Error with a Neo4j code", err)
	}

	// A transient failure of a non-idempotent statement is not retried.
	sim.ResetLog()
	sim.FailNext(1)
	if err := c.CreateDatabase(ctx, "sales", neo4j.CreateDatabase{IfNotExists: true}); !neo4j.IsTransient(err) {
		t.Errorf("got %v, want a transient error", err)
	}
	creates := 0
	for _, st := range sim.Log() {
		if strings.HasPrefix(st.Query, "CREATE DATABASE") {
			creates++
		}
	}
	if creates > 1 {
		t.Errorf("got CREATE DATABASE sent %d times, want once", creates)
	}
}

func TestIntegrationRetriesTransient(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	var mu sync.Mutex
	var retries []int
	cfg := connectModes(sim)["driver routing"]
	cfg.OnRetry = func(attempt int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if !neo4j.IsTransient(err) {
			t.Errorf("got retry for %v, want transient", err)
		}
		retries = append(retries, attempt)
	}
	c := open(t, cfg)
	sim.FailNext(2)
	if _, err := c.Servers(context.Background()); err != nil {
		t.Fatalf("got %v, want success after retries", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) != 2 {
		t.Errorf("got retries %v, want 2", retries)
	}
}

func TestIntegrationDatabases(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{})
	c := open(t, connectModes(sim)["resolver"])
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, "sales", neo4j.CreateDatabase{IfNotExists: true, Topology: neo4j.Topology{Primaries: 3}, Wait: neo4j.Wait{Mode: neo4j.WaitDefault}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := c.AlterDatabaseAccess(ctx, "sales", true); err != nil {
		t.Fatalf("alter access: %v", err)
	}
	dbs, err := c.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, d := range dbs {
		if d.Name == "sales" {
			rows++
			if d.Access != "read-only" {
				t.Errorf("got access %q, want read-only", d.Access)
			}
		}
	}
	if rows != 3 {
		t.Errorf("got %d allocations of sales, want 3", rows)
	}
	if err := c.DropDatabase(ctx, "sales", neo4j.DropDatabase{IfExists: true}); err != nil {
		t.Fatalf("drop: %v", err)
	}
}

func logged(sim *neo4jsim.Simulator, query string) bool {
	for _, st := range sim.Log() {
		if st.Query == query && st.OK() {
			return true
		}
	}
	return false
}

func waitState(t *testing.T, c *neo4j.Client, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		servers, err := c.Servers(context.Background())
		if err == nil && servers[id].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s: got %+v (err %v), want state %s", id, servers[id], err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func asError(err error, target **neo4j.Error) bool {
	e, ok := err.(*neo4j.Error)
	if ok {
		*target = e
	}
	return ok
}

// A plan opens a client and observes at once: Observe must not ask for the
// components Open has just read (one round trip through a port-forward
// each), but the observation must still carry them.
func TestIntegrationObserveAfterOpenReadsComponentsOnce(t *testing.T) {
	sim := startSim(t, neo4jsim.Config{LogReads: true})
	sim.ResetLog()
	c := open(t, connectModes(sim)["resolver"])
	obs := c.Observe(context.Background())
	if !obs.Reachable || obs.Edition != neo4j.EditionEnterprise || obs.Version != "5.26.0" {
		t.Fatalf("got reachable=%v edition %q version %q (%s), want enterprise 5.26.0", obs.Reachable, obs.Edition, obs.Version, obs.Reason)
	}
	var queries []string
	components := 0
	for _, st := range sim.Log() {
		queries = append(queries, st.Query)
		if strings.Contains(st.Query, "dbms.components") {
			components++
		}
	}
	if components != 1 {
		t.Errorf("got dbms.components() sent %d times in %q, want once", components, queries)
	}
}
