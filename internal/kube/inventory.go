package kube

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Labels and annotations of the ApplySet specification (KEP-3659), the same
// keys kubectl apply --prune --applyset uses.
const (
	ApplySetIDLabel         = "applyset.kubernetes.io/id"
	ApplySetPartOfLabel     = "applyset.kubernetes.io/part-of"
	ApplySetToolingAnn      = "applyset.kubernetes.io/tooling"
	ApplySetGroupKindsAnn   = "applyset.kubernetes.io/contains-group-kinds"
	ApplySetToolingValue    = "neo4jctl/v1"
	applySetToolingBaseName = "neo4jctl"
)

// ClusterLabel is the label every object neo4jctl renders for a cluster
// carries (manifests sets it). Apply derives the object's inventory from it,
// and Observe finds the cluster's Pods by it.
const ClusterLabel = "neo4jctl.io/cluster"

// InventoryRef names the inventory (ApplySet parent) of one cluster: a
// ConfigMap neo4jctl-<cluster>-applyset in the cluster's namespace.
type InventoryRef struct {
	Namespace string
	Cluster   string
	// PodSelector selects the cluster's server Pods when they do not carry
	// ClusterLabel: a cluster adopted from the Helm chart keeps the chart's
	// Pod labels (manifests.PodSelector). Empty means ClusterLabel=Cluster.
	PodSelector string
	// ClaimSelector selects the claims the cluster's StatefulSets made
	// when they do not carry ClusterLabel: the StatefulSet controller
	// labels each claim with its StatefulSet's spec.selector.matchLabels,
	// and the chart's selectors hold no neo4jctl label. Empty means
	// ClusterLabel=Cluster.
	ClaimSelector string
	// WorkloadSelector selects the cluster's StatefulSets and
	// PodDisruptionBudgets by their own labels when they do not carry
	// ClusterLabel (an adopted release's StatefulSet keeps the chart's
	// labels). Empty means ClusterLabel=Cluster.
	WorkloadSelector string
}

// Custom reports whether the cluster's Pods or claims are found by
// selectors of their own rather than by ClusterLabel: lists of a fleet
// read by ClusterLabel do not hold them.
func (r InventoryRef) Custom() bool {
	return r.PodSelector != "" || r.ClaimSelector != "" || r.WorkloadSelector != ""
}

// Pods is the label selector of the cluster's server Pods.
func (r InventoryRef) Pods() string { return r.orCluster(r.PodSelector) }

// Claims is the label selector of the claims of the cluster's
// StatefulSets (their names still say which StatefulSet made them).
func (r InventoryRef) Claims() string { return r.orCluster(r.ClaimSelector) }

// Workloads is the label selector of the cluster's StatefulSets and
// PodDisruptionBudgets.
func (r InventoryRef) Workloads() string { return r.orCluster(r.WorkloadSelector) }

func (r InventoryRef) orCluster(sel string) string {
	if sel != "" {
		return sel
	}
	return ClusterLabel + "=" + r.Cluster
}

// ParentName is the name of the inventory ConfigMap.
func (r InventoryRef) ParentName() string { return "neo4jctl-" + r.Cluster + "-applyset" }

// ID is the ApplySet id: the parent's applyset.kubernetes.io/id label and
// every member's applyset.kubernetes.io/part-of label. The format is fixed by
// the KEP (kubectl computes the same value for the same parent):
// applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1.
func (r InventoryRef) ID() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{r.ParentName(), r.Namespace, "ConfigMap", ""}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// inventoryOf returns the inventory an object belongs to, from its cluster
// label; ok is false for objects without one (they are applied but never
// pruned).
func inventoryOf(u *unstructured.Unstructured, namespace string) (InventoryRef, bool) {
	cluster := u.GetLabels()[ClusterLabel]
	if cluster == "" {
		return InventoryRef{}, false
	}
	return InventoryRef{Namespace: namespace, Cluster: cluster}, true
}

// MarkMembers labels every object that carries the neo4jctl.io/cluster
// label as a member of its cluster's ApplySet, in place, so that what
// `neo4jctl render` prints is exactly what apply sends (and what `kubectl
// diff` of the rendered objects compares). namespace is used for objects
// that name none.
func MarkMembers(objs []*unstructured.Unstructured, namespace string) {
	for _, o := range objs {
		markMember(o, namespace)
	}
}

func markMember(o *unstructured.Unstructured, defaultNamespace string) {
	ns := o.GetNamespace()
	if ns == "" {
		ns = defaultNamespace
	}
	if inv, ok := inventoryOf(o, ns); ok {
		labels := o.GetLabels()
		labels[ApplySetPartOfLabel] = inv.ID()
		o.SetLabels(labels)
		stamp(o) // last: the stamp covers the label
	}
}

// KindsOf lists the distinct group/kinds of objs, sorted, for EnsureInventory.
func KindsOf(objs []*unstructured.Unstructured) []schema.GroupKind {
	s := sets.New[schema.GroupKind]()
	for _, o := range objs {
		s.Insert(o.GroupVersionKind().GroupKind())
	}
	return sortedKinds(s)
}

