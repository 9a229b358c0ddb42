package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

// DestroyOptions are the inputs of `neo4jctl destroy`.
type DestroyOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
	Output        string
	// AutoApprove skips the prompt of a destroy that keeps the data; it
	// never stands in for the typed name --delete-data needs.
	AutoApprove bool
	DeleteData  bool
	ConfirmName string
	// SkipBackup leaves out the backup-first step a cluster file with
	// spec.backups plans; the plan says so.
	SkipBackup bool
	// SecretsDir is where the Secrets spec.backups names are mounted, for
	// the backup-first step to read the catalogue (as backup create).
	SecretsDir  string
	DryRun      bool
	Lock        bool
	LockTimeout time.Duration
	QPS         float32
	Burst       int

	kube func() (destroyKube, error)
	// wrapKube lets a test interrupt destroy after a step.
	wrapKube func(lifecycle.DestroyKube) lifecycle.DestroyKube
	// backupKube is the client of the backup-first step (backup create
	// takes the concrete client).
	backupKube func() (*kube.Client, error)
}

// destroyKube is what destroy needs of the Kubernetes client.
type destroyKube interface {
	lifecycle.DestroyKube
	ObserveDestroy(ctx context.Context, desired []*unstructured.Unstructured, inv kube.InventoryRef) (kube.DestroyObservation, error)
	AcquireLock(ctx context.Context, ns, cluster, holder string, ttl, timeout time.Duration) (*kube.Lock, error)
}

