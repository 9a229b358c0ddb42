package healthcheck

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// ParseCertificates reads the leaf certificate of a PEM bundle (a TLS
// Secret's tls.crt: the server certificate first, then its chain). Only the
// leaf's expiry decides: a chain certificate expires on the issuer's
// schedule, and cert-manager renews the leaf.
func ParseCertificates(secret string, data []byte) ([]Certificate, error) {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return []Certificate{{Secret: secret, Subject: c.Subject.String(), NotAfter: c.NotAfter}}, nil
	}
	return nil, errors.New("tls.crt holds no PEM certificate")
}
