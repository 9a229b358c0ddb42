package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/backup/restore"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// RestoreOptions are the inputs of `neo4jctl restore`.
type RestoreOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
	Database      string
	From          string
	Latest        bool
	Until         string
	As            string
	// FromCluster is the source cluster file: restore its backups into
	// the -f cluster (DR into a new cluster, namespace or context).
	FromCluster string
	// FromCopy names the spec.backups.copies entry (URL or region) the
	// restore's Pods read instead of the primary storage.
	FromCopy string
	// ConfirmName confirms a replace without a terminal; AutoApprove a
	// create (never a replace).
	ConfirmName     string
	AutoApprove     bool
	DryRun          bool
	Output          string
	Lock            bool
	LockTimeout     time.Duration
	SecretsDir      string
	SkipHealthcheck bool
	Interval        time.Duration
	OnlineTimeout   time.Duration
	Now             func() time.Time
	cluster         clusterFlags

	f *Factory
	// Seams for tests: the catalogue's entries, and how the healthcheck
	// after a restore runs.
	entries     func(ctx context.Context, c *clusterfile.Cluster, database string) ([]catalog.Entry, error)
	healthcheck func(ctx context.Context) error
}

// NewCmdRestore restores a database from the backup catalogue.
func NewCmdRestore(f *Factory, runF func(*RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{IO: f.IO, f: f, Now: time.Now, Interval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "restore -f CLUSTER_FILE --database NAME --from ID|--latest|--until TIME [--as NEWNAME] [--from-cluster SOURCE_FILE] [--from-copy URL|REGION]",
		Short: "Restore a database from its backups (a plan first, then under the apply lock)",
		Long: `Restore brings a database back from the backups spec.backups catalogues.

It chooses the restore point first: --from ID, --latest, or --until TIME
(point-in-time recovery: the chain whose backups cover TIME, replayed with
neo4j-admin database restore --restore-until; without one, the newest whole
backup before TIME). A restore point is always a whole chain: a differential
whose full or an earlier link is missing is never used.

Then it prints a plan, like apply: what is stopped, replaced or created, the
artifacts replayed, and the data-loss window. Replacing a database needs its
name typed at the prompt, or --confirm-name NAME without a terminal;
--auto-approve confirms only a restore into a new name (--as). It runs under
the cluster's apply lock (the Lease apply, destroy and rotate share).

Community (standalone): the server is stopped (replicas 0), a Job mounting its
claim downloads and decrypts the dump and runs neo4j-admin database load
--overwrite-destination, and the server is started again and waited Ready.

Enterprise (cluster): a seed Pod downloads and decrypts the chain (replays and
dumps it when it is more than one full backup or is cut) and serves it over
HTTP inside the cluster, reachable only by the cluster's server Pods
(NetworkPolicy), for the duration of the restore. A new name is created with
CREATE DATABASE … OPTIONS {existingData: 'use', seedURI: …}; an existing
database is recreated with CALL dbms.cluster.recreateDatabase. A bad seed only
shows when the database starts, so restore waits until every allocation is
online, then runs healthcheck. Users and roles are not restored.

Into another cluster (disaster recovery into a new cluster file, namespace
or Kubernetes context): -f names the TARGET, the cluster restored into, and
--from-cluster the SOURCE cluster file whose backups are restored. The
target is where everything happens: --context, --kubeconfig and
--namespace select it, as for every other command, and it must have been
applied. The source is only read, from its bucket (its spec.backups): no
request goes to its namespace, its Kubernetes context or its Neo4j
servers, so it may be gone. The restore's Pods run in the target's
namespace and mount the Secrets the source's spec.backups names (keyset,
bucket credentials): the plan refuses when one is missing there.

--from-copy URL|REGION reads the artifacts from one of the source's
spec.backups.copies (by URL, or by the region= of its URL) instead of the
primary storage: only backups copied there with a checked digest are
restorable, and the restore's Pods mount only the copy's credentials and
the keyset. The catalogue is read from the copy too (each copy carries
the entries of the backups copied there): the primary storage is never
opened, so a restore works with the primary's region lost. A copy made
by a neo4jctl older than that has no entries: the restore says so, and
neo4jctl backup copy ID --to URL, rerun while the primary is reachable,
writes them.

Every step looks at what is there first: after a failure or Ctrl-C, the same
command continues where it stopped (docs/restore.md).

Exit codes: 0 restored and healthy, 1 error, refused or declined, 3 restored
but healthcheck failed, 130 interrupted.`,
		Example: `  neo4jctl restore -f cluster.yaml --database neo4j --latest
  neo4jctl restore -f cluster.yaml --database sales --until "2026-12-07 10:15:00" --as sales_1015
  neo4jctl restore -f cluster.yaml --database neo4j --from prod/neo4j/20261207T020000Z-full-3f2a9c01 --confirm-name neo4j
  neo4jctl restore -f dr.yaml --context dr-eu --from-cluster prod.yaml --from-copy eu-west-1 --database sales --latest --as sales --auto-approve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			opts.FlagNamespace = flagNamespace(f)
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "the cluster file (with spec.backups)")
	fl.StringVar(&opts.Database, "database", "", "the database whose backups are restored")
	fl.StringVar(&opts.From, "from", "", "restore this backup (an ID from `neo4jctl backup list`) with its chain")
	fl.BoolVar(&opts.Latest, "latest", false, "restore the newest restorable backup")
	fl.StringVar(&opts.Until, "until", "", `restore the data committed before this UTC time ("2006-01-02 15:04:05" or RFC 3339)`)
	fl.StringVar(&opts.As, "as", "", "restore into a new database of this name, leaving --database untouched (Enterprise)")
	fl.StringVar(&opts.FromCluster, "from-cluster", "", "the SOURCE cluster file whose backups are restored into the -f cluster (read from its bucket only; default: -f itself)")
	fl.StringVar(&opts.FromCopy, "from-copy", "", "read the artifacts from this spec.backups.copies entry of the source (its URL, or the region of its URL) instead of the primary storage")
	fl.StringVar(&opts.ConfirmName, "confirm-name", "", "the name of the database replaced, confirming the restore when stdin is not a terminal")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "restore into a new database (--as) without asking; a replace still needs the name")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the restore plan and change nothing")
	fl.StringVarP(&opts.Output, "output", "o", views.FormatHuman, "output format of the plan: human or json")
	fl.BoolVar(&opts.Lock, "lock", true, "hold the cluster's apply Lease while restoring")
	fl.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "how long to wait for another apply's lock before giving up")
	fl.StringVar(&opts.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "where the Secrets spec.backups names are mounted, to read the catalogue (a Secret not there is read from the environment)")
	fl.BoolVar(&opts.SkipHealthcheck, "skip-healthcheck", false, "do not run healthcheck after the restore")
	fl.DurationVar(&opts.OnlineTimeout, "online-timeout", 30*time.Minute, "how long a seeded database may take to be online on every allocation")
	opts.cluster.add(fl)
	cmd.AddCommand(newCmdRestoreServe(), newCmdRestoreFetch())
	return cmd
}

func (o *RestoreOptions) validate() error {
	var errs []string
	if o.File == "" {
		errs = append(errs, "-f CLUSTER_FILE is required")
	}
	if o.Database == "" {
		errs = append(errs, "--database is required")
	}
	if o.FromCluster == stdinFile {
		errs = append(errs, "--from-cluster -: name the source cluster file (stdin is not read)")
	}
	switch {
	case o.From != "" && (o.Latest || o.Until != ""):
		errs = append(errs, "--from names the restore point itself: give it without --latest or --until")
	case o.From == "" && !o.Latest && o.Until == "":
		errs = append(errs, "one of --from ID, --latest or --until TIME is required")
	}
	if o.As != "" {
		if err := neo4j.ValidateDatabaseName(o.As); err != nil {
			errs = append(errs, fmt.Sprintf("--as: %v", err))
		}
	}
	if o.Until != "" {
		if _, err := parseUntil(o.Until); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if o.Output != views.FormatHuman && o.Output != views.FormatJSON {
		errs = append(errs, fmt.Sprintf("-o must be human or json, got %q", o.Output))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// parseUntil reads --until: UTC "2006-01-02 15:04:05" (neo4j-admin's own
// form), or RFC 3339 with its zone.
func parseUntil(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf(`--until %q: want a UTC time "2006-01-02 15:04:05" or RFC 3339 ("2006-01-02T15:04:05Z")`, s)
}

// Run chooses the point, plans, confirms and restores.
func (o *RestoreOptions) Run(ctx context.Context) error {
	t, err := loadTarget(o.File, o.FlagNamespace, nil)
	if err != nil {
		return err
	}
	c := t.Cluster
	// The source: the target itself, or --from-cluster's file. Its
	// namespace is its own (-n selects the target), and nothing but its
	// bucket is ever read.
	src, srcNS, srcFile := c, t.Namespace, o.File
	if o.FromCluster != "" {
		st, err := loadTarget(o.FromCluster, "", nil)
		if err != nil {
			return err
		}
		src, srcNS, srcFile = st.Cluster, st.Namespace, o.FromCluster
	}
	if src.Spec.Backups == nil {
		return fmt.Errorf("%s has no spec.backups: there is no catalogue to restore from (docs/backups.md)", srcFile)
	}
	req := restore.Request{Cluster: src.Metadata.Name, Database: o.Database, ID: o.From, Latest: o.Latest && o.Until == ""}
	if o.Until != "" {
		req.Until, _ = parseUntil(o.Until)
	}
	var copyLoc *clusterfile.BackupLocation
	if o.FromCopy != "" {
		loc, err := restore.ResolveCopy(src.Spec.Backups, o.FromCopy)
		if err != nil {
			return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%s: %w; nothing was changed", srcFile, err)}
		}
		copyLoc, req.Location = &loc, restore.LocationURL(loc.URL)
	}
	entries := o.entries
	if entries == nil {
		entries = o.catalogue
	}
	// From a copy, the catalogue is the copy's own (its storage is the
	// copy, restore.FetchBackups): the primary, perhaps the region lost,
	// is never opened.
	catSrc := copySource(src, copyLoc)
	es, err := entries(ctx, catSrc, o.Database)
	if err != nil {
		return fmt.Errorf("read the backup catalogue in %s: %w", restore.LocationURL(catSrc.Spec.Backups.Storage.URL), err)
	}
	point, err := restore.Select(es, req)
	if err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%w; nothing was changed", err)}
	}

	view, _ := views.NewRestoreView(o.Output, o.IO.ErrOut, o.IO.ColorEnabled())
	kc, err := o.cluster.kubeClient(o.f)
	if err != nil {
		return err
	}
	runCtx, release, err := holdApplyLockIf(ctx, o.Lock && !o.DryRun, kc, t, o.LockTimeout, o.IO.ErrOut)
	if err != nil {
		return err
	}
	defer release()

	fetch := restore.FetchBackups(src.Spec.Backups, copyLoc)
	in := restore.Input{Cluster: c, Namespace: t.Namespace, Context: kubeContextName(o.f), Database: o.Database, As: o.As, Point: point, Until: req.Until, Now: o.Now(),
		Backups: fetch}
	if o.FromCluster != "" {
		in.Source = restore.Source{Cluster: src.Metadata.Name, Namespace: srcNS, File: o.FromCluster}
	}
	if o.FromCluster != "" || copyLoc != nil {
		// The Pods mount Secrets the target's own backups may not name.
		if in.MissingSecrets, err = missingSecrets(runCtx, kc, t.Namespace, fetch); err != nil {
			return o.interrupted(ctx, runCtx, err)
		}
	}
	var n4j restore.Neo4j
	if c.Spec.Edition == clusterfile.EditionCommunity {
		sts := renderedStatefulSet(t)
		if sts == nil {
			return fmt.Errorf("%s: the cluster file renders no StatefulSet", o.File)
		}
		in.Replicas = 1
		if sts.Spec.Replicas != nil {
			in.Replicas = *sts.Spec.Replicas
		}
		if pr := sts.Spec.PersistentVolumeClaimRetentionPolicy; pr != nil && pr.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			in.ClaimsDeletedOnScaleDown = true
		}
		_, found, err := kc.StatefulSetReplicas(runCtx, t.Namespace, sts.Name)
		if err != nil {
			return o.interrupted(ctx, runCtx, err)
		}
		in.IntoExists = found
	} else {
		acc, err := o.cluster.neo4jAccess(o.IO.ErrOut)
		if err != nil {
			return err
		}
		client, closeFn, err := acc.Connect(runCtx, kc, t)
		if err != nil {
			return o.interrupted(ctx, runCtx, fmt.Errorf("%s: connect to Neo4j: %w", t.Name(), err))
		}
		defer closeFn()
		n4j = client
		dbs, err := client.Databases(runCtx)
		if err != nil {
			return o.interrupted(ctx, runCtx, fmt.Errorf("%s: SHOW DATABASES: %w", t.Name(), err))
		}
		into := o.As
		if into == "" {
			into = o.Database
		}
		for _, d := range dbs {
			if d.Name == into {
				in.IntoExists = true
			}
			if d.Name == o.Database && in.Primaries == 0 {
				in.Primaries, in.Secondaries = int(d.RequestedPrimaries), int(d.RequestedSecondaries)
			}
		}
	}
	p := restore.Compute(in)
	if err := view.Plan(o.IO.Out, p); err != nil {
		return err
	}
	if len(p.Refusals) > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("restore refused: %s; nothing was changed", strings.Join(p.Refusals, "; "))}
	}
	if o.DryRun {
		return nil
	}
	if err := o.confirm(runCtx, p); err != nil {
		return o.interrupted(ctx, runCtx, err)
	}
	// The fetch containers read the source's backups: its cluster file's
	// name (the catalogue's) and the bucket they are to read.
	fetchSrc := *src
	fetchSrc.Spec.Backups = fetch
	agentFile, err := agentClusterFile(&fetchSrc, srcNS)
	if err != nil {
		return err
	}
	objs, err := restore.Build(c, p, agentFile)
	if err != nil {
		return err
	}
	x := &restore.Executor{Kube: kc, Neo4j: n4j, Hook: view, Objects: objs, Interval: o.Interval, OnlineTimeout: o.OnlineTimeout}
	start := time.Now()
	err = x.Execute(runCtx, p)
	view.Done(p, time.Since(start), err)
	if err != nil {
		return o.interrupted(ctx, runCtx, err)
	}
	if o.SkipHealthcheck {
		return nil
	}
	hc := o.healthcheck
	if hc == nil {
		hc = o.runHealthcheck
	}
	return hc(runCtx)
}

// renderedStatefulSet is the main pool's StatefulSet as rendered.
func renderedStatefulSet(t *pipeline.Target) *appsv1.StatefulSet {
	name := manifests.StatefulSetName(t.Cluster, "")
	for _, u := range t.Objects {
		if u.GetKind() != "StatefulSet" || u.GetName() != name {
			continue
		}
		var sts appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &sts); err != nil {
			return nil
		}
		return &sts
	}
	return nil
}

// agentClusterFile is the cluster file the restore Pods' fetch
// containers read: the backup ConfigMap's, rendered for this cluster.
func agentClusterFile(c *clusterfile.Cluster, ns string) (string, error) {
	objs, err := manifests.BackupSupport(c, ns)
	if err != nil {
		return "", err
	}
	for _, obj := range objs {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			for _, v := range cm.Data {
				return v, nil
			}
		}
	}
	return "", errors.New("render: no backup cluster file")
}

// missingSecrets returns the Secrets of b (those the restore's Pods
// mount) that namespace ns lacks. Only their metadata is read: LiveObjects
// returns a Secret without its data. A Secret that cannot be read (RBAC)
// is not reported missing: the Pods may still mount it.
func missingSecrets(ctx context.Context, kc *kube.Client, ns string, b *clusterfile.Backups) ([]string, error) {
	names := restore.Secrets(b)
	var want []*unstructured.Unstructured
	for _, n := range names {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Secret")
		u.SetName(n)
		u.SetNamespace(ns)
		want = append(want, u)
	}
	got, errs := kc.LiveObjects(ctx, want, ns)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	found := map[string]bool{}
	for _, u := range got {
		found[u.GetName()] = true
	}
	var missing []string
	for _, n := range names {
		if !found[n] && errs["Secret/"+n] == nil {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// kubeContextName is the Kubernetes context the command acts in (the
// target's): --context, else the kubeconfig's current context; "" when
// unknown (in-cluster).
func kubeContextName(f *Factory) string {
	if f == nil || f.KubeFlags == nil {
		return ""
	}
	if c := f.KubeFlags.Context; c != nil && *c != "" {
		return *c
	}
	raw, err := f.KubeFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	return raw.CurrentContext
}

// catalogue lists db's entries in the storage of c's spec.backups: the
// primary's catalogue, or a copy's (copySource) — ListCopy then names
// the fix for a copy written before copies carried their entries.
func (o *RestoreOptions) catalogue(ctx context.Context, c *clusterfile.Cluster, db string) ([]catalog.Entry, error) {
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, Log: io.Discard})
	if err != nil {
		return nil, err
	}
	if o.FromCopy != "" {
		return s.ListCopy(ctx, db)
	}
	return s.List(ctx, db)
}

// copySource is src with the copy loc as its only storage (nil: src):
// what a restore or drill from a copy opens, for the catalogue and the
// artifacts alike.
func copySource(src *clusterfile.Cluster, loc *clusterfile.BackupLocation) *clusterfile.Cluster {
	if loc == nil {
		return src
	}
	c := *src
	c.Spec.Backups = restore.FetchBackups(src.Spec.Backups, loc)
	return &c
}

func (o *RestoreOptions) runHealthcheck(ctx context.Context) error {
	io := *o.IO
	if o.Output == views.FormatJSON {
		io.Out = o.IO.ErrOut // stdout holds the plan document
	}
	h := &HealthcheckOptions{IO: &io, Files: []string{o.File}, FlagNamespace: o.FlagNamespace, Output: views.FormatHuman,
		Recheck: 5 * time.Second, StatusCheckTimeout: time.Second, VolumeStats: "off", BackupSecretsDir: o.SecretsDir,
		cluster: o.cluster, now: time.Now}
	h.runner = func() (*pipeline.Runner, error) { return newRunner(o.f, &h.cluster) }
	fmt.Fprintln(o.IO.ErrOut, "\nhealthcheck:")
	return h.Run(ctx)
}

func (o *RestoreOptions) interrupted(ctx, runCtx context.Context, err error) error {
	if ctx.Err() != nil {
		msg := "run the same restore again to continue (it converges)"
		var se *restore.StateError
		if errors.As(err, &se) {
			msg = "stopped at " + string(se.Step.Kind) + " " + se.Step.Address + ". State: " + se.State
		}
		return fmt.Errorf("%w: %s", errInterrupted, msg)
	}
	if cause := context.Cause(runCtx); errors.Is(cause, kube.ErrLockLost) {
		return fmt.Errorf("%w; stopped restoring: %v. Run the same restore again to continue", cause, err)
	}
	return err
}

// errRestoreDeclined is returned when the typed answer is not the name.
var errRestoreDeclined = errors.New("restore cancelled: the answer was not the database's name; nothing was changed")

// confirm decides whether the restore may go ahead: a replace needs the
// database's name, typed at a terminal or given with --confirm-name;
// --auto-approve confirms only a create.
func (o *RestoreOptions) confirm(ctx context.Context, p *restore.Plan) error {
	if p.Action == restore.ActionReplace {
		if o.ConfirmName != "" {
			if o.ConfirmName != p.ConfirmName {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("--confirm-name %q is not the name of the database replaced (%q); nothing was changed", o.ConfirmName, p.ConfirmName)}
			}
			return nil
		}
		if !o.IO.IsStdinTTY() {
			return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("the restore replaces the data of %s and needs its name: stdin is not a terminal, so pass --confirm-name %s (--auto-approve does not confirm a replace); nothing was changed", p.ConfirmName, p.ConfirmName)}
		}
		fmt.Fprintf(o.IO.ErrOut, "\nThis replaces the data of %s. %s\n  Type the database's name (%s) to restore: ", p.Into, p.Window.Description, p.ConfirmName)
		return o.ask(ctx, p.ConfirmName)
	}
	if o.AutoApprove || o.ConfirmName == p.Into {
		return nil
	}
	if !o.IO.IsStdinTTY() {
		return &ExitCodeError{Code: ExitError, Err: errors.New("stdin is not a terminal, so restore cannot ask for confirmation; pass --auto-approve (or --confirm-name with the new name); nothing was changed")}
	}
	fmt.Fprintf(o.IO.ErrOut, "\nType yes to create %s from the backup: ", p.Into)
	return o.ask(ctx, "yes")
}

func (o *RestoreOptions) ask(ctx context.Context, want string) error {
	answer, err := readLine(ctx, o.IO.In)
	if err != nil {
		var ec *ExitCodeError
		if errors.As(err, &ec) {
			return &ExitCodeError{Code: ExitError, Err: errRestoreDeclined}
		}
		return err
	}
	if strings.TrimSpace(answer) != want {
		return &ExitCodeError{Code: ExitError, Err: errRestoreDeclined}
	}
	return nil
}

// newCmdRestoreServe is the seed server the restore's seed Pod runs.
func newCmdRestoreServe() *cobra.Command {
	var dir, file, listen string
	cmd := &cobra.Command{
		Use:    "serve --dir DIR --file NAME --listen ADDR",
		Short:  "Serve a restore's seed over HTTP (run by the seed Pod)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			return restore.Serve(cmd.Context(), l, dir, file)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", restore.WorkDir, "directory holding the seed")
	cmd.Flags().StringVar(&file, "file", "", "the seed's file name (the only file served)")
	cmd.Flags().StringVar(&listen, "listen", fmt.Sprintf(":%d", restore.SeedPort), "address to listen on")
	return cmd
}

// newCmdRestoreFetch is the fetch container of a restore from a copy: it
// downloads one artifact, decrypted and digest-checked, from the bucket
// the cluster file names as its storage (the copy, restore.FetchBackups),
// with the catalogue entry the plan read (restore.EntryFile): a copy
// bucket holds no catalogue.
func newCmdRestoreFetch() *cobra.Command {
	var entryFile, out, file, secretsDir string
	cmd := &cobra.Command{
		Use:    "fetch --entry ENTRY_FILE -o FILE -f CLUSTER_FILE",
		Short:  "Download one artifact of a restore from a copy bucket (run by the restore's Pods)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return restoreFetch(cmd.Context(), entryFile, out, file, secretsDir, cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&entryFile, "entry", "", "the catalogue entry of the artifact (JSON)")
	fl.StringVarP(&out, "output", "o", "", "where to write the decrypted artifact (must not exist)")
	fl.StringVarP(&file, "filename", "f", "", "the cluster file whose spec.backups.storage is the bucket read")
	fl.StringVar(&secretsDir, "secrets-dir", ops.DefaultSecretsDir, "where the Secrets spec.backups names are mounted")
	return cmd
}

func restoreFetch(ctx context.Context, entryFile, out, file, secretsDir string, log io.Writer) error {
	if entryFile == "" || out == "" || file == "" {
		return errors.New("restore fetch: --entry, -o and -f are required")
	}
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(entryFile)
	if err != nil {
		return err
	}
	var e catalog.Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("%s: %w", entryFile, err)
	}
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: secretsDir, NeedKeys: true, Log: log})
	if err != nil {
		return err
	}
	if e.Cluster != s.Cluster {
		return fmt.Errorf("%s is a backup of cluster %s, the cluster file is %s's", e.ID, e.Cluster, s.Cluster)
	}
	cp, ok := restore.CopyIn(e, s.Storage.URL())
	if !ok {
		return fmt.Errorf("%s has no copy with a checked digest in %s", e.ID, s.Storage.URL())
	}
	return s.DownloadEntry(ctx, e, cp.Object, out)
}
