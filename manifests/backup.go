package manifests

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Backup types a backup Job runs, as neo4j-admin database backup spells
// them (Operations Manual 5.26, backup-restore/online-backup.adoc,
// Options: --type FULL, DIFF, AUTO).
const (
	BackupFull = "FULL"
	BackupDiff = "DIFF"
)

// Paths inside the backup Pods.
const (
	// BackupChainsDir is where the chain claim is mounted: neo4j-admin's
	// --to-path. Each database's artifacts stay there between runs, so a
	// DIFF finds the chain it extends (a DIFF with no earlier artifact in
	// --to-path silently becomes a FULL).
	BackupChainsDir = "/backups/chains"
	// BackupWorkDir is per-run scratch shared by the two containers: the
	// inspect output the agent reads, and neo4j-admin's --temp-path.
	BackupWorkDir = "/backups/work"
	// BackupInspectFile is `neo4j-admin backup inspect`'s output.
	BackupInspectFile = BackupWorkDir + "/inspect.txt"
	// BackupClusterFileDir holds the agent's cluster file (the backup
	// ConfigMap).
	BackupClusterFileDir = "/etc/neo4jctl/cluster"
	backupClusterFileKey = "cluster.yaml"
	// BackupSecretsDir is where each Secret spec.backups names is mounted,
	// one directory per Secret; the agent reads them there
	// (backup/ops.DefaultSecretsDir).
	BackupSecretsDir = "/var/run/secrets/neo4jctl/backup"
)

// AgentImageRepository is where neo4jctl's release images are (the image
// `make image` builds and watch runs).
const AgentImageRepository = "ghcr.io/neo4jctl/neo4jctl"

// AgentBinary is where `make image` puts the agent-only binary
// (cmd/neo4jctl-backup-agent; e2e/image.AgentBinaryPath).
const AgentBinary = "/usr/local/bin/neo4jctl-backup-agent"

// releaseVersion is the neo4jctl release rendering, stamped by -ldflags
// "-X github.com/neo4jctl/neo4jctl/manifests.releaseVersion=…" like
// cmd.version. It pins the agent's image: the agent that reads and writes
// the catalogue is the release that rendered its CronJob, never a moving
// tag. A build without it renders the tag "dev".
var releaseVersion = "dev"

// AgentImage returns the neo4jctl image backup Pods run the agent with.
func AgentImage() string {
	return AgentImageRepository + ":" + releaseVersion
}

// AdminImage is the Neo4j image the containers that run neo4j-admin
// use (backup, dump and restore Pods) and its pull policy: the cluster
// file's spec.image (default the official image of spec.version and
// edition) and spec.imagePullPolicy (default IfNotPresent), so that
// neo4j-admin is the servers' own version.
func AdminImage(c *clusterfile.Cluster) (string, corev1.PullPolicy) {
	image := c.Spec.Image
	if image == "" {
		image = clusterfile.Image(c.Spec.Version, c.Spec.Edition)
	}
	pull := corev1.PullPolicy(c.Spec.ImagePullPolicy)
	if pull == "" {
		pull = corev1.PullIfNotPresent
	}
	return image, pull
}

// BackupServiceAccountName is the ServiceAccount of the backup Pods.
func BackupServiceAccountName(c *clusterfile.Cluster) string { return c.Metadata.Name + "-backup" }

// BackupConfigMapName holds the agent's cluster file.
func BackupConfigMapName(c *clusterfile.Cluster) string { return c.Metadata.Name + "-backup" }

// BackupClaimName is the claim keeping each database's current chain.
func BackupClaimName(c *clusterfile.Cluster) string { return c.Metadata.Name + "-backup-chains" }

// BackupCronJobName is the CronJob of a backup type (FULL or DIFF).
func BackupCronJobName(c *clusterfile.Cluster, typ string) string {
	if typ == BackupDiff {
		return c.Metadata.Name + "-backup-diff"
	}
	return c.Metadata.Name + "-backup-full"
}

