package suites

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// TestBackupVerifyOnlineChainBuiltBinary: through the built binary, as a
// user runs it, an Enterprise online backup chain (a full and a
// differential, stored encrypted by the agent in a file:// bucket with the
// manual's inspect rows) is verified by restoring the whole chain:
//
//   - with the real neo4j-admin of Neo4j Community 5.26 it is refused from
//     that tool's own command list (no `database restore`): exit 1,
//     nothing recorded, nothing left in TMPDIR;
//   - with a stand-in for an Enterprise neo4j-admin (no real one is
//     available: Maven Central serves Community only) that lists restore
//     and reports what it was given, both links arrive decrypted and
//     byte-identical (SHA-256) beside the differential --from-path names,
//     the check follows, and the pass is recorded with the restore method.
func TestBackupVerifyOnlineChainBuiltBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the built binary and the real Community neo4j-admin; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bucket := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: \"file://%s\"}\n", bucket), bucket)
	doc, err := os.ReadFile(b.file)
	if err != nil {
		t.Fatal(err)
	}
	doc = []byte(strings.Replace(string(doc), "  edition: community\n", "  edition: enterprise\n  acceptLicenseAgreement: \"yes\"\n  servers: 3\n", 1))
	if err := os.WriteFile(b.file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	from := t.TempDir()
	sums := map[string]string{}
	for name, size := range map[string]int{"london-2024-10-07T16-03-51.backup": 96 << 10, "london-2024-10-07T16-04-05.backup": 8 << 10} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		h := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(h[:])
		if err := os.WriteFile(filepath.Join(from, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Rows of the Operations Manual's inspect example (5.26,
	// backup-restore/inspect.adoc): a full [1,5], then a differential [6,6].
	inspect := filepath.Join(t.TempDir(), "inspect.txt")
	if err := os.WriteFile(inspect, []byte(`|                                              FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX |
| file:///backups/london-2024-10-07T16-04-05.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:04:05 | false |       true |         6 |          6 |
| file:///backups/london-2024-10-07T16-03-51.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:03:51 |  true |       true |         1 |          5 |
`), 0o644); err != nil {
		t.Fatal(err)
	}
	b.ok("backup", "agent", "-f", b.file, "--from-dir", from, "--inspect-file", inspect, "--no-prune")
	var diff string
	for _, e := range b.list().Backups {
		if e.Type == "DIFF" {
			diff = e.ID
		}
	}
	if diff == "" {
		t.Fatalf("no differential stored: %+v", b.list().Backups)
	}
	verifications := func() []catalog.Verification {
		t.Helper()
		r := b.ok("backup", "describe", diff, "-f", b.file, "-o", "json")
		var d views.BackupDescription
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("describe -o json: %v\n%s", err, r)
		}
		return d.Backup.Verifications
	}

	// The real Community neo4j-admin.
	adm, err := neo4jreal.NewAdmin(ctx, t.TempDir(), neo4jreal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	community, err := adm.InstallAdminScript(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	r := run(t, []string{"NO_COLOR=1", "TMPDIR=" + tmp}, binary, "backup", "verify", diff, "--local", "--neo4j-home", community, "-f", b.file, "--secrets-dir", b.secrets)
	if r.code != 1 || !strings.Contains(r.stderr, "Enterprise neo4j-admin") || !strings.Contains(r.stderr, "lists check, dump, import, info, load, migrate: Community Edition") {
		t.Fatalf("verify with the real Community neo4j-admin: %s", r)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the refused run left %s in TMPDIR", left[0].Name())
	}
	if vs := verifications(); len(vs) != 0 {
		t.Fatalf("the refused run recorded %+v", vs)
	}

	// A stand-in Enterprise neo4j-admin that reports the chain it got.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(home, "got")
	script := `#!/bin/sh
case "$1 $2" in
"database --help") printf 'Usage: neo4j-admin database [COMMAND]\nCommands:\n  check             Check the consistency of a database.\n  restore           Restore a backed up database.\n' ;;
"database restore") echo "neo4j 5.26.99"
  echo "$*" >> '` + got + `'
  dir=$(dirname "$(echo "$4" | sed 's/^--from-path=//')")
  (cd "$dir" && sha256sum *) >> '` + got + `' ;;
"database check") echo "$*" >> '` + got + `' ;;
*) exit 99 ;;
esac
`
	if err := os.WriteFile(filepath.Join(home, "bin", "neo4j-admin"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r = run(t, []string{"NO_COLOR=1", "TMPDIR=" + tmp}, binary, "backup", "verify", diff, "--local", "--neo4j-home", home, "-f", b.file, "--secrets-dir", b.secrets)
	if r.code != 0 || !strings.Contains(r.stdout, "verification passed") {
		t.Fatalf("verify with the stand-in: %s", r)
	}
	report, _ := os.ReadFile(got)
	for name, sum := range sums {
		if !strings.Contains(string(report), sum+"  "+name) {
			t.Errorf("restore did not get %s byte-identical (sha256 %s):\n%s", name, sum, report)
		}
	}
	if !strings.Contains(string(report), "/london-2024-10-07T16-04-05.backup london") || !strings.Contains(string(report), "database check london --report-path=") {
		t.Errorf("neo4j-admin calls:\n%s", report)
	}
	if vs := verifications(); len(vs) != 1 || vs[0].Result != catalog.VerificationPassed || vs[0].Method != "neo4j-admin database restore+check" {
		t.Errorf("recorded: %+v", vs)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left %s in TMPDIR", left[0].Name())
	}
	b.scanSecrets()
}
