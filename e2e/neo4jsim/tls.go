package neo4jsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// tlsListener wraps a server's Bolt listener in TLS when Config.TLS is
// set. fact: bolt.tls — with server.bolt.tls_level=REQUIRED the Bolt
// connector accepts only encrypted connections: a client that speaks
// plaintext Bolt fails the handshake and is disconnected.
func (s *Simulator) tlsListener(ln net.Listener) net.Listener {
	if s.cfg.TLS == nil {
		return ln
	}
	return tls.NewListener(ln, s.cfg.TLS)
}

// PKI is a throwaway certificate authority and one server certificate it
// signed, laid out as cert-manager fills a kubernetes.io/tls Secret
// (tls.crt, tls.key, ca.crt).
type PKI struct {
	// CAPEM is the CA certificate (ca.crt).
	CAPEM []byte
	// CertPEM and KeyPEM are the server certificate and its PKCS#8 key
	// (tls.crt, tls.key).
	CertPEM, KeyPEM []byte
	// Server is a TLS configuration presenting the certificate, for
	// Config.TLS.
	Server *tls.Config
}

// NewTestPKI makes a CA and a server certificate valid for an hour for
// hosts: DNS names (wildcards such as *.neo4j-headless.ns.svc.cluster.local
// allowed) and IP addresses.
func NewTestPKI(hosts ...string) (*PKI, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "neo4jsim test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "neo4jsim"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	cert, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("neo4jsim: test certificate: %w", err)
	}
	p.Server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return p, nil
}
