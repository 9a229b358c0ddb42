package watch

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// TestAPIServerSliceRole: watch's ServiceAccount, with the rendered Role
// and RoleBinding in the default namespace, reads the API server's
// EndpointSlice and renders the NetworkPolicy's egress from it, as plan
// does; without them the read is forbidden and watch falls back (the
// warning says what to grant).
func TestAPIServerSliceRole(t *testing.T) {
	// A control plane of its own: the test writes default/kubernetes, which
	// every plan on a shared control plane reads (test.sh runs packages side
	// by side on one), so a shared one would flip their NetworkPolicies.
	env := testenv.Private(t, testenv.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, env)
	slices := cs.DiscoveryV1().EndpointSlices(kube.APIServerSlice.Namespace)
	if _, err := slices.Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: kube.APIServerSlice.Name, Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.96.3.3"}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(6443))}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slices.Delete(context.Background(), kube.APIServerSlice.Name, metav1.DeleteOptions{}) })

	opts := Options{Namespace: ns, Version: "1.4.0"}
	objs, err := Render(opts)
	if err != nil {
		t.Fatal(err)
	}
	sa := find(objs, "ServiceAccount").GetName()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := env.ServiceAccountKubeconfig(ctx, ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1)
	render := func() *pipeline.Target {
		t.Helper()
		// A new client each time: no cached read.
		kc, err := kube.NewForConfig(cfg, kube.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tg, err := pipeline.LoadData("quickstart.yaml", []byte(data), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := (&pipeline.Runner{Kube: kc}).RenderForCluster(ctx, tg); err != nil {
			t.Fatal(err)
		}
		return tg
	}

	if tg := render(); len(tg.EnvWarnings) == 0 || !strings.Contains(tg.EnvWarnings[0], "forbidden") {
		t.Fatalf("without the Role in default: warnings %q, want the forbidden read reported", tg.EnvWarnings)
	}

	name := APIServerRoleName(opts)
	for _, o := range objs {
		if o.GetNamespace() != "default" {
			continue
		}
		switch o.GetKind() {
		case "Role":
			var r rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			_, err = cs.RbacV1().Roles("default").Create(ctx, &r, metav1.CreateOptions{})
		case "RoleBinding":
			var rb rbacv1.RoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &rb); err != nil {
				t.Fatal(err)
			}
			_, err = cs.RbacV1().RoleBindings("default").Create(ctx, &rb, metav1.CreateOptions{})
		default:
			t.Fatalf("watch renders a %s in the default namespace", o.GetKind())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().Roles("default").Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = cs.RbacV1().RoleBindings("default").Delete(context.Background(), name, metav1.DeleteOptions{})
	})

	// The authorizer sees a new binding within moments.
	var tg *pipeline.Target
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if tg = render(); len(tg.EnvWarnings) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(tg.EnvWarnings) != 0 {
		t.Fatalf("with the rendered Role in default: warnings %q", tg.EnvWarnings)
	}
	for _, o := range tg.Objects {
		if o.GetKind() == "NetworkPolicy" {
			e, _ := json.Marshal(o.Object["spec"].(map[string]any)["egress"])
			if !strings.Contains(string(e), `"10.96.3.3/32"`) || strings.Contains(string(e), `"10.0.0.0/8"`) {
				t.Errorf("egress read through watch's Role: %s; want the slice's endpoint only", e)
			}
			return
		}
	}
	t.Fatal("no NetworkPolicy rendered")
}
