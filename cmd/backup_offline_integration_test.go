package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// offlineCommunity writes the Community example with spec.backups on a
// file:// bucket into ns, creates its Secrets and applies it; it returns
// the file and the bucket directory.
func offlineCommunity(t *testing.T, env *testenv.Env, ns string) (file, bucketDir string) {
	t.Helper()
	src, err := os.ReadFile("../examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bucketDir = t.TempDir()
	body := strings.Replace(string(src), "namespace: graphs", "namespace: "+ns, 1) + `  backups:
    storage:
      url: file://` + bucketDir + `
    encryption:
      keysetSecret:
        name: bk-keyset
`
	file = filepath.Join(t.TempDir(), "community.yaml")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, data := range map[string]map[string]string{"community-auth": {"password": "offline-s3cret-pw"}, "bk-keyset": {"keyset.json": "{}"}} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	return file, bucketDir
}

func stsReplicas(t *testing.T, cs kubernetes.Interface, ns, name string) (spec, ready int32) {
	t.Helper()
	sts, err := cs.AppsV1().StatefulSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *sts.Spec.Replicas, sts.Status.ReadyReplicas
}

// runBackupCreateIO runs the command tree with the given stdin, as a
// terminal or not.
func runBackupCreateIO(ctx context.Context, env *testenv.Env, stdin string, tty bool, args ...string) (int, string, string) {
	io, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	io.SetTTY(tty, false, false)
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	f := &Factory{IO: io, KubeFlags: flags}
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	code, show := exitCode(err)
	if show {
		printError(io.ErrOut, err)
	}
	return code, out.String(), errOut.String()
}

// TestBackupCreateOfflineCommunity runs `neo4jctl backup create
// --offline` on a Community cluster on the real control plane.
//
// Real: the StatefulSet scaled to 0 and back by the StatefulSet
// controller, the Pod going and coming back, the apply Lease, the dump
// Job (its Pod mounting the server's data claim, bound by the host-path
// provisioner) run by the Job controller and scheduler, the catalogue
// read back from a file:// bucket. Simulated: kwok runs no container, so
// its pod-complete stage completes the dump Job's Pod (neo4j-admin and
// the agent do not run; the real ones are exercised end to end in
// e2e/suites/bkcluster_test.go), and the test writes the catalogue entry
// the agent would write once the Pod exists.
func TestBackupCreateOfflineCommunity(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, bucketDir := offlineCommunity(t, env, ns)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if spec, _ := stsReplicas(t, cs, ns, "community"); spec != 1 {
		t.Fatalf("replicas after apply: %d", spec)
	}

	// Confirmation is required: without a terminal and --auto-approve
	// it refuses; at a terminal only "yes" goes on. Either way nothing
	// changes.
	code, _, stderr := runBackupCreateIO(ctx, env, "", false, "backup", "create", "--offline", "-f", file)
	if code == ExitOK || !strings.Contains(stderr, "--auto-approve") || !strings.Contains(stderr, "DOWNTIME") {
		t.Errorf("no terminal, no --auto-approve: exit %d, want a refusal naming --auto-approve after the plan\n%s", code, stderr)
	}
	code, _, stderr = runBackupCreateIO(ctx, env, "no\n", true, "backup", "create", "--offline", "-f", file)
	if code == ExitOK || !strings.Contains(stderr, "nothing was changed") {
		t.Errorf("answered no: exit %d\n%s", code, stderr)
	}
	if spec, _ := stsReplicas(t, cs, ns, "community"); spec != 1 {
		t.Errorf("a refused offline backup scaled the StatefulSet to %d", spec)
	}
	if jobs, _ := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Errorf("a refused offline backup created %d Jobs", len(jobs.Items))
	}

	// The run, watched from the side: the StatefulSet's replicas and the
	// Lease's holder, sampled; the simulated agent writes its entry once
	// the dump Job's Pod exists.
	type sample struct {
		replicas int32
		holder   string
	}
	var (
		mu      sync.Mutex
		samples []sample
		once    sync.Once
	)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=neo4jctl-backup"}); err == nil && len(pods.Items) > 0 {
				once.Do(func() { writeSimulatedDump(t, bucketDir, "community", "neo4j") })
			}
			sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "community", metav1.GetOptions{})
			if err != nil {
				continue
			}
			smp := sample{replicas: *sts.Spec.Replicas}
			if l, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("community"), metav1.GetOptions{}); err == nil && l.Spec.HolderIdentity != nil {
				smp.holder = *l.Spec.HolderIdentity
			}
			mu.Lock()
			samples = append(samples, smp)
			mu.Unlock()
		}
	}()
	code, out, stderr := runBackupCreateIO(ctx, env, "", false, "backup", "create", "--offline", "--auto-approve", "-f", file)
	close(stop)
	<-done
	t.Logf("backup create --offline:\nstderr:\n%sstdout:\n%s", stderr, out)
	if code != ExitOK {
		t.Fatalf("backup create --offline: exit %d", code)
	}
	down := 0
	for _, smp := range samples {
		if smp.replicas == 0 {
			down++
			if smp.holder == "" {
				t.Errorf("the StatefulSet was at 0 replicas with the apply Lease free")
			}
		}
	}
	if down == 0 {
		t.Errorf("the StatefulSet was never seen at 0 replicas in %d samples", len(samples))
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("Jobs: %v, %v", jobs, err)
	}
	claim := ""
	for _, v := range jobs.Items[0].Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "data-community-0" || jobs.Items[0].Status.Succeeded != 1 {
		t.Errorf("dump Job: claim %q, succeeded %d; want data-community-0, 1", claim, jobs.Items[0].Status.Succeeded)
	}
	for _, want := range []string{"scaling StatefulSet community to 0", "pod/community-0 is gone", "job/community-backup-dump-", "scaling StatefulSet community back to 1", "the server is Ready again"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	if !strings.Contains(out, "community") || !strings.Contains(out, "neo4j") || !strings.Contains(out, "FULL") {
		t.Errorf("stdout does not show the catalogue entry:\n%s", out)
	}
	if spec, ready := stsReplicas(t, cs, ns, "community"); spec != 1 || ready != 1 {
		t.Errorf("after the dump: replicas %d, ready %d; want 1 and 1", spec, ready)
	}
	if _, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("community"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the apply Lease was not released: %v", err)
	}
}