// BackupPodLabels are the labels of the backup Pods. They deliberately
// lack app.kubernetes.io/name=neo4j and neo4jctl.io/cluster: with the
// first, the cluster selector would put backup Pods behind the servers'
// Services, PDB and NetworkPolicy; with the second, observe and
// healthcheck would count them among the servers' Pods.
// The component label is what the servers' NetworkPolicy admits to the
// backup port.
func BackupPodLabels(c *clusterfile.Cluster, typ string) map[string]string {
	return map[string]string{
		LabelName:       BackupComponent,
		LabelInstance:   c.Metadata.Name,
		LabelManagedBy:  ManagedBy,
		LabelComponent:  BackupComponent,
		LabelBackupType: strings.ToLower(typ),
	}
}

// LabelBackupType says whether a backup Pod takes a full or a
// differential backup.
const LabelBackupType = "neo4jctl.io/backup-type"

// withBackups appends the backup objects to the result of typedObjects
// (so that Render wires them in with one call).
func withBackups(c *clusterfile.Cluster, namespace string) func([]runtime.Object, error) ([]runtime.Object, error) {
	return func(typed []runtime.Object, err error) ([]runtime.Object, error) {
		if err != nil {
			return nil, err
		}
		objs, err := backupObjects(c, namespace)
		if err != nil {
			return nil, err
		}
		return append(typed, objs...), nil
	}
}

// backupObjects are the backup objects of a cluster file with
// spec.backups: the ServiceAccount, the agent's cluster file and (on
// Enterprise) the chain claim, which `neo4jctl backup create` needs as
// much as the schedule does, and on Enterprise a CronJob per schedule.
// Community has no online backup (validation refuses its schedule): its
// offline dump Job (OfflineDumpJob) runs as the same ServiceAccount with
// the same cluster file.
func backupObjects(c *clusterfile.Cluster, namespace string) ([]runtime.Object, error) {
	if c.Spec.Backups == nil {
		return nil, nil
	}
	objs, err := BackupSupport(c, namespace)
	if err != nil {
		return nil, err
	}
	s := c.Spec.Backups.Schedule
	if s == nil || !isEnterprise(c) {
		return objs, nil
	}
	for _, sched := range []struct{ typ, cron string }{{BackupFull, s.Full}, {BackupDiff, s.Differential}} {
		if sched.cron == "" {
			continue
		}
		tmpl, err := BackupJobTemplate(c, namespace, sched.typ, nil)
		if err != nil {
			return nil, err
		}
		meta := backupMeta(c, namespace, BackupCronJobName(c, sched.typ))
		objs = append(objs, &batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: meta,
			Spec: batchv1.CronJobSpec{
				Schedule: sched.cron,
				TimeZone: ptr.To(cmpOr(s.TimeZone, clusterfile.DefaultBackupTimeZone)),
				// Two runs of one chain at once would race on the chain
				// claim; the bucket lock (backup/lock) refuses the second
				// across CronJobs and clusters, Forbid within this one.
				ConcurrencyPolicy: batchv1.ForbidConcurrent,
				// A run missed by less than an hour (controller restart,
				// API server upgrade) still runs; older ones are skipped
				// and the health check reports the gap.
				StartingDeadlineSeconds:    ptr.To(int64(3600)),
				SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
				FailedJobsHistoryLimit:     ptr.To(int32(3)),
				JobTemplate:                batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels}, Spec: tmpl},
			},
		})
	}
	return objs, nil
}

// AnnotationInstantiate marks a Job created by hand from a CronJob's
// template, as `kubectl create job --from=cronjob/…` does.
const AnnotationInstantiate = "cronjob.kubernetes.io/instantiate"

