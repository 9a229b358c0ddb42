package neo4j

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
)

// CertificateError says that a server's TLS certificate failed
// verification: it is not signed by a trusted CA, has expired, or does not
// name the host dialled. It is in the chain of the *Error Open returns, so
// a caller can tell "not trusted" (a configuration to fix) from "not
// reachable" (a server to wait for).
type CertificateError struct {
	// Host is the name the certificate had to match.
	Host string
	// Err is crypto/x509's reason.
	Err error
}

func (e *CertificateError) Error() string {
	return "the TLS certificate of " + e.Host + " is not trusted: " + e.Err.Error()
}

func (e *CertificateError) Unwrap() error { return e.Err }

// IsCertificateError reports whether err is, or wraps, a failed
// verification of a server certificate.
func IsCertificateError(err error) bool {
	var ce *CertificateError
	return errors.As(err, &ce)
}

// certCheck verifies server certificates itself rather than leaving it to
// the driver: the driver's TLS error type is internal and does not unwrap,
// so a failed verification would reach the caller as a bare connectivity
// error, indistinguishable from a server that is down. The last failure is
// kept for Open to report.
type certCheck struct {
	roots *x509.CertPool // nil: the system roots
	last  atomic.Pointer[CertificateError]
}

// verify checks the chain against the roots and the leaf against host
// (a DNS name or an IP address).
func (cc *certCheck) verify(host string, cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		err := &CertificateError{Host: host, Err: errors.New("the server sent no certificate")}
		cc.last.Store(err)
		return err
	}
	opts := x509.VerifyOptions{Roots: cc.roots, DNSName: host, Intermediates: x509.NewCertPool()}
	for _, cert := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(cert)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		ce := &CertificateError{Host: host, Err: err}
		cc.last.Store(ce)
		return ce
	}
	return nil
}
