package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/plan"
)

// TestNetworkPolicyFollowsAPIServerEndpoints: plan renders the
// NetworkPolicy's egress to the API server from the `kubernetes` Service's
// EndpointSlice (default/kubernetes), not from the offline fallback; when
// the API server moves, the next plan updates the policy. The test control
// plane keeps no endpoints for that Service (--endpoint-reconciler-type=
// none), so the test writes the slice as the API server's reconciler
// would, then moves it.
func TestNetworkPolicyFollowsAPIServerEndpoints(t *testing.T) {
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
	slices := cs.DiscoveryV1().EndpointSlices(kube.APIServerSlice.Namespace)
	if _, err := slices.Get(ctx, kube.APIServerSlice.Name, metav1.GetOptions{}); !kube.IsNotFound(err) {
		t.Fatalf("the test control plane has an EndpointSlice %s/%s already (err %v): this test assumes none", kube.APIServerSlice.Namespace, kube.APIServerSlice.Name, err)
	}
	writeSlice := func(addr string, port int32) {
		t.Helper()
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: kube.APIServerSlice.Name, Namespace: kube.APIServerSlice.Namespace,
				Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "test-endpoint-reconciler"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
		}
		old, err := slices.Get(ctx, s.Name, metav1.GetOptions{})
		switch {
		case kube.IsNotFound(err):
			_, err = slices.Create(ctx, s, metav1.CreateOptions{})
		case err == nil:
			s.ResourceVersion = old.ResourceVersion
			_, err = slices.Update(ctx, s, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = slices.Delete(context.Background(), kube.APIServerSlice.Name, metav1.DeleteOptions{}) })

	ns := testenv.Namespace(t, env)
	if err := harness.PrepareNamespace(ctx, env, quickstartIn(t, ns).Cluster, ns, "netpol-password"); err != nil {
		t.Fatal(err)
	}
	// Each plan is a new process in real use: a new client, no cache.
	planOnce := func() (*Target, *plan.Plan) {
		t.Helper()
		kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tg := quickstartIn(t, ns)
		p, _, err := (&Runner{Kube: kc, SkipNeo4j: true}).Plan(ctx, tg, plan.Options{SkipNeo4j: true})
		if err != nil {
			t.Fatal(err)
		}
		return tg, p
	}
	egress := func(tg *Target) string {
		t.Helper()
		for _, o := range tg.Objects {
			if o.GetKind() == "NetworkPolicy" {
				b, _ := json.Marshal(o.Object["spec"].(map[string]any)["egress"])
				return string(b)
			}
		}
		t.Fatal("no NetworkPolicy rendered")
		return ""
	}

	// No slice: the documented fallback (private ranges on 443 and 6443),
	// as render prints offline.
	tg, _ := planOnce()
	if e := egress(tg); !strings.Contains(e, `"10.0.0.0/8"`) || !strings.Contains(e, "6443") {
		t.Fatalf("without an EndpointSlice the egress is not the fallback: %s", e)
	}

	writeSlice("10.96.7.1", 6443)
	tg, _ = planOnce()
	e := egress(tg)
	if !strings.Contains(e, `"10.96.7.1/32"`) || strings.Contains(e, `"10.0.0.0/8"`) || strings.Contains(e, `"port":443,`) {
		t.Fatalf("with the API server at 10.96.7.1:6443 the egress is %s; want exactly that endpoint", e)
	}
	admin, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureInventory(ctx, tg.Inventory, kube.KindsOf(tg.Objects)); err != nil {
		t.Fatal(err)
	}
	for _, o := range tg.Objects {
		if _, err := admin.Apply(ctx, o, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, p := planOnce(); hasUpdate(p, "NetworkPolicy") {
		t.Fatalf("applied for the same endpoints, the next plan still changes the NetworkPolicy: %+v", p.Steps)
	}

	// The API server moves: the policy follows.
	writeSlice("10.96.9.2", 443)
	tg, p := planOnce()
	if !hasUpdate(p, "NetworkPolicy") {
		t.Errorf("the API server moved to 10.96.9.2:443, but the plan does not update the NetworkPolicy: %+v", p.Steps)
	}
	if e := egress(tg); !strings.Contains(e, `"10.96.9.2/32"`) || strings.Contains(e, "10.96.7.1") {
		t.Errorf("after the move the egress is %s; want 10.96.9.2 only", e)
	}
}

// hasUpdate reports whether p updates an object of kind.
func hasUpdate(p *plan.Plan, kind string) bool {
	for _, s := range p.Steps {
		if s.Action == plan.ActionUpdate && strings.Contains(s.Address, "/"+kind+"/") {
			return true
		}
	}
	return false
}