// BackupJob is the one-off Job of `neo4jctl backup create`: the
// CronJob's template (BackupJobTemplate, the same code) under a name
// unique to the moment, <cluster>-backup-<full|diff>-<yyyymmddhhmmss>.
// databases nil backs up the schedule's databases.
func BackupJob(c *clusterfile.Cluster, namespace, typ string, databases []string, now time.Time) (*batchv1.Job, error) {
	spec, err := BackupJobTemplate(c, namespace, typ, databases)
	if err != nil {
		return nil, err
	}
	name := BackupCronJobName(c, typ)
	suffix := "-" + now.UTC().Format("20060102150405")
	// A Job's name goes into its Pods' job-name label: 63 characters.
	if len(name)+len(suffix) > 63 {
		name = strings.TrimRight(name[:63-len(suffix)], "-.")
	}
	meta := backupMeta(c, namespace, name+suffix)
	meta.Annotations = map[string]string{AnnotationInstantiate: "manual"}
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: meta, Spec: spec}, nil
}

// BackupSupport returns the objects every backup Job needs whether it
// was scheduled or created on demand: the least-privilege ServiceAccount,
// the ConfigMap holding the agent's cluster file and, with
// spec.backups.chainVolume, the chain claim.
func BackupSupport(c *clusterfile.Cluster, namespace string) ([]runtime.Object, error) {
	if c.Spec.Backups == nil {
		return nil, fmt.Errorf("render: the cluster file has no spec.backups")
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: backupMeta(c, namespace, BackupServiceAccountName(c)),
		// The backup Pods never call the API server: their Secrets are
		// mounted. No token, and no Role. Workload identity webhooks
		// (IRSA, Azure) project their own token; GKE's uses the
		// metadata server.
		AutomountServiceAccountToken: ptr.To(false),
	}
	if workloadIdentity(c.Spec.Backups) {
		sa = withServiceAccountAnnotations(sa, c)
	}
	file, err := agentClusterFile(c, namespace)
	if err != nil {
		return nil, err
	}
	objs := []runtime.Object{sa, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: backupMeta(c, namespace, BackupConfigMapName(c)),
		Data:       map[string]string{backupClusterFileKey: file},
	}}
	// A chain is an Enterprise thing: a Community dump is always whole.
	if cv := c.Spec.Backups.ChainVolume; cv != nil && isEnterprise(c) {
		size, err := resource.ParseQuantity(cv.Size)
		if err != nil {
			return nil, fmt.Errorf("render: spec.backups.chainVolume.size %q: %w", cv.Size, err)
		}
		pvc := &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: backupMeta(c, namespace, BackupClaimName(c)),
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			},
		}
		if cv.StorageClassName != "" {
			pvc.Spec.StorageClassName = ptr.To(cv.StorageClassName)
		}
		objs = append(objs, pvc)
	}
	return objs, nil
}

func workloadIdentity(b *clusterfile.Backups) bool {
	if b.Storage.WorkloadIdentity {
		return true
	}
	return slices.ContainsFunc(b.Copies, func(l clusterfile.BackupLocation) bool { return l.WorkloadIdentity })
}

// BackupPodMeta is the metadata of a Pod that reads the backup storage
// (backup, dump, restore) with neo4jctl's labels own: under workload
// identity, spec.pod's labels and annotations too — Azure's
// azure.workload.identity/use label must be on the Pod — the owner's
// first and neo4jctl's winning, as on the servers' Pods (statefulSet;
// Validate refuses the reserved keys). Without workload identity they are
// left out: they are written for the servers, and one such as Istio's
// sidecar.istio.io/inject would keep a Job's Pod from ever finishing.
func BackupPodMeta(c *clusterfile.Cluster, own map[string]string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Labels: own}
	p := c.Spec.Pod
	if p == nil || c.Spec.Backups == nil || !workloadIdentity(c.Spec.Backups) {
		return m
	}
	m.Labels = maps.Clone(p.Labels)
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	maps.Copy(m.Labels, own)
	if len(p.Annotations) > 0 {
		m.Annotations = maps.Clone(p.Annotations)
	}
	return m
}

