package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/drill"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// DrillLabel marks a namespace neo4jctl created for a DR drill; its value
// is the cluster drilled. A drill reuses or deletes only a namespace
// carrying it.
const DrillLabel = "neo4jctl.io/dr-drill"

// kwokNodeAnnotation is on the nodes of a kwok control plane: their Pods
// run no containers, so what such a Pod "does" is stood in for.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// DrillOptions are the inputs of `neo4jctl dr drill`.
type DrillOptions struct {
	IO            *iostreams.IOStreams
	File          string
	Scratch       string
	Output        string
	SecretsDir    string
	StepTimeout   time.Duration
	OnlineTimeout time.Duration
	Interval      time.Duration
	// NoRecord leaves the drill out of the catalogue (a rehearsal whose
	// result status, healthcheck and watch should not show).
	NoRecord bool
	// InNamespace drills in the standing drill namespace (dr_innamespace.go).
	InNamespace bool
	// SecretsNamespace reads spec.backups' Secrets from there by API.
	SecretsNamespace string
	// FromCopy reads the backups from this spec.backups.copies entry
	// (URL or region) instead of the primary storage (cmd/drcopy.go).
	FromCopy string
	// ToContext runs the scratch cluster in this kubeconfig context
	// (cmd/drcopy.go); Secrets are still read in the cluster's own.
	ToContext string
	cluster   clusterFlags
	getenv    func(string) string

	f *Factory
	// entries reads the catalogue (a seam for tests that write it).
	entries func(ctx context.Context, c *clusterfile.Cluster) ([]catalog.Entry, error)
	now     func() time.Time
}

// NewCmdDR groups the disaster-recovery commands.
func NewCmdDR(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dr",
		Short: "Disaster recovery: prove the backups restore, and measure RTO and RPO",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdDRDrill(f, nil))
	return cmd
}

