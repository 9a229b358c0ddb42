package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Mode is what a Watcher does about drift.
type Mode string

// Modes.
const (
	// ModeWarn reports drift and changes nothing.
	ModeWarn Mode = "warn"
	// ModeEnforce also applies the plan, minus the steps Held names.
	ModeEnforce Mode = "enforce"
)

// Annotations read by watch.
const (
	// AnnotationSuspend set to "true" on a cluster's StatefulSet or on the
	// ConfigMap holding its cluster file pauses reconciliation of that
	// cluster (Flux's spec.suspend, as an annotation so kubectl can set it).
	AnnotationSuspend = "neo4jctl.io/suspend"
	// AnnotationAllowIrreversible on a cluster file's metadata.annotations
	// or on the ConfigMap holding it narrows --allow-irreversible: any
	// value but "true" withdraws it for that cluster. It never widens:
	// only watch's command line grants irreversible steps (see
	// AllowIrreversible).
	AnnotationAllowIrreversible = "neo4jctl.io/watch-allow-irreversible"
	// DefaultConfigMapSelector selects ConfigMaps holding cluster files.
	DefaultConfigMapSelector = "neo4jctl.io/cluster-file=true"
	// DefaultLeaseName is the leader-election Lease.
	DefaultLeaseName = "neo4jctl-watch"
)

// Options tune a Watcher. Zero fields take their defaults.
type Options struct {
	Mode Mode
	// Interval is how often the Neo4j plane is polled (default 60 s),
	// jittered by ±10 %. Kubernetes objects are watched, not polled.
	Interval time.Duration
	// Debounce is how long to wait after an informer event for more
	// (default 200 ms): an edit of several objects costs one reconcile.
	Debounce time.Duration
	// Suspend pauses every cluster (--suspend): informers run, nothing is
	// observed or applied.
	Suspend bool
	// AllowIrreversible lets enforce mode run held steps
	// (--allow-irreversible, command line only); a cluster's annotation
	// may withdraw it, never give it.
	AllowIrreversible bool
	// ForceConflicts lets enforce mode take fields another Apply manager owns.
	ForceConflicts bool
	// Retry is the interval schedule after failed reconciles.
	Retry Backoff
	// Breaker configures the circuit breaker of each cluster's Neo4j
	// endpoint (only Failures and Cooldown are read).
	BreakerFailures int
	BreakerCooldown time.Duration
	// StepTimeout bounds each wait of an enforce apply (default 5 min).
	StepTimeout time.Duration
	// LockTTL is the apply Lease's duration (default 30 s, as apply's).
	LockTTL time.Duration

	// LeaderElect makes replicas elect a leader through a Lease; only the
	// leader reconciles. Without it this process acts at once.
	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	LeaseDuration  time.Duration
	RenewDeadline  time.Duration
	RetryPeriod    time.Duration
	// Identity names this replica in the Leases (default user@host pid N).
	Identity string

	// MetricsAddr serves /metrics, /healthz and /readyz; "" serves nothing
	// (Handler can still be mounted elsewhere).
	MetricsAddr string
	// HealthInterval runs the healthcheck's checks at most this often,
	// with a poll of Neo4j, and exports them as metrics (health.go); 0
	// turns them off. Each run LISTs the cluster's Pods, claims,
	// StatefulSets, PDBs and Warning events: the idle watch's requests
	// beyond its watches and Lease renewals are these.
	HealthInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.Mode == "" {
		o.Mode = ModeWarn
	}
	if o.Interval <= 0 {
		o.Interval = 60 * time.Second
	}
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 5 * time.Minute
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 30 * time.Second
	}
	if o.LeaseName == "" {
		o.LeaseName = DefaultLeaseName
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline <= 0 {
		o.RenewDeadline = o.LeaseDuration * 2 / 3
	}
	if o.RetryPeriod <= 0 {
		o.RetryPeriod = o.LeaseDuration / 7
	}
	if o.Identity == "" {
		o.Identity = defaultIdentity()
	}
	return o
}

func defaultIdentity() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("neo4jctl-watch@%s pid %d", host, os.Getpid())
}

// ConfigMapSource selects ConfigMaps whose *.yaml, *.yml and *.json keys
// are cluster files.
type ConfigMapSource struct {
	Namespace string
	Selector  string
}