func backupMeta(c *clusterfile.Cluster, namespace, name string) metav1.ObjectMeta {
	m := objectMeta(c, namespace, name)
	m.Labels[LabelComponent] = BackupComponent
	return m
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// agentClusterFile is the cluster file the agent loads in the Pod: what
// it reads (the cluster's name, edition, version, spec.backups) and what
// validation requires around it. It is a projection, so that a change to
// anything else in the cluster file does not show as a change of the
// backup objects. It holds no secret: the file never does.
func agentClusterFile(c *clusterfile.Cluster, namespace string) (string, error) {
	f := clusterfile.Cluster{
		APIVersion: c.APIVersion,
		Kind:       c.Kind,
		Metadata:   clusterfile.Metadata{Name: c.Metadata.Name, Namespace: namespace},
		Spec: clusterfile.Spec{
			Edition:                c.Spec.Edition,
			Version:                c.Spec.Version,
			AcceptLicenseAgreement: c.Spec.AcceptLicenseAgreement,
			Servers:                c.Spec.Servers,
			Auth:                   clusterfile.Auth{SecretRef: c.Spec.Auth.SecretRef},
			Backups:                c.Spec.Backups,
		},
	}
	if f.APIVersion == "" {
		f.APIVersion = clusterfile.APIVersion
	}
	if f.Kind == "" {
		f.Kind = clusterfile.Kind
	}
	j, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("render: agent cluster file: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return "", fmt.Errorf("render: agent cluster file: %w", err)
	}
	return "# The backup agent's view of cluster " + c.Metadata.Name + ", rendered by neo4jctl.\n" + string(y), nil
}

// BackupFromAddresses are the backup addresses neo4j-admin tries, in
// order (--from "host:port,…, each of which are tried in order"): the
// server pools first, then the main pool from its highest ordinal down.
// The manual recommends backing up from secondaries, which spare the
// primaries (online-backup.adoc, Cluster configurations); pools are where
// secondaries usually are, and the main pool's lowest ordinals are its
// system primaries (see systemModeScript).
func BackupFromAddresses(c *clusterfile.Cluster, namespace string) []string {
	var out []string
	pools := Pools(c)
	for _, p := range append(pools[1:], pools[0]) {
		for i := int(p.Servers) - 1; i >= 0; i-- {
			out = append(out, fmt.Sprintf("%s:%d", PodDNSName(c, namespace, p.Name, i), PortBackup))
		}
	}
	return out
}

// waitForLockScript starts a backup or dump script once the lock holder
// (the sidecar) has taken the bucket locks, and fails the run when they
// are refused or not taken within 10 minutes: one text for both scripts.
const waitForLockScript = `waited=0
until [ -e "` + BackupWorkDir + `/lock.held" ]; do
  if [ -e "` + BackupWorkDir + `/lock.refused" ]; then cat "` + BackupWorkDir + `/lock.refused" >&2; exit 1; fi
  waited=$((waited + 1))
  if [ "$waited" -gt 600 ]; then echo "the lock holder did not take the backup lock within 10 minutes" >&2; exit 1; fi
  sleep 1
done
`

// backupScript runs neo4j-admin in the backup Pod's first container: the
// backup of the databases given as arguments into the chain directory,
// then `backup inspect` of that directory, whose output tells the agent
// what each artifact is (the type neo4j-admin produced, never the one
// asked for). The flags, each per the Operations Manual 5.26
// (backup-restore/online-backup.adoc, Options; inspect.adoc):
//   - --from: every server's backup address, tried in order;
//   - --to-path: the chain claim, where a DIFF finds its chain;
//   - --type: FULL or DIFF (a DIFF without a chain becomes a FULL);
//   - --compress: spec.backups.schedule.compress (default true);
//   - --temp-path (5.24+): a per-run empty directory on the Pod's
//     scratch volume instead of the working directory;
//   - --include-metadata is left at its default, all: the manual says it
//     "cannot be used for backing up the system database", which "*"
//     includes.
//
// The databases are arguments ("$@"), never spliced into the script, so
// "*" reaches neo4j-admin unexpanded. It starts only once the lock
// holder (see BackupLockTTL) has taken the bucket locks, and fails the
// run when they are refused.
const backupScript = `set -eu
` + waitForLockScript + `mkdir -p "$BACKUP_TEMP"
extra=""
if [ -n "${BACKUP_ADMIN_CONF:-}" ]; then
  printf '%s\n' "$BACKUP_ADMIN_CONF" > /tmp/neo4j-admin-backup.conf
  extra="--additional-config=/tmp/neo4j-admin-backup.conf"
fi
neo4j-admin database backup --from="$BACKUP_FROM" --to-path="` + BackupChainsDir + `" --type="$BACKUP_TYPE" \
  --compress="$BACKUP_COMPRESS" --temp-path="$BACKUP_TEMP" $extra "$@"
neo4j-admin backup inspect --show-metadata --empty --format=TABULAR "` + BackupChainsDir + `" > "` + BackupInspectFile + `"
`

// BackupJobDeadline is a backup Job's activeDeadlineSeconds: how long a
// run may take before the Job controller stops its Pod.
const BackupJobDeadline = 6 * time.Hour

// BackupLockTTL is how long a backup run holds its bucket locks
// (backup/lock). It derives from, and exceeds, BackupJobDeadline: the
// deadline counts from the Job's start, before the Pod is scheduled and
// takes its locks, so a lock taken later and lasting longer cannot
// expire under a running Job; the margin covers the Pod's termination
// grace period (the lock sidecar releases on SIGTERM) and clock skew
// between the node and the bucket. A lock outliving a killed run only
// delays the next run until it expires.
const BackupLockTTL = BackupJobDeadline + backupLockMargin

const backupLockMargin = 15 * time.Minute

// BackupJobTemplate returns the spec of a backup Job of type typ (FULL or
// DIFF): the CronJobs' template, and what `neo4jctl backup create` runs
// on demand. databases overrides spec.backups.schedule.databases (nil:
// the schedule's, else every database).
func BackupJobTemplate(c *clusterfile.Cluster, namespace, typ string, databases []string) (batchv1.JobSpec, error) {
	b := c.Spec.Backups
	if b == nil {
		return batchv1.JobSpec{}, fmt.Errorf("render: the cluster file has no spec.backups")
	}
	if !isEnterprise(c) {
		return batchv1.JobSpec{}, fmt.Errorf("render: neo4j-admin database backup is Enterprise only; Community takes offline dumps")
	}
	if typ != BackupFull && typ != BackupDiff {
		return batchv1.JobSpec{}, fmt.Errorf("render: backup type %q is not FULL or DIFF", typ)
	}
	compress := true
	if len(databases) == 0 {
		databases = []string{clusterfile.DefaultBackupDatabases}
		if s := b.Schedule; s != nil {
			if len(s.Databases) > 0 {
				databases = s.Databases
			}
			if s.Compress != nil {
				compress = *s.Compress
			}
		}
	} else if s := b.Schedule; s != nil && s.Compress != nil {
		compress = *s.Compress
	}

	image, pullPolicy := AdminImage(c)
	chains := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	if b.ChainVolume != nil {
		chains = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: BackupClaimName(c)}}
	}
	adminMounts := []corev1.VolumeMount{
		{Name: "chains", MountPath: BackupChainsDir},
		{Name: "work", MountPath: BackupWorkDir},
		{Name: "tmp", MountPath: "/tmp"},
		// neo4j-admin writes its own log under $NEO4J_HOME/logs, on the
		// read-only root filesystem otherwise.
		{Name: "admin-logs", MountPath: neo4jHome + "/logs"},
	}
	env := []corev1.EnvVar{
		{Name: "BACKUP_FROM", Value: strings.Join(BackupFromAddresses(c, namespace), ",")},
		{Name: "BACKUP_TYPE", Value: typ},
		{Name: "BACKUP_COMPRESS", Value: fmt.Sprint(compress)},
		{Name: "BACKUP_TEMP", Value: BackupWorkDir + "/temp"},
	}
	var tlsVolumes []corev1.Volume
	if tlsScope(c, "backup") {
		// The backup client needs the servers' backup SSL policy: the
		// manual's advice is the same policy on both sides, given to
		// the client in its own configuration file (online-backup.adoc,
		// Security configurations).
		var lines []string
		for k, v := range tlsConf(c) {
			if strings.HasPrefix(k, "dbms.ssl.policy.backup.") {
				lines = append(lines, k+"="+v)
			}
		}
		sort.Strings(lines)
		env = append(env, corev1.EnvVar{Name: "BACKUP_ADMIN_CONF", Value: strings.Join(lines, "\n")})
		adminMounts = append(adminMounts, corev1.VolumeMount{Name: volTLS, MountPath: certificatesDir + "/backup", ReadOnly: true})
		for _, v := range podVolumes(c, "") { // only its TLS volume is taken: the settings' hash plays no part
			if v.Name == volTLS {
				tlsVolumes = append(tlsVolumes, v)
			}
		}
	}
	return backupJobSpec(c, backupPod{
		labels:    BackupPodLabels(c, typ),
		databases: databases,
		volumes:   []corev1.Volume{{Name: "chains", VolumeSource: chains}},
		admin: corev1.Container{
			Name:            "neo4j-admin",
			Image:           image,
			ImagePullPolicy: pullPolicy,
			Command:         append([]string{"bash", "-c", backupScript, "backup"}, databases...),
			Env:             env,
			VolumeMounts:    adminMounts,
		},
		// Read-only: the agent uploads what neo4j-admin wrote and never
		// changes a chain.
		agentMounts: []corev1.VolumeMount{{Name: "chains", MountPath: BackupChainsDir, ReadOnly: true}},
		agentArgs: []string{"backup", "agent",
			"-f", BackupClusterFileDir + "/" + backupClusterFileKey,
			"--from-dir", BackupChainsDir,
			"--inspect-file", BackupInspectFile,
			// Recorded to show a DIFF that neo4j-admin turned into a FULL;
			// retention runs after every stored run (the agent's default).
			"--requested-type", typ,
		},
		// The lock holder cleans the chain claim of superseded chains
		// whose artifacts are all uploaded, once no other run can use it.
		lockMounts:      []corev1.VolumeMount{{Name: "chains", MountPath: BackupChainsDir}},
		lockArgs:        []string{"--clean-chains", BackupChainsDir},
		trailingVolumes: tlsVolumes,
	}), nil
}

