package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestConnectVerifiesTLS is issue 12 item 8 end to end with the real
// driver: the quickstart cluster with spec.tls, its TLS Secret on the test
// control plane holding ca.crt as cert-manager fills it, and the simulator
// serving Bolt over TLS with a certificate for the servers' Pod DNS names.
// The right CA (from the Secret or --neo4j-ca-file) connects; a Secret
// whose ca.crt is another CA is refused with an error that says what was
// checked and names the fix; skipping verification connects, and says so.
func TestConnectVerifiesTLS(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	tg := quickstartIn(t, ns)
	tg.Cluster.Spec.TLS = &clusterfile.TLS{SecretName: "quickstart-tls", Scopes: []string{"bolt", "https"}}
	pools := manifests.Pools(tg.Cluster)
	headless := strings.SplitN(manifests.PodDNSName(tg.Cluster, ns, pools[0].Name, 0), ".", 2)[1]

	pki, err := neo4jsim.NewTestPKI("*." + headless)
	if err != nil {
		t.Fatal(err)
	}
	other, err := neo4jsim.NewTestPKI("*." + headless)
	if err != nil {
		t.Fatal(err)
	}
	var advertised []string
	for i := range int(pools[0].Servers) {
		advertised = append(advertised, manifests.BoltAddress(tg.Cluster, ns, pools[0].Name, i))
	}
	const password = "tls-test-password"
	sim, err := neo4jsim.Start(neo4jsim.Config{Password: password, Advertised: advertised, TLS: pki.Server, Servers: len(advertised)})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	putSecret := func(ca []byte) {
		t.Helper()
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls", Namespace: ns},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: pki.CertPEM, corev1.TLSPrivateKeyKey: pki.KeyPEM, "ca.crt": ca},
		}
		_ = cs.CoreV1().Secrets(ns).Delete(ctx, s.Name, metav1.DeleteOptions{})
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	connect := func(acc Neo4jAccess) error {
		t.Helper()
		acc.PasswordFile, acc.AddressMap, acc.ConnectTimeout = pwFile, sim.AddressMap(), 2*time.Second
		c, closeFn, err := acc.Connect(ctx, kc, tg)
		if err == nil {
			if _, _, err = c.Components(ctx); err != nil {
				t.Errorf("connected, but a read failed: %v", err)
			}
			closeFn()
		}
		return err
	}

	t.Run("ca.crt of the Secret", func(t *testing.T) {
		putSecret(pki.CAPEM)
		if err := connect(Neo4jAccess{}); err != nil {
			t.Errorf("got %v, want a verified connection", err)
		}
	})
	t.Run("another CA in the Secret", func(t *testing.T) {
		putSecret(other.CAPEM)
		err := connect(Neo4jAccess{})
		if err == nil {
			t.Fatal("connected to servers whose certificate the Secret's CA did not sign; want a refusal")
		}
		msg := err.Error()
		for _, want := range []string{"not trusted", "ca.crt of Secret " + ns + "/quickstart-tls", "--neo4j-ca-file", "--neo4j-insecure-skip-tls-verify"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if !neo4j.IsCertificateError(err) {
			t.Errorf("error %v is not a certificate error", err)
		}
		if strings.Contains(msg, password) {
			t.Errorf("error holds the password: %q", msg)
		}
	})
	t.Run("--neo4j-ca-file wins over the Secret", func(t *testing.T) {
		putSecret(other.CAPEM)
		if err := connect(Neo4jAccess{CACertPEM: pki.CAPEM}); err != nil {
			t.Errorf("got %v, want a connection verified against the given CA", err)
		}
	})
	t.Run("skip verification", func(t *testing.T) {
		putSecret(other.CAPEM)
		warned := 0
		if err := connect(Neo4jAccess{InsecureSkipTLSVerify: true, OnUnverifiedTLS: func() { warned++ }}); err != nil {
			t.Errorf("got %v, want an unverified connection", err)
		}
		if warned == 0 {
			t.Error("connected without verifying and without a warning")
		}
	})
	t.Run("+ssc URI without the flag", func(t *testing.T) {
		err := connect(Neo4jAccess{URI: "neo4j+ssc://" + advertised[0]})
		if err == nil || !strings.Contains(err.Error(), "--neo4j-insecure-skip-tls-verify") {
			t.Errorf("got %v, want a refusal naming --neo4j-insecure-skip-tls-verify", err)
		}
	})
}
