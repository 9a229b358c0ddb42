package suites

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// backupRun is a backup setup driven through the built binary: a cluster
// file, a Secrets directory laid out as the backup Pod mounts it, and every
// output kept for the secret scan.
type backupRun struct {
	t                  *testing.T
	dir, file, secrets string
	keyset             string
	outputs            []string
	buckets            []string // local directories holding the buckets' objects
	secretValues       []string // must appear nowhere
}

func newBackupRun(t *testing.T, storageYAML string, buckets ...string) *backupRun {
	t.Helper()
	if binary == "" {
		t.Skip("runs the built binary; skipped with -short")
	}
	d := t.TempDir()
	b := &backupRun{t: t, dir: d, file: filepath.Join(d, "cluster.yaml"), secrets: filepath.Join(d, "secrets"), buckets: buckets}
	b.keyset = filepath.Join(b.secrets, "backup-keyset", "keyset.json")
	if err := os.MkdirAll(filepath.Dir(b.keyset), 0o700); err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: graph, namespace: graphs}
spec:
  edition: community
  version: "5.26.0"
  auth: {secretRef: {name: neo4j-auth}}
  backups:
` + storageYAML + `    encryption: {keysetSecret: {name: backup-keyset}}
`
	if err := os.WriteFile(b.file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	// The keyset is made by the command a user runs first.
	b.ok("backup", "keys", "rotate", "-f", b.file, "--new", "--out", b.keyset)
	ks, err := os.ReadFile(b.keyset)
	if err != nil {
		t.Fatal(err)
	}
	b.secretValues = append(b.secretValues, ops.KeysetSecrets(ks)...)
	return b
}

func (b *backupRun) secret(name, key, value string) {
	b.t.Helper()
	p := filepath.Join(b.secrets, name, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(value), 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.secretValues = append(b.secretValues, value)
}

func (b *backupRun) neo4jctl(args ...string) result {
	b.t.Helper()
	args = append(args, "--secrets-dir", b.secrets)
	r := run(b.t, []string{"NO_COLOR=1"}, binary, args...)
	b.outputs = append(b.outputs, r.stdout, r.stderr)
	return r
}

func (b *backupRun) ok(args ...string) result {
	b.t.Helper()
	r := b.neo4jctl(args...)
	if r.code != 0 {
		b.t.Fatalf("%s", r)
	}
	return r
}

func (b *backupRun) list() views.BackupList {
	b.t.Helper()
	r := b.ok("backup", "list", "-f", b.file, "-o", "json")
	var l views.BackupList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		b.t.Fatalf("list -o json: %v\n%s", err, r)
	}
	return l
}

// scanSecrets fails when a secret value appears in an output of the run
// or in any object of the buckets other than the encrypted artifacts.
func (b *backupRun) scanSecrets() {
	b.t.Helper()
	texts := append([]string{}, b.outputs...)
	for _, root := range b.buckets {
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".enc") {
				data, _ := os.ReadFile(p)
				texts = append(texts, string(data))
			}
			return nil
		})
	}
	if len(texts) <= len(b.outputs) {
		b.t.Fatalf("no catalogue object found under %v to scan", b.buckets)
	}
	for _, text := range texts {
		for _, s := range b.secretValues {
			if len(s) >= 4 && strings.Contains(text, s) {
				b.t.Fatalf("a secret value (%d chars) appears in an output or catalogue object:\n%.400s", len(s), text)
			}
		}
	}
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// TestBackupAgentS3 runs the agent binary against a real S3 server
// (versitygw) through a proxy that answers the first seven part uploads
// with 503 — more than the S3 SDK's own three tries can absorb over the
// artifact's three parts, so an attempt of ours fails and is printed n/N —
// and the upload completes; the artifact is
// copied to a second bucket, listed, downloaded identical; the S3 secret
// key and the keyset never appear in an output or the catalogue.
func TestBackupAgentS3(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts versitygw; skipped with -short")
	}
	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "backups")
	s3.CreateBucket(t, "copies")
	proxy := storage.NewProxy(t, s3.Endpoint)
	rule := proxy.Add(storage.Rule{Match: storage.IsUpload, Times: 7, Fault: storage.Fault{Status: http.StatusServiceUnavailable}})
	data := filepath.Join(s3.Dir, "data")
	b := newBackupRun(t, fmt.Sprintf(`    storage: {url: "s3://backups/prod?region=%s&endpoint=%s", credentialsSecret: backup-s3}
    copies: [{url: "%s", credentialsSecret: backup-s3}]
