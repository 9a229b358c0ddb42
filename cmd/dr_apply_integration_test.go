package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestApplyOwnsDrillObjects: spec.backups.drill.schedule's standing
// objects (manifests/drill.go) are planned, applied, checked for drift
// and removed like the verification objects, against the real control
// plane: the first plan creates the drill namespace (labelled as the
// drill's) and the CronJob in it, and the Role in the cluster's
// namespace; the plan and drift after apply are empty; without the
// schedule apply deletes them; destroy lists and removes them.
func TestApplyOwnsDrillObjects(t *testing.T) {
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
	for name, d := range map[string]map[string][]byte{"bk-keyset": {"keyset.json": []byte("{}")}, "solo-auth": {"password": []byte("drill-apply-pw")}} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	file, bucket := filepath.Join(dir, "solo.yaml"), filepath.Join(dir, "bucket")
	write := func(scheduled bool) {
		t.Helper()
		writeVerifyCluster(t, file, ns, bucket, false)
		if scheduled {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, append(b, "    drill: {schedule: \"0 5 * * 1\"}\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(true)
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	drillNS := manifests.DrillNamespaceName(c, ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), drillNS, metav1.DeleteOptions{}) })
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runApplyCLI(t, env, append(args, "-f", file, "--skip-neo4j")...)
	}
	nsAddr := "k8s:core/Namespace/" + drillNS
	cjAddr := "k8s:batch/CronJob/" + drillNS + "/" + manifests.DrillCronJobName
	roleAddr := "k8s:rbac.authorization.k8s.io/Role/" + ns + "/" + manifests.DrillSecretsRoleName(c)

	code, out, errOut := run("plan")
	if code != ExitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{nsAddr, cjAddr, roleAddr, "its namespace " + drillNS + " is created by this plan"} {
		if !strings.Contains(out, want) {
			t.Errorf("the first plan lacks %q:\n%s", want, out)
		}
	}
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	got, err := cs.CoreV1().Namespaces().Get(ctx, drillNS, metav1.GetOptions{})
	if err != nil || got.Labels[manifests.LabelDrill] != "solo" {
		t.Fatalf("the drill namespace: %v %v", err, got)
	}
	if cj, err := cs.BatchV1().CronJobs(drillNS).Get(ctx, manifests.DrillCronJobName, metav1.GetOptions{}); err != nil || cj.Spec.Schedule != "0 5 * * 1" {
		t.Fatalf("apply made no drill CronJob: %v", err)
	}
	empty := func(when string) {
		t.Helper()
		code, out, errOut := run("plan", "--detailed-exitcode")
		if code != ExitOK || strings.Contains(out, drillNS) {
			t.Errorf("plan %s: exit %d, want an empty plan\n%s%s", when, code, out, errOut)
		}
		code, out, errOut = run("drift")
		if code != ExitOK || strings.Contains(out, drillNS) {
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
	if code != ExitOK || strings.Contains(out, "DR drill objects were not planned") || !strings.Contains(out, "compared structurally") {
		t.Errorf("plan with the CI role: exit %d, want an empty structural plan that read the drill objects\n%s%s", code, out, errOut)
	}

	// Without the schedule: deleted, namespace and Role.
	write(false)
	code, out, errOut = run("plan")
	if code != ExitOK || !strings.Contains(out, nsAddr) || !strings.Contains(out, roleAddr) || !strings.Contains(out, "spec.backups.drill.schedule is not set") {
		t.Errorf("plan without the schedule: exit %d, want the drill namespace and Role deleted\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply without the schedule: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, drillNS, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the drill namespace is still there: %v", err)
	}
	if _, err := cs.RbacV1().Roles(ns).Get(ctx, manifests.DrillSecretsRoleName(c), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the drill Secrets Role is still there: %v", err)
	}
	empty("after removing the schedule")

	// destroy lists and removes them with the cluster.
	write(true)
	if code, out, errOut := run("apply", "--auto-approve", "--wait=false"); code != ExitOK {
		t.Fatalf("apply again: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runApplyCLI(t, env, "destroy", "-f", file, "--dry-run", "--skip-backup")
	if code != ExitOK || !strings.Contains(out, nsAddr) || !strings.Contains(out, roleAddr) {
		t.Errorf("destroy --dry-run: exit %d, want the drill objects in its plan\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve", "--skip-backup"); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, drillNS, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("destroy left the drill namespace: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := cs.RbacV1().Roles(ns).Get(ctx, manifests.DrillSecretsRoleName(c), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("destroy left the drill Secrets Role: %v", err)
	}
}
