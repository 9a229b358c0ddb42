package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/agent"
)

// BackupAgentOptions are the inputs of `neo4jctl backup agent`.
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
	cmd := &cobra.Command{
		Use:   "agent -f CLUSTER_FILE --from-dir DIR [--inspect-file FILE]",
		Short: "Encrypt, upload, catalogue and copy what neo4j-admin wrote, then apply retention",
		Long: `Agent runs beside neo4j-admin (in the backup Job, or as a plain process)
and takes every artifact in --from-dir into spec.backups.storage:

  1. inspect it: the type and transaction range of a .backup come from
     --inspect-file, the output of
     neo4j-admin backup inspect --show-metadata --empty --format=TABULAR DIR
     (the type neo4j-admin produced, never the --type asked for); a
     Community <database>.dump is a FULL backup;
  2. encrypt it while uploading (streaming: memory stays flat whatever its
     size), then check the stored size and SHA-256;
  3. write its catalogue entry — last, so an interrupted upload never
     leaves an entry;
  4. copy it to every spec.backups.copies bucket, digest checked there;
  5. apply spec.backups.retention, printing every deletion before it
     happens (skipped when an artifact of the run failed, or --no-prune).

Artifacts already catalogued (a chain's earlier artifacts kept in the
directory) are skipped. One plain line per step goes to stderr.

Exit codes: 0 every artifact stored and copied, 1 otherwise (those stored
stay stored).`,
		Example: `  neo4j-admin database backup --from=graph-0.graph:6362 --to-path=/backups --type=AUTO '*'
  neo4j-admin backup inspect --show-metadata --empty --format=TABULAR /backups > /backups/inspect.txt
  neo4jctl backup agent -f cluster.yaml --from-dir /backups --inspect-file /backups/inspect.txt --requested-type AUTO`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if opts.Agent.FromDir == "" {
				return usageErrorf(cmd, "--from-dir DIR is required")
			}
			switch opts.Agent.RequestedType {
			case "", "FULL", "DIFF", "AUTO", "full", "diff", "auto":
			default:
				return usageErrorf(cmd, "--requested-type must be FULL, DIFF or AUTO, got %q", opts.Agent.RequestedType)
			}
			opts.Agent.Prune = !opts.NoPrune
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	cmd.Flags().StringVar(&opts.Agent.FromDir, "from-dir", "", "directory neo4j-admin wrote the artifacts to")
	cmd.Flags().StringVar(&opts.Agent.InspectFile, "inspect-file", "", "output of neo4j-admin backup inspect --show-metadata --empty --format=TABULAR (needed for .backup artifacts)")
	cmd.Flags().StringVar(&opts.Agent.RequestedType, "requested-type", "", "the --type neo4j-admin was asked for (FULL, DIFF or AUTO), recorded to show a fallback to FULL")
	cmd.Flags().BoolVar(&opts.NoPrune, "no-prune", false, "do not apply spec.backups.retention after storing")
	cmd.Flags().IntVar(&opts.PartSize, "upload-part-size", 0, "multipart part size in bytes (default backup/blob's 8 MiB; the upload holds about part size × (concurrency+1) in memory)")
	cmd.Flags().IntVar(&opts.Concurrency, "upload-concurrency", 0, "parts uploaded at once (default backup/blob's 2)")
	return cmd
}

// Run stores the directory's artifacts.
func (o *BackupAgentOptions) Run(ctx context.Context) error {
	o.blob.PartSize, o.blob.Concurrency = o.PartSize, o.Concurrency
	s, err := o.session(ctx, true, true)
	if err != nil {
		return err
	}
	_, err = agent.Run(ctx, s, o.Agent)
	return err
}
