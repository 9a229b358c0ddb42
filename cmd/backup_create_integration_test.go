package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

// TestBackupCreateFollowsTheJobToItsEntry runs `neo4jctl backup create`
// against the real control plane. Real: the Job made from the CronJob's
// template, its owner reference, the Job controller and scheduler, the
// events, and the catalogue read back from a file:// bucket through
// backup/ops. Simulated: kwok runs no container, so its pod-complete
// stage completes the Job's Pod; and the agent's work (tested as a
// process in backup/agent) is stood in for by the test writing the
// catalogue entry the agent would write, when the Pod exists.
func TestBackupCreateFollowsTheJobToItsEntry(t *testing.T) {
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
	ctx := context.Background()
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Before apply the backup ServiceAccount is missing: refused, and
	// no Job is created.
	code, _, stderr := runBackupCreate(t, env, "backup", "create", "-f", file)
	if code == ExitOK || !strings.Contains(stderr, "neo4jctl apply") {
		t.Errorf("backup create before apply: exit %d, want a refusal naming apply\n%s", code, stderr)
	}
	if jobs, _ := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Errorf("a refused backup create left %d Jobs", len(jobs.Items))
	}

	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}

	// The simulated agent: once the Job's Pod exists, catalogue a full
	// backup of neo4j taken now, as the agent does after its upload.
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
			if err != nil || len(pods.Items) == 0 {
				continue
			}
			once.Do(func() { writeSimulatedEntry(t, bucketDir, "quickstart", "neo4j") })
			return
		}
	}()
	code, out, stderr := runBackupCreate(t, env, "backup", "create", "-f", file, "--type", "full")
	close(stop)
	<-done
	if code != ExitOK {
		t.Fatalf("backup create: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("backup create:\nstderr:\n%sstdout:\n%s", stderr, out)
	for _, want := range []string{"created in " + ns + ": FULL backup of *, from the template of CronJob quickstart-backup-full", "pod/quickstart-backup-full-", "complete"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(out, "quickstart") || !strings.Contains(out, "neo4j") || !strings.Contains(out, "FULL") {
		t.Errorf("stdout does not show the catalogue entry:\n%s", out)
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("Jobs: %v, %v", jobs, err)
	}
	j := jobs.Items[0]
	if len(j.OwnerReferences) != 1 || j.OwnerReferences[0].Kind != "CronJob" || j.OwnerReferences[0].Name != "quickstart-backup-full" || j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		t.Errorf("Job %s: owners %v annotations %v", j.Name, j.OwnerReferences, j.Annotations)
	}
}

// TestBackupCreateInterruptLeavesTheJob: Ctrl-C while following stops
// following only; the Job is still there, and create says how to follow
// it with kubectl. The Pod is held Pending (a node selector no node
// matches) so the Job cannot finish first.
func TestBackupCreateInterruptLeavesTheJob(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, _ := quickstart(t, ns)
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(orig), "spec:\n", "spec:\n  scheduling:\n    nodeSelector:\n      no-such-node: \"true\"\n", 1)
	if err := os.WriteFile(file, []byte(s+backupsSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"bk-creds", "bk-keyset"} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"x": "y"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		// Interrupt once the Job's Pod exists.
		for cctx.Err() == nil {
			pods, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=neo4jctl-backup"})
			if pods != nil && len(pods.Items) > 0 {
				time.Sleep(500 * time.Millisecond)
				cancel()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	code, _, stderr := runBackupCreateCtx(cctx, env, "backup", "create", "-f", file, "--type", "diff")
	cancel()
	if code == ExitOK {
		t.Errorf("interrupted backup create exited 0")
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("after Ctrl-C: Jobs %v, %v; want the one Job left running", jobs, err)
	}
	name := jobs.Items[0].Name
	if want := "kubectl -n " + ns + " logs -f job/" + name; !strings.Contains(stderr, want) || !strings.Contains(stderr, "keeps running") {
		t.Errorf("after Ctrl-C stderr lacks %q:\n%s", want, stderr)
	}
}

func runBackupCreate(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
	t.Helper()
	return runBackupCreateCtx(context.Background(), env, args...)
}

// runBackupCreateCtx runs the command tree as Run does, with `backup
// create` attached to it whether or not this tree registers it yet.
func runBackupCreateCtx(ctx context.Context, env *testenv.Env, args ...string) (int, string, string) {
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	f := &Factory{IO: io, KubeFlags: flags}
	root := NewCmdRoot(f)
	var backup *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "backup" {
			backup = c
		}
	}
	if backup == nil {
		backup = &cobra.Command{Use: "backup"}
		root.AddCommand(backup)
	}
	registered := false
	for _, c := range backup.Commands() {
		registered = registered || c.Name() == "create"
	}
	if !registered {
		backup.AddCommand(NewCmdBackupCreate(f, nil))
	}
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil && ctx.Err() != nil {
		err = errInterrupted
	}
	code, show := exitCode(err)
	if show {
		printError(io.ErrOut, err)
	}
	return code, out.String(), errOut.String()
}

// writeSimulatedEntry catalogues what the agent would after storing a
// full backup of db taken now (stands in for the agent; see the test).
func writeSimulatedEntry(t *testing.T, bucketDir, cluster, db string) {
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucketDir, blob.Options{})
	if err != nil {
		t.Error(err)
		return
	}
	defer b.Close()
	now := time.Now().UTC().Truncate(time.Second)
	e, err := catalog.FromArtifact(cluster, inspect.Artifact{
		File: fmt.Sprintf("file:///backups/chains/%s-%s.backup", db, now.Format("2006-01-02T15-04-05")), Database: db,
		Time: now, Type: catalog.Full, Compressed: true, LowestTx: 1, HighestTx: 42,
	}, catalog.NewToken())
	if err != nil {
		t.Error(err)
		return
	}
	sum := sha256.Sum256([]byte("simulated"))
	e.ChainID, e.KeyID = e.ID, "1234"
	e.PlaintextSHA256, e.CiphertextSHA256 = hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
	e.PlaintextSize, e.CiphertextSize = 9, 9
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	if _, err := c.Put(ctx, e); err != nil {
		t.Error(err)
	}
}

// TestBackupCreateReportsAFailedJob: a Job that fails ends create with
// an error naming the Job and how to read its logs. Simulated: the Pod is
// held Pending (no node matches) and the test deletes it, which the Job
// controller counts as the one attempt failing (backoffLimit 0).
func TestBackupCreateReportsAFailedJob(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, _ := quickstart(t, ns)
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(orig), "spec:\n", "spec:\n  scheduling:\n    nodeSelector:\n      no-such-node: \"true\"\n", 1)
	if err := os.WriteFile(file, []byte(s+backupsSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"bk-creds", "bk-keyset"} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"x": "y"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			pods, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=neo4jctl-backup"})
			if pods != nil && len(pods.Items) > 0 {
				_ = cs.CoreV1().Pods(ns).Delete(ctx, pods.Items[0].Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	code, _, stderr := runBackupCreateCtx(cctx, env, "backup", "create", "-f", file)
	if code != ExitError || !strings.Contains(stderr, "failed") || !strings.Contains(stderr, "kubectl -n "+ns+" logs job/quickstart-backup-full-") {
		t.Errorf("failed Job: exit %d, want 1 with the Job and its logs named\n%s", code, stderr)
	}
}
