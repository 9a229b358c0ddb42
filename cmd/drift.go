package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// stepSummaryEnv names the file GitHub Actions renders as the job summary.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// DriftOptions are the inputs of `neo4jctl drift`.
type DriftOptions struct {
	IO            *iostreams.IOStreams
	Files         []string
	FlagNamespace string
	Output        string
	FailOn        string
	AuditLog      string
	Structural    bool
	PolicyFiles   []string
	Parallel      int
	cluster       clusterFlags

	failOn drift.Severity
	runner func() (*pipeline.Runner, error)
	// stepSummary is $GITHUB_STEP_SUMMARY, read in RunE so tests set it.
	stepSummary string
}

// NewCmdDrift reports out-of-band changes to what neo4jctl renders, for CI
// gates.
func NewCmdDrift(f *Factory, runF func(*DriftOptions) error) *cobra.Command {
	opts := &DriftOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "drift -f CLUSTER_FILE|DIR [-f ...]",
		Short: "Report out-of-band changes to the cluster (read-only, for CI gates)",
		Long: `Drift compares the live cluster with the cluster file in both planes and
reports every difference: Kubernetes fields changed out of band (naming the
field manager that changed them), missing objects, Neo4j servers that are
missing or not Enabled and Available, databases whose topology, access or
status differ, and settings that differ. Ignore rules (spec.ignore) are
honoured. It also checks the live state against the compliance policies of
spec.policies and of --policy-file.

Drift only reads: a forced server-side-apply dry run where the credentials
allow it, otherwise (read-only credentials: get, list and watch) a
structural comparison over the fields neo4jctl sets. The report says which
mode it used; --structural forces it.

-o github writes GitHub Actions annotations at the cluster-file lines that
declare what drifted, and the markdown summary to $GITHUB_STEP_SUMMARY.
--audit-log appends a JSON line per difference and violation (digests, never
values) to a file, or to stdout with -.

Exit codes: 0 in sync, 1 error or a plane that could not be observed,
2 drift or a policy violation at or above --fail-on.`,
		Example: `  neo4jctl drift -f examples/quickstart.yaml
  neo4jctl drift -f clusters/ -o github --fail-on warning
  neo4jctl drift -f cluster.yaml --structural --skip-neo4j --audit-log drift.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Files) == 0 {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if _, err := views.NewDriftView(opts.Output, false); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			sev, err := drift.ParseSeverity(opts.FailOn)
			if err != nil {
				return usageErrorf(cmd, "--fail-on: %v", err)
			}
			opts.failOn = sev
			if opts.AuditLog == "-" && opts.Output == views.FormatJSON {
				return usageErrorf(cmd, "--audit-log - would mix JSON lines into -o json; write the audit log to a file")
			}
			opts.FlagNamespace = flagNamespace(f)
			opts.stepSummary = os.Getenv(stepSummaryEnv)
			opts.runner = func() (*pipeline.Runner, error) { return newRunner(f, &opts.cluster) }
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Files, "filename", "f", nil, "cluster file (- reads stdin) or directory of cluster files (repeatable)")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatText, "output format: text, json, markdown or github")
	fl.StringVar(&opts.FailOn, "fail-on", string(drift.SeverityError), "exit 2 when a difference or violation is at least this severe: info, warning, error or critical")
	fl.StringVar(&opts.AuditLog, "audit-log", "", "append a JSON line per difference and violation to this file (- for stdout)")
	fl.BoolVar(&opts.Structural, "structural", false, "compare structurally without dry runs (read-only credentials); automatic when a dry run is forbidden")
	fl.StringArrayVar(&opts.PolicyFiles, "policy-file", nil, "file of compliance rules (policies: [...]) checked besides spec.policies (repeatable)")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters checked at once in a fleet")
	opts.cluster.add(fl)
	return cmd
}

type driftResult struct {
	report *drift.Report
	err    error
}

// Run checks every cluster, prints the reports and decides the exit code.
func (o *DriftOptions) Run(ctx context.Context) error {
	files, err := expandFiles(o.Files)
	if err != nil {
		return err
	}
	targets, err := loadTargetsFrom(o.IO.In, files, o.FlagNamespace)
	if err != nil {
		return err
	}
	var extra []drift.Rule
	for _, pf := range o.PolicyFiles {
		rules, err := drift.LoadPolicyFile(pf)
		if err != nil {
			return err
		}
		extra = append(extra, rules...)
	}
	var audit *drift.AuditLog
	if o.AuditLog != "" {
		if audit, err = drift.OpenAuditLog(o.AuditLog, o.IO.Out); err != nil {
			return err
		}
		defer audit.Close()
	}
	r, err := o.runner()
	if err != nil {
		return err
	}
	r.Structural = r.Structural || o.Structural

	results := detectAll(ctx, r, targets, drift.Options{Structural: o.Structural, Policies: extra, Now: nowUTC}, o.Parallel)
	if ctx.Err() != nil {
		return errInterrupted
	}
	var reports []*drift.Report
	var failed, incomplete, drifted int
	for i, res := range results {
		if res.err != nil {
			failed++
			fmt.Fprintf(o.IO.ErrOut, "Error: %s: %v\n", targets[i].File, res.err)
			continue
		}
		reports = append(reports, res.report)
		if res.report.Incomplete {
			incomplete++
		}
		if res.report.Fails(o.failOn) {
			drifted++
		}
	}
	view, _ := views.NewDriftView(o.Output, o.IO.ColorEnabled())
	if err := view.Render(o.IO.Out, reports); err != nil {
		return err
	}
	if o.Output == views.FormatGitHub && o.stepSummary != "" {
		if err := appendStepSummary(o.stepSummary, reports); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "Warning: write %s: %v\n", stepSummaryEnv, err)
		}
	}
	for _, rep := range reports {
		if err := audit.RecordReport(rep); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
	}
	switch {
	case failed > 0:
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d %s could not be checked", failed, len(results), pluralWord(len(results), "cluster", "clusters"))}
	case incomplete > 0:
		return &ExitCodeError{Code: ExitError, Err: errors.New("a plane could not be observed (see above), so drift is not known; pass --skip-neo4j to check Kubernetes only")}
	case drifted > 0:
		return silentExit(ExitChanges)
	}
	return nil
}

// appendStepSummary appends the markdown reports to the job summary file.
func appendStepSummary(path string, reports []*drift.Report) error {
	var buf bytes.Buffer
	md, _ := views.NewDriftView(views.FormatMarkdown, false)
	if err := md.Render(&buf, reports); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// detectAll checks targets with at most parallel at once, results in target
// order.
func detectAll(ctx context.Context, r *pipeline.Runner, targets []*pipeline.Target, opts drift.Options, parallel int) []driftResult {
	results := make([]driftResult, len(targets))
	eachTarget(targets, parallel, func(i int, t *pipeline.Target) {
		rep, err := drift.Detect(ctx, r, t, opts)
		results[i] = driftResult{report: rep, err: err}
	})
	return results
}
