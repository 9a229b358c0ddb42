package cmd

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestApplyOwnsVerificationObjects: spec.backups.verification.schedule is
// planned, applied, checked for drift and removed like the rest of the
// file, against the real control plane. The scratch namespace does not
// exist at the first plan, so the objects in it are planned without a
// dry run (and the plan says so); apply creates the Namespace first, the
// CronJob in it; the plan after is empty, so is drift, and `backup
// verify --install` (the same objects) changes nothing; without the
// schedule the plan deletes what apply put there; destroy removes it too.
func TestApplyOwnsVerificationObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, d := range map[string]map[string][]byte{"bk-keyset": {"keyset.json": []byte("{}")}, "solo-auth": {"password": []byte("verify-apply-pw")}} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	file, bucket := filepath.Join(dir, "solo.yaml"), filepath.Join(dir, "bucket")
	writeVerifyCluster(t, file, ns, bucket, true)
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	scratch := manifests.VerifyNamespaceName(c, ns)
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{})
	})
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runApplyCLI(t, env, append(args, "-f", file, "--skip-neo4j")...)
	}
	nsAddr := "k8s:core/Namespace/" + scratch
	cjAddr := "k8s:batch/CronJob/" + scratch + "/" + manifests.VerifyCronJobName
	roleAddr := "k8s:rbac.authorization.k8s.io/Role/" + ns + "/solo-verify-secrets"

	code, out, errOut := run("plan")
	if code != ExitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{nsAddr, cjAddr, roleAddr, "its namespace " + scratch + " is created by this plan"} {
		if !strings.Contains(out, want) {
			t.Errorf("the first plan lacks %q:\n%s", want, out)
		}
	}
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{}); err != nil {
		t.Fatalf("apply made no CronJob: %v", err)
	}
	empty := func(when string) {
		t.Helper()
		code, out, errOut := run("plan", "--detailed-exitcode")
		if code != ExitOK || strings.Contains(out, scratch) {
			t.Errorf("plan %s: exit %d, want an empty plan\n%s%s", when, code, out, errOut)
		}
		code, out, errOut = run("drift")
		if code != ExitOK || strings.Contains(out, scratch) {
			t.Errorf("drift %s: exit %d, want none\n%s%s", when, code, out, errOut)
		}
	}
	empty("after apply")
	// The CI role `render --ci-role` prints reads them (structurally).
	ci := ciRoleKubeconfig(t, env, ns, file)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errOut = runCLIAs(ci, "plan", "-f", file, "--skip-neo4j", "--detailed-exitcode")
		if code == ExitOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code != ExitOK || strings.Contains(out, "verification objects were not planned") || !strings.Contains(out, "compared structurally") {
		t.Errorf("plan with the CI role: exit %d, want an empty structural plan that read the verification objects\n%s%s", code, out, errOut)
	}
	// `backup verify --install` applies the very same objects.
	if code, out, errOut := runApplyCLI(t, env, "backup", "verify", "--install", "-f", file, "--secrets-dir", filepath.Join(dir, "none")); code != ExitOK {
		t.Fatalf("backup verify --install: exit %d\n%s%s", code, out, errOut)
	}
	empty("after backup verify --install")

	// Out of band: drift names the CronJob.
	cj, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cj.Spec.Schedule = "0 1 * * *"
	if _, err := cs.BatchV1().CronJobs(scratch).Update(ctx, cj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("drift"); code == ExitOK || !strings.Contains(out, cjAddr) {
		t.Errorf("drift after an out-of-band schedule: exit %d, want the CronJob\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLIAs(ci, "drift", "-f", file, "--skip-neo4j"); code == ExitOK || !strings.Contains(out, cjAddr) {
		t.Errorf("drift with the CI role after an out-of-band schedule: exit %d, want the CronJob\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply back: exit %d\n%s%s", code, out, errOut)
	}
	empty("after applying back")

	// Without the schedule: their deletion, planned and applied.
	writeVerifyCluster(t, file, ns, bucket, false)
	code, out, errOut = run("plan")
	if code != ExitOK || !strings.Contains(out, nsAddr) || !strings.Contains(out, roleAddr) || !strings.Contains(out, "no data") {
		t.Errorf("plan without the schedule: exit %d, want the scratch namespace and the Role deleted\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply without the schedule: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the scratch namespace is still there: %v", err)
	}
	if _, err := cs.RbacV1().Roles(ns).Get(ctx, "solo-verify-secrets", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the verification Role is still there: %v", err)
	}
	empty("after removing the schedule")

	// destroy removes them with the cluster.
	writeVerifyCluster(t, file, ns, bucket, true)
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply again: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runApplyCLI(t, env, "destroy", "-f", file, "--dry-run", "--skip-backup")
	if code != ExitOK || !strings.Contains(out, nsAddr) || !strings.Contains(out, roleAddr) || !strings.Contains(out, "no data") {
		t.Errorf("destroy --dry-run: exit %d, want the verification objects in its plan, said to hold no data\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve", "--skip-backup"); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("destroy left the scratch namespace: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := cs.RbacV1().Roles(ns).Get(ctx, "solo-verify-secrets", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("destroy left the verification Role: %v", err)
	}
}

// ciRoleKubeconfig creates what `render --ci-role` prints for file and
// returns a kubeconfig of its ServiceAccount.
func ciRoleKubeconfig(t *testing.T, env *testenv.Env, ns, file string) string {
	t.Helper()
	ctx := context.Background()
	code, rendered, stderr := runApplyCLI(t, env, "render", "--ci-role", "-f", file)
	if code != ExitOK {
		t.Fatalf("render --ci-role: exit %d\n%s", code, stderr)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(rendered)), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		gvk := u.GroupVersionKind()
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		if u.GetNamespace() == "" {
			name := u.GetName()
			t.Cleanup(func() { _ = dyn.Resource(plural).Delete(context.Background(), name, metav1.DeleteOptions{}) })
			_, err = dyn.Resource(plural).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = dyn.Resource(plural).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	ci, err := env.ServiceAccountKubeconfig(ctx, ns, "neo4jctl-ci")
	if err != nil {
		t.Fatal(err)
	}
	return ci
}
