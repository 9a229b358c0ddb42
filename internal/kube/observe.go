package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/apply"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Observation modes reported in state.Kube.Mode.
const (
	ModeDryRun     = "dry-run"
	ModeStructural = "structural"
)

// Observe reads everything plan needs about one cluster's Kubernetes plane:
// for every desired object its live state and the result of a forced
// server-side-apply dry run (what apply would produce), both normalised; the
// inventory's members that are no longer desired (Orphans); and the Pods of
// the cluster's StatefulSets. Objects are handled in parallel by at most
// Options.Workers requests at a time. The requests are few: one dry run
// per object, and the live objects come from the LISTs that find the
// orphans (one per kind) rather than a GET each; only an object the dry run
// says exists and no list holds is read on its own. An object provably
// unchanged since neo4jctl applied it (provablyUnchanged: the applied-hash
// stamp, its field managers, its values) needs no dry run at all.
//
// An API server that cannot be reached yields Reachable=false with the reason
// and a nil error, so a plan can still show the other plane. An RBAC denial
// is returned as an error (IsForbidden): without patch permission use
// ObserveStructural.
func (c *Client) Observe(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef, opts ...ObserveOption) (state.Kube, error) {
	return c.observe(ctx, desired, inv, true, opts)
}

// ObserveStructural is Observe for read-only credentials (get/list only): no
// dry run, so Predicted and Conflicts stay empty and plan compares Desired
// with Live over the fields neo4jctl renders. Mode says "structural".
func (c *Client) ObserveStructural(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef, opts ...ObserveOption) (state.Kube, error) {
	return c.observe(ctx, desired, inv, false, opts)
}

