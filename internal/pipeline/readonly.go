package pipeline

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// CIRoleHint says where read-only credentials that plan and drift can use
// come from; it ends every message about a read that was forbidden.
const CIRoleHint = "`neo4jctl render --ci-role -f CLUSTER_FILE` prints the read-only Role and ClusterRole plan and drift need"

// observeKubeFallback observes with dry runs, and when the credentials may
// not dry-run (an RBAC denial of the forced apply), falls back to the
// structural comparison documented in docs/plan-json.md (kube_mode:
// structural) and says why in the returned reason. A read the credentials
// may not make is an error that names the fix.
func (r *Runner) observeKubeFallback(ctx context.Context, objs []*unstructured.Unstructured, inv kube.InventoryRef, opts []kube.ObserveOption) (state.Kube, string, error) {
	if r.Structural {
		k, err := r.Kube.ObserveStructural(ctx, objs, inv, opts...)
		return k, "", forbiddenHint(err)
	}
	k, err := r.Kube.Observe(ctx, objs, inv, opts...)
	if err == nil || !kube.IsForbidden(err) {
		return k, "", err
	}
	reason := fmt.Sprintf("the credentials may not dry-run apply, so the live objects were compared with the rendered ones over the fields neo4jctl sets, without the API server's defaults, admission or conflict checks (%v); apply, which writes, dry-runs every object", err)
	k, err = r.Kube.ObserveStructural(ctx, objs, inv, opts...)
	return k, reason, forbiddenHint(err)
}

func forbiddenHint(err error) error {
	if err != nil && kube.IsForbidden(err) {
		return fmt.Errorf("%w (%s)", err, CIRoleHint)
	}
	return err
}
