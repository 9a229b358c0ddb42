package cmd

import (
	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// NewCmdSchema prints the cluster file's JSON Schema.
func NewCmdSchema(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the cluster file",
		Long: `Schema prints the JSON Schema of the cluster file so editors validate
cluster files as you type. For yaml-language-server (VS Code, Neovim):

  neo4jctl schema > neo4jcluster.schema.json
  # first line of the cluster file:
  # yaml-language-server: $schema=./neo4jcluster.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := clusterfile.Schema()
			if err != nil {
				return err
			}
			_, err = f.IO.Out.Write(append(b, '\n'))
			return err
		},
	}
}
