package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/helmimport"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// ImportOptions are the inputs of `neo4jctl import`.
type ImportOptions struct {
	IO            *iostreams.IOStreams
	Kube          func() (*kube.Client, error)
	FlagNamespace string
	Releases      []string
	Cluster       string
	Output        string
	Overwrite     bool
	cluster       clusterFlags
}

// NewCmdImport writes the cluster file of a cluster installed by the
// official Neo4j Helm chart.
func NewCmdImport(f *Factory, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "import (--helm-release NAME... | --helm-cluster NAME) [-n NS] -o CLUSTER_FILE",
		Short: "Write the cluster file of a cluster installed by the Neo4j Helm chart",
		Long: `Import reads a cluster installed by the official Neo4j Helm chart and writes
the cluster file that describes it. The chart installs one release per
server; --helm-release names them (repeat it), or --helm-cluster finds every
release of one neo4j.name.

It reads Helm's release records (the Secrets sh.helm.release.v1.<release>.v<N>,
newest deployed revision), the live StatefulSets and, unless --skip-neo4j,
Neo4j itself (SHOW SERVERS / SHOW DATABASES) through a port-forward to the
first server, with the password from the chart's Secret. Values the chart
sets on its own that neo4jctl has no field for become YAML comments; a
value a user set that neo4jctl cannot express is refused, named, and
nothing is written. Neo4j older than 5.26 is refused: upgrade to 5.26 first.

It changes nothing in the cluster. See docs/import.md.`,
		Example: `  neo4jctl import --helm-cluster prod -n graph -o prod.yaml
  neo4jctl import --helm-release server-1 --helm-release server-2 --helm-release server-3 -o prod.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (len(opts.Releases) == 0) == (opts.Cluster == "") {
				return usageErrorf(cmd, "give --helm-release NAME (repeatable) or --helm-cluster NAME")
			}
			if opts.Output == "" {
				return usageErrorf(cmd, "-o CLUSTER_FILE is required (- for standard output)")
			}
			opts.FlagNamespace = flagNamespace(f)
			opts.Kube = func() (*kube.Client, error) { return opts.cluster.kubeClient(f) }
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVar(&opts.Releases, "helm-release", nil, "a Helm release of the cluster (repeat it: the chart installs one release per server)")
	cmd.Flags().StringVar(&opts.Cluster, "helm-cluster", "", "import every deployed release whose neo4j.name is NAME")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "cluster file to write (- for standard output)")
	cmd.Flags().BoolVar(&opts.Overwrite, "overwrite", false, "replace the output file if it exists")
	opts.cluster.add(cmd.Flags())
	return cmd
}

// Run reads, converts and writes. The file is written only when nothing
// was refused.
func (o *ImportOptions) Run(ctx context.Context) error {
	if o.Output != "-" && !o.Overwrite {
		if _, err := os.Stat(o.Output); err == nil {
			return fmt.Errorf("%s exists: pass --overwrite to replace it", o.Output)
		}
	}
	kc, err := o.Kube()
	if err != nil {
		return err
	}
	ns := o.FlagNamespace
	if ns == "" {
		ns = kc.Namespace()
	}
	selector := "owner=helm"
	if len(o.Releases) == 1 {
		selector += ",name=" + o.Releases[0]
	}
	raw, err := kc.SecretsData(ctx, ns, selector, "release")
	if err != nil {
		return err
	}
	// Records of releases not asked for are not decoded: another chart's
	// broken record must not stop this import.
	secrets := make([]helmimport.ReleaseSecret, 0, len(raw))
	for _, s := range raw {
		if len(o.Releases) > 0 && !slices.Contains(o.Releases, s.Labels["name"]) {
			continue
		}
		secrets = append(secrets, helmimport.ReleaseSecret{Name: s.Name, Labels: s.Labels, Data: s.Data})
	}
	all, err := helmimport.Newest(secrets)
	if err != nil {
		return err
	}
	rels, err := o.pick(all, ns)
	if err != nil {
		return err
	}
	in := helmimport.Input{Namespace: ns, Releases: rels}
	sets, err := kc.StatefulSets(ctx, ns, "helm.neo4j.com/neo4j.name="+helmimport.NameOf(rels[0]))
	if err != nil {
		return err
	}
	for _, s := range sets {
		in.StatefulSets = append(in.StatefulSets, helmimport.StatefulSet{Name: s.Name, Labels: s.Labels, Replicas: s.Replicas, Image: s.Images["neo4j"]})
	}
	if in.Claims, err = kc.ClaimRequests(ctx, ns); err != nil {
		return err
	}
	if o.cluster.SkipNeo4j {
		in.Neo4jSkipped = "not read (--skip-neo4j)"
	} else {
		view, err := o.readNeo4j(ctx, kc, ns, rels[0])
		if err != nil {
			in.Neo4jSkipped = "not reached (" + oneLine(err.Error()) + ")"
			fmt.Fprintf(o.IO.ErrOut, "import: Neo4j not reached, databases not imported: %v\n", err)
		}
		in.Neo4j = view
	}
	out, err := helmimport.Convert(in)
	if err != nil {
		return err
	}
	if o.Output == "-" {
		_, err := o.IO.Out.Write(out)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.Output), ".import-*.yaml")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), o.Output); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "import: wrote %s from %d release(s); review its comments, then run neo4jctl plan -f %s\n", o.Output, len(rels), o.Output)
	return nil
}

// pick selects the releases asked for, each of which must exist.
func (o *ImportOptions) pick(all []*helmimport.Release, ns string) ([]*helmimport.Release, error) {
	byName := map[string]*helmimport.Release{}
	for _, r := range all {
		byName[r.Name] = r
	}
	var out []*helmimport.Release
	if o.Cluster != "" {
		for _, r := range all {
			if r.Chart.Metadata.Name == helmimport.ChartName && helmimport.NameOf(r) == o.Cluster {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no deployed release of the neo4j chart with neo4j.name=%s in namespace %s", o.Cluster, ns)
		}
		return out, nil
	}
	var missing []string
	for _, n := range o.Releases {
		r, ok := byName[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		out = append(out, r)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no deployed Helm release %s in namespace %s", strings.Join(missing, ", "), ns)
	}
	return out, nil
}

// readNeo4j reads SHOW SERVERS / SHOW DATABASES / SHOW SETTINGS from the
// first server, through a port-forward unless --neo4j-uri says where. The
// password comes from --neo4j-password-file, NEO4JCTL_NEO4J_PASSWORD or
// the chart's Secret (NEO4J_AUTH = neo4j/<password>); it is never printed.
func (o *ImportOptions) readNeo4j(ctx context.Context, kc *kube.Client, ns string, r *helmimport.Release) (*helmimport.Neo4jView, error) {
	sts, authSecret := helmimport.ReleaseObjects(r)
	password := os.Getenv(pipeline.PasswordEnv)
	if f := o.cluster.Neo4jPassFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--neo4j-password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if password == "" {
		b, err := kc.ReadSecretKey(ctx, ns, authSecret, "NEO4J_AUTH")
		if err != nil {
			return nil, err
		}
		_, pw, ok := strings.Cut(strings.TrimRight(string(b), "\r\n"), "/")
		if !ok {
			return nil, fmt.Errorf("Secret %s/%s key NEO4J_AUTH is not user/password", ns, authSecret)
		}
		password = pw
	}
	uri := o.cluster.Neo4jURI
	if uri == "" {
		addr, stop, err := kc.PortForward(ctx, ns, sts+"-0", 7687)
		if err != nil {
			return nil, err
		}
		defer stop()
		uri = "bolt://" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, o.cluster.ObserveTimeout)
	defer cancel()
	c, err := neo4j.Open(ctx, neo4j.Config{URI: uri, Username: o.cluster.Neo4jUser, Password: password, ConnectTimeout: o.cluster.ConnectTimeout, UserAgent: "neo4jctl-import"})
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = c.Close(cctx)
	}()
	var view helmimport.Neo4jView
	var errs []error
	// Community Edition has no SHOW SERVERS ("Unsupported administration
	// command", docs/neo4j.md): a standalone server has no servers to list,
	// and its databases and settings are still read.
	if view.Servers, err = c.Servers(ctx); err != nil && neo4j.ClassOf(err) != neo4j.KindEnterpriseRequired {
		errs = append(errs, err)
	}
	if view.Databases, err = c.Databases(ctx); err != nil {
		errs = append(errs, err)
	}
	if view.Settings, err = c.Settings(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &view, nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// forgetHelm is apply --forget-helm-release, run once apply has succeeded
// (or had nothing to do): it deletes the release records of every release
// the cluster file adopted, so that helm no longer lists them and a stray
// `helm upgrade` or `helm uninstall` cannot reach the cluster. Only those
// Secrets go; every object of the cluster stays as it is.
func (o *ApplyOptions) forgetHelm(ctx context.Context, kc *kube.Client, t *pipeline.Target, errOut io.Writer) error {
	if !o.ForgetHelmRelease {
		return nil
	}
	for _, r := range t.Cluster.Spec.HelmReleases {
		deleted, err := kc.DeleteHelmReleaseRecords(ctx, t.Namespace, r.Name)
		if err != nil {
			return fmt.Errorf("--forget-helm-release: %w", err)
		}
		fmt.Fprintf(errOut, "Forgot Helm release %s/%s: deleted %d release record(s) %s; its objects are neo4jctl's now.\n", t.Namespace, r.Name, len(deleted), strings.Join(deleted, ", "))
	}
	return nil
}
