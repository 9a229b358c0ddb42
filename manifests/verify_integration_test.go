package manifests_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/manifests"
)

func kubectlIn(t *testing.T, env *testenv.Env, stdin []byte, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.BinDir, "kubectl"), append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestVerifyObjectsPassRestrictedPSS: the verification objects
// server-side dry-run cleanly on the real API server (v1.37) — schema,
// defaults, the CronJob's Pod template under the scratch namespace's own
// restricted warn label — and the verification Pod is admitted there by
// Pod Security (enforce restricted), the ResourceQuota and the
// LimitRange, while a Pod without the security context is refused, so
// the profile is really enforced.
func TestVerifyObjectsPassRestrictedPSS(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := verified()
	objs, err := manifests.VerifyObjects(c, ns)
	if err != nil {
		t.Fatal(err)
	}
	scratch := manifests.VerifyNamespaceName(c, ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{}) })

	// A dry run of an object in a namespace that does not exist yet is
	// refused (NamespaceLifecycle admission): the reason the scratch
	// objects cannot be planned with the cluster's own (docs/backups.md).
	all, err := manifests.MarshalYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := kubectlIn(t, env, all, "apply", "--server-side", "--field-manager=neo4jctl", "--dry-run=server", "-f", "-"); err == nil || !strings.Contains(out, `namespaces "`+scratch+`" not found`) {
		t.Errorf("dry run before the namespace exists: %v, want a refusal naming it\n%s", err, out)
	}

	// So the namespace itself first, for real.
	y, err := manifests.MarshalYAML(objs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if out, err := kubectlIn(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "-f", "-"); err != nil {
		t.Fatalf("apply the scratch namespace: %v\n%s", err, out)
	}
	y, err = manifests.MarshalYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := kubectlIn(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "--dry-run=server", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply --server-side --dry-run=server: %v\n%s", err, out)
	}
	if got := strings.Count(out, "(server dry run)"); got != len(objs) {
		t.Errorf("kubectl dry-ran %d objects, rendered %d:\n%s", got, len(objs), out)
	}
	if strings.Contains(out, "PodSecurity") || strings.Contains(out, "violate") {
		t.Errorf("the verification objects violate the restricted profile:\n%s", out)
	}

	// The Pod, admitted: its ServiceAccount, quota and limit range exist
	// (the quota admits Pods only once its controller has counted).
	if out, err := kubectlIn(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	for {
		q, err := cs.CoreV1().ResourceQuotas(scratch).Get(ctx, manifests.VerifyQuotaName, metav1.GetOptions{})
		if err == nil && len(q.Status.Hard) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the quota has no status: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	cj, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := cj.Spec.JobTemplate.Spec.Template
	podOf := func(spec corev1.PodSpec) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "verify-", Namespace: scratch, Labels: tmpl.Labels}, Spec: spec}
	}
	if _, err := cs.CoreV1().Pods(scratch).Create(ctx, podOf(tmpl.Spec), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the verification Pod refused in its namespace: %v", err)
	}
	bare := tmpl.Spec.DeepCopy()
	bare.SecurityContext = nil
	for i := range bare.InitContainers {
		bare.InitContainers[i].SecurityContext = nil
	}
	bare.Containers[0].SecurityContext = nil
	if _, err := cs.CoreV1().Pods(scratch).Create(ctx, podOf(*bare), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a Pod without security contexts: got %v, want a PodSecurity refusal", err)
	}
	// A Pod asking for more memory than the verification's limit is
	// refused by the LimitRange.
	big := tmpl.Spec.DeepCopy()
	lim := big.Containers[0].Resources.Limits[corev1.ResourceMemory]
	lim.Add(lim)
	big.Containers[0].Resources.Limits[corev1.ResourceMemory] = lim
	if _, err := cs.CoreV1().Pods(scratch).Create(ctx, podOf(*big), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil || !strings.Contains(err.Error(), "maximum memory") {
		t.Errorf("a Pod over the limit range: got %v, want a refusal", err)
	}
	// The one-off Job of the command goes through the same admission.
	job := manifests.VerifyJob(c, ns, "solo/neo4j/20261207T020000Z-full-3f2a9c01", time.Now())
	if _, err := cs.BatchV1().Jobs(scratch).Create(ctx, job, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the command's Job: %v", err)
	}
}
