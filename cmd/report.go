package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// ReportOptions are the inputs of `neo4jctl report`.
type ReportOptions struct {
	HealthcheckOptions
	Bundle   string
	LogsTail int64
	build    BuildInfo
}

// NewCmdReport collects a support bundle.
func NewCmdReport(f *Factory, runF func(*ReportOptions) error) *cobra.Command {
	opts := &ReportOptions{HealthcheckOptions: HealthcheckOptions{IO: f.IO, now: time.Now, FailOn: "fail"}, build: f.Build}
	cmd := &cobra.Command{
		Use:   "report -f CLUSTER_FILE -o BUNDLE.tar.gz",
		Short: "Collect a support bundle, with no secret in it",
		Long: `Report collects what support needs into one gzipped tar: the cluster file,
the rendered objects, the live objects and Pods (Secret data left out), the
events about them, the last --logs-tail lines of each container's log, SHOW
SERVERS, SHOW DATABASES, SHOW SETTINGS and dbms.cluster.statusCheck, the
healthcheck report, and the versions of neo4jctl, Kubernetes and Neo4j. A
MANIFEST lists what was collected and what could not be, with the error.

Nothing secret goes in: Secret data is left out of every object, and the
rest is redacted as plans are (docs/plan-json.md, "Redaction"): values of
credential-like settings and environment variables (password, secret,
token, key …), credentials inside any value (-Dfoo.password=…, --token …,
URL passwords), and the Neo4j password itself wherever it occurs.

Exit codes: 0 bundle written (whatever the cluster's health), 1 error.`,
		Example: `  neo4jctl report -f cluster.yaml -o support.tar.gz`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Files) == 0 {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if opts.Bundle == "" {
				return usageErrorf(cmd, "-o BUNDLE.tar.gz is required")
			}
			if opts.LogsTail < 0 {
				return usageErrorf(cmd, "--logs-tail must be 0 or more, got %d", opts.LogsTail)
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
	fl.StringVarP(&opts.Bundle, "output", "o", "", "write the bundle to this file (.tar.gz)")
	fl.Int64Var(&opts.LogsTail, "logs-tail", 500, "last lines of each container's log to collect (0: none)")
	fl.IntVar(&opts.Parallel, "parallel", 8, "clusters read at once in a fleet")
	opts.addObserveFlags(fl)
	return cmd
}

// Run collects every cluster into one bundle (a directory per cluster) and
// writes it atomically.
func (o *ReportOptions) Run(ctx context.Context) error {
	targets, r, kubeVersion, err := o.open(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.Bundle), ".report-*.tar.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	now := o.now()
	parts := make([]healthcheck.BundlePart, len(targets))
	eachTarget(targets, o.Parallel, func(i int, t *pipeline.Target) {
		parts[i] = healthcheck.BundlePart{
			Dir:    "neo4jctl-report-" + t.Namespace + "-" + t.Cluster.Metadata.Name,
			Header: fmt.Sprintf("neo4jctl support bundle for %s (%s)\n", t.Name(), t.File),
			Bundle: o.collect(ctx, r, t, kubeVersion),
		}
	})
	if err := healthcheck.WriteBundles(tmp, now, parts...); err != nil {
		tmp.Close()
		return err
	}
	if ctx.Err() != nil {
		tmp.Close()
		return errInterrupted
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), o.Bundle); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Wrote the support bundle to %s (the MANIFEST inside lists what it holds).\n", o.Bundle)
	return nil
}

// collect gathers one cluster's files. Whatever cannot be read is recorded
// in the MANIFEST and the rest is still collected.
func (o *ReportOptions) collect(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, kubeVersion string) *healthcheck.Bundle {
	b := healthcheck.NewBundle(o.knownSecrets(ctx, r, t)...)
	in := o.observe(ctx, r, t)
	rep := healthcheck.Compute(in)

	b.Add("version.txt", fmt.Appendf(nil, "neo4jctl %s (commit %s, built %s)\nKubernetes %s\nNeo4j %s %s\n",
		o.build.Version, o.build.Commit, o.build.Date, kubeVersion, in.Neo4j.Edition, orUnknown(in.Neo4j.Version)))
	if data, err := os.ReadFile(t.File); err == nil {
		b.Add("cluster.yaml", data)
	} else {
		b.Failed("cluster.yaml", err)
	}
	b.AddJSON("healthcheck.json", rep)
	addObjects(b, "rendered.yaml", t.Objects)

	live, errs := r.Kube.LiveObjects(ctx, t.Objects, t.Namespace)
	addObjects(b, "live.yaml", live)
	for addr, err := range errs {
		b.Failed("live.yaml: "+addr, err)
	}
	if pods, err := r.Kube.ClusterPodObjects(ctx, t.Inventory); err == nil {
		addObjects(b, "pods.yaml", pods)
	} else {
		b.Failed("pods.yaml", err)
	}

	objects := map[string]bool{}
	for _, u := range t.Objects {
		objects[u.GetKind()+"/"+u.GetName()] = true
	}
	for _, p := range in.Kube.Pods {
		objects["Pod/"+p.Name] = true
		for _, c := range p.Claims {
			objects["PersistentVolumeClaim/"+c] = true
		}
	}
	if evs, err := r.Kube.EventsAbout(ctx, t.Namespace, objects); err == nil {
		var s strings.Builder
		for _, e := range evs {
			fmt.Fprintf(&s, "%s  %-7s %s %s ×%d: %s\n", e.Last.UTC().Format(time.RFC3339), e.Type, e.Object, e.Reason, e.Count, e.Message)
		}
		b.Add("events.txt", []byte(s.String()))
	} else {
		b.Failed("events.txt", err)
	}
	if o.LogsTail > 0 {
		for _, p := range in.Kube.Pods {
			for _, c := range p.Containers {
				name := fmt.Sprintf("logs/%s_%s.log", p.Name, c.Name)
				if data, err := r.Kube.PodLogs(ctx, t.Namespace, p.Name, c.Name, o.LogsTail); err == nil {
					b.Add(name, data)
				} else {
					b.Failed(name, err)
				}
			}
		}
	}

	if in.Neo4j.Reachable {
		b.AddJSON("neo4j/show-servers.json", in.Neo4j.Servers)
		b.AddJSON("neo4j/show-databases.json", in.Neo4j.Databases)
		if in.StatusCheck != nil {
			b.AddJSON("neo4j/statuscheck.json", in.StatusCheck)
		}
		o.collectSettings(ctx, r, t, b)
	} else {
		b.Failed("neo4j/*", fmt.Errorf("%s", orUnknown(in.Neo4j.Reason)))
	}
	return b
}

// collectSettings reads SHOW SETTINGS over a connection of its own (the
// observation's is closed by then) and adds it redacted.
func (o *ReportOptions) collectSettings(ctx context.Context, r *pipeline.Runner, t *pipeline.Target, b *healthcheck.Bundle) {
	c, closeFn, err := r.Neo4j.Connect(ctx, r.Kube, t)
	if err != nil {
		b.Failed("neo4j/show-settings.json", err)
		return
	}
	defer closeFn()
	settings, err := c.Settings(ctx)
	if err != nil {
		b.Failed("neo4j/show-settings.json", err)
		return
	}
	b.AddJSON("neo4j/show-settings.json", healthcheck.RedactSettings(settings))
}

// knownSecrets are the credential values neo4jctl itself knows for this
// cluster: the Neo4j password wherever it was found. The bundle replaces
// them wherever they occur, whatever the field is called.
func (o *ReportOptions) knownSecrets(ctx context.Context, r *pipeline.Runner, t *pipeline.Target) []string {
	var out []string
	if v := os.Getenv(pipeline.PasswordEnv); v != "" {
		out = append(out, v)
	}
	if f := o.cluster.Neo4jPassFile; f != "" {
		if data, err := os.ReadFile(f); err == nil {
			out = append(out, strings.TrimRight(string(data), "\r\n"))
		}
	}
	if ref := t.Cluster.Spec.Auth.SecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = "password"
		}
		if data, err := r.Kube.ReadSecretKey(ctx, t.Namespace, ref.Name, key); err == nil {
			pw := strings.TrimRight(string(data), "\r\n")
			// NEO4J_AUTH holds "neo4j/<password>".
			out = append(out, pw, "neo4j/"+pw)
		}
	}
	return out
}

// addObjects adds objects as one YAML stream, each redacted.
func addObjects(b *healthcheck.Bundle, name string, objs []*unstructured.Unstructured) {
	copies := make([]*unstructured.Unstructured, 0, len(objs))
	for _, u := range objs {
		copies = append(copies, &unstructured.Unstructured{Object: healthcheck.RedactObject(u.Object)})
	}
	data, err := manifests.MarshalYAML(copies)
	if err != nil {
		b.Failed(name, err)
		return
	}
	b.Add(name, data)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
