package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/manifests"
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
	cluster     clusterFlags

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

// observe reads both planes of one cluster into a healthcheck.Input,
// through the clients and the Neo4j connection plan uses. What cannot be
// read is recorded as such: its checks are then UNKNOWN, never PASS.
func (o *HealthcheckOptions) observe(ctx context.Context, r *pipeline.Runner, t *pipeline.Target) healthcheck.Input {
	in := healthcheck.Input{File: t.File, Expected: expectedOf(t)}
	var kubeDone = make(chan struct{})
	go func() {
		defer close(kubeDone)
		k, err := r.Kube.ObserveHealth(ctx, t.Inventory)
		if err != nil {
			in.KubeErr = err.Error()
		}
		in.Kube = k
		if err == nil {
			o.observeVolumes(ctx, r, t, &in)
		}
		if name := in.Expected.TLSSecret; name != "" {
			pem, err := r.Kube.ReadSecretKey(ctx, t.Namespace, name, "tls.crt")
			if err == nil {
				in.Certificates, err = healthcheck.ParseCertificates(name, pem)
			}
			if err != nil {
				in.CertificateErr = err.Error()
			}
		}
	}()
	o.observeNeo4j(ctx, r, t, &in)
	<-kubeDone
	in.Now = o.now()
	return in
}

func (o *HealthcheckOptions) observeNeo4j(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, in *healthcheck.Input) {
	if r.SkipNeo4j {
		in.Neo4jSkipped = true
		return
	}
	timeout := r.Neo4j.ObserveTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+o.Recheck)
	defer cancel()
	c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
	if err != nil {
		in.Neo4j.Reason = err.Error()
		return
	}
	defer closeFn()
	var statusErr error
	in.Neo4j, in.StatusCheck, statusErr = c.ObserveHealth(ctx, o.StatusCheckTimeout)
	if statusErr != nil {
		in.StatusCheckErr = statusErr.Error()
	}
	recheckSplitBrain(ctx, in, o.Recheck, c.Databases)
}

// recheckSplitBrain reads SHOW DATABASES again after wait when the first
// read showed two writers for a database: one read cannot tell a leader
// change in flight from a split-brain, two reads apart can.
func recheckSplitBrain(ctx context.Context, in *healthcheck.Input, wait time.Duration, read func(context.Context) ([]state.DatabaseAllocation, error)) {
	if !in.Neo4j.Reachable || len(healthcheck.SplitBrainSuspects(in.Neo4j.Databases)) == 0 {
		return
	}
	in.Recheck = &healthcheck.Recheck{After: wait}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		in.Recheck.Err = ctx.Err().Error()
		return
	}
	dbs, err := read(ctx)
	if err != nil {
		in.Recheck.Err = err.Error()
		return
	}
	in.Recheck.Databases = dbs
}

// observeVolumes reads each node's kubelet volume stats for the claims of
// the cluster's Pods.
func (o *HealthcheckOptions) observeVolumes(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, in *healthcheck.Input) {
	if o.VolumeStats == "off" {
		in.VolumesSkip = "not read (--volume-stats=off)"
		return
	}
	seen := map[string]bool{}
	for _, p := range in.Kube.Pods {
		if p.Node == "" || seen[p.Node] {
			continue
		}
		seen[p.Node] = true
		data, err := r.Kube.NodeStatsSummary(ctx, p.Node)
		var vols []state.VolumeUsage
		if err == nil {
			vols, err = healthcheck.ParseVolumeStats(data, t.Namespace)
		}
		if err != nil {
			// A refusal by RBAC or by the node proxy (a kubelet address the
			// API server will not proxy to) is a property of the cluster,
			// not a passing fault: auto skips the check and says why.
			if o.VolumeStats == "auto" && (apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) || apierrors.IsServiceUnavailable(err)) {
				in.VolumesSkip = fmt.Sprintf("the node proxy refused the kubelet's volume stats (%v); --volume-stats=on makes this UNKNOWN", err)
			} else {
				in.VolumesErr = err.Error()
			}
			in.Volumes = nil
			return
		}
		in.Volumes = append(in.Volumes, vols...)
	}
}

// expectedOf is what the cluster file asks for, in the terms the checks use.
func expectedOf(t *pipeline.Target) healthcheck.Expected {
	c := t.Cluster
	e := healthcheck.Expected{
		Cluster: t.Name(), Namespace: t.Namespace, Edition: string(c.Spec.Edition),
		TLSSecret: manifests.TLSSecretName(c),
	}
	if e.Edition == "" {
		e.Edition = string(clusterfile.EditionEnterprise)
	}
	for _, o := range t.Objects {
		if o.GetKind() == "PodDisruptionBudget" {
			e.PDB = o.GetName()
		}
	}
	heap := neo4jBytes(c.Spec.Config["server.memory.heap.max_size"])
	pageCache := neo4jBytes(c.Spec.Config["server.memory.pagecache.size"])
	for _, p := range manifests.Pools(c) {
		e.StatefulSets = append(e.StatefulSets, p.StatefulSet)
		for i := 0; i < int(p.Servers); i++ {
			e.Servers = append(e.Servers, healthcheck.ExpectedServer{
				Pod: manifests.PodName(c, p.Name, i), StatefulSet: p.StatefulSet,
				Host: manifests.PodDNSName(c, t.Namespace, p.Name, i),
			})
		}
		var limit int64
		if l := p.Resources.Neo4j.Limits.Memory; l != "" {
			if f, err := clusterfile.ParseAmount(l, false); err == nil {
				limit = int64(f)
			}
		}
		e.Memory = append(e.Memory, healthcheck.MemoryBudget{StatefulSet: p.StatefulSet, Heap: heap, PageCache: pageCache, Limit: limit})
	}
	for _, db := range c.Spec.Databases {
		e.Databases = append(e.Databases, healthcheck.ExpectedDatabase{Name: db.Name, Primaries: db.Topology.Primaries, Secondaries: db.Topology.Secondaries})
	}
	return e
}

// neo4jBytes reads a neo4j.conf byte size ("384m", "4g"); 0 when unset or
// unreadable (the memory check then says it cannot compare).
func neo4jBytes(s string) int64 {
	if s == "" {
		return 0
	}
	f, err := clusterfile.ParseAmount(s, true)
	if err != nil {
		return 0
	}
	return int64(f)
}
