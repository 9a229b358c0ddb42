package suites

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// neo4jAdmin runs fn on a connection to the cluster's simulator, as an
// operator at cypher-shell would.
func (c *cluster) neo4jAdmin(fn func(ctx context.Context, cl *neo4j.Client) error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: c.password,
		Resolver: neo4j.MapResolver(c.sim.AddressMap())})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close(ctx)
	if err := fn(ctx, cl); err != nil {
		c.t.Fatal(err)
	}
}

// hosts returns the Pods hosting database db, from SHOW DATABASES over Bolt.
func (c *cluster) hosts(db string) map[string]string {
	c.t.Helper()
	out := map[string]string{} // Pod → currentStatus
	c.neo4jAdmin(func(ctx context.Context, cl *neo4j.Client) error {
		servers, err := cl.Servers(ctx)
		if err != nil {
			return err
		}
		pod := map[string]string{}
		for _, s := range servers {
			pod[s.ID] = strings.SplitN(s.Address, ".", 2)[0]
		}
		dbs, err := cl.Databases(ctx)
		if err != nil {
			return err
		}
		for _, a := range dbs {
			if a.Name == db {
				out[pod[a.ServerID]] = a.CurrentStatus
			}
		}
		return nil
	})
	return out
}

// TestServerPoolsDatabaseLists (issue 11, item 10): a server pool's
// allowedDatabases / deniedDatabases, end to end through the built binary
// and the simulator's statement log.
//
//  1. Lists an operator set and the file does not manage survive an ALTER
//     SERVER neo4jctl sends for another option (ALTER SERVER replaces all
//     options: Operations Manual 5.26, clustering/servers.adoc § Altering
//     server options): the main pool's servers deny "reports" by hand, the
//     file changes their tags, and the ALTER carries the denial back.
//  2. The database lands where the lists allow it: the extra pool's server.
//  3. The file makes the extra pool deny "reports", which that server hosts:
//     the plan says Neo4j moves it and waits for it; apply sends ALTER
//     SERVER, the simulator moves it as Neo4j does, and apply returns only
//     once it is online on a server of the main pool.
func TestServerPoolsDatabaseLists(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{sim: neo4jsim.Config{TransitionDelay: 2 * time.Second}, mutate: func(doc map[string]any) {
		setPath(doc, []any{map[string]any{"name": "extra", "servers": 1}}, "spec", "serverPools")
	}})
	c.converge()
	extra := c.name + "-extra-0"
	if _, ok := c.serverOf(extra); !ok {
		t.Fatalf("no server for %s: %+v", extra, c.sim.Servers())
	}

	// 1. The operator denies "reports" on the main pool's servers.
	var main []string
	for i := 0; i < 3; i++ {
		s, ok := c.serverOf(c.name + "-" + string(rune('0'+i)))
		if !ok {
			t.Fatalf("no server for %s-%d", c.name, i)
		}
		main = append(main, s.ID)
	}
	c.neo4jAdmin(func(ctx context.Context, cl *neo4j.Client) error {
		for _, id := range main {
			if err := cl.AlterServerOptions(ctx, id, neo4j.ServerOptions{ModeConstraint: "NONE", DeniedDatabases: []string{"reports"}}); err != nil {
				return err
			}
		}
		return nil
	})
	c.requireEmptyPlan() // the file does not manage the lists: nothing to undo

	// 2. The file adds "reports" (one primary) and tags the main pool.
	c.edit(func(doc map[string]any) {
		dbs := getPath(doc, "spec", "databases").([]any)
		setPath(doc, append(dbs, map[string]any{"name": "reports", "topology": map[string]any{"primaries": 1}}), "spec", "databases")
		setPath(doc, []any{"main"}, "spec", "tags")
	})
	c.sim.ResetLog()
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply (reports, tags):\n%s", res)
	}
	alters := 0
	for _, st := range c.sim.Log() {
		if st.Command != "ALTER SERVER" || st.Outcome != "ok" {
			continue
		}
		alters++
		if !strings.Contains(st.Query, "deniedDatabases") || !strings.Contains(st.Query, "'reports'") || !strings.Contains(st.Query, "'main'") {
			t.Errorf("ALTER SERVER without the operator's deniedDatabases (or without the tag): %s", st.Query)
		}
	}
	if alters != 3 {
		t.Errorf("%d ALTER SERVER statements, want one per main-pool server: %+v", alters, c.sim.Log())
	}
	if got := c.hosts("reports"); len(got) != 1 || got[extra] != "online" {
		t.Fatalf("reports is on %v, want online on %s alone (the main pool denies it)", got, extra)
	}
	c.requireEmptyPlan()

	// 3. The operator lifts the denial; the file makes the extra pool deny
	// "reports", which its server hosts: Neo4j moves it.
	c.neo4jAdmin(func(ctx context.Context, cl *neo4j.Client) error {
		for _, id := range main {
			if err := cl.AlterServerOptions(ctx, id, neo4j.ServerOptions{ModeConstraint: "NONE", Tags: []string{"main"}}); err != nil {
				return err
			}
		}
		return nil
	})
	c.edit(func(doc map[string]any) {
		setPath(doc, []any{map[string]any{"name": "extra", "servers": 1, "deniedDatabases": []any{"reports"}}}, "spec", "serverPools")
	})
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan with the extra pool denying reports: want exit 2\n%s", res)
	}
	var alter, wait *planStep
	for i, s := range p.Steps {
		switch {
		case s.Kind == "alter-server":
			alter = &p.Steps[i]
		case s.Kind == "wait-databases-online" && alter != nil:
			wait = &p.Steps[i]
		}
	}
	if alter == nil || !strings.Contains(alter.Reason, "moves reports") || wait == nil || !containsString(wait.DependsOn, alter.ID) {
		t.Fatalf("want ALTER SERVER of %s naming the move of reports, then a wait for it: %+v", extra, p.Steps)
	}
	c.sim.ResetLog()
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply (extra denies reports):\n%s", res)
	}
	var sawAlter bool
	for _, st := range c.sim.Log() {
		if st.Command == "ALTER SERVER" && st.Outcome == "ok" {
			sawAlter = true
			if !strings.Contains(st.Query, "deniedDatabases") || !strings.Contains(st.Query, "'reports'") {
				t.Errorf("ALTER SERVER of %s: %s, want deniedDatabases ['reports']", extra, st.Query)
			}
		}
	}
	if !sawAlter {
		t.Errorf("no ALTER SERVER in the statement log: %+v", c.sim.Log())
	}
	// apply waited: when it returns, reports is online off the extra pool.
	got := c.hosts("reports")
	if _, still := got[extra]; still || len(got) != 1 {
		t.Errorf("after apply reports is on %v, want one main-pool server and not %s", got, extra)
	}
	for pod, st := range got {
		if st != "online" {
			t.Errorf("after apply reports is %s on %s: apply did not wait until it was online", st, pod)
		}
	}
	c.requireEmptyPlan()
}

