package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Kube is what apply needs of the Kubernetes API; *kube.Client implements
// it. Transient errors are retried inside (and reported through the hook
// of kube.WithRetryHook, see KubeRetry); a *kube.ConflictError is never
// retried.
type Kube interface {
	DryRunApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error)
	Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error)
	Delete(ctx context.Context, ref kube.Ref) error
	DeleteOrphaning(ctx context.Context, ref kube.Ref) error
	ResizeClaim(ctx context.Context, ns, name, uid, size string) error
	WaitClaimCapacity(ctx context.Context, ns, name, size string, onProgress func(status string)) error
	EnsureInventory(ctx context.Context, inv kube.InventoryRef, kinds []schema.GroupKind) error
	WaitStatefulSet(ctx context.Context, ns, name string, want int, onProgress func(ready, want int)) error
	WaitPodReady(ctx context.Context, ns, name string) error
	WaitPodUpdated(ctx context.Context, ns, sts, pod string, onProgress func(status string)) error
}

// Neo4j is what apply needs of a Neo4j connection; *neo4j.Client implements
// it. Idempotent statements are retried inside; DEALLOCATE, DROP SERVER and
// CREATE DATABASE are sent once.
type Neo4j interface {
	Servers(ctx context.Context) (map[string]state.Server, error)
	Databases(ctx context.Context) ([]state.DatabaseAllocation, error)
	EnableServer(ctx context.Context, id string, opts neo4j.ServerOptions) error
	AlterServerOptions(ctx context.Context, name string, opts neo4j.ServerOptions) error
	RenameServer(ctx context.Context, from, to string) error
	CordonServer(ctx context.Context, id string) error
	ReallocateDatabases(ctx context.Context, dryRun bool) ([]neo4j.Reallocation, error)
	DeallocateServers(ctx context.Context, dryRun bool, ids ...string) ([]neo4j.Reallocation, error)
	DropServer(ctx context.Context, id string) error
	CreateDatabase(ctx context.Context, name string, c neo4j.CreateDatabase) error
	AlterDatabaseTopology(ctx context.Context, name string, t neo4j.Topology) error
	AlterDatabaseAccess(ctx context.Context, name string, readOnly bool) error
}

var (
	_ Kube  = (*kube.Client)(nil)
	_ Neo4j = (*neo4j.Client)(nil)
)

// Options tune an Executor. Zero fields take their defaults.
type Options struct {
	// ForceConflicts takes over fields another Apply-operation manager owns
	// (--force-conflicts).
	ForceConflicts bool
	// PollInterval is how often Neo4j waits re-read SHOW SERVERS / SHOW
	// DATABASES (default 1 s).
	PollInterval time.Duration
	// StepTimeout bounds each wait step (default 10 min).
	StepTimeout time.Duration
	// ProgressEvery is how often a wait reports "Still waiting …"
	// (default 10 s).
	ProgressEvery time.Duration
	// NoRolloutWait skips waiting for the Pods of a newly created
	// StatefulSet (--wait=false), as kubectl apply does. Neo4j steps still
	// wait for their servers, and scale steps for their Pods: the safe
	// sequences need them.
	NoRolloutWait bool
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Backups reads the catalogue's newest backup of each database of the
	// cluster file, for an upgrade pre-flight's backup check
	// (plan.UpgradeStep.MaxBackupAge). Nil fails that check: an upgrade
	// asked to check backups never starts without having looked.
	Backups func(ctx context.Context) ([]healthcheck.BackupDatabase, error)
}