// backupPod is what differs between the backup Pods (online backup,
// offline dump): the rest — the lock sidecar, the agent, the scratch and
// Secret volumes, the security context — is backupJobSpec's.
type backupPod struct {
	labels    map[string]string
	databases []string
	// volumes come first, before work, tmp, admin-logs, cluster-file and
	// the Secrets; trailingVolumes last.
	volumes, trailingVolumes []corev1.Volume
	// admin is the neo4j-admin init container, without its security
	// context (the restricted one is set here).
	admin corev1.Container
	// agentMounts come before work, tmp, cluster-file and the Secrets.
	agentMounts []corev1.VolumeMount
	agentArgs   []string
	// lockMounts and lockArgs are added to the lock holder's.
	lockMounts []corev1.VolumeMount
	lockArgs   []string
}

// backupJobSpec is the spec of a backup Job: the lock sidecar (a native
// sidecar holding the bucket locks), then neo4j-admin, then the agent,
// under the restricted security context.
func backupJobSpec(c *clusterfile.Cluster, p backupPod) batchv1.JobSpec {
	b := c.Spec.Backups
	sc := restrictedContainer()
	volumes := append(append([]corev1.Volume(nil), p.volumes...),
		corev1.Volume{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "admin-logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "cluster-file", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: BackupConfigMapName(c)},
		}}},
	)
	agentMounts := append(append([]corev1.VolumeMount(nil), p.agentMounts...),
		corev1.VolumeMount{Name: "work", MountPath: BackupWorkDir, ReadOnly: true},
		corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"},
		corev1.VolumeMount{Name: "cluster-file", MountPath: BackupClusterFileDir, ReadOnly: true},
	)
	for _, s := range backupSecrets(b) {
		vol := "secret-" + s
		volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: s, DefaultMode: ptr.To[int32](0o440),
		}}})
		agentMounts = append(agentMounts, corev1.VolumeMount{Name: vol, MountPath: BackupSecretsDir + "/" + s, ReadOnly: true})
	}
	volumes = append(volumes, p.trailingVolumes...)

	lockArgs := []string{"backup", "lock", "-f", BackupClusterFileDir + "/" + backupClusterFileKey,
		"--state-dir", BackupWorkDir, "--ttl", BackupLockTTL.String()}
	for _, db := range p.databases {
		lockArgs = append(lockArgs, "--database", db)
	}
	lockArgs = append(lockArgs, p.lockArgs...)
	lockMounts := append(append([]corev1.VolumeMount(nil), p.lockMounts...),
		corev1.VolumeMount{Name: "work", MountPath: BackupWorkDir},
		corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"},
		corev1.VolumeMount{Name: "cluster-file", MountPath: BackupClusterFileDir, ReadOnly: true},
	)
	for _, m := range agentMounts {
		if strings.HasPrefix(m.MountPath, BackupSecretsDir+"/") {
			lockMounts = append(lockMounts, m)
		}
	}
	admin := p.admin
	admin.SecurityContext = sc.DeepCopy()
	return batchv1.JobSpec{
		// One attempt: a retry is another backup, and the next schedule
		// (or the user) takes it; the failure stays visible in the Job.
		BackoffLimit:          ptr.To(int32(0)),
		ActiveDeadlineSeconds: ptr.To(int64(BackupJobDeadline / time.Second)),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: BackupPodMeta(c, p.labels),
			Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyNever,
				ServiceAccountName:           BackupServiceAccountName(c),
				AutomountServiceAccountToken: ptr.To(false),
				// NEO4J_* variables from Service links would reach
				// neo4j-admin's configuration.
				EnableServiceLinks: ptr.To(false),
				// The chain claim must be writable by neo4j-admin and
				// readable by the agent, both running as neo4j.
				SecurityContext:  restrictedPod(),
				ImagePullSecrets: pullSecrets(c.Spec.ImagePullSecrets),
				NodeSelector:     c.Spec.Scheduling.NodeSelector,
				Tolerations:      tolerations(c.Spec.Scheduling.Tolerations),
				InitContainers: []corev1.Container{{
					// A native sidecar (an init container that keeps
					// running, Kubernetes 1.29+): it takes the per-database
					// bucket locks before neo4j-admin starts and holds them
					// until the kubelet stops it after the agent exits, so
					// one lock covers the whole run, across CronJobs,
					// clusters and regions sharing the bucket.
					Name:            "lock",
					Image:           AgentImage(),
					ImagePullPolicy: corev1.PullIfNotPresent,
					RestartPolicy:   ptr.To(corev1.ContainerRestartPolicyAlways),
					Args:            lockArgs,
					Env: []corev1.EnvVar{
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					},
					SecurityContext: sc.DeepCopy(),
					VolumeMounts:    lockMounts,
				}, admin},
				Containers: []corev1.Container{{
					Name:            "agent",
					Image:           AgentImage(),
					ImagePullPolicy: corev1.PullIfNotPresent,
					// The agent-only binary of the same image: the same code as
					// `neo4jctl backup agent` (it accepts those two words), without
					// client-go and the CLI, so its peak memory stays under 64 MiB
					// (docs/benchmarks.md § backup agent).
					Command: []string{AgentBinary},
					Args:    p.agentArgs,
					Env: []corev1.EnvVar{
						// The lock holder and the catalogue's writer.
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					},
					SecurityContext: sc,
					VolumeMounts:    agentMounts,
				}},
				Volumes: volumes,
			},
		},
	}
}

