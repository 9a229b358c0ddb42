package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/ops"
)

// BackupVerifyOptions are the inputs of `neo4jctl backup verify`.
type BackupVerifyOptions struct {
	BackupOptions
	ID        string
	Latest    bool
	Database  string
	Local     bool
	Neo4jHome string
	// Admin replaces the neo4j-admin runner (tests of pure logic).
	Admin ops.AdminRunner
}

// NewCmdBackupVerify verifies one backup by restoring it into scratch.
func NewCmdBackupVerify(f *Factory, runF func(*BackupVerifyOptions) error) *cobra.Command {
	opts := &BackupVerifyOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "verify ID|--latest --local -f CLUSTER_FILE",
		Short: "Verify a backup by restoring it into a scratch store and checking it",
		Long: `Verify downloads one backup (decrypted, authenticated and digest-checked as
download does) into a scratch directory, loads it into a scratch store with
neo4j-admin database load, runs neo4j-admin database check, records the
result (passed or failed, duration, Neo4j version) in
the backup's catalogue entry, and removes the scratch directory.

--local runs the neo4j-admin of this machine: <--neo4j-home>/bin/neo4j-admin,
or the first neo4j-admin on PATH. The installation's own databases and
configuration are not used. Only dumps (Community) are verified locally for
now; an Enterprise online backup needs neo4j-admin database restore.

Exit status: 0 passed, 3 the backup failed verification (recorded), 1 the
verification could not run (nothing recorded).`,
		Example: "  neo4jctl backup verify --latest --local -f cluster.yaml\n  neo4jctl backup verify graph/neo4j/20261207T020000Z-full-3f2a9c01 --local --neo4j-home /opt/neo4j -f cluster.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			switch {
			case len(args) == 1 && opts.Latest:
				return usageErrorf(cmd, "give either ID or --latest, not both")
			case len(args) == 0 && !opts.Latest:
				return usageErrorf(cmd, "ID or --latest is required")
			case len(args) == 1 && opts.Database != "":
				return usageErrorf(cmd, "--database goes with --latest (an ID names its database)")
			case !opts.Local:
				return usageErrorf(cmd, "--local is required: verification in the cluster (a Job) is not built yet")
			}
			if len(args) == 1 {
				opts.ID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	cmd.Flags().BoolVar(&opts.Latest, "latest", false, "verify the newest backup (of --database when given)")
	cmd.Flags().StringVar(&opts.Database, "database", "", "with --latest: the database whose newest backup is verified")
	cmd.Flags().BoolVar(&opts.Local, "local", false, "run neo4j-admin on this machine")
	cmd.Flags().StringVar(&opts.Neo4jHome, "neo4j-home", "", "Neo4j installation whose bin/neo4j-admin runs (default: neo4j-admin on PATH)")
	return cmd
}

// Run verifies.
func (o *BackupVerifyOptions) Run(ctx context.Context) error {
	admin := o.Admin
	if admin == nil {
		p, err := ops.FindAdmin(o.Neo4jHome)
		if err != nil {
			return err
		}
		admin = ops.ExecAdmin(p)
	}
	s, err := o.session(ctx, true, false)
	if err != nil {
		return err
	}
	id := o.ID
	if o.Latest {
		if id, err = s.Latest(ctx, o.Database); err != nil {
			return err
		}
	}
	r, err := s.VerifyLocal(ctx, id, ops.VerifyOptions{Admin: admin})
	if err != nil {
		return err
	}
	v := r.Verification
	if _, err := fmt.Fprintf(o.IO.Out, "%s: verification %s in %s (%s, Neo4j %s): %s\n",
		r.Entry.ID, v.Result, v.Duration.Round(time.Millisecond), v.Method, v.Neo4jVersion, v.Message); err != nil {
		return err
	}
	if !r.Passed() {
		return &ExitCodeError{Code: ExitUnhealthy, Err: fmt.Errorf("%s failed verification (recorded in the catalogue)", r.Entry.ID)}
	}
	return nil
}
