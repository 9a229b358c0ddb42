package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/healthcheck/observe"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/plan"
)

// lockTTL is how long the apply Lease lasts without renewal: a crashed
// apply blocks the next one for at most this long.
const lockTTL = 30 * time.Second

// ApplyOptions are the inputs of `neo4jctl apply`.
type ApplyOptions struct {
	IO            *iostreams.IOStreams
	File          string
	Files         []string
	Parallel      int
	PlanFile      string
	FlagNamespace string
	Output        string
	AutoApprove   bool
	Lock          bool
	LockTimeout   time.Duration
	StepTimeout   time.Duration
	Wait          bool
	Force         bool
	AllowReplace  bool
	Detailed      bool
	// ForgetHelmRelease deletes the Helm release records of an adopted
	// cluster (spec.layout: helm) once apply has succeeded.
	ForgetHelmRelease bool
	Targets           []string
	Excludes          []string
	ConfirmDrops      []string
	cluster           clusterFlags

	runner func() (*pipeline.Runner, error)
	now    func() time.Time
}

// NewCmdApply executes a plan: computed now from a cluster file, or saved
// by `neo4jctl plan --out`.
func NewCmdApply(f *Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{IO: f.IO, now: time.Now}
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f CLUSTER_FILE | apply PLAN_FILE -f CLUSTER_FILE",
		Short: "Change the cluster to match the cluster file, in the order that keeps quorum",
		Long: `Apply takes the cluster's lock (a Lease), plans (or checks that a saved plan
is still fresh), shows the plan, asks for confirmation, dry-runs every object
(with --auto-approve, the plan's own dry runs of a moment ago count), then
executes the plan's steps in order: configuration, Services and policies,
StatefulSet changes interleaved with Neo4j steps (ENABLE SERVER after a scale
out; DEALLOCATE, wait, DROP SERVER before a scale in), databases last. It then
plans again and requires that plan to be empty. That plan reads every object
again, but dry-runs only those the server changed after apply wrote them.
In a fleet, the verifying plans start once every cluster has applied, and
read the fleet's objects with one LIST per kind.

A failed step skips only the steps that depend on it; rerunning apply
continues from wherever the cluster is.

A saved plan (neo4jctl plan --out plan.json) is applied without a prompt,
but only if it is what a fresh plan would do: apply plans again, refuses
unless nothing the saved plan was computed from has moved and its steps
(addresses, actions, statements) are the fresh plan's, and then runs them.
Pass the cluster file it was made from with -f, and --allow-replace or
--force-conflicts again if the plan needed them.

Exit codes: 0 success, 1 error or failed step, 2 changes applied (with
--detailed-exitcode), 130 interrupted.`,
		Example: `  neo4jctl apply -f examples/quickstart.yaml
  neo4jctl apply -f cluster.yaml --auto-approve -o json
  neo4jctl plan -f cluster.yaml --out plan.json && neo4jctl apply plan.json -f cluster.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			switch {
			case len(files) == 0 && opts.PlanFile != "":
				return usageErrorf(cmd, "applying a saved plan needs the cluster file it was made from: neo4jctl apply %s -f CLUSTER_FILE", opts.PlanFile)
			case len(files) == 0:
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			opts.Files = files
			if len(files) == 1 {
				if st, err := os.Stat(files[0]); err != nil || !st.IsDir() {
					opts.File = files[0] // a missing file fails when loaded, with its name
				}
			}
			if opts.File == "" {
				// A fleet: several files or a directory. Its saved plans
				// (a directory written by plan --out) are its approval.
				switch {
				case opts.PlanFile != "" && !isDir(opts.PlanFile):
					return usageErrorf(cmd, "a saved plan file is for one cluster; a fleet's saved plans are the directory `neo4jctl plan -f ... --out DIR` writes")
				case opts.PlanFile == "" && !opts.AutoApprove:
					return usageErrorf(cmd, "applying a fleet (several cluster files or a directory) needs --auto-approve, or its saved plans (neo4jctl plan -f ... --out DIR, then neo4jctl apply DIR -f ...)")
				}
			}
			if _, err := views.NewApplyView(opts.Output, views.ApplyViewOptions{}); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			if opts.PlanFile != "" && (len(opts.Targets) > 0 || len(opts.Excludes) > 0) {
				return usageErrorf(cmd, "--target and --exclude apply when planning; a saved plan already has its targets")
			}
			opts.FlagNamespace = flagNamespace(f)
			opts.runner = func() (*pipeline.Runner, error) { return newRunner(f, &opts.cluster) }
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&files, "filename", "f", nil, "the cluster file (- reads stdin); several -f or a directory apply a fleet (with --auto-approve, or its saved plans)")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters applied at once in a fleet")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format: human or json (NDJSON events)")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking (required when stdin is not a terminal)")
	fl.BoolVar(&opts.Lock, "lock", true, "hold the cluster's Lease while applying (--lock=false only if you are sure no other apply runs)")
	fl.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "how long to wait for another apply's lock before giving up")
	fl.DurationVar(&opts.StepTimeout, "step-timeout", 10*time.Minute, "how long each wait (rollout, server, database) may take")
	fl.BoolVar(&opts.Wait, "wait", true, "wait for a new StatefulSet's Pods to be Ready (Neo4j steps and scale steps always wait for what they need)")
	fl.BoolVar(&opts.Force, "force-conflicts", false, "take ownership of fields another apply manager (another GitOps tool) owns")
	fl.BoolVar(&opts.AllowReplace, "allow-replace", false, "allow deleting and recreating objects whose immutable fields changed")
	fl.BoolVar(&opts.Detailed, "detailed-exitcode", false, "exit 2 when changes were applied")
	fl.BoolVar(&opts.ForgetHelmRelease, "forget-helm-release", false, "after a successful apply of a cluster adopted from Helm (layout: helm), delete only Helm's release records (Secrets sh.helm.release.v1.<release>.v<N>): helm no longer lists the releases; nothing of the cluster changes")
	fl.StringArrayVar(&opts.Targets, "target", nil, "apply only these addresses or globs (repeatable); safe sequences are kept whole")
	fl.StringArrayVar(&opts.Excludes, "exclude", nil, "leave out these addresses or globs (repeatable)")
	fl.StringArrayVar(&opts.ConfirmDrops, "confirm-drop", nil, "the name of a database the plan drops (state: absent), confirming it without a terminal (repeatable)")
	opts.cluster.add(fl)
	return cmd
}

func (o *ApplyOptions) planOptions(t *pipeline.Target) plan.Options {
	return plan.Options{
		AllowReplace: o.AllowReplace, ForceConflicts: o.Force, Targets: o.Targets, Excludes: o.Excludes,
		SkipNeo4j: o.cluster.SkipNeo4j, SkipBackupCheck: o.cluster.SkipBackupCheck, Ignore: ignoreRules(t), Now: nowUTC,
	}
}

// Run locks, plans, confirms, executes and verifies one cluster, or a
// fleet of them.
func (o *ApplyOptions) Run(ctx context.Context) error {
	// As in plan, the connection opens while the files load.
	runner := startRunner(ctx, o.runner)
	if o.File == "" {
		return o.reportJSON(o.IO.Out, o.runFleet(ctx, runner))
	}
	return o.reportJSON(o.IO.Out, o.runOne(ctx, runner))
}

func (o *ApplyOptions) runOne(ctx context.Context, runner func() (*pipeline.Runner, error)) error {
	var saved *plan.Plan
	if o.PlanFile != "" && !isDir(o.PlanFile) {
		p, err := readPlan(o.PlanFile)
		if err != nil {
			return err
		}
		saved = p
	}
	t, err := loadTarget(o.File, o.FlagNamespace, o.IO.In)
	if err != nil {
		return err
	}
	if o.PlanFile != "" && saved == nil {
		plans, err := readSavedPlans(o.PlanFile, []*pipeline.Target{t})
		if err != nil {
			return err
		}
		saved = plans[0]
	}
	if saved != nil && (saved.Cluster != t.Cluster.Metadata.Name || saved.Namespace != t.Namespace) {
		return fmt.Errorf("the saved plan is for cluster %s/%s, but %s is %s", saved.Namespace, saved.Cluster, o.File, t.Name())
	}
	r, err := runner()
	if err != nil {
		return err
	}
	return o.applyTarget(ctx, r, t, saved, o.IO.Out, o.IO.ErrOut, nil)
}

// applyTarget is apply for one cluster, writing to out and errOut (the
// process's streams, or a fleet's per-cluster prefixed streams). The
// runner may be shared by a fleet's clusters: this cluster's retries are
// routed to its own progress output through the context and a copy of the
// runner. A fleet passes tv, through which the verifying plan waits for
// the other clusters and shares their reads.
func (o *ApplyOptions) applyTarget(ctx context.Context, shared *pipeline.Runner, t *pipeline.Target, saved *plan.Plan, out, errOut io.Writer, tv *targetVerify) error {
	return o.reportJSON(out, o.applyTargetOnce(ctx, shared, t, saved, out, errOut, tv))
}

// reportedError is an error the NDJSON stream already carries as an
// "error" event.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// reportJSON emits err, when it ends apply with a message, as an NDJSON
// "error" event on out, so that -o json carries the reason of every
// failure (a step's failure is already in its apply_errored event). It
// returns err, marked as reported.
func (o *ApplyOptions) reportJSON(out io.Writer, err error) error {
	var done reportedError
	if err == nil || o.Output != views.FormatJSON || errors.As(err, &done) {
		return err
	}
	if _, show := exitCode(err); !show {
		return err
	}
	v, _ := views.NewApplyView(views.FormatJSON, views.ApplyViewOptions{Out: out})
	if interrupted(err) {
		v.Interrupted(interruptedText(err))
	} else {
		v.Error(err)
	}
	return reportedError{err}
}

func (o *ApplyOptions) applyTargetOnce(ctx context.Context, shared *pipeline.Runner, t *pipeline.Target, saved *plan.Plan, out, errOut io.Writer, tv *targetVerify) error {
	if o.ForgetHelmRelease && !t.Cluster.IsHelmLayout() {
		return fmt.Errorf("--forget-helm-release: %s has no layout: helm (nothing was adopted from Helm); nothing was applied", t.File)
	}
	view, _ := views.NewApplyView(o.Output, views.ApplyViewOptions{Out: out, ErrOut: errOut, Color: o.IO.ColorEnabled()})
	ex := &apply.Executor{Hook: view, Options: apply.Options{ForceConflicts: o.Force, StepTimeout: o.StepTimeout, NoRolloutWait: !o.Wait}}
	if t.Cluster.Spec.Backups != nil {
		// An upgrade's pre-flight asks the catalogue (spec.upgrade.maxBackupAge),
		// with the storage Secret where `backup list` finds it.
		ex.Options.Backups = func(ctx context.Context) ([]healthcheck.BackupDatabase, error) {
			return observe.NewestBackups(ctx, t.Cluster, "")
		}
	}
	ctx = kube.WithRetryHook(ctx, ex.KubeRetry)
	r := *shared
	r.Neo4j.OnRetry = ex.Neo4jRetry
	ex.Kube = r.Kube
	if !r.SkipNeo4j {
		ex.Neo4j = func(ctx context.Context) (apply.Neo4j, func(), error) {
			c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
			if err != nil {
				return nil, nil, err
			}
			return c, closeFn, nil
		}
	}
	popts := o.planOptions(t)
	if saved != nil {
		// The fresh plan a saved one is checked against is computed as
		// the saved one was; its safety gates (--allow-replace,
		// --force-conflicts) are apply's own command line, never the file.
		popts.Targets, popts.Excludes = saved.Targets, saved.Excludes
	}
	ex.Verify = func(ctx context.Context) (*plan.Plan, error) {
		if tv != nil {
			return tv.plan(ctx, &r, t, popts)
		}
		p, _, err := r.Plan(ctx, t, popts)
		return p, err
	}

	// Lock before planning, as terraform does: a plan computed while
	// another apply is halfway through would be stale the moment it is shown.
	runCtx := ctx
	if o.Lock {
		lockCtx, release, err := holdApplyLock(ctx, r.Kube, t, o.LockTimeout, errOut)
		if err != nil {
			return err
		}
		defer release()
		runCtx = lockCtx
	}

	p, obs, err := r.Plan(runCtx, t, popts)
	if err != nil {
		return o.interruptedOr(ctx, runCtx, err)
	}
	target := apply.Target{Namespace: t.Namespace, Objects: t.AllObjects(), Inventory: t.Inventory, OwnsVerification: t.OwnsVerification()}
	if saved == nil && o.AutoApprove {
		// The plan's dry runs were made just now, under the lock, and
		// nobody waits at a prompt before apply starts: the preflight
		// need not repeat them (apply.Target.Observed). A saved plan or a
		// confirmed one is dry-run again.
		target.Observed = &obs.Kube
	}
	if saved != nil {
		// A saved plan runs only if it is what a fresh plan would do:
		// nothing it was computed from has moved, and its steps are the
		// fresh plan's. Then the fresh plan is what runs (its steps are
		// the saved ones; its display fields are this run's).
		if err := plan.CheckFresh(saved, p); err != nil {
			return err
		}
		if err := plan.CheckSameSteps(saved, p); err != nil {
			if len(p.Refusals) > 0 {
				return fmt.Errorf("%w; a fresh plan has refusals: %s", err, refusalsText(p))
			}
			return err
		}
	}
	if err := o.showPlan(out, p); err != nil {
		return err
	}
	if !p.Applicable() {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%s; nothing was applied", notApplicable(p))}
	}
	if !p.HasChanges() {
		return o.forgetHelm(runCtx, r.Kube, t, errOut)
	}
	if saved == nil && !o.AutoApprove {
		if err := o.confirm(runCtx, p); err != nil {
			return o.interruptedOr(ctx, runCtx, err)
		}
	}

	if err := confirmDrops(runCtx, o.IO, p, o.ConfirmDrops); err != nil {
		return o.interruptedOr(ctx, runCtx, err)
	}
	res, err := ex.Apply(runCtx, target, p)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: the lock was released; run apply again to converge", errInterrupted)
		}
		if cause := context.Cause(runCtx); errors.Is(cause, kube.ErrLockLost) {
			return fmt.Errorf("%s: %w; stopped applying. Run apply again", t.Name(), cause)
		}
		if len(res.Steps) > 0 && res.Failed() {
			// The table and summary line said it all.
			return silentExit(ExitError)
		}
		return err
	}
	if err := o.forgetHelm(runCtx, r.Kube, t, errOut); err != nil {
		return err
	}
	if res.Wrote && o.Detailed {
		return silentExit(ExitChanges)
	}
	return nil
}

// notApplicable says why apply will not run p, with every reason, so that
// an NDJSON stream (which shows only the plan's summary line) and a CI
// log read without the plan above both carry them.
func notApplicable(p *plan.Plan) string {
	var parts []string
	for _, u := range p.Unknown {
		parts = append(parts, fmt.Sprintf("the %s plane could not be observed: %s", u.Plane, u.Reason))
	}
	if p.Incomplete && len(p.Unknown) == 0 {
		parts = append(parts, "the plan is incomplete")
	}
	if len(p.Refusals) > 0 {
		parts = append(parts, "refused: "+refusalsText(p))
	}
	return "the plan cannot be applied: " + strings.Join(parts, "; ")
}

// refusalsText lists a plan's refusals with their fixes, for an error.
func refusalsText(p *plan.Plan) string {
	var parts []string
	for _, r := range p.Refusals {
		parts = append(parts, fmt.Sprintf("%s: %s (%s)", r.Address, r.Reason, r.Fix))
	}
	return strings.Join(parts, "; ")
}

// interruptedOr maps an error caused by Ctrl-C or a lost lock to what it
// is, and returns any other error as it is.
func (o *ApplyOptions) interruptedOr(ctx, runCtx context.Context, err error) error {
	if ctx.Err() != nil {
		return errInterrupted
	}
	if cause := context.Cause(runCtx); errors.Is(cause, kube.ErrLockLost) {
		return cause
	}
	return err
}

func readPlan(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := plan.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// readSavedPlans reads a directory of saved plans (plan --out DIR) and
// returns the plan of each target, in target order. Every target must have
// exactly one plan and every plan a target: a fleet's saved plans are
// applied together or not at all.
func readSavedPlans(dir string, targets []*pipeline.Target) ([]*plan.Plan, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]*plan.Plan{}
	from := map[string]string{}
	var problems []string
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		p, err := readPlan(path)
		if err != nil {
			return nil, err
		}
		name := p.Namespace + "/" + p.Cluster
		if prev, dup := from[name]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s are both plans of %s", prev, path, name))
			continue
		}
		byName[name], from[name] = p, path
	}
	out := make([]*plan.Plan, len(targets))
	for i, t := range targets {
		p, ok := byName[t.Name()]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s (%s) has no saved plan in %s", t.Name(), t.File, dir))
			continue
		}
		out[i] = p
		delete(byName, t.Name())
	}
	for name := range byName {
		problems = append(problems, fmt.Sprintf("%s is a plan of %s, which no -f file declares", from[name], name))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("the saved plans in %s do not match the cluster files: %s; nothing was applied", dir, strings.Join(problems, "; "))
	}
	return out, nil
}

// showPlan prints the plan: the plan view for humans, one message event
// with the summary line for NDJSON (the full plan is `plan -o json`).
func (o *ApplyOptions) showPlan(out io.Writer, p *plan.Plan) error {
	if o.Output == views.FormatJSON {
		v, _ := views.NewApplyView(views.FormatJSON, views.ApplyViewOptions{Out: out})
		v.Message(views.SummaryLine(p))
		return nil
	}
	pv, _ := views.NewPlanView(views.FormatHuman, o.IO.ColorEnabled())
	return pv.Render(out, p)
}

// errDeclined is returned when the user does not type "yes".
var errDeclined = errors.New("apply cancelled: the answer was not \"yes\"; nothing was changed")

// confirm asks on a terminal, repeating the irreversible steps; without a
// terminal it refuses (a CI job must say --auto-approve).
func (o *ApplyOptions) confirm(ctx context.Context, p *plan.Plan) error {
	if !o.IO.IsStdinTTY() {
		return errors.New("stdin is not a terminal, so apply cannot ask for confirmation; pass --auto-approve to apply without asking")
	}
	w := o.IO.ErrOut
	var irrev []plan.Step
	for _, s := range p.Steps {
		if s.Irreversible {
			irrev = append(irrev, s)
		}
	}
	if len(irrev) > 0 {
		fmt.Fprintf(w, "\nThese steps cannot be undone:\n")
		for _, s := range irrev {
			name := s.Address
			if s.Server != nil && s.Server.Name != "" {
				name += " (" + s.Server.Name + ")"
			}
			fmt.Fprintf(w, "  ! %s  %s\n", name, strings.ToUpper(strings.ReplaceAll(string(s.Kind), "-", " ")))
		}
	}
	fmt.Fprintf(w, "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ")
	answer, err := readLine(ctx, o.IO.In)
	if err != nil {
		return err
	}
	if strings.TrimSpace(answer) != "yes" {
		return &ExitCodeError{Code: ExitError, Err: errDeclined}
	}
	return nil
}

// readLine reads one line, giving up when ctx ends (Ctrl-C at the prompt).
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- result{s, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.err == io.EOF {
			return "", &ExitCodeError{Code: ExitError, Err: errDeclined}
		}
		return res.s, res.err
	}
}
