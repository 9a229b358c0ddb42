package neo4j

import (
	"context"
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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMapResolver(t *testing.T) {
	r := MapResolver(map[string]string{
		"neo4j-0.neo4j.ns.svc.cluster.local:7687": "127.0.0.1:40001",
		"neo4j-1.neo4j.ns.svc.cluster.local:7687": "127.0.0.1:40002",
	})
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "known", in: "neo4j-0.neo4j.ns.svc.cluster.local:7687", want: "127.0.0.1:40001"},
		{name: "other known", in: "neo4j-1.neo4j.ns.svc.cluster.local:7687", want: "127.0.0.1:40002"},
		{name: "unknown passes through", in: "neo4j-2.neo4j.ns.svc.cluster.local:7687", want: "neo4j-2.neo4j.ns.svc.cluster.local:7687"},
		{name: "port matters", in: "neo4j-0.neo4j.ns.svc.cluster.local:7688", want: "neo4j-0.neo4j.ns.svc.cluster.local:7688"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientResolve(t *testing.T) {
	tests := []struct {
		name     string
		resolver Resolver
		in       string
		want     string
	}{
		{name: "no resolver", in: "a:7687", want: "a:7687"},
		{name: "mapped", resolver: MapResolver(map[string]string{"a:7687": "127.0.0.1:1"}), in: "a:7687", want: "127.0.0.1:1"},
		{name: "bare host gets the bolt port", resolver: func(string) string { return "10.0.0.1" }, in: "a:7687", want: "10.0.0.1:7687"},
		{name: "empty answer keeps the address", resolver: func(string) string { return "" }, in: "a:7687", want: "a:7687"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{cfg: Config{Resolver: tt.resolver}}
			if got := c.resolve(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseURI(t *testing.T) {
	type parsed struct {
		Security, Initial, Query string
		Routing                  bool
	}
	tests := []struct {
		name    string
		uri     string
		want    parsed
		wantErr bool
	}{
		{name: "bolt default port", uri: "bolt://db.example", want: parsed{Initial: "db.example:7687"}},
		{name: "bolt+s", uri: "bolt+s://db.example:7777", want: parsed{Security: "+s", Initial: "db.example:7777"}},
		{name: "bolt+ssc", uri: "bolt+ssc://10.0.0.1:7687", want: parsed{Security: "+ssc", Initial: "10.0.0.1:7687"}},
		{name: "neo4j", uri: "neo4j://db.example", want: parsed{Routing: true, Initial: "db.example:7687"}},
		{name: "neo4j+s with routing context", uri: "neo4j+s://db.example?region=eu", want: parsed{Routing: true, Security: "+s", Initial: "db.example:7687", Query: "region=eu"}},
		{name: "neo4j+ssc ipv6", uri: "neo4j+ssc://[::1]:7687", want: parsed{Routing: true, Security: "+ssc", Initial: "[::1]:7687"}},
		{name: "empty", uri: "", wantErr: true},
		{name: "http", uri: "http://db.example", wantErr: true},
		{name: "bad security suffix", uri: "bolt+x://db.example", wantErr: true},
		{name: "no host", uri: "bolt://", wantErr: true},
		{name: "user info", uri: "bolt://neo4j:pw@db.example", wantErr: true},
		{name: "path", uri: "bolt://db.example/db", wantErr: true},
		{name: "routing context on bolt", uri: "bolt://db.example?x=1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{}
			err := c.parseURI(tt.uri)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := parsed{Security: c.security, Initial: c.initial, Query: c.query, Routing: c.routing}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPasswordNeverInErrors drives every path that can fail before or while
// connecting and requires that no error text carries the password.
func TestPasswordNeverInErrors(t *testing.T) {
	const pw = "hunter2-S3cret!"
	closed := closedPort(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "password in URI", cfg: Config{URI: "bolt://neo4j:" + pw + "@db.example", Password: pw}},
		{name: "unparsable URI with password", cfg: Config{URI: "bolt://neo4j:" + pw + "@db example%zz", Password: pw}},
		{name: "unreachable server", cfg: Config{URI: "bolt://" + closed, Username: "neo4j", Password: pw, ConnectTimeout: time.Second}},
		{name: "unreachable via resolver", cfg: Config{
			URI: "neo4j://neo4j-0.example:7687", Username: "neo4j", Password: pw, ConnectTimeout: time.Second,
			Resolver: MapResolver(map[string]string{"neo4j-0.example:7687": closed}),
		}},
		{name: "bad CA", cfg: Config{URI: "bolt+s://db.example", Password: pw, CACertPEM: []byte("not pem " + pw)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Open(ctx, tt.cfg)
			if err == nil {
				_ = c.Close(ctx)
				t.Fatalf("got a client, want an error")
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
				if strings.Contains(s, pw) {
					t.Errorf("got the password in %q", s)
				}
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{URI: "bolt://" + closedPort(t), Password: "x", ConnectTimeout: time.Second})
	if got := ClassOf(err); got != KindUnreachable {
		t.Errorf("got kind %v (%v), want unreachable", got, err)
	}
}

// TestRetries checks that idempotent statements are retried with growing,
// capped delays and reported through OnRetry, and that non-idempotent ones
// are sent once.
func TestRetries(t *testing.T) {
	closed := closedPort(t)
	newTestClient := func(t *testing.T, retries *[]int, delays *[]time.Duration) *Client {
		t.Helper()
		c, err := newClient(Config{
			URI: "bolt://" + closed, Password: "x", ConnectTimeout: time.Second,
			MaxTransactionRetryTime: 2 * time.Second,
			OnRetry: func(attempt int, err error) {
				if !IsUnreachable(err) {
					t.Errorf("got retry for %v, want only unreachable errors", err)
				}
				*retries = append(*retries, attempt)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.sleep = func(_ context.Context, d time.Duration) error {
			*delays = append(*delays, d)
			return nil
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	ctx := context.Background()

	t.Run("idempotent", func(t *testing.T) {
		var retries []int
		var delays []time.Duration
		c := newTestClient(t, &retries, &delays)
		err := c.EnableServer(ctx, "id-1", ServerOptions{})
		if !IsUnreachable(err) {
			t.Fatalf("got %v, want an unreachable error", err)
		}
		// 200, 400, 800, 1600 ms (±20 %) fit in 2 s; 3200 ms does not.
		if diff := cmp.Diff([]int{1, 2, 3, 4}, retries); diff != "" {
			t.Errorf("retry attempts (-want +got):\n%s", diff)
		}
		for i, d := range delays {
			base := retryBaseDelay << i
			if d < base*8/10 || d > base*12/10 {
				t.Errorf("delay %d: got %v, want %v ±20%%", i, d, base)
			}
		}
	})

	t.Run("non-idempotent sent once", func(t *testing.T) {
		var retries []int
		var delays []time.Duration
		c := newTestClient(t, &retries, &delays)
		for name, call := range map[string]func() error{
			"drop server":     func() error { return c.DropServer(ctx, "id-1") },
			"deallocate":      func() error { _, err := c.DeallocateServers(ctx, false, "id-1"); return err },
			"reallocate":      func() error { _, err := c.ReallocateDatabases(ctx, false); return err },
			"create database": func() error { return c.CreateDatabase(ctx, "sales", CreateDatabase{}) },
			"drop database":   func() error { return c.DropDatabase(ctx, "sales", DropDatabase{}) },
		} {
			if err := call(); !IsUnreachable(err) {
				t.Errorf("%s: got %v, want an unreachable error", name, err)
			}
		}
		if len(retries) != 0 || len(delays) != 0 {
			t.Errorf("got retries %v, want none", retries)
		}
	})

	t.Run("bad input sends nothing", func(t *testing.T) {
		var retries []int
		var delays []time.Duration
		c := newTestClient(t, &retries, &delays)
		err := c.CreateDatabase(ctx, "bad name", CreateDatabase{})
		if err == nil || IsUnreachable(err) {
			t.Errorf("got %v, want an input error before any connection", err)
		}
	})

	t.Run("canceled context stops retrying", func(t *testing.T) {
		var retries []int
		var delays []time.Duration
		c := newTestClient(t, &retries, &delays)
		cctx, cancel := context.WithCancel(ctx)
		c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
		err := c.CordonServer(cctx, "id-1")
		if ClassOf(err) != KindCanceled {
			t.Errorf("got %v, want a canceled error", err)
		}
		if len(retries) != 1 {
			t.Errorf("got %d retries, want 1", len(retries))
		}
	})
}

// TestTLSVerifiesAdvertisedName connects through a resolver to a TLS
// listener whose certificate names only the advertised host: the handshake
// must succeed for that host and fail for any other name.
func TestTLSVerifiesAdvertisedName(t *testing.T) {
	caPEM, serverCert := testCertificates(t, "neo4j-0.example")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	handshakes := make(chan error, 64)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			handshakes <- conn.(*tls.Conn).Handshake()
			_ = conn.Close() // no Bolt: the client fails after TLS
		}
	}()
	tests := []struct {
		name          string
		advertised    string
		wantHandshake bool
	}{
		{name: "advertised name in certificate", advertised: "neo4j-0.example:7687", wantHandshake: true},
		{name: "other name", advertised: "neo4j-1.example:7687", wantHandshake: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for len(handshakes) > 0 {
				<-handshakes
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := Open(ctx, Config{
				URI: "neo4j+s://" + tt.advertised, Password: "x", CACertPEM: caPEM, ConnectTimeout: time.Second,
				Resolver: MapResolver(map[string]string{tt.advertised: ln.Addr().String()}),
			})
			if err == nil {
				t.Fatalf("got a client from a listener that speaks no Bolt")
			}
			select {
			case herr := <-handshakes:
				if ok := herr == nil; ok != tt.wantHandshake {
					t.Errorf("got handshake ok %v (%v), want %v", ok, herr, tt.wantHandshake)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("got no connection, want one (error %v)", err)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// testCertificates makes a CA and a server certificate for host.
func testCertificates(t *testing.T, host string) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
