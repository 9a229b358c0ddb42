package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// backupFixture is a cluster file whose backups go to file:// buckets in a
// temporary directory, and a directory of artifacts as neo4j-admin leaves
// them: a full and a differential of one chain (with their inspect output,
// rows from the Operations Manual's example) and a Community dump.
type backupFixture struct {
	dir, file, bucket, copy, from, inspect string
	outputs                                []string // every stdout and stderr, scanned for secrets
}

func newBackupFixture(t *testing.T) *backupFixture {
	t.Helper()
	d := t.TempDir()
	fx := &backupFixture{dir: d, file: filepath.Join(d, "cluster.yaml"), bucket: filepath.Join(d, "bucket"), copy: filepath.Join(d, "copy"),
		from: filepath.Join(d, "from"), inspect: filepath.Join(d, "inspect.txt")}
	for _, p := range []string{fx.bucket, fx.copy, fx.from} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cluster := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: graph, namespace: graphs}
spec:
  edition: enterprise
  version: "5.26.0"
  acceptLicenseAgreement: "yes"
  servers: 3
  auth: {secretRef: {name: neo4j-auth}}
  backups:
    storage: {url: "file://%s"}
    copies: [{url: "file://%s"}]
    retention: {daily: 1}
    encryption: {keysetSecret: {name: backup-keyset}}
`, fx.bucket, fx.copy)
	if err := os.WriteFile(fx.file, []byte(cluster), 0o644); err != nil {
		t.Fatal(err)
	}
	inspect := `|                                              FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX |
