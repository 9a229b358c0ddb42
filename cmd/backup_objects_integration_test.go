package cmd

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// backupsSpec is appended to the quickstart: scheduled backups with a
// chain volume, to an S3 bucket (the bucket is never touched by
// plan, apply or drift).
const backupsSpec = `  backups:
    storage:
      url: s3://acme-backups/quickstart?region=eu-west-1
      credentialsSecret: bk-creds
    encryption:
      keysetSecret:
        name: bk-keyset
    schedule:
      full: "0 2 * * *"
      differential: "0 */6 * * *"
    chainVolume:
      size: 1Gi
      storageClassName: standard
`

// TestBackupObjectsPlanApplyDriftRemove: the backup objects go through
// the same render → plan → apply pipeline as the servers' on the real
// control plane: apply creates the CronJobs, the ServiceAccount, the
// agent's ConfigMap and the chain claim; a second plan is empty; an
// out-of-band edit of a CronJob is drift; removing spec.backups plans
// the deletion of the CronJobs, ServiceAccount and ConfigMap and keeps
// the chain claim (plan never deletes claims). No container runs here:
// only the Kubernetes objects are real.
func TestBackupObjectsPlanApplyDriftRemove(t *testing.T) {
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
	if err := os.WriteFile(file, append(append([]byte(nil), orig...), backupsSpec...), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Pre-flight refuses a plan whose workloads name a missing Secret.
	for _, name := range []string{"bk-creds", "bk-keyset"} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"x": "y"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	code, out, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "-o", "compact")
	if code != ExitOK && code != ExitChanges {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"k8s:batch/CronJob/" + ns + "/quickstart-backup-full",
		"k8s:batch/CronJob/" + ns + "/quickstart-backup-diff",
		"k8s:core/ServiceAccount/" + ns + "/quickstart-backup",
		"k8s:core/ConfigMap/" + ns + "/quickstart-backup",
		"k8s:core/PersistentVolumeClaim/" + ns + "/quickstart-backup-chains",
	} {
		if !hasStep(out, "+", want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, name := range []string{"quickstart-backup-full", "quickstart-backup-diff"} {
		cj, err := cs.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("CronJob %s: %v", name, err)
		}
		if cj.Spec.ConcurrencyPolicy != "Forbid" {
			t.Errorf("CronJob %s: concurrencyPolicy %q", name, cj.Spec.ConcurrencyPolicy)
		}
	}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "quickstart-backup", metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceAccount: %v", err)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "quickstart-backup-chains", metav1.GetOptions{}); err != nil {
		t.Errorf("chain claim: %v", err)
	}

	// Plan → apply → plan is empty: the API server's defaults of a
	// CronJob are not changes.
	if code, out, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "-o", "compact", "--detailed-exitcode"); code != ExitOK {
		t.Errorf("plan after apply: exit %d, want no changes\n%s\n%s", code, out, stderr)
	}

	// An out-of-band edit of a CronJob is drift.
	if _, err := cs.BatchV1().CronJobs(ns).Patch(ctx, "quickstart-backup-full", types.MergePatchType,
		[]byte(`{"spec":{"schedule":"30 3 * * *"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runApplyCLI(t, env, "drift", "-f", file, "--skip-neo4j")
	if code == ExitOK || !strings.Contains(out, "CronJob/"+ns+"/quickstart-backup-full") || !strings.Contains(out, "spec.schedule") {
		t.Errorf("drift after editing the CronJob's schedule: exit %d\n%s\n%s", code, out, stderr)
	}

	// Removing spec.backups plans the deletion of the backup objects and
	// keeps the claim, which holds the chains.
	if err := os.WriteFile(file, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "-o", "compact")
	if code != ExitOK && code != ExitChanges {
		t.Fatalf("plan without backups: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"k8s:batch/CronJob/" + ns + "/quickstart-backup-full",
		"k8s:batch/CronJob/" + ns + "/quickstart-backup-diff",
		"k8s:core/ServiceAccount/" + ns + "/quickstart-backup",
		"k8s:core/ConfigMap/" + ns + "/quickstart-backup",
	} {
		if !hasStep(out, "-", want) {
			t.Errorf("plan without spec.backups lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PersistentVolumeClaim") {
		t.Errorf("plan without spec.backups touches the chain claim:\n%s", out)
	}
	if code, out, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitOK {
		t.Fatalf("apply without backups: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, name := range []string{"quickstart-backup-full", "quickstart-backup-diff"} {
		if _, err := cs.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("CronJob %s after removing spec.backups: %v, want not found", name, err)
		}
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "quickstart-backup-chains", metav1.GetOptions{}); err != nil {
		t.Errorf("chain claim after removing spec.backups: %v, want it kept", err)
	}
}

// hasStep reports whether compact plan output holds a step with action
// at address.
func hasStep(out, action, address string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == action && f[1] == address {
			return true
		}
	}
	return false
}
