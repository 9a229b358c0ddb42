package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// copySourceFixture is a DR source as after losing its region: cluster
// file community (namespace graphs-lost, never on this control plane)
// whose primary storage is a real versitygw behind a proxy and whose one
// copy is a second versitygw; one dump stored by the real agent and
// copied, digest-checked. Then the primary's server is stopped.
type copySourceFixture struct {
	file, secrets, keyset, id string
	copyS3                    *storage.S3
	primary                   *storage.Proxy
	// primaryRequests is how many requests reached the primary before
	// the outage.
	primaryRequests int
}

// copySourceBase is a Community cluster file without spec.backups, in a
// namespace that never exists here.
const copySourceBase = `apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: community, namespace: graphs-lost}
spec:
  edition: community
  version: "5.26.0"
  auth: {secretRef: {name: community-auth}}
`

// newCopySource writes base (a cluster file of cluster community without
// spec.backups) with the backups section, stores and copies one dump,
// and stops the primary; verified adds a passed verification to the
// entry before the copy is made, as backup verify records one.
func newCopySource(t *testing.T, base string, verified bool) *copySourceFixture {
	t.Helper()
	primaryS3, copyS3 := storage.StartS3(t), storage.StartS3(t)
	primaryS3.CreateBucket(t, "backups")
	copyS3.CreateBucket(t, "copies")
	proxy := storage.NewProxy(t, primaryS3.Endpoint)
	dir := t.TempDir()
	f := &copySourceFixture{file: filepath.Join(dir, "prod.yaml"), secrets: filepath.Join(dir, "secrets"), keyset: filepath.Join(dir, "keyset.json"), copyS3: copyS3, primary: proxy}
	body := base + fmt.Sprintf(`  backups:
    storage: {url: "s3://backups/prod?region=%s&endpoint=%s", credentialsSecret: backup-s3}
    copies: [{url: "%s", credentialsSecret: copy-s3}]
    encryption: {keysetSecret: {name: bk-keyset}}
`, primaryS3.Region, proxy.URL, copyS3.URL("copies", "prod"))
	if err := os.WriteFile(f.file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*storage.S3{"backup-s3": primaryS3, "copy-s3": copyS3} {
		d := filepath.Join(f.secrets, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey} {
			if err := os.WriteFile(filepath.Join(d, k), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code, _, errOut := runCLI(t, "backup", "keys", "rotate", "-f", f.file, "--keyset-file", f.keyset, "--out", f.keyset, "--new", "--secrets-dir", f.secrets); code != 0 {
		t.Fatalf("keys rotate --new: exit %d\n%s", code, errOut)
	}
	from := filepath.Join(dir, "from")
	if err := os.MkdirAll(from, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, "neo4j.dump"), []byte(strings.Repeat("not really a dump ", 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	if !verified {
		if code, out, errOut := runCLI(t, "backup", "agent", "-f", f.file, "--from-dir", from, "--keyset-file", f.keyset, "--no-prune", "--secrets-dir", f.secrets); code != 0 {
			t.Fatalf("agent: exit %d\n%s%s", code, out, errOut)
		}
	} else {
		// Stored without the copy, verified, then copied: the copy's
		// catalogue carries the verification.
		noCopies := filepath.Join(dir, "nocopies.yaml")
		if err := os.WriteFile(noCopies, []byte(strings.Replace(body, "    copies: [", "    #copies: [", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := runCLI(t, "backup", "agent", "-f", noCopies, "--from-dir", from, "--keyset-file", f.keyset, "--no-prune", "--secrets-dir", f.secrets); code != 0 {
			t.Fatalf("agent: exit %d\n%s%s", code, out, errOut)
		}
		c, err := clusterfile.LoadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: f.secrets})
		if err != nil {
			t.Fatal(err)
		}
		es, err := s.List(ctx, "neo4j")
		if err != nil || len(es) != 1 {
			t.Fatalf("catalogue: %v %v", es, err)
		}
		if err := s.Catalog.AddVerification(ctx, es[0].ID, catalog.Verification{Result: catalog.VerificationPassed, Started: time.Now().Add(-10 * time.Minute),
			Duration: time.Minute, Method: "neo4j-admin database load+check", Where: "test"}); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := runCLI(t, "backup", "copy", es[0].ID, "--to", copyS3.URL("copies", "prod"), "-f", f.file, "--secrets-dir", f.secrets); code != 0 {
			t.Fatalf("backup copy: exit %d\n%s%s", code, out, errOut)
		}
	}
	code, out, errOut := runCLI(t, "backup", "list", "-f", f.file, "-o", "json", "--secrets-dir", f.secrets)
	var doc views.BackupList
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Backups) != 1 || len(doc.Backups[0].Copies) != 1 {
		t.Fatalf("backup list: exit %d, want one backup with one copy\n%s%s", code, out, errOut)
	}
	f.id = doc.Backups[0].ID
	// The region is lost: the primary's server is gone.
	primaryS3.Stop()
	f.primaryRequests = len(proxy.Requests())
	return f
}

// TestRestoreFromCopyWithThePrimaryLost restores a Community database
// from a copy bucket while the primary storage's server is stopped, as in
// a regional outage. Real: two versitygw servers (primary behind a proxy
// that counts requests, copy), the agent storing and copying a dump, the
// catalogue read from the copy, the plan, the target's Lease, StatefulSet
// and load Job on the control plane, healthcheck over Bolt against the
// simulator. Simulated: kwok completes the Job's Pod (the fetch from a
// copy runs for real in e2e/suites/restorex_test.go).
//
// The restore reads the catalogue from the copy only: it succeeds, and no
// request reached the primary after the outage. A copy written before
// copies carried their entries (the catalogue objects removed from the
// copy bucket) is refused with the fix named: rerun backup copy.
func TestRestoreFromCopyWithThePrimaryLost(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs versitygw and the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src := newCopySource(t, copySourceBase, false)
	dst, _ := communityClusterFixture(t, ctx, "community-dr", false)
	cs, err := dst.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	keyset, err := os.ReadFile(src.keyset)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]map[string][]byte{
		"bk-keyset": {"keyset.json": keyset},
		"copy-s3":   {"AWS_ACCESS_KEY_ID": []byte(src.copyS3.AccessKey), "AWS_SECRET_ACCESS_KEY": []byte(src.copyS3.SecretKey)},
	} {
		if _, err := cs.CoreV1().Secrets(dst.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"restore", "-f", dst.file, "--from-cluster", src.file, "--from-copy", src.copyS3.Region, "--database", "neo4j", "--latest",
		"--neo4j-password-file", dst.pwFile, "--confirm-name", "neo4j", "--secrets-dir", src.secrets}
	start := time.Now()
	code, out, errOut := dst.run(ctx, args...)
	if code != ExitOK {
		t.Fatalf("restore from the copy with the primary lost: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("FIGURE: restore from the copy, primary down: %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{src.id, "read from the copy s3://copies/prod"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if n := len(src.primary.Requests()) - src.primaryRequests; n != 0 {
		t.Errorf("%d requests reached the primary storage after the outage, want none: %v", n, src.primary.Requests()[src.primaryRequests:])
	}

	// A copy made before copies carried their entries: its catalogue
	// objects gone, its artifact there. Refused, naming the fix.
	if err := os.RemoveAll(filepath.Join(src.copyS3.Dir, "data", "copies", "prod", "catalog")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = dst.run(ctx, append(args, "--dry-run")...)
	if code != ExitError || !strings.Contains(errOut, "holds 1 artifacts of community/neo4j but no catalogue entry") ||
		!strings.Contains(errOut, "rerun neo4jctl backup copy ID --to s3://copies/prod") {
		t.Errorf("restore from a copy without entries: exit %d, want 1 naming backup copy\n%s\n%s", code, out, errOut)
	}
	if n := len(src.primary.Requests()) - src.primaryRequests; n != 0 {
		t.Errorf("%d requests reached the primary storage after the outage, want none", n)
	}
}
