package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// StatusOptions are the inputs of `neo4jctl status`.
type StatusOptions struct {
	HealthcheckOptions
	Watch    bool
	Interval time.Duration
}

// NewCmdStatus prints one screen per cluster: servers, databases, the
// disruption budget, the certificate and the health verdict.
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{HealthcheckOptions: HealthcheckOptions{IO: f.IO, now: time.Now, FailOn: "fail"}}
	cmd := &cobra.Command{
		Use:   "status -f CLUSTER_FILE|DIR [-f ...]",
		Short: "Show a cluster's servers, databases and health on one screen",
		Long: `Status reads what healthcheck reads and prints one screen per cluster, in
the spirit of kubectl cnpg status: each server (Pod, node, readiness,
restarts, age, SHOW SERVERS state, health and hosted databases), each
database (topology asked, requested and online, writer, every allocation's
status), the PodDisruptionBudget's allowance, the TLS certificate's expiry
and the healthcheck verdict. -o json prints the same model, with the
healthcheck report of each cluster (docs/healthcheck.md).

--watch redraws the screen every --interval until interrupted.

Exit codes: as healthcheck (0 healthy, 1 error, 3 a FAIL or UNKNOWN check).`,
		Example: `  neo4jctl status -f examples/quickstart.yaml
  neo4jctl status -f clusters/ --watch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Files) == 0 {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if _, err := views.NewStatusView(opts.Output, false); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			if opts.Watch && opts.Interval <= 0 {
				return usageErrorf(cmd, "--interval must be positive, got %s", opts.Interval)
			}
			if err := opts.validateVolumeStats(); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			opts.bind(f)
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Files, "filename", "f", nil, "cluster file or directory of cluster files (repeatable)")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format: human or json")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters read at once in a fleet")
	fl.BoolVarP(&opts.Watch, "watch", "w", false, "redraw every --interval until interrupted")
	fl.DurationVar(&opts.Interval, "interval", 2*time.Second, "time between redraws with --watch")
	opts.addObserveFlags(fl)
	return cmd
}

// Run prints the status once, or until interrupted with --watch.
func (o *StatusOptions) Run(ctx context.Context) error {
	targets, r, _, err := o.open(ctx)
	if err != nil {
		return err
	}
	view, _ := views.NewStatusView(o.Output, o.IO.ColorEnabled())
	for {
		overviews := make([]*healthcheck.Overview, len(targets))
		eachTarget(targets, o.Parallel, func(i int, t *pipeline.Target) {
			in := o.observe(ctx, r, t)
			overviews[i] = healthcheck.Summarize(in, healthcheck.Compute(in))
		})
		if ctx.Err() != nil {
			if o.Watch {
				return nil
			}
			return errInterrupted
		}
		if o.Watch && o.IO.IsStdoutTTY() {
			// Redraw in place: cursor home, clear the screen.
			fmt.Fprint(o.IO.Out, "\x1b[H\x1b[2J")
		}
		if err := view.Render(o.IO.Out, overviews); err != nil {
			return err
		}
		if !o.Watch {
			for _, ov := range overviews {
				if ov.Health.Failed(false) {
					return silentExit(ExitUnhealthy)
				}
			}
			return nil
		}
		if !o.IO.IsStdoutTTY() {
			fmt.Fprintln(o.IO.Out)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Interval):
		}
	}
}
