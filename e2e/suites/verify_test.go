package suites

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
)

// EnvVerifyBench turns TestMeasureBackupVerify on (make bench); its size in
// MiB of dump is NEO4JCTL_VERIFY_BENCH_MB (default 100), its runs per figure
// NEO4JCTL_VERIFY_BENCH_RUNS (default 3).
const EnvVerifyBench = "NEO4JCTL_VERIFY_BENCH"

// TestMeasureBackupVerify measures issue 16's speed goal: `backup verify
// --local` of a real dump against the raw `neo4j-admin database load` +
// `database check` of the same file by hand, with the same neo4j-admin
// (the same JVM, flags and classpath). neo4jctl's overhead is what it adds:
// its own start, reading the catalogue, download + decrypt + both digests,
// recording the result. It logs the figures (bench.sh copies the lines
// starting "backup verify"), never asserts them: they depend on the
// machine. The dump is written through Bolt into a real Neo4j Community
// 5.26 (random strings, so the dump's compression cannot shrink it), then
// dumped by the real neo4j-admin and stored through the agent in a file://
// bucket. Runs alternate (raw, verify, raw, verify, …) so a load change
// on the machine falls on both.
func TestMeasureBackupVerify(t *testing.T) {
	if os.Getenv(EnvVerifyBench) == "" || binary == "" {
		t.Skip("a benchmark: set " + EnvVerifyBench + "=1 (make bench)")
	}
	mib := envInt("NEO4JCTL_VERIFY_BENCH_MB", 100)
	runs := envInt("NEO4JCTL_VERIFY_BENCH_RUNS", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()

	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: "bench-verify-pw", StartTimeout: 10 * time.Minute})
	if srv == nil {
		return
	}
	drv, err := neo4j.NewDriverWithContext(srv.BoltURI, neo4j.BasicAuth("neo4j", "bench-verify-pw", ""))
	if err != nil {
		t.Fatal(err)
	}
	// Eight random UUIDs per node (288 hex characters, about 150 bytes
	// once compressed) and a relationship per node; batches of 10 000
	// nodes per transaction keep the server's heap small.
	const batch = 10000
	nodes := mib << 20 / 150
	start := time.Now()
	for done := 0; done < nodes; done += batch {
		if _, err := neo4j.ExecuteQuery(ctx, drv, `UNWIND range($from, $to) AS i
CREATE (n:Item {id: i, payload: reduce(s = '', k IN range(1, 8) | s + randomUUID())})-[:NEXT]->(:Tag {id: -i})`,
			map[string]any{"from": done, "to": done + batch - 1}, neo4j.EagerResultTransformer); err != nil {
			t.Fatalf("write through Bolt: %v", err)
		}
	}
	_ = drv.Close(ctx)
	t.Logf("wrote %d nodes through Bolt in %s", 2*nodes, time.Since(start).Round(time.Second))
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	adm, err := srv.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dumpDir := t.TempDir()
	dump, err := adm.Dump(ctx, "neo4j", dumpDir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	home, err := adm.InstallAdminScript(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bucket := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: \"file://%s\"}\n", bucket), bucket)
	b.ok("backup", "agent", "-f", b.file, "--from-dir", dumpDir)

	var raw, ours []time.Duration
	for i := 0; i < runs; i++ {
		scratch := t.TempDir()
		a, err := neo4jreal.NewAdmin(ctx, filepath.Join(scratch, "neo4j"), neo4jreal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if err := a.Load(ctx, "neo4j", dumpDir, false); err != nil {
			t.Fatal(err)
		}
		if res, err := a.Check(ctx, "neo4j", filepath.Join(scratch, "reports")); err != nil || !res.Consistent {
			t.Fatalf("raw check: %v %+v", err, res)
		}
		raw = append(raw, time.Since(t0))
		if err := os.RemoveAll(scratch); err != nil {
			t.Fatal(err)
		}

		tmp := t.TempDir()
		t0 = time.Now()
		r := run(t, []string{"NO_COLOR=1", "TMPDIR=" + tmp}, binary, "backup", "verify", "--latest", "--local",
			"--neo4j-home", home, "-f", b.file, "--secrets-dir", b.secrets)
		ours = append(ours, time.Since(t0))
		if r.code != 0 || !strings.Contains(r.stdout, "verification passed") {
			t.Fatalf("verify: %s", r)
		}
	}
	rm, om := medianDuration(raw), medianDuration(ours)
	t.Logf("backup verify: %.0f MiB dump (%d nodes, %d relationships): raw neo4j-admin load+check %s, neo4jctl backup verify --local %s (%+.1f%%; goal ≤ +20%%); median of %d alternating runs; raw %s, verify %s",
		float64(fi.Size())/(1<<20), 2*nodes, nodes, rm.Round(time.Millisecond), om.Round(time.Millisecond),
		100*(om.Seconds()-rm.Seconds())/rm.Seconds(), runs, durations(raw), durations(ours))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func durations(ds []time.Duration) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(out, " ")
}