// NewCmdDRDrill restores a cluster's latest verified backups into a
// scratch namespace and reports the recovery time and point achieved.
func NewCmdDRDrill(f *Factory, runF func(*DrillOptions) error) *cobra.Command {
	o := &DrillOptions{IO: f.IO, f: f, now: time.Now, Interval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "drill -f CLUSTER_FILE [--namespace SCRATCH] [--from-copy URL|REGION] [--to-context NAME] [-o text|json|markdown]",
		Short: "Restore the latest verified backups into a scratch namespace and report RTO and RPO",
		Long: `A DR drill answers, with evidence, "if we lost this cluster now, how long
until it is back, and how much would we lose?".

It renders the cluster file into a scratch namespace (--namespace, default
<name>-drill; refused when that namespace exists and is not one a drill
labelled), copies the Secrets the cluster needs there (auth, backup storage
credentials, encryption keyset, and the servers' TLS Secret unless a
cert-manager ClusterIssuer issues the scratch namespace its own; a copied
certificate must be valid for the scratch namespace's server names when
Bolt is verified), applies it as apply does, restores the
latest verified backup of each database (neo4jctl restore --from ID), runs
healthcheck and MATCH (n) RETURN count(n) on each database, and always
tears the scratch namespace down, also after a failure or Ctrl-C.

RTO achieved is the wall time from the drill's start until every restored
database answered its count query after healthcheck passed; RPO is the age
of each database's newest restorable backup. Both are compared with
spec.backups.objectives. The scratch cluster takes no backups (its
spec.backups.schedule, verification and drill are removed).

The result is recorded beside the backup catalogue (drills/v1/<cluster>/,
docs/backup-catalog.md), where status, healthcheck (backup.drill) and
watch's drill metrics read it; --no-record leaves a rehearsal out. An
interrupted drill is not recorded.

With --in-namespace the drill runs in the standing drill namespace that
spec.backups.drill.schedule makes apply put there (default
neo4jctl-drill-<namespace>-<cluster>, what its CronJob runs): it never creates
or deletes a namespace, and at the end deletes the scratch cluster object by
object, claims included, leaving the standing drill objects
(docs/restore.md, "Scheduling drills").

--from-copy URL|REGION drills from one of spec.backups.copies (by URL, or
the region= of its URL) as a DR into another region would: the catalogue is
the copy's own and the scratch cluster's only storage is the copy, so the
primary storage is never opened; the report names the bucket read. The
record is still written beside the primary's catalogue (--no-record when
it is unreachable).

--to-context NAME runs the scratch cluster in another context of the
kubeconfig (DR into another Kubernetes cluster): the scratch namespace,
the copied Secrets, the apply, restore, healthcheck and count all happen
there; the Secrets are read from the cluster's own context (--context).

Steps that were stood in for (Pods on kwok nodes, which run no containers)
are marked simulated in the report.

Exit codes: 0 objectives met, 1 error, 3 an objective missed (or the
drill never became healthy), 130 interrupted.`,
		Example: `  neo4jctl dr drill -f cluster.yaml
  neo4jctl dr drill -f cluster.yaml --namespace prod-dr -o markdown >> $GITHUB_STEP_SUMMARY`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.File == "" {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			switch o.Output {
			case drill.FormatText, drill.FormatJSON, drill.FormatMarkdown:
			default:
				return usageErrorf(cmd, "-o must be text, json or markdown, got %q", o.Output)
			}
			o.Scratch = flagNamespace(f)
			if o.Scratch != "" {
				if errs := validation.IsDNS1123Label(o.Scratch); len(errs) > 0 {
					return usageErrorf(cmd, "--namespace %q: %s", o.Scratch, strings.Join(errs, "; "))
				}
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "filename", "f", "", "the cluster file (with spec.backups); --namespace names the scratch namespace")
	fl.StringVarP(&o.Output, "output", "o", drill.FormatText, "report format: text, json or markdown")
	fl.StringVar(&o.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "where the Secrets spec.backups names are mounted, to read the catalogue")
	fl.DurationVar(&o.StepTimeout, "step-timeout", 10*time.Minute, "how long each wait of the apply into the scratch namespace may take")
	fl.DurationVar(&o.OnlineTimeout, "online-timeout", 30*time.Minute, "how long a seeded database may take to be online on every allocation")
	fl.StringVar(&o.FromCopy, "from-copy", "", "read the catalogue and the artifacts from this spec.backups.copies entry (its URL, or the region of its URL) instead of the primary storage, as a DR into another region would")
	fl.StringVar(&o.ToContext, "to-context", "", "run the scratch cluster in this kubeconfig context (DR into another Kubernetes cluster); the catalogue and Secrets are read from the cluster's own context")
	fl.BoolVar(&o.NoRecord, "no-record", false, "do not record the drill in the backup catalogue (status, healthcheck and watch read the newest record)")
	fl.BoolVar(&o.InNamespace, "in-namespace", false, "drill in the standing drill namespace spec.backups.drill.schedule puts there (default neo4jctl-drill-<namespace>-<cluster>): never create or delete a namespace; delete the scratch cluster object by object (what the CronJob runs)")
	fl.StringVar(&o.SecretsNamespace, "secrets-namespace", "", "read the keyset and storage Secrets from this namespace through the Kubernetes API instead of --secrets-dir (what the CronJob runs)")
	o.cluster.add(fl)
	return cmd
}

// drillRun is one drill in progress: the report it fills and the step
// being timed.
type drillRun struct {
	o      *DrillOptions
	r      *drill.Report
	kwok   bool
	errOut io.Writer
}

// step runs fn as a named step of the report.
func (d *drillRun) step(name, simulated string, fn func() error) error {
	start := time.Now()
	fmt.Fprintf(d.errOut, "dr drill: %s…\n", name)
	err := fn()
	s := drill.Step{Name: name, Took: drill.Duration(time.Since(start))}
	if d.kwok {
		s.Simulated = simulated
	}
	if err != nil {
		s.Error = err.Error()
	}
	d.r.Steps = append(d.r.Steps, s)
	return err
}

// Run drills: everything after the catalogue is read is a step of the
// report, and the report is printed whatever happened.
func (o *DrillOptions) Run(ctx context.Context) (err error) {
	started := o.now()
	src, err := loadTarget(o.File, "", nil)
	if err != nil {
		return err
	}
	c := src.Cluster
	if c.Spec.Backups == nil {
		return fmt.Errorf("%s has no spec.backups: there is no catalogue to restore from (docs/backups.md)", o.File)
	}
	scratch := o.Scratch
	switch {
	case scratch == "" && o.InNamespace:
		scratch = manifests.DrillNamespaceName(c, src.Namespace)
	case scratch == "":
		scratch = c.Metadata.Name + "-drill"
	}
	if scratch == src.Namespace && o.ToContext == "" {
		return fmt.Errorf("--namespace %s is the cluster's own namespace: a drill restores into a scratch namespace, never over the cluster", scratch)
	}
	kc, err := o.cluster.kubeClient(o.f)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(kc.RESTConfig())
	if err != nil {
		return err
	}
	if o.SecretsNamespace != "" {
		cleanup, err := o.secretsFromAPI(ctx, cs, c)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	// The scratch side: the same clients, or --to-context's.
	tf, tkc, tcs, err := o.scratchClients(kc, cs)
	if err != nil {
		return err
	}
	entries := o.entries
	if entries == nil {
		entries = o.catalogue
	}
	catSrc, copyLoc, location, err := o.drillBackups(c)
	if err != nil {
		return err
	}
	es, err := entries(ctx, catSrc)
	if err != nil {
		return fmt.Errorf("read the backup catalogue from %s: %w", location, err)
	}
	dbs := drill.Databases(es, c.Metadata.Name)
	if c.Spec.Edition == clusterfile.EditionCommunity {
		// Community runs one standard database: only its backups restore.
		dbs = []string{"neo4j"}
	}
	d := &drillRun{o: o, errOut: o.IO.ErrOut, r: &drill.Report{
		Cluster: c.Metadata.Name, Namespace: src.Namespace, ScratchNamespace: scratch, Started: started,
		Points: drill.Points(es, c.Metadata.Name, dbs, started), Objectives: drill.ObjectivesOf(c.Spec.Backups),
		Backups: location, Context: o.ToContext,
	}}
	d.kwok = kwokNodes(ctx, tcs)

	// The scratch namespace is ours only once created or found labelled:
	// a namespace someone else owns is refused before anything changes.
	claim, tearDown := func() error { return o.claimNamespace(ctx, tcs, scratch, c.Metadata.Name) }, func(ctx context.Context) error { return teardown(ctx, tcs, scratch) }
	if o.InNamespace {
		claim = func() error { return useDrillNamespace(ctx, tcs, scratch, c, src.Namespace) }
		tearDown = func(ctx context.Context) error { return emptyDrillNamespace(ctx, tkc.RESTConfig(), scratch) }
	}
	if err := claim(); err != nil {
		return err
	}
	defer func() {
		// Always, also after Ctrl-C: a context of its own.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		_ = d.step("tear down namespace "+scratch, "", func() error { return tearDown(tctx) })
		d.r.Evaluate()
		if rerr := drill.Render(o.IO.Out, d.r, o.Output); rerr != nil && err == nil {
			err = rerr
		}
		switch {
		case ctx.Err() != nil:
			// An interrupted drill is no verdict: it is not recorded.
			err = fmt.Errorf("%w: the drill was stopped and its scratch namespace %s deleted", errInterrupted, scratch)
			if o.InNamespace {
				err = fmt.Errorf("%w: the drill was stopped and the scratch cluster deleted from %s", errInterrupted, scratch)
			}
			return
		case err == nil && !d.r.Met():
			err = &ExitCodeError{Code: ExitUnhealthy, Err: fmt.Errorf("dr drill: %s", strings.Join(d.r.Missed, "; "))}
		}
		if o.NoRecord {
			return
		}
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer rcancel()
		rec, rerr := o.recordDrill(rctx, c, d.r.Record(o.drillWhere(scratch), time.Now()))
		switch {
		case rerr != nil && err == nil:
			err = fmt.Errorf("the drill met its objectives, but its record could not be written to the catalogue: %w (status, healthcheck and watch read drills from there: give the storage credentials write access, or pass --no-record)", rerr)
		case rerr != nil:
			fmt.Fprintf(o.IO.ErrOut, "dr drill: the record could not be written to the catalogue: %v\n", rerr)
		default:
			fmt.Fprintf(o.IO.ErrOut, "dr drill: recorded in the catalogue as %s\n", rec.ID)
		}
	}()

	tmp, err := os.MkdirTemp("", "neo4jctl-drill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	scratchFile := filepath.Join(tmp, filepath.Base(o.File))
	var t *pipeline.Target
	if err := d.step("copy Secrets into "+scratch, "", func() error {
		if err := writeScratchFile(o.File, scratchFile, scratch); err != nil {
			return err
		}
		if err := scratchFromCopy(scratchFile, copyLoc); err != nil {
			return err
		}
		if t, err = loadTarget(scratchFile, "", nil); err != nil {
			return err
		}
		if err := copySecrets(ctx, cs, tcs, c, src.Namespace, scratch, scratchCertCheck(c, scratch, o.cluster.Neo4jInsecure)); err != nil {
			return err
		}
		return copyCopySecret(ctx, cs, tcs, c, copyLoc, src.Namespace, scratch)
	}); err != nil {
		return nil // reported; the verdict is a miss (never healthy)
	}

	// Output of the commands run as steps goes to stderr: stdout is the report's.
	sub := *o.IO
	sub.Out = o.IO.ErrOut
	if err := d.step("apply "+t.Name(), "the servers' Pods run on kwok nodes: no Neo4j container starts; Neo4j is the simulator", func() error {
		a := &ApplyOptions{IO: &sub, File: scratchFile, Output: views.FormatHuman, AutoApprove: true, Lock: true,
			StepTimeout: o.StepTimeout, Wait: true, cluster: o.cluster, now: time.Now}
		r, err := newRunner(tf, &a.cluster)
		if err != nil {
			return err
		}
		return a.applyTarget(ctx, r, t, nil, sub.ErrOut, sub.ErrOut, nil)
	}); err != nil {
		return ctxErr(ctx, nil)
	}

	restored := map[string]string{}
	for _, db := range dbs {
		v, ok := drill.LatestVerified(es, c.Metadata.Name, db)
		sim := "kwok completes the restore Job's Pod (no neo4j-admin load runs)"
		if c.Spec.Edition != clusterfile.EditionCommunity {
			sim = "kwok makes the seed Pod Ready without running it; the simulator seeds the database"
		}
		if err := d.step(drill.RestoreStep(db), sim, func() error {
			if !ok {
				return fmt.Errorf("no restorable backup of %s has passed verification (neo4jctl backup verify --latest)", db)
			}
			ro := &RestoreOptions{IO: &sub, f: tf, File: scratchFile, Database: db, From: v.ID, ConfirmName: db, AutoApprove: true,
				Output: views.FormatHuman, Lock: true, SecretsDir: o.SecretsDir, SkipHealthcheck: true,
				Interval: o.Interval, OnlineTimeout: o.OnlineTimeout, Now: time.Now, cluster: o.cluster,
				entries: func(context.Context, *clusterfile.Cluster, string) ([]catalog.Entry, error) { return es, nil }}
			return ro.Run(ctx)
		}); err == nil {
			restored[db] = v.ID
			d.r.Restored = restored
		}
		if ctx.Err() != nil {
			return ctxErr(ctx, nil)
		}
	}
	if len(restored) < len(dbs) {
		return nil // a database was not restored: never healthy
	}

	if err := d.step("healthcheck", "Neo4j is the simulator", func() error {
		h := &HealthcheckOptions{IO: &sub, Files: []string{scratchFile}, Output: views.FormatHuman,
			Recheck: 5 * time.Second, StatusCheckTimeout: time.Second, VolumeStats: "off", BackupSecretsDir: o.SecretsDir,
			withoutCatalogueChecks: true, cluster: o.cluster, now: time.Now}
		h.runner = func() (*pipeline.Runner, error) { return newRunner(tf, &h.cluster) }
		return h.Run(ctx)
	}); err != nil {
		return ctxErr(ctx, nil)
	}
	if err := d.step("count nodes per database", "Neo4j is the simulator: the counts are the simulator's", func() error {
		return o.countNodes(ctx, tkc, t, dbs, restored, d.r)
	}); err != nil {
		return ctxErr(ctx, nil)
	}
	d.r.Healthy = time.Now()
	return nil
}

// ctxErr is err, or nil: a failed step is in the report, and the verdict
// (never healthy) is its exit code; an interruption is decided in Run's
// deferred function.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// recordDrill writes the drill's record beside the catalogue it read
// (backup/catalog drill.go; docs/backup-catalog.md).
func (o *DrillOptions) recordDrill(ctx context.Context, c *clusterfile.Cluster, rec catalog.Drill) (catalog.Drill, error) {
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, Log: io.Discard})
	if err != nil {
		return rec, err
	}
	return s.Catalog.PutDrill(ctx, rec)
}

func (o *DrillOptions) catalogue(ctx context.Context, c *clusterfile.Cluster) ([]catalog.Entry, error) {
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, Log: io.Discard})
	if err != nil {
		return nil, err
	}
	if o.FromCopy != "" {
		return s.ListCopy(ctx, "")
	}
	return s.List(ctx, "")
}

