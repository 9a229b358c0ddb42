package apply

import (
	"context"
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/plan"
)

// verifyDeleter deletes the backup verification objects, which are no
// ApplySet members (plan/verify.go): by their labels, not by prune.
type verifyDeleter interface {
	DeleteLabelled(ctx context.Context, ref kube.Ref, owned func(map[string]string) bool) error
	Gone(ctx context.Context, ref kube.Ref) (bool, error)
}

// deleteVerification runs a delete-verification step. A Namespace is
// waited for until gone: the namespace controller deletes what is in it
// first, and a plan made meanwhile would still see the CronJob.
func (e *Executor) deleteVerification(ctx context.Context, t Target, s plan.Step) (outcome, error) {
	if s.Object == nil {
		return outcome{}, fmt.Errorf("the step names no object")
	}
	d, ok := e.Kube.(verifyDeleter)
	if !ok || t.OwnsVerification == nil {
		return outcome{}, fmt.Errorf("this apply cannot delete backup verification objects")
	}
	ref := refOf(s.Object)
	if err := d.DeleteLabelled(ctx, ref, t.OwnsVerification); err != nil {
		return outcome{wrote: true}, err
	}
	if s.Object.Kind != "Namespace" {
		return outcome{wrote: true}, nil
	}
	err := e.poll(ctx, s, "the scratch namespace to be gone", func(ctx context.Context) (bool, string, error) {
		gone, err := d.Gone(ctx, ref)
		return gone, "the namespace is being emptied", err
	})
	return outcome{wrote: true}, err
}

// createdNamespaces are the Namespaces the plan creates: an object in one
// could not be dry-run at plan time and cannot be in the preflight either
// (the API server refuses a dry run in a namespace that does not exist);
// the namespace's own step runs first.
func createdNamespaces(p *plan.Plan) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Steps {
		if s.Object != nil && s.Object.Kind == "Namespace" && s.Object.Group == "" && s.Action == plan.ActionCreate {
			out[s.Object.Name] = true
		}
	}
	return out
}
