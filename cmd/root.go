package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/views"
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
	return finish(ctx, f, root.ExecuteContext(ctx))
}

// finish turns a command's error into the exit code, printing it.
func finish(ctx context.Context, f *Factory, err error) int {
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

Every flag can also be set as NEO4JCTL_<FLAG> in the environment (dashes
become underscores), except the safety gates: --auto-approve,
--allow-replace, --force-conflicts, --lock, --allow-irreversible,
--delete-data, --confirm-name, --confirm-drop and
--neo4j-insecure-skip-tls-verify are taken only from the command line, so
a variable left in a CI job's environment never approves, forces, unlocks
or stops verifying anything.

Exit codes: 0 success, 1 error, 2 changes present, drift found or changes
applied (--detailed-exitcode), 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindViper(v, cmd); err != nil {
				return err
			}
			// The backup agent's memory must stay flat whatever the
			// artifact's size (docs/backups.md): Go's defaults, like watch.
			if cmd.Name() != "watch" && cmd.CommandPath() != "neo4jctl backup agent" {
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
		NewCmdImport(f, nil),
		NewCmdPlan(f, nil),
		NewCmdDrift(f, nil),
		NewCmdApply(f, nil),
		NewCmdDestroy(f, nil),
		NewCmdRotate(f),
		NewCmdHealthcheck(f, nil), NewCmdStatus(f, nil), NewCmdReport(f, nil),
		NewCmdWatch(f, nil),
		NewCmdRender(f, nil),
		NewCmdSchema(f),
		NewCmdBackup(f),
		NewCmdRestore(f, nil),
		NewCmdDR(f),
		NewCmdVersion(f),
	)
	markCommandLineOnly(root)
	registerCompletions(f, root)
	return root
}

// completionTimeout bounds the API request a completion makes: a shell
// must not hang on an unreachable cluster.
const completionTimeout = 3 * time.Second

// registerCompletions completes flag values: kubeconfig contexts,
// clusters and users, the cluster's namespaces (one LIST), cluster files
// (*.yaml, *.yml, *.json and directories) and the fixed choices of
// --color and --output.
func registerCompletions(f *Factory, root *cobra.Command) {
	fromKubeconfig := func(pick func(api.Config) []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			raw, err := f.KubeFlags.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			names := pick(raw)
			sort.Strings(names)
			return names, cobra.ShellCompDirectiveNoFileComp
		}
	}
	persistent := map[string]cobra.CompletionFunc{
		"context": fromKubeconfig(func(c api.Config) []string { return slices.Collect(maps.Keys(c.Contexts)) }),
		"cluster": fromKubeconfig(func(c api.Config) []string { return slices.Collect(maps.Keys(c.Clusters)) }),
		"user":    fromKubeconfig(func(c api.Config) []string { return slices.Collect(maps.Keys(c.AuthInfos)) }),
		"namespace": func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
			kc, err := kube.New(f.KubeFlags, kube.Options{})
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
			defer cancel()
			names, err := kc.NamespaceNames(ctx)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		"color": cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp),
	}
	for name, fn := range persistent {
		if root.PersistentFlags().Lookup(name) != nil {
			_ = root.RegisterFlagCompletionFunc(name, fn)
		}
	}
	clusterFiles := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml", "json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	outputs := map[string][]string{
		"plan":  {views.FormatHuman, views.FormatCompact, views.FormatJSON, views.FormatMarkdown},
		"apply": {views.FormatHuman, views.FormatJSON},
	}
	for _, c := range root.Commands() {
		if c.Flags().Lookup("filename") != nil {
			_ = c.RegisterFlagCompletionFunc("filename", clusterFiles)
		}
		if o, ok := outputs[c.Name()]; ok {
			_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(o, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}

// commandLineOnly are the safety gates: flags that approve, force, replace,
// unlock or allow irreversible steps. They are never read from the
// environment (nor from a config file, should one ever be added): a
// NEO4JCTL_AUTO_APPROVE=true exported for one job and inherited by another
// must not turn a refusal into an apply. Added here, by name, so that a
// command's new gate is covered once its name is listed, and every
// command's help says so.
var commandLineOnly = map[string]bool{
	"auto-approve":       true,
	"allow-replace":      true,
	"force-conflicts":    true,
	"lock":               true, // --lock=false unlocks
	"allow-irreversible": true,
	"force-unlock":       true,
	"delete-data":        true, // destroy: deletes the claims
	"confirm-name":       true, // destroy: the typed confirmation
	"confirm-drop":       true, // apply: a dropped database's typed name
	"skip-backup-check":  true, // plan/apply: an upgrade without its backup check
	"skip-backup":        true, // destroy: no backup before deleting
	// backup prune --apply deletes backups; keys rotate --stdout prints a
	// keyset and --new makes one.
	"apply":  true,
	"stdout": true,
	"new":    true,
	// Accepts unverified certificates: it lowers, never raises, safety.
	insecureSkipTLSVerifyFlag: true,
}

const commandLineOnlyNote = " (command line only: never read from NEO4JCTL_*)"

// markCommandLineOnly appends the note to the help of every safety gate of
// every command under root.
func markCommandLineOnly(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if commandLineOnly[fl.Name] && !strings.HasSuffix(fl.Usage, commandLineOnlyNote) {
				fl.Usage += commandLineOnlyNote
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "NEO4JCTL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindViper lets every flag of cmd be set by a NEO4JCTL_<FLAG> environment
// variable (dashes become underscores) when it was not given on the command
// line, except the safety gates (commandLineOnly): their variables are
// reported on stderr as ignored. This is the only place viper is used.
func bindViper(v *viper.Viper, cmd *cobra.Command) error {
	v.SetEnvPrefix("NEO4JCTL")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	var firstErr error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if firstErr != nil || fl.Changed {
			return
		}
		if commandLineOnly[fl.Name] {
			if _, set := os.LookupEnv(envName(fl.Name)); set {
				fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s is ignored: --%s is taken only from the command line.\n", envName(fl.Name), fl.Name)
			}
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
				firstErr = usageErrorf(cmd, "%s: %v", envName(fl.Name), err)
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