func (c *Client) observe(parent context.Context, desired []*unstructured.Unstructured, inv InventoryRef, dryRun bool, opts []ObserveOption) (state.Kube, error) {
	var opt observeOptions
	for _, f := range opts {
		f(&opt)
	}
	pf := opt.prefetched
	k := state.Kube{Mode: ModeStructural, Objects: make([]state.Object, len(desired))}
	if dryRun {
		k.Mode = ModeDryRun
	}
	want := map[objectKey]bool{}
	for _, u := range desired {
		if cl := u.GetLabels()[ClusterLabel]; cl != "" && cl != inv.Cluster {
			return state.Kube{}, fmt.Errorf("observe %s: labelled %s=%s, but the inventory is cluster %q", u.GetName(), ClusterLabel, cl, inv.Cluster)
		}
		ns := u.GetNamespace()
		if ns == "" {
			ns = inv.Namespace
		}
		want[objectKey{gk: u.GroupVersionKind().GroupKind(), namespace: ns, name: u.GetName()}] = true
	}

	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// The server version doubles as the reachability check. It is asked
	// alongside the other requests, not before them: waiting for it would
	// add a round trip to every plan. Its failure decides the outcome
	// (unreachable), so the other requests' failures do not cancel it.
	var (
		version    string
		versionErr error
		versionOK  = make(chan struct{})
	)
	go func() {
		defer close(versionOK)
		if version, versionErr = c.cachedServerVersion(parent); versionErr != nil {
			cancel()
		}
	}()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		limit    = make(workers, c.opts.Workers)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				fail(err)
			}
		}()
	}
	// The inventory's members are listed, one LIST per kind: the lists
	// give the orphans and the live objects (no GET per object). They and
	// the Pods do not wait for a worker: the inventory and then its lists
	// are the longest chain of requests, and queued behind the objects
	// they would finish last.
	ms := newMembers(inv.Namespace, []string{inv.ID()})
	// With dry runs, the member lists are read from the watch cache: a
	// consistent list waits for the cache to catch up with the latest
	// write anywhere in the cluster, up to 100 ms after any write (apply's
	// own Lease, a controller's status update). Each listed object is
	// checked against its dry run, which the server answers from storage
	// with the object's resourceVersion: one the cache was behind on is
	// read again with a GET. Orphans are confirmed with a GET
	// (confirmOrphans). Lists are consistent without dry runs (nothing to
	// check against: structural observations) and after this client's
	// own writes: a verifying plan skips the dry runs of objects it wrote
	// (lastWrite), and must see whatever changed them since.
	ms.cached = dryRun && !c.wroteRecently()
	// The dry runs wait for the inventory's parent to be read (one small
	// GET): sent alongside a dozen dry runs it queues behind them in the
	// API server, and the lists that depend on it would start only when
	// the dry runs end. Read first, the lists run alongside the dry runs.
	parentRead := make(chan struct{})
	run(func() error {
		kinds, found, err := c.inventoryMembers(ctx, inv, pf, ms, sync.OnceFunc(func() { close(parentRead) }))
		if err != nil || !found {
			return err
		}
		o, err := c.orphansOf(ctx, inv, kinds, want, pf, ms)
		k.Orphans, k.Foreign = splitForeign(o, inv)
		return err
	})
	run(func() error {
		var (
			p   []state.Pod
			err error
		)
		if opt.pods != nil {
			p, err = opt.pods(ctx)
		} else {
			p, err = c.ClusterPods(ctx, inv)
		}
		k.Pods = p
		return err
	})
	run(func() error {
		var err error
		k.Claims, k.StorageClasses, err = c.observeClaims(ctx, desired, inv, pf)
		k.ClaimsObserved = err == nil
		return err
	})
	for i, u := range desired {
		run(func() error {
			if dryRun && !waitClosed(ctx, parentRead) {
				return ctx.Err()
			}
			listed := dryRun && mayBeListed(ctx, pf, inv)
			o, err := c.observeObject(ctx, u, inv.Namespace, dryRun, pf, ms, limit, listed)
			k.Objects[i] = o
			return err
		})
	}
	wg.Wait()
	<-versionOK
	if err := parent.Err(); err != nil {
		return state.Kube{}, err
	}
	if versionErr != nil {
		return state.Kube{Reachable: false, Reason: fmt.Sprintf("Kubernetes API server %s: %v", c.config.Host, versionErr), Mode: k.Mode}, nil
	}
	if firstErr != nil {
		return state.Kube{}, firstErr
	}
	k.Reachable, k.ServerVersion = true, version
	return k, nil
}

func (c *Client) resourceFor(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return c.dyn.Resource(m.Resource)
	}
	return c.dyn.Resource(m.Resource).Namespace(namespace)
}

// prepared is a desired object made ready to send: namespace filled in (or
// cleared for cluster-scoped kinds) and labelled as a member of its
// cluster's inventory.
type prepared struct {
	obj     *unstructured.Unstructured
	ri      dynamic.ResourceInterface
	address string
	// gvr and namespace locate the object for requests the dynamic
	// client cannot make (a dry run that reports its status code).
	gvr       schema.GroupVersionResource
	namespace string
}

func (c *Client) prepare(u *unstructured.Unstructured, defaultNamespace string) (prepared, error) {
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return prepared{}, fmt.Errorf("resolve %s: %w", gvk, err)
	}
	obj := u.DeepCopy()
	ns := ""
	if m.Scope.Name() != meta.RESTScopeNameRoot {
		ns = obj.GetNamespace()
		if ns == "" {
			ns = defaultNamespace
		}
		if ns == "" {
			ns = c.namespace
		}
	}
	obj.SetNamespace(ns)
	markMember(obj, ns)
	return prepared{obj: obj, ri: c.resourceFor(m, ns), address: Address(gvk, ns, obj.GetName()), gvr: m.Resource, namespace: ns}, nil
}

