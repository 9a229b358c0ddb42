package restore

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestServeOnlyTheSeed: /healthz is 503 until the seed exists, then the
// seed is served whole; nothing else in the directory is reachable.
func TestServeOnlyTheSeed(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.backup"), []byte("not for you"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, dir, "neo4j.dump") }()
	base := "http://" + l.Addr().String()
	get := func(p string) (int, string) {
		t.Helper()
		r, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("healthz before the seed: %d, want 503", code)
	}
	if err := os.WriteFile(filepath.Join(dir, "neo4j.dump"), []byte("DUMPDATA"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("healthz with the seed: %d, want 200", code)
	}
	if code, body := get("/neo4j.dump"); code != http.StatusOK || body != "DUMPDATA" {
		t.Errorf("seed: %d %q", code, body)
	}
	for _, p := range []string{"/secret.backup", "/", "/../secret.backup", "/%2e%2e/secret.backup"} {
		if code, body := get(p); code == http.StatusOK {
			t.Errorf("GET %s: 200 %q, want refused", p, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
