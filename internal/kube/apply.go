package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Apply server-side applies obj as field manager "neo4jctl" and returns the
// object the server stored. Objects carrying the neo4jctl.io/cluster label
// are labelled as members of that cluster's inventory (call EnsureInventory
// for their kinds first).
//
// neo4jctl is authoritative for the fields it renders, so fields another
// manager last set with an Update (kubectl edit/scale/patch) are taken back
// even when force is false. Fields owned by another Apply-operation manager
// (another GitOps tool) are a *ConflictError naming field and owner unless
// force is true (--force-conflicts). Conflicts are never retried; transient
// errors are.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	return c.serverSideApply(ctx, obj, force, false)
}

// DryRunApply is Apply with dryRun=All: the API server validates, defaults
// and admits obj exactly as Apply would and stores nothing. apply's
// preflight calls it for every object before the first write, so a refusal
// surfaces before anything changed. Conflicts are handled as in Apply.
func (c *Client) DryRunApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	return c.serverSideApply(ctx, obj, force, true)
}

func (c *Client) serverSideApply(ctx context.Context, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	verb := "apply"
	if dryRun {
		verb = "dry-run apply"
	}
	p, err := c.prepare(obj, "")
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", verb, obj.GetKind(), obj.GetName(), err)
	}
	what := verb + " " + p.address
	out, _, err := c.sendApply(ctx, what, p, force, dryRun)
	if err != nil && apierrors.IsConflict(err) {
		applyOwned, cerr := c.applyManagerConflicts(ctx, p, conflictsFromStatus(err))
		if cerr != nil {
			return nil, fmt.Errorf("%s: %w (reading field owners: %v)", what, err, cerr)
		}
		if len(applyOwned) > 0 {
			return nil, &ConflictError{Address: p.address, Conflicts: applyOwned, Err: err}
		}
		// Only Update managers (out-of-band edits) stood in the way: that is
		// drift, which apply takes back.
		out, _, err = c.sendApply(ctx, what, p, true, dryRun)
	}
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, &ConflictError{Address: p.address, Conflicts: conflictsFromStatus(err), Err: err}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !dryRun {
		c.rememberWrite(p, out)
	}
	return out, nil
}

// applyManagerConflicts keeps the conflicts whose owner holds fields of the
// live object through an Apply operation; the server's conflict message
// names the manager but not how it wrote.
func (c *Client) applyManagerConflicts(ctx context.Context, p prepared, conflicts []state.Conflict) ([]state.Conflict, error) {
	if len(conflicts) == 0 {
		// A 409 without field causes: keep it a conflict, never guess.
		return []state.Conflict{{Field: "(unknown)", Manager: "(unknown)"}}, nil
	}
	live, err := c.get(ctx, p)
	if err != nil || live == nil {
		return conflicts, err
	}
	appliers := map[string]bool{}
	for _, e := range live.GetManagedFields() {
		if e.Operation == metav1.ManagedFieldsOperationApply {
			appliers[e.Manager] = true
		}
	}
	var out []state.Conflict
	for _, cf := range conflicts {
		if appliers[cf.Manager] {
			out = append(out, cf)
		}
	}
	return out, nil
}

// Delete deletes the object ref names, with background propagation (owned
// objects follow, as with kubectl delete). It reads the object first and
// deletes only one that is neo4jctl's (checkPrunable: a member of its
// cluster's ApplySet that neo4jctl wrote), with that object's UID as a
// precondition, so what was checked is what goes. An object already gone
// is not an error; one replaced since it was observed (another UID than
// ref's) is, so a stale plan never deletes what it did not see.
func (c *Client) Delete(ctx context.Context, ref Ref) error {
	_, err := c.deleteWith(ctx, ref, metav1.DeletePropagationBackground)
	return err
}

// deleteWith is Delete with the given propagation policy; it returns the
// UID of the object it deleted ("" when it was already gone).
func (c *Client) deleteWith(ctx context.Context, ref Ref, policy metav1.DeletionPropagation) (string, error) {
	m, err := c.RESTMapping(ref.GVK())
	if err != nil {
		return "", fmt.Errorf("delete %s: %w", ref.Address(), err)
	}
	ri := c.resourceFor(m, ref.Namespace)
	var live *unstructured.Unstructured
	err = c.retry(ctx, "get "+ref.Address(), func(ctx context.Context) error {
		var err error
		live, err = ri.Get(ctx, ref.Name, metav1.GetOptions{})
		return err
	})
	switch {
	case IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("delete %s: read it first: %w", ref.Address(), err)
	case ref.UID != "" && string(live.GetUID()) != ref.UID:
		return "", fmt.Errorf("delete %s: the object was replaced since it was observed (uid %s, now %s); plan again", ref.Address(), ref.UID, live.GetUID())
	}
	if err := checkPrunable(live, ref.Address()); err != nil {
		return "", err
	}
	uid := live.GetUID()
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}
	err = c.retry(ctx, "delete "+ref.Address(), func(ctx context.Context) error {
		return ri.Delete(ctx, ref.Name, opts)
	})
	switch {
	case err == nil, IsNotFound(err):
		return string(uid), nil
	case apierrors.IsConflict(err):
		return "", fmt.Errorf("delete %s: the object was replaced since it was observed (uid %s); plan again: %w", ref.Address(), uid, err)
	}
	return "", fmt.Errorf("delete %s: %w", ref.Address(), err)
}

// RefOfState returns the Ref of an observed object (an orphan to prune).
func RefOfState(o state.Object) Ref {
	return Ref{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID}
}
