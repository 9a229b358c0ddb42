package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/agent"
)

// BackupAgentOptions are the inputs of `neo4jctl backup agent`. The agent's
// own flags and its run are backup/agent's (agent.Options, agent.Execute),
// shared with the agent-only binary cmd/neo4jctl-backup-agent.
type BackupAgentOptions struct {
	BackupOptions
	Agent   agent.Config
	NoPrune bool
	// PartSize and Concurrency bound the upload's memory: about
	// PartSize × (Concurrency+1) (backup/blob).
	PartSize    int
	Concurrency int
}

// NewCmdBackupAgent is the process that runs beside neo4j-admin.
func NewCmdBackupAgent(f *Factory, runF func(*BackupAgentOptions) error) *cobra.Command {
	opts := &BackupAgentOptions{BackupOptions: newBackupOptions(f)}
	var ao agent.Options
	cmd := &cobra.Command{
		Use:   "agent -f CLUSTER_FILE --from-dir DIR [--inspect-file FILE]",
		Short: "Encrypt, upload, catalogue and copy what neo4j-admin wrote, then apply retention",
		Long:  agent.Long,
		Example: `  neo4j-admin database backup --from=graph-0.graph:6362 --to-path=/backups --type=AUTO '*'
  neo4j-admin backup inspect --show-metadata --empty --format=TABULAR /backups > /backups/inspect.txt
  neo4jctl backup agent -f cluster.yaml --from-dir /backups --inspect-file /backups/inspect.txt --requested-type AUTO`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			ao.File, ao.SecretsDir, ao.KeysetFile = opts.File, opts.SecretsDir, opts.KeysetFile
			if err := ao.Validate(); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			opts.Agent, opts.NoPrune, opts.PartSize, opts.Concurrency = ao.Config, ao.NoPrune, ao.PartSize, ao.Concurrency
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	ao.AddFlags(cmd.Flags())
	return cmd
}

// Run stores the directory's artifacts.
func (o *BackupAgentOptions) Run(ctx context.Context) error {
	_, err := agent.Execute(ctx, agent.Options{
		File: o.File, SecretsDir: o.SecretsDir, KeysetFile: o.KeysetFile,
		Config: o.Agent, NoPrune: o.NoPrune, PartSize: o.PartSize, Concurrency: o.Concurrency,
		Log: o.IO.ErrOut, Now: o.Now, Getenv: o.Getenv,
	})
	return err
}
