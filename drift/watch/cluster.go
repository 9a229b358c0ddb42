package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// objKey identifies an object as informers and rendered objects both
// know it.
type objKey struct {
	group, kind, namespace, name string
}

// cluster is one watched cluster file and what watch last saw of it.
type cluster struct {
	w      *Watcher
	t      *pipeline.Target
	source string
	name   string
	index  map[objKey]int // rendered object → position in t.Objects
	// objects selects an adopted Helm cluster's objects, which carry no
	// cluster label (Target.ObjectSelector); nil for neo4jctl's layout.
	objects labels.Selector

	kick chan struct{}

	mu     sync.Mutex
	hashes map[int]string // last informer-observed hash per object
	dirty  map[int]bool
	// sts is the cluster's main StatefulSet as the informer last saw it:
	// Events are attached to it and its suspend annotation read from it.
	sts *unstructured.Unstructured

	// Owned by the loop goroutine.
	cache      []state.Object // per rendered object, from the last Observe
	haveCache  bool
	kubeMeta   state.Kube // ServerVersion, Mode, Orphans, Pods of the last Observe
	neo        state.Neo4j
	neoAt      time.Time
	conn       *neo4j.Client
	closeConn  func()
	breaker    Breaker
	failures   int
	lastReport string
	// lastDrift is the drift last reported, per address and field (see
	// driftDetails): a new field drifting on an already drifted object
	// changes it and is reported.
	lastDrift map[string]string
	// lastViolations is the digest of the violations last reported, so a
	// standing violation is reported once, not on every reconcile.
	lastViolations string
	lastHeld       string
	lastHealth     string    // the health verdict last reported
	healthAt       time.Time // when the health checks last ran
	suspended      bool

	firstDone atomic.Bool
	cancel    context.CancelFunc
	done      chan struct{}
}

func newCluster(w *Watcher, t *pipeline.Target, source string) *cluster {
	c := &cluster{
		w: w, t: t, source: source, name: t.Name(),
		index: map[objKey]int{}, kick: make(chan struct{}, 1),
		hashes: map[int]string{}, dirty: map[int]bool{},
		breaker: Breaker{Failures: w.opts.BreakerFailures, Cooldown: w.opts.BreakerCooldown},
	}
	for i, o := range t.Objects {
		c.index[keyOf(o, t.Namespace)] = i
	}
	if sel, err := labels.Parse(t.ObjectSelector()); err == nil && t.ObjectSelector() != "" {
		c.objects = sel
	}
	return c
}

func keyOf(u *unstructured.Unstructured, defaultNS string) objKey {
	gvk := u.GroupVersionKind()
	ns := u.GetNamespace()
	if ns == "" {
		ns = defaultNS
	}
	return objKey{group: gvk.Group, kind: gvk.Kind, namespace: ns, name: u.GetName()}
}

// sum identifies the cluster file's content: an unchanged file keeps its
// cluster's state across reloads.
func (c *cluster) sum() string { return c.t.Desired.ClusterFileSHA256 }

// hashOf hashes what plan compares of a live object: spec, data, labels,
// annotations — not status, resourceVersion or managedFields, which move
// on their own (a StatefulSet's status changes with every Pod).
func hashOf(u *unstructured.Unstructured) string {
	return kube.Fingerprint(kube.Normalize(u.Object))
}

// seed records the hashes of the objects already in the informer caches,
// so that only later changes count as events.
func (c *cluster) seed(inf *kube.Informers) {
	for i, o := range c.t.Objects {
		gvk := o.GroupVersionKind()
		m, err := c.w.Runner.Kube.RESTMapping(gvk)
		if err != nil {
			continue
		}
		k := keyOf(o, c.t.Namespace)
		if u := inf.Get(m.Resource, k.namespace, k.name); u != nil {
			c.hashes[i] = hashOf(u)
			if k.kind == "StatefulSet" && k.group == "apps" && c.sts == nil {
				c.sts = u
			}
		}
	}
}

