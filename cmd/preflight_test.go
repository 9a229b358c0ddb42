package cmd

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// createAuthSecret creates the quickstart's auth Secret (neo4j-auth, key
// password) in ns, if ns exists: a test of a missing namespace keeps it
// missing.
func createAuthSecret(t *testing.T, ns, password string) {
	t.Helper()
	cs, err := testenv.Shared(t).Clientset()
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "neo4j-auth", Namespace: ns}, StringData: map[string]string{"password": password}}
	_, err = cs.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestApplyPreflightRefusesMissingPrerequisites: a cluster file whose auth
// Secret, or one of its keys, or StorageClass, or namespace is missing is
// refused by plan with the fix, and apply writes nothing at all — before
// the pre-flight, apply created the nine Kubernetes objects and failed at
// the tenth step, reading the password.
func TestApplyPreflightRefusesMissingPrerequisites(t *testing.T) {
	env := testenv.Shared(t)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name    string
		prepare func(t *testing.T, ns, file string) string // returns the file to apply
		want    []string
	}{
		{"missing auth Secret", func(t *testing.T, ns, file string) string {
			if err := cs.CoreV1().Secrets(ns).Delete(ctx, "neo4j-auth", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			return file
		}, []string{"k8s:core/Secret/%NS%/neo4j-auth: pre-flight: Secret %NS%/neo4j-auth does not exist", "kubectl -n %NS% create secret generic neo4j-auth --from-literal=password=..."}},
		{"missing key", func(t *testing.T, ns, file string) string {
			return rewrite(t, file, "key: password", "key: passwd")
		}, []string{`Secret %NS%/neo4j-auth has no key "passwd" (keys: password)`}},
		{"missing StorageClass", func(t *testing.T, ns, file string) string {
			return rewrite(t, file, "storageClassName: standard", "storageClassName: no-such-class")
		}, []string{"k8s:storage.k8s.io/StorageClass/no-such-class: pre-flight: StorageClass no-such-class does not exist"}},
		{"missing namespace", func(t *testing.T, ns, file string) string {
			return rewrite(t, file, "namespace: "+ns, "namespace: "+ns+"-absent")
		}, []string{"k8s:core/Namespace/%NS%-absent: pre-flight: namespace %NS%-absent does not exist", "kubectl create namespace %NS%-absent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := testenv.Namespace(t, env)
			file, _ := quickstart(t, ns)
			file = tc.prepare(t, ns, file)
			code, stdout, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j")
			if code != ExitError {
				t.Errorf("plan exit code: got %d, want %d", code, ExitError)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "%NS%", ns); !strings.Contains(stdout+stderr, w) {
					t.Errorf("plan output lacks %q:\n%s\n%s", w, stdout, stderr)
				}
			}
			// The namespace case stops at the apply lock (a Lease in the
			// namespace); every case must write nothing.
			if code, _, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != ExitError {
				t.Errorf("apply exit code: got %d, want %d\n%s", code, ExitError, stderr)
			}
			for _, n := range []string{ns, ns + "-absent"} {
				cms, err := cs.CoreV1().ConfigMaps(n).List(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, cm := range cms.Items {
					if cm.Name != "kube-root-ca.crt" {
						t.Errorf("apply wrote ConfigMap %s/%s, want nothing written", n, cm.Name)
					}
				}
				if _, err := cs.AppsV1().StatefulSets(n).Get(ctx, "quickstart", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("%s: apply created the StatefulSet (err %v)", n, err)
				}
			}
		})
	}
}

func rewrite(t *testing.T, file, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
