package manifests_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestServiceDeclaresNoPlainHTTPWithHTTPS: with HTTPS on, Neo4j does not
// listen on 7474 (server.http.enabled=false, see TestPlainHTTPOffWithHTTPS),
// so the client Service does not offer it and the NetworkPolicy does not
// admit clients to it; without HTTPS both keep 7474.
func TestServiceDeclaresNoPlainHTTPWithHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tls       *clusterfile.TLS
		wantHTTP  bool
		wantHTTPS bool
	}{
		{"no TLS", nil, true, false},
		{"bolt only", &clusterfile.TLS{SecretName: "g-certs", Scopes: []string{"bolt"}}, true, false},
		{"default scopes (bolt, https)", &clusterfile.TLS{SecretName: "g-certs"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enterprise()
			c.Spec.TLS = tc.tls
			clusterfile.Default(c)
			for _, o := range render(t, c) {
				var ports []int32
				switch o.GetKind() {
				case "Service":
					var svc corev1.Service
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &svc); err != nil {
						t.Fatal(err)
					}
					if svc.Spec.ClusterIP == corev1.ClusterIPNone {
						continue // the headless Service: the servers' own addresses
					}
					for _, p := range svc.Spec.Ports {
						ports = append(ports, p.Port)
					}
				case "NetworkPolicy":
					var np networkingv1.NetworkPolicy
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &np); err != nil {
						t.Fatal(err)
					}
					for _, r := range np.Spec.Ingress {
						for _, p := range r.Ports {
							if p.Port != nil {
								ports = append(ports, int32(p.Port.IntValue()))
							}
						}
					}
				default:
					continue
				}
				if got := slices.Contains(ports, manifests.PortHTTP); got != tc.wantHTTP {
					t.Errorf("%s %s: port 7474 declared %v, want %v (ports %v)", o.GetKind(), o.GetName(), got, tc.wantHTTP, ports)
				}
				if got := slices.Contains(ports, manifests.PortHTTPS); got != tc.wantHTTPS {
					t.Errorf("%s %s: port 7473 declared %v, want %v (ports %v)", o.GetKind(), o.GetName(), got, tc.wantHTTPS, ports)
				}
			}
		})
	}
}
