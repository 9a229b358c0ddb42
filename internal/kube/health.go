package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

var pdbResource = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}

// ObserveHealth reads the status of a cluster's Pods, their claims, its
// PodDisruptionBudgets and StatefulSets, and the Warning events about them:
// five LISTs in parallel, all read-only. Pods are selected by the
// inventory's Pod selector, StatefulSets and PDBs by its workload selector
// (the cluster label, or the chart's labels for an adopted Helm cluster);
// claims and events by namespace, kept when they belong to one of those
// objects.
func (c *Client) ObserveHealth(ctx context.Context, inv InventoryRef) (state.KubeHealth, error) {
	podSel := metav1.ListOptions{LabelSelector: inv.Pods()}
	sel := metav1.ListOptions{LabelSelector: inv.Workloads()}
	var (
		pods   *corev1.PodList
		claims *corev1.PersistentVolumeClaimList
		sets   *appsv1.StatefulSetList
		pdbs   policyv1.PodDisruptionBudgetList
		events *corev1.EventList
	)
	ns := inv.Namespace
	reads := []struct {
		what string
		fn   func(ctx context.Context) error
	}{
		{"list pods", func(ctx context.Context) (err error) { pods, err = c.core.Pods(ns).List(ctx, podSel); return }},
		{"list persistentvolumeclaims", func(ctx context.Context) (err error) {
			claims, err = c.core.PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			return
		}},
		{"list statefulsets", func(ctx context.Context) (err error) { sets, err = c.apps.StatefulSets(ns).List(ctx, sel); return }},
		{"list poddisruptionbudgets", func(ctx context.Context) error {
			l, err := c.dyn.Resource(pdbResource).Namespace(ns).List(ctx, sel)
			if err != nil {
				return err
			}
			return runtime.DefaultUnstructuredConverter.FromUnstructured(l.UnstructuredContent(), &pdbs)
		}},
		{"list events", func(ctx context.Context) (err error) {
			events, err = c.core.Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
			return
		}},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.retry(ctx, r.what, r.fn); err != nil {
				errs[i] = fmt.Errorf("%s in namespace %s: %w", r.what, ns, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return state.KubeHealth{}, err
		}
	}

	var out state.KubeHealth
	mine := map[string]bool{} // Kind/name of the cluster's objects, for events
	used := map[string]bool{} // claims the Pods mount
	for i := range pods.Items {
		p := &pods.Items[i]
		base, ok := podState(p)
		if !ok {
			continue
		}
		h := state.PodHealth{
			Name: p.Name, StatefulSet: base.StatefulSet, Ordinal: base.Ordinal, Node: p.Spec.NodeName,
			Phase: string(p.Status.Phase), Ready: base.Ready, Deleting: p.DeletionTimestamp != nil,
			Created: p.CreationTimestamp.Time,
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				h.Claims = append(h.Claims, v.PersistentVolumeClaim.ClaimName)
				used[v.PersistentVolumeClaim.ClaimName] = true
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			ch := state.ContainerHealth{Name: cs.Name, Ready: cs.Ready, RestartCount: cs.RestartCount}
			if w := cs.State.Waiting; w != nil {
				ch.Waiting, ch.WaitingMessage = w.Reason, w.Message
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				ch.LastTermination, ch.LastExitCode, ch.LastFinished = t.Reason, t.ExitCode, t.FinishedAt.Time
			}
			h.Containers = append(h.Containers, ch)
		}
		mine["Pod/"+p.Name] = true
		out.Pods = append(out.Pods, h)
	}
	sort.Slice(out.Pods, func(i, j int) bool {
		a, b := out.Pods[i], out.Pods[j]
		if a.StatefulSet != b.StatefulSet {
			return a.StatefulSet < b.StatefulSet
		}
		return a.Ordinal < b.Ordinal
	})
	for _, s := range sets.Items {
		replicas := int32(1)
		if s.Spec.Replicas != nil {
			replicas = *s.Spec.Replicas
		}
		out.StatefulSets = append(out.StatefulSets, state.StatefulSetHealth{
			Name: s.Name, Replicas: replicas, ReadyReplicas: s.Status.ReadyReplicas, UpdatedReplicas: s.Status.UpdatedReplicas,
			CurrentRevision: s.Status.CurrentRevision, UpdateRevision: s.Status.UpdateRevision,
			Stale: s.Status.ObservedGeneration < s.Generation,
		})
		mine["StatefulSet/"+s.Name] = true
	}
	for _, cl := range claims.Items {
		// A claim of the StatefulSets' templates (<template>-<sts>-<ordinal>)
		// belongs to the cluster even when its Pod is gone.
		if !used[cl.Name] && !claimOfSets(cl.Name, sets.Items) {
			continue
		}
		h := state.ClaimHealth{Name: cl.Name, Phase: string(cl.Status.Phase)}
		if cl.Spec.StorageClassName != nil {
			h.StorageClass = *cl.Spec.StorageClassName
		}
		if q, ok := cl.Status.Capacity[corev1.ResourceStorage]; ok {
			h.Capacity = q.String()
		}
		out.Claims = append(out.Claims, h)
		mine["PersistentVolumeClaim/"+cl.Name] = true
	}
	for _, p := range pdbs.Items {
		out.PDBs = append(out.PDBs, state.PDBHealth{
			Name: p.Name, DisruptionsAllowed: p.Status.DisruptionsAllowed, CurrentHealthy: p.Status.CurrentHealthy,
			DesiredHealthy: p.Status.DesiredHealthy, ExpectedPods: p.Status.ExpectedPods,
			Stale: p.Status.ObservedGeneration < p.Generation,
		})
		mine["PodDisruptionBudget/"+p.Name] = true
	}
	for _, e := range events.Items {
		if h, ok := eventHealth(e, mine); ok {
			out.Events = append(out.Events, h)
		}
	}
	sort.SliceStable(out.Events, func(i, j int) bool { return out.Events[i].Last.After(out.Events[j].Last) })
	return out, nil
}

// eventHealth turns an event about one of objects ("Kind/name") into its
// state form; ok is false for events about anything else.
func eventHealth(e corev1.Event, objects map[string]bool) (state.EventHealth, bool) {
	obj := e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name
	if !objects[obj] {
		return state.EventHealth{}, false
	}
	last := e.LastTimestamp.Time
	if last.IsZero() {
		last = e.EventTime.Time
	}
	if last.IsZero() && e.Series != nil {
		last = e.Series.LastObservedTime.Time
	}
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	return state.EventHealth{Type: e.Type, Object: obj, Reason: e.Reason, Message: e.Message, Count: max(count, 1), Last: last}, true
}

func claimOfSets(claim string, sets []appsv1.StatefulSet) bool {
	for _, s := range sets {
		for _, t := range s.Spec.VolumeClaimTemplates {
			if strings.HasPrefix(claim, t.Name+"-"+s.Name+"-") {
				return true
			}
		}
	}
	return false
}

// LiveObjects GETs each object as it is in the API server, status
// included, for a support bundle. An object that does not exist is left
// out; other failures are returned per object, keyed by its address.
// Secrets are returned without their data: a bundle must never hold a
// credential, masked or not.
func (c *Client) LiveObjects(ctx context.Context, objs []*unstructured.Unstructured, namespace string) ([]*unstructured.Unstructured, map[string]error) {
	out := make([]*unstructured.Unstructured, len(objs))
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	limit := make(chan struct{}, c.opts.Workers)
	for i, o := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit <- struct{}{}
			defer func() { <-limit }()
			m, err := c.RESTMapping(o.GroupVersionKind())
			var u *unstructured.Unstructured
			if err == nil {
				ns := o.GetNamespace()
				if ns == "" {
					ns = namespace
				}
				err = c.retry(ctx, "get "+o.GetKind()+" "+o.GetName(), func(ctx context.Context) (err error) {
					u, err = c.resourceFor(m, ns).Get(ctx, o.GetName(), metav1.GetOptions{})
					return
				})
			}
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				mu.Lock()
				errs[o.GetKind()+"/"+o.GetName()] = err
				mu.Unlock()
			default:
				if u.GetKind() == "Secret" {
					unstructured.RemoveNestedField(u.Object, "data")
					unstructured.RemoveNestedField(u.Object, "stringData")
				}
				unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
				out[i] = u
			}
		}()
	}
	wg.Wait()
	var kept []*unstructured.Unstructured
	for _, u := range out {
		if u != nil {
			kept = append(kept, u)
		}
	}
	return kept, errs
}

