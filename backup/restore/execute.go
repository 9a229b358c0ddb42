package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Kube is what a restore needs of the Kubernetes client (*kube.Client).
type Kube interface {
	StatefulSetReplicas(ctx context.Context, ns, name string) (replicas int32, found bool, err error)
	ScaleStatefulSet(ctx context.Context, ns, name string, replicas int32) error
	WaitStatefulSet(ctx context.Context, ns, name string, want int, onProgress func(ready, want int)) error
	Job(ctx context.Context, ns, name string) (*batchv1.Job, error)
	CreateJob(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error)
	FollowJob(ctx context.Context, ns, name string, interval time.Duration, report func(string)) (kube.JobOutcome, error)
	Pod(ctx context.Context, ns, name string) (*corev1.Pod, error)
	WaitPodReady(ctx context.Context, ns, name string) error
	CreateRestoreObject(ctx context.Context, obj runtime.Object) error
	DeleteRestoreObject(ctx context.Context, kind, ns, name string) error
}

// Neo4j is what a cluster restore needs of the Neo4j client
// (*neo4j.Client).
type Neo4j interface {
	Databases(ctx context.Context) ([]state.DatabaseAllocation, error)
	CreateDatabase(ctx context.Context, name string, cd neo4j.CreateDatabase) error
	RecreateDatabase(ctx context.Context, name, seedURI string, t neo4j.Topology) error
}

// Hook hears about a restore's progress (the views implement it).
type Hook interface {
	StepStarted(s Step)
	StepDone(s Step, err error)
	Progress(line string)
}

// Executor carries out a restore plan.
type Executor struct {
	Kube    Kube
	Neo4j   Neo4j
	Hook    Hook
	Objects Objects
	// Interval between two looks at a Job or SHOW DATABASES (default 2 s).
	Interval time.Duration
	// OnlineTimeout bounds the wait for every allocation to be online
	// (default 30 min).
	OnlineTimeout time.Duration
}

// StateError is a restore that stopped part way: what state it left and
// how to continue.
type StateError struct {
	Step  Step
	Err   error
	State string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("%s %s: %v\n  State: %s", e.Step.Kind, e.Step.Address, e.Err, e.State)
}

func (e *StateError) Unwrap() error { return e.Err }

// Execute runs p's steps in order, up to the healthcheck (the caller's:
// it is neo4jctl healthcheck). Every step first looks at what is there,
// so a rerun after an interruption or a failure continues where the
// last run stopped.
func (x *Executor) Execute(ctx context.Context, p *Plan) error {
	if len(p.Refusals) > 0 {
		return fmt.Errorf("restore refused: %s; nothing was changed", strings.Join(p.Refusals, "; "))
	}
	if x.Interval <= 0 {
		x.Interval = 2 * time.Second
	}
	if x.OnlineTimeout <= 0 {
		x.OnlineTimeout = 30 * time.Minute
	}
	r := &run{x: x, p: p}
	for _, s := range p.Steps {
		if s.Kind == StepHealthcheck {
			continue
		}
		x.Hook.StepStarted(s)
		err := r.step(ctx, s)
		x.Hook.StepDone(s, err)
		if err != nil {
			return &StateError{Step: s, Err: err, State: r.state(s)}
		}
	}
	return nil
}

type run struct {
	x *Executor
	p *Plan
	// loaded: a load Job of this point already succeeded while the
	// server was stopped (a rerun after an interruption).
	loaded bool
}

func (r *run) say(format string, args ...any) { r.x.Hook.Progress(fmt.Sprintf(format, args...)) }

// state says, for a failure in step s, what the cluster is left as and
// how to continue.
func (r *run) state(s Step) string {
	p := r.p
	rerun := "rerun the same `neo4jctl restore` to continue (it converges)"
	switch s.Kind {
	case StepStop:
		return fmt.Sprintf("StatefulSet %s may be partly scaled down; its store is untouched. %s, or `neo4jctl apply` to start it again on its own store", p.StatefulSet, rerun)
	case StepLoad:
		return fmt.Sprintf("the server is stopped (StatefulSet %s at 0 replicas) and its store may be partly overwritten; see why with `kubectl -n %s logs job/%s --all-containers`, then %s", p.StatefulSet, p.Namespace, p.ObjectName, rerun)
	case StepStart:
		return fmt.Sprintf("the store is restored; the server has not become Ready: see `neo4jctl healthcheck`; %s", rerun)
	case StepServeSeed:
		return fmt.Sprintf("nothing in Neo4j changed; the seed Pod %s/%s may still be there (it stops on its own after %s); %s", p.Namespace, p.ObjectName, deadline, rerun)
	case StepCreate, StepRecreate, StepWaitOnline:
		return fmt.Sprintf("database %s may be seeded partly or not at all (see SHOW DATABASES); the seed Pod %s/%s is still serving; %s", p.Into, p.Namespace, p.ObjectName, rerun)
	case StepCleanup:
		return fmt.Sprintf("the restore is done; some of its objects (label app.kubernetes.io/component=%s) are left: %s, or delete them", kube.RestoreComponent, rerun)
	}
	return rerun
}