// observed is called by the informers for every event on an object of
// this cluster.
func (c *cluster) observed(u *unstructured.Unstructured, deleted bool) {
	k := objKey{group: u.GroupVersionKind().Group, kind: u.GetKind(), namespace: u.GetNamespace(), name: u.GetName()}
	i, ok := c.index[k]
	if !ok {
		return // the inventory ConfigMap, or an object no longer rendered
	}
	h := ""
	if !deleted {
		h = hashOf(u)
	}
	c.mu.Lock()
	if k.kind == "StatefulSet" && k.group == "apps" && (c.sts == nil || c.sts.GetName() == u.GetName()) {
		if deleted {
			c.sts = nil
		} else {
			c.sts = u
		}
	}
	prev, seen := c.hashes[i]
	changed := !seen || prev != h
	c.hashes[i] = h
	if changed {
		c.dirty[i] = true
	}
	c.mu.Unlock()
	if changed {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

func (c *cluster) start(ctx context.Context) {
	if c.cancel != nil {
		c.stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	c.cancel, c.done = cancel, make(chan struct{})
	go c.loop(ctx, c.done)
}

func (c *cluster) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

// loop reconciles the cluster: at once, then after informer events
// (debounced), on the jittered Neo4j interval, and after failures on the
// backoff schedule.
func (c *cluster) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	defer c.closeNeo4j()
	w := c.w
	var (
		debounce  <-chan time.Time
		retry     <-chan time.Time
		poll      = time.NewTimer(w.jitteredInterval())
		full      = true
		pollNeo4j = true
	)
	defer poll.Stop()
	run := func() {
		err := c.reconcile(ctx, full, pollNeo4j)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.failures++
			w.m.errors.WithLabelValues(c.name).Inc()
			d := w.opts.Retry.Delay(c.failures)
			w.emit(Event{Type: "error", Level: LevelError, Cluster: c.name, Message: fmt.Sprintf("%v (retrying in %s)", err, d.Round(time.Millisecond))})
			retry = time.After(d)
			full = true // the cache may be partial
			return
		}
		c.failures, retry, full = 0, nil, false
		c.firstDone.Store(true)
	}
	run()
	pollNeo4j = false
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
			if debounce == nil {
				debounce = time.After(w.opts.Debounce)
			}
		case <-debounce:
			debounce = nil
			run()
		case <-retry:
			retry = nil
			pollNeo4j = true
			run()
			pollNeo4j = false
		case <-poll.C:
			poll.Reset(w.jitteredInterval())
			pollNeo4j = true
			run()
			pollNeo4j = false
		}
	}
}

// isSuspended reads the suspend switch: the flag, or the annotation on the
// StatefulSet or on the cluster file's ConfigMap — both from informer
// caches, so checking costs no request.
func (c *cluster) isSuspended() (bool, string) {
	if c.w.opts.Suspend {
		return true, "--suspend"
	}
	c.mu.Lock()
	sts := c.sts
	c.mu.Unlock()
	if sts != nil && sts.GetAnnotations()[AnnotationSuspend] == "true" {
		return true, fmt.Sprintf("annotation %s on StatefulSet %s", AnnotationSuspend, sts.GetName())
	}
	if cm := c.sourceConfigMap(); cm != nil && cm.GetAnnotations()[AnnotationSuspend] == "true" {
		return true, fmt.Sprintf("annotation %s on ConfigMap %s", AnnotationSuspend, cm.GetName())
	}
	return false, ""
}

// sourceConfigMap is the ConfigMap holding the cluster file, from the
// informer cache; nil for a cluster file read from disk.
func (c *cluster) sourceConfigMap() *unstructured.Unstructured {
	if c.w.ConfigMaps == nil || c.w.inf == nil || !strings.HasPrefix(c.source, "configmap/") {
		return nil
	}
	parts := strings.SplitN(strings.TrimPrefix(c.source, "configmap/"), "/", 2)
	if len(parts) != 2 {
		return nil
	}
	name, _, _ := strings.Cut(parts[1], "[")
	return c.w.inf.SourceObject(parts[0], name)
}

