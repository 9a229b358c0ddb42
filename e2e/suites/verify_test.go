package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/views"
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
	// Eight random UUIDs per node (288 hex characters) and a relationship
	// to a second node: about 400 bytes of dump per pair (measured: 250 000
	// pairs, 95 MiB), aimed a little above the size asked; batches of
	// 10 000 per transaction keep the server's heap small.
	const batch = 10000
	nodes := (mib<<20/380 + batch - 1) / batch * batch
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

	// Wall time is what a user waits for, but on a shared machine it
	// swings with the other load; the CPU time of the process tree
	// (RUSAGE_CHILDREN: every waited-for descendant, the JVMs included)
	// does not, so both are reported.
	var raw, ours, rawCPU, oursCPU []time.Duration
	cpu0 := childrenCPU(t)
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
		c := childrenCPU(t)
		rawCPU, cpu0 = append(rawCPU, c-cpu0), c
		if err := os.RemoveAll(scratch); err != nil {
			t.Fatal(err)
		}

		tmp := t.TempDir()
		t0 = time.Now()
		r := run(t, []string{"NO_COLOR=1", "TMPDIR=" + tmp}, binary, "backup", "verify", "--latest", "--local",
			"--neo4j-home", home, "-f", b.file, "--secrets-dir", b.secrets)
		ours = append(ours, time.Since(t0))
		c = childrenCPU(t)
		oursCPU, cpu0 = append(oursCPU, c-cpu0), c
		if r.code != 0 || !strings.Contains(r.stdout, "verification passed") {
			t.Fatalf("verify: %s", r)
		}
	}
	rm, om := medianDuration(raw), medianDuration(ours)
	rc, oc := medianDuration(rawCPU), medianDuration(oursCPU)
	t.Logf("backup verify: %.0f MiB dump (%d nodes, %d relationships), median of %d alternating runs: wall: raw neo4j-admin load+check %s, neo4jctl backup verify --local %s (%+.1f%%; goal ≤ +20%%); CPU (user+sys of the process tree): raw %s, verify %s (%+.1f%%); each run: wall raw %s, verify %s; CPU raw %s, verify %s",
		float64(fi.Size())/(1<<20), 2*nodes, nodes, runs, rm.Round(time.Millisecond), om.Round(time.Millisecond), pct(om, rm),
		rc.Round(time.Millisecond), oc.Round(time.Millisecond), pct(oc, rc), durations(raw), durations(ours), durations(rawCPU), durations(oursCPU))
}

func pct(a, b time.Duration) float64 { return 100 * (a.Seconds() - b.Seconds()) / b.Seconds() }