// mayBeListed reports whether the member lists can hold inv's objects, once
// its inventory parent has been read: false when the fleet's list of
// parents says the cluster has none (a fresh cluster of a fleet, whose dry
// runs must not wait for the fleet's lists). Without a fleet the
// observation's own lists end at once when there is no parent.
func mayBeListed(ctx context.Context, pf *Prefetched, inv InventoryRef) bool {
	if pf == nil {
		return true
	}
	cm, ok := pf.parent(ctx, inv)
	return !ok || cm != nil
}

func (c *Client) observeObject(ctx context.Context, u *unstructured.Unstructured, defaultNamespace string, dryRun bool, pf *Prefetched, ms *members, w workers, listed bool) (state.Object, error) {
	gvk := u.GroupVersionKind()
	p, err := c.prepare(u, defaultNamespace)
	if meta.IsNoMatchError(err) {
		// A kind the cluster does not serve (a CRD not installed): the
		// object cannot be planned, but the others can.
		ns := u.GetNamespace()
		if ns == "" {
			ns = defaultNamespace
		}
		return state.Object{
			Address: Address(gvk, ns, u.GetName()), Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
			Namespace: ns, Name: u.GetName(), Desired: u.Object,
			DryRunError: notServedMessage(gvk),
		}, nil
	}
	if err != nil {
		return state.Object{}, fmt.Errorf("observe %s/%s: %w", u.GetKind(), u.GetName(), err)
	}
	o := state.Object{
		Address: p.address, Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: p.obj.GetNamespace(), Name: p.obj.GetName(),
		// Without the applied-hash stamp, as Live and Predicted are
		// (Normalize): bookkeeping, not configuration.
		Desired: unstamped(p.obj.Object, false),
	}
	if !dryRun {
		live, _, err := c.readLive(ctx, p, pf, ms, w)
		if err != nil {
			if isNotServed(err) {
				o.DryRunError = notServedMessage(gvk)
				return o, nil
			}
			return o, fmt.Errorf("observe %s: %w", p.address, err)
		}
		if live != nil {
			setLive(&o, live)
		}
		return o, nil
	}
	// The dry run goes first: a forced apply of an object that does not
	// exist answers 201 Created, and then there is no live object to read.
	// A plan of a new cluster costs one request per object instead of two;
	// only an object that exists (or a refusal, which does not say) is read.
	var (
		pred      *unstructured.Unstructured
		created   bool
		dryErr    error
		live      *unstructured.Unstructured
		liveRead  bool
		fromCache bool
	)
	if wrote, ok := c.lastWrite(p); ok {
		// This process applied exactly this object a moment ago (apply's
		// verifying plan). The object is read again, consistently (the
		// lists are not served from the watch cache after a write); if the
		// server has not changed it since (same resourceVersion), a forced
		// dry run of the same object would return what that apply
		// returned, so the apply's answer stands in for the dry run.
		// Changed since (a controller, another writer), it is dry-run as
		// always.
		if live, fromCache, err = c.readLive(ctx, p, pf, ms, w); err != nil {
			return o, fmt.Errorf("observe %s: %w", p.address, err)
		}
		liveRead = true
		switch {
		case fromCache || live == nil:
		case live.GetResourceVersion() == wrote.stored.GetResourceVersion():
			pred = wrote.stored // only read below (Normalize copies)
		case onlyStatusMoved(wrote.stored, live):
			// Only a controller's status update moved it (a StatefulSet's
			// or a PodDisruptionBudget's, seconds after the write): the
			// forced dry run would apply the same fields to the same
			// object and change nothing, so it would return the live
			// object as it is.
			pred = live
		}
	}
	if pred == nil && listed && stampOf(p.obj) != "" {
		// Another process (an earlier apply) may have applied exactly this
		// configuration, and nobody touched the object since: then the dry
		// run would answer the live object as it is (provablyUnchanged).
		// Only a live object the member lists hold is considered, so a
		// new object costs no extra read before its dry run.
		if !liveRead {
			live, fromCache, liveRead = c.readListed(ctx, p, pf, ms)
		}
		if live != nil && provablyUnchanged(p.obj, live) {
			// The skip stands for a dry run these credentials could
			// have made, or it would hide the Forbidden that turns a
			// read-only plan structural (unchanged_grant.go). Asked
			// alongside the GET below, once per namespace.
			mayDryRun := c.startMayDryRun(ctx, p)
			if fromCache {
				// The list came from the watch cache, which may be a
				// moment behind a change: the proof stands on the object
				// as stored. A GET is still far cheaper than a dry run.
				if live, err = c.getWithWorker(ctx, p, w); err != nil {
					return o, fmt.Errorf("observe %s: %w", p.address, err)
				}
				fromCache, liveRead = false, live != nil
			}
			if live != nil && provablyUnchanged(p.obj, live) && mayDryRun() {
				pred = live // only read below (Normalize copies)
			}
		}
	}
	if pred == nil {
		if err := w.do(ctx, func() { pred, created, dryErr = c.dryRunApply(ctx, p) }); err != nil {
			return o, err
		}
	}
	if isNotServed(dryErr) {
		// The kind is mapped without discovery (a CRD neo4jctl renders)
		// but the server does not serve it.
		o.DryRunError = notServedMessage(gvk)
		return o, nil
	}
	if dryErr != nil && !objectLevelRefusal(dryErr) {
		return o, fmt.Errorf("observe %s: dry-run apply: %w", p.address, dryErr)
	}
	var liveManaged []managedEntry
	switch {
	case created:
		live = nil
	case !liveRead:
		if live, fromCache, err = c.readLive(ctx, p, pf, ms, w); err != nil {
			return o, fmt.Errorf("observe %s: %w", p.address, err)
		}
	}
	if fromCache && live != nil && (pred == nil || pred.GetResourceVersion() != live.GetResourceVersion()) {
		// The watch cache was behind the dry run (or there is no dry run
		// to check against): read the object from storage.
		if live, err = c.getWithWorker(ctx, p, w); err != nil {
			return o, fmt.Errorf("observe %s: %w", p.address, err)
		}
	}
	// One stored version on both sides. Another writer may have changed
	// the object between its read and its dry run — the PV controller
	// binds a new claim seconds after apply — and a live object older or
	// newer than the prediction shows that writer's fields as a change
	// neo4jctl plans. Read it again from storage; if it moved past the
	// dry run, dry-run again. Twice at most: an object that keeps being
	// written is compared as last read. Only versions that differ in what
	// is compared are read again: a status write in between (a
	// StatefulSet's controller, every few seconds during a rollout) costs
	// no request.
	for i := 0; i < 2 && live != nil && pred != nil && dryErr == nil && !created &&
		live.GetResourceVersion() != pred.GetResourceVersion() && !reflect.DeepEqual(Normalize(live.Object), Normalize(pred.Object)); i++ {
		if live, err = c.getWithWorker(ctx, p, w); err != nil {
			return o, fmt.Errorf("observe %s: %w", p.address, err)
		}
		if live == nil || live.GetResourceVersion() == pred.GetResourceVersion() {
			break
		}
		if err := w.do(ctx, func() { pred, created, dryErr = c.dryRunApply(ctx, p) }); err != nil {
			return o, err
		}
	}
	if created {
		live = nil
	}
	if live != nil {
		liveManaged = managedFieldsOf(live.Object)
		o.UID = string(live.GetUID())
		o.Generation = live.GetGeneration()
		o.Managers = managersOf(liveManaged)
		o.Live = Normalize(live.Object)
		o.Fingerprint = Fingerprint(o.Live)
	}
	if dryErr != nil {
		o.DryRunError = dryErr.Error()
		o.Immutable = IsImmutable(dryErr)
		return o, nil
	}
	o.Predicted = Normalize(pred.Object)
	if live != nil {
		predManaged := managedFieldsOf(pred.Object)
		alignLists(shapeOfEntries(liveManaged, predManaged), o.Live, o.Predicted)
		o.Conflicts = conflictsOf(liveManaged, predManaged, FieldManager)
	}
	return o, nil
}

