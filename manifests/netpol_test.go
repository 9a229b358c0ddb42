package manifests_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// peer is one end of a connection: a Pod (Labels set) in a namespace, or a
// bare address outside any Pod (Labels nil: the API server, the internet).
type peer struct {
	Name            string
	Namespace       string
	NamespaceLabels map[string]string
	Labels          map[string]string
	IP              string
}

func (p peer) isPod() bool { return p.Labels != nil }

// allowed evaluates NetworkPolicies the way the API documents them
// (networking.k8s.io/v1 NetworkPolicySpec): a connection passes when the
// source's egress allows it and the destination's ingress allows it; a
// direction no policy selects the Pod for is open; policies are additive.
// It covers what the renderer uses: pod/namespace selectors, ipBlocks with
// exceptions, numeric ports, protocols. It is the test's model of an
// enforcing CNI, because the test control plane stores policies and
// enforces none.
func allowed(policies []networkingv1.NetworkPolicy, from, to peer, proto corev1.Protocol, port int32) bool {
	return direction(policies, from, networkingv1.PolicyTypeEgress, func(np networkingv1.NetworkPolicy) bool {
		for _, r := range np.Spec.Egress {
			if portsMatch(r.Ports, proto, port) && peersMatch(r.To, np.Namespace, to) {
				return true
			}
		}
		return false
	}) && direction(policies, to, networkingv1.PolicyTypeIngress, func(np networkingv1.NetworkPolicy) bool {
		for _, r := range np.Spec.Ingress {
			if portsMatch(r.Ports, proto, port) && peersMatch(r.From, np.Namespace, from) {
				return true
			}
		}
		return false
	})
}

// direction is true when no policy isolates p in direction t, or one that
// does admits the connection.
func direction(policies []networkingv1.NetworkPolicy, p peer, t networkingv1.PolicyType, admits func(networkingv1.NetworkPolicy) bool) bool {
	if !p.isPod() {
		return true // not a Pod: no policy applies to it
	}
	isolated := false
	for _, np := range policies {
		if np.Namespace != p.Namespace || !selects(&np.Spec.PodSelector, p.Labels) || !hasType(np, t) {
			continue
		}
		isolated = true
		if admits(np) {
			return true
		}
	}
	return !isolated
}

func hasType(np networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		// The API's default: Ingress, plus Egress when egress rules exist.
		return t == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
	}
	for _, x := range np.Spec.PolicyTypes {
		if x == t {
			return true
		}
	}
	return false
}

func selects(s *metav1.LabelSelector, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		panic(err)
	}
	return sel.Matches(labels.Set(l))
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, proto corev1.Protocol, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pr := corev1.ProtocolTCP
		if p.Protocol != nil {
			pr = *p.Protocol
		}
		if pr != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		if port >= lo && port <= hi {
			return true
		}
	}
	return false
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, p peer) bool {
	if len(peers) == 0 {
		return true
	}
	for _, x := range peers {
		switch {
		case x.IPBlock != nil:
			if p.IP != "" && inBlock(x.IPBlock, p.IP) {
				return true
			}
		case !p.isPod():
			// Pod and namespace selectors select Pods only.
		case x.NamespaceSelector != nil:
			if selects(x.NamespaceSelector, p.NamespaceLabels) && (x.PodSelector == nil || selects(x.PodSelector, p.Labels)) {
				return true
			}
		case x.PodSelector != nil:
			if p.Namespace == policyNS && selects(x.PodSelector, p.Labels) {
				return true
			}
		}
	}
	return false
}

func inBlock(b *networkingv1.IPBlock, ip string) bool {
	a := netip.MustParseAddr(ip)
	if !netip.MustParsePrefix(b.CIDR).Contains(a) {
		return false
	}
	for _, e := range b.Except {
		if netip.MustParsePrefix(e).Contains(a) {
			return false
		}
	}
	return true
}

