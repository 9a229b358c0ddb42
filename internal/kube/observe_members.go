package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// members are ApplySet members read by LIST, one request per kind: the live
// objects Observe would otherwise GET one by one, and the candidates for
// orphans. They are kept as JSON until taken, and their lists complete in
// the background; readers wait for done. Safe for concurrent use.
type members struct {
	// done is closed when the lists are read; namespace, ids and kinds
	// are not written after.
	done chan struct{}
	// namespace is the scope of the lists; "" means all namespaces.
	namespace string
	// ids are the ApplySet ids whose members were listed.
	ids map[string]bool
	// kinds were listed completely; objects of other kinds are read on
	// their own.
	kinds map[schema.GroupKind]bool
	// cached lists are served from the API server's watch cache
	// (resourceVersion=0), at once but possibly a moment old; see
	// observe's use of them.
	cached bool

	mu     sync.Mutex
	byKey  map[objectKey]*member
	byKind map[schema.GroupKind][]*member // in the order the server listed them
}

// member is one listed object. raw is its JSON until it is taken (then nil:
// a fleet's objects decoded all at once would hold tens of megabytes until
// the last cluster is observed).
type member struct {
	key    objectKey
	gvk    schema.GroupVersionKind
	partOf string
	raw    []byte
}

func newMembers(namespace string, ids []string) *members {
	ms := &members{
		done:      make(chan struct{}),
		namespace: namespace,
		ids:       map[string]bool{},
		kinds:     map[schema.GroupKind]bool{},
		byKey:     map[objectKey]*member{},
		byKind:    map[schema.GroupKind][]*member{},
	}
	for _, id := range ids {
		ms.ids[id] = true
	}
	return ms
}

// inSelector selects objects whose label is one of values.
func inSelector(label string, values []string) string {
	if len(values) == 1 {
		return label + "=" + values[0]
	}
	return label + " in (" + strings.Join(values, ",") + ")"
}

// prefetchChunk bounds how many ApplySets one LIST names in its label
// selector, keeping URLs short for large fleets.
const prefetchChunk = 100

// listInto lists the members of the mapped kinds in the background, in
// parallel, and closes ms.done when all are read. A kind whose list fails
// is left out (its objects are then read one by one).
func (c *Client) listInto(ctx context.Context, ms *members, mappings []*meta.RESTMapping) {
	ids := make([]string, 0, len(ms.ids))
	for id := range ms.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var wg sync.WaitGroup
	for _, m := range mappings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.listMembers(ctx, m, ms.namespace, ids, ms.cached)
			if err != nil {
				return
			}
			gk := m.GroupVersionKind.GroupKind()
			ms.mu.Lock()
			defer ms.mu.Unlock()
			ms.kinds[gk] = true
			for _, mb := range got {
				mb.key.gk = gk
				ms.byKey[mb.key] = mb
				ms.byKind[gk] = append(ms.byKind[gk], mb)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(ms.done)
	}()
}

