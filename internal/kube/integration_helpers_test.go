package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// setup returns a Client on the shared test control plane, an admin
// clientset for out-of-band changes, and a fresh namespace.
func setup(t *testing.T) (*kube.Client, kubernetes.Interface, string) {
	t.Helper()
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	c, err := kube.NewForConfig(env.RESTConfig(), kube.Options{
		OnRetry: func(what string, attempt int, err error) { t.Logf("retry %s (attempt %d): %v", what, attempt, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return c, cs, ns
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// objs decodes YAML documents into objects in namespace ns, as manifests
// renders them.
func objs(t *testing.T, ns string, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatalf("decode %q: %v", d, err)
		}
		if u.GetNamespace() == "" {
			u.SetNamespace(ns)
		}
		out = append(out, u)
	}
	return out
}

func applyAll(t *testing.T, ctx context.Context, c *kube.Client, inv kube.InventoryRef, os []*unstructured.Unstructured) {
	t.Helper()
	if err := c.EnsureInventory(ctx, inv, kube.KindsOf(os)); err != nil {
		t.Fatalf("EnsureInventory: %v", err)
	}
	for _, o := range os {
		if _, err := c.Apply(ctx, o, false); err != nil {
			t.Fatalf("Apply %s: %v", o.GetName(), err)
		}
	}
}

var fastBackoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 3}

func sharedEnvOrSkip(t *testing.T) *testenv.Env { return testenv.Shared(t) }

// readOnlyClient is a Client for a ServiceAccount that may only get, list and
// watch in ns — a CI job's drift credentials. It is built through New from
// kubectl-style flags, as the CLI builds it.
func readOnlyClient(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string) *kube.Client {
	t.Helper()
	env := testenv.Shared(t)
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "read-only", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "read-only", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "read-only"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "drift", Namespace: ns}},
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	path, err := env.ServiceAccountKubeconfig(ctx, ns, "drift")
	if err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &path
	flags.Namespace = &ns
	c, err := kube.New(flags, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace() != ns {
		t.Errorf("Namespace() = %q, want %q from --namespace", c.Namespace(), ns)
	}
	return c
}

func svcYAMLWith(ports string) string { return strings.ReplaceAll(svcYAML, "%PORTS%", ports) }

func configMap(ns, name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: map[string]string{"k": "v"}}
}

func parentUID(t *testing.T, cs kubernetes.Interface, ns, name string) types.UID {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.UID
}
