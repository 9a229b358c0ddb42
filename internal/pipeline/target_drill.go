package pipeline

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// planDrill plans the standing DR drill objects (Target.Drill,
// manifests/drill.go) exactly as planVerification plans the verification
// objects, which they are modelled on: observed and dry-run when desired,
// the ones a schedule had put there deleted when the file asks for none
// (the drill namespace still holds neo4jctl's CronJob). They share the
// verification Sequence, so --target/--exclude, the executor (no
// ApplySet membership, a Namespace created first, deleted and waited
// for) and destroy treat both alike.
//
// Credentials that may not read them (the CI role `render --ci-role`
// prints reads them by name, manifests.drillReadRules) leave them
// out: with a schedule, with a warning; without one, silently, since the
// probe for a CronJob left by an earlier schedule is all that was asked,
// and a plan of a file without a drill says nothing of drills.
func (r *Runner) planDrill(ctx context.Context, t *Target, p *plan.Plan, opts plan.Options) error {
	err := r.planDrillObjects(ctx, t, p, opts)
	switch {
	case err == nil || !kube.IsForbidden(err):
		return err
	case len(t.Drill) > 0:
		p.Warnings = append(p.Warnings, "The DR drill objects were not planned: "+err.Error()+" (plan with credentials that may read the drill namespace "+manifests.DrillNamespaceName(t.Cluster, t.Namespace)+")")
	}
	return nil
}

func (r *Runner) planDrillObjects(ctx context.Context, t *Target, p *plan.Plan, opts plan.Options) error {
	if r.PreflightNamespacedOnly {
		if len(t.Drill) > 0 {
			p.Warnings = append(p.Warnings, "The DR drill objects (spec.backups.drill.schedule) are not watched: watch's Role reaches only the cluster's namespace; `neo4jctl drift` and `apply` plan them.")
		}
		return nil
	}
	drillNS := manifests.DrillNamespaceName(t.Cluster, t.Namespace)
	v := plan.VerificationObserved{Scratch: drillNS, Targets: opts.Targets, Excludes: opts.Excludes,
		Setting: "spec.backups.drill.schedule", What: "DR drill",
		NamespaceNote: "with everything in it (the CronJob, its Jobs, quota, ServiceAccount, Roles, cluster file, and the scratch cluster of a drill running now with its claims): the drill records stay in the backup catalogue"}
	if len(t.Drill) > 0 {
		objs, err := r.observeVerification(ctx, t, drillNS, t.Drill)
		if err != nil {
			return err
		}
		v.Objects = objs
	} else {
		cj, _, err := r.ownedVerifyObject(ctx, t, VerifyStub("batch/v1", "CronJob", drillNS, manifests.DrillCronJobName))
		if err != nil {
			return err
		}
		if cj != nil {
			if v.Stale, err = r.DrillMembers(ctx, t); err != nil {
				return err
			}
		}
	}
	plan.AppendVerification(p, v)
	return nil
}

// DrillMembers are the live standing drill objects of the target that
// neo4jctl applied: the Role and RoleBinding in the cluster's namespace
// and the drill Namespace (with everything in it), in deletion order.
func (r *Runner) DrillMembers(ctx context.Context, t *Target) ([]state.Object, error) {
	role := manifests.DrillSecretsRoleName(t.Cluster)
	var out []state.Object
	for _, stub := range []*unstructured.Unstructured{
		VerifyStub("rbac.authorization.k8s.io/v1", "RoleBinding", t.Namespace, role),
		VerifyStub("rbac.authorization.k8s.io/v1", "Role", t.Namespace, role),
		VerifyStub("v1", "Namespace", "", manifests.DrillNamespaceName(t.Cluster, t.Namespace)),
	} {
		o, _, err := r.ownedVerifyObject(ctx, t, stub)
		if err != nil {
			return nil, err
		}
		if o != nil {
			out = append(out, *o)
		}
	}
	return out, nil
}