`, s3.Region, proxy.URL, s3.URL("copies", "prod")), filepath.Join(data, "backups"), filepath.Join(data, "copies"))
	b.secret("backup-s3", "AWS_ACCESS_KEY_ID", s3.AccessKey)
	b.secret("backup-s3", "AWS_SECRET_ACCESS_KEY", s3.SecretKey)

	from := filepath.Join(b.dir, "from")
	if err := os.Mkdir(from, 0o755); err != nil {
		t.Fatal(err)
	}
	art := make([]byte, 20<<20+3)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(art)
	dump := filepath.Join(from, "neo4j.dump")
	if err := os.WriteFile(dump, art, 0o644); err != nil {
		t.Fatal(err)
	}
	r := b.ok("backup", "agent", "-f", b.file, "--from-dir", from)
	if proxy.Hits(rule) != 7 || !strings.Contains(r.stderr, "attempt 1/5") || !strings.Contains(r.stderr, "done: 1 stored") {
		t.Errorf("retries: %d faults hit, want 7, a failed attempt printed as attempt 1/5\n%s", proxy.Hits(rule), r)
	}
	l := b.list()
	if len(l.Backups) != 1 || len(l.Backups[0].Copies) != 1 {
		t.Fatalf("list: %+v, want one backup with one copy", l.Backups)
	}
	got := filepath.Join(b.dir, "got.dump")
	b.ok("backup", "download", l.Backups[0].ID, "-o", got, "-f", b.file)
	if fileDigest(t, got) != fileDigest(t, dump) {
		t.Errorf("the downloaded dump differs from the one uploaded")
	}
	b.scanSecrets()
}

// TestBackupCommunityDumpEndToEnd: data written through Bolt into the real
// Neo4j Community of the contract suite, the server stopped, the database
// dumped by the real neo4j-admin, the dump taken by the agent binary into a
// file:// bucket, listed, and downloaded to identical bytes. The server's
// canary password and the keyset appear in no output and no catalogue
// object.
func TestBackupCommunityDumpEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a real Neo4j and neo4j-admin; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const canary = "canary-B4ckup-pw-5151"
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: canary})
	if srv == nil {
		return
	}
	drv, err := neo4j.NewDriverWithContext(srv.BoltURI, neo4j.BasicAuth("neo4j", canary, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := neo4j.ExecuteQuery(ctx, drv, "UNWIND range(1, 500) AS i CREATE (:Person {id: i})", nil, neo4j.EagerResultTransformer); err != nil {
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
	from := t.TempDir()
	dump, err := adm.Dump(ctx, "neo4j", from)
	if err != nil {
		t.Fatalf("neo4j-admin database dump: %v", err)
	}

	bucket := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: \"file://%s\"}\n", bucket), bucket)
	b.secretValues = append(b.secretValues, canary)
	r := b.ok("backup", "agent", "-f", b.file, "--from-dir", from)
	for _, step := range []string{"upload neo4j.dump", "verified ", "catalogued ", "done: 1 stored"} {
		if !strings.Contains(r.stderr, step) {
			t.Errorf("agent log lacks %q:\n%s", step, r)
		}
	}
	l := b.list()
	if len(l.Backups) != 1 || l.Backups[0].Type != "FULL" || l.Backups[0].Format != "dump" {
		t.Fatalf("list: %+v, want one FULL dump", l.Backups)
	}
	got := filepath.Join(b.dir, "neo4j.dump")
	b.ok("backup", "download", l.Backups[0].ID, "-o", got, "-f", b.file)
	if fileDigest(t, got) != fileDigest(t, dump) {
		t.Errorf("the downloaded dump differs from the one neo4j-admin wrote")
	}
	b.scanSecrets()
}
