package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DryRunApply is Apply with dryRun=All: the API server validates, defaults
// and admits obj exactly as Apply would and stores nothing. apply's
// preflight calls it for every object before the first write, so a refusal
// surfaces before anything changed. Conflicts are handled as Apply handles
// them: fields last set by an Update manager are taken back, fields of
// another Apply manager are a *ConflictError unless force is set.
func (c *Client) DryRunApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	p, err := c.prepare(obj, "")
	if err != nil {
		return nil, fmt.Errorf("dry-run apply %s/%s: %w", obj.GetKind(), obj.GetName(), err)
	}
	what := "dry-run apply " + p.address
	out, err := c.applyRequest(ctx, what, p, force, true)
	if err != nil && apierrors.IsConflict(err) {
		applyOwned, cerr := c.applyManagerConflicts(ctx, p, conflictsFromStatus(err))
		if cerr != nil {
			return nil, fmt.Errorf("%s: %w (reading field owners: %v)", what, err, cerr)
		}
		if len(applyOwned) > 0 {
			return nil, &ConflictError{Address: p.address, Conflicts: applyOwned, Err: err}
		}
		out, err = c.applyRequest(ctx, what, p, true, true)
	}
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, &ConflictError{Address: p.address, Conflicts: conflictsFromStatus(err), Err: err}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