func (r *run) step(ctx context.Context, s Step) error {
	switch s.Kind {
	case StepStop:
		return r.stop(ctx)
	case StepLoad:
		return r.load(ctx)
	case StepStart:
		return r.start(ctx)
	case StepServeSeed:
		return r.serve(ctx)
	case StepCreate:
		return r.create(ctx)
	case StepRecreate:
		return r.x.Neo4j.RecreateDatabase(ctx, r.p.Into, r.p.SeedURI, neo4j.Topology{})
	case StepWaitOnline:
		return r.waitOnline(ctx)
	case StepCleanup:
		return r.cleanup(ctx)
	}
	return fmt.Errorf("unknown step %q", s.Kind)
}

func finished(j *batchv1.Job) (done, ok bool) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, true
		case batchv1.JobFailed:
			return true, false
		}
	}
	return false, false
}

// stop looks at a load Job left by an earlier run, then stops the server.
func (r *run) stop(ctx context.Context) error {
	p, k := r.p, r.x.Kube
	cur, found, err := k.StatefulSetReplicas(ctx, p.Namespace, p.StatefulSet)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("StatefulSet %s/%s does not exist", p.Namespace, p.StatefulSet)
	}
	j, err := k.Job(ctx, p.Namespace, p.ObjectName)
	if err != nil {
		return err
	}
	if j != nil {
		done, ok := finished(j)
		same := j.Annotations[AnnotationPoint] == p.Point.Target().ID
		switch {
		case !same && !done:
			return fmt.Errorf("job/%s is loading another backup (%s) right now; wait for it, or delete it", j.Name, j.Annotations[AnnotationPoint])
		case same && done && ok && cur == 0:
			r.loaded = true
			r.say("job/%s already loaded %s while the server was stopped (an earlier run): not loading again", j.Name, p.Point.Target().ID)
		case same && !done:
			r.say("job/%s of an earlier run is still loading: following it", j.Name)
		default:
			r.say("job/%s of an earlier run is left over: deleting it", j.Name)
			if err := r.deleteJob(ctx); err != nil {
				return err
			}
		}
	}
	if cur != 0 {
		if err := k.ScaleStatefulSet(ctx, p.Namespace, p.StatefulSet, 0); err != nil {
			return err
		}
	}
	return k.WaitStatefulSet(ctx, p.Namespace, p.StatefulSet, 0, func(ready, want int) {
		r.say("waiting for StatefulSet %s to stop (%d Pods ready)", p.StatefulSet, ready)
	})
}

func (r *run) deleteJob(ctx context.Context) error {
	p, k := r.p, r.x.Kube
	if err := k.DeleteRestoreObject(ctx, "Job", p.Namespace, p.ObjectName); err != nil {
		return err
	}
	for {
		j, err := k.Job(ctx, p.Namespace, p.ObjectName)
		if err != nil || j == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.x.Interval / 4):
		}
	}
}

func (r *run) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	p, k, o := r.p, r.x.Kube, r.x.Objects
	if err := k.CreateRestoreObject(ctx, o.ConfigMap); err != nil {
		return err
	}
	j, err := k.Job(ctx, p.Namespace, p.ObjectName)
	if err != nil {
		return err
	}
	if j == nil {
		if _, err := k.CreateJob(ctx, o.Job); err != nil {
			return err
		}
		r.say("job/%s created", p.ObjectName)
	}
	out, err := k.FollowJob(ctx, p.Namespace, p.ObjectName, r.x.Interval, func(line string) { r.say("%s", line) })
	if err != nil {
		return err
	}
	if !out.Succeeded {
		return fmt.Errorf("the load Job failed (%s: %s)", out.Reason, out.Message)
	}
	return nil
}

func (r *run) start(ctx context.Context) error {
	p, k := r.p, r.x.Kube
	if err := k.ScaleStatefulSet(ctx, p.Namespace, p.StatefulSet, p.Replicas); err != nil {
		return err
	}
	return k.WaitStatefulSet(ctx, p.Namespace, p.StatefulSet, int(p.Replicas), func(ready, want int) {
		r.say("waiting for StatefulSet %s (%d/%d ready)", p.StatefulSet, ready, want)
	})
}

func (r *run) serve(ctx context.Context) error {
	p, k, o := r.p, r.x.Kube, r.x.Objects
	pod, err := k.Pod(ctx, p.Namespace, p.ObjectName)
	if err != nil {
		return err
	}
	if pod != nil {
		ended := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
		if pod.Annotations[AnnotationPoint] != p.Point.Target().ID || ended {
			if !ended && pod.Annotations[AnnotationPoint] != p.Point.Target().ID {
				return fmt.Errorf("pod/%s is serving another backup (%s) right now; wait for that restore, or delete it", pod.Name, pod.Annotations[AnnotationPoint])
			}
			r.say("pod/%s of an earlier run has ended (%s): replacing it", pod.Name, pod.Status.Phase)
			if err := k.DeleteRestoreObject(ctx, "Pod", p.Namespace, p.ObjectName); err != nil {
				return err
			}
			if err := r.waitPodGone(ctx); err != nil {
				return err
			}
		} else {
			r.say("pod/%s of an earlier run is there: using it", pod.Name)
		}
	}
	for _, obj := range []runtime.Object{o.ConfigMap, o.NetworkPolicy, o.Service, o.Pod} {
		if err := k.CreateRestoreObject(ctx, obj); err != nil {
			return err
		}
	}
	r.say("pod/%s: downloading, decrypting and preparing the seed", p.ObjectName)
	if err := k.WaitPodReady(ctx, p.Namespace, p.ObjectName); err != nil {
		return err
	}
	r.say("seed ready at %s", p.SeedURI)
	return nil
}

