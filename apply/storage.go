package apply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/plan"
)

// replaceStatefulSet replaces a StatefulSet whose immutable fields changed
// (volumeClaimTemplates, selector, serviceName) the way operators do: the
// old object is deleted with orphan propagation, so its Pods keep running
// and its claims stay whatever the retention policy says, and the new one,
// with the same selector, adopts the running Pods. Deleting with
// background propagation, as a plain delete does, would terminate every
// server at once.
//
// The new object carries the step's partition when the plan holds the Pods
// for a rolling update (the Pod template changed as well): adopted Pods of
// the old revision are then replaced one at a time by the rolling-update
// step that follows, gated on their servers, never by the controller all
// at once.
func (e *Executor) replaceStatefulSet(ctx context.Context, s plan.Step, o *unstructured.Unstructured) (outcome, error) {
	if err := e.Kube.DeleteOrphaning(ctx, refOf(s.Object)); err != nil {
		return outcome{wrote: true}, fmt.Errorf("%w (the Pods and claims keep running; apply again to create the StatefulSet)", err)
	}
	o = e.desiredObject(s, o)
	if s.Partition != nil {
		o = withPartition(o, *s.Partition)
	}
	e.remember(s.Address, o)
	if _, err := e.Kube.Apply(ctx, o, e.Options.ForceConflicts); err != nil {
		return outcome{wrote: true}, fmt.Errorf("create the new StatefulSet (the old one is gone, its Pods keep running unowned; apply again): %w", err)
	}
	if e.Options.NoRolloutWait {
		return outcome{wrote: true}, nil
	}
	return outcome{wrote: true}, e.waitStatefulSet(ctx, s, replicasOf(o))
}

// resizeClaim raises one claim's storage request and waits until its
// volume reports the new capacity, before the next claim (the plan chains
// them, highest ordinal first). The Pod keeps running: expansion of a
// mounted volume is online where the CSI driver supports it.
func (e *Executor) resizeClaim(ctx context.Context, s plan.Step) (outcome, error) {
	r := s.Resize
	if r == nil {
		return outcome{}, fmt.Errorf("the step names no claim")
	}
	if err := e.Kube.ResizeClaim(ctx, r.Namespace, r.Claim, r.UID, r.Size); err != nil {
		return outcome{wrote: true}, err
	}
	if e.Options.NoRolloutWait {
		return outcome{wrote: true}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	pr := e.startProgress(s, fmt.Sprintf("claim %s/%s to reach %s", r.Namespace, r.Claim, r.Size))
	defer pr.stop()
	err := e.Kube.WaitClaimCapacity(wctx, r.Namespace, r.Claim, r.Size, func(status string) {
		pr.set(fmt.Sprintf("claim %s/%s to reach %s (%s)", r.Namespace, r.Claim, r.Size, status))
	})
	return outcome{wrote: true}, e.timeoutError(wctx, err, pr)
}
