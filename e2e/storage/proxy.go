package storage

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to a request a Rule matches.
type Fault struct {
	// Status, when non-zero, answers the request with this status (and an
	// S3/XML-ish body) instead of forwarding it.
	Status int
	// ResetAfter, when non-zero, reads this many bytes of the request body,
	// then closes the client connection with a TCP reset: a connection lost
	// in the middle of an upload.
	ResetAfter int64
	// Delay is slept before the request is forwarded: a slow response.
	Delay time.Duration
	// Corrupt forwards the request and flips one bit of the first byte of
	// the response body: bytes damaged in transit or at rest.
	Corrupt bool
}

// Rule applies a Fault to the first Times requests that Match (nil: all).
type Rule struct {
	Match func(*http.Request) bool
	Times int
	Fault Fault
	hits  int
}

// Proxy is a reverse proxy to a storage server that injects faults.
type Proxy struct {
	URL string // http://127.0.0.1:PORT, to put in a storage URL
	// RewriteHost sends the server its own address as Host. Off by
	// default: S3 signatures cover the Host the client used. On for
	// fake-gcs-server, which routes XML-API reads by Host.
	RewriteHost bool
	target      *url.URL
	rp          *httputil.ReverseProxy
	srv         *httptest.Server

	mu       sync.Mutex
	rules    []*Rule
	requests []string // "METHOD path?query" of every request seen
	faults   int
}

// NewProxy starts a proxy in front of target (e.g. Server.Endpoint's host);
// the path of target is kept out: requests keep their own paths.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	p := &Proxy{target: u}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	// A client or server hanging up mid-request is what the faults cause:
	// not worth a log line each.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	// The Host header stays the proxy's: S3 signatures cover it, and the
	// client signed for the proxy's address.
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

// Add installs a rule; rules are tried in order, the first that still has
// hits left applies.
func (p *Proxy) Add(r Rule) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	rr := r
	p.rules = append(p.rules, &rr)
	return &rr
}

// Clear removes every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests returns every request line seen so far.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Faults is how many requests got a fault.
func (p *Proxy) Faults() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Hits is how many requests a rule has applied to.
func (p *Proxy) Hits(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.hits
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
	var f *Fault
	for _, rule := range p.rules {
		if rule.hits < rule.Times && (rule.Match == nil || rule.Match(r)) {
			rule.hits++
			p.faults++
			ff := rule.Fault
			f = &ff
			break
		}
	}
	p.mu.Unlock()
	if p.RewriteHost {
		r.Host = p.target.Host
	}
	if f == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f.ResetAfter > 0:
		_, _ = io.CopyN(io.Discard, r.Body, f.ResetAfter)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("storage proxy: cannot hijack")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		conn.Close()
	case f.Status != 0:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+codeFor(f.Status)+`</Code><Message>injected by the test proxy</Message></Error>`)
	case f.Corrupt:
		p.rp.ServeHTTP(&corruptingWriter{ResponseWriter: w}, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

type corruptingWriter struct {
	http.ResponseWriter
	done bool
}

func (c *corruptingWriter) Write(b []byte) (int, error) {
	if !c.done && len(b) > 0 {
		c.done = true
		b = append([]byte{b[0] ^ 0x01}, b[1:]...)
	}
	return c.ResponseWriter.Write(b)
}

func codeFor(status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "SlowDown"
	case http.StatusInternalServerError:
		return "InternalError"
	case http.StatusForbidden:
		return "AccessDenied"
	}
	return "InjectedError"
}

// IsUpload matches requests that carry object bytes (PUT with a body).
func IsUpload(r *http.Request) bool { return r.Method == http.MethodPut && r.ContentLength != 0 }

// IsGet matches GET requests.
func IsGet(r *http.Request) bool { return r.Method == http.MethodGet }