| file:///backups/london-2024-10-07T16-04-05.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:04:05 | false |       true |         6 |          6 |
| file:///backups/london-2024-10-07T16-03-51.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:03:51 |  true |       true |         1 |          5 |
`
	if err := os.WriteFile(fx.inspect, []byte(inspect), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

// artifact writes size random bytes and returns their SHA-256.
func (fx *backupFixture) artifact(t *testing.T, name string, seed byte, size int) string {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	if err := os.WriteFile(filepath.Join(fx.from, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// run runs neo4jctl in-process with no Secrets mounted, keeping its output.
func (fx *backupFixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	args = append(args, "--secrets-dir", filepath.Join(fx.dir, "no-secrets"))
	code, out, errOut := runCLI(t, args...)
	fx.outputs = append(fx.outputs, out, errOut)
	return code, out, errOut
}

func (fx *backupFixture) list(t *testing.T) []string {
	t.Helper()
	code, out, errOut := fx.run(t, "backup", "list", "-f", fx.file, "-o", "json")
	if code != 0 {
		t.Fatalf("backup list: exit %d\n%s", code, errOut)
	}
	var doc views.BackupList
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("backup list -o json: %v\n%s", err, out)
	}
	if doc.APIVersion != views.BackupAPIVersion || doc.Cluster != "graph" {
		t.Errorf("list document: apiVersion %q cluster %q", doc.APIVersion, doc.Cluster)
	}
	ids := make([]string, len(doc.Backups))
	for i, e := range doc.Backups {
		ids[i] = e.ID
	}
	return ids
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestBackupCommands drives every backup command against file://
// buckets: make a keyset, store a chain and a dump with the agent, list,
// describe, download the identical bytes, rotate the key (old backups
// still download), copy, prune as a dry run then --apply; the keyset's
// material is never in any output nor in the catalogue.
func TestBackupCommands(t *testing.T) {
	fx := newBackupFixture(t)
	keyset := filepath.Join(fx.dir, "keyset.json")

	// A missing keyset is not silently replaced by a new one.
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", keyset); code != 1 || !strings.Contains(errOut, "--new") {
		t.Fatalf("rotate without a keyset: exit %d, want 1 saying --new\n%s", code, errOut)
	}
	if code, out, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", keyset, "--new"); code != 0 || out != "" {
		t.Fatalf("rotate --new: exit %d, stdout %q\n%s", code, out, errOut)
	}
	if fi, err := os.Stat(keyset); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyset file: %v %v, want mode 0600", fi, err)
	}
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", filepath.Join(fx.dir, "x.json"), "--new"); code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("rotate --new over an existing keyset: exit %d, want 1\n%s", code, errOut)
	}
	if code, _, _ := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset); code != 1 {
		t.Fatalf("rotate with no destination: exit %d, want 1", code)
	}
	ks1, _ := os.ReadFile(keyset)

	full := fx.artifact(t, "london-2024-10-07T16-03-51.backup", 1, 2<<20)
	diff := fx.artifact(t, "london-2024-10-07T16-04-05.backup", 2, 64<<10)
	dump := fx.artifact(t, "neo4j.dump", 3, 1<<20)
	code, out, errOut := fx.run(t, "backup", "agent", "-f", fx.file, "--from-dir", fx.from, "--inspect-file", fx.inspect, "--keyset-file", keyset, "--no-prune")
	if code != 0 {
		t.Fatalf("agent: exit %d\n%s%s", code, out, errOut)
	}
	for _, step := range []string{"upload london-2024-10-07T16-03-51.backup", "verified ", "catalogued ", "copied ", "done: 3 stored"} {
		if !strings.Contains(errOut, step) {
			t.Errorf("agent log lacks %q:\n%s", step, errOut)
		}
	}
	ids := fx.list(t)
	if len(ids) != 3 {
		t.Fatalf("list: %d backups, want 3: %v", len(ids), ids)
	}
	byFile := map[string]string{}
	for _, id := range ids {
		code, out, errOut := fx.run(t, "backup", "describe", id, "-f", fx.file, "-o", "json")
		if code != 0 {
			t.Fatalf("describe %s: exit %d\n%s", id, code, errOut)
		}
		var d views.BackupDescription
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		byFile[d.Backup.File] = id
		if len(d.RestorePath) == 0 || d.RestorePath[len(d.RestorePath)-1] != id {
			t.Errorf("describe %s: restore path %v, want it to end with the backup", id, d.RestorePath)
		}
	}
	_, human, _ := fx.run(t, "backup", "list", "-f", fx.file)
	for _, col := range []string{"ID", "DATABASE", "TYPE", "CHAIN", "CREATED", "SIZE", "KEY", "COPIES", "VERIFIED", "DIFF", "FULL (dump)", "3 backups of cluster graph"} {
		if !strings.Contains(human, col) {
			t.Errorf("list table lacks %q:\n%s", col, human)
		}
	}
	_, descr, _ := fx.run(t, "backup", "describe", byFile["london-2024-10-07T16-04-05.backup"], "-f", fx.file)
	if !strings.Contains(descr, "Restore replays:") || !strings.Contains(descr, byFile["london-2024-10-07T16-03-51.backup"]+" → ") {
		t.Errorf("describe of the differential does not show its full first:\n%s", descr)
	}

	for file, want := range map[string]string{"london-2024-10-07T16-03-51.backup": full, "london-2024-10-07T16-04-05.backup": diff, "neo4j.dump": dump} {
		dst := filepath.Join(fx.dir, "got-"+file)
		if code, _, errOut := fx.run(t, "backup", "download", byFile[file], "-o", dst, "-f", fx.file, "--keyset-file", keyset); code != 0 {
			t.Fatalf("download %s: exit %d\n%s", file, code, errOut)
		}
		if got := sha256File(t, dst); got != want {
			t.Errorf("download %s: sha256 %s, want %s", file, got, want)
		}
		if code, _, _ := fx.run(t, "backup", "download", byFile[file], "-o", dst, "-f", fx.file, "--keyset-file", keyset); code != 1 {
			t.Errorf("download over an existing file: exit %d, want 1", code)
		}
	}

	// Rotation: a new primary key encrypts, the old one still decrypts.
	keyset2 := filepath.Join(fx.dir, "keyset2.json")
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", keyset2); code != 0 || !strings.Contains(errOut, "Added key") {
		t.Fatalf("rotate: exit %d\n%s", code, errOut)
	}
	manifest := filepath.Join(fx.dir, "secret.yaml")
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset2, "--secret-manifest", manifest); code != 0 || !strings.Contains(errOut, "kubectl apply -f") {
		t.Fatalf("rotate --secret-manifest: exit %d\n%s", code, errOut)
	}
	if m, _ := os.ReadFile(manifest); !strings.Contains(string(m), "name: backup-keyset") || !strings.Contains(string(m), "namespace: graphs") || !strings.Contains(string(m), "keyset.json: ") {
		t.Errorf("Secret manifest:\n%s", m)
	}
	ks2, _ := os.ReadFile(keyset2)
	if err := os.Remove(filepath.Join(fx.from, "london-2024-10-07T16-03-51.backup")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(fx.from, "london-2024-10-07T16-04-05.backup")); err != nil {
		t.Fatal(err)
	}
	dump2 := fx.artifact(t, "neo4j.dump", 4, 4096)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(fx.from, "neo4j.dump"), later, later); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := fx.run(t, "backup", "agent", "-f", fx.file, "--from-dir", fx.from, "--keyset-file", keyset2, "--no-prune"); code != 0 {
		t.Fatalf("agent with the rotated keyset: exit %d\n%s", code, errOut)
	}
	ids = fx.list(t)
	if len(ids) != 4 {
		t.Fatalf("after the second run: %d backups, want 4", len(ids))
	}
	newest := ids[len(ids)-1]
	_, out, _ = fx.run(t, "backup", "describe", newest, "-f", fx.file, "-o", "json")
	_, oldOut, _ := fx.run(t, "backup", "describe", byFile["neo4j.dump"], "-f", fx.file, "-o", "json")
	var newD, oldD views.BackupDescription
	_ = json.Unmarshal([]byte(out), &newD)
	_ = json.Unmarshal([]byte(oldOut), &oldD)
	if newD.Backup.KeyID == "" || newD.Backup.KeyID == oldD.Backup.KeyID {
		t.Errorf("key ids: new backup %q, old %q, want the rotated key on the new one", newD.Backup.KeyID, oldD.Backup.KeyID)
	}
	for id, want := range map[string]string{byFile["neo4j.dump"]: dump, newest: dump2} {
		dst := filepath.Join(fx.dir, "rotated-"+strings.ReplaceAll(id, "/", "_"))
		if code, _, errOut := fx.run(t, "backup", "download", id, "-o", dst, "-f", fx.file, "--keyset-file", keyset2); code != 0 {
			t.Fatalf("download %s with the rotated keyset: exit %d\n%s", id, code, errOut)
		}
		if got := sha256File(t, dst); got != want {
			t.Errorf("%s: sha256 %s, want %s", id, got, want)
		}
	}

	// Copy to a bucket outside spec.backups.copies.
	other := filepath.Join(fx.dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := fx.run(t, "backup", "copy", newest, "--to", "file://"+other, "-f", fx.file); code != 0 || !strings.Contains(out, "Copied") {
		t.Fatalf("copy: exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ = fx.run(t, "backup", "describe", newest, "-f", fx.file, "-o", "json")
	_ = json.Unmarshal([]byte(out), &newD)
	if len(newD.Backup.Copies) != 2 {
		t.Errorf("copies after backup copy: %+v, want 2", newD.Backup.Copies)
	}
	if code, _, errOut := fx.run(t, "backup", "copy", newest, "--to", "s3://AKIA:canary-Cop1ed@b/p", "-f", fx.file); code != 1 || strings.Contains(errOut, "canary-Cop1ed") {
		t.Errorf("copy to a URL with credentials: exit %d, want 1 without echoing them\n%s", code, errOut)
	}

	// Prune: daily 1 deletes the older dump of the same day; the chain's
	// full stays because its kept differential needs it.
	code, out, errOut = fx.run(t, "backup", "prune", "-f", fx.file)
	if code != 0 || !strings.Contains(out, "- delete") || !strings.Contains(out, byFile["neo4j.dump"]) || !strings.Contains(out, "Dry run") {
		t.Fatalf("prune dry run: exit %d\n%s%s", code, out, errOut)
	}
	if got := fx.list(t); len(got) != 4 {
		t.Fatalf("the dry run deleted something: %d backups left", len(got))
	}
	_, jsonOut, _ := fx.run(t, "backup", "prune", "-f", fx.file, "-o", "json")
	var pr views.BackupPrune
	if err := json.Unmarshal([]byte(jsonOut), &pr); err != nil || !pr.DryRun || pr.Plan.Deletions() != 1 {
		t.Fatalf("prune -o json: %v %+v\n%s", err, pr, jsonOut)
	}
	code, out, errOut = fx.run(t, "backup", "prune", "-f", fx.file, "--apply")
	if code != 0 || !strings.Contains(out, "Pruned 1 of 1") {
		t.Fatalf("prune --apply: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Dry run") || strings.Index(errOut, "- delete") > strings.Index(errOut, "\ndelete ") {
		t.Errorf("--apply did not show the decision before deleting:\n%s", errOut)
	}
	left := fx.list(t)
	if len(left) != 3 || strings.Contains(strings.Join(left, " "), byFile["neo4j.dump"]) {
		t.Errorf("after prune --apply: %v, want the older dump gone", left)
	}
	for _, root := range []string{fx.bucket, fx.copy} {
		matches, _ := filepath.Glob(filepath.Join(root, "artifacts", "graph", "neo4j", "*.enc"))
		if len(matches) != 1 {
			t.Errorf("%s: %d neo4j artifacts after pruning, want 1", root, len(matches))
		}
	}

	// Neither keyset's material is in any output or catalogue object.
	secrets := append(ops.KeysetSecrets(ks1), ops.KeysetSecrets(ks2)...)
	texts := append([]string{}, fx.outputs...)
	for _, root := range []string{fx.bucket, fx.copy, other} {
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".enc") {
				b, _ := os.ReadFile(p)
				texts = append(texts, string(b))
			}
			return nil
		})
	}
	if len(secrets) < 2 {
		t.Fatalf("found %d keyset strings to look for, want at least 2", len(secrets))
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("keyset material found in an output or a catalogue object:\n%.300s", text)
			}
		}
	}
}

// TestBackupKeysRotateStdoutOnlyWhenAsked: the keyset reaches stdout only
// with --stdout, and --stdout is not taken from the environment.
func TestBackupKeysRotateStdoutOnlyWhenAsked(t *testing.T) {
	fx := newBackupFixture(t)
	keyset := filepath.Join(fx.dir, "k.json")
	t.Setenv("NEO4JCTL_STDOUT", "true")
	t.Setenv("NEO4JCTL_NEW", "true")
	if code, out, _ := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset); code != 1 || out != "" {
		t.Fatalf("rotate with --stdout and --new only in the environment: exit %d, stdout %q; want 1 and nothing", code, out)
	}
	code, out, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--new", "--stdout")
	if code != 0 || !strings.Contains(out, "primaryKeyId") {
		t.Fatalf("rotate --new --stdout: exit %d\n%s%s", code, out, errOut)
	}
}

// TestBackupDownloadRefusesDamagedOrWrongKey: a flipped byte in the
// stored object's last segment, a truncated object and a keyset without
// the artifact's key each fail, and the output file is never created.
func TestBackupDownloadRefusesDamagedOrWrongKey(t *testing.T) {
	fx := newBackupFixture(t)
	keyset := filepath.Join(fx.dir, "keyset.json")
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", keyset, "--out", keyset, "--new"); code != 0 {
		t.Fatal(errOut)
	}
	fx.artifact(t, "neo4j.dump", 9, 3<<20)
	if code, _, errOut := fx.run(t, "backup", "agent", "-f", fx.file, "--from-dir", fx.from, "--keyset-file", keyset, "--no-prune"); code != 0 {
		t.Fatal(errOut)
	}
	id := fx.list(t)[0]
	objs, _ := filepath.Glob(filepath.Join(fx.bucket, "artifacts", "graph", "neo4j", "*.enc"))
	if len(objs) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	orig, err := os.ReadFile(objs[0])
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(fx.dir, "other-keyset.json")
	if code, _, errOut := fx.run(t, "backup", "keys", "rotate", "-f", fx.file, "--keyset-file", other, "--out", other, "--new"); code != 0 {
		t.Fatal(errOut)
	}
	flipped := append([]byte(nil), orig...)
	flipped[len(flipped)-10] ^= 0x01
	for name, tc := range map[string]struct {
		object []byte
		keyset string
		want   string
	}{
		"flipped byte in the last segment": {flipped, keyset, "did not authenticate"},
		"truncated object":                 {orig[:len(orig)-4096], keyset, "did not authenticate"},
		"keyset without the key":           {orig, other, "key not in keyset"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(objs[0], tc.object, 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "out.dump")
			code, _, errOut := fx.run(t, "backup", "download", id, "-o", dst, "-f", fx.file, "--keyset-file", tc.keyset)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 1 with %q:\n%s", code, tc.want, errOut)
			}
			entries, _ := os.ReadDir(filepath.Dir(dst))
			if len(entries) != 0 {
				t.Errorf("the download left %d files behind (%s), want none", len(entries), entries[0].Name())
			}
		})
	}
}