// TestBackupCreateOfflineFailureRestoresReplicas: a failure after the
// server stopped — here the dump Job refused by a ResourceQuota
// allowing no Job, a real admission failure — restores the replicas,
// waits for the server to be Ready, and says what state the data is in.
func TestBackupCreateOfflineFailureRestoresReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, _ := offlineCommunity(t, env, ns)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "no-jobs"}, Spec: corev1.ResourceQuotaSpec{
		Hard: corev1.ResourceList{"count/jobs.batch": resource.MustParse("0")},
	}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The quota controller must have computed the usage before the
	// admission plugin enforces it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "no-jobs", metav1.GetOptions{})
		if err == nil && got.Status.Hard != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ResourceQuota status never computed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	code, _, stderr := runBackupCreateIO(cctx, env, "", false, "backup", "create", "--offline", "--auto-approve", "-f", file)
	t.Logf("stderr:\n%s", stderr)
	if code == ExitOK {
		t.Fatal("backup create --offline succeeded although no Job may be created")
	}
	for _, want := range []string{"scaling StatefulSet community to 0", "failed while creating the dump Job", "The server is running again", "data on claim data-community-0 is unchanged", "no dump was stored"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if spec, ready := stsReplicas(t, cs, ns, "community"); spec != 1 || ready != 1 {
		t.Errorf("after the failure: replicas %d, ready %d; want 1 and 1 (restored)", spec, ready)
	}
	if _, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("community"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the apply Lease was not released: %v", err)
	}
}

// writeSimulatedDump catalogues what the agent would after storing the
// dump of db taken now (stands in for the agent; see the test).
func writeSimulatedDump(t *testing.T, bucketDir, cluster, db string) {
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucketDir, blob.Options{})
	if err != nil {
		t.Error(err)
		return
	}
	defer b.Close()
	e, err := catalog.FromDump(cluster, db+".dump", time.Now(), catalog.NewToken())
	if err != nil {
		t.Error(err)
		return
	}
	sum := sha256.Sum256([]byte("simulated"))
	e.KeyID = "1234"
	e.PlaintextSHA256, e.CiphertextSHA256 = hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
	e.PlaintextSize, e.CiphertextSize = 9, 9
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	if _, err := c.Put(ctx, e); err != nil {
		t.Error(err)
	}
}