func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Minute
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Target is the rendered side of what the plan was computed from: the
// objects kind "apply" steps send, and the inventory their members are
// recorded in.
type Target struct {
	Namespace string
	// Objects are the rendered objects; steps find theirs by ObjectRef.
	Objects   []*unstructured.Unstructured
	Inventory kube.InventoryRef
	// OwnsVerification tells the labels of the cluster's backup
	// verification objects, which delete-verification steps check.
	OwnsVerification func(labels map[string]string) bool
	// Observed is the Kubernetes observation the plan was computed from,
	// set only when this process made it moments before Apply, under the
	// cluster's lock, with no prompt in between. The preflight does not
	// repeat a dry run that observation made of the very object a step
	// sends: that forced dry run went through the same validation and
	// admission seconds ago, and a field another apply manager owns is
	// already a refusal in the plan (the plan predicts conflicts from it
	// exactly), so repeating it proves nothing new and costs the API
	// server a second dry run per object. Nil — a saved plan, or one a
	// person took time to confirm — dry-runs every object again.
	Observed *state.Kube
}

// Executor runs plans. Build one per apply: it remembers the serverIds it
// resolved and the step it is running (to route client retries to it).
type Executor struct {
	Kube Kube
	// Neo4j opens a connection; apply calls it lazily (a new cluster has no
	// Neo4j until its Pods run) and again after the connection failed. The
	// returned func closes the connection.
	Neo4j func(ctx context.Context) (Neo4j, func(), error)
	Hook  Hook
	// Verify computes a fresh plan after apply wrote something; apply
	// requires it to be empty (but records a first TLS certificate stamp
	// it finds, once: recordTLSBaseline). It computes the plan from the
	// Target's objects, rendered again in place for what the cluster holds
	// now (pipeline.Runner.Plan). Nil skips verification.
	Verify  func(ctx context.Context) (*plan.Plan, error)
	Options Options

	mu       sync.Mutex
	current  plan.Step
	conn     Neo4j
	closeFn  func()
	resolved map[string]string // pending address → serverId
	// sent is the object last applied per address: a rolling-update step
	// sends its StatefulSet step's object again with a lower partition.
	sent map[string]*unstructured.Unstructured
	// rolledOut: the StatefulSet at this address was waited for since it
	// was last sent (waitRollout need not wait again).
	rolledOut map[string]bool
	namespace string
}

// ErrNotApplicable is returned for a plan with refusals or an unknown plane.
var ErrNotApplicable = errors.New("the plan cannot be applied")

// KubeRetry reports a retry of the Kubernetes client against the step
// running now; pass it to kube.WithRetryHook.
func (e *Executor) KubeRetry(what string, attempt int, err error) {
	e.hook().StepRetry(e.currentStep(), what, attempt, err)
}

// Neo4jRetry is a neo4j.Config.OnRetry that reports the retry against the
// step running now.
func (e *Executor) Neo4jRetry(attempt int, err error) {
	what := "Neo4j statement"
	var ne *neo4j.Error
	if errors.As(err, &ne) && ne.Op != "" {
		what = ne.Op
	}
	e.hook().StepRetry(e.currentStep(), what, attempt, err)
}

func (e *Executor) currentStep() plan.Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.current
}

func (e *Executor) setCurrent(s plan.Step) {
	e.mu.Lock()
	e.current = s
	e.mu.Unlock()
}

func (e *Executor) hook() Hook {
	if e.Hook == nil {
		return NopHook{}
	}
	return e.Hook
}