// Watcher watches clusters and reconciles them. Build one, then Run it.
type Watcher struct {
	// Runner observes and plans: its Kube client is also used for the
	// informers, Events, leader election and the apply lock.
	Runner *pipeline.Runner
	// Files are cluster files (a directory already expanded).
	Files []string
	// ConfigMaps, when set, is where cluster files come from instead.
	ConfigMaps *ConfigMapSource
	// FlagNamespace is --namespace, for cluster files that name none.
	FlagNamespace string
	Options       Options
	// Report receives the event stream (NDJSON or human lines); it may be
	// called from several goroutines at once. Nil discards events.
	Report func(Event)
	// Audit, when set, receives a drift-detected line per drifted field and
	// a line per step of every enforce attempt, applied, failed or not
	// reached (and per drifted address of an attempt that failed before
	// applying). A failed write is a metric, an audit-failed event and a
	// readiness failure, and stops enforce mode until it is written.
	Audit *drift.AuditLog
	// Registry receives the metrics; nil makes a new one.
	Registry *prometheus.Registry

	opts     Options
	m        *metrics
	hm       *healthMetrics
	bm       *BackupMetrics
	inf      *kube.Informers
	synced   atomic.Bool
	leading  atomic.Bool
	attempts atomic.Int64

	mu       sync.Mutex
	clusters map[string]*cluster // by namespace/name
	// leadCtx is the context of the current leadership term (nil when
	// not leading); clusters started during the term run under it.
	leadCtx context.Context
}

// Run watches until ctx ends, then stops the informers, releases the
// leader Lease and returns nil (or the error that stopped it early).
func (w *Watcher) Run(ctx context.Context) error {
	w.opts = w.Options.withDefaults()
	if w.Runner == nil || w.Runner.Kube == nil {
		return errors.New("watch needs a Kubernetes client")
	}
	if w.Registry == nil {
		w.Registry = prometheus.NewRegistry()
	}
	w.m = newMetrics(w.Registry)
	w.hm = newHealthMetrics(w.Registry)
	w.bm = NewBackupMetrics(w.Registry)
	w.clusters = map[string]*cluster{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if w.opts.MetricsAddr != "" {
		srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 5 * time.Second}
		ln, err := net.Listen("tcp", w.opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr %s: %w", w.opts.MetricsAddr, err)
		}
		go func() { _ = srv.Serve(ln) }()
		defer func() {
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			_ = srv.Shutdown(sctx)
		}()
		w.emit(Event{Type: "serving", Message: "serving /metrics, /healthz and /readyz on " + ln.Addr().String(), Addr: ln.Addr().String()})
	}

	// Informers, Events and the leader Lease all go through Runner.Kube:
	// internal/kube is the only package that talks to the API server.
	w.inf = w.Runner.Kube.NewInformers(w.onObject)
	defer w.inf.Stop()

	var sourceChanged chan struct{}
	if w.ConfigMaps != nil {
		sourceChanged = make(chan struct{}, 1)
		w.inf.WatchSource(w.ConfigMaps.Namespace, w.ConfigMaps.Selector, func() {
			select {
			case sourceChanged <- struct{}{}:
			default:
			}
		})
	}
	if err := w.reload(ctx); err != nil {
		return err
	}
	w.synced.Store(true)

	go w.lead(ctx)

	for {
		select {
		case <-ctx.Done():
			w.stopClusters()
			w.emit(Event{Type: "stopped", Message: stopMessage(ctx)})
			return nil
		case <-w.inf.Denied():
			// A watch refused after the first sync: the cache would never
			// change again, so drift would go unseen. Stop loudly, as a
			// refusal at start does.
			w.stopClusters()
			return w.inf.Err()
		case <-sourceChanged:
			// Debounce: a kubectl apply of several ConfigMaps is one reload.
			select {
			case <-ctx.Done():
				continue
			case <-time.After(w.opts.Debounce):
			}
			select {
			case <-sourceChanged:
			default:
			}
			if err := w.reload(ctx); err != nil && ctx.Err() == nil {
				w.emit(Event{Type: "error", Level: LevelError, Message: err.Error()})
			}
		}
	}
}

// Handler serves /metrics, /healthz and /readyz.
func (w *Watcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) {
		_, _ = rw.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if ok, why := w.Ready(); !ok {
			http.Error(rw, why, http.StatusServiceUnavailable)
			return
		}
		_, _ = rw.Write([]byte("ok\n"))
	})
	return mux
}

