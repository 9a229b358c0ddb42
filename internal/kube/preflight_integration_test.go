package kube_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestPreflightSharesClusterScopedReads: the clusters of a fleet ask the
// same cluster-scoped question (does StorageClass "no-such-class" exist?) at
// once; one client asks the API server once and gives every preflight the
// same answer — here that the class is missing.
func TestPreflightSharesClusterScopedReads(t *testing.T) {
	env := sharedEnvOrSkip(t)
	_, _, ns := setup(t)
	ctx := testContext(t)
	var scReads atomic.Int32
	cfg := env.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.Contains(r.URL.Path, "/storageclasses") {
				scReads.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sts := strings.ReplaceAll(strings.ReplaceAll(stsYAML, "%CPU%", "1"), "storageClassName: standard", "storageClassName: no-such-class")
	desired := objs(t, ns, sts)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pf := c.Preflight(ctx, desired, ns, kube.PreflightOptions{})
			found := false
			for _, m := range pf.Missing {
				found = found || strings.Contains(m.Problem, "StorageClass no-such-class does not exist")
			}
			if !found {
				t.Errorf("preflight does not report the missing StorageClass: %+v", pf)
			}
		}()
	}
	wg.Wait()
	if n := scReads.Load(); n != 1 {
		t.Errorf("6 preflights read StorageClasses %d times, want 1", n)
	}
}
