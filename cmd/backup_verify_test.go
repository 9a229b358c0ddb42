package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/views"
)

// fakeNeo4jHome writes home/bin/neo4j-admin, a shell script standing in for
// the tool in these units of the command's own logic (argument checks,
// exit-status mapping, what is recorded, scratch removal). The real
// neo4j-admin is exercised by e2e/suites TestBackupVerifyLocalRealDump.
// The script appends its arguments to home/calls and behaves per body.
func fakeNeo4jHome(t *testing.T, body string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$@\" >> '" + filepath.Join(home, "calls") + "'\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(home, "bin", "neo4j-admin"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return home
}

// storedFixture stores a chain (online backups) and a dump with the agent
// and returns the fixture, its keyset and the IDs by file name.
func storedFixture(t *testing.T) (*backupFixture, string, map[string]string) {
	t.Helper()
	fx := newBackupFixture(t)
	keyset := filepath.Join(fx.dir, "keyset.json")
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", keyset, "--new"); code != 0 {
		t.Fatalf("rotate --new: exit %d\n%s", code, errOut)
	}
	fx.artifact(t, "london-2024-10-07T16-03-51.backup", 1, 64<<10)
	fx.artifact(t, "london-2024-10-07T16-04-05.backup", 2, 4<<10)
	fx.artifact(t, "neo4j.dump", 3, 64<<10)
	if code, out, errOut := fx.run(t, "backup", "agent", "-f", fx.file, "--from-dir", fx.from, "--inspect-file", fx.inspect, "--keyset-file", keyset, "--no-prune"); code != 0 {
		t.Fatalf("agent: exit %d\n%s%s", code, out, errOut)
	}
	byFile := map[string]string{}
	for _, id := range fx.list(t) {
		byFile[describeVerify(t, fx, id).Backup.File] = id
	}
	return fx, keyset, byFile
}

