package watch

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

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// informers holds one shared dynamic informer factory per namespace,
// restricted to objects with the neo4jctl.io/cluster label, and one more
// for the ConfigMaps holding cluster files. No resync: a resync replays
// the cache without a request, but would also wake every cluster for
// nothing.
type informers struct {
	dyn    dynamic.Interface
	handle func(u *unstructured.Unstructured, deleted bool)

	mu        sync.Mutex
	stopCh    chan struct{}
	factories map[string]dynamicinformer.DynamicSharedInformerFactory
	handled   map[string]bool // namespace/resource with a handler
	source    cache.SharedIndexInformer
	all       []cache.SharedIndexInformer
	// fatal is the first Forbidden/Unauthorized list or watch error.
	fatal   error
	onError func(error)
}

func newInformers(dyn dynamic.Interface, handle func(*unstructured.Unstructured, bool)) *informers {
	return &informers{dyn: dyn, handle: handle, stopCh: make(chan struct{}),
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

// ensure starts informers for the resources in namespace ns.
func (i *informers) ensure(ns string, gvrs []schema.GroupVersionResource) {
	i.mu.Lock()
	defer i.mu.Unlock()
	f, ok := i.factories[ns]
	if !ok {
		f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(i.dyn, 0, ns, func(o *metav1.ListOptions) {
			o.LabelSelector = kube.ClusterLabel
		})
		i.factories[ns] = f
	}
	for _, gvr := range gvrs {
		key := ns + "/" + gvr.String()
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

func (i *informers) dispatch(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		i.handle(u, deleted)
	}
}

// watchSource starts the informer on the ConfigMaps holding cluster files.
func (i *informers) watchSource(ns, selector string, changed func()) {
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

// sourceObjects lists the cluster-file ConfigMaps in the cache.
func (i *informers) sourceObjects() []*unstructured.Unstructured {
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

// sourceObject returns one cluster-file ConfigMap from the cache.
func (i *informers) sourceObject(ns, name string) *unstructured.Unstructured {
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

// get returns an object from the cache of the resource's informer.
func (i *informers) get(gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
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

// sync waits until every started informer has listed once. An informer
// whose list or watch is refused (RBAC) fails the sync at once with the
// API server's message instead of retrying forever: a ServiceAccount
// missing a verb must be a loud, immediate error.
func (i *informers) sync(ctx context.Context) error {
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
func (i *informers) watchError(what string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			i.mu.Lock()
			if i.fatal == nil {
				i.fatal = fmt.Errorf("watch %s: %w", what, err)
			}
			i.mu.Unlock()
			if i.onError != nil {
				i.onError(fmt.Errorf("watch %s: %w", what, err))
			}
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("timed out")
}

// stop stops every informer (their watches close).
func (i *informers) stop() {
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