// countNodes runs the count query on every restored database; each
// answer (or failure) goes into the report.
func (o *DrillOptions) countNodes(ctx context.Context, kc *kube.Client, t *pipeline.Target, dbs []string, restored map[string]string, r *drill.Report) error {
	acc, err := o.cluster.neo4jAccess(o.IO.ErrOut)
	if err != nil {
		return err
	}
	client, closeFn, err := acc.Connect(ctx, kc, t)
	if err != nil {
		return fmt.Errorf("connect to Neo4j: %w", err)
	}
	defer closeFn()
	var failed []string
	for _, db := range dbs {
		n, err := client.CountNodes(ctx, db)
		cnt := drill.Count{Database: db, Restored: restored[db], Nodes: n}
		if err != nil {
			cnt.Error = err.Error()
			failed = append(failed, db)
		}
		r.Counts = append(r.Counts, cnt)
	}
	if len(failed) > 0 {
		return fmt.Errorf("the count query failed on %s", strings.Join(failed, ", "))
	}
	return nil
}

// claimNamespace creates the scratch namespace labelled as a drill's, or
// accepts an existing one only when a drill of the same cluster labelled
// it (a previous drill interrupted before its teardown finished).
func (o *DrillOptions) claimNamespace(ctx context.Context, cs kubernetes.Interface, ns, cluster string) error {
	cur, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{DrillLabel: cluster, manifests.LabelManagedBy: manifests.ManagedBy}}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create the scratch namespace %s: %w", ns, err)
		}
		if err := waitDefaultServiceAccount(ctx, cs, ns); err != nil {
			// Created by this drill: removed even when interrupted here.
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			_ = teardown(tctx, cs, ns)
			return err
		}
		return nil
	case err != nil:
		return fmt.Errorf("read namespace %s: %w", ns, err)
	case cur.Labels[DrillLabel] != cluster:
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("namespace %s exists and is not a drill namespace of %s (no label %s=%s): a drill deletes its scratch namespace, so it never uses one it did not create; pass --namespace with a new name; nothing was changed", ns, cluster, DrillLabel, cluster)}
	case cur.DeletionTimestamp != nil:
		return fmt.Errorf("the scratch namespace %s of an earlier drill is still being deleted; run the drill again when it is gone", ns)
	}
	return nil
}