// listMembers lists the objects of one resource that belong to the ApplySets
// ids, in chunks of prefetchChunk ids, keeping each item's JSON.
func (c *Client) listMembers(ctx context.Context, m *meta.RESTMapping, namespace string, ids []string, cached bool) ([]*member, error) {
	segments := []string{"api"}
	if m.Resource.Group != "" {
		segments = []string{"apis", m.Resource.Group}
	}
	segments = append(segments, m.Resource.Version)
	if namespace != "" && m.Scope.Name() != meta.RESTScopeNameRoot {
		segments = append(segments, "namespaces", namespace)
	}
	segments = append(segments, m.Resource.Resource)
	var out []*member
	for chunk := range slices.Chunk(ids, prefetchChunk) {
		sel := inSelector(ApplySetPartOfLabel, chunk)
		var body []byte
		err := c.retry(ctx, "list "+m.Resource.String(), func(ctx context.Context) error {
			var err error
			req := c.restClient.Get().AbsPath(segments...).Param("labelSelector", sel)
			if cached {
				req = req.Param("resourceVersion", "0")
			}
			body, err = req.Do(ctx).Raw()
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", m.Resource, err)
		}
		// Split the list into its items, reading only what identifies
		// them; an item is decoded when it is used.
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("list %s: %w", m.Resource, err)
		}
		for _, item := range list.Items {
			var id struct {
				Metadata struct {
					Name      string            `json:"name"`
					Namespace string            `json:"namespace"`
					Labels    map[string]string `json:"labels"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(item, &id); err != nil {
				return nil, fmt.Errorf("list %s: %w", m.Resource, err)
			}
			out = append(out, &member{
				key:    objectKey{namespace: id.Metadata.Namespace, name: id.Metadata.Name},
				gvk:    m.GroupVersionKind,
				partOf: id.Metadata.Labels[ApplySetPartOfLabel],
				raw:    item,
			})
		}
	}
	return out, nil
}

// decode decodes a listed item as the dynamic client decodes a list's
// items: whole numbers as int64, kind and apiVersion (which the items of a
// list of built-in objects lack) from the list.
func (mb *member) decode() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := utiljson.Unmarshal(mb.raw, &u.Object); err != nil {
		return nil, err
	}
	if u.GetKind() == "" && u.GetAPIVersion() == "" {
		u.SetGroupVersionKind(mb.gvk)
	}
	return u, nil
}

// wait waits for the lists; false if ctx ended first.
func (ms *members) wait(ctx context.Context) bool {
	select {
	case <-ms.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// covers reports whether the lists hold every member of ApplySet id of
// kind gk in namespace ns.
func (ms *members) covers(gk schema.GroupKind, ns, id string) bool {
	return ms.kinds[gk] && ms.ids[id] && (ms.namespace == "" || ns == "" || ns == ms.namespace)
}

// take returns the listed live object for a prepared object, and whether
// the lists are authoritative for it: its kind was listed, in its
// namespace, for the ApplySet its labels name. nil with true means the
// object was not among the members (it may still exist without the label).
// An object is handed out once.
func (ms *members) take(ctx context.Context, p prepared) (*unstructured.Unstructured, bool) {
	if ms == nil || !ms.wait(ctx) {
		return nil, false
	}
	gk := p.obj.GroupVersionKind().GroupKind()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if !ms.covers(gk, p.namespace, p.obj.GetLabels()[ApplySetPartOfLabel]) {
		return nil, false
	}
	mb := ms.byKey[objectKey{gk: gk, namespace: p.namespace, name: p.obj.GetName()}]
	if mb == nil || mb.raw == nil {
		return nil, mb == nil
	}
	u, err := mb.decode()
	if err != nil {
		return nil, false // read it on its own
	}
	mb.raw = nil
	return u, true
}

// unwanted returns the members of inv of kind gk that desired does not
// name and no owner holds, in list order (the lists must cover them).
func (ms *members) unwanted(inv InventoryRef, gk schema.GroupKind, desired map[objectKey]bool) ([]state.Object, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var out []state.Object
	for _, mb := range ms.byKind[gk] {
		if mb.partOf != inv.ID() || desired[mb.key] || mb.raw == nil {
			continue // not this cluster's, or desired (a taken one is)
		}
		u, err := mb.decode()
		if err != nil {
			return nil, fmt.Errorf("list inventory members of kind %s: %w", gk, err)
		}
		if len(u.GetOwnerReferences()) > 0 {
			continue // an owned object goes with its owner
		}
		out = append(out, liveObject(u))
	}
	return out, nil
}

// inventoryMembers reads the cluster's inventory and lists its members:
// the lists serve the orphans and, through take, the live objects of the
// desired ones. Kinds pf already covers are not listed again. ms.done is
// closed when the lists are read, or at once when there is no inventory
// (every live object is then read on its own).
func (c *Client) inventoryMembers(ctx context.Context, inv InventoryRef, pf *Prefetched, ms *members, read func()) (kinds []schema.GroupKind, found bool, err error) {
	set, found, err := c.readInventoryFrom(ctx, inv, pf)
	read()
	if err != nil || !found {
		close(ms.done)
		return nil, found, err
	}
	var mappings []*meta.RESTMapping
	for _, gk := range sortedKinds(set) {
		if neverPruned.Has(gk) {
			continue
		}
		kinds = append(kinds, gk)
		if pf != nil && pf.ms.wait(ctx) && pf.ms.covers(gk, inv.Namespace, inv.ID()) {
			continue
		}
		m, err := c.listMapping(gk)
		if err != nil {
			close(ms.done)
			return nil, true, fmt.Errorf("inventory lists %s: %w", gk, err)
		}
		mappings = append(mappings, m)
	}
	c.listInto(ctx, ms, mappings)
	return kinds, true, nil
}

// orphansOf returns the inventory's members that desired does not name:
// objects labelled part-of the cluster's ApplySet, of a kind the parent
// lists, with no ownerReferences (an owned object goes with its owner), in
// kind order. They come from the member lists of the observation (ms) and
// of the fleet (pf); a kind neither holds (its list failed) is listed again
// by unwantedMembers, whose error then says what is wrong.
func (c *Client) orphansOf(ctx context.Context, inv InventoryRef, kinds []schema.GroupKind, desired map[objectKey]bool, pf *Prefetched, ms *members) ([]state.Object, error) {
	if !ms.wait(ctx) {
		return nil, ctx.Err()
	}
	var out []state.Object
	for _, gk := range kinds {
		var (
			got []state.Object
			err error
		)
		var src *members // the lists that cover gk, if any
		switch {
		case pf != nil && pf.ms.covers(gk, inv.Namespace, inv.ID()):
			src = pf.ms
		case ms.covers(gk, inv.Namespace, inv.ID()):
			src = ms
		}
		switch {
		case src == nil:
			got, err = c.unwantedMembers(ctx, inv, gk, desired)
		case src.cached:
			if got, err = src.unwanted(inv, gk, desired); err == nil {
				got, err = c.confirmOrphans(ctx, inv, gk, got)
			}
		default:
			got, err = src.unwanted(inv, gk, desired)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// Prefetched is what Prefetch reads for a fleet of clusters: the live
// objects of the kinds they render that carry their ApplySet membership
// label. Observe uses it through UsePrefetched instead of reading objects
// one by one. Safe for concurrent use.
type Prefetched struct {
	ms *members

	// side is the fleet's inventory parents and Pods, read by two more
	// LISTs; each done channel is closed when its list is in (or failed:
	// ok false). Apart: every dry run waits for its parent, none for Pods.
	side struct {
		parentsDone chan struct{}
		parentsOK   bool
		parents     map[string]*corev1.ConfigMap // by namespace/name
		podsDone    chan struct{}
		podsOK      bool
		pods        map[string][]state.Pod // by namespace/cluster
		// claims are the fleet's PersistentVolumeClaims (resize.go).
		claimsDone chan struct{}
		claimsOK   bool
		claims     map[string][]corev1.PersistentVolumeClaim // by namespace/cluster
	}
}

// Pods returns the Pods of inv's cluster from the fleet's Pod list, sorted
// as ClusterPods sorts them; false if that list could not be read, or does
// not hold them: it is read by the cluster label, which an adopted
// cluster's Pods do not carry (inv.Custom).
func (pf *Prefetched) Pods(ctx context.Context, inv InventoryRef) ([]state.Pod, bool) {
	if pf == nil || inv.Custom() || !waitClosed(ctx, pf.side.podsDone) || !pf.side.podsOK {
		return nil, false
	}
	return slices.Clone(pf.side.pods[inv.Namespace+"/"+inv.Cluster]), true
}

// claims returns the PersistentVolumeClaims of inv's cluster from the
// fleet's list; false if that list could not be read, or does not hold
// them (inv.Custom, as for Pods).
func (pf *Prefetched) claims(ctx context.Context, inv InventoryRef) ([]corev1.PersistentVolumeClaim, bool) {
	if pf == nil || inv.Custom() || pf.side.claimsDone == nil || !waitClosed(ctx, pf.side.claimsDone) || !pf.side.claimsOK {
		return nil, false
	}
	return pf.side.claims[inv.Namespace+"/"+inv.Cluster], true
}

// parent returns inv's inventory ConfigMap from the fleet's list of
// parents (nil: there is none); false if that list could not be read.
func (pf *Prefetched) parent(ctx context.Context, inv InventoryRef) (*corev1.ConfigMap, bool) {
	if pf == nil || !waitClosed(ctx, pf.side.parentsDone) || !pf.side.parentsOK {
		return nil, false
	}
	return pf.side.parents[inv.Namespace+"/"+inv.ParentName()], true
}

// waitClosed waits for ch to be closed; false if ctx ended first.
func waitClosed(ctx context.Context, ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// prefetchSide lists the fleet's inventory parents (by their ApplySet id
// label) and its Pods (by the cluster label) into pf.
func (c *Client) prefetchSide(ctx context.Context, pf *Prefetched, namespace string, ids []string, cached bool) {
	rv := ""
	if cached {
		rv = "0"
	}
	pf.side.parentsDone = make(chan struct{})
	pf.side.podsDone = make(chan struct{})
	pf.side.claimsDone = make(chan struct{})
	go func() {
		defer close(pf.side.claimsDone)
		var list *corev1.PersistentVolumeClaimList
		err := c.retry(ctx, "list persistentvolumeclaims", func(ctx context.Context) error {
			var err error
			list, err = c.core.PersistentVolumeClaims(namespace).List(ctx, metav1.ListOptions{LabelSelector: ClusterLabel, ResourceVersion: rv})
			return err
		})
		if err != nil {
			return
		}
		claims := map[string][]corev1.PersistentVolumeClaim{}
		for _, pvc := range list.Items {
			key := pvc.Namespace + "/" + pvc.Labels[ClusterLabel]
			claims[key] = append(claims[key], pvc)
		}
		pf.side.claims, pf.side.claimsOK = claims, true
	}()
	go func() {
		defer close(pf.side.parentsDone)
		parents := map[string]*corev1.ConfigMap{}
		for chunk := range slices.Chunk(ids, prefetchChunk) {
			var list *corev1.ConfigMapList
			err := c.retry(ctx, "list inventories", func(ctx context.Context) error {
				var err error
				list, err = c.core.ConfigMaps(namespace).List(ctx, metav1.ListOptions{LabelSelector: inSelector(ApplySetIDLabel, chunk), ResourceVersion: rv})
				return err
			})
			if err != nil {
				return
			}
			for i := range list.Items {
				cm := &list.Items[i]
				parents[cm.Namespace+"/"+cm.Name] = cm
			}
		}
		pf.side.parents, pf.side.parentsOK = parents, true
	}()
	go func() {
		defer close(pf.side.podsDone)
		var list *corev1.PodList
		err := c.retry(ctx, "list pods", func(ctx context.Context) error {
			var err error
			list, err = c.core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: ClusterLabel, ResourceVersion: rv})
			return err
		})
		if err != nil {
			return
		}
		pods := map[string][]state.Pod{}
		for i := range list.Items {
			p := &list.Items[i]
			if s, ok := podState(p); ok {
				key := p.Namespace + "/" + p.Labels[ClusterLabel]
				pods[key] = append(pods[key], s)
			}
		}
		for _, ps := range pods {
			sortPods(ps)
		}
		pf.side.pods, pf.side.podsOK = pods, true
	}()
}

// Prefetch starts reading, for many clusters at once, the objects of kinds
// that are members of the clusters' inventories, by the ApplySet part-of
// label that every object neo4jctl renders carries: one LIST per kind for
// the whole fleet instead of a GET per object and a LIST per kind and
// cluster for the orphans. A plan of a fleet then costs the API server
// little more than its dry runs. It returns at once: observations send
// their dry runs while the lists are read, and wait for them only where
// they need a live object.
//
// The lists cover the clusters' namespace when they share one, else all
// namespaces (the part-of values name the namespace, so nothing else is
// read). Prefetch never fails: a kind that cannot be listed (RBAC limited to
// namespaces, a CRD that is not installed, any error) is left out, and
// Observe reads its objects as without a prefetch, where a real problem
// surfaces as before.
func (c *Client) Prefetch(ctx context.Context, invs []InventoryRef, kinds []schema.GroupVersionKind) *Prefetched {
	return c.prefetch(ctx, invs, kinds, false)
}

// PrefetchCached is Prefetch with every list served from the API server's
// watch cache (resourceVersion 0), at once instead of after the cache has
// caught up with the latest write (up to 100 ms), for observations with dry
// runs: as for an observation's own lists, each listed object is checked
// against its dry run and orphans are confirmed with a GET.
//
// After this client's own writes the lists are consistent anyway, as an
// observation's own are (see Observe): a verifying plan must see what
// changed the objects it wrote.
func (c *Client) PrefetchCached(ctx context.Context, invs []InventoryRef, kinds []schema.GroupVersionKind) *Prefetched {
	return c.prefetch(ctx, invs, kinds, !c.wroteRecently())
}

func (c *Client) prefetch(ctx context.Context, invs []InventoryRef, kinds []schema.GroupVersionKind, cached bool) *Prefetched {
	namespace := ""
	var ids []string
	for i, inv := range invs {
		if i == 0 {
			namespace = inv.Namespace
		} else if inv.Namespace != namespace {
			namespace = ""
		}
		ids = append(ids, inv.ID())
	}
	ms := newMembers(namespace, ids)
	ms.cached = cached
	var mappings []*meta.RESTMapping
	seen := map[schema.GroupKind]bool{}
	for _, gvk := range kinds {
		gk := gvk.GroupKind()
		if seen[gk] || len(ids) == 0 {
			continue
		}
		seen[gk] = true
		if m, err := c.mapper.RESTMapping(gk, gvk.Version); err == nil {
			mappings = append(mappings, m)
		}
	}
	c.listInto(ctx, ms, mappings)
	pf := &Prefetched{ms: ms}
	c.prefetchSide(ctx, pf, namespace, ids, cached)
	return pf
}

// ObserveOption changes how Observe reads the cluster.
type ObserveOption func(*observeOptions)

type observeOptions struct {
	prefetched *Prefetched
	pods       func(context.Context) ([]state.Pod, error)
}

// UsePrefetched makes Observe take live objects from pf where it covers
// them (nil: no prefetch).
func UsePrefetched(pf *Prefetched) ObserveOption {
	return func(o *observeOptions) { o.prefetched = pf }
}

// UsePods makes Observe take the cluster's Pods from pods instead of
// listing them, so that the Neo4j plane's search for a Ready Pod and the
// observation share one LIST (nil: Observe lists them).
func UsePods(pods func(context.Context) ([]state.Pod, error)) ObserveOption {
	return func(o *observeOptions) { o.pods = pods }
}

// confirmOrphans reads again, one by one, orphans found in a list served
// from the watch cache: one deleted a moment ago must not be planned for
// pruning (a prune of an object already gone would only fail its
// precondition, but a verifying plan would not be empty). An orphan
// created a moment before the list and missing from it is pruned by the
// next plan: the cache is never more than a moment behind.
func (c *Client) confirmOrphans(ctx context.Context, inv InventoryRef, gk schema.GroupKind, got []state.Object) ([]state.Object, error) {
	if len(got) == 0 {
		return got, nil
	}
	m, err := c.listMapping(gk)
	if err != nil {
		return nil, fmt.Errorf("inventory lists %s: %w", gk, err)
	}
	ri := c.resourceFor(m, inv.Namespace)
	var out []state.Object
	for _, o := range got {
		var u *unstructured.Unstructured
		err := c.retry(ctx, "get "+o.Address, func(ctx context.Context) error {
			var err error
			u, err = ri.Get(ctx, o.Name, metav1.GetOptions{})
			return err
		})
		switch {
		case IsNotFound(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("read inventory member %s: %w", o.Address, err)
		case u.GetLabels()[ApplySetPartOfLabel] != inv.ID() || len(u.GetOwnerReferences()) > 0:
			continue
		}
		out = append(out, liveObject(u))
	}
	return out, nil
}
