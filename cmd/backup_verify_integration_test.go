package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// verifyCluster writes a Community cluster file in ns whose backups go to
// a file:// bucket, with a verification schedule when scheduled; stores
// one dump through the real agent under a fresh keyset, puts that keyset
// in Secret bk-keyset of ns (the only place the in-cluster path gets it
// from) and returns the file, the stored ID and an empty secrets dir.
func verifyCluster(t *testing.T, cs kubernetes.Interface, ns string) (file, id, noSecrets string) {
	t.Helper()
	dir := t.TempDir()
	file = filepath.Join(dir, "solo.yaml")
	noSecrets = filepath.Join(dir, "no-secrets")
	writeVerifyCluster(t, file, ns, filepath.Join(dir, "bucket"), true)
	keyset := filepath.Join(dir, "keyset.json")
	if code, _, errOut := runCLI(t, "backup", "keys", "rotate", "-f", file, "--keyset-file", keyset, "--out", keyset, "--new", "--secrets-dir", noSecrets); code != 0 {
		t.Fatalf("keys rotate --new: exit %d\n%s", code, errOut)
	}
	from := filepath.Join(dir, "from")
	if err := os.MkdirAll(from, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, "neo4j.dump"), []byte(strings.Repeat("not really a dump ", 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "backup", "agent", "-f", file, "--from-dir", from, "--keyset-file", keyset, "--no-prune", "--secrets-dir", noSecrets); code != 0 {
		t.Fatalf("agent: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "backup", "list", "-f", file, "-o", "json", "--secrets-dir", noSecrets)
	var doc views.BackupList
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Backups) != 1 {
		t.Fatalf("backup list: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(keyset)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, d := range map[string]map[string][]byte{"bk-keyset": {"keyset.json": data}, "solo-auth": {"password": []byte("verify-s3cret-pw")}} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return file, doc.Backups[0].ID, noSecrets
}

func writeVerifyCluster(t *testing.T, file, ns, bucket string, scheduled bool) {
	t.Helper()
	body := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: solo, namespace: %s}
spec:
  edition: community
  version: "5.26.0"
  auth: {secretRef: {name: solo-auth}}
  backups:
    storage: {url: "file://%s"}
    encryption: {keysetSecret: {name: bk-keyset}}
`, ns, bucket)
	if scheduled {
		body += "    verification: {schedule: \"30 4 * * *\"}\n"
	}
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func saClient(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestBackupVerifyInTheCluster runs `neo4jctl backup verify` without
// --local against the real control plane, and the command its Pod runs
// as the scratch ServiceAccount.
//
// Real: the scratch namespace, its quota, limit range and Pod Security
// enforcement, the RBAC (the Pod's command reads the keyset Secret of the
// cluster's namespace as the scratch ServiceAccount with a real token,
// and is refused everything else), the Job created and run by the Job
// controller and scheduler (its Pod admitted under restricted and the
// quota), the catalogue in a file:// bucket, the agent that stored the
// dump. Simulated: kwok runs no container, so its pod-complete stage
// completes the Job's Pod; the verification its container would record
// (neo4jctl backup verify --local in the Neo4j image) is written by this
// test, once the Pod exists, with the Pod's Job as where it ran — the
// same command run as the scratch ServiceAccount (with a stand-in
// neo4j-admin) is the first part of the test. The real neo4j-admin
// load + check runs in e2e/suites (TestBackupVerifyLocalRealDump).
func TestBackupVerifyInTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	file, id, noSecrets := verifyCluster(t, cs, ns)
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	scratch := manifests.VerifyNamespaceName(c, ns)
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{})
	})
	// admin runs neo4jctl as the environment's admin; a run that does not
	// end within a minute is stopped and the scratch namespace's Jobs,
	// Pods and events are shown.
	admin := func(args ...string) (int, string, string) {
		t.Helper()
		runCtx, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		io, _, out, errOut := iostreams.Test()
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = &env.Kubeconfig
		code := Run(runCtx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, append(args, "--secrets-dir", noSecrets))
		if runCtx.Err() != nil {
			jobs, _ := cs.BatchV1().Jobs(scratch).List(ctx, metav1.ListOptions{})
			pods, _ := cs.CoreV1().Pods(scratch).List(ctx, metav1.ListOptions{})
			evs, _ := cs.CoreV1().Events(scratch).List(ctx, metav1.ListOptions{})
			for _, j := range jobs.Items {
				t.Logf("job %s: %+v", j.Name, j.Status)
			}
			for _, p := range pods.Items {
				t.Logf("pod %s: %+v", p.Name, p.Status)
			}
			for _, e := range evs.Items {
				t.Logf("event %s %s: %s", e.InvolvedObject.Name, e.Reason, e.Message)
			}
			t.Fatalf("neo4jctl %v did not end within a minute\n%s%s", args, out, errOut)
		}
		return code, out.String(), errOut.String()
	}
	verifications := func() []catalog.Verification {
		t.Helper()
		s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: noSecrets})
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return e.Verifications
	}

	// --install: the objects, no Job.
	code, _, stderr := admin("backup", "verify", "--install", "-f", file)
	if code != ExitOK {
		t.Fatalf("verify --install: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"+ k8s:core/Namespace/" + scratch, "+ k8s:core/ResourceQuota/" + scratch + "/", "+ k8s:rbac.authorization.k8s.io/Role/" + ns + "/solo-verify-secrets", "+ k8s:batch/CronJob/" + scratch + "/neo4jctl-verify"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the plan lacks %q:\n%s", want, stderr)
		}
	}
	n, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{})
	if err != nil || n.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("scratch namespace: %v %v", n, err)
	}
	if jobs, _ := cs.BatchV1().Jobs(scratch).List(ctx, metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Errorf("--install created %d Jobs", len(jobs.Items))
	}

	// The Pod's command, as the scratch ServiceAccount: the keyset comes
	// from Secret bk-keyset of the cluster's namespace through the API.
	saConfig, err := env.ServiceAccountKubeconfig(ctx, scratch, manifests.VerifyServiceAccountName)
	if err != nil {
		t.Fatal(err)
	}
	home := fakeNeo4jHome(t, `case "$1 $2" in
"database load") echo "neo4j 5.26.99"; echo "VM Name: OpenJDK 64-Bit Server VM" ;;
esac`)
	podArgs := []string{"backup", "verify", id, "--local", "--neo4j-home", home, "--secrets-namespace", ns, "-f", file, "--secrets-dir", noSecrets}
	// The variables the Pod's downward API sets: where it ran.
	t.Setenv(manifests.VerifyJobNameEnv, "by-hand")
	t.Setenv(manifests.VerifyJobNamespaceEnv, scratch)
	code, out, stderr := runCLIAs(saConfig, podArgs...)
	os.Unsetenv(manifests.VerifyJobNameEnv)
	os.Unsetenv(manifests.VerifyJobNamespaceEnv)
	if code != ExitOK || !strings.Contains(out, "verification passed") {
		t.Fatalf("the Pod's command as %s/%s: exit %d\n%s%s", scratch, manifests.VerifyServiceAccountName, code, out, stderr)
	}
	if vs := verifications(); len(vs) != 1 || vs[0].Result != catalog.VerificationPassed || vs[0].Where != manifests.VerifyWhere(scratch, "by-hand") {
		t.Fatalf("verifications after the Pod's command: %+v", vs)
	}
	// Another account of the scratch namespace gets nothing: refused, and
	// nothing recorded.
	other, err := env.ServiceAccountKubeconfig(ctx, scratch, "intruder")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLIAs(other, podArgs...); code != ExitError || !strings.Contains(stderr, "forbidden") {
		t.Errorf("the Pod's command as another account: exit %d, want 1 forbidden\n%s", code, stderr)
	}
	if vs := verifications(); len(vs) != 1 {
		t.Errorf("a refused verification recorded: %+v", vs)
	}
	// The scratch ServiceAccount may get exactly the keyset: not another
	// Secret, not a list, not a Secret of its own namespace, no namespace.
	sa := saClient(t, saConfig)
	if _, err := sa.CoreV1().Secrets(ns).Get(ctx, "bk-keyset", metav1.GetOptions{}); err != nil {
		t.Errorf("get the keyset as the scratch account: %v", err)
	}
	denied := map[string]error{}
	_, denied["get Secret solo-auth"] = sa.CoreV1().Secrets(ns).Get(ctx, "solo-auth", metav1.GetOptions{})
	_, denied["list Secrets"] = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	_, denied["watch Secrets"] = sa.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=bk-keyset"})
	_, denied["list Secrets in scratch"] = sa.CoreV1().Secrets(scratch).List(ctx, metav1.ListOptions{})
	_, denied["create a namespace"] = sa.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scratch + "-x"}}, metav1.CreateOptions{})
	denied["delete the scratch namespace"] = sa.CoreV1().Namespaces().Delete(ctx, scratch, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	_, denied["list Pods"] = sa.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	for what, err := range denied {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s as the scratch account: %v, want forbidden", what, err)
		}
	}

	// Without --local: a Job in the scratch namespace; the result is the
	// catalogue's. The stand-in for the container records a failure.
	simulate := func(result catalog.VerificationResult) (stop func()) {
		// The Pods of earlier runs stay (completed): only a new Job's
		// Pod is this run's.
		old := map[string]bool{}
		if pods, err := cs.CoreV1().Pods(scratch).List(ctx, metav1.ListOptions{}); err == nil {
			for _, p := range pods.Items {
				old[p.Labels["batch.kubernetes.io/job-name"]] = true
			}
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
				pods, err := cs.CoreV1().Pods(scratch).List(ctx, metav1.ListOptions{LabelSelector: manifests.LabelComponent + "=" + manifests.VerifyComponent})
				if err != nil {
					continue
				}
				job := ""
				for _, p := range pods.Items {
					if j := p.Labels["batch.kubernetes.io/job-name"]; !old[j] {
						job = j
					}
				}
				if job == "" {
					continue
				}
				s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: noSecrets})
				if err == nil {
					err = s.Catalog.AddVerification(ctx, id, catalog.Verification{
						Result: result, Started: time.Now(), Duration: time.Second, Method: ops.VerifyMethodLocal,
						Where: manifests.VerifyWhere(scratch, job), Neo4jVersion: "5.26.0", Message: "simulated " + string(result),
					})
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		}()
		return func() { close(done); wg.Wait() }
	}
	stop := simulate(catalog.VerificationFailed)
	code, out, stderr = admin("backup", "verify", id, "-f", file)
	stop()
	t.Logf("backup verify (failed):\nstderr:\n%sstdout:\n%s", stderr, out)
	if code != ExitUnhealthy || !strings.Contains(out, "verification failed") || !strings.Contains(out, "job "+scratch+"/neo4jctl-verify-") {
		t.Errorf("a failed verification in the cluster: exit %d, want 3 with the recorded failure\n%s", code, out)
	}
	for _, want := range []string{"~ k8s:core/Namespace/" + scratch, "+ k8s:batch/Job/" + scratch + "/neo4jctl-verify-", "job/neo4jctl-verify-"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	jobs, err := cs.BatchV1().Jobs(scratch).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("Jobs in %s: %v %v", scratch, jobs, err)
	}
	// The Job's Pod is the CronJob's, the backup named aside (both as
	// the API server stored and defaulted them).
	cj, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobPod := jobs.Items[0].Spec.Template.Spec.DeepCopy()
	if i := slices.Index(jobPod.Containers[0].Args, id); i >= 0 {
		jobPod.Containers[0].Args[i] = "--latest"
	}
	if diff := cmp.Diff(cj.Spec.JobTemplate.Spec.Template.Spec, *jobPod); diff != "" {
		t.Errorf("the Job's Pod differs from the CronJob's (-cronjob +job):\n%s", diff)
	}

	time.Sleep(time.Second) // Job names are per second
	stop = simulate(catalog.VerificationPassed)
	code, out, stderr = admin("backup", "verify", "--latest", "-f", file)
	stop()
	if code != ExitOK || !strings.Contains(out, "verification passed") {
		t.Errorf("a passed verification in the cluster: exit %d\n%s%s", code, out, stderr)
	}

	// The CronJob goes with the schedule.
	writeVerifyCluster(t, file, ns, strings.TrimPrefix(c.Spec.Backups.Storage.URL, "file://"), false)
	code, _, stderr = admin("backup", "verify", "--install", "-f", file)
	if code != ExitOK || !strings.Contains(stderr, "- k8s:batch/CronJob/"+scratch+"/neo4jctl-verify") {
		t.Errorf("--install without a schedule: exit %d, want the CronJob deleted\n%s", code, stderr)
	}
	if _, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the CronJob is still there: %v", err)
	}
}
