package manifests_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/manifests"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestNetworkPolicyAPIServerPathIntegration plays the part the test control
// plane leaves out — its `kubernetes` Service has no endpoints — by
// creating an EndpointSlice for that Service as the API server's endpoint
// reconciler would, reads it back the way a caller of RenderFor would,
// renders the policy from it, stores the policy (the API server validates
// and defaults it) and evaluates the stored object: the servers reach that
// endpoint and nothing else on the API server ports. The fallback policy
// is stored too, so its CIDRs and exceptions are checked by the server.
func TestNetworkPolicyAPIServerPathIntegration(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	slice, err := cs.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "kubernetes-neo4jctl-test-",
			Labels:       map[string]string{discoveryv1.LabelServiceName: "kubernetes"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"172.18.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			// A control-plane node being replaced: not ready, not admitted.
			{Addresses: []string{"172.18.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(6443)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).Delete(context.Background(), slice.Name, metav1.DeleteOptions{})
	})

	list, err := cs.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	eps := manifests.APIServerEndpoints(list.Items)
	want := netip.MustParseAddrPort("172.18.0.2:6443")
	found := false
	for _, e := range eps {
		if e == want {
			found = true
		}
		if e.Addr() == netip.MustParseAddr("172.18.0.9") {
			t.Errorf("APIServerEndpoints kept the not-ready endpoint: %v", eps)
		}
	}
	if !found {
		t.Fatalf("APIServerEndpoints: got %v, want %v among them", eps, want)
	}

	c := netpolCluster()
	server := peer{Namespace: ns, NamespaceLabels: nsLabels(ns), Labels: manifests.SelectorLabels(c, manifests.MainPool), IP: "10.244.1.5"}
	store := func(name string, renderEnv manifests.Environment) []networkingv1.NetworkPolicy {
		t.Helper()
		objs, err := manifests.RenderFor(c, ns, renderEnv)
		if err != nil {
			t.Fatal(err)
		}
		var np networkingv1.NetworkPolicy
		for _, o := range policiesOf(t, objs) {
			np = o
		}
		np.Name = name
		np.ResourceVersion = ""
		got, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, &np, metav1.CreateOptions{FieldManager: "neo4jctl"})
		if err != nil {
			t.Fatalf("the API server refused the rendered policy: %v", err)
		}
		// Evaluate what the server stored, not what was sent.
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(got)
		if err != nil {
			t.Fatal(err)
		}
		var back networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, &back); err != nil {
			t.Fatal(err)
		}
		return []networkingv1.NetworkPolicy{back}
	}

	observed := store("observed", manifests.Environment{APIServer: eps})
	for _, tc := range []struct {
		ip   string
		port int32
		want bool
	}{
		{"172.18.0.2", 6443, true},
		{"172.18.0.2", 443, false},
		{"172.18.0.9", 6443, false},
		{"172.18.0.3", 6443, false},
		{"203.0.113.7", 443, false},
	} {
		if got := allowed(observed, server, peer{IP: tc.ip}, corev1.ProtocolTCP, tc.port); got != tc.want {
			t.Errorf("observed endpoints: server → %s:%d allowed %v, want %v", tc.ip, tc.port, got, tc.want)
		}
	}

	fallback := store("fallback", manifests.Environment{})
	for _, tc := range []struct {
		ip   string
		port int32
		want bool
	}{
		{"172.18.0.3", 6443, true},
		{"203.0.113.7", 443, false},
		{"169.254.169.254", 443, false},
	} {
		if got := allowed(fallback, server, peer{IP: tc.ip}, corev1.ProtocolTCP, tc.port); got != tc.want {
			t.Errorf("fallback: server → %s:%d allowed %v, want %v", tc.ip, tc.port, got, tc.want)
		}
	}
}