// backupSecrets are the Secrets the agent reads, each once, sorted: the
// keyset and every location's credentials.
func backupSecrets(b *clusterfile.Backups) []string {
	set := map[string]bool{b.Encryption.KeysetSecret.Name: true}
	for _, l := range append([]clusterfile.BackupLocation{b.Storage}, b.Copies...) {
		if l.CredentialsSecret != "" {
			set[l.CredentialsSecret] = true
		}
	}
	delete(set, "")
	return slices.Sorted(maps.Keys(set))
}

// BackupDumpsDir is where the offline dump Job's neo4j-admin writes the
// dumps and the agent reads them: per-run scratch (a dump is whole, there
// is no chain to keep).
const BackupDumpsDir = BackupWorkDir + "/dumps"

// BackupDump is the backup-type label value of the offline dump Pods.
const BackupDump = "DUMP"

// DataClaimName is the data claim of a pool's server ordinal: the
// StatefulSet's claim template "data" bound to Pod <sts>-<ordinal>.
func DataClaimName(c *clusterfile.Cluster, pool string, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", volData, StatefulSetName(c, pool), ordinal)
}

// dumpScript runs in the offline dump Pod's neo4j-admin container:
// `neo4j-admin database dump` of each database given as an argument into
// BackupDumpsDir, reading the store from the server's data claim mounted
// where the server mounts it (Operations Manual 5.26,
// backup-restore/offline-backup.adoc, "Command": on Community "the
// command can be run only on an offline Neo4j DBMS"; "Syntax": --to-path
// is a directory receiving <database>.dump, the database name "can
// contain * and ? for globbing"; --additional-config, per
// tools/neo4j-admin/index.adoc "Configuration", points it at the data
// directory). Like backupScript it starts once the lock holder has taken
// the bucket locks.
const dumpScript = `set -eu
` + waitForLockScript + `mkdir -p "` + BackupDumpsDir + `"
printf 'server.directories.data=` + dataDir + `\n' > /tmp/neo4j-admin-dump.conf
for db in "$@"; do
  neo4j-admin database dump --additional-config=/tmp/neo4j-admin-dump.conf --to-path="` + BackupDumpsDir + `" --overwrite-destination=true "$db"
done
`

