package manifests

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

const (
	serviceRoleHeadless = "headless"
	serviceRoleClient   = "client"
)

func objectMeta(c *clusterfile.Cluster, namespace, name string) metav1.ObjectMeta {
	var ann map[string]string
	if len(c.Metadata.Annotations) > 0 {
		ann = maps.Clone(c.Metadata.Annotations)
	}
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: Labels(c), Annotations: ann}
}

func serviceAccount(c *clusterfile.Cluster, namespace string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: objectMeta(c, namespace, ServiceAccountName(c)),
		// Off by default; the Pod template turns it on only where
		// Kubernetes discovery needs to call the API server.
		AutomountServiceAccountToken: ptr.To(false),
	}
}

// discoveryRole grants what Neo4j's K8S resolver needs, per the
// Operations Manual: listing the Services that match
// dbms.kubernetes.label_selector (get and watch with it, as read-only
// companions of list). Nothing else, nothing writable, one namespace.
func discoveryRole(c *clusterfile.Cluster, namespace string) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: objectMeta(c, namespace, c.Metadata.Name+"-discovery"),
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""},
			Resources: []string{"services"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
}

func discoveryRoleBinding(c *clusterfile.Cluster, namespace string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: objectMeta(c, namespace, c.Metadata.Name+"-discovery"),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: c.Metadata.Name + "-discovery"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: ServiceAccountName(c), Namespace: namespace}},
	}
}

// configMaps returns the ConfigMap of the restart settings (immutable,
// named after its hash) and that of the dynamic settings (see splitConf).
func configMaps(c *clusterfile.Cluster, namespace, restartConf, confHash, dynamicConf string) []runtime.Object {
	return []runtime.Object{
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: objectMeta(c, namespace, RestartConfigMapName(c, confHash)),
			Data:       map[string]string{confFileName: restartConf},
			Immutable:  ptr.To(true),
		},
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: objectMeta(c, namespace, DynamicConfigMapName(c)),
			Data:       map[string]string{dynamicConfFileName: dynamicConf},
		},
	}
}

func servicePorts(ports []namedPort) []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, p := range ports {
		out = append(out, corev1.ServicePort{
			Name:       p.Name,
			Port:       p.Port,
			TargetPort: intstr.FromString(p.Name),
			Protocol:   corev1.ProtocolTCP,
			// Tells meshes and gateways the bytes are not HTTP.
			AppProtocol: appProtocol(p.Name),
		})
	}
	return out
}

func appProtocol(name string) *string {
	switch name {
	case PortNameHTTP, PortNameMetrics:
		return ptr.To("http")
	case PortNameHTTPS:
		return ptr.To("https")
	}
	return nil
}

// headlessService gives every server its DNS name and is the one Service
// Kubernetes discovery lists.
func headlessService(c *clusterfile.Cluster, namespace string) *corev1.Service {
	meta := objectMeta(c, namespace, HeadlessServiceName(c))
	meta.Labels[LabelService] = serviceRoleHeadless
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: corev1.ClusterIPNone,
			Selector:  ClusterSelector(c),
			// Members must find each other before any is Ready: a
			// cluster forms before its servers pass readiness.
			PublishNotReadyAddresses: true,
			Ports:                    servicePorts(serverPorts(c)),
		},
	}
}

func clientService(c *clusterfile.Cluster, namespace string) *corev1.Service {
	meta := objectMeta(c, namespace, ClientServiceName(c))
	meta.Labels[LabelService] = serviceRoleClient
	if a := c.Spec.Services.Client.Annotations; len(a) > 0 {
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		maps.Copy(meta.Annotations, a)
	}
	typ := corev1.ServiceType(c.Spec.Services.Client.Type)
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	// With HTTPS on, plain HTTP is off (config.go): the Service offers
	// only what the servers listen on.
	ports := []namedPort{{PortNameBolt, PortBolt}, {PortNameHTTP, PortHTTP}}
	if tlsScope(c, "https") {
		ports = []namedPort{{PortNameBolt, PortBolt}, {PortNameHTTPS, PortHTTPS}}
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: ClusterSelector(c),
			Ports:    servicePorts(ports),
		},
	}
}

// podDisruptionBudget lets voluntary evictions (node drains) take one
// server of the cluster at a time, across pools: a three-primary cluster
// keeps its quorum of two, and the next eviction waits until the evicted
// server is back and Ready.
func podDisruptionBudget(c *clusterfile.Cluster, namespace string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(c, namespace, c.Metadata.Name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: ClusterSelector(c)},
			// A server that is not Ready already contributes nothing to
			// the quorum; evicting it costs no availability, and with the
			// default policy one crash-looping Pod would block every
			// node drain in the cluster.
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	}
}

