package manifests_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestPlainHTTPOffWithHTTPS: least exposure by default. With TLS on and
// HTTPS among its scopes, the rendered neo4j.conf turns plain HTTP (7474)
// off (Operations Manual security/ssl-framework.adoc § Configure SSL over
// HTTPS); without HTTPS it stays on, or there would be no HTTP endpoint at
// all. While it is off no probe asks 7474 and the container does not
// declare it.
func TestPlainHTTPOffWithHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    *clusterfile.TLS
		wantOn bool
	}{
		{"no TLS", nil, true},
		{"bolt only", &clusterfile.TLS{SecretName: "g-certs", Scopes: []string{"bolt"}}, true},
		{"default scopes (bolt, https)", &clusterfile.TLS{SecretName: "g-certs"}, false},
		{"https", &clusterfile.TLS{SecretName: "g-certs", Scopes: []string{"https"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enterprise()
			c.Spec.TLS = tc.tls
			clusterfile.Default(c)
			objs := render(t, c)
			text := conf(t, objs)
			want := "server.http.enabled=false"
			if tc.wantOn {
				want = "server.http.enabled=true"
			}
			if !strings.Contains(text, want+"\n") {
				t.Errorf("neo4j.conf lacks %s:\n%s", want, text)
			}
			for _, o := range objs {
				if o.GetKind() != "StatefulSet" {
					continue
				}
				var sts appsv1.StatefulSet
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &sts); err != nil {
					t.Fatal(err)
				}
				for _, ctr := range sts.Spec.Template.Spec.Containers {
					if tc.wantOn {
						continue
					}
					for _, port := range ctr.Ports {
						if port.ContainerPort == manifests.PortHTTP || port.Name == manifests.PortNameHTTP {
							t.Errorf("%s: container %s declares port %d with plain HTTP off", o.GetName(), ctr.Name, port.ContainerPort)
						}
					}
					for _, p := range []*corev1.Probe{ctr.StartupProbe, ctr.LivenessProbe, ctr.ReadinessProbe} {
						if p == nil {
							continue
						}
						if h := p.HTTPGet; h != nil && (h.Port.IntValue() == int(manifests.PortHTTP) || h.Port.String() == manifests.PortNameHTTP) {
							t.Errorf("%s: container %s probes plain HTTP 7474", o.GetName(), ctr.Name)
						}
						if s := p.TCPSocket; s != nil && (s.Port.IntValue() == int(manifests.PortHTTP) || s.Port.String() == manifests.PortNameHTTP) {
							t.Errorf("%s: container %s probes port 7474", o.GetName(), ctr.Name)
						}
					}
				}
			}
		})
	}
}