func policiesOf(t *testing.T, objs []*unstructured.Unstructured) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, o := range objs {
		if o.GetKind() != "NetworkPolicy" {
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &np); err != nil {
			t.Fatal(err)
		}
		out = append(out, np)
	}
	if len(out) == 0 {
		t.Fatal("no NetworkPolicy rendered")
	}
	return out
}

func nsLabels(name string, extra ...string) map[string]string {
	l := map[string]string{"kubernetes.io/metadata.name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// netpolCluster is the production shape: named clients, named backup
// clients, named metrics scrapers, metrics on, network policy on.
func netpolCluster() *clusterfile.Cluster {
	c := enterprise()
	c.Spec.Security.NetworkPolicy = clusterfile.NetworkPolicy{
		Enabled:        new(bool),
		AllowedClients: []clusterfile.PeerSelector{{NamespaceSelector: map[string]string{"team": "orders"}}},
		BackupClients:  []clusterfile.PeerSelector{{NamespaceSelector: map[string]string{"kubernetes.io/metadata.name": "ops"}, PodSelector: map[string]string{"app": "vault-backup"}}},
		MetricsClients: []clusterfile.PeerSelector{{NamespaceSelector: map[string]string{"kubernetes.io/metadata.name": "monitoring"}, PodSelector: map[string]string{"app.kubernetes.io/name": "prometheus"}}},
	}
	*c.Spec.Security.NetworkPolicy.Enabled = true
	c.Spec.Monitoring.Metrics.Enabled = true
	return c
}

// TestNetworkPolicyWhoReachesWhat renders the cluster's NetworkPolicy and
// asks, connection by connection, what an enforcing CNI would let through.
func TestNetworkPolicyWhoReachesWhat(t *testing.T) {
	c := netpolCluster()
	const ns = "db"
	dbNS := nsLabels(ns)
	server := peer{Name: "server g-1", Namespace: ns, NamespaceLabels: dbNS, Labels: manifests.SelectorLabels(c, manifests.MainPool), IP: "10.244.1.5"}
	other := peer{Name: "server g-2", Namespace: ns, NamespaceLabels: dbNS, Labels: manifests.SelectorLabels(c, manifests.MainPool), IP: "10.244.2.5"}
	app := peer{Name: "orders app", Namespace: "orders", NamespaceLabels: nsLabels("orders", "team", "orders"), Labels: map[string]string{"app": "orders-api"}, IP: "10.244.3.1"}
	stranger := peer{Name: "pod of another team", Namespace: "web", NamespaceLabels: nsLabels("web"), Labels: map[string]string{"app": "web"}, IP: "10.244.3.2"}
	neighbour := peer{Name: "unrelated pod of the cluster's namespace", Namespace: ns, NamespaceLabels: dbNS, Labels: map[string]string{"app": "other"}, IP: "10.244.3.3"}
	watchPod := peer{Name: "neo4jctl watch", Namespace: ns, NamespaceLabels: dbNS, Labels: map[string]string{manifests.LabelName: manifests.WatchAppName, manifests.LabelInstance: "neo4jctl-watch"}, IP: "10.244.3.4"}
	backupJob := peer{Name: "neo4jctl backup Job", Namespace: ns, NamespaceLabels: dbNS, Labels: map[string]string{manifests.LabelComponent: manifests.BackupComponent}, IP: "10.244.3.5"}
	vault := peer{Name: "named backup client", Namespace: "ops", NamespaceLabels: nsLabels("ops"), Labels: map[string]string{"app": "vault-backup"}, IP: "10.244.3.6"}
	opsOther := peer{Name: "other pod of the backup client's namespace", Namespace: "ops", NamespaceLabels: nsLabels("ops"), Labels: map[string]string{"app": "x"}, IP: "10.244.3.7"}
	prometheus := peer{Name: "prometheus", Namespace: "monitoring", NamespaceLabels: nsLabels("monitoring"), Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}, IP: "10.244.3.8"}
	grafana := peer{Name: "other pod of the scraper's namespace", Namespace: "monitoring", NamespaceLabels: nsLabels("monitoring"), Labels: map[string]string{"app.kubernetes.io/name": "grafana"}, IP: "10.244.3.9"}
	coreDNS := peer{Name: "CoreDNS", Namespace: "kube-system", NamespaceLabels: nsLabels("kube-system"), Labels: map[string]string{"k8s-app": "kube-dns"}, IP: "10.244.0.10"}
	kubeSystemOther := peer{Name: "other kube-system pod", Namespace: "kube-system", NamespaceLabels: nsLabels("kube-system"), Labels: map[string]string{"k8s-app": "metrics-server"}, IP: "10.244.0.11"}
	apiServer := peer{Name: "API server endpoint", IP: "172.18.0.2"}
	otherHost := peer{Name: "another address in the API server's network", IP: "172.18.0.3"}
	internet := peer{Name: "the internet", IP: "203.0.113.7"}
	publicDNS := peer{Name: "public DNS", IP: "8.8.8.8"}
	metadata := peer{Name: "cloud metadata", IP: "169.254.169.254"}

	metrics := manifests.DefaultMetricsPort
	type conn struct {
		from, to peer
		proto    corev1.Protocol
		port     int32
		want     bool
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	conns := []conn{
		// Client ports: the named clients and watch, nobody else.
		{app, server, tcp, manifests.PortBolt, true},
		{app, server, tcp, manifests.PortHTTP, true},
		{stranger, server, tcp, manifests.PortBolt, false},
		{neighbour, server, tcp, manifests.PortBolt, false},
		{watchPod, server, tcp, manifests.PortBolt, true},
		{watchPod, server, tcp, manifests.PortBackup, false},
		{watchPod, server, tcp, manifests.PortRaft, false},
		// Cluster ports: members only, both ways.
		{other, server, tcp, manifests.PortCluster, true},
		{other, server, tcp, manifests.PortRaft, true},
		{other, server, tcp, manifests.PortRouting, true},
		{other, server, tcp, manifests.PortDiscovery, true},
		{neighbour, server, tcp, manifests.PortCluster, false},
		{app, server, tcp, manifests.PortRaft, false},
		// Backup: backupClients and neo4jctl's backup Jobs only.
		{backupJob, server, tcp, manifests.PortBackup, true},
		{vault, server, tcp, manifests.PortBackup, true},
		{opsOther, server, tcp, manifests.PortBackup, false},
		{app, server, tcp, manifests.PortBackup, false},
		{neighbour, server, tcp, manifests.PortBackup, false},
		{other, server, tcp, manifests.PortBackup, false},
		{backupJob, server, tcp, manifests.PortBolt, false},
		// Metrics: the scrapers metricsClients names, nobody else (not
		// even the cluster's own namespace, once scrapers are named).
		{prometheus, server, tcp, metrics, true},
		{grafana, server, tcp, metrics, false},
		{stranger, server, tcp, metrics, false},
		{neighbour, server, tcp, metrics, false},
		{app, server, tcp, metrics, false},
		{prometheus, server, tcp, manifests.PortBolt, false},
		{prometheus, server, tcp, manifests.PortBackup, false},
		// Egress: DNS to the cluster's DNS only.
		{server, coreDNS, udp, 53, true},
		{server, coreDNS, tcp, 53, true},
		{server, kubeSystemOther, udp, 53, false},
		{server, publicDNS, udp, 53, false},
		{server, stranger, udp, 53, false},
		// Egress: the API server's endpoint only, nothing else.
		{server, apiServer, tcp, 6443, true},
		{server, apiServer, tcp, 443, false},
		{server, otherHost, tcp, 6443, false},
		{server, internet, tcp, 443, false},
		{server, internet, tcp, 6443, false},
		{server, metadata, tcp, 80, false},
		{server, app, tcp, manifests.PortBolt, false},
	}
	objs, err := manifests.RenderFor(c, ns, manifests.Environment{APIServer: []netip.AddrPort{netip.MustParseAddrPort("172.18.0.2:6443")}})
	if err != nil {
		t.Fatal(err)
	}
	policies := policiesOf(t, objs)
	for _, cn := range conns {
		if got := allowed(policies, cn.from, cn.to, cn.proto, cn.port); got != cn.want {
			t.Errorf("%s → %s %s/%d: allowed %v, want %v", cn.from.Name, cn.to.Name, cn.proto, cn.port, got, cn.want)
		}
	}
}

// TestNetworkPolicyAPIServerFallback: without observed endpoints the
// renderer cannot know the API server's addresses; it admits its ports on
// the private ranges only, never the internet nor the metadata endpoint.
func TestNetworkPolicyAPIServerFallback(t *testing.T) {
	c := netpolCluster()
	policies := policiesOf(t, render(t, c))
	server := peer{Namespace: "db", NamespaceLabels: nsLabels("db"), Labels: manifests.SelectorLabels(c, manifests.MainPool), IP: "10.244.1.5"}
	for _, tc := range []struct {
		ip   string
		port int32
		want bool
	}{
		{"10.0.0.1", 443, true}, {"172.18.0.2", 6443, true}, {"192.168.1.10", 6443, true}, {"fd00::1", 443, true},
		{"203.0.113.7", 443, false}, {"203.0.113.7", 6443, false}, {"2001:db8::1", 443, false},
		{"169.254.169.254", 443, false}, {"10.0.0.1", 80, false},
	} {
		if got := allowed(policies, server, peer{IP: tc.ip}, corev1.ProtocolTCP, tc.port); got != tc.want {
			t.Errorf("server → %s:%d: allowed %v, want %v", tc.ip, tc.port, got, tc.want)
		}
	}
}

// TestNetworkPolicyDefaultClients: with no allowedClients the client ports,
// and with no metricsClients the metrics port, are open to the cluster's
// namespace only, and no one outside it: a policy must not guess where the
// applications or Prometheus run.
func TestNetworkPolicyDefaultClients(t *testing.T) {
	c := netpolCluster()
	c.Spec.Security.NetworkPolicy.AllowedClients = nil
	c.Spec.Security.NetworkPolicy.MetricsClients = nil
	policies := policiesOf(t, render(t, c))
	server := peer{Namespace: "db", NamespaceLabels: nsLabels("db"), Labels: manifests.SelectorLabels(c, manifests.MainPool)}
	own := peer{Namespace: "db", NamespaceLabels: nsLabels("db"), Labels: map[string]string{"app": "x"}}
	web := peer{Namespace: "web", NamespaceLabels: nsLabels("web"), Labels: map[string]string{"app": "x"}}
	prometheus := peer{Namespace: "monitoring", NamespaceLabels: nsLabels("monitoring"), Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
	for _, tc := range []struct {
		from peer
		port int32
		want bool
	}{
		{own, manifests.PortBolt, true},
		{web, manifests.PortBolt, false},
		{own, manifests.DefaultMetricsPort, true},
		{prometheus, manifests.DefaultMetricsPort, false},
	} {
		if got := allowed(policies, tc.from, server, corev1.ProtocolTCP, tc.port); got != tc.want {
			t.Errorf("%s → server %d: allowed %v, want %v", tc.from.Namespace, tc.port, got, tc.want)
		}
	}
}

// TestEvaluatorSemantics pins the evaluator itself on policies written by
// hand, so the tests above rest on a model that is right.
func TestEvaluatorSemantics(t *testing.T) {
	pod := func(ns string, l ...string) peer {
		m := map[string]string{}
		for i := 0; i+1 < len(l); i += 2 {
			m[l[i]] = l[i+1]
		}
		return peer{Namespace: ns, NamespaceLabels: nsLabels(ns), Labels: m}
	}
	db := pod("a", "role", "db")
	port := func(p int32) []networkingv1.NetworkPolicyPort {
		return []networkingv1.NetworkPolicyPort{{Port: ptrIntStr(p)}}
	}
	ingressOnly := networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "db"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "app"}}}}, Ports: port(5432)},
			},
		},
	}
	for _, tc := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		from, to peer
		port     int32
		want     bool
	}{
		{"no policy: open", nil, pod("b"), db, 5432, true},
		{"pod selector admits same namespace", []networkingv1.NetworkPolicy{ingressOnly}, pod("a", "role", "app"), db, 5432, true},
		{"pod selector alone is same namespace only", []networkingv1.NetworkPolicy{ingressOnly}, pod("b", "role", "app"), db, 5432, false},
		{"other port", []networkingv1.NetworkPolicy{ingressOnly}, pod("a", "role", "app"), db, 80, false},
		{"unselected pod stays open", []networkingv1.NetworkPolicy{ingressOnly}, pod("b"), pod("a", "role", "web"), 80, true},
		{"ingress-only policy leaves egress open", []networkingv1.NetworkPolicy{ingressOnly}, db, peer{IP: "1.1.1.1"}, 443, true},
	} {
		if got := allowed(tc.policies, tc.from, tc.to, corev1.ProtocolTCP, tc.port); got != tc.want {
			t.Errorf("%s: allowed %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ptrIntStr(p int32) *intstr.IntOrString { v := intstr.FromInt32(p); return &v }

// TestNetworkPolicyPluginDownloads: the servers reach the internet (HTTPS
// only, never the metadata endpoint) only when the image entrypoint must
// download a plugin; bundled plugins need no route out.
func TestNetworkPolicyPluginDownloads(t *testing.T) {
	internet := peer{IP: "203.0.113.7"}
	for _, tc := range []struct {
		plugins []string
		want    bool
	}{
		{nil, false},
		{[]string{"apoc", "graph-data-science"}, false},
		{[]string{"apoc", "n10s"}, true},
	} {
		c := netpolCluster()
		c.Spec.Plugins = tc.plugins
		policies := policiesOf(t, render(t, c))
		server := peer{Namespace: "db", NamespaceLabels: nsLabels("db"), Labels: manifests.SelectorLabels(c, manifests.MainPool)}
		if got := allowed(policies, server, internet, corev1.ProtocolTCP, 443); got != tc.want {
			t.Errorf("plugins %v: server → internet:443 allowed %v, want %v", tc.plugins, got, tc.want)
		}
		if allowed(policies, server, peer{IP: "169.254.169.254"}, corev1.ProtocolTCP, 443) {
			t.Errorf("plugins %v: the metadata endpoint is reachable", tc.plugins)
		}
	}
}

func TestAPIServerEndpoints(t *testing.T) {
	slice := func(svc string, ready *bool, addrs []string, ports ...discoveryv1.EndpointPort) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: addrs, Conditions: discoveryv1.EndpointConditions{Ready: ready}}},
			Ports:      ports,
		}
	}
	https := discoveryv1.EndpointPort{Name: ptr.To("https"), Port: ptr.To(int32(6443))}
	other := discoveryv1.EndpointPort{Name: ptr.To("metrics"), Port: ptr.To(int32(9000))}
	got := manifests.APIServerEndpoints([]discoveryv1.EndpointSlice{
		slice("kubernetes", nil, []string{"10.0.0.2", "10.0.0.1"}, https, other),
		slice("kubernetes", ptr.To(true), []string{"10.0.0.1"}, https), // repeated across slices
		slice("kubernetes", ptr.To(false), []string{"10.0.0.3"}, https),
		slice("web", nil, []string{"10.0.0.4"}, https),
	})
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:6443"), netip.MustParseAddrPort("10.0.0.2:6443")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