var (
	tcp = ptr.To(corev1.ProtocolTCP)
	udp = ptr.To(corev1.ProtocolUDP)
)

func npPorts(proto *corev1.Protocol, ports ...int32) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: proto, Port: ptr.To(intstr.FromInt32(p))})
	}
	return out
}

func peers(sel []clusterfile.PeerSelector) []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, s := range sel {
		var p networkingv1.NetworkPolicyPeer
		// An empty podSelector next to a namespaceSelector means "every
		// Pod of those namespaces"; alone it means "every Pod of this
		// namespace".
		p.PodSelector = &metav1.LabelSelector{MatchLabels: s.PodSelector}
		if s.NamespaceSelector != nil {
			p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: s.NamespaceSelector}
		}
		out = append(out, p)
	}
	return out
}

// Environment is what the caller observed of the Kubernetes cluster it
// renders for. Rendering stays pure: nothing here is looked up by
// RenderFor. The zero value means "nothing observed", and the renderer
// then uses the documented fallbacks (see networkPolicy).
type Environment struct {
	// APIServer are the endpoints of the `kubernetes` Service in the
	// default namespace (its EndpointSlices; APIServerEndpoints converts
	// them). NetworkPolicy matches Service traffic after the Service's
	// address is translated to an endpoint's, so these — not the
	// Service's ClusterIP and port 443 — are what an egress rule must
	// name.
	APIServer []netip.AddrPort
}

// UsesAPIServer reports whether c's rendering depends on the API server's
// endpoints (Environment.APIServer): its NetworkPolicy admits egress to
// the API server, which Enterprise servers need for Kubernetes discovery.
// Callers read the endpoints only then, so a Community cluster's
// credentials need no access to them.
func UsesAPIServer(c *clusterfile.Cluster) bool {
	np := c.Spec.Security.NetworkPolicy.Enabled
	return np != nil && *np && isEnterprise(c)
}

// APIServerEndpoints returns the ready endpoints of the `kubernetes`
// Service's EndpointSlices (label kubernetes.io/service-name=kubernetes in
// the default namespace) with the port named "https", sorted and without
// repeats.
func APIServerEndpoints(eps []discoveryv1.EndpointSlice) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range eps {
		if s.Labels[discoveryv1.LabelServiceName] != "kubernetes" {
			continue
		}
		var ports []uint16
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil || *p.Name == "" || *p.Name == "https") && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
				ports = append(ports, uint16(*p.Port))
			}
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				for _, p := range ports {
					out = append(out, netip.AddrPortFrom(ip.Unmap(), p))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

// metadataAddresses are the cloud instance metadata endpoints (AWS, GCP,
// Azure and others on IPv4; AWS on IPv6). A database process has no
// business there, and from a Pod they can hand out node credentials.
var metadataAddresses = []string{"169.254.169.254/32", "fd00:ec2::254/128"}

// privateRanges are where an API server endpoint is when none was
// observed: RFC 1918, RFC 6598 shared space (some VPCs give it to nodes)
// and IPv6 unique-local addresses. The AWS IPv6 metadata address is in
// fc00::/7, hence the exception.
var privateRanges = []networkingv1.IPBlock{
	{CIDR: "10.0.0.0/8"},
	{CIDR: "100.64.0.0/10"},
	{CIDR: "172.16.0.0/12"},
	{CIDR: "192.168.0.0/16"},
	{CIDR: "fc00::/7", Except: metadataAddresses[1:]},
}

// apiServerPorts are the ports API servers listen on behind the
// `kubernetes` Service: 6443 (kubeadm, kind, k3s) and 443 (GKE, EKS, AKS).
var apiServerPorts = []int32{443, 6443}

// clusterDNS selects the cluster's DNS Pods: CoreDNS (and kube-dns before
// it) keep the k8s-app=kube-dns label in kube-system on kubeadm, GKE, EKS
// and AKS. kubernetes.io/metadata.name is set by the API server on every
// namespace and cannot be forged.
func clusterDNS() []networkingv1.NetworkPolicyPeer {
	return []networkingv1.NetworkPolicyPeer{
		{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		},
		// NodeLocal DNSCache answers on this link-local address on every
		// node where it runs; Pods then send their queries there.
		{IPBlock: &networkingv1.IPBlock{CIDR: "169.254.20.10/32"}},
	}
}

// apiServerEgress is the egress rule to the API server, which the servers
// call for Kubernetes discovery: exactly the observed endpoints of the
// `kubernetes` Service when the caller passed them, else the documented
// fallback — the API server ports on private ranges only, which keeps the
// servers off the internet and the metadata endpoints while discovery
// works wherever the API server is reached on a private address (every
// managed offering from inside the cluster network, kubeadm, kind).
func apiServerEgress(env Environment) []networkingv1.NetworkPolicyEgressRule {
	if len(env.APIServer) == 0 {
		var to []networkingv1.NetworkPolicyPeer
		for _, b := range privateRanges {
			to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: b.CIDR, Except: b.Except}})
		}
		return []networkingv1.NetworkPolicyEgressRule{{To: to, Ports: npPorts(tcp, apiServerPorts...)}}
	}
	// One rule per port: a rule admits every listed peer on every listed
	// port, so grouping all endpoints under all ports would open more
	// than was observed.
	byPort := map[uint16][]networkingv1.NetworkPolicyPeer{}
	var ports []uint16
	for _, e := range env.APIServer {
		bits := 32
		if e.Addr().Is6() {
			bits = 128
		}
		if _, ok := byPort[e.Port()]; !ok {
			ports = append(ports, e.Port())
		}
		byPort[e.Port()] = append(byPort[e.Port()], networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(e.Addr(), bits).String()}})
	}
	slices.Sort(ports)
	var out []networkingv1.NetworkPolicyEgressRule
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyEgressRule{To: byPort[p], Ports: npPorts(tcp, int32(p))})
	}
	return out
}

