package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// rollingUpdate releases the StatefulSet's Pods one at a time. Its
// StatefulSet step applied the new template holding every kept Pod
// (partition = number of Pods), so the controller has replaced none; for
// each Pod, highest ordinal first, apply lowers the partition to the Pod's
// ordinal, waits until the controller has replaced the Pod and it is Ready,
// and — with Rollout.Servers — until its Neo4j server is Enabled and
// Available and hosts what it should. Only then is the next Pod released,
// so at most one server is ever away and a server that does not come back
// stops the rollout with the rest of the cluster untouched. The last
// release sends the StatefulSet step's object unchanged: it sets no
// partition (nor an empty rollingUpdate), so server-side apply removes the
// field neo4jctl held and the StatefulSet is as rendered.
//
// Stopped halfway (a failure, Ctrl-C), the StatefulSet keeps the partition
// it had; the next plan sees it and resumes at that Pod.
func (e *Executor) rollingUpdate(ctx context.Context, t Target, s plan.Step) (outcome, error) {
	if s.Rollout == nil || s.Object == nil {
		return outcome{}, errors.New("the step names no rollout")
	}
	e.mu.Lock()
	base := e.sent[s.Address]
	e.mu.Unlock()
	if base == nil {
		return outcome{}, fmt.Errorf("the rolling update of %s needs its StatefulSet step to have run first in this apply", s.Address)
	}
	ns := s.Object.Namespace
	if ns == "" {
		ns = t.Namespace
	}
	var o outcome
	for _, pod := range s.Rollout.Pods {
		ord := ordinalOf(pod)
		if ord < 0 {
			return o, fmt.Errorf("%q is not a StatefulSet Pod name", pod)
		}
		obj := base
		if ord > 0 {
			obj = withPartition(base, int32(ord))
		}
		e.hook().StepProgress(s, fmt.Sprintf("Releasing %s (partition %d)", pod, ord))
		if _, err := e.Kube.Apply(ctx, obj, e.Options.ForceConflicts); err != nil {
			return o, fmt.Errorf("lower the partition to %d for %s: %w", ord, pod, err)
		}
		o.wrote = true
		if err := e.waitPodUpdated(ctx, s, ns, pod); err != nil {
			return o, err
		}
		if !s.Rollout.Servers {
			continue
		}
		sub := s
		sub.Server = &plan.ServerStep{StatefulSet: s.Rollout.StatefulSet, Name: pod, Ordinal: ord}
		err := e.waitServer(ctx, sub, "Enabled and Available, hosting its databases, after the restart of "+pod, serverBack)
		if err != nil {
			return o, fmt.Errorf("%w; the Pods below %s were not restarted (partition %d holds them): fix the server and run apply again", err, pod, ord)
		}
	}
	return o, nil
}

// waitPodUpdated waits for one released Pod with the usual progress lines.
func (e *Executor) waitPodUpdated(ctx context.Context, s plan.Step, ns, pod string) error {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	pr := e.startProgress(s, "Pod "+pod+" to be replaced")
	defer pr.stop()
	err := e.Kube.WaitPodUpdated(ctx, ns, s.Rollout.StatefulSet, pod, pr.set)
	return e.timeoutError(ctx, err, pr)
}

// serverBack is the Neo4j half of a Pod's gate: the restarted server is a
// member again and hosts every database it is asked to (a server that is
// Available but still catching up hosts fewer than it requests).
func serverBack(srv state.Server) bool {
	if srv.State != state.ServerEnabled || srv.Health != state.HealthAvailable {
		return false
	}
	for _, db := range srv.RequestedHosting {
		if !slices.Contains(srv.Hosting, db) {
			return false
		}
	}
	return true
}

// remember records the object a step applies at address, before any
// partition is added (see Executor.sent).
func (e *Executor) remember(address string, o *unstructured.Unstructured) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sent == nil {
		e.sent = map[string]*unstructured.Unstructured{}
	}
	e.sent[address] = o
}

// withPartition returns a copy of the StatefulSet o that holds Pods below
// partition at their current revision.
func withPartition(o *unstructured.Unstructured, partition int32) *unstructured.Unstructured {
	cp := o.DeepCopy()
	_ = unstructured.SetNestedField(cp.Object, "RollingUpdate", "spec", "updateStrategy", "type")
	_ = unstructured.SetNestedField(cp.Object, int64(partition), "spec", "updateStrategy", "rollingUpdate", "partition")
	return cp
}