// Ready reports whether the informers have synced, the audit log (when
// set) has written every entry and, on the leader, every cluster has been
// reconciled once; why says what is missing.
func (w *Watcher) Ready() (ok bool, why string) {
	if !w.synced.Load() {
		return false, "informers not synced"
	}
	// A replica that cannot record what it sees and does is not one to
	// rely on: the audit log must have no gaps.
	if err := w.Audit.Err(); err != nil {
		return false, err.Error()
	}
	if !w.leading.Load() {
		return true, ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, c := range w.clusters {
		if !c.firstDone.Load() {
			return false, "first reconcile of " + name + " not done"
		}
	}
	return true, ""
}

// Leading reports whether this replica reconciles now.
func (w *Watcher) Leading() bool { return w.leading.Load() }

// reload loads the cluster files, starts informers for the kinds they
// render and replaces the watched clusters.
func (w *Watcher) reload(ctx context.Context) error {
	targets, sources, err := w.load(ctx)
	if err != nil {
		return err
	}
	gvrs := map[string][]schema.GroupVersionResource{}
	for _, t := range targets {
		var own []schema.GroupVersionResource
		for _, gvk := range kindsOf(t.Objects) {
			m, err := w.Runner.Kube.RESTMapping(gvk)
			if err != nil {
				// A CRD kind (ServiceMonitor, Certificate) the cluster does
				// not serve: nothing to watch; plan reports the object.
				w.emit(Event{Type: "warning", Level: LevelWarn, Cluster: t.Name(), Message: fmt.Sprintf("not watching %s: %v", gvk.Kind, err)})
				continue
			}
			gvrs[t.Namespace] = append(gvrs[t.Namespace], m.Resource)
			own = append(own, m.Resource)
		}
		// An adopted Helm cluster's objects keep the chart's labels and
		// carry no cluster label: they have informers of their own.
		if sel := t.ObjectSelector(); sel != "" {
			w.inf.EnsureSelected(t.Namespace, sel, own)
		}
	}
	for ns, list := range gvrs {
		w.inf.Ensure(ns, list)
	}
	if err := w.inf.Sync(ctx); err != nil {
		return err
	}

	w.mu.Lock()
	old := w.clusters
	w.clusters = map[string]*cluster{}
	for i, t := range targets {
		c := newCluster(w, t, sources[i])
		if prev, ok := old[t.Name()]; ok && prev.sum() == c.sum() && prev.source == c.source {
			w.clusters[t.Name()] = prev // unchanged: keep its state and loop
			delete(old, t.Name())
			continue
		}
		c.seed(w.inf)
		w.clusters[t.Name()] = c
		if w.leadCtx != nil {
			c.start(w.leadCtx)
		}
	}
	lead := w.leadCtx
	w.mu.Unlock()
	for name, c := range old {
		c.stop()
		w.m.forget(name)
		w.hm.forget(name)
		w.bm.Forget(name)
	}
	_ = lead
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		names = append(names, t.Name())
	}
	w.emit(Event{Type: "loaded", Message: fmt.Sprintf("watching %d %s: %s", len(targets), plural(len(targets), "cluster", "clusters"), strings.Join(names, ", ")), Addresses: names})
	return nil
}

// load reads the cluster files from disk or from the ConfigMaps.
func (w *Watcher) load(ctx context.Context) ([]*pipeline.Target, []string, error) {
	var (
		targets []*pipeline.Target
		sources []string
		errs    []error
		seen    = map[string]string{}
	)
	add := func(src string, t *pipeline.Target, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		if prev, dup := seen[t.Name()]; dup {
			errs = append(errs, fmt.Errorf("%s: cluster %s is also declared in %s (one file per cluster)", src, t.Name(), prev))
			return
		}
		seen[t.Name()] = src
		// Render as apply does for this cluster (the API server's
		// endpoints in the NetworkPolicy), so watch compares like with like.
		if err := w.Runner.RenderForCluster(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
			return
		}
		targets = append(targets, t)
		sources = append(sources, src)
	}
	if w.ConfigMaps == nil {
		for _, f := range w.Files {
			t, err := pipeline.Load(f, w.FlagNamespace)
			add(f, t, err)
		}
	} else {
		if err := w.inf.Sync(ctx); err != nil {
			return nil, nil, err
		}
		cms := w.inf.SourceObjects()
		sort.Slice(cms, func(i, j int) bool { return cms[i].GetName() < cms[j].GetName() })
		for _, cm := range cms {
			data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
			keys := make([]string, 0, len(data))
			for k := range data {
				switch strings.ToLower(filepath.Ext(k)) {
				case ".yaml", ".yml", ".json":
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				src := fmt.Sprintf("configmap/%s/%s[%s]", cm.GetNamespace(), cm.GetName(), k)
				ns := w.FlagNamespace
				if ns == "" {
					ns = cm.GetNamespace()
				}
				t, err := pipeline.LoadData(src, []byte(data[k]), ns)
				add(src, t, err)
			}
		}
	}
	if len(errs) > 0 {
		// A broken file must not stop the watch of the others, but it
		// must be loud: report it and watch what loaded.
		err := errors.Join(errs...)
		if len(targets) == 0 && w.ConfigMaps == nil {
			return nil, nil, err
		}
		w.emit(Event{Type: "error", Level: LevelError, Message: "cluster files not loaded: " + err.Error()})
	}
	return targets, sources, nil
}

func kindsOf(objs []*unstructured.Unstructured) []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if !seen[gvk] {
			seen[gvk] = true
			out = append(out, gvk)
		}
	}
	return out
}