// bundledPlugins ship inside the image: per the Operations Manual
// (Configure plugins → Overview), APOC Core is in labs/ and GenAI, Bloom
// and Graph Data Science are in products/, which the image entrypoint
// copies into /plugins. The others in the schema's list (apoc-extended,
// n10s) it downloads.
var bundledPlugins = []string{"apoc", "bloom", "genai", "graph-data-science"}

// downloadsPlugins reports whether the image entrypoint will fetch a
// plugin from the internet when the server starts.
func downloadsPlugins(c *clusterfile.Cluster) bool {
	for _, p := range c.Spec.Plugins {
		if !slices.Contains(bundledPlugins, p) {
			return true
		}
	}
	return false
}

// networkPolicy denies by default and then allows, for the servers of the
// cluster:
//   - client ports (Bolt, HTTP, HTTPS) from allowedClients, or from the
//     cluster's namespace when none are listed (a policy that silently
//     let in the whole cluster network would be worse than none; one that
//     shut out every application would be turned off by the first user);
//   - Bolt from `neo4jctl watch`'s Pods in the cluster's namespace, which
//     observe and enforce through it whoever the clients are;
//   - cluster ports only from the cluster's own servers;
//   - the backup port only from backupClients and from neo4jctl's backup
//     Jobs (app.kubernetes.io/component: neo4jctl-backup, this namespace):
//     6362 can copy the whole store;
//   - the metrics port only from metricsClients (Prometheus, wherever it
//     runs), or from the cluster's namespace when none are listed: a
//     policy must not guess where Prometheus runs;
//   - egress: DNS to the cluster's DNS only, the cluster ports of the
//     other servers, the API server (see apiServerEgress) and, only when
//     the file lists a plugin the image entrypoint downloads (see
//     bundledPlugins), HTTPS anywhere but the metadata endpoints.
func networkPolicy(c *clusterfile.Cluster, namespace string, env Environment) *networkingv1.NetworkPolicy {
	np := c.Spec.Security.NetworkPolicy
	members := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: ClusterSelector(c)}}}
	ownNamespace := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}

	clientPorts := []int32{PortBolt, PortHTTP}
	if tlsScope(c, "https") {
		clientPorts = []int32{PortBolt, PortHTTPS} // plain HTTP is off (config.go)
	}
	clients := peers(np.AllowedClients)
	if len(clients) == 0 {
		clients = ownNamespace
	}
	ingress := []networkingv1.NetworkPolicyIngressRule{
		{From: clients, Ports: npPorts(tcp, clientPorts...)},
		{
			From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelName: WatchAppName}}}},
			Ports: npPorts(tcp, PortBolt),
		},
	}
	egress := []networkingv1.NetworkPolicyEgressRule{{
		To:    clusterDNS(),
		Ports: slices.Concat(npPorts(udp, 53), npPorts(tcp, 53)),
	}}

	if isEnterprise(c) {
		clusterPorts := []int32{PortCluster, PortRaft, PortRouting}
		if !isCalVer(c.Spec.Version) {
			clusterPorts = append(clusterPorts, PortDiscovery)
		}
		slices.Sort(clusterPorts)
		ingress = append(ingress,
			networkingv1.NetworkPolicyIngressRule{From: members, Ports: npPorts(tcp, clusterPorts...)},
			networkingv1.NetworkPolicyIngressRule{
				From: append([]networkingv1.NetworkPolicyPeer{{
					PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelComponent: BackupComponent}},
				}}, peers(np.BackupClients)...),
				Ports: npPorts(tcp, PortBackup),
			},
		)
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: members, Ports: npPorts(tcp, clusterPorts...)})
		// Kubernetes discovery (dbms.cluster.discovery.resolver_type=K8S)
		// lists Services through the API server; Community runs no
		// discovery and gets no route to it.
		egress = append(egress, apiServerEgress(env)...)
	}
	if metricsEnabled(c) {
		scrapers := peers(np.MetricsClients)
		if len(scrapers) == 0 {
			scrapers = ownNamespace
		}
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: scrapers, Ports: npPorts(tcp, metricsPort(c))})
	}
	if downloadsPlugins(c) {
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: metadataAddresses[:1]}},
				{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: metadataAddresses[1:]}},
			},
			Ports: npPorts(tcp, 443),
		})
	}

	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: objectMeta(c, namespace, c.Metadata.Name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: ClusterSelector(c)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     ingress,
			Egress:      egress,
		},
	}
}

