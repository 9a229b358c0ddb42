package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// prepareQuickstart is the start the end-to-end fixtures share: the
// quickstart in a fresh namespace of the shared control plane, changed by
// edit, written with a password file beside it, loaded, and its namespace
// prepared (the auth Secret holding password). The simulator is left to
// the caller, which may need a TLS Secret first. It returns the fixture
// and the directory holding the files, for the test's own files.
func prepareQuickstart(t *testing.T, ctx context.Context, password string, edit func(string) string) (*driftFixture, string) {
	t.Helper()
	env := testenv.Shared(t)
	f := &driftFixture{t: t, env: env, ns: testenv.Namespace(t, env)}
	dir := t.TempDir()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := edit(strings.Replace(string(b), "namespace: neo4j", "namespace: "+f.ns, 1))
	f.file, f.pwFile = filepath.Join(dir, "cluster.yaml"), filepath.Join(dir, "pw")
	if err := os.WriteFile(f.file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.c, err = clusterfile.LoadFile(f.file); err != nil {
		t.Fatal(err)
	}
	if f.cs, err = env.Clientset(); err != nil {
		t.Fatal(err)
	}
	if err := harness.PrepareNamespace(ctx, env, f.c, f.ns, password); err != nil {
		t.Fatal(err)
	}
	return f, dir
}

// appliedQuickstart is the quickstart applied to a fresh namespace of the
// shared control plane, Kubernetes plane only (--skip-neo4j, no wait).
func appliedQuickstart(t *testing.T) (env *testenv.Env, ns, file string) {
	t.Helper()
	env = testenv.Shared(t)
	ns = testenv.Namespace(t, env)
	file, _ = quickstart(t, ns)
	if code, _, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	return env, ns, file
}