// OfflineDumpJob is the Job of `neo4jctl backup create --offline`, for
// a server that has been stopped: an init container runs `neo4j-admin
// database dump` on the main pool's ordinal-0 data claim, then the agent
// (the Pod's container, as in the online backup Pods) stores every dump
// in the bucket. It holds the same bucket locks as an online run, under
// the same restricted security context and labels (component
// neo4jctl-backup, backup type dump). databases nil dumps the schedule's
// databases (default every one).
func OfflineDumpJob(c *clusterfile.Cluster, namespace string, databases []string, now time.Time) (*batchv1.Job, error) {
	b := c.Spec.Backups
	if b == nil {
		return nil, fmt.Errorf("render: the cluster file has no spec.backups")
	}
	if len(databases) == 0 {
		databases = []string{clusterfile.DefaultBackupDatabases}
		if s := b.Schedule; s != nil && len(s.Databases) > 0 {
			databases = s.Databases
		}
	}
	image, pullPolicy := AdminImage(c)
	main := Pools(c)[0].Name
	spec := backupJobSpec(c, backupPod{
		labels:    BackupPodLabels(c, BackupDump),
		databases: databases,
		volumes: []corev1.Volume{{Name: volData, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: DataClaimName(c, main, 0)},
		}}},
		admin: corev1.Container{
			Name:            "neo4j-admin",
			Image:           image,
			ImagePullPolicy: pullPolicy,
			Command:         append([]string{"bash", "-c", dumpScript, "dump"}, databases...),
			VolumeMounts: []corev1.VolumeMount{
				// Read-write: neo4j-admin takes the store's lock file.
				{Name: volData, MountPath: dataDir},
				{Name: "work", MountPath: BackupWorkDir},
				{Name: "tmp", MountPath: "/tmp"},
				{Name: "admin-logs", MountPath: neo4jHome + "/logs"},
			},
		},
		agentArgs: []string{"backup", "agent",
			"-f", BackupClusterFileDir + "/" + backupClusterFileKey,
			"--from-dir", BackupDumpsDir,
			"--requested-type", BackupFull,
		},
	})
	name := c.Metadata.Name + "-backup-dump"
	suffix := "-" + now.UTC().Format("20060102150405")
	if len(name)+len(suffix) > 63 {
		name = strings.TrimRight(name[:63-len(suffix)], "-.")
	}
	meta := backupMeta(c, namespace, name+suffix)
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: meta, Spec: spec}, nil
}
