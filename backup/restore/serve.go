package restore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Serve serves one file of dir over HTTP at /<file> until ctx ends: the
// seed a cluster's servers download (Neo4j's URLConnectionSeedProvider
// reads http: URIs, Operations Manual 5.26,
// database-administration/standard-databases/seed-from-uri.adoc). Nothing
// else in dir is reachable, and /healthz answers 200 only once the file
// is there, so the seed Pod is Ready only when the seed is complete. The
// NetworkPolicy in front of it admits only the cluster's server Pods.
func Serve(ctx context.Context, l net.Listener, dir, file string) error {
	if file == "" || strings.ContainsAny(file, "/\\") || file == "." || file == ".." {
		return fmt.Errorf("serve: %q is not a file name", file)
	}
	path := filepath.Join(dir, file)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			http.Error(w, "seed not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /"+file, func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, "seed not ready", http.StatusServiceUnavailable)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, file, fi.ModTime(), f)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}
