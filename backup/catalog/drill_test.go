package catalog

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func drillAt(cluster string, started time.Time, passed bool) Drill {
	healthy := started.Add(4 * time.Minute)
	nodes := int64(171)
	d := Drill{Cluster: cluster, Namespace: "graphs", ScratchNamespace: cluster + "-drill", Where: "local",
		Started: started, Healthy: &healthy, Finished: started.Add(5 * time.Minute), RTO: 4 * time.Minute,
		RTOObjective: 10 * time.Minute, RPOObjective: time.Hour, Result: DrillPassed,
		Databases: []DrillDatabase{
			{Name: "movies", Restored: cluster + "/movies/20241007T150000Z-full-9f2c4e1a", Newest: cluster + "/movies/20241007T150000Z-full-9f2c4e1a", RPO: time.Hour - time.Minute, Available: true, Nodes: &nodes},
			{Name: "neo4j", Restored: cluster + "/neo4j/20241007T154000Z-full-aaaa", Newest: cluster + "/neo4j/20241007T154000Z-full-aaaa", RPO: 20 * time.Minute, Available: true},
		}}
	if !passed {
		d.Result, d.Missed = DrillFailed, []string{"RTO: 14m achieved, objective 10m0s"}
		d.RTO = 14 * time.Minute
	}
	return d
}

// A drill record is written once under drills/v1/<cluster>/, read back as
// written, listed oldest first and only for its cluster; the stored
// document is a format other versions read (golden).
func TestDrillRecords(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{})
	second, err := c.PutDrill(ctx, drillAt("prod", t0.Add(24*time.Hour), false))
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.PutDrill(ctx, drillAt("prod", t0, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutDrill(ctx, drillAt("other", t0, true)); err != nil {
		t.Fatal(err)
	}
	// Two drills started in the same second both land.
	if _, err := c.PutDrill(ctx, drillAt("prod", t0, true)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.ID, "prod/20241007T160000Z-") || first.SchemaVersion != DrillSchemaVersion {
		t.Errorf("first drill: id %q, schema %d", first.ID, first.SchemaVersion)
	}
	ds, err := c.ListDrills(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || !ds[0].Started.Equal(t0) || ds[2].ID != second.ID || ds[2].Passed() || !ds[0].Passed() {
		t.Fatalf("drills of prod: %+v", ds)
	}
	if rpo, ok := ds[0].MaxRPO(); !ok || rpo != time.Hour-time.Minute {
		t.Errorf("MaxRPO: %s %v, want 59m", rpo, ok)
	}
	if ds[0].Databases[0].Nodes == nil || *ds[0].Databases[0].Nodes != 171 || ds[0].Healthy == nil {
		t.Errorf("read back: %+v", ds[0])
	}

	// The stored object, its token made fixed.
	got := m.objs[drillKey(first.ID)]
	got = bytes.ReplaceAll(got, []byte(first.ID), []byte("prod/20241007T160000Z-0123456789"))
	const golden = "testdata/drill.golden.json"
	if *updateGolden {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(want, got) {
		t.Errorf("stored drill record changed (%v):\n%s", err, got)
	}
}

// A record of a newer schema, with an unknown field, or under another
// drill's name is refused, not misread; an invalid drill or one carrying
// a secret is never written.
func TestDrillRecordsRefused(t *testing.T) {
	m := newMem()
	c := newCatalog(m, Options{Secrets: []string{"s3cr3t-pw"}})
	d, err := c.PutDrill(ctx, drillAt("prod", t0, true))
	if err != nil {
		t.Fatal(err)
	}
	key := drillKey(d.ID)
	orig := m.objs[key]
	for name, doc := range map[string]string{
		"newer":   strings.Replace(string(orig), `"schemaVersion": 1`, `"schemaVersion": 2`, 1),
		"unknown": strings.Replace(string(orig), `"cluster": "prod"`, `"cluster": "prod", "colour": "red"`, 1),
		"renamed": strings.Replace(string(orig), d.ID, "prod/20241007T160000Z-ffff", 1),
	} {
		m.objs[key] = []byte(doc)
		if _, err := c.ListDrills(ctx, "prod"); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	m.objs[key] = orig

	bad := drillAt("prod", t0, true)
	bad.Missed = []string{"RPO"}
	if _, err := c.PutDrill(ctx, bad); err == nil {
		t.Error("a passed drill that missed an objective was written")
	}
	bad = drillAt("prod", t0, true)
	bad.Result = "ok"
	if _, err := c.PutDrill(ctx, bad); err == nil {
		t.Error("a drill with result ok was written")
	}
	secret := drillAt("prod", t0, false)
	secret.Databases[0].Error = "auth failed for s3cr3t-pw"
	n := len(m.objs)
	if _, err := c.PutDrill(ctx, secret); err == nil || strings.Contains(err.Error(), "s3cr3t") || len(m.objs) != n {
		t.Errorf("a drill carrying a secret: %v, %d objects (was %d)", err, len(m.objs), n)
	}
	if _, err := c.ListDrills(ctx, "a/b"); err == nil {
		t.Error("listing a cluster name with '/' succeeded")
	}
}
