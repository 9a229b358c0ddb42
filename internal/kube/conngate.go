package kube

import (
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// connGate holds back a client's requests until its first one has a
// connection. Go's HTTP transport does not know a server speaks HTTP/2
// until a TLS handshake has said so; until then every concurrent request
// dials its own connection. A plan starts a dozen requests at once (a
// fleet plan hundreds), and each extra connection is a full TLS handshake
// with a client certificate: CPU on both sides, on the plan's critical
// path, for connections that are closed again at once. Behind the gate
// they all share the first connection. Only the first connection is gated;
// a client whose connection dropped later dials as Go always does.
type connGate struct {
	rt      http.RoundTripper
	started atomic.Bool
	once    sync.Once
	ready   chan struct{}
}

// gateTimeout bounds how long requests wait for the first connection.
const gateTimeout = 2 * time.Second

func newConnGate(rt http.RoundTripper) http.RoundTripper {
	return &connGate{rt: rt, ready: make(chan struct{})}
}

func (g *connGate) open() { g.once.Do(func() { close(g.ready) }) }

func (g *connGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if g.started.CompareAndSwap(false, true) {
		// The first request opens the gate as soon as it holds a
		// connection, or when it ends however it ends, or after
		// gateTimeout: a first request stuck before its connection (a
		// proxy that never answers) must not hold back the others.
		defer g.open()
		t := time.AfterFunc(gateTimeout, g.open)
		defer t.Stop()
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { g.open() }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		return g.rt.RoundTrip(req)
	}
	select {
	case <-g.ready:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return g.rt.RoundTrip(req)
}

// WrappedRoundTripper lets client-go's debugging wrappers see through.
func (g *connGate) WrappedRoundTripper() http.RoundTripper { return g.rt }
