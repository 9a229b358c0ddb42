package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// BackupCreateOptions are `neo4jctl backup create`'s.
type BackupCreateOptions struct {
	IO            *iostreams.IOStreams
	Kube          func() (*kube.Client, error)
	Now           func() time.Time
	File          string
	FlagNamespace string
	Database      string
	Type          string
	Output        string
	SecretsDir    string
	// Interval between two looks at the Job (default 1 s).
	Interval time.Duration
	// Entries lists the cluster's catalogue entries, to show what the
	// Job stored (default: the bucket of spec.backups through
	// backup/ops, credentials from SecretsDir or the environment).
	Entries func(ctx context.Context, c *clusterfile.Cluster, database string) ([]catalog.Entry, error)

	// Offline takes a Community dump: the server is stopped for it
	// (runOffline).
	Offline bool
	// AutoApprove skips the offline plan's confirmation (required
	// without a terminal). Command line only.
	AutoApprove bool
	// LockTimeout is how long to wait for the apply Lease.
	LockTimeout time.Duration
	// ReadyTimeout bounds each wait for the server: gone, then Ready
	// again (default 10 min).
	ReadyTimeout time.Duration
	// LockHeld says the caller (destroy) already holds the apply Lease
	// for this cluster; the offline dump then runs under it.
	LockHeld bool
}