func (r *run) waitPodGone(ctx context.Context) error {
	p, k := r.p, r.x.Kube
	for {
		pod, err := k.Pod(ctx, p.Namespace, p.ObjectName)
		if err != nil || pod == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.x.Interval / 4):
		}
	}
}

func rowsOf(dbs []state.DatabaseAllocation, name string) []state.DatabaseAllocation {
	var out []state.DatabaseAllocation
	for _, d := range dbs {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// create sends CREATE DATABASE once; a database of that name seeded from
// this restore's URI is an earlier run's, and is not created again.
func (r *run) create(ctx context.Context) error {
	p, n := r.p, r.x.Neo4j
	failedSeed := false
	ours := func() (bool, error) {
		dbs, err := n.Databases(ctx)
		if err != nil {
			return false, err
		}
		rows := rowsOf(dbs, p.Into)
		if len(rows) == 0 {
			return false, nil
		}
		if uri, _ := rows[0].Options["seedURI"].(string); uri == p.SeedURI {
			for _, d := range rows {
				failedSeed = failedSeed || d.CurrentStatus == "offline" && d.StatusMessage != ""
			}
			return true, nil
		}
		return false, fmt.Errorf("database %s exists now (it did not when the plan was made) and was not seeded by this restore; plan again", p.Into)
	}
	if done, err := ours(); err != nil || done {
		if done && failedSeed {
			// An earlier run created it and the seed failed as it
			// started: seed it again, now that the seed is served.
			r.say("database %s was created from this seed by an earlier run and did not start: recreating it from the seed", p.Into)
			return n.RecreateDatabase(ctx, p.Into, p.SeedURI, neo4j.Topology{})
		}
		if done {
			r.say("database %s was created from this seed by an earlier run", p.Into)
		}
		return err
	}
	cd := neo4j.CreateDatabase{
		Topology: neo4j.Topology{Primaries: p.Primaries, Secondaries: p.Secondaries},
		Options:  neo4j.DatabaseOptions{ExistingData: "use", SeedURI: p.SeedURI},
	}
	err := n.CreateDatabase(ctx, p.Into, cd)
	if err == nil {
		return nil
	}
	// Sent once: learn what happened before deciding.
	if done, rerr := ours(); rerr == nil && done {
		return nil
	}
	return err
}

// waitOnline waits until every allocation of the database is online; an
// allocation offline with a status message is the seed failing as the
// database starts (Operations Manual 5.26,
// database-administration/standard-databases/seed-from-uri.adoc: the seed
// is downloaded and validated only as the database starts; a failure
// leaves it offline with "Unable to start database").
func (r *run) waitOnline(ctx context.Context) error {
	p, n := r.p, r.x.Neo4j
	ctx, cancel := context.WithTimeout(ctx, r.x.OnlineTimeout)
	defer cancel()
	last := ""
	for {
		dbs, err := n.Databases(ctx)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("wait for %s online: %w", p.Into, ctx.Err())
		}
		if err == nil {
			rows := rowsOf(dbs, p.Into)
			online, want := 0, 0
			var failed []string
			for _, d := range rows {
				want = int(d.RequestedPrimaries + d.RequestedSecondaries)
				switch {
				case d.CurrentStatus == "online":
					online++
				case d.StatusMessage != "" && d.CurrentStatus == "offline":
					failed = append(failed, fmt.Sprintf("%s: %s", cmpOr(d.Address, d.ServerID), d.StatusMessage))
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("the seed failed as %s started (offline): %s", p.Into, strings.Join(failed, "; "))
			}
			if len(rows) > 0 && online == len(rows) && online >= want {
				r.say("%s is online on %d allocations", p.Into, online)
				return nil
			}
			if s := fmt.Sprintf("%s: %d/%d allocations online", p.Into, online, max(want, len(rows))); s != last {
				r.say("%s", s)
				last = s
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not online on every allocation after %s", p.Into, r.x.OnlineTimeout)
			}
			return ctx.Err()
		case <-time.After(r.x.Interval):
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (r *run) cleanup(ctx context.Context) error {
	p, k := r.p, r.x.Kube
	kinds := []string{"Job", "ConfigMap"}
	if p.Kind == KindClusterSeed {
		kinds = []string{"Pod", "Service", "NetworkPolicy", "ConfigMap"}
	}
	var errs []error
	for _, kind := range kinds {
		if err := k.DeleteRestoreObject(ctx, kind, p.Namespace, p.ObjectName); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