// readLive reads the live object (nil when it does not exist): from the
// fleet's or the inventory's member lists when they hold it, else with a
// GET (a kind not listed, or an object without the membership label, e.g.
// applied by another tool). fromCache says it came from a list served by
// the watch cache (members.cached).
func (c *Client) readLive(ctx context.Context, p prepared, pf *Prefetched, ms *members, w workers) (live *unstructured.Unstructured, fromCache bool, err error) {
	if pf != nil {
		if live, ok := pf.ms.take(ctx, p); ok && live != nil {
			return live, pf.ms.cached, nil
		}
	}
	if live, ok := ms.take(ctx, p); ok && live != nil {
		return live, ms.cached, nil
	}
	live, err = c.getWithWorker(ctx, p, w)
	return live, false, err
}

// readListed is readLive without the GET: the live object if the fleet's
// or the observation's member lists hold it (read is false otherwise, and
// the object is then read as readLive reads it).
func (c *Client) readListed(ctx context.Context, p prepared, pf *Prefetched, ms *members) (live *unstructured.Unstructured, fromCache, read bool) {
	if pf != nil {
		if live, ok := pf.ms.take(ctx, p); ok && live != nil {
			return live, pf.ms.cached, true
		}
	}
	if live, ok := ms.take(ctx, p); ok && live != nil {
		return live, ms.cached, true
	}
	return nil, false, false
}

