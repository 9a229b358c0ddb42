package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
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

	// Kube is the Kubernetes client: the cluster's objects and Job
	// without --local; the Secrets with --secrets-namespace.
	Kube          func() (*kube.Client, error)
	FlagNamespace string
	// Install applies the verification objects and runs nothing.
	Install bool
	// Interval between two looks at the Job (default 1 s).
	Interval time.Duration
	// SecretsNamespace (with --local) reads the keyset and storage
	// Secrets from that namespace through the API instead of files: the
	// verification Pod runs in a scratch namespace and a Secret volume
	// cannot reach across namespaces.
	SecretsNamespace string
	// InstallBinary copies this executable to the path and exits: the
	// verification Pod's init container (neo4jctl's image has no shell).
	InstallBinary string
	// Env reads the verification Pod's environment (default os.Getenv).
	Env func(string) string
}

// NewCmdBackupVerify verifies one backup by restoring it into scratch.
func NewCmdBackupVerify(f *Factory, runF func(*BackupVerifyOptions) error) *cobra.Command {
	opts := &BackupVerifyOptions{BackupOptions: newBackupOptions(f), Interval: time.Second, Env: os.Getenv}
	cmd := &cobra.Command{
		Use:   "verify ID|--latest [--local] -f CLUSTER_FILE",
		Short: "Verify a backup by restoring it into a scratch store and checking it",
		Long: `Verify downloads one backup (decrypted, authenticated and digest-checked as
download does) into a scratch directory, loads a dump into a scratch store
with neo4j-admin database load (an online backup: see below), runs
neo4j-admin database check, records the
result (passed or failed, duration, Neo4j version, where it ran) in the
backup's catalogue entry, and removes the scratch directory.

Without --local it runs in the cluster: it applies the verification objects
(a scratch namespace of its own enforcing the restricted Pod Security
profile, with a ResourceQuota and LimitRange, a ServiceAccount and the
cluster file; in the cluster's namespace a Role letting that ServiceAccount
get the keyset and storage Secrets by name, and nothing else; with
spec.backups.verification.schedule the CronJob, removed again when the
schedule is gone), prints that plan, creates a Job from the CronJob's
template in the scratch namespace, follows it, and prints the result the
Job recorded, read back from the catalogue. --install applies the objects
only. Ctrl-C stops following, not the Job.

--local runs the neo4j-admin of this machine: <--neo4j-home>/bin/neo4j-admin,
or the first neo4j-admin on PATH. The installation's own databases and
configuration are not used. --secrets-namespace NS reads the Secrets from
namespace NS through the Kubernetes API instead of --secrets-dir (the
verification Pod does).

An Enterprise online backup is verified with its whole chain: the full and
every differential up to it are downloaded (each checked as download does)
and replayed by neo4j-admin database restore into the scratch store, which
neo4j-admin database check then checks. restore is an Enterprise Edition
command: a Community neo4j-admin is refused before anything is downloaded
(use --neo4j-home at an Enterprise installation, or verify in the cluster,
whose Job runs the cluster's own image). Node and relationship counts are
not recorded: no neo4j-admin command prints them for an offline store.

Exit status: 0 passed, 3 the backup failed verification (recorded), 1 the
verification could not run (nothing recorded).`,
		Example: "  neo4jctl backup verify --latest -f cluster.yaml\n  neo4jctl backup verify --latest --local -f cluster.yaml\n  neo4jctl backup verify graph/neo4j/20261207T020000Z-full-3f2a9c01 --local --neo4j-home /opt/neo4j -f cluster.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kube = func() (*kube.Client, error) {
				return kube.New(f.KubeFlags, kube.Options{UserAgent: "neo4jctl/" + f.Build.Version})
			}
			if ns := f.KubeFlags.Namespace; ns != nil {
				opts.FlagNamespace = *ns
			}
			if opts.InstallBinary != "" {
				if len(args) > 0 {
					return usageErrorf(cmd, "--install-binary takes no ID")
				}
				return installBinary(opts.InstallBinary)
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			switch {
			case opts.Install && (len(args) == 1 || opts.Latest || opts.Local):
				return usageErrorf(cmd, "--install applies the verification objects only: drop ID, --latest and --local")
			case opts.Install:
			case len(args) == 1 && opts.Latest:
				return usageErrorf(cmd, "give either ID or --latest, not both")
			case len(args) == 0 && !opts.Latest:
				return usageErrorf(cmd, "ID or --latest is required")
			case len(args) == 1 && opts.Database != "":
				return usageErrorf(cmd, "--database goes with --latest (an ID names its database)")
			}
			switch {
			case opts.SecretsNamespace != "" && !opts.Local:
				return usageErrorf(cmd, "--secrets-namespace goes with --local (in the cluster, the Job's Pod reads the Secrets)")
			case opts.SecretsNamespace != "" && opts.KeysetFile != "":
				return usageErrorf(cmd, "give either --secrets-namespace or --keyset-file, not both")
			case opts.Neo4jHome != "" && !opts.Local:
				return usageErrorf(cmd, "--neo4j-home goes with --local (in the cluster, the Neo4j image's neo4j-admin runs)")
			}
			if len(args) == 1 {
				opts.ID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			if !opts.Local {
				return opts.RunCluster(cmd.Context())
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	fl := cmd.Flags()
	fl.BoolVar(&opts.Latest, "latest", false, "verify the newest backup (of --database when given)")
	fl.StringVar(&opts.Database, "database", "", "with --latest: the database whose newest backup is verified")
	fl.BoolVar(&opts.Local, "local", false, "run neo4j-admin on this machine instead of in a Job in the cluster")
	fl.StringVar(&opts.Neo4jHome, "neo4j-home", "", "with --local: Neo4j installation whose bin/neo4j-admin runs (default: neo4j-admin on PATH)")
	fl.StringVar(&opts.SecretsNamespace, "secrets-namespace", "", "with --local: read the keyset and storage Secrets from this namespace through the Kubernetes API instead of --secrets-dir")
	fl.BoolVar(&opts.Install, "install", false, "apply the verification objects (scratch namespace, quota, RBAC, the CronJob when scheduled) and verify nothing")
	fl.StringVar(&opts.InstallBinary, "install-binary", "", "copy this neo4jctl binary to the path and exit (the verification Pod's init container)")
	_ = fl.MarkHidden("install-binary")
	return cmd
}

// installBinary copies the running executable to path, mode 0755: the
// verification Pod's init container puts neo4jctl beside the Neo4j
// image's neo4j-admin this way.
func installBinary(path string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	src, err := os.Open(self)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("install the neo4jctl binary: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("install the neo4jctl binary: %w", err)
	}
	// Whatever the umask: the verify container runs it.
	if err := dst.Chmod(0o755); err != nil {
		dst.Close()
		return fmt.Errorf("install the neo4jctl binary: %w", err)
	}
	return dst.Close()
}

// Run verifies on this machine (--local).
func (o *BackupVerifyOptions) Run(ctx context.Context) error {
	admin := o.Admin
	if admin == nil {
		p, err := ops.FindAdmin(o.Neo4jHome)
		if err != nil {
			return err
		}
		admin = ops.ExecAdmin(p)
	}
	if o.SecretsNamespace != "" {
		cleanup, err := o.secretsFromAPI(ctx)
		if err != nil {
			return err
		}
		defer cleanup()
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
	vo := ops.VerifyOptions{Admin: admin}
	if env := o.Env; env != nil && env(manifests.VerifyJobNameEnv) != "" {
		vo.Where = manifests.VerifyWhere(env(manifests.VerifyJobNamespaceEnv), env(manifests.VerifyJobNameEnv))
	}
	r, err := s.VerifyLocal(ctx, id, vo)
	if err != nil {
		return err
	}
	return o.report(r.Entry.ID, r.Verification)
}

// report prints one verification and maps its result to the exit status.
func (o *BackupVerifyOptions) report(id string, v catalog.Verification) error {
	if _, err := fmt.Fprintf(o.IO.Out, "%s: verification %s in %s (%s, Neo4j %s, %s): %s\n",
		id, v.Result, v.Duration.Round(time.Millisecond), v.Method, v.Neo4jVersion, v.Where, v.Message); err != nil {
		return err
	}
	if v.Result != catalog.VerificationPassed {
		return &ExitCodeError{Code: ExitUnhealthy, Err: fmt.Errorf("%s failed verification (recorded in the catalogue)", id)}
	}
	return nil
}

// secretsFromAPI reads the keyset and storage Secrets of spec.backups
// from o.SecretsNamespace through the API and hands them to the session
// as a Secret given as environment variables would be (BackupOptions.Getenv):
// nothing is written to disk. --secrets-dir becomes an empty directory,
// so no mounted file is read instead. The Secrets are read by name only
// (the verification ServiceAccount may get those two and nothing else).
func (o *BackupVerifyOptions) secretsFromAPI(ctx context.Context) (func(), error) {
	c, err := clusterfile.LoadFile(o.File)
	if err != nil {
		return nil, err
	}
	if c.Spec.Backups == nil {
		return nil, errors.New(o.File + " has no spec.backups (docs/backups.md)")
	}
	kc, err := o.Kube()
	if err != nil {
		return nil, err
	}
	b := c.Spec.Backups
	ref := b.Encryption.KeysetSecret
	ks, err := kc.ReadSecretData(ctx, o.SecretsNamespace, ref.Name)
	if err != nil {
		return nil, err
	}
	keyset, ok := ks.Data[ref.Key]
	if !ok {
		return nil, fmt.Errorf("Secret %s/%s has no key %q (the keyset, spec.backups.encryption.keysetSecret.key)", o.SecretsNamespace, ref.Name, ref.Key)
	}
	vals := map[string]string{ops.KeysetEnv: string(keyset)}
	if name := b.Storage.CredentialsSecret; name != "" {
		sd, err := kc.ReadSecretData(ctx, o.SecretsNamespace, name)
		if err != nil {
			return nil, err
		}
		for k, v := range sd.Data {
			vals[k] = string(v)
		}
	}
	empty, err := os.MkdirTemp("", "neo4jctl-no-secrets-")
	if err != nil {
		return nil, err
	}
	o.SecretsDir = empty
	o.Getenv = func(k string) string { return vals[k] }
	return func() { os.RemoveAll(empty) }, nil
}

// VerifyPlan is what an in-cluster `backup verify` does, shown before it
// does it.
type VerifyPlan struct {
	Cluster   string
	Namespace string
	// Scratch is the scratch namespace the Job runs in.
	Scratch string
	// Objects are the verification objects applied, each marked new or
	// existing.
	Objects []VerifyPlanObject
	// PullSecrets are the copies of spec.imagePullSecrets applied in the
	// scratch namespace; StalePullSecrets are copies there that no name
	// of spec.imagePullSecrets accounts for any more (left, reported).
	PullSecrets      []VerifyPlanPullSecret
	StalePullSecrets []string
	// RemoveCronJob: the CronJob exists but no schedule renders it.
	RemoveCronJob bool
	// Job is the Job created (empty with --install), ID the backup.
	Job, ID string
}

// VerifyPlanPullSecret is one image pull Secret copied into the scratch
// namespace: its source, type and number of keys, never a value.
type VerifyPlanPullSecret struct {
	Address, From string
	Type          string
	Keys          int
	Exists        bool
}

// VerifyPlanObject is one applied object.
type VerifyPlanObject struct {
	Address string
	Exists  bool
}

func renderVerifyPlan(w io.Writer, p VerifyPlan) {
	fmt.Fprintf(w, "Verification of %s/%s's backups in scratch namespace %s:\n", p.Namespace, p.Cluster, p.Scratch)
	for _, o := range p.Objects {
		mark, what := "+", "create"
		if o.Exists {
			mark, what = "~", "apply (exists)"
		}
		fmt.Fprintf(w, "  %s %s  %s\n", mark, o.Address, what)
	}
	for _, ps := range p.PullSecrets {
		mark, what := "+", "create"
		if ps.Exists {
			mark, what = "~", "apply (exists)"
		}
		fmt.Fprintf(w, "  %s %s  %s: copy of image pull Secret %s (%s, %d %s; values not shown)\n", mark, ps.Address, what, ps.From, ps.Type, ps.Keys, plural(ps.Keys, "key", "keys"))
	}
	for _, n := range p.StalePullSecrets {
		fmt.Fprintf(w, "  ! k8s:core/Secret/%s/%s  left: a copy of an image pull Secret no longer in spec.imagePullSecrets; remove it with kubectl -n %s delete secret %s\n", p.Scratch, n, p.Scratch, n)
	}
	if p.RemoveCronJob {
		fmt.Fprintf(w, "  - k8s:batch/CronJob/%s/%s  delete (spec.backups.verification.schedule is not set)\n", p.Scratch, manifests.VerifyCronJobName)
	}
	if p.Job != "" {
		fmt.Fprintf(w, "  + k8s:batch/Job/%s/%s  create: backup verify %s --local in the Neo4j image\n", p.Scratch, p.Job, p.ID)
	}
}

// RunCluster verifies in a Job in the scratch namespace (without
// --local), or only applies the verification objects (--install).
func (o *BackupVerifyOptions) RunCluster(ctx context.Context) error {
	c, ns, err := loadBackupCluster(o.File, o.FlagNamespace)
	if err != nil {
		return err
	}
	objs, err := manifests.VerifyObjects(c, ns)
	if err != nil {
		return err
	}
	p := VerifyPlan{Cluster: c.Metadata.Name, Namespace: ns, Scratch: manifests.VerifyNamespaceName(c, ns)}

	// The backup is chosen here, so that the plan names it and a backup
	// --local could not verify is refused before anything is created.
	var (
		s   *ops.Session
		job *batchv1.Job
	)
	if !o.Install {
		if s, err = o.session(ctx, false, false); err != nil {
			return err
		}
		id := o.ID
		if o.Latest {
			if id, err = s.Latest(ctx, o.Database); err != nil {
				return err
			}
		}
		e, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if e.Format == inspect.FormatBackup && c.Spec.Edition == clusterfile.EditionCommunity {
			// The Job runs the cluster's own image, whose neo4j-admin
			// has no `database restore` in Community Edition
			// (tools/neo4j-admin/index.adoc, "Available commands per
			// category"): it would only fail after starting.
			return fmt.Errorf("%s is an online backup (%s), restored by `neo4j-admin database restore` (Enterprise Edition), and %s's image is Community: nothing was created. Verify it with --local --neo4j-home at a Neo4j Enterprise 5.26 installation", e.ID, e.File, c.Metadata.Name)
		}
		if _, err := s.VerifyChain(ctx, e); err != nil {
			return err
		}
		job = manifests.VerifyJob(c, ns, e.ID, o.Now())
		p.Job, p.ID = job.Name, e.ID
	}

	kc, err := o.Kube()
	if err != nil {
		return err
	}
	scheduled := false
	for _, u := range objs {
		ok, err := kc.Exists(ctx, u)
		if err != nil {
			return err
		}
		p.Objects = append(p.Objects, VerifyPlanObject{Address: verifyAddress(u), Exists: ok})
		scheduled = scheduled || u.GetKind() == "CronJob"
	}
	if !scheduled {
		cj, err := kc.CronJob(ctx, p.Scratch, manifests.VerifyCronJobName)
		if err != nil {
			return err
		}
		p.RemoveCronJob = cj != nil && cj.Labels[manifests.LabelComponent] == manifests.VerifyComponent
	}
	copies, err := verifyPullSecretCopies(ctx, kc, c, ns, &p)
	if err != nil {
		return err
	}
	renderVerifyPlan(o.IO.ErrOut, p)

	// The namespace first (objs), then the copies in it.
	for _, u := range append(objs, copies...) {
		if _, err := kc.Apply(ctx, u, false); err != nil {
			return err
		}
	}
	if p.RemoveCronJob {
		if _, err := kc.DeleteCronJobLabelled(ctx, p.Scratch, manifests.VerifyCronJobName, manifests.LabelComponent, manifests.VerifyComponent); err != nil {
			return err
		}
	}
	if o.Install {
		fmt.Fprintf(o.IO.ErrOut, "verification objects applied in %s and %s\n", p.Scratch, ns)
		return nil
	}

	created, err := kc.CreateJob(ctx, job)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "job/%s created in %s: verify %s\n", created.Name, p.Scratch, p.ID)
	report := func(line string) {
		fmt.Fprintf(o.IO.ErrOut, "%s  %s\n", o.Now().Format("15:04:05"), line)
	}
	out, err := kc.FollowJob(ctx, p.Scratch, created.Name, o.Interval, report)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(o.IO.ErrOut, "\nStopped following; job/%s keeps running. Follow it with:\n  kubectl -n %s logs -f job/%s --all-containers\nthen `neo4jctl backup describe %s -f %s` shows its result.\n",
				created.Name, p.Scratch, created.Name, p.ID, o.File)
			return errInterrupted
		}
		return err
	}

	// The Pod records its result before it exits, passed or failed (a
	// failed verification exits 3, which fails the Job); the result is
	// the catalogue's, found by the Job that recorded it.
	where := manifests.VerifyWhere(p.Scratch, created.Name)
	e, err := s.Get(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("the verification Job ended, but the catalogue could not be read: %w; run `neo4jctl backup describe %s -f %s` where the storage credentials are", err, p.ID, o.File)
	}
	for i := len(e.Verifications) - 1; i >= 0; i-- {
		if v := e.Verifications[i]; v.Where == where {
			return o.report(e.ID, v)
		}
	}
	if !out.Succeeded {
		return fmt.Errorf("verification job/%s failed (%s: %s) without recording a result, so the verification did not run; see why with: kubectl -n %s logs job/%s --all-containers",
			created.Name, out.Reason, out.Message, p.Scratch, created.Name)
	}
	return fmt.Errorf("verification job/%s succeeded but %s has no verification recorded by it: see its log with kubectl -n %s logs job/%s --all-containers", created.Name, p.ID, p.Scratch, created.Name)
}

// verifyAddress is an object's plan address (kube.Address of its kind).
func verifyAddress(u *unstructured.Unstructured) string {
	return kube.Address(u.GroupVersionKind(), u.GetNamespace(), u.GetName())
}

// verifyPullSecretCopies reads each Secret of spec.imagePullSecrets from
// the cluster's namespace and returns its copy for the scratch namespace
// (manifests.VerifyPullSecretCopy: a Pod pulls only with Secrets of its
// own namespace), recording each in the plan by name, type and number of
// keys. A Secret that does not exist is refused with the fix before
// anything is applied. Copies left in the scratch namespace by an earlier
// run whose name is no longer listed are reported in the plan, not
// deleted (neo4jctl deletes only what its API client can prove is its).
func verifyPullSecretCopies(ctx context.Context, kc *kube.Client, c *clusterfile.Cluster, ns string, p *VerifyPlan) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, name := range c.Spec.ImagePullSecrets {
		stub := &unstructured.Unstructured{}
		stub.SetAPIVersion("v1")
		stub.SetKind("Secret")
		stub.SetNamespace(ns)
		stub.SetName(name)
		// LiveObjects returns the Secret's type without its data;
		// ReadSecretData the data, which goes only into the copy.
		live, errs := kc.LiveObjects(ctx, []*unstructured.Unstructured{stub}, ns)
		for _, err := range errs {
			return nil, fmt.Errorf("spec.imagePullSecrets[%d]: read Secret %s/%s: %w", i, ns, name, err)
		}
		if len(live) == 0 || live[0] == nil {
			return nil, fmt.Errorf("spec.imagePullSecrets[%d]: Secret %s/%s does not exist: the verification Pod in %s pulls with a copy of it (create it, e.g. kubectl -n %s create secret docker-registry %s --docker-server=… , or remove the name from the file); nothing was applied",
				i, ns, name, p.Scratch, ns, name)
		}
		typ, _, _ := unstructured.NestedString(live[0].Object, "type")
		sd, err := kc.ReadSecretData(ctx, ns, name)
		if err != nil {
			return nil, fmt.Errorf("spec.imagePullSecrets[%d]: %w", i, err)
		}
		cp, err := manifests.VerifyPullSecretCopy(c, ns, name, corev1.SecretType(typ), sd.Data)
		if err != nil {
			return nil, err
		}
		exists, err := kc.Exists(ctx, cp)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
		p.PullSecrets = append(p.PullSecrets, VerifyPlanPullSecret{Address: verifyAddress(cp), From: ns + "/" + name, Type: typ, Keys: len(sd.Data), Exists: exists})
	}
	have, err := kc.SecretsData(ctx, p.Scratch, manifests.LabelVerifyPullSecret+"=true", "")
	if err != nil {
		return nil, err
	}
	for _, h := range have {
		if !slices.Contains(c.Spec.ImagePullSecrets, h.Name) {
			p.StalePullSecrets = append(p.StalePullSecrets, h.Name)
		}
	}
	sort.Strings(p.StalePullSecrets)
	return out, nil
}
