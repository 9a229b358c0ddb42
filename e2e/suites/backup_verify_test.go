package suites

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
)

// TestBackupVerifyLocalRealDump: a real Community dump, stored through the
// agent, verified with `backup verify --latest --local` by the real
// neo4j-admin (load, check) passes and is recorded; a dump of a store
// whose property store was deterministically damaged
// (neo4jreal.CorruptPropertyStore) stores fine (its digests are its own)
// but fails the check: exit 3, recorded as failed. Both leave no scratch
// directory behind.
func TestBackupVerifyLocalRealDump(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a real Neo4j and neo4j-admin; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	const canary = "canary-V3rify-pw-7171"
	// A loaded machine (8 sessions on 2 cores) can take minutes to start it.
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: canary, StartTimeout: 10 * time.Minute})
	if srv == nil {
		return
	}
	drv, err := neo4j.NewDriverWithContext(srv.BoltURI, neo4j.BasicAuth("neo4j", canary, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := neo4j.ExecuteQuery(ctx, drv, "UNWIND range(1, 500) AS i CREATE (:Person {id: i})-[:KNOWS]->(:Person {id: -i})", nil, neo4j.EagerResultTransformer); err != nil {
		t.Fatalf("write through Bolt: %v", err)
	}
	_ = drv.Close(ctx)
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	adm, err := srv.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	goodDump, err := adm.Dump(ctx, "neo4j", good)
	if err != nil {
		t.Fatalf("neo4j-admin database dump: %v", err)
	}
	if _, err := neo4jreal.CorruptPropertyStore(srv.Home(), "neo4j"); err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	if _, err := adm.Dump(ctx, "neo4j", bad); err != nil {
		t.Fatalf("neo4j-admin database dump of the damaged store: %v", err)
	}
	home, err := adm.InstallAdminScript(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	verify := func(b *backupRun, tmp string) (result, time.Duration) {
		t.Helper()
		args := []string{"backup", "verify", "--latest", "--local", "--neo4j-home", home, "-f", b.file, "--secrets-dir", b.secrets}
		start := time.Now()
		r := run(t, []string{"NO_COLOR=1", "TMPDIR=" + tmp}, binary, args...)
		d := time.Since(start)
		b.outputs = append(b.outputs, r.stdout, r.stderr)
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("verify left %d entries in its temporary directory (first %s)", len(left), left[0].Name())
		}
		// The store went to scratch (NEO4J_CONF's data directory), not
		// into the installation.
		if _, err := os.Stat(filepath.Join(home, "data")); err == nil {
			t.Errorf("verify wrote %s/data: the installation was used as the scratch store", home)
		}
		return r, d
	}
	newRun := func(from string) *backupRun {
		bucket := filepath.Join(t.TempDir(), "bucket")
		if err := os.Mkdir(bucket, 0o755); err != nil {
			t.Fatal(err)
		}
		b := newBackupRun(t, fmt.Sprintf("    storage: {url: \"file://%s\"}\n", bucket), bucket)
		b.secretValues = append(b.secretValues, canary)
		b.ok("backup", "agent", "-f", b.file, "--from-dir", from)
		return b
	}

	// The good dump passes.
	g := newRun(good)
	r, took := verify(g, t.TempDir())
	if r.code != 0 {
		t.Fatalf("verify of a good dump: exit %d, want 0\n%s", r.code, r)
	}
	if !strings.Contains(r.stdout, "verification passed") {
		t.Errorf("verify output lacks the result:\n%s", r)
	}
	t.Logf("good dump: %s", strings.TrimSpace(r.stdout))
	id := g.list().Backups[0].ID
	d := g.ok("backup", "describe", id, "-f", g.file)
	for _, want := range []string{"passed", "neo4j-admin database load+check", "consistent"} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("describe lacks %q after a passed verification:\n%s", want, d.stdout)
		}
	}
	g.scanSecrets()

	// The same dump by hand: load + check with the same neo4j-admin, for
	// the overhead figure (download, decrypt, digests, recording).
	scratch := t.TempDir()
	raw, err := neo4jreal.NewAdmin(ctx, filepath.Join(scratch, "neo4j"), neo4jreal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := raw.Load(ctx, "neo4j", filepath.Dir(goodDump), false); err != nil {
		t.Fatal(err)
	}
	if res, err := raw.Check(ctx, "neo4j", filepath.Join(scratch, "reports")); err != nil || !res.Consistent {
		t.Fatalf("raw check of the good dump: %v %+v", err, res)
	}
	rawTook := time.Since(t0)
	t.Logf("FIGURE: backup verify --local %s; raw neo4j-admin load+check of the same dump %s", took.Round(time.Millisecond), rawTook.Round(time.Millisecond))

	// The damaged store's dump fails the check.
	bd := newRun(bad)
	r, _ = verify(bd, t.TempDir())
	if r.code != 3 {
		t.Fatalf("verify of a damaged dump: exit %d, want 3\n%s", r.code, r)
	}
	if !strings.Contains(r.stdout, "verification failed") || !strings.Contains(r.stderr, "failed verification") {
		t.Errorf("verify does not say the backup failed:\n%s", r)
	}
	t.Logf("damaged dump: %s", strings.TrimSpace(r.stdout))
	bid := bd.list().Backups[0].ID
	d = bd.ok("backup", "describe", bid, "-f", bd.file)
	for _, want := range []string{"failed", "neo4j-admin database check exited"} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("describe lacks %q after a failed verification:\n%s", want, d.stdout)
		}
	}
	bd.scanSecrets()
}
