package cmd

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/klog/v2"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

// Factory carries what commands share: the streams, the Kubernetes flags and
// build information. Commands copy the narrow parts they need into their
// Options so tests can replace them.
type Factory struct {
	IO        *iostreams.IOStreams
	KubeFlags *genericclioptions.ConfigFlags
	Build     BuildInfo
}

// BuildInfo is stamped into the binary with -ldflags by the Makefile and
// goreleaser.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// Set by -ldflags "-X github.com/neo4jctl/neo4jctl/cmd.version=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Main runs neo4jctl with the process's arguments and returns its exit code.
func Main() int {
	// client-go logs through klog: cancelled requests print "Unexpected
	// error when reading response body", and at high verbosity it logs
	// response bodies, Secret data included. neo4jctl reports errors itself.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	// client-go's runtime.HandleError (e.g. a port-forward stream that
	// failed) logs through the contextual logger, not klog's output.
	klog.SetLogger(logr.Discard())
	ctx, stop := signalContext()
	defer stop()
	f := &Factory{
		IO:        iostreams.System(),
		KubeFlags: genericclioptions.NewConfigFlags(true),
		Build:     BuildInfo{Version: version, Commit: commit, Date: date},
	}
	return Run(ctx, f, os.Args[1:])
}

// errTerminated is the cancel cause of SIGTERM, the signal Kubernetes sends
// to stop a Pod.
var errTerminated = errors.New("terminated")

// signalContext is cancelled by SIGINT (cause errInterrupted) or SIGTERM
// (cause errTerminated).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-ch:
			if sig == syscall.SIGTERM {
				cancel(errTerminated)
			} else {
				cancel(errInterrupted)
			}
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// Run executes the command line args with f and returns the exit code. Tests
// call it with buffer-backed streams.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	// A command that returns cleanly after SIGTERM (watch shutting down in a
	// Pod) succeeded; one that returns cleanly after Ctrl-C was still
	// interrupted.
	if err == nil && ctx.Err() != nil && !errors.Is(context.Cause(ctx), errTerminated) {
		err = errInterrupted
	}
	code, show := exitCode(err)
	if show {
		printError(f.IO.ErrOut, err)
	}
	return code
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	v := viper.New()
	var color string
	root := &cobra.Command{
		Use:   "neo4jctl",
		Short: "Plan and apply Neo4j clusters on Kubernetes",
		Long: `neo4jctl reads a declarative cluster file, compares it with the live
Kubernetes objects and the live Neo4j cluster, prints a plan, and applies it
in the order that keeps the cluster's quorum.

Exit codes: 0 success, 1 error, 2 changes present, drift found or changes
applied (--detailed-exitcode), 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindViper(v, cmd); err != nil {
				return err
			}
			if cmd.Name() != "watch" {
				tuneGC()
			}
			switch iostreams.ColorMode(color) {
			case iostreams.ColorAuto, iostreams.ColorAlways, iostreams.ColorNever:
				f.IO.Color = iostreams.ColorMode(color)
			default:
				return usageErrorf(cmd, "--color must be auto, always or never, got %q", color)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&color, "color", "auto", "colour output: auto, always or never (NO_COLOR is honoured)")
	f.KubeFlags.AddFlags(root.PersistentFlags())

	root.AddCommand(
		NewCmdValidate(f, nil),
		NewCmdPlan(f, nil),
		NewCmdDrift(f, nil),
		NewCmdApply(f, nil),
		NewCmdHealthcheck(f, nil), NewCmdStatus(f, nil), NewCmdReport(f, nil),
		NewCmdWatch(f, nil),
		NewCmdRender(f, nil),
		NewCmdSchema(f),
		NewCmdVersion(f),
	)
	return root
}

// bindViper lets every flag of cmd be set by a NEO4JCTL_<FLAG> environment
// variable (dashes become underscores) when it was not given on the command
// line. This is the only place viper is used.
func bindViper(v *viper.Viper, cmd *cobra.Command) error {
	v.SetEnvPrefix("NEO4JCTL")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	var firstErr error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if firstErr != nil || fl.Changed {
			return
		}
		if err := v.BindEnv(fl.Name); err != nil {
			firstErr = err
			return
		}
		if v.IsSet(fl.Name) {
			val := v.GetString(fl.Name)
			if fl.Value.Type() == "stringSlice" || fl.Value.Type() == "stringArray" {
				val = strings.Trim(val, "[]")
			}
			if err := cmd.Flags().Set(fl.Name, val); err != nil {
				firstErr = usageErrorf(cmd, "NEO4JCTL_%s: %v", strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_")), err)
			}
		}
	})
	return firstErr
}

// tuneGC trades memory for CPU in the short-lived commands. A plan spends
// about a fifth of its own CPU in the garbage collector at Go's default
// (GOGC=100), on a machine whose cores the API server it talks to also
// needs; at 400 a single plan's peak memory barely moves (about 40 MiB),
// a 50-cluster fleet plan's grows from about 55 to 80-100 MiB and a fleet
// apply's to about 125 MiB (docs/benchmarks.md). The memory limit makes
// the collector work harder again before a very large fleet grows past it.
// watch is long-running and keeps Go's defaults (its memory is a goal).
// GOGC and GOMEMLIMIT in the environment still win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}
