package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// Informers is a set of dynamic informers: one shared factory per
// namespace, restricted to objects with the ClusterLabel label, and
// optionally one more on label-selected ConfigMaps (watch's cluster files).
// It lives here rather than in its user (drift/watch) because informers
// are API-server connections, and this package is the only one that opens
// them. No resync: a resync replays the cache without a request, but would
// also wake every cluster for nothing. Its methods are safe for concurrent
// use.
type Informers struct {
	dyn    dynamic.Interface
	handle func(u *unstructured.Unstructured, deleted bool)

	mu        sync.Mutex
	stopCh    chan struct{}
	factories map[string]dynamicinformer.DynamicSharedInformerFactory
	handled   map[string]bool // namespace/resource with a handler
	source    cache.SharedIndexInformer
	all       []cache.SharedIndexInformer
	// fatal is the first Forbidden/Unauthorized list or watch error;
	// denied is closed when it is set.
	fatal  error
	denied chan struct{}
}

// NewInformers returns an empty informer set on c's API server. handle is
// called for every add, update (with the new object) and delete (deleted
// true, also for a delete whose final state the watch missed) of an object
// of the kinds later passed to Ensure; it may be called from several
// goroutines at once. Nothing is watched until Ensure or WatchSource.
func (c *Client) NewInformers(handle func(u *unstructured.Unstructured, deleted bool)) *Informers {
	return &Informers{dyn: c.dyn, handle: handle, stopCh: make(chan struct{}), denied: make(chan struct{}),
		factories: map[string]dynamicinformer.DynamicSharedInformerFactory{}, handled: map[string]bool{}}
}

// stripManagedFields keeps the cache small: watch hashes specs and never
// reads managedFields from the cache (Observe reads them live).
func stripManagedFields(obj any) (any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.SetManagedFields(nil)
		if ann := u.GetAnnotations(); ann != nil {
			if _, ok := ann["kubectl.kubernetes.io/last-applied-configuration"]; ok {
				delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
				u.SetAnnotations(ann)
			}
		}
	}
	return obj, nil
}

// Ensure starts informers on the ClusterLabel-labelled objects of the
// resources gvrs in namespace ns. Resources already watched in ns are
// skipped, so calling it again with a longer list only adds informers.
// Cached objects have no managedFields and no last-applied annotation.
func (i *Informers) Ensure(ns string, gvrs []schema.GroupVersionResource) {
	i.EnsureSelected(ns, ClusterLabel, gvrs)
}

// EnsureSelected is Ensure for the objects selector selects, for objects
// that do not carry ClusterLabel: an adopted Helm cluster's keep the
// chart's labels. Each selector has informers of its own; Get reads only
// Ensure's.
func (i *Informers) EnsureSelected(ns, selector string, gvrs []schema.GroupVersionResource) {
	i.mu.Lock()
	defer i.mu.Unlock()
	fk := ns
	if selector != ClusterLabel {
		fk = ns + "?" + selector
	}
	f, ok := i.factories[fk]
	if !ok {
		f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(i.dyn, 0, ns, func(o *metav1.ListOptions) {
			o.LabelSelector = selector
		})
		i.factories[fk] = f
	}
	for _, gvr := range gvrs {
		key := fk + "/" + gvr.String()
		if i.handled[key] {
			continue
		}
		i.handled[key] = true
		inf := f.ForResource(gvr).Informer()
		_ = inf.SetTransform(stripManagedFields)
		_ = inf.SetWatchErrorHandlerWithContext(i.watchError(gvr.Resource + " in " + ns))
		i.all = append(i.all, inf)
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { i.dispatch(obj, false) },
			UpdateFunc: func(_, obj any) { i.dispatch(obj, false) },
			DeleteFunc: func(obj any) { i.dispatch(obj, true) },
		})
	}
	f.Start(i.stopCh)
}

func (i *Informers) dispatch(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		i.handle(u, deleted)
	}
}

