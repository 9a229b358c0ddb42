package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/views"
)

// BackupPruneOptions are the inputs of `neo4jctl backup prune`.
type BackupPruneOptions struct {
	BackupOptions
	Apply bool
}

// NewCmdBackupPrune shows, and with --apply carries out, the retention
// decision.
func NewCmdBackupPrune(f *Factory, runF func(*BackupPruneOptions) error) *cobra.Command {
	opts := &BackupPruneOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "prune -f CLUSTER_FILE [--apply]",
		Short: "Show which backups spec.backups.retention deletes; --apply deletes them",
		Long: `Prune applies spec.backups.retention (grandfather-father-son, per database,
chain-aware: a full is kept while a kept differential needs it, and the
newest verified backup is never deleted) to the catalogue and prints the
decision: every backup to delete and every one kept, each with its reason.

It is a dry run unless --apply is given; --apply prints the same decision,
then deletes exactly the backups it shows, differentials before the full
they depend on, each as: catalogue entry, artifact, copies.

Exit codes: 0 success, 1 error (a deletion that failed is reported; the
rest go on).`,
		Example: "  neo4jctl backup prune -f cluster.yaml\n  neo4jctl backup prune -f cluster.yaml --apply",
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
	cmd.Flags().BoolVar(&opts.Apply, "apply", false, "delete the backups shown (default: dry run)")
	return cmd
}

// Run plans, shows, and with --apply deletes.
func (o *BackupPruneOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, false, false)
	if err != nil {
		return err
	}
	plan, err := s.PlanPrune(ctx)
	if err != nil {
		return err
	}
	view, _ := views.NewBackupView(o.Output)
	doc := views.BackupPrune{DryRun: !o.Apply, Plan: plan}
	if !o.Apply || plan.Deletions() == 0 {
		return view.Prune(o.IO.Out, doc)
	}
	if o.Output != views.FormatJSON {
		// Shown before anything is deleted, exactly as a dry run shows it.
		dry := doc
		dry.DryRun = true
		if err := view.Prune(o.IO.ErrOut, dry); err != nil {
			return err
		}
	}
	n, applyErr := s.ApplyPrune(ctx, plan)
	doc.Deleted = n
	if err := view.Prune(o.IO.Out, doc); err != nil {
		return err
	}
	if applyErr != nil {
		return fmt.Errorf("prune: %d of %d deleted: %w", n, plan.Deletions(), applyErr)
	}
	return nil
}
