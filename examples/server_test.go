package examples_test

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
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// kubectl runs the kubectl built beside the control plane (same version as
// the API server) with the environment's admin kubeconfig.
func kubectl(t *testing.T, env *testenv.Env, stdin []byte, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.BinDir, "kubectl"), append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func renderIn(t *testing.T, file, ns string) (*clusterfile.Cluster, []byte, int) {
	t.Helper()
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifests.Render(c, ns)
	if err != nil {
		t.Fatal(err)
	}
	y, err := manifests.MarshalYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	return c, y, len(objs)
}

// TestExamplesPassServerSideDryRun is `neo4jctl render -f X | kubectl apply
// --server-side --dry-run=server -f -` for every example against the real
// API server (v1.37, with the ServiceMonitor and cert-manager CRDs), so
// schema errors that a unit test cannot see (unknown fields, invalid
// values, missing list-map keys) fail here.
func TestExamplesPassServerSideDryRun(t *testing.T) {
	env := testenv.Shared(t)
	for _, name := range wantExamples {
		t.Run(name, func(t *testing.T) {
			ns := testenv.Namespace(t, env)
			_, y, n := renderIn(t, name+".yaml", ns)
			out, err := kubectl(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatalf("kubectl apply --server-side --dry-run=server: %v\n%s", err, out)
			}
			if got := strings.Count(out, "(server dry run)"); got != n {
				t.Errorf("kubectl dry-ran %d objects, rendered %d:\n%s", got, n, out)
			}
		})
	}
}

// TestQuickstartPodsBecomeReady applies the quickstart for real and waits for
// its Pods to become Ready and its claims Bound: an environment check (kwok
// marks Pods Ready without running containers, so probes and the read-only
// root filesystem are reviewed by reading the manifests, not tested here).
func TestQuickstartPodsBecomeReady(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	c, y, _ := renderIn(t, "quickstart.yaml", ns)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.Spec.Auth.SecretRef.Name},
		StringData: map[string]string{"password": "not-a-real-password"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	sts := manifests.StatefulSetName(c, manifests.MainPool)
	want := int(c.Spec.Servers)
	for {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, sts, metav1.GetOptions{})
		if err == nil && int(s.Status.ReadyReplicas) == want {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("StatefulSet %s/%s: %d/%d Pods Ready when the wait ran out", ns, sts, s.Status.ReadyReplicas, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// A Pod can be Ready a moment before the volume controller marks its
	// last claim Bound: wait for the claims too.
	for {
		pvcs, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bound := 0
		for _, p := range pvcs.Items {
			if p.Status.Phase == corev1.ClaimBound {
				bound++
			}
		}
		if bound == 2*want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("got %d claims Bound, want %d (data + logs per server)", bound, 2*want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