// waitDefaultServiceAccount waits for the namespace's default
// ServiceAccount: Pods cannot be created before it exists.
func waitDefaultServiceAccount(ctx context.Context, cs kubernetes.Interface, ns string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s: its default ServiceAccount never appeared", ns)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// teardown deletes the scratch namespace and waits (bounded by ctx) for
// it to go; the namespace controller deletes what is in it.
func teardown(ctx context.Context, cs kubernetes.Interface, ns string) error {
	fg := metav1.DeletePropagationForeground
	err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &fg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete namespace %s: %w (delete it yourself: kubectl delete namespace %s)", ns, err, ns)
	}
	for {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s is still terminating (its deletion was requested)", ns)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kwokNodes reports whether the cluster's nodes are kwok's (no container
// runs on them). An unreadable node list counts as real nodes: a report
// never claims to be simulated without evidence… nor real without it, so
// the list error is not hidden from the steps either.
func kwokNodes(ctx context.Context, cs kubernetes.Interface) bool {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		return false
	}
	for _, n := range nodes.Items {
		if _, ok := n.Annotations[kwokNodeAnnotation]; !ok {
			return false
		}
	}
	return true
}

// drillSecrets are the Secrets of the cluster's namespace the scratch
// cluster needs: the auth Secret, the backup storage credentials, the
// encryption keyset, and the servers' TLS Secret — unless cert-manager
// issues that one in the scratch namespace itself (a ClusterIssuer is
// reachable from any namespace; a namespaced Issuer is not, so its
// Secret is copied). A copied certificate left for cert-manager to
// replace would be worse than none: Neo4j 5.26 reads its certificates at
// start (Operations Manual security/ssl-framework.adoc: § Certificates
// rotation, with dbms.security.reloadTLS(), exists from 2025.03 only), so
// the servers would keep the copy.
func drillSecrets(c *clusterfile.Cluster) []string { return manifests.DrillSecretsInOrder(c) }

// copySecrets copies drillSecrets from the cluster's namespace into the
// scratch one (through toCS: the scratch side's client, another cluster's
// with --to-context), labelled as the drill's (the namespace's deletion removes
// them). Their data never leaves the API server through neo4jctl's
// output. checkCert, when set, is given the TLS Secret's tls.crt before
// anything is written.
func copySecrets(ctx context.Context, cs, toCS kubernetes.Interface, c *clusterfile.Cluster, from, to string, checkCert func(secret string, crt []byte) error) error {
	tlsSecret := manifests.TLSSecretName(c)
	var copies []*corev1.Secret
	for _, name := range drillSecrets(c) {
		s, err := cs.CoreV1().Secrets(from).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read Secret %s/%s: %w", from, name, err)
		}
		if name == tlsSecret && checkCert != nil {
			if err := checkCert(name, s.Data[corev1.TLSCertKey]); err != nil {
				return err
			}
		}
		copies = append(copies, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: to,
			Labels: map[string]string{DrillLabel: c.Metadata.Name}}, Type: s.Type, Data: s.Data})
	}
	for _, cp := range copies {
		if _, err := toCS.CoreV1().Secrets(to).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("copy Secret %s into %s: %w", cp.Name, to, err)
			}
			if _, err := toCS.CoreV1().Secrets(to).Update(ctx, cp, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("copy Secret %s into %s: %w", cp.Name, to, err)
			}
		}
	}
	return nil
}