// lead campaigns for the leader Lease (or, without leader election, leads
// at once) and runs the clusters while leading.
func (w *Watcher) lead(ctx context.Context) {
	if !w.opts.LeaderElect {
		w.startLeading(ctx)
		<-ctx.Done()
		w.stopLeading()
		return
	}
	runElection(ctx, w)
}

func (w *Watcher) startLeading(ctx context.Context) {
	w.leading.Store(true)
	w.m.leader.Set(1)
	w.emit(Event{Type: "leader", Message: w.opts.Identity + " is the leader: reconciling"})
	w.mu.Lock()
	w.leadCtx = ctx
	for _, c := range w.clusters {
		c.start(ctx)
	}
	w.mu.Unlock()
}

func (w *Watcher) stopLeading() {
	w.mu.Lock()
	w.leadCtx = nil
	w.mu.Unlock()
	w.stopClusters()
	if w.leading.Swap(false) {
		w.m.leader.Set(0)
		w.emit(Event{Type: "follower", Message: w.opts.Identity + " stopped leading"})
	}
}

func (w *Watcher) stopClusters() {
	w.mu.Lock()
	cs := make([]*cluster, 0, len(w.clusters))
	for _, c := range w.clusters {
		cs = append(cs, c)
	}
	w.mu.Unlock()
	for _, c := range cs {
		c.stop()
	}
}

// onObject is the informer handler: it finds the cluster and the rendered
// object the informer object is, and marks it dirty if its normalised
// state moved.
func (w *Watcher) onObject(u *unstructured.Unstructured, deleted bool) {
	name := u.GetLabels()[kube.ClusterLabel]
	var cs []*cluster
	w.mu.Lock()
	if name != "" {
		if c := w.clusters[u.GetNamespace()+"/"+name]; c != nil {
			cs = append(cs, c)
		}
	} else {
		// An adopted Helm cluster's object: the clusters whose objects
		// the selector of its informer selects.
		for _, c := range w.clusters {
			if c.objects != nil && c.t.Namespace == u.GetNamespace() && c.objects.Matches(labels.Set(u.GetLabels())) {
				cs = append(cs, c)
			}
		}
	}
	w.mu.Unlock()
	for _, c := range cs {
		c.observed(u, deleted)
	}
}

func (w *Watcher) emit(e Event) {
	if w.Report == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Level == "" {
		e.Level = LevelInfo
	}
	w.Report(e)
}

// newAttemptID names one enforce attempt in the audit log: this replica's
// identity, the time and a sequence number, unique across replicas.
func (w *Watcher) newAttemptID() string {
	return fmt.Sprintf("%s/%s/%d", w.opts.Identity, time.Now().UTC().Format("20060102T150405Z"), w.attempts.Add(1))
}

// auditWritten turns the result of an audit write into the metrics and,
// on failure, an error event. The entry itself is kept by the log.
func (w *Watcher) auditWritten(cluster string, err error) {
	w.m.auditPending.Set(float64(w.Audit.Pending()))
	if err == nil {
		return
	}
	w.m.auditFailures.Inc()
	w.emit(Event{Type: "audit-failed", Level: LevelError, Cluster: cluster,
		Message: err.Error() + "; kept in memory and written first once the log works again; not ready, and enforce applies nothing, until then"})
}

// planOptions are the options plan and apply use for t: the cluster file's
// ignore rules apply to watch exactly as to plan.
func (w *Watcher) planOptions(t *pipeline.Target) plan.Options {
	o := plan.Options{ForceConflicts: w.opts.ForceConflicts, SkipNeo4j: w.Runner.SkipNeo4j, Now: func() time.Time { return time.Now().UTC() }}
	for _, r := range t.Cluster.Spec.Ignore {
		o.Ignore = append(o.Ignore, plan.IgnoreRule{Address: r.Address, JSONPointers: r.JSONPointers, Managers: r.ManagedFieldsManagers})
	}
	return o
}

func (w *Watcher) jitteredInterval() time.Duration {
	return Jitter(w.opts.Interval, 0.1, rand.Float64())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// stopMessage says what stopped watch: the cancel cause its caller gave
// ("terminated" for SIGTERM, "interrupted" for Ctrl-C), when there is one.
func stopMessage(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return "watch stopped: " + cause.Error()
	}
	return "watch stopped"
}
