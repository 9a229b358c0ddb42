package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/healthcheck/observe"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// ExitUnhealthy is healthcheck's exit code for a FAIL (or, with --fail-on
// warn, a WARN) and for a check that could not run (UNKNOWN).
const ExitUnhealthy = 3

// HealthcheckOptions are the inputs of `neo4jctl healthcheck`.
type HealthcheckOptions struct {
	IO            *iostreams.IOStreams
	Files         []string
	FlagNamespace string
	Output        string
	FailOn        string
	Parallel      int
	// Recheck is how long to wait before reading SHOW DATABASES again when
	// the first read shows two writers for a database.
	Recheck            time.Duration
	StatusCheckTimeout time.Duration
	// VolumeStats is auto, on or off: whether the store usage check reads
	// the kubelets' volume stats, and whether a refused node proxy makes it
	// UNKNOWN (on) or SKIP (auto).
	VolumeStats string
	// BackupSecretsDir is backup list's --secrets-dir, for the backups
	// check's catalogue read.
	BackupSecretsDir string
	// withoutCatalogueChecks leaves out the checks that judge the backup
	// catalogue (freshness, verification, drill): a DR drill's scratch cluster shares
	// the real cluster's catalogue, whose verdicts are not its health.
	withoutCatalogueChecks bool
	cluster                clusterFlags

	runner func() (*pipeline.Runner, error)
	now    func() time.Time
}

// NewCmdHealthcheck checks a cluster's health in both planes.
func NewCmdHealthcheck(f *Factory, runF func(*HealthcheckOptions) error) *cobra.Command {
	opts := &HealthcheckOptions{IO: f.IO, now: time.Now}
	cmd := &cobra.Command{
		Use:   "healthcheck -f CLUSTER_FILE|DIR [-f ...]",
		Short: "Check a cluster's health in Kubernetes and in Neo4j",
		Long: `Healthcheck reads the cluster's Pods, claims, PodDisruptionBudget,
StatefulSet rollout and Warning events, and the Neo4j cluster's SHOW SERVERS,
SHOW DATABASES and dbms.cluster.statusCheck, and prints named checks, each
PASS, WARN, FAIL, UNKNOWN (could not run) or SKIP (does not apply), with the
evidence and the fix. It changes nothing, and never acts on what it finds,
a split-brain included. The checks and the JSON format: docs/healthcheck.md.

Exit codes: 0 every check PASS or SKIP (WARN too, unless --fail-on warn),
1 usage error or no access to Kubernetes at all,
3 any check FAIL or UNKNOWN (or WARN with --fail-on warn).`,
		Example: `  neo4jctl healthcheck -f examples/quickstart.yaml
  neo4jctl healthcheck -f clusters/ -o github --fail-on warn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Files) == 0 {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if _, err := views.NewHealthView(opts.Output, false); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			if err := opts.validateVolumeStats(); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			if opts.FailOn != "fail" && opts.FailOn != "warn" {
				return usageErrorf(cmd, "--fail-on must be fail or warn, got %q", opts.FailOn)
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
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format: human, json, markdown or github")
	fl.StringVar(&opts.FailOn, "fail-on", "fail", "exit 3 on checks at least this bad: fail or warn")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters checked at once in a fleet")
	opts.addObserveFlags(fl)
	return cmd
}

func (o *HealthcheckOptions) addVolumeStatsFlag(fl *pflag.FlagSet) {
	fl.StringVar(&o.VolumeStats, "volume-stats", "auto", "read store usage from the kubelets through the node proxy (needs get on nodes/proxy): auto (skip the check when refused), on (UNKNOWN when refused) or off")
}

func (o *HealthcheckOptions) validateVolumeStats() error {
	switch o.VolumeStats {
	case "auto", "on", "off":
		return nil
	}
	return fmt.Errorf("--volume-stats must be auto, on or off, got %q", o.VolumeStats)
}

// Run checks every cluster, prints the reports in file order and decides
// the exit code.
func (o *HealthcheckOptions) Run(ctx context.Context) error {
	targets, r, _, err := o.open(ctx)
	if err != nil {
		return err
	}
	reports := make([]*healthcheck.Report, len(targets))
	eachTarget(targets, o.Parallel, func(i int, t *pipeline.Target) {
		reports[i] = healthcheck.Compute(o.observe(ctx, r, t))
	})
	if ctx.Err() != nil {
		return errInterrupted
	}
	view, _ := views.NewHealthView(o.Output, o.IO.ColorEnabled())
	if err := view.Render(o.IO.Out, reports); err != nil {
		return err
	}
	failed := 0
	for _, rep := range reports {
		if rep.Failed(o.FailOn == "warn") {
			failed++
		}
	}
	if failed > 0 {
		return silentExit(ExitUnhealthy)
	}
	return nil
}

// observe reads both planes of one cluster (healthcheck/observe).
func (o *HealthcheckOptions) observe(ctx context.Context, r *pipeline.Runner, t *pipeline.Target) healthcheck.Input {
	in := observe.Input(ctx, r, t, observe.Options{Recheck: o.Recheck, StatusCheckTimeout: o.StatusCheckTimeout, VolumeStats: o.VolumeStats, Now: o.now, BackupSecretsDir: o.BackupSecretsDir})
	if o.withoutCatalogueChecks {
		in.Backups, in.Verifications, in.Drill = nil, nil, nil
	}
	return in
}

// recheckSplitBrain: see observe.RecheckSplitBrain.
var recheckSplitBrain = observe.RecheckSplitBrain
