package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// TestTLSVerifiedEndToEnd is issue 12 item 8 run as users run neo4jctl:
// the quickstart with spec.tls (Bolt) applied to the test control plane,
// its TLS Secret holding ca.crt as cert-manager fills it, and the
// simulator serving Bolt over TLS with a certificate that CA signed, for
// the servers' Pod names, reached through port-forwards. apply and drift
// verify against the Secret's CA; plan with another CA in --neo4j-ca-file
// is refused with the fix; --neo4j-insecure-skip-tls-verify connects and
// warns once on stderr.
func TestTLSVerifiedEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const password = "tls-e2e-password"
	f, dir := prepareQuickstart(t, ctx, password, func(s string) string {
		return strings.Replace(s, "  servers: 3\n", "  servers: 3\n  tls:\n    secretName: quickstart-tls\n    scopes: [bolt]\n", 1)
	})
	env := f.env
	pki, err := neo4jsim.NewTestPKI("*.quickstart-headless." + f.ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	other, err := neo4jsim.NewTestPKI("*.quickstart-headless." + f.ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls", Namespace: f.ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: pki.CertPEM, corev1.TLSPrivateKeyKey: pki.KeyPEM, "ca.crt": pki.CAPEM},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.sim, err = harness.StartSim(ctx, env, f.c, f.ns, password, neo4jsim.Config{TransitionDelay: 100 * time.Millisecond, TLS: pki.Server}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.sim.Close)
	kc := env.Kubeconfig
	pw := []string{"--neo4j-password-file", f.pwFile}

	if code, out, errOut := f.run(kc, append([]string{"apply", "-f", f.file, "--auto-approve"}, pw...)...); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	// Verified against ca.crt of the Secret: the Neo4j plane is read.
	f.eventually("in sync after apply", kc, inSync)

	otherCA := filepath.Join(dir, "other-ca.crt")
	if err := os.WriteFile(otherCA, other.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := f.run(kc, append([]string{"plan", "-f", f.file, "--neo4j-ca-file", otherCA, "--detailed-exitcode"}, pw...)...)
	// The plan reports the Neo4j plane as unreadable, with the reason.
	all := out + errOut
	if code != ExitError || !strings.Contains(all, "not trusted") || !strings.Contains(all, "--neo4j-ca-file") || !strings.Contains(all, "--neo4j-insecure-skip-tls-verify") || strings.Contains(all, "are the Pods Ready") {
		t.Errorf("plan with another CA: exit %d, stdout %q, stderr %q; want exit 1, the certificate not trusted and the fix", code, out, errOut)
	}

	code, out, errOut = f.run(kc, append([]string{"plan", "-f", f.file, "--neo4j-ca-file", otherCA, "--neo4j-insecure-skip-tls-verify", "--detailed-exitcode"}, pw...)...)
	if code != ExitOK || strings.Count(errOut, "--neo4j-insecure-skip-tls-verify: the Neo4j servers' TLS certificates are not verified") != 1 {
		t.Errorf("plan skipping verification: exit %d, stdout %q, stderr %q; want exit 0 (no changes) and the warning once", code, out, errOut)
	}
}