// getWithWorker is get holding one of the observation's workers.
func (c *Client) getWithWorker(ctx context.Context, p prepared, w workers) (live *unstructured.Unstructured, err error) {
	if werr := w.do(ctx, func() { live, err = c.get(ctx, p) }); werr != nil {
		return nil, werr
	}
	return live, err
}

// workers bounds the requests an observation has in flight at once
// (Options.Workers). Only requests hold a worker: an object waiting for the
// member lists must not keep the others from sending theirs.
type workers chan struct{}

// do runs f holding a worker; it fails only if ctx ends first.
func (w workers) do(ctx context.Context, f func()) error {
	select {
	case w <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w }()
	f()
	return nil
}

// notServedMessage says that the server does not serve an object's kind.
func notServedMessage(gvk schema.GroupVersionKind) string {
	return fmt.Sprintf("the API server does not serve %s (is its CRD installed?)", gvk)
}

// isNotServed reports a 404 that is not about an object but about its
// resource: the API server answers a path it does not serve with a plain
// "404 page not found", not a Status (client-go marks it as an unexpected
// response). A missing object is a Status naming it.
func isNotServed(err error) bool {
	return apierrors.IsNotFound(err) && apierrors.IsUnexpectedServerError(err)
}

// dryRunApply sends a forced server-side-apply dry run of p (retrying
// transient errors) and reports whether the server would create the object
// (201 Created) rather than update it (200 OK).
func (c *Client) dryRunApply(ctx context.Context, p prepared) (pred *unstructured.Unstructured, created bool, err error) {
	return c.sendApply(ctx, "dry-run "+p.address, p, true, true)
}

