package suites

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestSystemPrimariesAfterScaleOut: spec.systemPrimaries: 3 means the
// first three servers of the main pool host the system database as
// primaries and every later one as a secondary (issue 11 item 2). The
// cluster is applied with three servers and scaled out to five with the
// built binary; each simulated server reads its system mode from its own
// Pod when it starts, and SHOW SERVERS and SHOW DATABASES over Bolt must
// then say: Pods 0-2 system primaries, Pods 3-4 system secondaries.
func TestSystemPrimariesAfterScaleOut(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) { setPath(doc, 3, "spec", "systemPrimaries") }})
	c.converge()
	c.setServers(5)
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply 3 → 5:\n%s", res)
	}
	c.requireEmptyPlan()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: c.password,
		Resolver: neo4j.MapResolver(c.sim.AddressMap())})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	servers, err := cl.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	podOf := map[string]string{} // serverId → Pod, from SHOW SERVERS' address
	for _, s := range servers {
		podOf[s.ID] = strings.SplitN(s.Address, ".", 2)[0]
	}
	dbs, err := cl.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // Pod → system role
	for _, a := range dbs {
		if a.Name == "system" {
			got[podOf[a.ServerID]] = a.Role
		}
	}
	want := map[string]string{
		c.name + "-0": "primary", c.name + "-1": "primary", c.name + "-2": "primary",
		c.name + "-3": "secondary", c.name + "-4": "secondary",
	}
	for pod, role := range want {
		if got[pod] != role {
			t.Errorf("%s hosts system as %q, want %q (all: %v)", pod, got[pod], role, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("system is hosted on %v, want exactly %v", got, want)
	}
}