// ClusterPodObjects lists the cluster's Pods as unstructured objects
// (status included), for a support bundle.
func (c *Client) ClusterPodObjects(ctx context.Context, inv InventoryRef) ([]*unstructured.Unstructured, error) {
	var l *unstructured.UnstructuredList
	err := c.retry(ctx, "list pods", func(ctx context.Context) (err error) {
		l, err = c.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace(inv.Namespace).
			List(ctx, metav1.ListOptions{LabelSelector: inv.Pods()})
		return
	})
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(l.Items))
	for i := range l.Items {
		unstructured.RemoveNestedField(l.Items[i].Object, "metadata", "managedFields")
		out = append(out, &l.Items[i])
	}
	return out, nil
}

// EventsAbout lists every event (all types) in namespace whose object is
// one of objects ("Kind/name"), newest first.
func (c *Client) EventsAbout(ctx context.Context, namespace string, objects map[string]bool) ([]state.EventHealth, error) {
	var l *corev1.EventList
	err := c.retry(ctx, "list events", func(ctx context.Context) (err error) {
		l, err = c.core.Events(namespace).List(ctx, metav1.ListOptions{})
		return
	})
	if err != nil {
		return nil, err
	}
	var out []state.EventHealth
	for _, e := range l.Items {
		if h, ok := eventHealth(e, objects); ok {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out, nil
}

// PodLogs returns the last tail lines of a container's log. It is tried
// once: a kubelet that serves no logs (a node gone, kwok) answers the same
// on every retry, and a support bundle records the error and moves on.
func (c *Client) PodLogs(ctx context.Context, namespace, pod, container string, tail int64) ([]byte, error) {
	b, err := c.core.Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs of %s/%s container %s: %w", namespace, pod, container, err)
	}
	return b, nil
}

// NodeStatsSummary returns the kubelet Summary API of a node (volume
// usage among it), read through the API server's node proxy: GET
// /api/v1/nodes/<node>/proxy/stats/summary. It needs get on nodes/proxy,
// which many least-privilege roles lack; it is tried once.
func (c *Client) NodeStatsSummary(ctx context.Context, node string) ([]byte, error) {
	b, err := c.core.RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "stats", "summary").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("kubelet stats of node %s: %w", node, err)
	}
	return b, nil
}
