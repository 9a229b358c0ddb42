package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// rollingUpdate releases the StatefulSet's Pods one at a time. Its
// StatefulSet step applied the new template holding every kept Pod
// (partition = number of Pods), so the controller has replaced none; for
// each Pod, highest ordinal first, apply lowers the partition to the Pod's
// ordinal, waits until the controller has replaced the Pod and it is Ready,
// and — with Rollout.Servers — until its Neo4j server is back
// (healthcheck.ServerBack: Enabled and Available, hosting what it should,
// every database on it at its requested status, replicating where the
// version has dbms.cluster.statusCheck). With Rollout.Servers each Pod is
// also released only once the cluster can lose it (healthcheck.CanLose:
// every other server Available, every database keeping a majority of its
// primaries online without it): a server Unavailable to the cluster while
// its Pod is Ready in Kubernetes stops the roll before the next Pod goes.
// The gate is the healthcheck package's, so a roll and `neo4jctl
// healthcheck` never disagree on what healthy means. At most one server is
// ever away, and a server that does not come back stops the rollout with
// the rest of the cluster untouched. The last release sends the
// StatefulSet step's object unchanged: it sets no partition (nor an empty
// rollingUpdate), so server-side apply removes the field neo4jctl held and
// the StatefulSet is as rendered.
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
		sub := s
		sub.Server = &plan.ServerStep{StatefulSet: s.Rollout.StatefulSet, Name: pod, Ordinal: ord, PodAddress: s.Rollout.PodAddresses[pod]}
		if s.Rollout.Servers {
			if err := e.waitCanLose(ctx, sub, pod); err != nil {
				return o, fmt.Errorf("%w; %s and the Pods below it were not restarted: make the cluster whole again and run apply again", err, pod)
			}
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
		if err := e.waitServerBack(ctx, sub, pod); err != nil {
			return o, fmt.Errorf("%w; the Pods below %s were not restarted (partition %d holds them): fix the server and run apply again", err, pod, ord)
		}
	}
	return o, nil
}

// statusCheckWait is how long dbms.cluster.statusCheck lets each member
// try to replicate its probe transaction during a roll's gate.
const statusCheckWait = 2 * time.Second

// statusChecker is the part of a Neo4j connection that runs
// dbms.cluster.statusCheck (*neo4j.Client has it); a connection without it
// gates on SHOW SERVERS and SHOW DATABASES alone.
type statusChecker interface {
	StatusCheck(ctx context.Context, dbs []string, timeout time.Duration) ([]state.StatusCheck, error)
}

// readRollInput takes one observation for the roll's gate: SHOW SERVERS,
// SHOW DATABASES and, where the servers' version has it,
// dbms.cluster.statusCheck.
func (e *Executor) readRollInput(ctx context.Context) (healthcheck.RollInput, error) {
	var in healthcheck.RollInput
	var err error
	if in.Servers, err = e.readServers(ctx); err != nil {
		return in, err
	}
	if err = e.read(ctx, "SHOW DATABASES", func(ctx context.Context, c Neo4j) (err error) {
		in.Databases, err = c.Databases(ctx)
		return err
	}); err != nil {
		return in, err
	}
	if !statusCheckVersion(in.Servers) {
		return in, nil
	}
	err = e.read(ctx, "CALL dbms.cluster.statusCheck", func(ctx context.Context, c Neo4j) (err error) {
		sc, ok := c.(statusChecker)
		if !ok {
			return nil
		}
		in.StatusCheck, err = sc.StatusCheck(ctx, nil, statusCheckWait)
		return err
	})
	return in, err
}

// statusCheckVersion: every server that reports its version has
// dbms.cluster.statusCheck (5.24+). A server that reports none leaves
// the statusCheck out rather than failing the gate on a missing
// procedure.
func statusCheckVersion(servers map[string]state.Server) bool {
	seen := false
	for _, srv := range servers {
		if srv.Version == "" || srv.State == state.ServerDropped {
			continue
		}
		if !neo4j.HasStatusCheck(srv.Version) {
			return false
		}
		seen = true
	}
	return seen
}

// waitCanLose waits until the cluster can lose pod's server for its
// restart (healthcheck.CanLose).
func (e *Executor) waitCanLose(ctx context.Context, s plan.Step, pod string) error {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	noted := false
	return e.poll(ctx, s, "the cluster to be able to lose "+pod+" (every other server Available, a majority of every database's primaries online without it)", func(ctx context.Context) (bool, string, error) {
		in, err := e.readRollInput(ctx)
		if err != nil {
			return false, "", err
		}
		srv, _ := e.findServer(in.Servers, s.Server)
		why, notes := healthcheck.CanLose(in, srv.ID)
		if len(notes) > 0 && !noted {
			noted = true
			e.hook().StepProgress(s, strings.Join(notes, "; "))
		}
		return len(why) == 0, strings.Join(why, "; "), nil
	})
}

// waitServerBack waits until pod's server is back after its restart
// (healthcheck.ServerBack).
func (e *Executor) waitServerBack(ctx context.Context, s plan.Step, pod string) error {
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	return e.poll(ctx, s, "server "+serverLabel(s.Server)+" to be back after the restart of "+pod+" (Enabled and Available, hosting its databases, each online on it)", func(ctx context.Context) (bool, string, error) {
		in, err := e.readRollInput(ctx)
		if err != nil {
			return false, "", err
		}
		srv, _ := e.findServer(in.Servers, s.Server)
		why := healthcheck.ServerBack(in, srv.ID)
		return len(why) == 0, strings.Join(why, "; "), nil
	})
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
