package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/backup/lock"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Files the lock holder writes for the other containers of a backup Pod.
const (
	lockHeldFile    = "lock.held"
	lockRefusedFile = "lock.refused"
)

// BackupLockOptions are `neo4jctl backup lock`'s.
type BackupLockOptions struct {
	BackupOptions
	Databases []string
	TTL       time.Duration
	// StateDir receives lock.held once every lock is taken, or
	// lock.refused with the reason; neo4j-admin waits for one of them.
	StateDir string
	// CleanChains is the chain directory: once the locks are held (no
	// other run uses it), the chains a newer full superseded and whose
	// artifacts are all catalogued are deleted from it
	// (supersededChainFiles), before neo4j-admin starts.
	CleanChains string
}

// NewCmdBackupLock is `neo4jctl backup lock`: it takes the bucket locks
// of a backup run's databases and holds them until it is stopped, then
// releases them. The backup Pods run it as a native sidecar (an init
// container that keeps running), so the locks cover neo4j-admin and the
// agent both, and the kubelet's SIGTERM after the agent exits releases
// them.
func NewCmdBackupLock(f *Factory, runF func(*BackupLockOptions) error) *cobra.Command {
	opts := &BackupLockOptions{BackupOptions: newBackupOptions(f), TTL: manifests.BackupLockTTL}
	cmd := &cobra.Command{
		Use:   "lock -f CLUSTER_FILE --database NAME... --state-dir DIR",
		Short: "Hold the bucket locks of a backup run until stopped (run by the backup Pods)",
		Long: `Lock takes the per-database lock of each --database in spec.backups.storage
(locks/<cluster>/<database>/, written create-if-absent, with an expiry: --ttl),
writes DIR/lock.held, and holds the locks until it receives SIGTERM or SIGINT,
then releases them. When another run holds one, it releases what it took,
writes DIR/lock.refused with the holder, and waits to be stopped: the backup
Pod's neo4j-admin container sees the file and fails the run.

The default --ttl exceeds the backup Job's activeDeadlineSeconds, so the lock
cannot expire under a running Job: the Job controller stops the run first.`,
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if len(opts.Databases) == 0 || opts.StateDir == "" || opts.TTL <= 0 {
				return usageErrorf(cmd, "--database, --state-dir and a positive --ttl are required")
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, false, false)
	cmd.Flags().StringArrayVar(&opts.Databases, "database", nil, `database of the run (repeatable); "*" is the lock of all-database runs`)
	cmd.Flags().DurationVar(&opts.TTL, "ttl", opts.TTL, "expiry of the locks")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", "", "directory shared with the Pod's other containers")
	cmd.Flags().StringVar(&opts.CleanChains, "clean-chains", "", "chain directory to clean of superseded, fully uploaded chains once the locks are held")
	return cmd
}

// Run takes the locks, holds them until ctx ends, and releases them.
func (o *BackupLockOptions) Run(ctx context.Context) error {
	s, err := o.session(ctx, false, false)
	if err != nil {
		return err
	}
	store := lock.OverBucket(s.Storage, "")
	var held []*lock.Lock
	release := func() {
		// The Pod is stopping: a short budget of its own, not ctx's.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		for _, l := range held {
			if err := l.Release(rctx); err != nil {
				fmt.Fprintf(o.IO.ErrOut, "lock: release %s: %v (it expires at %s)\n", l.Database, err, l.Expires.Format(time.RFC3339))
			} else {
				fmt.Fprintf(o.IO.ErrOut, "lock: released %s\n", l.Database)
			}
		}
	}
	for _, db := range o.Databases {
		l, err := lock.Acquire(ctx, store, s.Cluster, db, o.TTL)
		if err != nil {
			release()
			var h *lock.HeldError
			if !errors.As(err, &h) {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "lock: refused: %v\n", err)
			if werr := os.WriteFile(filepath.Join(o.StateDir, lockRefusedFile), []byte(err.Error()+"\n"), 0o644); werr != nil {
				return werr
			}
			// Exiting would restart a sidecar; the run fails through
			// neo4j-admin's container instead, and the Pod stops this one.
			<-ctx.Done()
			return nil
		}
		held = append(held, l)
		fmt.Fprintf(o.IO.ErrOut, "lock: holding %s/%s until %s (generation %d)\n", s.Cluster, db, l.Expires.Format(time.RFC3339), l.Generation)
	}
	if o.CleanChains != "" {
		o.cleanChains(ctx, s.List)
	}
	if err := os.WriteFile(filepath.Join(o.StateDir, lockHeldFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		release()
		return err
	}
	<-ctx.Done()
	release()
	return nil
}

// cleanChains deletes from the chain directory the superseded chains of
// the run's databases whose artifacts are all catalogued. It only logs
// what it could not do: a chain left behind costs space, not a backup.
func (o *BackupLockOptions) cleanChains(ctx context.Context, list func(ctx context.Context, database string) ([]catalog.Entry, error)) {
	entries, err := list(ctx, "")
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "lock: chains not cleaned: read the catalogue: %v\n", err)
		return
	}
	dirents, err := os.ReadDir(o.CleanChains)
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "lock: chains not cleaned: %v\n", err)
		return
	}
	var files []string
	for _, d := range dirents {
		if !d.IsDir() {
			files = append(files, d.Name())
		}
	}
	for _, f := range supersededChainFiles(entries, files) {
		n, err := inspect.ParseName(f)
		if err != nil || !o.covers(n.Database) {
			continue
		}
		if err := os.Remove(filepath.Join(o.CleanChains, f)); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "lock: keep %s: %v\n", f, err)
			continue
		}
		fmt.Fprintf(o.IO.ErrOut, "lock: removed %s (its chain is uploaded and superseded by a newer full)\n", f)
	}
}

// covers says whether the run's --database arguments include db.
func (o *BackupLockOptions) covers(db string) bool {
	for _, d := range o.Databases {
		if ok, _ := path.Match(d, db); ok || d == db {
			return true
		}
	}
	return false
}
