package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The verification objects of a cluster (manifests/verify.go) are no
// members of its ApplySet: the scratch namespace is not the parent's, so
// prune (checkPrunable) never deletes them. Apply and destroy delete them
// here instead, by their own labels, after the same proof that neo4jctl
// wrote them.

// ObserveOwned reads the object obj names (nil when it does not exist)
// as plan sees an object: normalised, with its field managers and UID,
// and its labels.
func (c *Client) ObserveOwned(ctx context.Context, obj *unstructured.Unstructured) (*state.Object, map[string]string, error) {
	p, err := c.prepare(obj, "")
	if err != nil {
		return nil, nil, err
	}
	live, err := c.get(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", p.address, err)
	}
	if live == nil {
		return nil, nil, nil
	}
	gvk := obj.GroupVersionKind()
	return &state.Object{
		Address: p.address, Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: p.namespace, Name: obj.GetName(), UID: string(live.GetUID()),
		Managers: managersOf(managedFieldsOf(live.Object)),
		Live:     Normalize(live.Object),
	}, live.GetLabels(), nil
}

// AppliedByNeo4jctl reports whether neo4jctl's field manager holds fields
// of the observed object.
func AppliedByNeo4jctl(o state.Object) bool { return appliedByNeo4jctl(o.Managers) }

// DeleteLabelled deletes the object at ref (its UID, when set, checked)
// when owned(labels) holds and neo4jctl's field manager wrote it; an
// object already gone is not an error. Deletion propagates in the
// background (a Namespace takes everything in it).
func (c *Client) DeleteLabelled(ctx context.Context, ref Ref, owned func(map[string]string) bool) error {
	m, err := c.RESTMapping(ref.GVK())
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref.Address(), err)
	}
	ri := c.resourceFor(m, ref.Namespace)
	live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: read it first: %w", ref.Address(), err)
	case ref.UID != "" && string(live.GetUID()) != ref.UID:
		return fmt.Errorf("delete %s: the object was replaced since it was observed (uid %s, now %s); plan again", ref.Address(), ref.UID, live.GetUID())
	case !owned(live.GetLabels()):
		return &NotPrunableError{Address: ref.Address(), Reason: "it does not carry the labels of this cluster's verification objects"}
	case !appliedByNeo4jctl(managersOf(managedFieldsOf(live.Object))):
		return &NotPrunableError{Address: ref.Address(), Reason: "neo4jctl never wrote it (no " + FieldManager + " entry in its managedFields)"}
	}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	switch {
	case err == nil, IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("delete %s: the object was replaced since it was observed; plan again: %w", ref.Address(), err)
	}
	return fmt.Errorf("delete %s: %w", ref.Address(), err)
}

// Gone reports whether the object at ref no longer exists (a Namespace
// being deleted exists until the namespace controller emptied it).
func (c *Client) Gone(ctx context.Context, ref Ref) (bool, error) {
	m, err := c.RESTMapping(ref.GVK())
	if err != nil {
		return false, err
	}
	_, err = c.resourceFor(m, ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if IsNotFound(err) {
		return true, nil
	}
	return false, err
}
