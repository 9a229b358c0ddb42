package kube

import (
	"context"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// APIServerSlice is the EndpointSlice the API server keeps for the
// `kubernetes` Service: named after the Service, in the default namespace
// (the API server's endpoint reconciler writes it; there is exactly one).
// It is read by name, so a Role may grant get on it alone.
var APIServerSlice = struct{ Namespace, Name string }{"default", "kubernetes"}

var endpointSlicesGVR = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}

// apiServerTTL is how long a Client reuses the API server's endpoints it
// read: a plan or apply reads them once; a long-running watch picks up a
// moved API server within this long without a request per cycle.
const apiServerTTL = 5 * time.Minute

type apiServerRead struct {
	mu  sync.Mutex
	at  time.Time
	eps []discoveryv1.EndpointSlice
	err error
}

// APIServerEndpointSlices returns the `kubernetes` Service's EndpointSlice
// (default/kubernetes), or none when it does not exist (a control plane
// that keeps no endpoints for it). An error (forbidden, unreachable) is
// the caller's to report: it then renders the documented fallback.
// Results are reused for apiServerTTL.
func (c *Client) APIServerEndpointSlices(ctx context.Context) ([]discoveryv1.EndpointSlice, error) {
	r := &c.apiServer
	r.mu.Lock()
	defer r.mu.Unlock()
	// A refusal is kept as long as an answer: RBAC changes rarely, and a
	// watch without the grant must not ask on every cycle. Other errors
	// are asked again.
	if !r.at.IsZero() && time.Since(r.at) < apiServerTTL && (r.err == nil || IsForbidden(r.err)) {
		return r.eps, r.err
	}
	var eps []discoveryv1.EndpointSlice
	err := c.retry(ctx, "get discovery.k8s.io/EndpointSlice/default/kubernetes", func(ctx context.Context) error {
		u, err := c.dyn.Resource(endpointSlicesGVR).Namespace(APIServerSlice.Namespace).Get(ctx, APIServerSlice.Name, metav1.GetOptions{})
		switch {
		case IsNotFound(err):
			eps = nil
			return nil
		case err != nil:
			return err
		}
		var s discoveryv1.EndpointSlice
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
			return err
		}
		eps = []discoveryv1.EndpointSlice{s}
		return nil
	})
	r.at, r.eps, r.err = time.Now(), eps, err
	return eps, err
}