// WatchSource starts the informer on the ConfigMaps in ns matching the
// label selector (watch's cluster files); changed is called on every add,
// update or delete of one of them. Their contents are read with
// SourceObjects and SourceObject.
func (i *Informers) WatchSource(ns, selector string, changed func()) {
	i.mu.Lock()
	defer i.mu.Unlock()
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(i.dyn, 0, ns, func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	})
	i.source = f.ForResource(configMapGVR).Informer()
	_ = i.source.SetWatchErrorHandlerWithContext(i.watchError("cluster-file ConfigMaps (" + selector + ") in " + ns))
	_, _ = i.source.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { changed() },
		UpdateFunc: func(_, _ any) { changed() },
		DeleteFunc: func(any) { changed() },
	})
	f.Start(i.stopCh)
}

// SourceObjects lists the ConfigMaps in the WatchSource informer's cache
// (nil before WatchSource).
func (i *Informers) SourceObjects() []*unstructured.Unstructured {
	i.mu.Lock()
	src := i.source
	i.mu.Unlock()
	if src == nil {
		return nil
	}
	var out []*unstructured.Unstructured
	for _, o := range src.GetStore().List() {
		if u, ok := o.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// SourceObject returns one ConfigMap from the WatchSource informer's
// cache, or nil.
func (i *Informers) SourceObject(ns, name string) *unstructured.Unstructured {
	i.mu.Lock()
	src := i.source
	i.mu.Unlock()
	if src == nil {
		return nil
	}
	o, ok, _ := src.GetStore().GetByKey(ns + "/" + name)
	if !ok {
		return nil
	}
	u, _ := o.(*unstructured.Unstructured)
	return u
}

// Get returns an object from the cache of the resource's informer in ns,
// or nil when it is not cached or Ensure never started that informer. The
// object is the cache's: callers must not modify it.
func (i *Informers) Get(gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	i.mu.Lock()
	f, ok := i.factories[ns]
	handled := i.handled[ns+"/"+gvr.String()]
	i.mu.Unlock()
	if !ok || !handled {
		return nil
	}
	o, exists, _ := f.ForResource(gvr).Informer().GetStore().GetByKey(ns + "/" + name)
	if !exists {
		return nil
	}
	u, _ := o.(*unstructured.Unstructured)
	return u
}

// Sync waits until every started informer has listed once. An informer
// whose list or watch is refused (RBAC) fails the sync at once with the
// API server's message instead of retrying forever: a ServiceAccount
// missing a verb must be a loud, immediate error.
func (i *Informers) Sync(ctx context.Context) error {
	for {
		i.mu.Lock()
		var pending []cache.SharedIndexInformer
		for _, inf := range i.all {
			if !inf.HasSynced() {
				pending = append(pending, inf)
			}
		}
		if i.source != nil && !i.source.HasSynced() {
			pending = append(pending, i.source)
		}
		err := i.fatal
		i.mu.Unlock()
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("informers did not sync: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// watchError is every informer's list/watch error handler.
func (i *Informers) watchError(what string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			i.mu.Lock()
			if i.fatal == nil {
				i.fatal = fmt.Errorf("watch %s: %w", what, err)
				close(i.denied)
			}
			i.mu.Unlock()
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// Denied is closed once a list or watch has been refused (RBAC). A watch
// refused after Sync returned — the LIST was allowed, the WATCH is not —
// leaves a cache that never changes: the caller must stop, as Sync would
// have. Err then says what was refused.
func (i *Informers) Denied() <-chan struct{} { return i.denied }

// Err returns the first refused list or watch, or nil.
func (i *Informers) Err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fatal
}

// Stop stops every informer (their watches close). It is idempotent.
func (i *Informers) Stop() {
	i.mu.Lock()
	defer i.mu.Unlock()
	select {
	case <-i.stopCh:
	default:
		close(i.stopCh)
	}
	for _, f := range i.factories {
		f.Shutdown()
	}
}
