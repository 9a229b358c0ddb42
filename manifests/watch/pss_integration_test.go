package watch

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// restrictedNamespace is a test namespace whose Pod Security admission
// enforces the restricted profile (and warns, so objects that only carry
// a Pod template report violations too).
func restrictedNamespace(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
	n.Labels["pod-security.kubernetes.io/enforce-version"] = "latest"
	n.Labels["pod-security.kubernetes.io/warn"] = "restricted"
	n.Labels["pod-security.kubernetes.io/warn-version"] = "latest"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// dryRunPodOf server-side dry-run creates the Pod a controller would make
// from tmpl: Pod Security admission enforces on Pods only (on workloads it
// warns), so this is where restricted is enforced.
func dryRunPodOf(t *testing.T, env *testenv.Env, ns string, tmpl corev1.PodTemplateSpec) error {
	t.Helper()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "pss-", Namespace: ns, Labels: tmpl.Labels}, Spec: tmpl.Spec}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

func kubectlDryRun(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured) string {
	t.Helper()
	y, err := manifests.MarshalYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(env.BinDir, "kubectl"), "--kubeconfig", env.Kubeconfig,
		"apply", "--server-side", "--field-manager=neo4jctl", "--dry-run=server", "-f", "-")
	cmd.Stdin = bytes.NewReader(y)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply --server-side --dry-run=server: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "(server dry run)"); got != len(objs) {
		t.Errorf("kubectl dry-ran %d objects, rendered %d:\n%s", got, len(objs), out)
	}
	return string(out)
}

// TestWatchManifestsPassRestrictedPSS: `neo4jctl render --watch` for a
// cluster with TLS, in enforce mode, server-side dry-runs cleanly in a
// namespace enforcing the restricted Pod Security profile — no violation
// warning on the Deployment, and its Pod admitted — as the cluster's own
// objects do. A Pod without the security context is refused there, so the
// profile is really enforced.
func TestWatchManifestsPassRestrictedPSS(t *testing.T) {
	env := testenv.Shared(t)
	ns := restrictedNamespace(t, env)

	c, err := clusterfile.LoadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Spec.TLS = &clusterfile.TLS{SecretName: "quickstart-tls"}
	objs, err := Render(Options{
		Namespace: ns, Version: "1.4.0", Mode: dwatch.ModeEnforce, AllowIrreversible: true,
		ServiceMonitors: true, SecretNames: []string{"quickstart-auth"},
		ClusterFiles: []ClusterFile{{Cluster: c.Metadata.Name, FileName: "quickstart.yaml", Content: "metadata:\n  name: quickstart\n"}},
		CASecretName: manifests.TLSSecretName(c),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := kubectlDryRun(t, env, objs)
	if strings.Contains(out, "PodSecurity") {
		t.Errorf("watch's objects violate the restricted profile:\n%s", out)
	}
	// The Pod's ServiceAccount must exist for it to be admitted at all.
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: find(objs, "ServiceAccount").GetName()}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(objs, "Deployment").Object, &d); err != nil {
		t.Fatal(err)
	}
	if err := dryRunPodOf(t, env, ns, d.Spec.Template); err != nil {
		t.Errorf("watch's Pod refused in a restricted namespace: %v", err)
	}

	// The control: the same Pod without its security contexts is refused.
	bare := *d.Spec.Template.DeepCopy()
	bare.Spec.SecurityContext = nil
	bare.Spec.Containers[0].SecurityContext = nil
	if err := dryRunPodOf(t, env, ns, bare); err == nil || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a Pod without security contexts: got %v, want a PodSecurity refusal (is admission enforcing?)", err)
	}

	// The cluster's own objects, through the same check.
	cobjs, err := manifests.Render(c, ns)
	if err != nil {
		t.Fatal(err)
	}
	if out := kubectlDryRun(t, env, cobjs); strings.Contains(out, "PodSecurity") {
		t.Errorf("the cluster's objects violate the restricted profile:\n%s", out)
	}
}
