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
			// A new cluster: stamped everywhere the rule puts it.
			manifests.StampTLS(c, objs, fp, nil)
			for _, o := range objs {
				if o.GetKind() != "StatefulSet" {
					continue
				}
				onSTS, onPods := stamps(o)
				switch {
				case !tc.tls && (onSTS != "" || onPods != ""):
					t.Errorf("without TLS a fingerprint was stamped (%q, %q)", onSTS, onPods)
				case tc.tls && tc.reload && (onSTS != fp || onPods != ""):
					t.Errorf("reloadable: fingerprint on the StatefulSet %q and the Pod template %q, want %q on the StatefulSet only", onSTS, onPods, fp)
				case tc.tls && !tc.reload && (onPods != fp || onSTS != fp):
					t.Errorf("not reloadable: fingerprint on the StatefulSet %q and the Pod template %q, want %q on both", onSTS, onPods, fp)
				}
			}
		})
	}
	if a, b := manifests.TLSFingerprint(map[string][]byte{"tls.crt": []byte("a")}), manifests.TLSFingerprint(map[string][]byte{"tls.crt": []byte("b")}); a == b {
		t.Errorf("two certificates have one fingerprint %s", a)
	}
}

func stamps(o *unstructured.Unstructured) (onSTS, onPods string) {
	tmpl, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations")
	return o.GetAnnotations()[manifests.AnnotationTLSCertificate], tmpl[manifests.AnnotationTLSCertificate]
}

// TestStampTLSFirstStampRollsNothing: the stamp a live StatefulSet gets
// depends on what it carries, so that only a change of certificate after
// a recorded baseline restarts (5.26) or reloads (2025.03+) servers. A
// StatefulSet without any stamp (created by a neo4jctl that did not stamp)
// gets its baseline recorded on its own metadata and no Pod-template
// change; a Secret that could not be read keeps the live stamp as it is.
func TestStampTLSFirstStampRollsNothing(t *testing.T) {
	const old, cur = "sha256:old", "sha256:new"
	for _, tc := range []struct {
		name, version, fp string
		live              manifests.TLSStampLive
		wantSTS, wantPods string
	}{
		{"5.26 new StatefulSet", "5.26.0", cur, manifests.TLSStampLive{}, cur, cur},
		{"5.26 upgraded from a binary that did not stamp", "5.26.0", cur, manifests.TLSStampLive{Exists: true}, cur, ""},
		{"5.26 baseline recorded, same certificate", "5.26.0", cur, manifests.TLSStampLive{Exists: true, Recorded: cur}, cur, ""},
		{"5.26 baseline recorded, certificate renewed", "5.26.0", cur, manifests.TLSStampLive{Exists: true, Recorded: old}, cur, cur},
		{"5.26 stamped template, same certificate", "5.26.0", cur, manifests.TLSStampLive{Exists: true, Recorded: cur, Template: cur}, cur, cur},
		{"5.26 stamped template, certificate renewed", "5.26.0", cur, manifests.TLSStampLive{Exists: true, Recorded: old, Template: old}, cur, cur},
		{"5.26 Secret unreadable keeps the live stamp", "5.26.0", "", manifests.TLSStampLive{Exists: true, Recorded: old, Template: old}, old, old},
		{"5.26 Secret unreadable, nothing live", "5.26.0", "", manifests.TLSStampLive{Exists: true}, "", ""},
		{"2025.10 upgraded from a binary that did not stamp", "2025.10.1", cur, manifests.TLSStampLive{Exists: true}, cur, ""},
		{"2025.10 certificate renewed", "2025.10.1", cur, manifests.TLSStampLive{Exists: true, Recorded: old}, cur, ""},
		{"2025.10 after an upgrade from a stamped 5.26", "2025.10.1", cur, manifests.TLSStampLive{Exists: true, Recorded: cur, Template: cur}, cur, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enterprise()
			c.Spec.Version = tc.version
			c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs"}
			clusterfile.Default(c)
			objs := render(t, c)
			// Stamped twice: the second stamp replaces the first.
			manifests.StampTLS(c, objs, "sha256:other", nil)
			manifests.StampTLS(c, objs, tc.fp, func(string) manifests.TLSStampLive { return tc.live })
			n := 0
			for _, o := range objs {
				if o.GetKind() != "StatefulSet" {
					continue
				}
				n++
				if onSTS, onPods := stamps(o); onSTS != tc.wantSTS || onPods != tc.wantPods {
					t.Errorf("%s: StatefulSet %q, Pod template %q; want %q, %q", o.GetName(), onSTS, onPods, tc.wantSTS, tc.wantPods)
				}
				if _, found, _ := unstructured.NestedMap(o.Object, "metadata", "annotations"); found && tc.wantSTS == "" && len(o.GetAnnotations()) == 0 {
					t.Errorf("%s: an empty metadata.annotations is left behind", o.GetName())
				}
			}
			if n == 0 {
				t.Fatal("no StatefulSet rendered")
			}
		})
	}
}
