package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

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
// Options.Workers requests at a time.
//
// An API server that cannot be reached yields Reachable=false with the reason
// and a nil error, so a plan can still show the other plane. An RBAC denial
// is returned as an error (IsForbidden): without patch permission use
// ObserveStructural.
func (c *Client) Observe(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef) (state.Kube, error) {
	return c.observe(ctx, desired, inv, true)
}

// ObserveStructural is Observe for read-only credentials (get/list only): no
// dry run, so Predicted and Conflicts stay empty and plan compares Desired
// with Live over the fields neo4jctl renders. Mode says "structural".
func (c *Client) ObserveStructural(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef) (state.Kube, error) {
	return c.observe(ctx, desired, inv, false)
}

func (c *Client) observe(ctx context.Context, desired []*unstructured.Unstructured, inv InventoryRef, dryRun bool) (state.Kube, error) {
	k := state.Kube{Mode: ModeStructural, Objects: make([]state.Object, len(desired))}
	if dryRun {
		k.Mode = ModeDryRun
	}
	v, err := c.ServerVersion(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return state.Kube{}, ctx.Err()
		}
		return state.Kube{Reachable: false, Reason: fmt.Sprintf("Kubernetes API server %s: %v", c.config.Host, err), Mode: k.Mode}, nil
	}
	k.Reachable, k.ServerVersion = true, v

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

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, c.opts.Workers)
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
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := f(); err != nil {
				fail(err)
			}
		}()
	}
	for i, u := range desired {
		run(func() error {
			o, err := c.observeObject(ctx, u, inv.Namespace, dryRun)
			k.Objects[i] = o
			return err
		})
	}
	run(func() error {
		o, err := c.orphans(ctx, inv, want)
		k.Orphans = o
		return err
	})
	run(func() error {
		p, err := c.clusterPods(ctx, inv)
		k.Pods = p
		return err
	})
	wg.Wait()
	if firstErr != nil {
		return state.Kube{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return state.Kube{}, err
	}
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
}

func (c *Client) prepare(u *unstructured.Unstructured, defaultNamespace string) (prepared, error) {
	gvk := u.GroupVersionKind()
	m, err := c.RESTMapping(gvk)
	if err != nil {
		return prepared{}, err
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
	return prepared{obj: obj, ri: c.resourceFor(m, ns), address: Address(gvk, ns, obj.GetName())}, nil
}

func (c *Client) observeObject(ctx context.Context, u *unstructured.Unstructured, defaultNamespace string, dryRun bool) (state.Object, error) {
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
			DryRunError: fmt.Sprintf("the API server does not serve %s (is its CRD installed?)", gvk),
		}, nil
	}
	if err != nil {
		return state.Object{}, fmt.Errorf("observe %s/%s: %w", u.GetKind(), u.GetName(), err)
	}
	o := state.Object{
		Address: p.address, Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: p.obj.GetNamespace(), Name: p.obj.GetName(),
		Desired: p.obj.Object,
	}
	live, err := c.get(ctx, p)
	if err != nil {
		return o, fmt.Errorf("observe %s: %w", p.address, err)
	}
	if live != nil {
		setLive(&o, live)
	}
	if !dryRun {
		return o, nil
	}
	pred, err := c.applyRequest(ctx, "dry-run "+p.address, p, true, true)
	if err != nil {
		if !objectLevelRefusal(err) {
			return o, fmt.Errorf("observe %s: dry-run apply: %w", p.address, err)
		}
		o.DryRunError = err.Error()
		o.Immutable = IsImmutable(err)
		return o, nil
	}
	o.Predicted = Normalize(pred.Object)
	if live != nil {
		alignLists(shapeOf(live.GetManagedFields(), pred.GetManagedFields()), o.Live, o.Predicted)
		o.Conflicts = predictConflicts(live.GetManagedFields(), pred.GetManagedFields(), FieldManager)
	}
	return o, nil
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

// applyRequest sends one server-side apply (retrying transient errors).
func (c *Client) applyRequest(ctx context.Context, what string, p prepared, force, dryRun bool) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var out *unstructured.Unstructured
	err := c.retry(ctx, what, func(ctx context.Context) error {
		var err error
		out, err = p.ri.Apply(ctx, p.obj.GetName(), p.obj, opts)
		return err
	})
	return out, err
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

// clusterPods reads the Pods of the cluster's StatefulSets.
func (c *Client) clusterPods(ctx context.Context, inv InventoryRef) ([]state.Pod, error) {
	var list *corev1.PodList
	err := c.retry(ctx, "list pods", func(ctx context.Context) error {
		var err error
		list, err = c.core.Pods(inv.Namespace).List(ctx, metav1.ListOptions{LabelSelector: ClusterLabel + "=" + inv.Cluster})
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
	sort.Slice(out, func(i, j int) bool {
		if out[i].StatefulSet != out[j].StatefulSet {
			return out[i].StatefulSet < out[j].StatefulSet
		}
		return out[i].Ordinal < out[j].Ordinal
	})
	return out, nil
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