// Apply executes p's steps exactly in plan order. It refuses a plan that is
// not Applicable, dry-runs every object it will apply before the first
// write (reporting every refusal at once; see Target.Observed for the dry
// runs the plan has just made), records the kinds in the
// cluster's inventory, then runs each step whose dependencies succeeded; a
// failed step's dependents are skipped and independent steps continue,
// except destructive ones (irreversible Neo4j statements, deletes and
// replacements): after the first failure none of those runs anywhere.
// After writing anything it requires Verify's fresh plan to be empty,
// with one exception: a fresh plan that only records the first TLS
// certificate stamp of the StatefulSets (a certificate cert-manager issued
// during this apply; plan.TLSBaselineOnly) is applied, once, and the plan
// after it must be empty (recordTLSBaseline).
//
// The error is nil only when every step succeeded and verification passed.
// When ctx ends the step in flight is finished or abandoned cleanly (a
// statement sent once is followed by a re-read of the state), the rest are
// skipped and the error wraps ctx's error.
func (e *Executor) Apply(ctx context.Context, t Target, p *plan.Plan) (*Result, error) {
	e.Options = e.Options.withDefaults()
	e.resolved = map[string]string{}
	e.namespace = t.Namespace
	defer e.closeNeo4j()
	res := &Result{}
	if !p.Applicable() {
		return res, notApplicable(p)
	}
	objs, err := e.objectsOf(t, p)
	if err != nil {
		return res, err
	}
	if !p.HasChanges() {
		e.hook().Summary(res)
		return res, nil
	}

	if errs := e.preflight(ctx, p, objs, t.Observed); len(errs) > 0 {
		res.Preflight = errs
		e.hook().Summary(res)
		if ctx.Err() != nil {
			res.Interrupted = true
			return res, fmt.Errorf("apply interrupted during the preflight; nothing was written: %w", ctx.Err())
		}
		return res, fmt.Errorf("%s\n%w", res.SummaryLine(), errors.Join(errs...))
	}
	if len(objs) > 0 {
		var us []*unstructured.Unstructured
		for id, o := range objs {
			// The verification objects are no ApplySet members
			// (plan/verify.go): their kinds are not the inventory's.
			if st := p.Step(id); st == nil || st.Sequence != plan.SequenceVerification {
				us = append(us, o)
			}
		}
		if err := e.Kube.EnsureInventory(ctx, t.Inventory, kube.KindsOf(us)); err != nil {
			if ctx.Err() != nil {
				res.Interrupted = true
				return res, fmt.Errorf("apply interrupted: %w", ctx.Err())
			}
			return res, fmt.Errorf("record the cluster's inventory before applying: %w", err)
		}
	}

	status := map[string]Status{}
	// firstFailure is the first step that failed: after it, independent
	// steps still run, but no destructive one does, in any pool or
	// sequence: a cluster in an unexpected state is no place to delete.
	firstFailure := ""
	for _, s := range p.Steps {
		r := StepResult{ID: s.ID, Address: s.Address, Kind: s.Kind}
		switch blocker := blockedBy(s, status); {
		case ctx.Err() != nil:
			r.Status, r.Note = StatusSkipped, "apply was interrupted"
		case blocker != "":
			r.Status, r.Note = StatusSkipped, fmt.Sprintf("depends on %s, which %s", blocker, verbOf(status[blocker]))
		case firstFailure != "" && destructive(s):
			r.Status, r.Note = StatusSkipped, fmt.Sprintf("%s failed earlier in this apply: no destructive step runs after a failure", firstFailure)
		default:
			e.setCurrent(s)
			e.hook().StepStarted(s)
			start := e.Options.Now()
			var o outcome
			o, err = e.run(ctx, t, s, objs)
			r.Duration = e.Options.Now().Sub(start)
			r.Note = o.note
			if o.wrote {
				res.Wrote = true
			}
			switch {
			case err != nil:
				r.Status, r.Err = StatusFailed, err
				if firstFailure == "" {
					firstFailure = s.ID
				}
			case o.unchanged:
				r.Status = StatusUnchanged
			default:
				r.Status = StatusApplied
			}
			e.setCurrent(plan.Step{})
		}
		status[s.ID] = r.Status
		res.Steps = append(res.Steps, r)
		e.hook().StepFinished(s, r)
	}

	if ctx.Err() != nil {
		res.Interrupted = true
		e.hook().Summary(res)
		return res, fmt.Errorf("%s Apply was interrupted; run it again to converge: %w", res.SummaryLine(), ctx.Err())
	}
	if res.Failed() {
		e.hook().Summary(res)
		return res, errors.New(res.SummaryLine() + " Fix the failures above and run apply again: it continues from where the cluster is.")
	}
	if res.Wrote && e.Verify != nil {
		if err := e.waitRollout(ctx); err != nil {
			e.hook().Summary(res)
			if ctx.Err() != nil {
				res.Interrupted = true
				return res, fmt.Errorf("%s Apply was interrupted while waiting for the rollout; run it again to converge: %w", res.SummaryLine(), ctx.Err())
			}
			return res, fmt.Errorf("apply finished, but %w", err)
		}
		// The verifying plan opens its own connection; in a fleet it may
		// wait for the other clusters, holding no port-forward meanwhile.
		e.closeNeo4j()
		e.hook().Message("Verifying: planning again, expecting no changes…")
		vp, err := e.Verify(ctx)
		if err == nil && plan.TLSBaselineOnly(vp) {
			// Once only: whatever the plan after it finds fails below.
			if err := e.recordTLSBaseline(ctx, t, vp, res); err != nil {
				e.hook().Summary(res)
				if ctx.Err() != nil {
					res.Interrupted = true
					return res, fmt.Errorf("%s Apply was interrupted while recording the TLS certificate baseline; run it again to converge: %w", res.SummaryLine(), ctx.Err())
				}
				return res, fmt.Errorf("apply finished, but recording the TLS certificate baseline its verifying plan found failed (run apply again to record it): %w", err)
			}
			e.hook().Message("Verifying again: planning, expecting no changes…")
			vp, err = e.Verify(ctx)
		}
		switch {
		case err != nil:
			e.hook().Summary(res)
			return res, fmt.Errorf("apply finished, but the verifying plan failed: %w", err)
		case vp.HasChanges() || !vp.Applicable():
			e.hook().Summary(res)
			return res, fmt.Errorf("apply finished, but a fresh plan is not empty (%s); run neo4jctl plan to see what still differs", describe(vp))
		}
		res.Verified = true
	}
	e.hook().Summary(res)
	return res, nil
}

