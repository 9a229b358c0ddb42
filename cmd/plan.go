package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/plan"
)

// PlanOptions are the inputs of `neo4jctl plan`.
type PlanOptions struct {
	IO            *iostreams.IOStreams
	Files         []string
	FlagNamespace string
	Output        string
	Compact       bool
	Out           string
	Detailed      bool
	Targets       []string
	Excludes      []string
	AllowReplace  bool
	Parallel      int
	PolicyFiles   []string
	FailOn        string
	cluster       clusterFlags
	// applyCommand is the command that applies the plan saved with --out.
	applyCommand string

	runner func() (*pipeline.Runner, error)
}

// NewCmdPlan shows what apply would change in both planes.
func NewCmdPlan(f *Factory, runF func(*PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "plan -f CLUSTER_FILE|DIR [-f ...]",
		Short: "Show what apply would change in Kubernetes and in Neo4j",
		Long: `Plan loads cluster files, observes the live Kubernetes objects (forced
server-side-apply dry runs) and the live Neo4j cluster (SHOW SERVERS, SHOW
DATABASES, settings) and prints the ordered steps apply would take. It
changes nothing.

A directory or several -f flags plan a fleet of clusters in one run; it
ends with a fleet summary line, its -o json is one document, and --out DIR
saves one plan per cluster for apply DIR -f ... to apply together.

Exit codes: 0 no changes (or changes without --detailed-exitcode),
1 error, refusal or a plane that could not be observed,
2 changes present (with --detailed-exitcode).`,
		Example: `  neo4jctl plan -f examples/quickstart.yaml
  neo4jctl plan -f cluster.yaml --out plan.json && neo4jctl apply plan.json -f cluster.yaml
  neo4jctl plan -f clusters/ --out plans/ && neo4jctl apply plans/ -f clusters/
  neo4jctl plan -f clusters/ --compact --detailed-exitcode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Files) == 0 {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if opts.Compact {
				opts.Output = views.FormatCompact
			}
			if _, err := views.NewPlanView(opts.Output, false); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			opts.FlagNamespace = flagNamespace(f)
			opts.runner = func() (*pipeline.Runner, error) { return newRunner(f, &opts.cluster) }
			if opts.Out != "" {
				opts.applyCommand = applyCommand(cmd, opts.Out)
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Files, "filename", "f", nil, "cluster file (- reads stdin) or directory of cluster files (repeatable)")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format: human, compact, json or markdown")
	fl.BoolVar(&opts.Compact, "compact", false, "print addresses and actions only (same as -o compact)")
	fl.StringVar(&opts.Out, "out", "", "save the plan for `neo4jctl apply FILE -f ...` (holds no secrets); for a fleet, a directory: one plan per cluster, applied together with `neo4jctl apply DIR -f ...`")
	fl.BoolVar(&opts.Detailed, "detailed-exitcode", false, "exit 2 when the plan has changes")
	fl.StringArrayVar(&opts.Targets, "target", nil, "plan only these addresses or globs (repeatable); safe sequences are kept whole")
	fl.StringArrayVar(&opts.Excludes, "exclude", nil, "leave out these addresses or globs (repeatable)")
	fl.BoolVar(&opts.AllowReplace, "allow-replace", false, "allow deleting and recreating objects whose immutable fields changed")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters planned at once in a fleet")
	fl.StringArrayVar(&opts.PolicyFiles, "policy-file", nil, "file of compliance rules checked besides spec.policies (repeatable)")
	fl.StringVar(&opts.FailOn, "fail-on", "error", "fail on policy violations of the desired state at least this severe: info, warning, error or critical")
	opts.cluster.add(fl)
	return cmd
}

// newRunner builds the pipeline runner from the shared flags. Retries are
// reported by the caller: apply routes them to a cluster's progress output
// with kube.WithRetryHook and the runner's Neo4j.OnRetry.
func newRunner(f *Factory, c *clusterFlags) (*pipeline.Runner, error) {
	kc, err := c.kubeClient(f)
	if err != nil {
		return nil, err
	}
	acc, err := c.neo4jAccess(f.IO.ErrOut)
	if err != nil {
		return nil, err
	}
	return &pipeline.Runner{Kube: kc, Neo4j: acc, SkipNeo4j: c.SkipNeo4j}, nil
}

type planResult struct {
	target *pipeline.Target
	plan   *plan.Plan
	err    error
}

// Run plans every cluster, prints the plans in file order and decides the
// exit code.
func (o *PlanOptions) Run(ctx context.Context) error {
	files, err := expandFiles(o.Files)
	if err != nil {
		return err
	}
	outDir := o.Out != "" && (len(files) > 1 || isDir(o.Out) || strings.HasSuffix(o.Out, string(filepath.Separator)))
	// The connection to the API server opens while the files load (a
	// read of the server version, never a write): a bad file is still
	// reported before anything is observed or planned.
	runner := startRunner(ctx, o.runner)
	targets, err := loadTargetsFrom(o.IO.In, files, o.FlagNamespace)
	if err != nil {
		return err
	}
	// Compliance policies are checked on the desired state before anything
	// is observed; violations are diagnostics (stderr), the plan is data.
	violations := 0
	for _, t := range targets {
		n, err := checkPolicies(o.IO.ErrOut, t, o.PolicyFiles, o.FailOn)
		if err != nil {
			return err
		}
		violations += n
	}
	if violations > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d policy %s at or above %s (see above); nothing was planned",
			violations, pluralWord(violations, "violation", "violations"), o.FailOn)}
	}
	r, err := runner()
	if err != nil {
		return err
	}
	results := planAll(ctx, r, targets, o.planOptions(), o.Parallel)
	if ctx.Err() != nil {
		return errInterrupted
	}

	fleet := len(results) > 1
	entries := make([]plan.FleetEntry, len(results))
	for i, res := range results {
		entries[i] = plan.FleetEntry{File: res.target.File, Namespace: res.target.Namespace, Cluster: res.target.Cluster.Metadata.Name, Plan: res.plan, Err: res.err}
	}
	if fleet && o.Output == views.FormatJSON {
		// A fleet's JSON is one document, parseable as a whole.
		if err := plan.EncodeFleet(o.IO.Out, entries); err != nil {
			return err
		}
		for _, res := range results {
			if res.err != nil {
				fmt.Fprintf(o.IO.ErrOut, "Error: %v\n", res.err)
			}
		}
	} else {
		view, _ := views.NewPlanView(o.Output, o.IO.ColorEnabled())
		for i, res := range results {
			if fleet {
				fmt.Fprintf(o.IO.Out, "%s── %s (%s) ──\n", sep(i), res.target.Name(), res.target.File)
			}
			if res.err != nil {
				fmt.Fprintf(o.IO.ErrOut, "Error: %v\n", res.err)
				continue
			}
			if err := view.Render(o.IO.Out, res.plan); err != nil {
				return err
			}
		}
		if fleet {
			fmt.Fprintf(o.IO.Out, "\n%s\n", fleetSummaryLine(plan.SummarizeFleet(entries)))
		}
	}
	fs := plan.SummarizeFleet(entries)
	if o.Out != "" && fs.Failed == 0 {
		if err := o.save(results, outDir); err != nil {
			return err
		}
	}
	switch {
	case fs.Failed > 0:
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d %s could not be planned", fs.Failed, len(results), pluralWord(len(results), "cluster", "clusters"))}
	case fs.NotApplicable > 0:
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("the plan is incomplete or has refusals (see above); nothing can be applied until they are resolved")}
	case fs.WithChanges > 0 && o.Detailed:
		return silentExit(ExitChanges)
	}
	return nil
}

// fleetSummaryLine is the one line a fleet's plan ends with, after every
// cluster's own:
// "Fleet: 3 clusters, 2 with changes, 0 not applicable, 0 failed. Plan: 4 to add, 1 to change, 0 to destroy, 2 Neo4j steps."
func fleetSummaryLine(fs plan.FleetSummary) string {
	line := fmt.Sprintf("Fleet: %d %s, %d with changes, %d not applicable, %d failed. Plan: %d to add, %d to change, %d to destroy, %d Neo4j %s",
		fs.Clusters, pluralWord(fs.Clusters, "cluster", "clusters"), fs.WithChanges, fs.NotApplicable, fs.Failed,
		fs.Add, fs.Change, fs.Destroy, fs.Neo4jSteps, pluralWord(fs.Neo4jSteps, "step", "steps"))
	if fs.Irreversible > 0 {
		line += fmt.Sprintf(" (%d irreversible)", fs.Irreversible)
	}
	return line + "."
}

// save writes the plans with --out: one file, or for a fleet (or an --out
// that is a directory) one file per cluster in that directory, named
// <namespace>_<cluster>.json (neither may contain "_"), which apply reads
// back with `neo4jctl apply DIR -f ...`.
func (o *PlanOptions) save(results []planResult, outDir bool) error {
	for _, res := range results {
		res.plan.Targets, res.plan.Excludes = o.Targets, o.Excludes
	}
	if !outDir {
		if err := savePlan(o.Out, results[0].plan); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "Saved the plan to %s. Apply it with:\n  %s\n", o.Out, o.applyCommand)
		return nil
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, res := range results {
		if err := savePlan(filepath.Join(o.Out, savedPlanName(res.target.Namespace, res.target.Cluster.Metadata.Name)), res.plan); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.IO.ErrOut, "Saved %d %s to %s. Apply %s with:\n  %s\n", len(results), pluralWord(len(results), "plan", "plans"), o.Out,
		pluralWord(len(results), "it", "them"), o.applyCommand)
	return nil
}

// savedPlanName is the file name of one cluster's plan in a directory of
// saved plans.
func savedPlanName(namespace, cluster string) string { return namespace + "_" + cluster + ".json" }

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func sep(i int) string {
	if i == 0 {
		return ""
	}
	return "\n"
}

func (o *PlanOptions) planOptions() plan.Options {
	return plan.Options{
		AllowReplace: o.AllowReplace, Targets: o.Targets, Excludes: o.Excludes,
		SkipNeo4j: o.cluster.SkipNeo4j, SkipBackupCheck: o.cluster.SkipBackupCheck, Now: nowUTC,
	}
}

// planAll plans targets with at most parallel at once and returns the
// results in target order.
func planAll(ctx context.Context, r *pipeline.Runner, targets []*pipeline.Target, opts plan.Options, parallel int) []planResult {
	if len(targets) > 1 {
		r.Prefetch(ctx, targets)
	}
	results := make([]planResult, len(targets))
	eachTarget(targets, parallel, func(i int, t *pipeline.Target) {
		topts := opts
		topts.Ignore = ignoreRules(t)
		p, _, err := r.Plan(ctx, t, topts)
		results[i] = planResult{target: t, plan: p, err: err}
	})
	return results
}

// savePlan writes the plan file atomically: a half-written plan must never
// be applied.
func savePlan(path string, p *plan.Plan) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := plan.Encode(tmp, p); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// planOnlyFlags are plan's flags that do not shape the plan apply
// recomputes a saved one against (or that the saved plan records itself,
// like --target), so applyCommand leaves them out.
var planOnlyFlags = map[string]bool{
	"output": true, "compact": true, "out": true, "detailed-exitcode": true, "target": true, "exclude": true,
	"policy-file": true, "fail-on": true, "parallel": true, "color": true,
}

// applyCommand is the exact command line that applies the plan saved at
// out: the plan file, its cluster file with -f and every other flag given
// to plan that apply shares (the Kubernetes context and namespace, the
// Neo4j access, --skip-neo4j, --allow-replace), so that apply's fresh plan
// is computed as this one was.
func applyCommand(cmd *cobra.Command, out string) string {
	args := []string{"neo4jctl", "apply", shellQuote(out)}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if planOnlyFlags[fl.Name] {
			return
		}
		name := "--" + fl.Name
		if fl.Name == "filename" {
			name = "-f"
		}
		vals := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			switch {
			case fl.Value.Type() == "bool" && v == "true":
				args = append(args, name)
			case fl.Value.Type() == "bool":
				args = append(args, name+"="+v)
			default:
				args = append(args, name, shellQuote(v))
			}
		}
	})
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' || r == ',' || r == '@' || r == '+' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// startRunner builds the runner in the background and warms its
// connection (kube.Client.Warm) while the caller loads and renders the
// cluster files; the function it returns waits for the runner.
func startRunner(ctx context.Context, build func() (*pipeline.Runner, error)) func() (*pipeline.Runner, error) {
	var (
		r    *pipeline.Runner
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		if r, err = build(); err == nil && r.Kube != nil {
			r.Kube.Warm(ctx)
		}
	}()
	return func() (*pipeline.Runner, error) {
		<-done
		return r, err
	}
}
