package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// TestHealthcheckBackups: a cluster file scheduling a daily full backup to
// a file:// bucket. The backups check reads the bucket's catalogue as
// `backup list` does: an entry older than two periods is a FAIL naming the
// check and its fix (exit 3), a fresh one a PASS; an unreadable catalogue is
// UNKNOWN, never PASS; without spec.backups the check is absent. The
// cluster is not applied and Neo4j is skipped (--skip-neo4j): only the
// backups check is judged here. The entries are written through
// backup/ops's catalogue, as the agent writes them after an upload.
func TestHealthcheckBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	dir := t.TempDir()
	bucket := filepath.Join(dir, "bucket")
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain := strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1)
	withBackups := func(url string) string {
		return strings.Replace(plain, "  servers: 3\n", fmt.Sprintf(`  servers: 3
  backups:
    storage: {url: "file://%s"}
    encryption: {keysetSecret: {name: backup-keyset}}
    schedule: {full: "0 2 * * *", databases: [neo4j]}
`, url), 1)
	}
	file := filepath.Join(dir, "cluster.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(withBackups(bucket))
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: filepath.Join(dir, "no-secrets")})
	if err != nil {
		t.Fatal(err)
	}
	put := func(created time.Time) {
		t.Helper()
		created = created.UTC().Truncate(time.Second)
		id, err := catalog.NewID(c.Metadata.Name, "neo4j", created, catalog.Full, catalog.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		n, _ := catalog.ParseID(id)
		sum := strings.Repeat("ab", 32)
		e := catalog.Entry{ID: id, Cluster: c.Metadata.Name, Database: "neo4j", Type: catalog.Full, Format: inspect.FormatBackup,
			File: "neo4j-" + created.Format("2006-01-02T15-04-05") + ".backup", Object: n.ArtifactKey(inspect.FormatBackup), ChainID: id,
			LowestTx: 1, HighestTx: 5, Created: created, PlaintextSHA256: sum, CiphertextSHA256: sum, KeyID: "1"}
		if _, err := s.Catalog.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	f := &driftFixture{t: t, file: file}
	backupsCheck := func() (int, *healthcheck.Check) {
		t.Helper()
		code, doc, errOut := f.healthcheck(env.Kubeconfig, "--skip-neo4j", "--secrets-dir", filepath.Join(dir, "no-secrets"))
		if doc == nil || len(doc.Reports) != 1 {
			t.Fatalf("exit %d, no report: %s", code, errOut)
		}
		for _, ch := range doc.Reports[0].Checks {
			if ch.ID == healthcheck.IDBackups {
				return code, &ch
			}
		}
		return code, nil
	}

	// Three days old against a daily schedule: past two periods.
	put(time.Now().Add(-72 * time.Hour))
	code, ch := backupsCheck()
	if ch == nil {
		t.Fatalf("exit %d: no %s check with spec.backups.schedule", code, healthcheck.IDBackups)
	}
	if code != ExitUnhealthy || ch.Status != healthcheck.Fail || !strings.Contains(ch.Fix, "neo4jctl backup create") ||
		!strings.Contains(strings.Join(ch.Evidence, "\n"), "neo4j: last backup 3d ago") {
		t.Errorf("stale: got exit %d, %s %q %q fix %q; want exit 3, FAIL, the database's age and the fix", code, ch.Status, ch.Summary, ch.Evidence, ch.Fix)
	}

	// A fresh backup of the same database: the newest counts.
	put(time.Now().Add(-time.Minute))
	if code, ch = backupsCheck(); ch == nil || ch.Status != healthcheck.Pass {
		t.Errorf("fresh: got exit %d, %+v; want PASS", code, ch)
	}

	// The bucket is a plain file: the catalogue cannot be listed.
	notDir := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(withBackups(notDir))
	if code, ch = backupsCheck(); ch == nil || ch.Status != healthcheck.Unknown || code != ExitUnhealthy || !strings.Contains(ch.Summary, "could not read the backup catalogue") {
		t.Errorf("unreadable: got exit %d, %+v; want exit 3, UNKNOWN", code, ch)
	}

	// No spec.backups: no backups check at all.
	write(plain)
	if code, ch = backupsCheck(); ch != nil {
		t.Errorf("without spec.backups: exit %d, got check %+v; want none", code, ch)
	}
}