// NewCmdBackupCreate is `neo4jctl backup create`: a one-off backup Job
// from the schedule's template, followed to its catalogue entry.
func NewCmdBackupCreate(f *Factory, runF func(*BackupCreateOptions) error) *cobra.Command {
	opts := &BackupCreateOptions{IO: f.IO, Now: time.Now, Interval: time.Second, SecretsDir: ops.DefaultSecretsDir}
	cmd := &cobra.Command{
		Use:   "create -f CLUSTER_FILE [--database NAME] [--type full|diff]",
		Short: "Take a backup now, in a Job made from the backup CronJob's template",
		Long: `Create runs one backup now: a Job made from the same template as the
cluster's backup CronJobs (as kubectl create job --from=cronjob/… does; without
a schedule, from the same template code), and follows it — Pod phases, container
states and events — to the catalogue entry the agent wrote.

Ctrl-C stops following, not the backup: the Job keeps running, and create prints
how to follow it with kubectl. A differential backup extends the chain kept on
the chain volume; without one, neo4j-admin takes a full backup and the catalogue
records it as such.

Neo4j Community has no online backup: --offline (implied for Community) shows
its plan and asks first, then, holding the cluster's apply Lease (which apply,
destroy, rotate and watch's enforce mode take too), scales the StatefulSet to 0,
runs neo4j-admin database dump on the server's data claim in a Job whose agent
container stores the dump, scales back and waits for the server to be Ready. The
server is down meanwhile. Ctrl-C or a failure at any point stops the dump Job,
restores the replicas and says what state the data is in (a dump only reads it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Kube = func() (*kube.Client, error) {
				return kube.New(f.KubeFlags, kube.Options{QPS: kube.DefaultQPS, Burst: kube.DefaultBurst, UserAgent: "neo4jctl/" + f.Build.Version})
			}
			if ns := f.KubeFlags.Namespace; ns != nil {
				opts.FlagNamespace = *ns
			}
			if err := opts.Validate(); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "cluster file with spec.backups")
	fl.StringVar(&opts.Database, "database", "", `back up only this database (default: spec.backups.schedule.databases, else every database)`)
	fl.StringVar(&opts.Type, "type", "full", "full, or diff to extend the current chain")
	fl.StringVarP(&opts.Output, "output", "o", "human", "output format of the result: human or json")
	fl.BoolVar(&opts.Offline, "offline", false, "Community: stop the server, dump with neo4j-admin database dump, store the dump, start the server again (asks first)")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "with --offline: stop the server without asking (required when stdin is not a terminal)")
	fl.DurationVar(&opts.LockTimeout, "lock-timeout", time.Minute, "with --offline: how long to wait for the cluster's apply Lease")
	fl.StringVar(&opts.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "where the Secrets spec.backups names are mounted, to read the catalogue (a Secret not there is read from the environment)")
	return cmd
}

// Validate checks the flags.
func (o *BackupCreateOptions) Validate() error {
	if o.File == "" {
		return errors.New("-f CLUSTER_FILE is required")
	}
	switch strings.ToLower(o.Type) {
	case "full", "diff":
	default:
		return fmt.Errorf("--type must be full or diff, got %q", o.Type)
	}
	if o.Output != "human" && o.Output != "json" {
		return fmt.Errorf("-o must be human or json, got %q", o.Output)
	}
	if o.Offline && strings.EqualFold(o.Type, "diff") {
		return errors.New("--offline takes a dump, which is always full: drop --type diff")
	}
	if d := o.Database; d != "" && (strings.ContainsAny(d, " /\"'*") || len(d) > 63) {
		return fmt.Errorf("--database %q is not a database name", d)
	}
	return nil
}

// Run creates the Job, follows it, and prints what it stored.
func (o *BackupCreateOptions) Run(ctx context.Context) error {
	c, ns, err := loadBackupCluster(o.File, o.FlagNamespace)
	if err != nil {
		return err
	}
	if c.Spec.Edition == clusterfile.EditionCommunity || o.Offline {
		return o.runOffline(ctx, c, ns)
	}
	typ := manifests.BackupFull
	if strings.EqualFold(o.Type, "diff") {
		typ = manifests.BackupDiff
	}
	var dbs []string
	if o.Database != "" {
		dbs = []string{o.Database}
	}
	start := o.Now()
	job, err := manifests.BackupJob(c, ns, typ, dbs, start)
	if err != nil {
		return err
	}
	kc, err := o.Kube()
	if err != nil {
		return err
	}
	if err := requireBackupServiceAccount(ctx, kc, c, ns, o.File, "the backup ServiceAccount, cluster file and chain volume"); err != nil {
		return err
	}
	from := "ad hoc (no schedule of this type): the template code of the backup CronJobs"
	cronName := manifests.BackupCronJobName(c, typ)
	cj, err := kc.CronJob(ctx, ns, cronName)
	if err != nil {
		return err
	}
	if cj != nil {
		// As kubectl create job --from=cronjob: the CronJob owns the
		// Job, so its history limits and deletion cover it.
		job.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr.To(true),
		}}
		from = "the template of CronJob " + cj.Name
	}
	created, err := kc.CreateJob(ctx, job)
	if err != nil {
		return err
	}
	what := strings.Join(dbsOrSchedule(c, dbs), ", ")
	fmt.Fprintf(o.IO.ErrOut, "job/%s created in %s: %s backup of %s, from %s\n", created.Name, ns, typ, what, from)

	report := func(line string) {
		fmt.Fprintf(o.IO.ErrOut, "%s  %s\n", o.Now().Format("15:04:05"), line)
	}
	out, err := kc.FollowJob(ctx, ns, created.Name, o.Interval, report)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(o.IO.ErrOut, "\nStopped following; job/%s keeps running. Follow it with:\n  kubectl -n %s logs -f job/%s --all-containers\n  kubectl -n %s get job %s -w\nthen `neo4jctl backup list -f %s` shows what it stored.\n",
				created.Name, ns, created.Name, ns, created.Name, o.File)
			return errInterrupted
		}
		return err
	}
	if !out.Succeeded {
		return fmt.Errorf("backup job/%s failed (%s: %s); see why with: kubectl -n %s logs job/%s --all-containers", created.Name, out.Reason, out.Message, ns, created.Name)
	}
	report(fmt.Sprintf("job/%s complete", created.Name))

	entries := o.Entries
	if entries == nil {
		entries = o.catalogue
	}
	var stored []catalog.Entry
	for _, db := range dbsOrEmpty(dbs) {
		es, err := entries(ctx, c, db)
		if err != nil {
			return fmt.Errorf("the backup Job succeeded, but the catalogue could not be read: %w; run `neo4jctl backup list -f %s` where the storage credentials are", err, o.File)
		}
		for _, e := range es {
			// The agent stores each artifact once, created (neo4j-admin's
			// time) after the Job was.
			if !e.Created.Before(start.Add(-time.Minute)) {
				stored = append(stored, e)
			}
		}
	}
	if len(stored) == 0 {
		return fmt.Errorf("the backup Job succeeded but the catalogue has no entry since %s: see the agent's log with kubectl -n %s logs job/%s -c agent", start.UTC().Format(time.RFC3339), ns, created.Name)
	}
	catalog.SortEntries(stored)
	return o.print(stored)
}

func (o *BackupCreateOptions) print(es []catalog.Entry) error {
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"stored": es})
	}
	for _, e := range es {
		line := fmt.Sprintf("%s  %s  %s", e.ID, e.Database, e.Type)
		if e.FellBack() {
			line += " (DIFF asked: neo4j-admin found no chain to extend)"
		}
		fmt.Fprintf(o.IO.Out, "%s  chain %s\n", line, e.ChainID)
	}
	return nil
}

// catalogue reads the catalogue with the cluster file's storage.
func (o *BackupCreateOptions) catalogue(ctx context.Context, c *clusterfile.Cluster, db string) ([]catalog.Entry, error) {
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, Log: io.Discard})
	if err != nil {
		return nil, err
	}
	return s.List(ctx, db)
}

func dbsOrSchedule(c *clusterfile.Cluster, dbs []string) []string {
	if len(dbs) > 0 {
		return dbs
	}
	if s := c.Spec.Backups.Schedule; s != nil && len(s.Databases) > 0 {
		return s.Databases
	}
	return []string{clusterfile.DefaultBackupDatabases}
}

// dbsOrEmpty is the catalogue filter: one database, or "" for all.
func dbsOrEmpty(dbs []string) []string {
	if len(dbs) == 0 {
		return []string{""}
	}
	return dbs
}

// requireBackupServiceAccount refuses a backup Job before anything is
// created when the backup ServiceAccount is missing: the Job runs as it,
// with the agent's cluster file, and apply creates both from spec.backups
// (creates says what that apply creates for this kind of backup).
func requireBackupServiceAccount(ctx context.Context, kc *kube.Client, c *clusterfile.Cluster, ns, file, creates string) error {
	name := manifests.BackupServiceAccountName(c)
	ok, err := kc.ServiceAccountExists(ctx, ns, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("ServiceAccount %s/%s is missing: run `neo4jctl apply -f %s` first, which creates %s", ns, name, file, creates)
	}
	return nil
}

// loadBackupCluster loads a cluster file for a command that runs backup
// objects in its namespace (the --namespace flag, else the file's), and
// refuses a file without spec.backups.
func loadBackupCluster(file, flagNamespace string) (*clusterfile.Cluster, string, error) {
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		return nil, "", err
	}
	ns, err := c.Namespace(flagNamespace)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	if c.Spec.Backups == nil {
		return nil, "", fmt.Errorf("%s: the cluster file has no spec.backups (docs/backups.md)", file)
	}
	return c, ns, nil
}