func describeVerify(t *testing.T, fx *backupFixture, id string) views.BackupDescription {
	t.Helper()
	code, out, errOut := fx.run(t, "backup", "describe", id, "-f", fx.file, "-o", "json")
	if code != 0 {
		t.Fatalf("describe %s: exit %d\n%s", id, code, errOut)
	}
	var d views.BackupDescription
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBackupVerifyArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--local", "-f", "x.yaml"}, "ID or --latest is required"},
		{[]string{"a/b/c", "--latest", "--local", "-f", "x.yaml"}, "not both"},
		{[]string{"--latest", "--secrets-namespace", "db", "-f", "x.yaml"}, "--secrets-namespace goes with --local"},
		{[]string{"--latest", "--local", "--secrets-namespace", "db", "--keyset-file", "k.json", "-f", "x.yaml"}, "not both"},
		{[]string{"--latest", "--neo4j-home", "/opt/neo4j", "-f", "x.yaml"}, "--neo4j-home goes with --local"},
		{[]string{"--install", "--latest", "-f", "x.yaml"}, "--install applies the verification objects only"},
		{[]string{"--install", "--local", "-f", "x.yaml"}, "--install applies the verification objects only"},
		{[]string{"a/b/c", "--database", "neo4j", "--local", "-f", "x.yaml"}, "--database goes with --latest"},
		{[]string{"--latest", "--local"}, "-f CLUSTER_FILE is required"},
	} {
		code, _, errOut := runCLI(t, append([]string{"backup", "verify"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("verify %v: exit %d, want non-zero saying %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
}

// TestBackupVerifyExitStatusAndRecord: an online backup is refused (exit
// 1, nothing recorded, neo4j-admin never run); a neo4j-admin that does not
// run is an error (exit 1, nothing recorded); a load that fails is a
// failed verification (exit 3, recorded with its message); a clean
// load/check passes (exit 0, recorded with the version that load
// --verbose printed). neo4j-admin runs exactly twice per verification
// (load, check): each run is a JVM start, the overhead issue 16 bounds. The
// scratch directory is gone after each.
func TestBackupVerifyExitStatusAndRecord(t *testing.T) {
	fx, keyset, byFile := storedFixture(t)
	dump := byFile["neo4j.dump"]
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
	verifications := func(id string) int { return len(describeVerify(t, fx, id).Backup.Verifications) }

	// verboseHeader is what a real neo4j-admin 5.26 prints first under
	// --verbose (seen with 5.26.30: the version, then the JVM).
	const verboseHeader = `"database load") echo "neo4j 5.26.99"; echo "VM Name: OpenJDK 64-Bit Server VM" ;;`
	ok := fakeNeo4jHome(t, `case "$1 $2" in
`+verboseHeader+`
esac
[ -n "$NEO4J_CONF" ] && [ -f "$NEO4J_CONF/neo4j.conf" ] || exit 70`)

	// An online backup with a Community neo4j-admin (its own `database
	// --help` lists no restore): refused before anything is downloaded.
	community := fakeNeo4jHome(t, `case "$1 $2" in
"database --help") cat <<'EOF'
`+communityDatabaseHelp+`EOF
;;
*) exit 99 ;;
esac`)
	online := byFile["london-2024-10-07T16-03-51.backup"]
	if code, _, errOut := verify(community, online); code != 1 || !strings.Contains(errOut, "Enterprise neo4j-admin") || !strings.Contains(errOut, "Community Edition") {
		t.Errorf("verify of an online backup with Community's neo4j-admin: exit %d, want 1 saying an Enterprise one is needed\n%s", code, errOut)
	}
	if n := verifications(online); n != 0 {
		t.Errorf("a refused verification recorded %d verifications", n)
	}
	if calls, _ := os.ReadFile(filepath.Join(community, "calls")); strings.TrimSpace(string(calls)) != "database --help" {
		t.Errorf("neo4j-admin ran %q for a refused online backup, want only `database --help`", calls)
	}

	if code, _, errOut := verify(t.TempDir(), dump); code != 1 || !strings.Contains(errOut, "bin/neo4j-admin") {
		t.Errorf("verify with no neo4j-admin: exit %d, want 1\n%s", code, errOut)
	}
	broken := fakeNeo4jHome(t, "echo 'Error: could not find java' >&2; exit 1")
	if code, _, errOut := verify(broken, dump); code != 1 || !strings.Contains(errOut, "did not start") || !strings.Contains(errOut, "could not find java") {
		t.Errorf("verify with a neo4j-admin that does not run: exit %d, want 1\n%s", code, errOut)
	}
	if n := verifications(dump); n != 0 {
		t.Errorf("an error recorded %d verifications", n)
	}

	badLoad := fakeNeo4jHome(t, `case "$1 $2" in
"database load") echo "neo4j 5.26.99"; echo "Not a valid Neo4j archive" >&2; exit 1 ;;
esac`)
	code, out, errOut := verify(badLoad, dump)
	if code != 3 || !strings.Contains(out, "verification failed") || !strings.Contains(errOut, "failed verification") {
		t.Errorf("verify with a failing load: exit %d, want 3\n%s%s", code, out, errOut)
	}
	d := describeVerify(t, fx, dump).Backup
	if len(d.Verifications) != 1 || d.Verifications[0].Result != "failed" || !strings.Contains(d.Verifications[0].Message, "Not a valid Neo4j archive") || d.Verifications[0].Where != "local" {
		t.Fatalf("recorded after a failing load: %+v", d.Verifications)
	}

	if code, out, errOut := verify(ok, "--latest", "--database", "neo4j"); code != 0 || !strings.Contains(out, "verification passed") {
		t.Fatalf("verify --latest with a clean run: exit %d\n%s%s", code, out, errOut)
	}
	d = describeVerify(t, fx, dump).Backup
	if len(d.Verifications) != 2 || d.Verifications[1].Result != "passed" || d.Verifications[1].Neo4jVersion != "5.26.99" || d.Verifications[1].Duration <= 0 {
		t.Fatalf("recorded after a clean run: %+v", d.Verifications)
	}
	calls, _ := os.ReadFile(filepath.Join(ok, "calls"))
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	wants := []string{"database load --verbose neo4j --from-path=", "database check neo4j --report-path="}
	if len(lines) != len(wants) {
		t.Fatalf("neo4j-admin ran %d times, want %d (load, check):\n%s", len(lines), len(wants), calls)
	}
	for i, want := range wants {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("neo4j-admin run %d: %q, want it to start with %q", i+1, lines[i], want)
		}
	}
}

// TestBackupVerifyInstallBinary: the verification Pod's init container
// (neo4jctl's image has no shell) copies the running binary to the path
// it is given, executable, and never over an existing file.
func TestBackupVerifyInstallBinary(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "neo4jctl")
	if code, _, errOut := runCLI(t, "backup", "verify", "--install-binary", dst); code != 0 {
		t.Fatalf("--install-binary: exit %d\n%s", code, errOut)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(self)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.Stat(dst)
	if err != nil || got.Size() != want.Size() || got.Mode().Perm() != 0o755 {
		t.Fatalf("installed %v (%v), want %d bytes, mode 0755", got, err, want.Size())
	}
	if code, _, errOut := runCLI(t, "backup", "verify", "--install-binary", dst); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("--install-binary over an existing file: exit %d\n%s", code, errOut)
	}
}
