package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"reflect"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/manifests"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
	"github.com/neo4jctl/neo4jctl/plan"
)

// RenderOptions are the inputs of `neo4jctl render`.
type RenderOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
	Output        string
	// Watch renders the in-cluster deployment of `neo4jctl watch` instead:
	// for the clusters of File when given (their Secrets and kinds decide
	// the Role), else for the namespace.
	Watch      bool
	WatchMode  string
	WatchImage string
	// Version is this binary's release version; it pins watch's image.
	Version string
	// ShowSensitive prints credentials found inside the objects instead of
	// "(sensitive)" (--show-sensitive), for piping into kubectl apply.
	ShowSensitive bool
	// CIRole renders the read-only credentials of plan and drift in CI
	// instead (cirole.go).
	CIRole               bool
	CIRoleServiceAccount string
}

// NewCmdRender prints the Kubernetes objects a cluster file renders to, like
// `helm template`: nothing is contacted.
func NewCmdRender(f *Factory, runF func(*RenderOptions) error) *cobra.Command {
	opts := &RenderOptions{IO: f.IO, Version: f.Build.Version}
	cmd := &cobra.Command{
		Use:   "render -f CLUSTER_FILE|- [-o yaml|json]",
		Short: "Print the Kubernetes objects a cluster file renders to",
		Long: `Render prints the Kubernetes objects neo4jctl would apply for a cluster
file, in apply order, without contacting any server (like helm template).
Pipe it to kubectl to check it against a cluster:

  neo4jctl render -f cluster.yaml | kubectl apply --server-side --dry-run=server -f -

Credentials are hidden as "(sensitive)", as in plan and drift (the patterns
are in docs/plan-json.md, "Redaction"): the value of a setting whose name
holds password, secret, token, credential or key, and inside any value a
key=value, -Dkey=value or --key value pair naming one, and a URL's password.
When anything was hidden a note on stderr says so; --show-sensitive prints
the values (only then is the output fit to apply).

Exit codes: 0 success, 1 invalid file or error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CIRole && (opts.File == "" || opts.Watch) {
				return usageErrorf(cmd, "--ci-role needs -f CLUSTER_FILE and no --watch")
			}
			if opts.File == "" && !opts.Watch {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if opts.WatchMode != string(dwatch.ModeWarn) && opts.WatchMode != string(dwatch.ModeEnforce) {
				return usageErrorf(cmd, "--watch-mode must be warn or enforce, got %q", opts.WatchMode)
			}
			if opts.Output != "yaml" && opts.Output != "json" {
				return usageErrorf(cmd, "-o must be yaml or json, got %q", opts.Output)
			}
			opts.FlagNamespace = flagNamespace(f)
			if runF != nil {
				return runF(opts)
			}
			return opts.Run()
		},
	}
	cmd.Flags().StringVarP(&opts.File, "filename", "f", "", "cluster file (YAML or JSON); - reads it from stdin")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&opts.ShowSensitive, "show-sensitive", false, "print credentials found inside the objects instead of (sensitive)")
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "render the Deployment, RBAC, ServiceMonitor, alerts and dashboard of `neo4jctl watch` (for the cluster in -f when given)")
	cmd.Flags().StringVar(&opts.WatchMode, "watch-mode", "warn", "with --watch: warn (report only) or enforce (repair; needs write verbs)")
	cmd.Flags().StringVar(&opts.WatchImage, "watch-image", "", "with --watch: the neo4jctl image, pinned by a version tag or a digest (default "+watchmanifests.DefaultImageRepository+":<this release's version>; :latest is refused)")
	cmd.Flags().BoolVar(&opts.CIRole, "ci-role", false, "render the read-only ServiceAccount, Role and ClusterRole that plan and drift need in CI (for the cluster in -f)")
	cmd.Flags().StringVar(&opts.CIRoleServiceAccount, "ci-service-account", "neo4jctl-ci", "with --ci-role: the ServiceAccount bound to the roles, in the cluster's namespace")
	return cmd
}

// Run renders and prints the objects.
func (o *RenderOptions) Run() error {
	if o.Watch {
		return o.runWatch()
	}
	if o.CIRole {
		return o.runCIRole()
	}
	t, err := loadTarget(o.File, o.FlagNamespace, o.IO.In)
	if err != nil {
		return err
	}
	objs := t.Objects
	if !o.ShowSensitive {
		var hidden int
		objs, hidden = redactObjects(objs)
		if hidden > 0 {
			fmt.Fprintf(o.IO.ErrOut, "render: %d %s a credential, shown as %s; pass --show-sensitive to print %s as written\n",
				hidden, pluralWord(hidden, "object holds", "objects hold"), plan.Sensitive, pluralWord(hidden, "it", "them"))
		}
	}
	return writeObjects(o.IO.Out, objs, o.Output)
}

// redactObjects returns copies of objs with credentials hidden, and how
// many objects had something hidden.
func redactObjects(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, int) {
	out := make([]*unstructured.Unstructured, len(objs))
	hidden := 0
	for i, o := range objs {
		r := plan.RedactObject(o.Object)
		if !reflect.DeepEqual(r, o.Object) {
			hidden++
		}
		out[i] = &unstructured.Unstructured{Object: r}
	}
	return out, hidden
}

// writeObjects prints objects as a multi-document YAML stream or a JSON
// v1 List, both accepted by `kubectl apply -f -`.
func writeObjects(w io.Writer, objs []*unstructured.Unstructured, format string) error {
	if format == "json" {
		items := make([]map[string]any, len(objs))
		for i, o := range objs {
			items[i] = o.Object
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	}
	for i, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("encode %s/%s: %w", o.GetKind(), o.GetName(), err)
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// runWatch renders watch's own deployment. With a cluster file, the Role is
// narrowed to what that cluster needs: its auth Secret and the CRD kinds it
// renders.
func (o *RenderOptions) runWatch() error {
	opts := watchmanifests.Options{Namespace: o.FlagNamespace, Image: o.WatchImage, Version: o.Version, Mode: dwatch.Mode(o.WatchMode)}
	if o.File != "" {
		// stdin can be read once: the file is read, then loaded from
		// memory.
		name, content, err := readClusterFile(o.File, o.IO.In)
		if err != nil {
			return fmt.Errorf("read cluster file: %w", err)
		}
		t, err := pipeline.LoadData(name, content, o.FlagNamespace)
		if err != nil {
			return err
		}
		c := t.Cluster
		opts.Namespace = t.Namespace
		// The file itself ships with watch, which reads it from a
		// ConfigMap; and its CA, so Bolt is verified.
		ext := filepath.Ext(o.File)
		if o.File == stdinFile {
			ext = ".yaml"
		}
		opts.ClusterFiles = []watchmanifests.ClusterFile{{Cluster: c.Metadata.Name, FileName: c.Metadata.Name + ext, Content: string(content)}}
		if c.Spec.TLS != nil {
			opts.CASecretName = manifests.TLSSecretName(c)
		}
		if ref := c.Spec.Auth.SecretRef; ref != nil {
			opts.SecretNames = []string{ref.Name}
		}
		opts.ServiceMonitors = c.Spec.Monitoring.ServiceMonitor.Enabled
		opts.Certificates = c.Spec.TLS != nil && c.Spec.TLS.CertManager != nil
		opts.Backups = c.Spec.Backups != nil
		if c.Spec.Backups != nil {
			opts.BackupCredentialsSecret = c.Spec.Backups.Storage.CredentialsSecret
		}
		opts.RuleGroups, opts.DashboardRows = watchmanifests.DrillMonitoring(c.Spec.Backups)
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	objs, err := watchmanifests.Render(opts)
	if err != nil {
		return err
	}
	return writeObjects(o.IO.Out, objs, o.Output)
}