// NewCmdDestroy deletes what neo4jctl applied for a cluster.
func NewCmdDestroy(f *Factory, runF func(*DestroyOptions) error) *cobra.Command {
	opts := &DestroyOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "destroy -f CLUSTER_FILE",
		Short: "Delete what neo4jctl applied for a cluster; the data is kept unless --delete-data",
		Long: `Destroy deletes exactly the objects neo4jctl applied for the cluster: the
members of its inventory (the ApplySet neo4jctl keeps) that neo4jctl wrote.
An object that only carries the cluster's labels, or that someone else
labelled into the set, is kept and listed.

It takes the cluster's apply lock (a Lease), shows the plan, asks, then
deletes in an order a rerun can finish: the StatefulSets first (the
servers stop), then Services, configuration and policies, then the claims
(only with --delete-data), and the inventory last. An interrupted destroy
is finished by running it again.

The claims (the servers' data) are kept unless --delete-data, which needs
the cluster's name typed at the prompt, or --confirm-name NAME when stdin
is not a terminal; --auto-approve never replaces it. Backups already taken
are never deleted.

With spec.backups, destroy first takes a full backup of every database, as
neo4jctl backup create does, and deletes nothing if it fails; --skip-backup
leaves it out, and the plan says so.

Exit codes: 0 destroyed (or nothing to destroy), 1 error, refused or
declined, 130 interrupted.`,
		Example: `  neo4jctl destroy -f cluster.yaml
  neo4jctl destroy -f cluster.yaml --dry-run -o json
  neo4jctl destroy -f cluster.yaml --delete-data --confirm-name prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if _, err := views.NewDestroyView(opts.Output, nil, false); err != nil {
				return usageErrorf(cmd, "-o: %v", err)
			}
			opts.FlagNamespace = flagNamespace(f)
			if opts.kube == nil {
				opts.kube = func() (destroyKube, error) {
					kc, err := kube.New(f.KubeFlags, kube.Options{QPS: opts.QPS, Burst: opts.Burst, UserAgent: "neo4jctl/" + f.Build.Version})
					if err != nil {
						return nil, err
					}
					return kc, nil
				}
			}
			if opts.backupKube == nil {
				opts.backupKube = func() (*kube.Client, error) {
					return kube.New(f.KubeFlags, kube.Options{QPS: opts.QPS, Burst: opts.Burst, UserAgent: "neo4jctl/" + f.Build.Version})
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "the cluster file")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format of the plan: human or json")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "destroy without asking (the data is kept; --delete-data still needs the name)")
	fl.BoolVar(&opts.DeleteData, "delete-data", false, "also delete the claims (the servers' data); needs the cluster's name typed, or --confirm-name")
	fl.StringVar(&opts.ConfirmName, "confirm-name", "", "the cluster's name, confirming the destroy when stdin is not a terminal")
	fl.BoolVar(&opts.SkipBackup, "skip-backup", false, "with spec.backups, destroy without the backup it takes first (the plan says so)")
	fl.StringVar(&opts.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "where the Secrets spec.backups names are mounted, for the backup-first step to read the catalogue (a Secret not there is read from the environment)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the destroy plan and delete nothing")
	fl.BoolVar(&opts.Lock, "lock", true, "hold the cluster's Lease while destroying")
	fl.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "how long to wait for another apply's lock before giving up")
	fl.Float32Var(&opts.QPS, "kube-qps", kube.DefaultQPS, "requests per second to the Kubernetes API server")
	fl.IntVar(&opts.Burst, "kube-burst", kube.DefaultBurst, "request burst to the Kubernetes API server")
	return cmd
}

// Run locks, plans, confirms and destroys.
func (o *DestroyOptions) Run(ctx context.Context) error {
	t, err := loadTarget(o.File, o.FlagNamespace, nil)
	if err != nil {
		return err
	}
	name := t.Cluster.Metadata.Name
	view, _ := views.NewDestroyView(o.Output, o.IO.ErrOut, o.IO.ColorEnabled())
	kc, err := o.kube()
	if err != nil {
		return err
	}
	runCtx, release, err := holdApplyLockIf(ctx, o.Lock && !o.DryRun, kc, t, o.LockTimeout, o.IO.ErrOut)
	if err != nil {
		return err
	}
	defer release()
	obs, err := kc.ObserveDestroy(runCtx, t.Objects, t.Inventory)
	if err != nil {
		return o.interrupted(ctx, runCtx, fmt.Errorf("%s: read the inventory: %w", t.Name(), err))
	}
	var verification []state.Object
	if c, ok := kc.(*kube.Client); ok {
		if verification, err = (&pipeline.Runner{Kube: c}).VerificationMembers(runCtx, t); err != nil {
			return o.interrupted(ctx, runCtx, err)
		}
	}
	p := lifecycle.ComputeDestroy(lifecycle.DestroyInput{
		Cluster: name, Namespace: t.Namespace, Observed: obs, DeleteData: o.DeleteData,
		Backups: t.Cluster.Spec.Backups != nil, SkipBackup: o.SkipBackup, Verification: verification,
	})
	if err := view.Plan(o.IO.Out, p); err != nil {
		return err
	}
	if len(p.Refusals) > 0 {
		r := p.Refusals[0]
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("destroy refused: %s (fix: %s); nothing was deleted", r.Reason, r.Fix)}
	}
	if o.DryRun || p.Empty() {
		return nil
	}
	if err := o.confirm(runCtx, p); err != nil {
		return o.interrupted(ctx, runCtx, err)
	}
	var dk lifecycle.DestroyKube = kc
	if o.wrapKube != nil {
		dk = o.wrapKube(dk)
	}
	d := &lifecycle.Destroyer{Kube: dk, Hook: view, Backup: o.backupFirst(t.Namespace)}
	err = d.Execute(runCtx, p)
	view.Done(p, err)
	if err != nil {
		return o.interrupted(ctx, runCtx, err)
	}
	return nil
}

// backupFirst is the plan's backup-first step: `neo4jctl backup create`
// run as a user runs it (a full backup of every database the schedule
// names, in a Job from the backup CronJob's template, followed to its
// catalogue entry). Its progress goes to stderr with destroy's; any
// failure — the Job failing, or no catalogue entry after it — is an
// error, and Destroyer.Execute stops before the first delete.
func (o *DestroyOptions) backupFirst(namespace string) func(context.Context) error {
	return func(ctx context.Context) error {
		io := *o.IO
		io.Out = o.IO.ErrOut // destroy's stdout is the plan; the stored entries are progress here
		b := &BackupCreateOptions{IO: &io, Kube: o.backupKube, Now: time.Now, File: o.File, FlagNamespace: namespace,
			Type: "full", Output: "human", SecretsDir: o.SecretsDir, Interval: time.Second}
		if err := b.Run(ctx); err != nil {
			return fmt.Errorf("the backup before destroy failed, nothing was deleted: %w (fix the backup and run destroy again, or destroy without it with --skip-backup)", err)
		}
		return nil
	}
}

func (o *DestroyOptions) interrupted(ctx, runCtx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: run destroy again to finish", errInterrupted)
	}
	if cause := context.Cause(runCtx); errors.Is(cause, kube.ErrLockLost) {
		return fmt.Errorf("%w; stopped destroying. Run destroy again to finish", cause)
	}
	return err
}

// errDestroyDeclined is returned when the typed answer is not the name.
var errDestroyDeclined = errors.New("destroy cancelled: the answer was not the cluster's name; nothing was deleted")

// confirm decides whether the destroy may go ahead. Deleting data needs
// the cluster's name: typed at a terminal, or --confirm-name without one;
// --auto-approve never stands in for it. A destroy that keeps the data
// also accepts --auto-approve.
func (o *DestroyOptions) confirm(ctx context.Context, p *lifecycle.DestroyPlan) error {
	if o.ConfirmName != "" {
		if o.ConfirmName != p.ConfirmName {
			return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("--confirm-name %q is not the cluster's name %q; nothing was deleted", o.ConfirmName, p.ConfirmName)}
		}
		return nil
	}
	if o.AutoApprove && !p.DeleteData {
		return nil
	}
	if !o.IO.IsStdinTTY() {
		if p.DeleteData {
			return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("--delete-data deletes the servers' data and needs the cluster's name: stdin is not a terminal, so pass --confirm-name %s (--auto-approve does not confirm it); nothing was deleted", p.ConfirmName)}
		}
		return &ExitCodeError{Code: ExitError, Err: errors.New("stdin is not a terminal, so destroy cannot ask for confirmation; pass --auto-approve, or --confirm-name NAME; nothing was deleted")}
	}
	w := o.IO.ErrOut
	if p.DeleteData {
		fmt.Fprintf(w, "\nThis deletes the data of cluster %s/%s: %d claims. It cannot be undone.\n", p.Namespace, p.Cluster, len(p.Claims))
	}
	fmt.Fprintf(w, "\nType the cluster's name (%s) to destroy it: ", p.ConfirmName)
	answer, err := readLine(ctx, o.IO.In)
	if err != nil {
		var ec *ExitCodeError
		if errors.As(err, &ec) {
			return &ExitCodeError{Code: ExitError, Err: errDestroyDeclined}
		}
		return err
	}
	if strings.TrimSpace(answer) != p.ConfirmName {
		return &ExitCodeError{Code: ExitError, Err: errDestroyDeclined}
	}
	return nil
}
