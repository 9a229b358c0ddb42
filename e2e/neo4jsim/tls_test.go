package neo4jsim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
)

// TestBoltOverTLS (fact: bolt.tls): with Config.TLS the real driver
// connects over bolt+s:// when it trusts the CA that signed the
// certificate, is refused over plaintext bolt:// (tls_level REQUIRED) and
// refuses a server whose certificate another CA signed; +ssc connects
// without checking.
func TestBoltOverTLS(t *testing.T) {
	pki, err := NewTestPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewTestPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := startSim(t, Config{Servers: 1, TLS: pki.Server})
	trust := func(caPEM []byte) func(*config.Config) {
		return func(c *config.Config) {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(caPEM)
			c.TlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
	}
	for _, tc := range []struct {
		name   string
		scheme string
		opts   []func(*config.Config)
		wantOK bool
	}{
		{"+s with the signing CA", "bolt+s", []func(*config.Config){trust(pki.CAPEM)}, true},
		{"+s with another CA", "bolt+s", []func(*config.Config){trust(other.CAPEM)}, false},
		{"plaintext", "bolt", nil, false},
		{"+ssc", "bolt+ssc", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := newDriver(t, s.URI(tc.scheme), testPassword, tc.opts...)
			err := d.VerifyConnectivity(ctx)
			if (err == nil) != tc.wantOK {
				t.Errorf("VerifyConnectivity: %v, want ok %v", err, tc.wantOK)
			}
		})
	}
}
