package kube

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/flowcontrol"
)

// FieldManager is the server-side-apply field manager neo4jctl applies as.
const FieldManager = "neo4jctl"

// Defaults for Options. client-go's own 5 requests/s with bursts of 10 make a
// fleet plan (two requests per object: a GET and a dry run) crawl; even
// 50/100 held a 50-cluster plan to 19 s where the server answered in under
// 2 s (docs/benchmarks.md). The API server protects itself with API Priority
// and Fairness, so the client-side limit only has to stop a runaway loop;
// --kube-qps lowers it for a shared control plane.
const (
	DefaultQPS     = 1000
	DefaultBurst   = 2000
	DefaultWorkers = 8
)

// DefaultBackoff is the retry schedule for transient API errors: about 6 s in
// total before giving up, short enough for an interactive apply.
var DefaultBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 6, Cap: 5 * time.Second}

// Options tunes a Client. The zero value is usable: every zero field takes
// its default.
type Options struct {
	// QPS and Burst bound the requests per second to the API server, shared
	// by every client this package builds from one config.
	QPS   float32
	Burst int
	// Workers bounds how many requests for objects Observe has in flight
	// at once.
	Workers int
	// Backoff is the retry schedule for transient errors; Steps is the
	// number of attempts.
	Backoff wait.Backoff
	// OnRetry, when set, is told about every retry before it sleeps: what
	// was attempted (e.g. "apply k8s:apps/StatefulSet/graph/prod"), the
	// attempt that failed (1-based) and its error.
	OnRetry func(what string, attempt int, err error)
	// PollInterval is how often AcquireLock re-reads a Lease held by someone
	// else while its timeout runs; default 1s. (Waits use watches.)
	PollInterval time.Duration
	// UserAgent overrides client-go's default user agent.
	UserAgent string
}

func (o Options) withDefaults() Options {
	if o.QPS == 0 {
		o.QPS = DefaultQPS
	}
	if o.Burst == 0 {
		o.Burst = DefaultBurst
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Backoff.Steps == 0 {
		o.Backoff = DefaultBackoff
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	return o
}

// Client talks to one API server. It is safe for concurrent use.
type Client struct {
	opts   Options
	config *rest.Config
	// namespace is the kubeconfig's (or --namespace's) namespace, used for
	// objects rendered without one.
	namespace string

	dyn        dynamic.Interface
	restClient rest.Interface // unstructured JSON, for requests dyn cannot make
	// mapper resolves the objects neo4jctl sends and lists; served
	// resolves for RESTMapping, which confirms custom resources through
	// discovery.
	mapper       meta.RESTMapper
	served       meta.RESTMapper
	discovery    discovery.DiscoveryInterface
	core         corev1client.CoreV1Interface
	apps         appsv1client.AppsV1Interface
	coordination coordinationv1client.CoordinationV1Interface

	// writes remembers what this process applied (rememberWrite), so the
	// verifying plan after an apply need not dry-run again what the
	// server has not changed since.
	writes      sync.Map     // address → written
	lastWriteAt atomic.Int64 // unix nanoseconds of the last write recorded

	// apiServer is the last read of the `kubernetes` Service's
	// EndpointSlice (APIServerEndpointSlices).
	apiServer apiServerRead
	// clusterReads are answers to reads of cluster-scoped prerequisites,
	// shared by a fleet's preflights (memoRead).
	clusterReads memo

	versionMu   sync.Mutex
	version     string // the last server version read, at versionAt
	versionCall *versionCall
	versionAt   time.Time
}

// New builds a Client from kubectl-style flags (genericclioptions.ConfigFlags),
// so --kubeconfig, --context, --namespace, --as and friends behave as in kubectl.
func New(getter genericclioptions.RESTClientGetter, opts Options) (*Client, error) {
	cfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	c, err := NewForConfig(cfg, opts)
	if err != nil {
		return nil, err
	}
	if loader := getter.ToRawKubeConfigLoader(); loader != nil {
		if ns, _, err := loader.Namespace(); err == nil && ns != "" {
			c.namespace = ns
		}
	}
	return c, nil
}

// NewForConfig builds a Client from a rest.Config (tests, in-cluster). The
// config is copied; its QPS and Burst are replaced by the Options'.
func NewForConfig(cfg *rest.Config, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	// One token bucket for all the clients below: otherwise each typed client
	// gets its own and the effective limit is a multiple of the one asked for.
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(opts.QPS, opts.Burst)
	if opts.UserAgent != "" {
		cfg.UserAgent = opts.UserAgent
	} else if cfg.UserAgent == "" {
		cfg.UserAgent = "neo4jctl"
	}
	cfg.Wrap(newConnGate)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes HTTP client: %w", err)
	}
	return newForConfigAndClient(cfg, hc, opts)
}

func newForConfigAndClient(cfg *rest.Config, hc *http.Client, opts Options) (*Client, error) {
	c := &Client{opts: opts, config: cfg, namespace: "default"}
	var err error
	if c.dyn, err = dynamic.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("kubernetes dynamic client: %w", err)
	}
	// Configured as the dynamic client configures its own: requests use
	// absolute paths, bodies and responses are unstructured JSON.
	rcfg := dynamic.ConfigFor(cfg)
	rcfg.GroupVersion = nil
	if c.restClient, err = rest.UnversionedRESTClientForConfigAndClient(rcfg, hc); err != nil {
		return nil, fmt.Errorf("kubernetes REST client: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(disco)
	c.discovery = cached
	// The kinds neo4jctl renders resolve without a discovery round trip (a
	// plan then costs exactly its dry runs and reads); anything else falls
	// back to cached discovery.
	deferred := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	c.mapper = meta.FirstHitRESTMapper{MultiRESTMapper: meta.MultiRESTMapper{staticMapper(true), deferred}}
	c.served = meta.FirstHitRESTMapper{MultiRESTMapper: meta.MultiRESTMapper{staticMapper(false), deferred}}
	if c.core, err = corev1client.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, err
	}
	if c.apps, err = appsv1client.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, err
	}
	if c.coordination, err = coordinationv1client.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, err
	}
	return c, nil
}

