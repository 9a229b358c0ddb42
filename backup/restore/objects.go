package restore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lazyre"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Paths inside the restore Pods.
const (
	// WorkDir holds the downloaded (decrypted) artifacts.
	WorkDir = "/restore/work"
	// ServeDir holds what the seed Pod serves: one dump or backup.
	ServeDir = "/restore/serve"
	// ConfDir is the restore ConfigMap: the agent's cluster file and
	// neo4j-admin's additional configuration.
	ConfDir = "/restore/conf"
	// SeedPort is the seed server's HTTP port.
	SeedPort int32 = 8080
	// AnnotationPoint on a restore object names the catalogue entry it
	// restores, so a rerun knows whether what it finds is its own.
	AnnotationPoint = "neo4jctl.io/restore-point"
	// neo4jHome is the official image's installation directory.
	neo4jHome = "/var/lib/neo4j"
	// dataDir is where the servers' data claim is mounted (manifests).
	dataDir = "/data"
	// deadline bounds a restore Pod that neo4jctl lost track of (its
	// process killed): the Pod stops on its own.
	deadline = 6 * time.Hour
	uid      = int64(7474)
)

// adminConf is neo4j-admin's --additional-config: the data directory of
// the mounted claim, said rather than left to the image's symlink
// (Operations Manual 5.26, configuration/file-locations.adoc,
// server.directories.data).
const adminConf = "server.directories.data=" + dataDir + "\n"

var nonName = lazyre.New(`[^a-z0-9-]+`)

// objectName is <cluster>-restore-<database>, made a DNS label (a
// Service name): lower case, no dots, at most 63 characters, with a short
// hash of the database name so two names that sanitise alike differ.
func objectName(cluster, database string) string {
	sum := sha256.Sum256([]byte(database))
	h := hex.EncodeToString(sum[:])[:6]
	db := strings.Trim(nonName.ReplaceAllString(strings.ToLower(database), "-"), "-")
	base := cluster + "-restore-" + db
	if len(base) > 63-7 {
		base = strings.TrimRight(base[:63-7], "-")
	}
	return base + "-" + h
}

func labels(c *clusterfile.Cluster, name string) map[string]string {
	l := manifests.Labels(c)
	l[manifests.LabelComponent] = kube.RestoreComponent
	l["neo4jctl.io/restore"] = name
	return l
}

func meta(c *clusterfile.Cluster, p *Plan, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: labels(c, name),
		Annotations: map[string]string{AnnotationPoint: p.Point.Target().ID}}
}

// jobPodMeta is the load Job's Pod template's metadata: its labels, and
// spec.pod's under workload identity (podMeta).
func jobPodMeta(c *clusterfile.Cluster, p *Plan, name string) metav1.ObjectMeta {
	m := podMeta(c, p, name)
	out := metav1.ObjectMeta{Labels: m.Labels}
	delete(m.Annotations, AnnotationPoint)
	if len(m.Annotations) > 0 {
		out.Annotations = m.Annotations
	}
	return out
}

// podMeta is meta for a Pod that reads the bucket (the load Job's Pod,
// the seed Pod): under workload identity it carries spec.pod's labels
// and annotations as the backup Pods do (manifests.BackupPodMeta),
// neo4jctl's own winning.
func podMeta(c *clusterfile.Cluster, p *Plan, name string) metav1.ObjectMeta {
	m := meta(c, p, name)
	pm := manifests.BackupPodMeta(c, m.Labels)
	m.Labels = pm.Labels
	if len(pm.Annotations) > 0 {
		maps.Copy(pm.Annotations, m.Annotations)
		m.Annotations = pm.Annotations
	}
	return m
}

// restrictedPod and restrictedContainer are the restricted Pod Security
// Standard as the servers and backup Jobs run it (manifests'
// restrictedPod/restrictedContainer): neo4j's uid, no privilege, a
// read-only root filesystem.
func restrictedPod() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(uid), RunAsGroup: ptr.To(uid), FSGroup: ptr.To(uid),
		FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(uid), RunAsGroup: ptr.To(uid),
		AllowPrivilegeEscalation: ptr.To(false), Privileged: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// Secrets are the Secrets the fetch containers read: the keyset and the