// TestReplicationLagReported (issue 13): a copy that falls behind its
// writer — the simulator reports SHOW DATABASES replicationLag for it
// (Operations Manual 5.26, database-administration/standard-databases/
// listing-databases.adoc § SHOW DATABASES output) — makes healthcheck WARN
// on neo4j.databases.lag (exit 0; 3 with --fail-on warn) and shows in
// status, per allocation, in text and JSON.
func TestReplicationLagReported(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	lagging, ok := c.serverOf(c.name + "-2")
	if !ok {
		t.Fatal("no server for Pod 2")
	}
	health := func(extra ...string) (int, *healthcheck.Check) {
		t.Helper()
		res := c.neo4jctl(append([]string{"healthcheck", "-f", c.file, "-o", "json"}, extra...)...)
		var doc views.HealthDocument
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Reports) != 1 {
			t.Fatalf("healthcheck -o json: %v\n%s", err, res)
		}
		for i, ch := range doc.Reports[0].Checks {
			if ch.ID == healthcheck.IDLag {
				return res.code, &doc.Reports[0].Checks[i]
			}
		}
		t.Fatalf("no %s check:\n%s", healthcheck.IDLag, res.stdout)
		return 0, nil
	}
	if code, ch := health(); code != 0 || ch.Status != healthcheck.Pass {
		t.Fatalf("healthy: exit %d, %s %s %q", code, ch.Status, ch.Summary, ch.Evidence)
	}

	// The writer of movies is never behind: lag a copy that is not.
	var writerPod string
	c.neo4jAdmin(func(ctx context.Context, cl *neo4j.Client) error {
		dbs, err := cl.Databases(ctx)
		if err != nil {
			return err
		}
		for _, a := range dbs {
			if a.Name == "movies" && a.Writer {
				writerPod = a.ServerID
			}
		}
		return nil
	})
	if writerPod == lagging.ID {
		lagging, _ = c.serverOf(c.name + "-1")
	}
	if err := c.sim.SetReplicationLag("movies", lagging.ID, 5000); err != nil {
		t.Fatal(err)
	}
	code, ch := health()
	if code != 0 || ch.Status != healthcheck.Warn || !strings.Contains(strings.Join(ch.Evidence, "\n"), "5000 transactions behind the writer") {
		t.Errorf("a copy 5000 behind: exit %d, %s %s %q; want exit 0, WARN naming the lag", code, ch.Status, ch.Summary, ch.Evidence)
	}
	if code, _ := health("--fail-on", "warn"); code != 3 {
		t.Errorf("--fail-on warn: exit %d, want 3", code)
	}

	res := c.neo4jctl("status", "-f", c.file, "-o", "json")
	var doc views.StatusDocument
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Clusters) != 1 {
		t.Fatalf("status -o json: %v\n%s", err, res)
	}
	var lags map[string]int64
	for _, d := range doc.Clusters[0].Databases {
		if d.Name == "movies" {
			lags = d.ReplicationLag
		}
	}
	found := false
	for where, n := range lags {
		if n == 5000 && strings.Contains(where, lagging.Name) {
			found = true
		}
	}
	if !found {
		t.Errorf("status -o json: movies lag %v, want 5000 on %s", lags, lagging.Name)
	}
	if res := c.neo4jctl("status", "-f", c.file); !strings.Contains(res.stdout, "5000 behind") {
		t.Errorf("status: no \"5000 behind\" in\n%s", res.stdout)
	}
}
