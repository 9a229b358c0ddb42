package cmd

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestDestroyBackupFirst runs destroy on a cluster file with spec.backups
// against the real control plane. The plan takes a backup first and says
// --skip-backup would leave it out; a backup that fails stops destroy
// before any delete; one that succeeds is followed by the deletes.
// Real: the Job made from the backup CronJob's template, the Job
// controller, the scheduler, and the catalogue read back from a file://
// bucket through backup/ops. Simulated: kwok runs no container, so its
// pod-complete stage completes the Job's Pod, and the agent's upload is
// stood in for by the test writing the catalogue entry the agent would
// write (writeSimulatedEntry). Without it the Job "succeeds" with nothing
// catalogued, which backup create reports as a failure: that is the
// failed backup here.
func TestDestroyBackupFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, _ := quickstart(t, ns)
	bucketDir := t.TempDir()
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(backupsSpec, "url: s3://acme-backups/quickstart?region=eu-west-1\n      credentialsSecret: bk-creds", "url: file://"+bucketDir, 1)
	if err := os.WriteFile(file, append(orig, spec...), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}

	// The plan: a backup first, --skip-backup named; with it, none.
	code, stdout, stderr := runApplyCLI(t, env, "destroy", "-f", file, "--dry-run")
	if code != ExitOK || !strings.Contains(stdout, "Back up every database first") || !strings.Contains(stdout, "--skip-backup leaves it out") {
		t.Errorf("destroy --dry-run: exit %d, want the backup-first step and --skip-backup named\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runApplyCLI(t, env, "destroy", "-f", file, "--dry-run", "--skip-backup")
	if code != ExitOK || strings.Contains(stdout, "Back up every database first") || !strings.Contains(stdout, "no backup before destroy (--skip-backup)") {
		t.Errorf("destroy --dry-run --skip-backup: exit %d, want no backup step and the skip said\n%s", code, stdout)
	}

	// Remaining objects, without the backup Jobs and Pods each attempt
	// adds (they are the backup's, not the cluster's).
	objects := func() []string {
		var out []string
		for _, o := range remaining(t, dyn, ns) {
			if !strings.HasPrefix(o, "jobs/") && !strings.HasPrefix(o, "pods/") && !strings.HasPrefix(o, "events/") {
				out = append(out, o)
			}
		}
		return out
	}
	before := objects()

	// No agent: the Job completes with nothing catalogued, the backup
	// fails, and nothing is deleted.
	code, stdout, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve")
	if code != ExitError || !strings.Contains(stderr, "the backup before destroy failed, nothing was deleted") {
		t.Fatalf("destroy with a failing backup: exit %d, want 1 naming the backup\n%s\n%s", code, stdout, stderr)
	}
	if got := objects(); !cmp.Equal(before, got) {
		t.Fatalf("a destroy whose backup failed changed objects (-before +after):\n%s", cmp.Diff(before, got))
	}

	// With the simulated agent: backed up, then destroyed.
	var once sync.Once
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=neo4jctl-backup"})
			if err != nil || len(pods.Items) < 2 { // the failed attempt's Pod is the first
				continue
			}
			once.Do(func() { writeSimulatedEntry(t, bucketDir, "quickstart", "neo4j") })
			return
		}
	}()
	code, stdout, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve")
	close(stop)
	<-done
	if code != ExitOK {
		t.Fatalf("destroy with a backup: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("destroy:\n%s", stderr)
	iBackup, iDelete := strings.Index(stderr, "Backed up"), strings.Index(stderr, "Deleted")
	if iBackup < 0 || iDelete < 0 || iBackup > iDelete || !strings.Contains(stderr, "FULL") {
		t.Errorf("destroy's progress should show the backup (its catalogue entry) before the first delete:\n%s", stderr)
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "quickstart", metav1.GetOptions{}); err == nil {
		t.Errorf("the StatefulSet survived destroy")
	}
}
