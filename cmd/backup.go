package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// NewCmdBackup groups the backup commands (docs/backups.md).
func NewCmdBackup(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Store, list, copy, download and prune encrypted backups",
		Long: `Backup manages what spec.backups stores: encrypted artifacts and their
catalogue in a bucket (s3://, gs://, azblob://, file:///), copies in other
buckets, and the keyset that encrypts them (docs/backups.md).

Credentials and the keyset come only from mounted Secrets or files
(--secrets-dir, --keyset-file), never from flags, and are never printed.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		NewCmdBackupAgent(f, nil),
		NewCmdBackupList(f, nil),
		NewCmdBackupDescribe(f, nil),
		NewCmdBackupPrune(f, nil),
		NewCmdBackupCopy(f, nil),
		NewCmdBackupDownload(f, nil),
		NewCmdBackupKeys(f),
		NewCmdBackupCreate(f, nil),
		NewCmdBackupLock(f, nil),
		NewCmdBackupVerify(f, nil),
	)
	return cmd
}

// BackupOptions are what every backup command takes: the cluster file
// and where its Secrets are mounted.
type BackupOptions struct {
	IO         *iostreams.IOStreams
	File       string
	SecretsDir string
	KeysetFile string
	Output     string
	Now        func() time.Time
	// Getenv reads Secrets given as environment variables (tests replace it).
	Getenv func(string) string
	// blob tunes the buckets (the agent's upload part size).
	blob blob.Options
}

func newBackupOptions(f *Factory) BackupOptions {
	return BackupOptions{IO: f.IO, Now: time.Now, Output: views.FormatHuman}
}

func (o *BackupOptions) addFlags(cmd *cobra.Command, keys, output bool) {
	cmd.Flags().StringVarP(&o.File, "filename", "f", "", "cluster file with spec.backups (YAML or JSON)")
	cmd.Flags().StringVar(&o.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "directory where the Secrets spec.backups names are mounted, one directory per Secret (a Secret not mounted there is read from the environment)")
	if keys {
		cmd.Flags().StringVar(&o.KeysetFile, "keyset-file", "", "file holding the Tink keyset (default: <secrets-dir>/<keysetSecret.name>/<keysetSecret.key>, then $"+ops.KeysetEnv+")")
	}
	if output {
		cmd.Flags().StringVarP(&o.Output, "output", "o", views.FormatHuman, "output format: human or json (docs/backups.md)")
	}
}

func (o *BackupOptions) validate(cmd *cobra.Command) error {
	if o.File == "" {
		return usageErrorf(cmd, "-f CLUSTER_FILE is required")
	}
	if cmd.Flags().Lookup("output") != nil {
		if _, err := views.NewBackupView(o.Output); err != nil {
			return usageErrorf(cmd, "--output: %v", err)
		}
	}
	return nil
}

// session loads the cluster file and opens its backups; progress lines go
// to stderr.
func (o *BackupOptions) session(ctx context.Context, needKeys, copies bool) (*ops.Session, error) {
	c, err := clusterfile.LoadFile(o.File)
	if err != nil {
		return nil, err
	}
	if c.Spec.Backups == nil {
		return nil, errors.New(o.File + " has no spec.backups (docs/backups.md)")
	}
	return ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, KeysetFile: o.KeysetFile, NeedKeys: needKeys, OpenCopies: copies,
		Log: o.IO.ErrOut, Now: o.Now, Getenv: o.Getenv, Blob: o.blob})
}
