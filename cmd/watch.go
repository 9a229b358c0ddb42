package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// WatchOptions are the inputs of `neo4jctl watch`.
type WatchOptions struct {
	IO             *iostreams.IOStreams
	Files          []string
	FromConfigMaps string
	FlagNamespace  string
	Output         string
	Watch          watch.Options
	// AddressMapFile is a hidden test hook (--test-only-neo4j-address-map):
	// a JSON object mapping the addresses Neo4j advertises to the
	// simulator's loopback listeners. Users reach Neo4j through the client
	// Service in the cluster or a port-forward outside it.
	AddressMapFile string
	AuditLog       string
	cluster        clusterFlags

	runner func() (*pipeline.Runner, error)
}

// watchGateFlags let watch do what a person must otherwise approve: run
// irreversible or data-losing steps, take fields other managers own.
var watchGateFlags = []string{"allow-irreversible", "force-conflicts"}

// NewCmdWatch keeps reconciling clusters: it reports drift (warn) or
// reverts it (enforce), forever.
func NewCmdWatch(f *Factory, runF func(*WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IO}
	var mode string
	cmd := &cobra.Command{
		Use:   "watch -f CLUSTER_FILE|DIR | --from-configmaps SELECTOR",
		Short: "Keep watching clusters: report drift (warn) or revert it (enforce)",
		Long: `Watch keeps informers on the Kubernetes objects neo4jctl renders and, when
one changes, dry-runs only the objects whose state moved (an idle watch makes
no Kubernetes requests beyond its watches and Lease renewals). The Neo4j
plane (servers, databases, settings) is polled every --interval, ±10 %,
through a circuit breaker per cluster.

--mode warn reports drift: an event on stdout, a Kubernetes Event on the
StatefulSet and Prometheus metrics. --mode enforce also applies the plan
under the same Lease lock as apply — but never an irreversible or
data-losing step (DEALLOCATE, DROP SERVER, deleting or replacing an object
or a database): those wait for a person, unless watch's own command line
has --allow-irreversible. The annotation neo4jctl.io/watch-allow-irreversible
on a cluster file or its ConfigMap can only withdraw that for one cluster
(any value but "true"); it never grants it. --allow-irreversible and
--force-conflicts are never read from the environment: watch refuses to
start while NEO4JCTL_ALLOW_IRREVERSIBLE or NEO4JCTL_FORCE_CONFLICTS is set.

Suspend with --suspend, or the annotation neo4jctl.io/suspend: "true" on the
StatefulSet or on the ConfigMap holding the cluster file. With
--leader-elect several replicas run safely: only the Lease holder acts.
/metrics, /healthz and /readyz are served on --metrics-addr. SIGTERM stops
cleanly and hands the Lease over.

Exit codes: 130 stopped by SIGTERM or Ctrl-C after a clean shutdown,
1 error (a cluster file that does not load, a watch the API server
refuses).`,
		Example: `  neo4jctl watch -f examples/quickstart.yaml
  neo4jctl watch -f clusters/ --mode enforce -o json
  neo4jctl watch --from-configmaps neo4jctl.io/cluster-file=true --leader-elect`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// By the time RunE runs, a NEO4JCTL_<FLAG> variable has been
			// copied into its flag and looks given. For the gates that is
			// refused outright: only watch's command line grants them.
			for _, name := range watchGateFlags {
				env := "NEO4JCTL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if v, ok := os.LookupEnv(env); ok && v != "" {
					return usageErrorf(cmd, "%s is set: --%s is read from the command line only, never from the environment; unset %s and pass the flag to watch itself", env, name, env)
				}
			}
			switch {
			case len(opts.Files) == 0 && !cmd.Flags().Changed("from-configmaps"):
				return usageErrorf(cmd, "-f CLUSTER_FILE|DIR or --from-configmaps SELECTOR is required")
			case len(opts.Files) > 0 && cmd.Flags().Changed("from-configmaps"):
				return usageErrorf(cmd, "-f and --from-configmaps are exclusive: watch cluster files from disk or from ConfigMaps")
			}
			switch watch.Mode(mode) {
			case watch.ModeWarn, watch.ModeEnforce:
				opts.Watch.Mode = watch.Mode(mode)
			default:
				return usageErrorf(cmd, "--mode must be warn or enforce, got %q", mode)
			}
			if opts.Output != views.FormatHuman && opts.Output != views.FormatJSON {
				return usageErrorf(cmd, "-o must be human or json, got %q", opts.Output)
			}
			if opts.Watch.Interval < time.Second {
				return usageErrorf(cmd, "--interval must be at least 1s, got %s", opts.Watch.Interval)
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
	fl.StringArrayVarP(&opts.Files, "filename", "f", nil, "cluster file or directory of cluster files (repeatable)")
	fl.StringVar(&opts.FromConfigMaps, "from-configmaps", watch.DefaultConfigMapSelector, "watch cluster files held in ConfigMaps matching this label selector (keys *.yaml, *.yml, *.json) in --namespace")
	fl.StringVar(&mode, "mode", string(watch.ModeWarn), "warn (report drift) or enforce (also revert it)")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "event stream format: human or json (NDJSON)")
	fl.DurationVar(&opts.Watch.Interval, "interval", 60*time.Second, "how often the Neo4j plane is polled (±10 % jitter); Kubernetes objects are watched")
	fl.DurationVar(&opts.Watch.HealthInterval, "health-interval", 0, "run the healthcheck's checks at most this often, with a Neo4j poll, and export them as neo4jctl_health_* metrics (0: off; each run lists the cluster's Pods, claims, StatefulSets, PDBs and Warning events)")
	fl.DurationVar(&opts.Watch.Debounce, "debounce", 200*time.Millisecond, "wait this long after a Kubernetes event for more before reconciling")
	fl.StringVar(&opts.Watch.MetricsAddr, "metrics-addr", ":9090", "serve /metrics, /healthz and /readyz here (empty: do not serve)")
	fl.BoolVar(&opts.Watch.LeaderElect, "leader-elect", false, "elect a leader through a Lease so several replicas are safe; only the leader reconciles")
	fl.StringVar(&opts.Watch.LeaseNamespace, "leader-elect-namespace", "", "namespace of the leader Lease (default: $POD_NAMESPACE, else --namespace)")
	fl.DurationVar(&opts.Watch.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long a leader's Lease lasts without renewal (a killed leader is replaced within this)")
	fl.BoolVar(&opts.Watch.Suspend, "suspend", false, "watch but do not reconcile any cluster")
	fl.BoolVar(&opts.Watch.AllowIrreversible, "allow-irreversible", false, "let enforce mode run irreversible and data-losing steps (DEALLOCATE, DROP SERVER, deletes, replaces); command line only, never from the environment, and a cluster's annotation may withdraw it")
	fl.BoolVar(&opts.Watch.ForceConflicts, "force-conflicts", false, "let enforce mode take fields another apply manager owns; command line only, never from the environment")
	fl.DurationVar(&opts.Watch.Retry.Base, "retry-base", time.Second, "first retry interval after a failed reconcile (doubles per failure)")
	fl.DurationVar(&opts.Watch.Retry.Max, "retry-max", 5*time.Minute, "longest retry interval after failed reconciles")
	fl.IntVar(&opts.Watch.BreakerFailures, "breaker-failures", 3, "consecutive Neo4j failures that open a cluster's circuit breaker")
	fl.DurationVar(&opts.Watch.BreakerCooldown, "breaker-cooldown", 30*time.Second, "how long an open circuit breaker waits before one trial connection")
	fl.StringVar(&opts.AuditLog, "audit-log", "", "append a JSON line per drifted field and per change enforce applied to this file (- for stdout)")
	fl.StringVar(&opts.AddressMapFile, "test-only-neo4j-address-map", "", "TEST ONLY: JSON file mapping advertised Neo4j addresses to the simulator's listeners")
	_ = fl.MarkHidden("test-only-neo4j-address-map")
	opts.cluster.add(fl)
	return cmd
}

// Run watches until the context ends (SIGTERM, Ctrl-C).
func (o *WatchOptions) Run(ctx context.Context) (err error) {
	r, err := o.runner()
	if err != nil {
		return err
	}
	if o.AddressMapFile != "" {
		b, err := os.ReadFile(o.AddressMapFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &r.Neo4j.AddressMap); err != nil {
			return fmt.Errorf("--test-only-neo4j-address-map %s: %w", o.AddressMapFile, err)
		}
	}
	r.PreflightNamespacedOnly = true // watch's rendered Role is namespaced
	w := &watch.Watcher{Runner: r, FlagNamespace: o.FlagNamespace, Options: o.Watch, Report: newWatchPrinter(o.Output, o.IO.Out)}
	if o.AuditLog != "" {
		l, err := drift.OpenAuditLog(o.AuditLog, o.IO.Out)
		if err != nil {
			return err
		}
		defer func() {
			// Entries the log could not take are not dropped at exit:
			// one last try, then stderr (the Pod's log) and a failure.
			if ferr := l.Flush(); ferr != nil {
				n := l.Pending()
				_ = l.DrainTo(o.IO.ErrOut)
				err = errors.Join(err, fmt.Errorf("%w; the %d %s went to stderr instead", ferr, n, pluralWord(n, "entry", "entries")))
			}
			_ = l.Close()
		}()
		w.Audit = l
	}
	if len(o.Files) > 0 {
		files, err := expandFiles(o.Files)
		if err != nil {
			return err
		}
		// Every file must load before watching starts, as for plan.
		if _, err := loadTargets(files, o.FlagNamespace); err != nil {
			return err
		}
		w.Files = files
	} else {
		ns := o.FlagNamespace
		if ns == "" {
			ns = r.Kube.Namespace()
		}
		w.ConfigMaps = &watch.ConfigMapSource{Namespace: ns, Selector: o.FromConfigMaps}
	}
	// A signal is how watch is meant to stop; Main maps it to 130 like
	// every other interrupted command.
	return w.Run(ctx)
}

// newWatchPrinter writes the event stream: NDJSON (one object per line,
// the keys of apply's stream) or one human line per event.
func newWatchPrinter(format string, w io.Writer) func(watch.Event) {
	var mu sync.Mutex
	if format == views.FormatJSON {
		enc := json.NewEncoder(w)
		return func(e watch.Event) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(e)
		}
	}
	return func(e watch.Event) {
		mu.Lock()
		defer mu.Unlock()
		prefix := ""
		if e.Cluster != "" {
			prefix = e.Cluster + ": "
		}
		lvl := ""
		if e.Level != watch.LevelInfo {
			lvl = strings.ToUpper(e.Level) + " "
		}
		fmt.Fprintf(w, "%s %s%s%s\n", e.Time.Format(time.TimeOnly), lvl, prefix, e.Message)
	}
}
