package neo4j_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestOpenVerifiesCertificates runs Open against the simulator serving
// Bolt over TLS, without a resolver (the driver dials the URI's host, as
// watch does through the client Service) and through one (advertised Pod
// names mapped to loopback): the signing CA connects; another CA fails
// with a CertificateError that names the host, not as a bare "unreachable"
// a caller would wait on.
func TestOpenVerifiesCertificates(t *testing.T) {
	const adv = "neo4j-0.neo4j-headless.default.svc.cluster.local:7687"
	pki, err := neo4jsim.NewTestPKI("127.0.0.1", "*.neo4j-headless.default.svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	other, err := neo4jsim.NewTestPKI("127.0.0.1", "*.neo4j-headless.default.svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, neo4jsim.Config{Servers: 1, Advertised: []string{adv}, TLS: pki.Server})
	modes := map[string]neo4j.Config{
		"bolt+s by address":    {URI: sim.URI("bolt+s")},
		"neo4j+s via resolver": {URI: "neo4j+s://" + adv, Resolver: neo4j.MapResolver(sim.AddressMap())},
	}
	for name, base := range modes {
		for _, tc := range []struct {
			ca     string
			pem    []byte
			wantOK bool
		}{{"signing CA", pki.CAPEM, true}, {"another CA", other.CAPEM, false}} {
			t.Run(name+"/"+tc.ca, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cfg := base
				cfg.Username, cfg.Password, cfg.CACertPEM, cfg.ConnectTimeout = "neo4j", testPassword, tc.pem, 2*time.Second
				c, err := neo4j.Open(ctx, cfg)
				if tc.wantOK {
					if err != nil {
						t.Fatalf("signing CA: %v", err)
					}
					_ = c.Close(ctx)
					return
				}
				if err == nil {
					_ = c.Close(ctx)
					t.Fatal("another CA: connected; want refused")
				}
				if !neo4j.IsCertificateError(err) || !strings.Contains(err.Error(), "not trusted") {
					t.Errorf("another CA: got %v, want a certificate error saying not trusted", err)
				}
			})
		}
	}
}
