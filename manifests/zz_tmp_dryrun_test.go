//go:build tmpdryrun

package manifests_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

func TestTmpDryRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	kubectl := filepath.Join(env.BinDir, "kubectl")
	for _, ns := range []string{"neo4j", "graphs", "neo4j-prod"} {
		out, err := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "create", "namespace", ns).CombinedOutput()
		t.Logf("%s %v", out, err)
	}
	files, _ := filepath.Glob("../examples/testdata/*.golden.yaml")
	for _, f := range files {
		out, err := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "--field-manager=neo4jctl", "--dry-run=server", "-f", f).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		} else {
			t.Logf("%s:\n%s", f, out)
		}
	}
	// Also a real apply of the quickstart to see Pods come up.
	if os.Getenv("REAL") != "" {
		out, err := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "apply", "--server-side", "-f", "../examples/testdata/quickstart.golden.yaml").CombinedOutput()
		t.Logf("%s %v", out, err)
		time.Sleep(40 * time.Second)
		out, _ = exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "-n", "neo4j", "get", "pods,pvc,sts", "-o", "wide").CombinedOutput()
		t.Logf("%s", out)
		out, _ = exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "-n", "neo4j", "get", "events").CombinedOutput()
		t.Logf("%s", out)
	}
}
