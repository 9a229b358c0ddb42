package pipeline

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// AllObjects are the objects apply may send for the target: the
// cluster's own, then its verification objects, then its drill objects.
func (t *Target) AllObjects() []*unstructured.Unstructured {
	if len(t.Verify) == 0 && len(t.Drill) == 0 {
		return t.Objects
	}
	out := make([]*unstructured.Unstructured, 0, len(t.Objects)+len(t.Verify)+len(t.Drill))
	return append(append(append(out, t.Objects...), t.Verify...), t.Drill...)
}

// AddVerification adds the verification steps to p (planVerification);
// credentials that may not read the verification objects leave them out
// with a warning, as the watch's Role does by design.
func (r *Runner) AddVerification(ctx context.Context, t *Target, p *plan.Plan, opts plan.Options) error {
	err := r.planVerification(ctx, t, p, opts)
	if err != nil && kube.IsForbidden(err) {
		p.Warnings = append(p.Warnings, "The backup verification objects were not planned: "+err.Error()+" (grant what `neo4jctl render --ci-role` prints)")
		err = nil
	}
	if err != nil {
		return err
	}
	// The DR drill objects after them (target_drill.go).
	return r.planDrill(ctx, t, p, opts)
}

// planVerification observes the target's verification objects
// (Target.Verify) and adds their steps to p (plan.AppendVerification):
// the desired ones dry-run like the cluster's own objects; with none
// desired, the ones a schedule had put there (the scratch namespace
// still holds neo4jctl's CronJob) are planned for deletion. watch
// (PreflightNamespacedOnly) neither reads nor enforces them: its Role is
// confined to the cluster's namespace (docs/backups.md).
func (r *Runner) planVerification(ctx context.Context, t *Target, p *plan.Plan, opts plan.Options) error {
	if r.PreflightNamespacedOnly {
		if len(t.Verify) > 0 {
			p.Warnings = append(p.Warnings, "The backup verification objects (spec.backups.verification.schedule) are not watched: watch's Role reaches only the cluster's namespace; `neo4jctl drift` and `apply` plan them.")
		}
		return nil
	}
	scratch := manifests.VerifyNamespaceName(t.Cluster, t.Namespace)
	v := plan.VerificationObserved{Scratch: scratch, Targets: opts.Targets, Excludes: opts.Excludes}
	if len(t.Verify) > 0 {
		objs, err := r.observeVerification(ctx, t, scratch, t.Verify)
		if err != nil {
			return err
		}
		v.Objects = objs
	} else {
		stale, err := r.staleVerification(ctx, t, scratch)
		if err != nil {
			return err
		}
		v.Stale = stale
	}
	plan.AppendVerification(p, v)
	return nil
}

// observeVerification observes the desired verification objects: with a
// forced dry run each, as the cluster's own objects are; structurally
// (a GET by name each, compared over the fields rendered) with read-only
// credentials, which `render --ci-role` grants get on these names.
func (r *Runner) observeVerification(ctx context.Context, t *Target, scratch string, desired []*unstructured.Unstructured) ([]state.Object, error) {
	if !r.Structural {
		// An inventory of no objects: the verification objects are no
		// ApplySet members (manifests/verify.go), so nothing is listed.
		k, err := r.Kube.Observe(ctx, desired, kube.InventoryRef{Namespace: scratch, Cluster: t.Cluster.Metadata.Name})
		switch {
		case err == nil && !k.Reachable:
			return nil, fmt.Errorf("%s: observe the backup verification objects: %s", t.Name(), k.Reason)
		case err == nil:
			return k.Objects, nil
		case !kube.IsForbidden(err):
			return nil, fmt.Errorf("%s: observe the backup verification objects: %w", t.Name(), err)
		}
	}
	out := make([]state.Object, 0, len(desired))
	for _, u := range desired {
		o, _, err := r.Kube.ObserveOwned(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("%s: observe the backup verification objects: %w", t.Name(), err)
		}
		gvk := u.GroupVersionKind()
		if o == nil {
			o = &state.Object{Address: kube.Address(gvk, u.GetNamespace(), u.GetName()), Group: gvk.Group, Version: gvk.Version,
				Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
		}
		o.Desired = u.DeepCopy().Object
		out = append(out, *o)
	}
	return out, nil
}

// staleVerification are the verification objects to delete when the file
// asks for none: only once neo4jctl's CronJob shows a schedule put them
// there (objects `backup verify` applied for a one-off run stay, for
// destroy), and only those carrying the cluster's verification labels
// with fields neo4jctl wrote. The Role and RoleBinding go first, then
// the scratch Namespace with everything in it.
func (r *Runner) staleVerification(ctx context.Context, t *Target, scratch string) ([]state.Object, error) {
	cj, _, err := r.ownedVerifyObject(ctx, t, VerifyStub("batch/v1", "CronJob", scratch, manifests.VerifyCronJobName))
	if err != nil || cj == nil {
		return nil, err
	}
	return r.VerificationMembers(ctx, t)
}

// VerificationMembers are the live verification objects of the target
// that neo4jctl applied: the Role and RoleBinding in the cluster's
// namespace and the scratch Namespace, in deletion order; then the drill
// objects' (DrillMembers).
func (r *Runner) VerificationMembers(ctx context.Context, t *Target) ([]state.Object, error) {
	scratch := manifests.VerifyNamespaceName(t.Cluster, t.Namespace)
	role := manifests.VerifyRoleName(t.Cluster)
	var out []state.Object
	for _, stub := range []*unstructured.Unstructured{
		VerifyStub("rbac.authorization.k8s.io/v1", "RoleBinding", t.Namespace, role),
		VerifyStub("rbac.authorization.k8s.io/v1", "Role", t.Namespace, role),
		VerifyStub("v1", "Namespace", "", scratch),
	} {
		o, _, err := r.ownedVerifyObject(ctx, t, stub)
		if err != nil {
			return nil, err
		}
		if o != nil {
			out = append(out, *o)
		}
	}
	drill, err := r.DrillMembers(ctx, t)
	return append(out, drill...), err
}

// ownedVerifyObject reads stub's object: nil unless it exists, carries
// the target's verification labels and neo4jctl wrote it.
func (r *Runner) ownedVerifyObject(ctx context.Context, t *Target, stub *unstructured.Unstructured) (*state.Object, map[string]string, error) {
	o, labels, err := r.Kube.ObserveOwned(ctx, stub)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: observe the backup verification objects: %w", t.Name(), err)
	}
	if o == nil || !t.OwnsVerification()(labels) || !kube.AppliedByNeo4jctl(*o) {
		return nil, nil, nil
	}
	return o, labels, nil
}

// VerifyStub names an object by kind, namespace and name.
func VerifyStub(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// OwnsVerification returns the check apply and destroy make before
// deleting a verification object of the target.
func (t *Target) OwnsVerification() func(map[string]string) bool {
	return func(labels map[string]string) bool {
		return manifests.IsVerifyObject(labels, t.Cluster.Metadata.Name, t.Namespace) ||
			manifests.IsDrillObject(labels, t.Cluster.Metadata.Name, t.Namespace)
	}
}
