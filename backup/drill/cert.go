package drill

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// CheckCertificateNames checks that the first certificate of crt (a TLS
// Secret's tls.crt, PEM) is valid for every host: the names the drill's
// Bolt connections verify in the scratch namespace. The error names the
// Secret, the first host not covered and the fix; it never quotes the
// certificate.
func CheckCertificateNames(secret string, crt []byte, hosts []string) error {
	block, _ := pem.Decode(crt)
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("Secret %s: tls.crt holds no PEM certificate", secret)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("Secret %s: tls.crt: %w", secret, err)
	}
	for _, h := range hosts {
		if err := cert.VerifyHostname(h); err != nil {
			wildcard := h
			if i := strings.IndexByte(h, '.'); i > 0 {
				wildcard = "*" + h[i:]
			}
			return fmt.Errorf("the certificate in Secret %s is not valid for %s, the name the drill verifies Bolt against in the scratch namespace "+
				"(fix: add %s to the certificate — spec.tls.certManager.dnsNames, or the certificate you made — or issue it from a ClusterIssuer, "+
				"which issues the scratch namespace its own; or drill with --neo4j-insecure-skip-tls-verify)", secret, h, wildcard)
		}
	}
	return nil
}