func describe(p *plan.Plan) string {
	var parts []string
	for i, s := range p.Steps {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(p.Steps)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", s.Kind, s.Address))
	}
	for _, r := range p.Refusals {
		parts = append(parts, "refused: "+r.Address+": "+r.Reason)
	}
	for _, u := range p.Unknown {
		parts = append(parts, u.Plane+" not observed: "+u.Reason)
	}
	return strings.Join(parts, "; ")
}

func notApplicable(p *plan.Plan) error {
	if p == nil {
		return fmt.Errorf("%w: no plan", ErrNotApplicable)
	}
	var why []string
	for _, r := range p.Refusals {
		s := r.Address + ": " + r.Reason
		if r.Fix != "" {
			s += " (fix: " + r.Fix + ")"
		}
		why = append(why, s)
	}
	for _, u := range p.Unknown {
		why = append(why, fmt.Sprintf("the %s plane was not observed: %s", u.Plane, u.Reason))
	}
	if p.Incomplete && len(p.Unknown) == 0 {
		why = append(why, "the plan is incomplete")
	}
	return fmt.Errorf("%w; nothing was written:\n  %s", ErrNotApplicable, strings.Join(why, "\n  "))
}

// destructive: a step whose effect cannot be taken back — an irreversible
// Neo4j statement (DEALLOCATE, DROP SERVER) or deleting or replacing a
// Kubernetes object.
func destructive(s plan.Step) bool {
	return s.Irreversible || s.Action == plan.ActionDelete || s.Action == plan.ActionReplace
}

// blockedBy returns the first dependency of s that did not succeed.
func blockedBy(s plan.Step, status map[string]Status) string {
	for _, d := range s.DependsOn {
		switch status[d] {
		case StatusApplied, StatusUnchanged:
		default:
			return d
		}
	}
	return ""
}

func verbOf(s Status) string {
	switch s {
	case StatusFailed:
		return "failed"
	case StatusSkipped:
		return "was skipped"
	}
	return "did not run"
}

