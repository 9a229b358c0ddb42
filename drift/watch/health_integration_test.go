package watch_test

import (
	"strings"
	"testing"
	"time"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
)

// TestWatchExportsHealth runs watch under its rendered Role against the
// control plane and the simulator: the healthcheck's checks are exported
// as neo4jctl_health_check{cluster,check} (0 PASS), the split-brain figure
// as 0, a copy's replication lag as neo4jctl_database_replication_lag;
// then a server becomes Unavailable to the cluster while its Pod
// stays Ready, and the next poll exports neo4j.servers as 2 (FAIL).
func TestWatchExportsHealth(t *testing.T) {
	f := newFixture(t)
	f.grant(t, watchmanifests.Options{}, nil)
	w := f.startWatch(t, "--mode", "warn", "--health-interval", "5s")
	defer func() { _ = w.stop() }()
	cluster := f.ns + "/" + f.cluster.Metadata.Name
	series := func(metric, check string) string {
		if check == "" {
			return metric + `{cluster="` + cluster + `"}`
		}
		return metric + `{check="` + check + `",cluster="` + cluster + `"}`
	}
	if _, ok := w.waitFor(t, "a health event", typeIs("health")); !ok {
		t.Fatalf("no health event:\n%s", w.dump())
	}
	addr := w.metricsAddr(t)
	for _, check := range []string{"kubernetes.pods", "neo4j.servers", "neo4j.databases.status"} {
		if got := scrape(t, addr, series(dwatch.MetricHealthCheck, check)); got != "0" {
			t.Errorf("%s = %q, want 0 (PASS)\n%s", series(dwatch.MetricHealthCheck, check), got, w.dump())
		}
	}
	if got := scrape(t, addr, series(dwatch.MetricHealthSplitBrain, "")); got != "0" {
		t.Errorf("%s = %q, want 0", dwatch.MetricHealthSplitBrain, got)
	}
	// quickstart: heap 384m + page cache 256m of a 1Gi limit.
	if got := scrape(t, addr, dwatch.MetricHealthMemoryBudget+`{cluster="`+cluster+`",statefulset="`+f.cluster.Metadata.Name+`"}`); got != "0.625" {
		t.Errorf("%s = %q, want 0.625", dwatch.MetricHealthMemoryBudget, got)
	}

	// A copy of movies falls 5000 transactions behind (the writer's copy
	// never does): its series reads 5000 on a later poll.
	lagSeries := func(pod string) string {
		return dwatch.MetricReplicationLag + `{cluster="` + cluster + `",database="movies",server="` + pod + `"}`
	}
	for _, s := range f.sim.Servers() {
		if err := f.sim.SetReplicationLag("movies", s.ID, 5000); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		lagging := 0
		for i := 0; i < 3; i++ {
			if scrape(t, addr, lagSeries(f.cluster.Metadata.Name+"-"+string(rune('0'+i)))) == "5000" {
				lagging++
			}
		}
		if lagging == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d copies of movies export a lag of 5000 a minute later, want the 2 that are not the writer\n%s", lagging, w.dump())
		}
		time.Sleep(500 * time.Millisecond)
	}

	var id string
	for _, s := range f.sim.Servers() {
		if strings.HasPrefix(s.Advertised, f.cluster.Metadata.Name+"-1.") {
			id = s.ID
		}
	}
	if id == "" {
		t.Fatal("no server for Pod -1")
	}
	if err := f.sim.SetAvailable(id, false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := scrape(t, addr, series(dwatch.MetricHealthCheck, "neo4j.servers"))
		if got == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("neo4j.servers = %q a minute after a server became Unavailable, want 2 (FAIL)\n%s", got, w.dump())
		}
		time.Sleep(500 * time.Millisecond)
	}
}