// sendApply sends one server-side apply of p, retrying transient errors,
// and returns what the server answered and whether it created the object
// (201). The dynamic client's Apply cannot report the status code or ask
// for fieldValidation.
func (c *Client) sendApply(ctx context.Context, what string, p prepared, force, dryRun bool) (out *unstructured.Unstructured, created bool, err error) {
	segments := []string{"api"}
	if p.gvr.Group != "" {
		segments = []string{"apis", p.gvr.Group}
	}
	segments = append(segments, p.gvr.Version)
	if p.namespace != "" {
		segments = append(segments, "namespaces", p.namespace)
	}
	segments = append(segments, p.gvr.Resource, p.obj.GetName())
	err = c.retry(ctx, what, func(ctx context.Context) error {
		req, err := apply.NewRequest(c.restClient, p.obj.Object)
		if err != nil {
			return err
		}
		req = req.AbsPath(segments...).
			Param("fieldManager", FieldManager).
			Param("force", strconv.FormatBool(force)).
			// Without it the server parses the body a third time, as
			// strict YAML, only to add warnings about unknown fields
			// (5-8% of a fleet plan's API server CPU); client-go would
			// log them through klog, which neo4jctl silences, and the
			// stored object is the same. Fields the server is too old
			// for are reported by plan itself (VersionWarnings).
			Param("fieldValidation", "Ignore")
		if dryRun {
			req = req.Param("dryRun", metav1.DryRunAll)
		}
		res := req.Do(ctx)
		var code int
		res.StatusCode(&code)
		got := &unstructured.Unstructured{}
		if err := res.Into(got); err != nil {
			return err
		}
		out, created = got, code == http.StatusCreated
		return nil
	})
	return out, created, err
}

// get returns the live object, nil when it does not exist.
func (c *Client) get(ctx context.Context, p prepared) (*unstructured.Unstructured, error) {
	var live *unstructured.Unstructured
	err := c.retry(ctx, "get "+p.address, func(ctx context.Context) error {
		var err error
		live, err = p.ri.Get(ctx, p.obj.GetName(), metav1.GetOptions{})
		return err
	})
	if IsNotFound(err) {
		return nil, nil
	}
	return live, err
}

// objectLevelRefusal reports dry-run errors that concern the object itself
// (invalid or immutable field, admission refusal, quota, missing namespace)
// rather than the whole observation (RBAC, network, cancelled).
func objectLevelRefusal(err error) bool {
	switch {
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsNotFound(err),
		apierrors.IsConflict(err), apierrors.IsRequestEntityTooLargeError(err), apierrors.IsMethodNotSupported(err):
		return true
	case apierrors.IsForbidden(err):
		return !isRBACDenial(err)
	}
	return false
}

// isRBACDenial tells an authorizer's 403 ("User … cannot patch resource …")
// from an admission plugin's (quota, pod security), which is about the object.
func isRBACDenial(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	msg := se.Status().Message
	return strings.Contains(msg, " cannot ") && strings.Contains(msg, "resource")
}

// IsImmutable reports an API server refusal to change an immutable field: a
// change that needs the object replaced (StatefulSet selector, claim
// templates, a Service's clusterIP, a ConfigMap marked immutable...).
func IsImmutable(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "field is immutable") ||
		strings.Contains(msg, "updates to statefulset spec for fields other than") ||
		strings.Contains(msg, "may not change once set") ||
		strings.Contains(msg, "is immutable")
}

// ClusterPods reads the Pods of the cluster's StatefulSets with one LIST,
// sorted by StatefulSet and ordinal. A Pod being deleted is not Ready.
func (c *Client) ClusterPods(ctx context.Context, inv InventoryRef) ([]state.Pod, error) {
	var list *corev1.PodList
	err := c.retry(ctx, "list pods", func(ctx context.Context) error {
		var err error
		// From the watch cache (resourceVersion 0): Pods change on their
		// own all the time, so a list a moment old is as good as any, and
		// a consistent list waits up to 100 ms for the cache after any
		// write in the cluster.
		list, err = c.core.Pods(inv.Namespace).List(ctx, metav1.ListOptions{LabelSelector: inv.Pods(), ResourceVersion: "0"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list Pods of cluster %s/%s: %w", inv.Namespace, inv.Cluster, err)
	}
	var out []state.Pod
	for i := range list.Items {
		if p, ok := podState(&list.Items[i]); ok {
			out = append(out, p)
		}
	}
	sortPods(out)
	return out, nil
}

// sortPods orders Pods by StatefulSet, then ordinal.
func sortPods(out []state.Pod) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].StatefulSet != out[j].StatefulSet {
			return out[i].StatefulSet < out[j].StatefulSet
		}
		return out[i].Ordinal < out[j].Ordinal
	})
}