// allowIrreversible says whether enforce may run this cluster's held
// steps, and why not when it may not.
func (c *cluster) allowIrreversible() (bool, string) {
	var cm map[string]string
	if o := c.sourceConfigMap(); o != nil {
		cm = o.GetAnnotations()
	}
	return AllowIrreversible(c.w.opts.AllowIrreversible, c.t.Cluster.Metadata.Annotations, cm)
}

// reconcile observes what changed, plans, reports and (enforce) applies.
func (c *cluster) reconcile(ctx context.Context, full, pollNeo4j bool) error {
	w := c.w
	if sus, why := c.isSuspended(); sus {
		w.m.suspended.WithLabelValues(c.name).Set(1)
		if !c.suspended {
			c.suspended = true
			w.emit(Event{Type: "suspended", Cluster: c.name, Message: "reconciliation suspended by " + why})
		}
		c.firstDone.Store(true)
		return nil
	}
	if c.suspended {
		c.suspended, full, pollNeo4j = false, true, true
		w.emit(Event{Type: "resumed", Cluster: c.name, Message: "reconciliation resumed"})
	}
	w.m.suspended.WithLabelValues(c.name).Set(0)

	start := time.Now()
	if err := c.restampTLS(ctx); err != nil {
		return err
	}
	observed, err := c.observeKube(ctx, full || !c.haveCache)
	if err != nil {
		return err
	}
	if (pollNeo4j || c.neoAt.IsZero()) && !w.Runner.SkipNeo4j {
		c.observeNeo4j(ctx)
	}
	if len(observed) == 0 && !pollNeo4j {
		return nil // an event whose object is back to what was last seen
	}
	k := c.kubeMeta
	k.Objects = append([]state.Object(nil), c.cache...)
	neo := c.neo
	if w.Runner.SkipNeo4j {
		neo = state.Neo4j{Reachable: false, Reason: "skipped (--skip-neo4j)"}
	}
	p, err := plan.Compute(c.t.Desired, k, neo, w.planOptions(c.t))
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	p.Warnings = append(p.Warnings, pipeline.VersionWarnings(c.t, k.ServerVersion)...)
	secs := time.Since(start).Seconds()
	w.m.duration.WithLabelValues(c.name).Observe(secs)
	drifted := DriftedAddresses(p)
	w.m.drift.WithLabelValues(c.name).Set(float64(len(drifted)))
	w.emit(Event{Type: "reconciled", Cluster: c.name, Observed: observed, Seconds: secs,
		Message: fmt.Sprintf("reconciled in %s: dry-ran %d %s, %d drifted", time.Since(start).Round(time.Millisecond), len(observed), plural(len(observed), "object", "objects"), len(drifted)), Addresses: drifted})
	c.report(ctx, p, drifted)
	c.checkPolicies(k, neo)
	if pollNeo4j && w.opts.HealthInterval > 0 && time.Since(c.healthAt) >= w.opts.HealthInterval {
		c.checkHealth(ctx)
	}
	if w.opts.Mode == ModeEnforce && len(drifted) > 0 {
		return c.enforce(ctx, drifted)
	}
	return nil
}