// Namespace is the namespace from the kubeconfig or --namespace ("default"
// when neither says).
func (c *Client) Namespace() string { return c.namespace }

// RESTConfig returns a copy of the configuration the Client uses.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// ServerVersion returns the API server's version, e.g. "v1.37.2".
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	var v string
	err := c.retry(ctx, "get server version", func(ctx context.Context) error {
		// The discovery interface has no context parameter; the request is
		// short and bounded by the client's timeout.
		info, err := c.discovery.ServerVersion()
		if err != nil {
			return err
		}
		v = info.GitVersion
		return nil
	})
	return v, err
}

// versionTTL is how long Observe trusts a server version it read: a fleet
// plan asks once, not once per cluster, and a long-running watch still
// notices an upgrade of the API server.
const versionTTL = time.Minute

// cachedServerVersion is ServerVersion, remembered for versionTTL. A
// caller that finds a read in flight (Warm's) shares its answer, error
// included, instead of asking again.
func (c *Client) cachedServerVersion(ctx context.Context) (string, error) {
	c.versionMu.Lock()
	if c.version != "" && time.Since(c.versionAt) < versionTTL {
		defer c.versionMu.Unlock()
		return c.version, nil
	}
	call := c.versionCall
	if call == nil {
		call = &versionCall{done: make(chan struct{})}
		c.versionCall = call
		// Not cancelled with the caller that started it: other callers
		// may be waiting for it (the retries bound it).
		go func() {
			v, err := c.ServerVersion(context.WithoutCancel(ctx))
			c.versionMu.Lock()
			call.v, call.err = v, err
			if err == nil {
				c.version, c.versionAt = v, time.Now()
			}
			c.versionCall = nil
			c.versionMu.Unlock()
			close(call.done)
		}()
	}
	c.versionMu.Unlock()
	select {
	case <-call.done:
		return call.v, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// versionCall is a server version read in flight.
type versionCall struct {
	done chan struct{}
	v    string
	err  error
}

// Warm starts reading the server version in the background, which opens
// the client's connection (TCP, TLS, HTTP/2) while the caller does other
// work, such as loading and rendering cluster files: the first plan
// request then finds the connection open and the version known. Its
// failure is not reported here; the observation that needs the version
// asks again and reports it. It does nothing when the credentials come
// from an exec plugin or an auth provider: those may prompt or open a
// browser, which must not happen before the files are known to be valid.
func (c *Client) Warm(ctx context.Context) {
	if c.config.ExecProvider != nil || c.config.AuthProvider != nil {
		return
	}
	go func() { _, _ = c.cachedServerVersion(ctx) }()
}

// RESTMapping resolves a group/version/kind to its resource and scope. A
// custom resource resolves only if the server serves it (discovery): watch
// must not start an informer for a CRD that is not installed.
func (c *Client) RESTMapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	// On a miss the deferred discovery mapper refreshes its cache once, so a
	// CRD installed after start-up is still found.
	m, err := c.served.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", gvk, err)
	}
	return m, nil
}

// staticMapper knows the built-in kinds neo4jctl renders or reads and,
// with crds, the custom resources it renders. Their resource names and
// scopes are fixed by the Kubernetes API and by the CRDs, so asking
// discovery would only cost round trips: for a ServiceMonitor, the two
// largest responses the API server sends (GET /api and /apis), on every
// plan's critical path. Observing a custom resource whose CRD is not
// installed still says so: the server answers its path with 404 page not
// found (isNotServed).
func staticMapper(crds bool) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	add := func(group, version, kind, resource string, scope meta.RESTScope) {
		gvk := schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
		m.AddSpecific(gvk,
			schema.GroupVersionResource{Group: group, Version: version, Resource: resource},
			schema.GroupVersionResource{Group: group, Version: version, Resource: strings.ToLower(kind)},
			scope)
	}
	ns, root := meta.RESTScopeNamespace, meta.RESTScopeRoot
	add("", "v1", "ConfigMap", "configmaps", ns)
	add("", "v1", "Secret", "secrets", ns)
	add("", "v1", "Service", "services", ns)
	add("", "v1", "ServiceAccount", "serviceaccounts", ns)
	add("", "v1", "Pod", "pods", ns)
	add("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", ns)
	add("", "v1", "Namespace", "namespaces", root)
	add("apps", "v1", "StatefulSet", "statefulsets", ns)
	add("apps", "v1", "Deployment", "deployments", ns)
	add("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", ns)
	add("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", ns)
	add("networking.k8s.io", "v1", "Ingress", "ingresses", ns)
	add("rbac.authorization.k8s.io", "v1", "Role", "roles", ns)
	add("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", ns)
	add("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", root)
	add("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", root)
	add("batch", "v1", "CronJob", "cronjobs", ns)
	add("batch", "v1", "Job", "jobs", ns)
	add("coordination.k8s.io", "v1", "Lease", "leases", ns)
	if crds {
		// The custom resources of manifests.Render
		// (spec.monitoring.serviceMonitor, spec.tls.certManager).
		add("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", ns)
		add("cert-manager.io", "v1", "Certificate", "certificates", ns)
	}
	return m
}