// storage's credentials, each once.
func Secrets(b *clusterfile.Backups) []string {
	set := map[string]bool{b.Encryption.KeysetSecret.Name: true}
	if s := b.Storage.CredentialsSecret; s != "" {
		set[s] = true
	}
	var out []string
	for s := range set {
		if s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// FetchArgs are the neo4jctl arguments that download entry e, decrypted
// and digest-checked, to file: `backup download`, as in the fetch
// containers. clusterFile and secretsDir are where they are mounted.
func FetchArgs(e catalog.Entry, file, clusterFile, secretsDir string) []string {
	return []string{"backup", "download", e.ID, "-o", file, "-f", clusterFile, "--secrets-dir", secretsDir}
}

// LoadArgs are the neo4j-admin arguments that load <dir>/<database>.dump
// over the database's store (Operations Manual 5.26,
// backup-restore/restore-dump.adoc, "Syntax": --from-path is the
// directory holding <database>.dump; --overwrite-destination replaces an
// existing database, which must be stopped).
func LoadArgs(database, dir, additionalConfig string) []string {
	args := []string{"database", "load", database, "--from-path=" + dir, "--overwrite-destination=true"}
	if additionalConfig != "" {
		args = append(args, "--additional-config="+additionalConfig)
	}
	return args
}

// Objects are what a restore creates in the cluster for its duration.
type Objects struct {
	ConfigMap     *corev1.ConfigMap
	Job           *batchv1.Job // Community: the load Job
	Pod           *corev1.Pod  // Enterprise: the seed Pod
	Service       *corev1.Service
	NetworkPolicy *networkingv1.NetworkPolicy
}

// Build renders the restore's objects for p into c, the target cluster.
// agentClusterFile is the cluster file the fetch containers read (the
// backup ConfigMap's, from manifests.BackupSupport, of the source cluster
// with FetchBackups): spec.backups without the rest.
func Build(c *clusterfile.Cluster, p *Plan, agentClusterFile string) (Objects, error) {
	if len(p.Source.Secrets) == 0 {
		return Objects{}, fmt.Errorf("restore: the plan names no Secret to read the backups with (the source has no spec.backups)")
	}
	name := p.ObjectName
	o := Objects{ConfigMap: &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(c, p, name),
		Data:       map[string]string{"cluster.yaml": agentClusterFile, "admin.conf": adminConf},
	}}
	if p.Point.Location != "" {
		// A copy bucket has no catalogue: the entries travel with the Pod.
		for i, e := range p.Point.Chain {
			js, err := EncodeEntry(e)
			if err != nil {
				return Objects{}, err
			}
			o.ConfigMap.Data[EntryFile(i)] = js
		}
	}
	image, pull := manifests.AdminImage(c)
	volumes := []corev1.Volume{
		{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "admin-logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
	}
	fetchMounts := []corev1.VolumeMount{
		{Name: "work", MountPath: WorkDir},
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "conf", MountPath: ConfDir, ReadOnly: true},
	}
	for _, s := range p.Source.Secrets {
		v := "secret-" + s
		volumes = append(volumes, corev1.Volume{Name: v, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: s, DefaultMode: ptr.To[int32](0o440)}}})
		fetchMounts = append(fetchMounts, corev1.VolumeMount{Name: v, MountPath: manifests.BackupSecretsDir + "/" + s, ReadOnly: true})
	}
	adminMounts := []corev1.VolumeMount{
		{Name: "work", MountPath: WorkDir},
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "conf", MountPath: ConfDir, ReadOnly: true},
		// neo4j-admin writes its own log under $NEO4J_HOME/logs.
		{Name: "admin-logs", MountPath: neo4jHome + "/logs"},
	}
	var fetch []corev1.Container
	for i, e := range p.Point.Chain {
		file := path.Join(WorkDir, e.File)
		if p.Kind == KindCommunityLoad {
			// load reads <from-path>/<database>.dump.
			file = path.Join(WorkDir, p.Into+".dump")
		}
		fetch = append(fetch, corev1.Container{
			Name: fmt.Sprintf("fetch-%d", i), Image: manifests.AgentImage(), ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            fetchArgs(p, i, e, file),
			SecurityContext: restrictedContainer(), VolumeMounts: fetchMounts,
		})
	}
	spec := corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		ServiceAccountName:           p.ServiceAccount,
		AutomountServiceAccountToken: ptr.To(false),
		// NEO4J_* variables from Service links would reach neo4j-admin.
		EnableServiceLinks: ptr.To(false),
		SecurityContext:    restrictedPod(),
		ImagePullSecrets:   pullSecrets(c.Spec.ImagePullSecrets),
		NodeSelector:       c.Spec.Scheduling.NodeSelector,
		Volumes:            volumes,
	}

	switch p.Kind {
	case KindCommunityLoad:
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: p.Claim}}})
		spec.InitContainers = fetch
		spec.Containers = []corev1.Container{{
			Name: "load", Image: image, ImagePullPolicy: pull,
			Command:         append([]string{"neo4j-admin"}, LoadArgs(p.Into, WorkDir, ConfDir+"/admin.conf")...),
			SecurityContext: restrictedContainer(),
			VolumeMounts:    append(adminMounts, corev1.VolumeMount{Name: "data", MountPath: dataDir}),
		}}
		o.Job = &batchv1.Job{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
			ObjectMeta: meta(c, p, name),
			Spec: batchv1.JobSpec{
				// One attempt: a failed load is reported, and a rerun of
				// restore makes the next one.
				BackoffLimit:          ptr.To(int32(0)),
				ActiveDeadlineSeconds: ptr.To(int64(deadline / time.Second)),
				Template:              corev1.PodTemplateSpec{ObjectMeta: jobPodMeta(c, p, name), Spec: spec},
			},
		}
		return o, nil

	case KindClusterSeed:
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "restore-data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		init := fetch
		if p.SeedFile == "" {
			// Replay the chain (cut at --restore-until), then dump the
			// result: the seed is one file a URL can name.
			mounts := append(append([]corev1.VolumeMount(nil), adminMounts...), corev1.VolumeMount{Name: "restore-data", MountPath: dataDir})
			init = append(init,
				corev1.Container{Name: "restore", Image: image, ImagePullPolicy: pull,
					Command:         append(append([]string{"neo4j-admin"}, p.Point.AdminRestoreArgs(WorkDir, p.Into, true)...), "--additional-config="+ConfDir+"/admin.conf"),
					SecurityContext: restrictedContainer(), VolumeMounts: mounts},
				// Operations Manual 5.26, backup-restore/offline-backup.adoc,
				// "Syntax": --to-path is a directory; <database>.dump is
				// written in it.
				corev1.Container{Name: "dump", Image: image, ImagePullPolicy: pull,
					Command:         []string{"neo4j-admin", "database", "dump", p.Into, "--to-path=" + WorkDir, "--additional-config=" + ConfDir + "/admin.conf"},
					SecurityContext: restrictedContainer(), VolumeMounts: mounts},
			)
		}
		spec.InitContainers = init
		spec.ActiveDeadlineSeconds = ptr.To(int64(deadline / time.Second))
		serveFile := p.SeedFileName()
		spec.Containers = []corev1.Container{{
			Name: "serve", Image: manifests.AgentImage(), ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            []string{"restore", "serve", "--dir", WorkDir, "--file", serveFile, "--listen", fmt.Sprintf(":%d", SeedPort)},
			Ports:           []corev1.ContainerPort{{Name: "seed", ContainerPort: SeedPort}},
			SecurityContext: restrictedContainer(),
			VolumeMounts:    []corev1.VolumeMount{{Name: "work", MountPath: WorkDir, ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/healthz", Port: intstr.FromInt32(SeedPort)}}, PeriodSeconds: 2},
		}}
		o.Pod = &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: podMeta(c, p, name), Spec: spec}
		o.Service = &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: meta(c, p, name),
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"neo4jctl.io/restore": name, manifests.LabelComponent: kube.RestoreComponent},
				Ports:    []corev1.ServicePort{{Name: "seed", Port: SeedPort, TargetPort: intstr.FromInt32(SeedPort)}},
			},
		}
		// Only the cluster's server Pods may read the plaintext seed.
		o.NetworkPolicy = &networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: meta(c, p, name),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"neo4jctl.io/restore": name}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: serverSelector(c)}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(SeedPort))}},
				}},
			},
		}
		return o, nil
	}
	return Objects{}, fmt.Errorf("restore: unknown kind %q", p.Kind)
}

// serverSelector selects the cluster's server Pods (not its backup or
// restore Pods, which carry another component).
func serverSelector(c *clusterfile.Cluster) map[string]string {
	l := manifests.ClusterSelector(c)
	l[manifests.LabelComponent] = manifests.Component
	return l
}

func pullSecrets(names []string) []corev1.LocalObjectReference {
	var out []corev1.LocalObjectReference
	for _, n := range names {
		out = append(out, corev1.LocalObjectReference{Name: n})
	}
	return out
}