// objectsOf maps every Kubernetes step of p to its rendered object, so a
// plan whose objects the cluster file no longer renders is refused before
// anything is sent.
func (e *Executor) objectsOf(t Target, p *plan.Plan) (map[string]*unstructured.Unstructured, error) {
	byKey := map[string]*unstructured.Unstructured{}
	for _, o := range t.Objects {
		ns := o.GetNamespace()
		if ns == "" {
			ns = t.Namespace
		}
		byKey[objKey(o.GroupVersionKind().Group, o.GetKind(), ns, o.GetName())] = o
	}
	out := map[string]*unstructured.Unstructured{}
	var missing []string
	for _, s := range p.Steps {
		switch s.Kind {
		case plan.KindApply, plan.KindScaleStatefulSet, plan.KindReplace:
		default:
			continue
		}
		if s.Object == nil {
			missing = append(missing, s.ID+" "+s.Address+" (no object)")
			continue
		}
		ns := s.Object.Namespace
		if ns == "" {
			ns = t.Namespace
		}
		o, ok := byKey[objKey(s.Object.Group, s.Object.Kind, ns, s.Object.Name)]
		if !ok {
			missing = append(missing, s.ID+" "+s.Address)
			continue
		}
		out[s.ID] = o
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the plan applies objects the cluster file does not render (was it made from another file?): %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func objKey(group, kind, ns, name string) string {
	return group + "/" + kind + "/" + ns + "/" + name
}

// preflight dry-runs every object the plan applies, in parallel, and
// returns every refusal. A replace is left out: its new object can only be
// admitted once the old one is gone. So is an object the plan's own
// observation dry-ran cleanly moments ago (Target.Observed).
func (e *Executor) preflight(ctx context.Context, p *plan.Plan, objs map[string]*unstructured.Unstructured, observed *state.Kube) []error {
	type job struct {
		s plan.Step
		o *unstructured.Unstructured
	}
	dryRan := cleanDryRuns(observed)
	newNS := createdNamespaces(p)
	var jobs []job
	passed := 0
	for _, s := range p.Steps {
		o, ok := objs[s.ID]
		if !ok || s.Kind == plan.KindReplace || newNS[o.GetNamespace()] {
			continue
		}
		d := e.desiredObject(s, o)
		// d == o: the step sends the rendered object the observation
		// dry-ran, not one with other replicas.
		if d == o && dryRan[s.Address] {
			passed++
			continue
		}
		jobs = append(jobs, job{s, d})
	}
	if len(jobs) == 0 {
		if passed > 0 {
			e.hook().Message(fmt.Sprintf("Preflight: the plan dry-ran all %d %s moments ago, under the lock.", passed, plural(passed, "object", "objects")))
		}
		return nil
	}
	e.hook().Message(fmt.Sprintf("Preflight: dry-running %d %s…", len(jobs), plural(len(jobs), "object", "objects")))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := e.Kube.DryRunApply(ctx, j.o, e.Options.ForceConflicts); err != nil {
				errs[i] = fmt.Errorf("%s: %w", j.s.Address, err)
			}
		}()
	}
	wg.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// cleanDryRuns returns the addresses whose forced dry run in observed was
// admitted (an object the server refused has DryRunError instead of
// Predicted; a structural observation made no dry runs at all).
func cleanDryRuns(observed *state.Kube) map[string]bool {
	out := map[string]bool{}
	if observed == nil || observed.Mode != kube.ModeDryRun {
		return out
	}
	for _, o := range observed.Objects {
		if o.DryRunError == "" && o.Predicted != nil {
			out[o.Address] = true
		}
	}
	return out
}

// desiredObject is the object a step sends: the rendered object, with
// spec.replicas set to the step's target for a scale-statefulset step (the
// plan keeps live replicas when an ignore rule gives them to an autoscaler).
func (e *Executor) desiredObject(s plan.Step, o *unstructured.Unstructured) *unstructured.Unstructured {
	if s.Kind != plan.KindScaleStatefulSet || s.Replicas == nil {
		return o
	}
	cp := o.DeepCopy()
	_ = unstructured.SetNestedField(cp.Object, int64(*s.Replicas), "spec", "replicas")
	return cp
}
