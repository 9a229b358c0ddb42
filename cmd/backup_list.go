package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// BackupListOptions are the inputs of `neo4jctl backup list`.
type BackupListOptions struct {
	BackupOptions
	Database string
}

// NewCmdBackupList lists the catalogue.
func NewCmdBackupList(f *Factory, runF func(*BackupListOptions) error) *cobra.Command {
	opts := &BackupListOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "list -f CLUSTER_FILE [--database DB]",
		Short: "List the cluster's backups from the catalogue",
		Long: `List reads the catalogue in spec.backups.storage (one LIST of its prefix,
no index) and prints the cluster's backups, oldest first: id, database,
type as neo4j-admin produced it, chain, created, stored size, key id,
copies and the last verification. -o json prints the entries
(docs/backups.md). It needs no keyset.`,
		Example: "  neo4jctl backup list -f cluster.yaml --database neo4j",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, false, true)
	cmd.Flags().StringVar(&opts.Database, "database", "", "only this database's backups")
	return cmd
}

// Run prints the list.
func (o *BackupListOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, false, false)
	if err != nil {
		return err
	}
	es, err := s.List(ctx, o.Database)
	if err != nil {
		return err
	}
	view, _ := views.NewBackupView(o.Output)
	return view.List(o.IO.Out, views.BackupList{Cluster: s.Cluster, Storage: s.Storage.URL(), Backups: es})
}

// BackupDescribeOptions are the inputs of `neo4jctl backup describe`.
type BackupDescribeOptions struct {
	BackupOptions
	ID string
}

// NewCmdBackupDescribe shows one entry.
func NewCmdBackupDescribe(f *Factory, runF func(*BackupDescribeOptions) error) *cobra.Command {
	opts := &BackupDescribeOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "describe ID -f CLUSTER_FILE",
		Short: "Show one backup's catalogue entry and what restoring it replays",
		Long: `Describe prints one backup's catalogue entry — type as produced, chain and
parent, transaction range, sizes and SHA-256 of plaintext and ciphertext,
key id, copies, verifications — and the chain a restore of it replays.`,
		Example: "  neo4jctl backup describe graph/neo4j/20261207T020000Z-full-3f2a9c01 -f cluster.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, false, true)
	return cmd
}

// Run prints the description.
func (o *BackupDescribeOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, false, false)
	if err != nil {
		return err
	}
	e, err := s.Get(ctx, o.ID)
	if err != nil {
		return err
	}
	d := views.BackupDescription{Backup: e}
	// The chain is assembled from the database's entries: what a restore
	// would have to fetch.
	es, err := s.List(ctx, e.Database)
	if err != nil {
		return err
	}
	if d.RestorePath, err = catalog.Assemble(es).Path(e.ID); err != nil {
		d.RestoreProblem = err.Error()
	}
	view, _ := views.NewBackupView(o.Output)
	return view.Describe(o.IO.Out, d)
}
