package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/backup/crypt"
)

// TestRunStoresLikeNeo4jctlBackupAgent: the agent-only binary takes the
// arguments of `neo4jctl backup agent` (with or without the leading
// "backup agent", as the Pod gives them) and stores a dump into a file://
// bucket through the same code; usage errors exit 1 and say why.
func TestRunStoresLikeNeo4jctlBackupAgent(t *testing.T) {
	d := t.TempDir()
	bucket, from := filepath.Join(d, "bucket"), filepath.Join(d, "from")
	for _, p := range []string{bucket, from, filepath.Join(d, "secrets", "backup-keyset")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k, err := crypt.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := k.Marshal(crypt.Cleartext)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "secrets", "backup-keyset", "keyset.json"), ks, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, "neo4j.dump"), []byte("a dump"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(d, "cluster.yaml")
	doc := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: graph}
spec:
  edition: community
  version: "5.26.0"
  auth: {secretRef: {name: neo4j-auth}}
  backups:
    storage: {url: "file://%s"}
    encryption: {keysetSecret: {name: backup-keyset}}
`, bucket)
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"backup", "agent", "-f", file, "--from-dir", from, "--secrets-dir", filepath.Join(d, "secrets"), "--requested-type", "FULL"}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	for _, want := range []string{"catalogued graph/neo4j/", "done: 1 stored", "memory: peak resident"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, errOut.String())
		}
	}
	// Again, without the prefix: the dump is already catalogued.
	errOut.Reset()
	if code := run(context.Background(), args[2:], &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "already catalogued") {
		t.Fatalf("second run: exit %d\n%s", code, errOut.String())
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from-dir", from}, "-f CLUSTER_FILE is required"},
		{[]string{"-f", file}, "--from-dir DIR is required"},
		{[]string{"-f", file, "--from-dir", from, "--requested-type", "INCREMENTAL"}, "--requested-type must be FULL, DIFF or AUTO"},
		{[]string{"-f", file, "--from-dir", from, "extra"}, "unexpected arguments"},
		{[]string{"--no-such-flag"}, "unknown flag"},
	} {
		errOut.Reset()
		if code := run(context.Background(), c.args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d, %q; want 1 and %q", c.args, code, errOut.String(), c.want)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"--version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "neo4jctl-backup-agent ") {
		t.Errorf("--version: exit %d, %q", code, out.String())
	}
}
