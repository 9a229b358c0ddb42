package cmd

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestBackupVerifyOnlineInTheCluster: without --local, an Enterprise
// cluster's online backup (a differential) is no longer refused: the
// verification Job is created in the scratch namespace, its container
// (the cluster's own Enterprise image) running `backup verify <id>
// --local`, which restores the chain there. The same backup under a
// Community cluster file is refused before anything is created: its
// image's neo4j-admin has no restore. kwok runs no container, so
// following stops once the Job exists (Ctrl-C's path).
func TestBackupVerifyOnlineInTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	fx, _, byFile := storedFixture(t)
	diff := byFile["london-2024-10-07T16-04-05.backup"]
	body, err := os.ReadFile(fx.file)
	if err != nil {
		t.Fatal(err)
	}
	enterprise := strings.Replace(string(body), "namespace: graphs", "namespace: "+ns, 1)
	if err := os.WriteFile(fx.file, []byte(enterprise), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(fx.file)
	if err != nil {
		t.Fatal(err)
	}
	scratch := manifests.VerifyNamespaceName(c, ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{}) })
	admin := func(ctx context.Context, args ...string) (int, string) {
		t.Helper()
		io, _, _, errOut := iostreams.Test()
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = &env.Kubeconfig
		code := Run(ctx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, append(args, "--secrets-dir", fx.dir+"/no-secrets"))
		return code, errOut.String()
	}

	// Community: refused, nothing created.
	community := strings.NewReplacer("edition: enterprise", "edition: community", "servers: 3", "servers: 1", "  acceptLicenseAgreement: \"yes\"\n", "").Replace(enterprise)
	cfile := fx.dir + "/community.yaml"
	if err := os.WriteFile(cfile, []byte(community), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, stderr := admin(ctx, "backup", "verify", diff, "-f", cfile)
	if code != ExitError || !strings.Contains(stderr, "image is Community: nothing was created") {
		t.Fatalf("a Community cluster's online backup: exit %d, want 1 refused\n%s", code, stderr)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused run created the scratch namespace (%v)", err)
	}

	// Enterprise: the Job is created; stop following once it exists.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for runCtx.Err() == nil {
			if jobs, err := cs.BatchV1().Jobs(scratch).List(runCtx, metav1.ListOptions{}); err == nil && len(jobs.Items) > 0 {
				stop()
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	code, stderr = admin(runCtx, "backup", "verify", diff, "-f", fx.file)
	if code != ExitInterrupted || !strings.Contains(stderr, "create: backup verify "+diff+" --local in the Neo4j image") {
		t.Fatalf("an Enterprise cluster's online backup: exit %d, want the Job created and following interrupted\n%s", code, stderr)
	}
	jobs, err := cs.BatchV1().Jobs(scratch).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("jobs in %s: %v %v", scratch, jobs, err)
	}
	ctr := jobs.Items[0].Spec.Template.Spec.Containers[0]
	if ctr.Image != clusterfile.Image(c.Spec.Version, c.Spec.Edition) || !strings.Contains(ctr.Image, "enterprise") ||
		len(ctr.Args) < 4 || !slices.Equal(ctr.Args[:4], []string{"backup", "verify", diff, "--local"}) {
		t.Errorf("verify container: image %s args %v", ctr.Image, ctr.Args)
	}
}
