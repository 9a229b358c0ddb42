package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// BackupCopyOptions are the inputs of `neo4jctl backup copy`.
type BackupCopyOptions struct {
	BackupOptions
	ID, To string
}

// NewCmdBackupCopy copies one artifact to another bucket.
func NewCmdBackupCopy(f *Factory, runF func(*BackupCopyOptions) error) *cobra.Command {
	opts := &BackupCopyOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "copy ID --to URL -f CLUSTER_FILE",
		Short: "Copy one backup to another bucket, digest checked there, and record the copy",
		Long: `Copy streams one backup's encrypted artifact to the bucket at --to (the same
object name), reads it back there to check its SHA-256 against the
catalogue, writes the entry (with the copy and the verifications known) into
the destination's own catalogue — so a restore or drill --from-copy needs
nothing from the primary — and records the copy in the entry. Rerun it to
give a copy made by an older neo4jctl its entry. A URL listed in
spec.backups.copies uses that location's credentials; another URL uses the
provider's default chain (workload identity). A URL carrying credentials is
refused.`,
		Example: "  neo4jctl backup copy graph/neo4j/20261207T020000Z-full-3f2a9c01 --to gs://dr-bucket/neo4j -f cluster.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if opts.To == "" {
				return usageErrorf(cmd, "--to URL is required")
			}
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, false, false)
	cmd.Flags().StringVar(&opts.To, "to", "", "destination bucket URL (s3://, gs://, azblob://, file:///)")
	return cmd
}

// Run copies.
func (o *BackupCopyOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, false, false)
	if err != nil {
		return err
	}
	cp, err := s.Copy(ctx, o.ID, o.To)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.IO.Out, "Copied %s to %s (sha256 %s checked at the destination).\n", o.ID, cp.URL, cp.SHA256)
	return err
}

// BackupDownloadOptions are the inputs of `neo4jctl backup download`.
type BackupDownloadOptions struct {
	BackupOptions
	ID, To string
}

// NewCmdBackupDownload writes one artifact, decrypted, to a file.
func NewCmdBackupDownload(f *Factory, runF func(*BackupDownloadOptions) error) *cobra.Command {
	opts := &BackupDownloadOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "download ID -o FILE -f CLUSTER_FILE",
		Short: "Download one backup, decrypted and digest-checked, to a file",
		Long: `Download writes one backup's artifact, as neo4j-admin wrote it, to FILE. The
plaintext is staged beside FILE and released to FILE only after the whole
object authenticated (a flipped byte, a truncated object or a wrong key
fail and leave no FILE) and both SHA-256 digests matched the catalogue. An
existing FILE is never overwritten.`,
		Example: "  neo4jctl backup download graph/neo4j/20261207T020000Z-full-3f2a9c01 -o neo4j.dump -f cluster.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if opts.To == "" {
				return usageErrorf(cmd, "-o FILE is required")
			}
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	cmd.Flags().StringVarP(&opts.To, "output", "o", "", "file to write the artifact to (must not exist)")
	return cmd
}

// Run downloads.
func (o *BackupDownloadOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, true, false)
	if err != nil {
		return err
	}
	e, err := s.Download(ctx, o.ID, o.To)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.IO.Out, "Downloaded %s to %s (%d bytes, sha256 %s).\n", e.ID, o.To, e.PlaintextSize, e.PlaintextSHA256)
	return err
}
