package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// ValidateOptions are the inputs of `neo4jctl validate`.
type ValidateOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
}

// NewCmdValidate checks a cluster file without contacting anything.
func NewCmdValidate(f *Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate -f CLUSTER_FILE",
		Short: "Check a cluster file and report every problem at once",
		Long: `Validate loads a cluster file, fills in defaults and checks it, reporting
every problem at once as FILE:LINE: FIELD.PATH: PROBLEM (FIX). It contacts
nothing and writes nothing.

Exit codes: 0 valid, 1 invalid or error.`,
		Example: "  neo4jctl validate -f examples/quickstart.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			opts.FlagNamespace = flagNamespace(f)
			if runF != nil {
				return runF(opts)
			}
			return opts.Run()
		},
	}
	cmd.Flags().StringVarP(&opts.File, "filename", "f", "", "cluster file (YAML or JSON)")
	return cmd
}

// Run loads, defaults, validates and renders the file: a file that loads but
// cannot be rendered is not valid either.
func (o *ValidateOptions) Run() error {
	c, ns, err := loadCluster(o.File, o.FlagNamespace)
	if err != nil {
		return err
	}
	objs, err := manifests.Render(c, ns)
	if err != nil {
		return fmt.Errorf("%s: render: %w", o.File, err)
	}
	_, err = fmt.Fprintf(o.IO.Out, "%s is valid: %s cluster %s/%s, Neo4j %s, %d servers, %d objects rendered\n",
		o.File, c.Spec.Edition, ns, c.Metadata.Name, c.Spec.Version, totalServers(c), len(objs))
	return err
}

// loadCluster loads a cluster file and resolves its namespace against the
// --namespace flag (the file wins; a mismatch is an error).
func loadCluster(path, flagNS string) (*clusterfile.Cluster, string, error) {
	c, err := clusterfile.LoadFile(path)
	if err != nil {
		return nil, "", err
	}
	ns, err := c.Namespace(flagNS)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return c, ns, nil
}

func totalServers(c *clusterfile.Cluster) int32 {
	n := c.Spec.Servers
	for _, p := range c.Spec.ServerPools {
		n += p.Servers
	}
	return n
}

// flagNamespace is the --namespace flag's value when the user gave one.
func flagNamespace(f *Factory) string {
	if f.KubeFlags == nil || f.KubeFlags.Namespace == nil {
		return ""
	}
	return *f.KubeFlags.Namespace
}