// scratchCertCheck returns the check of a copied TLS certificate: when
// neo4jctl verifies Bolt (scope bolt, without
// --neo4j-insecure-skip-tls-verify) it checks the certificate against
// each server's advertised name, which in the scratch namespace is a
// different name (<pod>.<headless>.<scratch>.svc.cluster.local). A
// certificate that does not cover those names would fail the drill only
// after the apply's wait; it is refused before anything is copied, with
// the fix.
func scratchCertCheck(c *clusterfile.Cluster, scratch string, insecure bool) func(string, []byte) error {
	if insecure || c.Spec.TLS == nil || !slices.Contains(c.Spec.TLS.Scopes, "bolt") {
		return nil
	}
	return func(secret string, crt []byte) error {
		var hosts []string
		for _, p := range manifests.Pools(c) {
			for i := 0; i < int(p.Servers); i++ {
				hosts = append(hosts, manifests.PodDNSName(c, scratch, p.Name, i))
			}
		}
		return drill.CheckCertificateNames(secret, crt, hosts)
	}
}

// writeScratchFile writes the cluster file with metadata.namespace set
// to the scratch namespace, and without spec.backups.schedule,
// .verification and .drill: the scratch cluster must not write backups into the
// real cluster's catalogue (it reads the same storage).
func writeScratchFile(in, out, ns string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return errors.New(in + ": not a mapping")
	}
	root := doc.Content[0]
	meta := mappingChild(root, "metadata", true)
	setScalar(meta, "namespace", ns)
	if spec := mappingChild(root, "spec", false); spec != nil {
		if bk := mappingChild(spec, "backups", false); bk != nil {
			deleteKey(bk, "schedule")
			deleteKey(bk, "verification")
			deleteKey(bk, "drill")
		}
	}
	data, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o600)
}

func mappingChild(m *yaml.Node, key string, create bool) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	if !create {
		return nil
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

func setScalar(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