func sortedKinds(s sets.Set[schema.GroupKind]) []schema.GroupKind {
	out := s.UnsortedList()
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func formatKinds(s sets.Set[schema.GroupKind]) string {
	var parts []string
	for _, gk := range sortedKinds(s) {
		parts = append(parts, gk.String())
	}
	return strings.Join(parts, ",")
}

func parseKinds(ann string) sets.Set[schema.GroupKind] {
	s := sets.New[schema.GroupKind]()
	for _, p := range strings.Split(ann, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.Insert(schema.ParseGroupKind(p))
		}
	}
	return s
}

// readInventory returns the kinds the parent lists; found is false when
// there is no parent yet. A parent of another tool is an error: its members
// are not neo4jctl's to prune.
func (c *Client) readInventory(ctx context.Context, inv InventoryRef) (kinds sets.Set[schema.GroupKind], found bool, err error) {
	return c.readInventoryFrom(ctx, inv, nil)
}

// readInventoryFrom is readInventory that takes the parent from a fleet's
// prefetch when it holds it. The prefetch lists parents by their ApplySet
// id, so a ConfigMap of that name without it (another tool's) is read
// with a GET, whose checks below then refuse it.
func (c *Client) readInventoryFrom(ctx context.Context, inv InventoryRef, pf *Prefetched) (kinds sets.Set[schema.GroupKind], found bool, err error) {
	cm, listed := pf.parent(ctx, inv)
	if !listed || cm == nil {
		err = c.retry(ctx, "read inventory "+inv.ParentName(), func(ctx context.Context) error {
			var err error
			cm, err = c.core.ConfigMaps(inv.Namespace).Get(ctx, inv.ParentName(), metav1.GetOptions{})
			return err
		})
	}
	if IsNotFound(err) {
		return sets.New[schema.GroupKind](), false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read inventory ConfigMap %s/%s: %w", inv.Namespace, inv.ParentName(), err)
	}
	if tool := cm.Annotations[ApplySetToolingAnn]; strings.SplitN(tool, "/", 2)[0] != applySetToolingBaseName {
		return nil, false, fmt.Errorf("inventory ConfigMap %s/%s belongs to %q, not neo4jctl: rename the cluster or remove the ConfigMap", inv.Namespace, inv.ParentName(), tool)
	}
	if id := cm.Labels[ApplySetIDLabel]; id != inv.ID() {
		return nil, false, fmt.Errorf("inventory ConfigMap %s/%s has %s=%q, want %q", inv.Namespace, inv.ParentName(), ApplySetIDLabel, id, inv.ID())
	}
	return parseKinds(cm.Annotations[ApplySetGroupKindsAnn]), true, nil
}

// EnsureInventory makes sure the cluster's inventory exists and lists at
// least kinds, before their objects are applied (as kubectl does, the list
// only grows here: a kind whose objects still await pruning must stay
// listed). It writes nothing when the parent already says so.
func (c *Client) EnsureInventory(ctx context.Context, inv InventoryRef, kinds []schema.GroupKind) error {
	cur, found, err := c.readInventory(ctx, inv)
	if err != nil {
		return err
	}
	want := cur.Clone().Insert(kinds...)
	if found && want.Equal(cur) {
		return nil
	}
	return c.writeInventory(ctx, inv, want)
}

// TrimInventory sets the inventory's kinds to exactly kinds, after pruning
// succeeded, so later observations stop listing kinds neo4jctl no longer
// renders.
func (c *Client) TrimInventory(ctx context.Context, inv InventoryRef, kinds []schema.GroupKind) error {
	cur, found, err := c.readInventory(ctx, inv)
	if err != nil {
		return err
	}
	want := sets.New(kinds...)
	if found && want.Equal(cur) {
		return nil
	}
	return c.writeInventory(ctx, inv, want)
}

func (c *Client) writeInventory(ctx context.Context, inv InventoryRef, kinds sets.Set[schema.GroupKind]) error {
	cfg := applycorev1.ConfigMap(inv.ParentName(), inv.Namespace).
		WithLabels(map[string]string{ApplySetIDLabel: inv.ID(), ClusterLabel: inv.Cluster}).
		WithAnnotations(map[string]string{ApplySetToolingAnn: ApplySetToolingValue, ApplySetGroupKindsAnn: formatKinds(kinds)})
	err := c.retry(ctx, "write inventory "+inv.ParentName(), func(ctx context.Context) error {
		_, err := c.core.ConfigMaps(inv.Namespace).Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		return err
	})
	if err != nil {
		return fmt.Errorf("write inventory ConfigMap %s/%s: %w", inv.Namespace, inv.ParentName(), err)
	}
	return nil
}

// neverPruned are kinds that carry a member's labels without being members:
// the StatefulSet controller copies its template's labels onto Pods and its
// claim templates' onto PVCs. They go only by the StatefulSet's retention
// policy or an explicit destroy.
var neverPruned = sets.New(
	schema.GroupKind{Kind: "Pod"},
	schema.GroupKind{Kind: "PersistentVolumeClaim"},
)