// serviceMonitor is built as unstructured: the Prometheus Operator types
// are not worth a module dependency for one object.
func serviceMonitor(c *clusterfile.Cluster, namespace string) *unstructured.Unstructured {
	meta := objectMeta(c, namespace, c.Metadata.Name)
	maps.Copy(meta.Labels, c.Spec.Monitoring.ServiceMonitor.Labels)
	endpoint := map[string]any{"port": PortNameMetrics, "path": "/metrics", "scheme": "http"}
	if iv := c.Spec.Monitoring.ServiceMonitor.Interval; iv != "" {
		endpoint["interval"] = iv
	}
	obj := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata":   metaMap(meta),
		"spec": map[string]any{
			// The headless Service lists every server, Ready or not,
			// so a member stuck joining is still scraped.
			"selector": map[string]any{"matchLabels": stringMap(map[string]string{
				LabelCluster: c.Metadata.Name,
				LabelService: serviceRoleHeadless,
			})},
			"namespaceSelector": map[string]any{"matchNames": []any{namespace}},
			"endpoints":         []any{endpoint},
		},
	}
	return &unstructured.Unstructured{Object: obj}
}

// certificate asks cert-manager for one certificate valid for the client
// Service, the headless Service and every server's Pod name (a wildcard,
// so scaling out needs no reissue).
func certificate(c *clusterfile.Cluster, namespace string) *unstructured.Unstructured {
	cm := c.Spec.TLS.CertManager
	client, headless := ClientServiceName(c), HeadlessServiceName(c)
	names := []string{
		client,
		fmt.Sprintf("%s.%s", client, namespace),
		fmt.Sprintf("%s.%s.svc", client, namespace),
		fmt.Sprintf("%s.%s.svc.%s", client, namespace, ClusterDomain),
		fmt.Sprintf("%s.%s.svc.%s", headless, namespace, ClusterDomain),
		fmt.Sprintf("*.%s.%s.svc.%s", headless, namespace, ClusterDomain),
	}
	names = append(names, cm.DNSNames...)
	var dns []any
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			dns = append(dns, n)
		}
	}
	kind := cm.IssuerRef.Kind
	if kind == "" {
		kind = "Issuer"
	}
	obj := map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Certificate",
		"metadata":   metaMap(objectMeta(c, namespace, c.Metadata.Name+"-tls")),
		"spec": map[string]any{
			"secretName": TLSSecretName(c),
			"dnsNames":   dns,
			"issuerRef":  map[string]any{"name": cm.IssuerRef.Name, "kind": kind, "group": "cert-manager.io"},
			// Neo4j reads PKCS#8 keys; a fresh key on each renewal.
			"privateKey": map[string]any{"algorithm": "RSA", "size": int64(2048), "encoding": "PKCS8", "rotationPolicy": "Always"},
			// Cluster and backup policies require client certificates,
			// and the servers present this one to each other.
			"usages": []any{"server auth", "client auth", "digital signature", "key encipherment"},
		},
	}
	return &unstructured.Unstructured{Object: obj}
}

func metaMap(m metav1.ObjectMeta) map[string]any {
	out := map[string]any{"name": m.Name, "namespace": m.Namespace}
	if len(m.Labels) > 0 {
		out["labels"] = stringMap(m.Labels)
	}
	if len(m.Annotations) > 0 {
		out["annotations"] = stringMap(m.Annotations)
	}
	return out
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