// podState converts a Pod controlled by a StatefulSet; other Pods with the
// cluster label (backup Jobs) are not servers.
func podState(p *corev1.Pod) (state.Pod, bool) {
	owner := metav1.GetControllerOf(p)
	if owner == nil || owner.Kind != "StatefulSet" {
		return state.Pod{}, false
	}
	ord, err := strconv.Atoi(strings.TrimPrefix(p.Name, owner.Name+"-"))
	if err != nil || !strings.HasPrefix(p.Name, owner.Name+"-") {
		return state.Pod{}, false
	}
	return state.Pod{
		Name: p.Name, Namespace: p.Namespace, StatefulSet: owner.Name, Ordinal: ord,
		Ready: podReady(p) && p.DeletionTimestamp == nil, Phase: string(p.Status.Phase),
	}, true
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// writeTTL is how long a write record stands in for a dry run: long enough
// for the verifying plan of the apply that wrote it (a fleet's waits for
// the other clusters), short enough that a long-running watch dry-runs
// again what a webhook or a server upgrade since might now change.
const writeTTL = 10 * time.Minute

// written is what this process last applied to one object (by address),
// when, and what the server stored.
type written struct {
	sent   map[string]any
	stored *unstructured.Unstructured
	at     time.Time
}

// rememberWrite records a successful apply of p (see lastWrite).
func (c *Client) rememberWrite(p prepared, stored *unstructured.Unstructured) {
	if stored == nil || stored.GetResourceVersion() == "" {
		return
	}
	now := time.Now()
	c.writes.Store(p.address, written{
		sent:   p.obj.Object, // prepare's own copy, not shared
		stored: stored.DeepCopy(),
		at:     now,
	})
	c.lastWriteAt.Store(now.UnixNano())
}

// lastWrite returns this process's last apply of p's object, if it sent
// exactly what p holds now, within writeTTL.
func (c *Client) lastWrite(p prepared) (written, bool) {
	v, ok := c.writes.Load(p.address)
	if !ok {
		return written{}, false
	}
	w := v.(written)
	if time.Since(w.at) > writeTTL || !equality.Semantic.DeepEqual(w.sent, p.obj.Object) {
		return written{}, false
	}
	return w, true
}

// wroteRecently reports an apply by this client within writeTTL.
func (c *Client) wroteRecently() bool {
	at := c.lastWriteAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) <= writeTTL
}

// onlyStatusMoved reports whether live differs from stored, the object
// this process's apply stored, only by what a status write changes: the
// status, the resourceVersion, and managedFields entries of the status
// subresource. Everything an apply reads or writes — spec, labels,
// annotations, owners, finalizers, the generation and every
// non-status manager's fields — is the same, so applying the same
// configuration again is a no-op on live.
func onlyStatusMoved(stored, live *unstructured.Unstructured) bool {
	if stored.GetUID() != live.GetUID() || stored.GetGeneration() != live.GetGeneration() {
		return false
	}
	strip := func(u *unstructured.Unstructured) (map[string]any, []metav1.ManagedFieldsEntry) {
		m := make(map[string]any, len(u.Object))
		for k, v := range u.Object {
			if k != "status" && k != "metadata" {
				m[k] = v
			}
		}
		md := map[string]any{}
		if in, ok := u.Object["metadata"].(map[string]any); ok {
			for k, v := range in {
				if k != "resourceVersion" && k != "managedFields" {
					md[k] = v
				}
			}
		}
		m["metadata"] = md
		var fields []metav1.ManagedFieldsEntry
		for _, e := range u.GetManagedFields() {
			if e.Subresource != "status" {
				fields = append(fields, e)
			}
		}
		return m, fields
	}
	a, af := strip(stored)
	b, bf := strip(live)
	return equality.Semantic.DeepEqual(a, b) && equality.Semantic.DeepEqual(af, bf)
}
