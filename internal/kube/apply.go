package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Apply server-side applies obj as field manager "neo4jctl" and returns the
// object the server stored. Objects carrying the neo4jctl.io/cluster label
// are labelled as members of that cluster's inventory (call EnsureInventory
// for their kinds first). Transient errors are retried; a field conflict is
// returned as *ConflictError and never retried — force takes the fields
// over (--force-conflicts).
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	p, err := c.prepare(obj, "")
	if err != nil {
		return nil, fmt.Errorf("apply %s/%s: %w", obj.GetKind(), obj.GetName(), err)
	}
	out, err := c.applyRequest(ctx, "apply "+p.address, p, force, false)
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, &ConflictError{Address: p.address, Conflicts: conflictsFromStatus(err), Err: err}
		}
		return nil, fmt.Errorf("apply %s: %w", p.address, err)
	}
	return out, nil
}

// Delete deletes the object ref names, with background propagation (owned
// objects follow, as with kubectl delete). An object already gone is not an
// error; one replaced since it was observed (another UID) is, so a stale plan
// never deletes what it did not see.
func (c *Client) Delete(ctx context.Context, ref Ref) error {
	m, err := c.RESTMapping(ref.GVK())
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref.Address(), err)
	}
	ri := c.resourceFor(m, ref.Namespace)
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	if ref.UID != "" {
		uid := types.UID(ref.UID)
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err = c.retry(ctx, "delete "+ref.Address(), func(ctx context.Context) error {
		return ri.Delete(ctx, ref.Name, opts)
	})
	switch {
	case err == nil, IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("delete %s: the object was replaced since it was observed (uid %s); plan again: %w", ref.Address(), ref.UID, err)
	}
	return fmt.Errorf("delete %s: %w", ref.Address(), err)
}

// RefOfState returns the Ref of an observed object (an orphan to prune).
func RefOfState(o state.Object) Ref {
	return Ref{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID}
}
