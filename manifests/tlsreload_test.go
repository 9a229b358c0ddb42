package manifests_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestTLSReloadRendered: from 2025.03, Enterprise with TLS renders
// dbms.security.tls_reload_enabled=true (security/ssl-framework.adoc §
// Certificates rotation); 5.26, 2025.02, Community and no TLS do not.
// The certificate's fingerprint goes on the Pod template where the
// servers cannot reload (a renewal rolls them) and on the StatefulSet
// itself where they can (a renewal rolls nothing).
func TestTLSReloadRendered(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		community     bool
		tls           bool
		reload        bool
	}{
		{"2025.03 with TLS", "2025.03.0", false, true, true},
		{"2025.10 with TLS", "2025.10.1", false, true, true},
		{"2025.02 with TLS", "2025.02.0", false, true, false},
		{"5.26 with TLS", "5.26.0", false, true, false},
		{"2025.10 without TLS", "2025.10.1", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enterprise()
			c.Spec.Version = tc.version
			if tc.tls {
				c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs"}
			}
			clusterfile.Default(c)
			objs := render(t, c)
			text := conf(t, objs)
			if got := strings.Contains(text, manifests.SettingTLSReload+"=true\n"); got != tc.reload {
				t.Errorf("neo4j.conf has %s=true: %v, want %v\n%s", manifests.SettingTLSReload, got, tc.reload, text)
			}
			fp := manifests.TLSFingerprint(map[string][]byte{"tls.crt": []byte("cert"), "ca.crt": []byte("ca")})
			manifests.StampTLSCertificate(c, objs, fp)
			for _, o := range objs {
				if o.GetKind() != "StatefulSet" {
					continue
				}
				onSTS := o.GetAnnotations()[manifests.AnnotationTLSCertificate]
				tmpl, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations")
				onPods := tmpl[manifests.AnnotationTLSCertificate]
				switch {
				case !tc.tls && (onSTS != "" || onPods != ""):
					t.Errorf("without TLS a fingerprint was stamped (%q, %q)", onSTS, onPods)
				case tc.tls && tc.reload && (onSTS != fp || onPods != ""):
					t.Errorf("reloadable: fingerprint on the StatefulSet %q and the Pod template %q, want %q on the StatefulSet only", onSTS, onPods, fp)
				case tc.tls && !tc.reload && (onPods != fp || onSTS != ""):
					t.Errorf("not reloadable: fingerprint on the StatefulSet %q and the Pod template %q, want %q on the template only", onSTS, onPods, fp)
				}
			}
		})
	}
	if a, b := manifests.TLSFingerprint(map[string][]byte{"tls.crt": []byte("a")}), manifests.TLSFingerprint(map[string][]byte{"tls.crt": []byte("b")}); a == b {
		t.Errorf("two certificates have one fingerprint %s", a)
	}
}
