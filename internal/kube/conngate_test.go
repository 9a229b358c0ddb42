package kube

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConnGateSharesTheFirstConnection: requests started together over
// HTTP/2 share one connection behind the gate (Go's transport would dial
// one per request until the first handshake has told it HTTP/2).
func TestConnGateSharesTheFirstConnection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gated bool
	}{{"gated", true}, {"ungated", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ProtoMajor != 2 {
					t.Errorf("request over %s, want HTTP/2", r.Proto)
				}
			}))
			srv.EnableHTTP2 = true
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.StartTLS()
			defer srv.Close()
			rt := srv.Client().Transport
			if tc.gated {
				rt = newConnGate(rt)
			}
			client := &http.Client{Transport: rt}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := client.Get(srv.URL)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}()
			}
			close(start)
			wg.Wait()
			n := conns.Load()
			if tc.gated && n != 1 {
				t.Errorf("16 requests through the gate opened %d connections, want 1", n)
			}
			t.Logf("%s: %d connections for 16 concurrent requests", tc.name, n)
		})
	}
}
