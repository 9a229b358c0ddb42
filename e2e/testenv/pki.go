package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the paths of the generated key material. Everything is written
// once per environment, so restarts of a component reuse the same identity.
type pki struct {
	CACert, CAKey           string
	ServingCert, ServingKey string
	AdminCert, AdminKey     string
	SAKey, SAPub            string
	caPEM                   []byte
	adminCertPEM            []byte
	adminKeyPEM             []byte
	servingDNS              []string
	servingIPs              []net.IP
	certificateLifetime     time.Duration
	certificateNotBefore    time.Time
}

// apiserverDNSNames are the names in-cluster clients (and tools that copy a
// kubeconfig into a Pod) use for the API server.
var apiserverDNSNames = []string{
	"localhost",
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

// writePKI generates a CA, an API-server serving certificate (also used by
// kwok's kubelet endpoint, so the API server can verify it), an admin client
// certificate in system:masters and a service-account signing key pair.
func writePKI(dir string) (*pki, error) {
	p := &pki{
		CACert:               filepath.Join(dir, "ca.crt"),
		CAKey:                filepath.Join(dir, "ca.key"),
		ServingCert:          filepath.Join(dir, "serving.crt"),
		ServingKey:           filepath.Join(dir, "serving.key"),
		AdminCert:            filepath.Join(dir, "admin.crt"),
		AdminKey:             filepath.Join(dir, "admin.key"),
		SAKey:                filepath.Join(dir, "sa.key"),
		SAPub:                filepath.Join(dir, "sa.pub"),
		servingDNS:           apiserverDNSNames,
		servingIPs:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		certificateLifetime:  7 * 24 * time.Hour,
		certificateNotBefore: time.Now().Add(-time.Hour), // tolerate small clock skew
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "neo4jctl-testenv-ca"},
		NotBefore:             p.certificateNotBefore,
		NotAfter:              p.certificateNotBefore.Add(p.certificateLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(p.CACert, p.caPEM, 0o644); err != nil {
		return nil, err
	}
	if err := writeECKey(p.CAKey, caKey); err != nil {
		return nil, err
	}

	serving := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:     p.servingDNS,
		IPAddresses:  p.servingIPs,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, _, err := p.issue(serving, caCert, caKey, p.ServingCert, p.ServingKey); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}

	admin := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		// system:masters bypasses RBAC, which the bootstrap steps need before
		// any role exists; RBAC tests use ServiceAccountKubeconfig instead.
		Subject:     pkix.Name{CommonName: "neo4jctl-testenv-admin", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if p.adminCertPEM, p.adminKeyPEM, err = p.issue(admin, caCert, caKey, p.AdminCert, p.AdminKey); err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}

	// The API server only accepts RSA or ECDSA keys for service-account
	// tokens; RSA is what every tool that inspects tokens expects.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}), 0o600); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

// issue signs tmpl with the CA and writes the certificate and a fresh key.
func (p *pki) issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, certPath, keyPath string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore = p.certificateNotBefore
	tmpl.NotAfter = p.certificateNotBefore.Add(p.certificateLifetime)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return nil, nil, err
	}
	if err := writeECKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	keyPEM, err = os.ReadFile(keyPath)
	return certPEM, keyPEM, err
}

func writeECKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}
