package healthcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

func TestParseCertificates(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := now.Add(72 * time.Hour).Truncate(time.Second)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "prod"},
		NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
	}, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "prod"}}, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	// A private key block first (a bundle written carelessly) is skipped.
	data := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("x")}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	got, err := ParseCertificates("prod-tls", data)
	if err != nil || len(got) != 1 || !got[0].NotAfter.Equal(notAfter) || got[0].Subject != "CN=prod" {
		t.Fatalf("got %+v, %v; want one CN=prod certificate ending %s", got, err, notAfter)
	}
	if _, err := ParseCertificates("prod-tls", []byte("not pem")); err == nil {
		t.Error("garbage: got no error")
	}
}