// childrenCPU is the user+sys CPU time of this process's waited-for
// descendants so far.
func childrenCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// TestBackupVerificationHealthAndStatus: a verification that failed,
// recorded in a real (file://) catalogue by `backup verify --local`
// through the built binary, makes healthcheck's backup.verification check
// FAIL (exit 3) with the failure as evidence, and status prints the
// database's last backup and that its last verification failed; after a
// passing verification of a newer backup the check PASSes and status
// names the verified restore. The neo4j-admin here is a stand-in script
// (the version line, then a check that fails or passes): the real load +
// check of real dumps, good and damaged, are TestBackupVerifyLocalRealDump's;
// this test is about what healthcheck and status read back. Neo4j is not
// reached (no simulator): its checks are UNKNOWN and not looked at.
func TestBackupVerificationHealthAndStatus(t *testing.T) {
	t.Parallel()
	if binary == "" {
		t.Skip("runs the built binary; skipped with -short")
	}
	env := testenv.Shared(t)
	bucket := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, env, clusterOpts{noSim: true, mutate: func(doc map[string]any) {
		setPath(doc, map[string]any{
			"storage":      map[string]any{"url": "file://" + bucket},
			"encryption":   map[string]any{"keysetSecret": map[string]any{"name": "backup-keyset"}},
			"verification": map[string]any{"schedule": "0 3 * * *"},
		}, "spec", "backups")
	}})
	secrets := filepath.Join(t.TempDir(), "secrets")
	keyset := filepath.Join(secrets, "backup-keyset", "keyset.json")
	if err := os.MkdirAll(filepath.Dir(keyset), 0o700); err != nil {
		t.Fatal(err)
	}
	ok := func(args ...string) result {
		t.Helper()
		r := c.neo4jctl(append(args, "--secrets-dir", secrets)...)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		return r
	}
	ok("backup", "keys", "rotate", "-f", c.file, "--new", "--out", keyset)
	store := func(content string) string {
		t.Helper()
		from := t.TempDir()
		if err := os.WriteFile(filepath.Join(from, "neo4j.dump"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		ok("backup", "agent", "-f", c.file, "--from-dir", from)
		var l views.BackupList
		if err := json.Unmarshal([]byte(ok("backup", "list", "-f", c.file, "-o", "json").stdout), &l); err != nil {
			t.Fatal(err)
		}
		return l.Backups[len(l.Backups)-1].ID
	}
	admin := func(check string) string {
		home := t.TempDir()
		if err := os.Mkdir(filepath.Join(home, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		script := "#!/bin/sh\necho 'neo4j 5.26.0'\ncase \"$2\" in check) " + check + " ;; esac\n"
		if err := os.WriteFile(filepath.Join(home, "bin", "neo4j-admin"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return home
	}
	health := func() (int, healthcheck.Check, healthcheck.RecoveryOverview) {
		t.Helper()
		h := c.neo4jctl("healthcheck", "-f", c.file, "-o", "json", "--secrets-dir", secrets)
		var doc views.HealthDocument
		if err := json.Unmarshal([]byte(h.stdout), &doc); err != nil || len(doc.Reports) != 1 {
			t.Fatalf("healthcheck -o json: %v\n%s", err, h)
		}
		var chk healthcheck.Check
		for _, x := range doc.Reports[0].Checks {
			if x.ID == healthcheck.IDVerification {
				chk = x
			}
		}
		s := c.neo4jctl("status", "-f", c.file, "-o", "json", "--secrets-dir", secrets)
		var st views.StatusDocument
		if err := json.Unmarshal([]byte(s.stdout), &st); err != nil || len(st.Clusters) != 1 || len(st.Clusters[0].Recovery) != 1 {
			t.Fatalf("status -o json: %v\n%s", err, s)
		}
		return h.code, chk, st.Clusters[0].Recovery[0]
	}

	first := store("not really a dump, the stand-in admin does not read it")
	r := c.neo4jctl("backup", "verify", first, "--local", "--neo4j-home", admin("echo 'Inconsistencies found: 1' >&2; exit 1"), "-f", c.file, "--secrets-dir", secrets)
	if r.code != 3 {
		t.Fatalf("verify with a failing check: exit %d, want 3\n%s", r.code, r)
	}
	code, chk, rec := health()
	if code != 3 || chk.Status != healthcheck.Fail || !strings.Contains(strings.Join(chk.Evidence, "\n"), "Inconsistencies found") {
		t.Errorf("after a failed verification: healthcheck exit %d, %s %s %v; want exit 3 and FAIL naming the failure", code, chk.ID, chk.Status, chk.Evidence)
	}
	if rec.Database != "neo4j" || rec.LastBackup == "" || rec.LastVerification != "failed" || rec.LastVerifiedRestore != "" {
		t.Errorf("status after a failed verification: %+v", rec)
	}

	second := store("a newer stand-in dump")
	ok("backup", "verify", "--latest", "--local", "--neo4j-home", admin("true"), "-f", c.file)
	_, chk, rec = health()
	if chk.Status != healthcheck.Pass {
		t.Errorf("after a passed verification of the newest backup: %s %s %v, want PASS", chk.ID, chk.Status, chk.Evidence)
	}
	if rec.LastVerification != "passed" || rec.LastVerifiedBackup != second || rec.LastVerifiedRestore == "" {
		t.Errorf("status after a passed verification: %+v, want %s verified", rec, second)
	}
}
