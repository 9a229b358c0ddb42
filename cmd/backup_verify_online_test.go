package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
)

// communityDatabaseHelp is `neo4j-admin database --help` of Neo4j
// Community 5.26.30, as it printed it (no restore).
const communityDatabaseHelp = `Usage: neo4j-admin database [COMMAND]
Database-specific administration tasks.
Commands:
  help, -h, --help  Display help information about the specified command.
  check             Check the consistency of a database.
  dump              Dump a database into a single-file archive.
  import            High-speed import of data from CSV files, optimized for fault-free data.
  info              Print information about a Neo4j database store.
  load              Load a database from an archive created with the dump command or from full Neo4j Enterprise backup.
  migrate           Migrate a database
`

// enterpriseHelpScript answers `database --help` with the Enterprise
// command list of tools/neo4j-admin/index.adoc ("Available commands per
// category"): no real Enterprise neo4j-admin is available to these tests.
const enterpriseHelpScript = `"database --help") cat <<'EOF'
Usage: neo4j-admin database [COMMAND]
Commands:
  help, -h, --help  Display help information about the specified command.
  aggregate-backup  Aggregates a chain of backup artifacts into a single artifact.
  backup            Perform an online backup from a running Neo4j enterprise server.
  check             Check the consistency of a database.
  load              Load a database from an archive.
  restore           Restore a backed up database.
EOF
;;`

// TestBackupVerifyOnlineBackupChain: an Enterprise online backup is
// verified by restoring its whole chain: the full and the differential
// are downloaded side by side under their own names (decrypted: their
// sizes are the artifacts'), `database restore --from-path=<the
// differential>` runs with the scratch configuration, then `database
// check`; the verification is recorded with the restore method. A restore
// that fails on artifacts whose digests matched is a failed verification
// (exit 3, recorded). The stand-in neo4j-admin only answers as the manual
// says an Enterprise one would; the real Community one's refusal is
// TestBackupVerifyOnlineRealCommunity's.
func TestBackupVerifyOnlineBackupChain(t *testing.T) {
	fx, keyset, byFile := storedFixture(t)
	full, diff := byFile["london-2024-10-07T16-03-51.backup"], byFile["london-2024-10-07T16-04-05.backup"]
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	verify := func(home string, args ...string) (int, string, string) {
		t.Helper()
		code, out, errOut := fx.run(t, append([]string{"backup", "verify", "--local", "--neo4j-home", home, "-f", fx.file, "--keyset-file", keyset}, args...)...)
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("verify %v left %s in TMPDIR", args, left[0].Name())
		}
		return code, out, errOut
	}
	// restore lists what it finds beside the artifact --from-path names,
	// with sizes, and checks the scratch configuration is in force.
	enterprise := fakeNeo4jHome(t, `case "$1 $2" in
`+enterpriseHelpScript+`
"database restore") echo "neo4j 5.26.99"; echo "VM Name: OpenJDK 64-Bit Server VM"
  [ -n "$NEO4J_CONF" ] && [ -f "$NEO4J_CONF/neo4j.conf" ] || exit 70
  from=$(echo "$4" | sed 's/^--from-path=//'); dir=$(dirname "$from")
  for f in "$dir"/*; do echo "have $(basename "$f") $(wc -c < "$f")"; done >> "$(dirname "$0")/../calls" ;;
"database check") [ -n "$NEO4J_CONF" ] || exit 70 ;;
esac`)

	code, out, errOut := verify(enterprise, diff)
	if code != 0 || !strings.Contains(out, "verification passed") || !strings.Contains(out, "restore+check") {
		t.Fatalf("verify of a differential: exit %d\n%s%s", code, out, errOut)
	}
	calls, _ := os.ReadFile(filepath.Join(enterprise, "calls"))
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	wants := []string{
		"database --help",
		"database restore --verbose --from-path=",
		"have london-2024-10-07T16-03-51.backup 65536",
		"have london-2024-10-07T16-04-05.backup 4096",
		"database check london --report-path=",
	}
	if len(lines) != len(wants) {
		t.Fatalf("neo4j-admin calls:\n%s\nwant %d lines like %q", calls, len(wants), wants)
	}
	for i, want := range wants {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), want) {
			t.Errorf("call %d: %q, want it to start with %q", i+1, lines[i], want)
		}
	}
	if !strings.HasSuffix(lines[1], "/london-2024-10-07T16-04-05.backup london") {
		t.Errorf("restore %q: want --from-path naming the differential, then the database", lines[1])
	}
	d := describeVerify(t, fx, diff).Backup
	if len(d.Verifications) != 1 || d.Verifications[0].Result != "passed" || d.Verifications[0].Method != "neo4j-admin database restore+check" ||
		d.Verifications[0].Neo4jVersion != "5.26.99" || !strings.Contains(d.Verifications[0].Message, "chain of 2") {
		t.Fatalf("recorded: %+v", d.Verifications)
	}
	if n := len(describeVerify(t, fx, full).Backup.Verifications); n != 0 {
		t.Errorf("verifying the differential recorded %d verifications on its full, want 0 (the result is the differential's)", n)
	}

	badRestore := fakeNeo4jHome(t, `case "$1 $2" in
`+enterpriseHelpScript+`
"database restore") echo "neo4j 5.26.99"; echo "Backup chain is broken: transaction 6 missing" >&2; exit 1 ;;
esac`)
	code, out, errOut = verify(badRestore, full)
	if code != 3 || !strings.Contains(out, "verification failed") {
		t.Errorf("verify with a failing restore: exit %d, want 3\n%s%s", code, out, errOut)
	}
	d = describeVerify(t, fx, full).Backup
	if len(d.Verifications) != 1 || d.Verifications[0].Result != "failed" || !strings.Contains(d.Verifications[0].Message, "neo4j-admin database restore exited 1: ") ||
		!strings.Contains(d.Verifications[0].Message, "transaction 6 missing") {
		t.Fatalf("recorded after a failing restore: %+v", d.Verifications)
	}
	if calls, _ := os.ReadFile(filepath.Join(badRestore, "calls")); !strings.Contains(string(calls), "/london-2024-10-07T16-03-51.backup london") {
		t.Errorf("a full restores on its own: calls %s", calls)
	}
}

// TestBackupVerifyOnlineRealCommunity: with the real neo4j-admin of Neo4j
// Community 5.26 (e2e/neo4jreal, from Maven Central), verifying an online
// backup is refused from that tool's own answer: its `database --help`
// lists no restore. Exit 1, the message names what is needed, nothing is
// recorded and nothing is left in TMPDIR (nothing was downloaded).
func TestBackupVerifyOnlineRealCommunity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real Community neo4j-admin (built from Maven Central once); skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	adm, err := neo4jreal.NewAdmin(ctx, t.TempDir(), neo4jreal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home, err := adm.InstallAdminScript(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx, keyset, byFile := storedFixture(t)
	diff := byFile["london-2024-10-07T16-04-05.backup"]
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errOut := fx.run(t, "backup", "verify", diff, "--local", "--neo4j-home", home, "-f", fx.file, "--keyset-file", keyset)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Enterprise neo4j-admin", "lists check, dump, import, info, load, migrate: Community Edition", "a chain of 2 artifacts", "nothing was downloaded or recorded"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("refusal does not say %q:\n%s", want, errOut)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left %s in TMPDIR", left[0].Name())
	}
	if n := len(describeVerify(t, fx, diff).Backup.Verifications); n != 0 {
		t.Errorf("recorded %d verifications", n)
	}
}