// unwantedMembers lists the inventory's members of kind gk that desired
// does not name.
func (c *Client) unwantedMembers(ctx context.Context, inv InventoryRef, gk schema.GroupKind, desired map[objectKey]bool) ([]state.Object, error) {
	m, err := c.listMapping(gk)
	if err != nil {
		return nil, fmt.Errorf("inventory lists %s: %w", gk, err)
	}
	ri := c.resourceFor(m, inv.Namespace)
	var list *unstructured.UnstructuredList
	err = c.retry(ctx, "list "+gk.String(), func(ctx context.Context) error {
		var err error
		list, err = ri.List(ctx, metav1.ListOptions{LabelSelector: ApplySetPartOfLabel + "=" + inv.ID()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list inventory members of kind %s: %w", gk, err)
	}
	var out []state.Object
	for i := range list.Items {
		u := &list.Items[i]
		if len(u.GetOwnerReferences()) > 0 {
			continue
		}
		k := objectKey{gk: gk, namespace: u.GetNamespace(), name: u.GetName()}
		if desired[k] {
			continue
		}
		out = append(out, liveObject(u))
	}
	return out, nil
}

// splitForeign keeps as orphans only the members neo4jctl may delete: in
// the cluster's own namespace, and written by neo4jctl (a neo4jctl entry in
// their managedFields). A label is only a claim anyone with patch rights
// can make: an object someone else labelled into the set is reported as
// foreign, never pruned.
func splitForeign(orphans []state.Object, inv InventoryRef) (own, foreign []state.Object) {
	for _, o := range orphans {
		if o.Namespace == inv.Namespace && appliedByNeo4jctl(o.Managers) {
			own = append(own, o)
		} else {
			foreign = append(foreign, o)
		}
	}
	return own, foreign
}

// appliedByNeo4jctl reports whether neo4jctl's field manager holds fields
// of the object.
func appliedByNeo4jctl(managers []state.FieldManager) bool {
	for _, m := range managers {
		if m.Manager == FieldManager {
			return true
		}
	}
	return false
}

// NotPrunableError refuses a delete of an object that is not neo4jctl's to
// delete.
type NotPrunableError struct {
	Address string
	Reason  string
}

func (e *NotPrunableError) Error() string {
	return fmt.Sprintf("refusing to delete %s: %s; delete it yourself if it should go", e.Address, e.Reason)
}

// checkPrunable is the last check before a delete, on the live object: it
// must be labelled as a member of the ApplySet of the cluster it names, in
// its own namespace, and neo4jctl must have written it.
func checkPrunable(u *unstructured.Unstructured, address string) error {
	cluster := u.GetLabels()[ClusterLabel]
	if cluster == "" {
		return &NotPrunableError{Address: address, Reason: "it has no " + ClusterLabel + " label"}
	}
	inv := InventoryRef{Namespace: u.GetNamespace(), Cluster: cluster}
	if got := u.GetLabels()[ApplySetPartOfLabel]; got != inv.ID() {
		return &NotPrunableError{Address: address, Reason: fmt.Sprintf("it is not a member of cluster %s/%s's ApplySet (%s=%q)", inv.Namespace, cluster, ApplySetPartOfLabel, got)}
	}
	if !appliedByNeo4jctl(managersOf(managedFieldsOf(u.Object))) {
		return &NotPrunableError{Address: address, Reason: "neo4jctl never wrote it (no " + FieldManager + " entry in its managedFields): someone else labelled it into the set"}
	}
	return nil
}

// listMapping resolves a kind the inventory names (it records group/kinds,
// no versions) to a resource to list. A list returns the same objects
// whichever served version it names, and every built-in kind neo4jctl
// renders is served as v1, which the built-in mapper resolves without a
// round trip; asked without a version it would fall through to discovery
// (GET /api and /apis, the largest responses the API server sends) in
// every process. A kind it does not know (a CRD) goes to discovery, at any
// version.
func (c *Client) listMapping(gk schema.GroupKind) (*meta.RESTMapping, error) {
	if m, err := c.mapper.RESTMapping(gk, "v1"); err == nil {
		return m, nil
	}
	return c.mapper.RESTMapping(gk)
}

// objectKey identifies an object regardless of its API version.
type objectKey struct {
	gk        schema.GroupKind
	namespace string
	name      string
}

// liveObject fills the parts of a state.Object that come from a live object.
func liveObject(u *unstructured.Unstructured) state.Object {
	gvk := u.GroupVersionKind()
	o := state.Object{
		Address:   Address(gvk, u.GetNamespace(), u.GetName()),
		Group:     gvk.Group,
		Version:   gvk.Version,
		Kind:      gvk.Kind,
		Namespace: u.GetNamespace(),
		Name:      u.GetName(),
	}
	setLive(&o, u)
	return o
}

func setLive(o *state.Object, u *unstructured.Unstructured) {
	o.UID = string(u.GetUID())
	o.Generation = u.GetGeneration()
	o.Managers = managersOf(managedFieldsOf(u.Object))
	o.Live = Normalize(u.Object)
	o.Fingerprint = Fingerprint(o.Live)
}