// restampTLS brings the certificate stamp of the rendered StatefulSets up
// to date (pipeline.Runner.RestampTLS) from the TLS Secret and the
// informer's StatefulSets, and marks a StatefulSet whose stamp moved for
// a dry run: a renewed certificate is then reported (and enforced), and a
// stamp another neo4jctl recorded meanwhile is not taken for drift.
func (c *cluster) restampTLS(ctx context.Context) error {
	changed, _, err := c.w.Runner.RestampTLS(ctx, c.t, func(name string) *unstructured.Unstructured {
		if c.w.inf == nil {
			return nil
		}
		return c.w.inf.Get(statefulSetGVR, c.t.Namespace, name)
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	for _, i := range changed {
		c.dirty[i] = true
	}
	c.mu.Unlock()
	return nil
}

// observeKube dry-runs the objects whose informer-observed state changed
// (all of them when full) and merges the result into the cache. It
// returns the addresses it observed.
func (c *cluster) observeKube(ctx context.Context, full bool) ([]string, error) {
	c.mu.Lock()
	var idx []int
	if full {
		for i := range c.t.Objects {
			idx = append(idx, i)
		}
	} else {
		for i := range c.dirty {
			idx = append(idx, i)
		}
	}
	// Cleared before observing: an event during the observation marks
	// the object again and triggers another round.
	c.dirty = map[int]bool{}
	c.mu.Unlock()
	if len(idx) == 0 {
		return nil, nil
	}
	sort.Ints(idx)
	objs := make([]*unstructured.Unstructured, len(idx))
	for j, i := range idx {
		objs[j] = c.t.Objects[i]
	}
	var (
		k   state.Kube
		err error
	)
	r := c.w.Runner
	if r.Structural {
		k, err = r.Kube.ObserveStructural(ctx, objs, c.t.Inventory)
	} else {
		k, err = r.Kube.Observe(ctx, objs, c.t.Inventory)
	}
	if err == nil && !k.Reachable {
		err = errors.New(k.Reason)
	}
	if err != nil {
		c.mu.Lock()
		for _, i := range idx {
			c.dirty[i] = true
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("observe Kubernetes: %w", err)
	}
	if c.cache == nil {
		c.cache = make([]state.Object, len(c.t.Objects))
	}
	addrs := make([]string, len(idx))
	for j, i := range idx {
		c.cache[i] = k.Objects[j]
		addrs[j] = k.Objects[j].Address
	}
	c.haveCache = true
	// Observe counts every inventory member it was not given as an
	// orphan; with a subset that would be the rest of the cluster.
	rendered := map[string]bool{}
	for _, o := range c.cache {
		rendered[o.Address] = true
	}
	var orphans []state.Object
	for _, o := range k.Orphans {
		if !rendered[o.Address] {
			orphans = append(orphans, o)
		}
	}
	c.kubeMeta = state.Kube{Reachable: true, ServerVersion: k.ServerVersion, Mode: k.Mode, Orphans: orphans, Pods: k.Pods}
	return addrs, nil
}

// observeNeo4j polls the Neo4j plane over a connection kept open between
// polls (no Secret read or port-forward per poll), through the breaker.
func (c *cluster) observeNeo4j(ctx context.Context) {
	w := c.w
	defer func() {
		w.m.circuit.WithLabelValues(c.name).Set(float64(c.breaker.State()))
		r := 0.0
		if c.neo.Reachable {
			r = 1
		}
		w.m.reachable.WithLabelValues(c.name).Set(r)
	}()
	c.neoAt = time.Now()
	before := c.breaker.State()
	if !c.breaker.Allow() {
		c.neo = state.Neo4j{Reachable: false, Reason: "circuit breaker open after repeated failures; next attempt after the cooldown"}
		return
	}
	var err error
	if c.conn == nil {
		c.conn, c.closeConn, err = w.Runner.Neo4j.Connect(ctx, w.Runner.Kube, c.t)
	}
	if err == nil {
		c.neo = c.conn.Observe(ctx)
		if !c.neo.Reachable {
			err = errors.New(c.neo.Reason)
		}
	} else {
		c.neo = state.Neo4j{Reachable: false, Reason: err.Error()}
	}
	if err != nil {
		c.closeNeo4j()
		if ctx.Err() != nil {
			return
		}
	}
	c.breaker.Record(err)
	if after := c.breaker.State(); after != before {
		lvl := LevelInfo
		if after == CircuitOpen {
			lvl = LevelWarn
		}
		w.emit(Event{Type: "circuit", Level: lvl, Cluster: c.name, Message: fmt.Sprintf("Neo4j circuit breaker %s → %s", before, after)})
	}
	if err != nil {
		w.emit(Event{Type: "neo4j-unreachable", Level: LevelWarn, Cluster: c.name, Message: "Neo4j: " + err.Error()})
	}
}

func (c *cluster) closeNeo4j() {
	if c.closeConn != nil {
		c.closeConn()
	}
	c.conn, c.closeConn = nil, nil
}

// report tells the event stream and Kubernetes about drift, once per
// distinct drift: a drift that persists is not repeated on every poll.
func (c *cluster) report(ctx context.Context, p *plan.Plan, drifted []string) {
	w := c.w
	summary := summaryLine(p)
	details := driftDetails(p, drifted)
	digest := strings.Join(drifted, "\n") + "|" + fmt.Sprint(p.Incomplete, len(p.Refusals)) + "|" + detailDigest(details)
	if digest == c.lastReport {
		return
	}
	first := c.lastReport == ""
	c.lastReport = digest
	wasDrifting := len(c.lastDrift) > 0
	changed := changedDetails(c.lastDrift, details)
	c.lastDrift = details
	if len(drifted) == 0 {
		if first {
			w.emit(Event{Type: "in-sync", Cluster: c.name, Message: "in sync with " + c.source, Summary: summary})
			return
		}
		c.kubeEvent(ctx, "Normal", "DriftResolved", "The cluster matches its cluster file again.")
		w.emit(Event{Type: "in-sync", Cluster: c.name, Message: "drift resolved: in sync with " + c.source, Summary: summary})
		return
	}
	msg := fmt.Sprintf("drift: %d %s from %s: %s", len(drifted), plural(len(drifted), "address differs", "addresses differ"), c.source, strings.Join(drifted, ", "))
	if len(changed) > 0 && wasDrifting {
		msg += "; changed since the last report: " + strings.Join(changed, ", ")
	}
	c.audit(p, drift.ActionDriftDetected)
	// The Kubernetes Event first: a failure to record it is then on the
	// stream before the drift line, which scripts (and the RBAC tests)
	// can rely on.
	c.kubeEvent(ctx, "Warning", "DriftDetected", fmt.Sprintf("%s %s", summary, describeDrift(p)))
	w.emit(Event{Type: "drift", Level: LevelWarn, Cluster: c.name, Message: msg, Addresses: drifted, Changed: changed, Summary: summary})
}

// driftDetails is what differs, per drifted step: "<address> <field>" →
// the field's live and wanted values (redacted values stay redacted), or
// "<address>" → the step's action, kind, Before and After for a step
// without fields. Only a digest of it is kept and compared, never
// printed.
func driftDetails(p *plan.Plan, drifted []string) map[string]string {
	want := map[string]bool{}
	for _, a := range drifted {
		want[a] = true
	}
	out := map[string]string{}
	for _, s := range p.Steps {
		if !want[s.Address] {
			continue
		}
		if len(s.FieldDiffs) == 0 {
			out[s.Address] += fmt.Sprintf("%s %s %s → %s;", s.Action, s.Kind, stable(s.Before), stable(s.After))
			continue
		}
		for _, d := range s.FieldDiffs {
			out[s.Address+" "+d.Path] = fmt.Sprintf("%s %s → %s %s", s.Action, stable(d.Before), stable(d.After), d.Hunks)
		}
	}
	return out
}

// stable renders a value the same way on every reconcile (JSON: sorted
// keys, pointers followed).
func stable(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func detailDigest(details map[string]string) string {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, details[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// changedDetails lists the keys of now that are new or differ from prev,
// sorted.
func changedDetails(prev, now map[string]string) []string {
	var out []string
	for k, v := range now {
		if old, ok := prev[k]; !ok || old != v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// describeDrift is the Event body: one line per change with the manager
// that made it, bounded to what an Event message holds (1 KiB shown by
// kubectl describe; the API allows more).
func describeDrift(p *plan.Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		if s.Action == plan.ActionRead {
			continue
		}
		line := fmt.Sprintf("%s %s", s.Action, s.Address)
		var managers []string
		for _, d := range s.FieldDiffs {
			if d.Manager != "" {
				managers = append(managers, d.Path+" by "+d.Manager)
			} else if len(managers) < 3 {
				managers = append(managers, d.Path)
			}
		}
		if len(managers) > 0 {
			line += " (" + strings.Join(managers, ", ") + ")"
		}
		if b.Len()+len(line) > 900 {
			b.WriteString("; …")
			break
		}
		b.WriteString("; " + line)
	}
	return strings.TrimPrefix(b.String(), "; ")
}

func summaryLine(p *plan.Plan) string {
	s := p.Summary
	return fmt.Sprintf("Drift: %d to add, %d to change, %d to destroy, %d Neo4j %s (%d irreversible).",
		s.Add, s.Change, s.Destroy, s.Neo4jSteps, plural(s.Neo4jSteps, "step", "steps"), s.Irreversible)
}

// enforce applies a fresh plan under the cluster's apply Lease, minus the
// held steps. Every attempt is audited, whatever its end: per step when it
// reached apply, per drifted address when it ended before (see
// auditAttempt, auditEnforceFailed). An attempt that could not be
// recorded is not made.
func (c *cluster) enforce(ctx context.Context, drifted []string) error {
	w, r, t := c.w, c.w.Runner, c.t
	attempt := w.newAttemptID()
	failed := func(result string, err error) error {
		w.m.applies.WithLabelValues(c.name, result).Inc()
		c.auditEnforceFailed(attempt, drifted, err)
		return err
	}
	// Entries a failed write left behind go first; while they cannot be
	// written nothing is changed, so nothing happens unrecorded.
	if err := w.Audit.Flush(); err != nil {
		w.auditWritten(c.name, err)
		w.m.applies.WithLabelValues(c.name, "audit_unavailable").Inc()
		return fmt.Errorf("not enforcing: %w", err)
	}
	allow, why := c.allowIrreversible()
	lock, err := r.Kube.AcquireLock(ctx, t.Namespace, t.Cluster.Metadata.Name, w.opts.Identity, w.opts.LockTTL, 0)
	if err != nil {
		var le *kube.LockedError
		if errors.As(err, &le) {
			return failed("locked", fmt.Errorf("not enforcing now: %w", err))
		}
		return failed("failed", fmt.Errorf("take the apply lock: %w", err))
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = lock.Release(rctx)
	}()
	lctx := lock.Context()
	popts := w.planOptions(t)
	// Planned again under the lock from a full observation, as apply
	// does: the event-driven plan may be based on a partial cache.
	fresh, obs, err := r.Plan(lctx, t, popts)
	if err != nil {
		return failed("failed", fmt.Errorf("plan under the apply lock: %w", err))
	}
	kept, held := Split(fresh, allow)
	w.m.held.WithLabelValues(c.name).Set(float64(len(held)))
	if len(held) > 0 {
		var addrs []string
		for _, s := range held {
			addrs = append(addrs, fmt.Sprintf("%s (%s)", s.Address, s.Kind))
		}
		if d := strings.Join(addrs, ","); d != c.lastHeld {
			c.lastHeld = d
			msg := fmt.Sprintf("%d %s left for a person (irreversible or data-losing, or depending on one; %s): %s; run `neo4jctl apply -f %s`",
				len(held), plural(len(held), "step", "steps"), why, strings.Join(addrs, ", "), c.source)
			c.kubeEvent(ctx, "Warning", "WaitingForAPerson", msg)
			w.emit(Event{Type: "held", Level: LevelWarn, Cluster: c.name, Message: msg, Held: addrs})
		}
	} else {
		c.lastHeld = ""
	}
	if !kept.Applicable() {
		return failed("not_applicable", fmt.Errorf("not enforcing: the plan has refusals or a plane that could not be observed"))
	}
	if !kept.HasChanges() {
		return nil
	}
	ex := &apply.Executor{Kube: r.Kube, Options: apply.Options{ForceConflicts: w.opts.ForceConflicts, StepTimeout: w.opts.StepTimeout}}
	if !r.SkipNeo4j {
		ex.Neo4j = func(ctx context.Context) (apply.Neo4j, func(), error) {
			conn, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
			if err != nil {
				return nil, nil, err
			}
			return conn, closeFn, nil
		}
	}
	ex.Verify = func(ctx context.Context) (*plan.Plan, error) {
		p, _, err := r.Plan(ctx, t, popts)
		if err != nil {
			return nil, err
		}
		k, _ := Split(p, allow)
		return k, nil
	}
	// The plan's dry runs were made just now under the lock and nobody is
	// asked anything: the preflight need not repeat them (as apply
	// --auto-approve).
	res, err := ex.Apply(lctx, apply.Target{Namespace: t.Namespace, Objects: t.Objects, Inventory: t.Inventory, Observed: &obs.Kube}, kept)
	c.auditAttempt(attempt, kept, res, err)
	addrs := DriftedAddresses(kept)
	if err != nil {
		w.m.applies.WithLabelValues(c.name, "failed").Inc()
		msg := "enforce failed: " + err.Error()
		if res != nil && len(res.Steps) > 0 {
			msg = "enforce failed: " + res.SummaryLine() + " " + err.Error()
		}
		c.kubeEvent(ctx, "Warning", "EnforceFailed", msg)
		w.emit(Event{Type: "apply-failed", Level: LevelError, Cluster: c.name, Message: msg, Addresses: addrs})
		return errors.New(msg)
	}
	w.m.applies.WithLabelValues(c.name, "success").Inc()
	msg := fmt.Sprintf("reverted %d %s: %s %s", len(addrs), plural(len(addrs), "address", "addresses"), strings.Join(addrs, ", "), res.SummaryLine())
	c.kubeEvent(ctx, "Normal", "DriftReverted", msg)
	w.emit(Event{Type: "applied", Cluster: c.name, Message: msg, Addresses: addrs})
	// The revert moves the objects back; the informer events it causes
	// re-check them, and the report then says "drift resolved".
	return nil
}

// eventGVRs of the objects Events are attached to.
var (
	statefulSetGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	configMapGVR   = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// kubeEvent records a Kubernetes Event on the cluster's StatefulSet, or on
// its inventory ConfigMap when there is no StatefulSet yet, so `kubectl
// describe` and event exporters show drift where people look. Failing to
// record one is reported on the stream and otherwise ignored.
func (c *cluster) kubeEvent(ctx context.Context, typ, reason, msg string) {
	w := c.w
	c.mu.Lock()
	obj := c.sts
	c.mu.Unlock()
	if obj == nil {
		obj = w.inf.Get(configMapGVR, c.t.Namespace, c.t.Inventory.ParentName())
	}
	if obj == nil {
		return
	}
	if err := recordEvent(ctx, w.Runner.Kube, obj, typ, reason, msg, w.opts.Identity); err != nil && ctx.Err() == nil {
		w.emit(Event{Type: "error", Level: LevelWarn, Cluster: c.name, Message: "record Kubernetes Event: " + err.Error()})
	}
}

// audit writes a line per changed field (per step without field diffs)
// of p. A failed write is reported by auditWritten; the log keeps it.
func (c *cluster) audit(p *plan.Plan, action drift.AuditAction) {
	c.auditSteps(p, func(plan.Step) (drift.AuditAction, string) { return action, "" }, "")
}

// auditSteps writes the lines of p's steps (reads excepted), each with
// the action and error outcome gives it, under attempt.
func (c *cluster) auditSteps(p *plan.Plan, outcome func(plan.Step) (drift.AuditAction, string), attempt string) {
	l := c.w.Audit
	if l == nil {
		return
	}
	var first error
	write := func(e drift.AuditEntry) {
		e.Cluster, e.Attempt = c.name, attempt
		if err := l.Write(e); err != nil && first == nil {
			first = err
		}
	}
	for _, s := range p.Steps {
		if s.Action == plan.ActionRead {
			continue
		}
		action, errText := outcome(s)
		if len(s.FieldDiffs) == 0 {
			write(drift.AuditEntry{Action: action, Address: s.Address, Error: errText,
				BeforeDigest: drift.Digest(s.Before), AfterDigest: drift.Digest(s.After)})
			continue
		}
		for _, d := range s.FieldDiffs {
			write(drift.AuditEntry{Action: action, Address: s.Address, Field: d.Path, Error: errText,
				BeforeDigest: drift.Digest(d.Before), AfterDigest: drift.Digest(d.After), Manager: d.Manager, Sensitive: d.Sensitive})
		}
	}
	c.w.auditWritten(c.name, first)
}

// auditAttempt records an enforce attempt that reached apply, step by
// step: what took effect, what failed and why, and what was never reached
// — a partial apply leaves no step unrecorded, nor any step apply ran
// beyond p (res.TLSBaseline).
func (c *cluster) auditAttempt(attempt string, p *plan.Plan, res *apply.Result, applyErr error) {
	byID := map[string]apply.StepResult{}
	if res != nil {
		for _, r := range res.Steps {
			byID[r.ID] = r
		}
	}
	outcome := func(s plan.Step) (drift.AuditAction, string) {
		r, ok := byID[s.ID]
		switch {
		case ok && (r.Status == apply.StatusApplied || r.Status == apply.StatusUnchanged):
			return drift.ActionChangeApplied, ""
		case ok && r.Status == apply.StatusFailed:
			msg := "failed"
			if r.Err != nil {
				msg = r.Err.Error()
			}
			return drift.ActionChangeFailed, msg
		case !ok && applyErr == nil:
			// A step apply had nothing to do for (display only).
			return drift.ActionChangeApplied, ""
		}
		return drift.ActionChangeSkipped, ""
	}
	c.auditSteps(p, outcome, attempt)
	if res != nil && res.TLSBaseline != nil {
		// Steps apply added after its verifying plan (the certificate
		// baseline cert-manager issued meanwhile) are writes too.
		c.auditSteps(res.TLSBaseline, outcome, attempt)
	}
}

// auditEnforceFailed records an enforce attempt that ended before
// applying anything: one line per drifted address it meant to revert.
func (c *cluster) auditEnforceFailed(attempt string, drifted []string, err error) {
	l := c.w.Audit
	if l == nil {
		return
	}
	var first error
	for _, a := range drifted {
		if werr := l.Write(drift.AuditEntry{Action: drift.ActionEnforceFailed, Cluster: c.name, Address: a, Attempt: attempt, Error: err.Error()}); werr != nil && first == nil {
			first = werr
		}
	}
	c.w.auditWritten(c.name, first)
}

// checkPolicies evaluates the cluster file's compliance policies against
// the live state just observed: the gauge always reflects the current
// count per severity; events and audit lines are written when the set of
// violations changes.
func (c *cluster) checkPolicies(k state.Kube, neo state.Neo4j) {
	rules := drift.RulesOf(c.t.Cluster)
	if len(rules) == 0 {
		return
	}
	vs := drift.EvaluateLive(rules, pipeline.Observed{Kube: k, Neo4j: neo})
	counts := map[drift.Severity]int{}
	var keys []string
	for _, v := range vs {
		counts[v.Severity]++
		keys = append(keys, v.Rule+"|"+v.Target()+"|"+v.Message)
	}
	for _, sev := range []drift.Severity{drift.SeverityInfo, drift.SeverityWarning, drift.SeverityError, drift.SeverityCritical} {
		c.w.m.violation.WithLabelValues(c.name, string(sev)).Set(float64(counts[sev]))
	}
	sort.Strings(keys)
	digest := strings.Join(keys, "\n")
	if digest == c.lastViolations {
		return
	}
	c.lastViolations = digest
	for _, v := range vs {
		level := LevelWarn
		if v.Severity.AtLeast(drift.SeverityError) {
			level = LevelError
		}
		c.w.emit(Event{Type: "violation", Level: level, Cluster: c.name,
			Message: fmt.Sprintf("policy %s [%s]: %s: %s", v.Rule, v.Severity, v.Target(), v.Message), Addresses: []string{v.Address}})
		if c.w.Audit != nil {
			c.w.auditWritten(c.name, c.w.Audit.Write(drift.AuditEntry{Action: drift.ActionViolation, Cluster: c.name, Address: v.Address, Field: v.Field,
				BeforeDigest: drift.Digest(v.Value), Severity: v.Severity, Rule: v.Rule}))
		}
	}
}
