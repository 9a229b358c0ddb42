package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Restore verification in the cluster (docs/backups.md, "verify"): a Pod
// in a scratch namespace of its own runs the Neo4j image's neo4j-admin
// under `neo4jctl backup verify --local`, the neo4jctl binary copied in
// from neo4jctl's image by an init container.
//
// One fixed scratch namespace per cluster rather than one per run: RBAC
// cannot limit `create` on namespaces to a name (resourceNames does not
// apply to create; Kubernetes docs, "Using RBAC Authorization", Referring
// to resources), and whoever may delete namespaces may delete any, so a
// CronJob creating and removing namespaces would need cluster-wide power.
// The scratch namespace, its quota, limit range, ServiceAccount and
// cluster file are applied by `neo4jctl backup verify` (VerifyObjects);
// the Pod's ServiceAccount has no namespace verbs at all, only `get` on
// the keyset and storage Secrets by name, granted by a Role in the
// cluster's namespace: a Secret volume cannot reach across namespaces,
// and copying the keyset into the scratch namespace would spread the key.
//
// The objects carry no neo4jctl.io/cluster label on purpose: the cluster's
// apply set (inventory) is confined to its namespace and prunes what
// carries that label there, so the verification Role would be deleted by
// the next `neo4jctl apply` as an object the file does not render.

// VerifyComponent is the app.kubernetes.io/component (and name) of the
// verification objects and Pods.
const VerifyComponent = "neo4jctl-verify"

// Names and paths of the verification objects and Pods.
const (
	// VerifyServiceAccountName is the verification Pods' ServiceAccount,
	// in the scratch namespace.
	VerifyServiceAccountName = "neo4jctl-verify"
	// VerifyCronJobName is spec.backups.verification.schedule's CronJob.
	VerifyCronJobName = "neo4jctl-verify"
	// VerifyConfigMapName holds the cluster file the Pod verifies with.
	VerifyConfigMapName = "neo4jctl-verify-cluster"
	// VerifyQuotaName is the scratch namespace's ResourceQuota and
	// LimitRange.
	VerifyQuotaName = "neo4jctl-verify"
	// VerifyBinDir receives the neo4jctl binary the init container
	// copies; the verify container runs it from there.
	VerifyBinDir    = "/opt/neo4jctl"
	VerifyBinary    = VerifyBinDir + "/neo4jctl"
	verifyImageBin  = "/usr/local/bin/neo4jctl" // e2e/image.BinaryPath
	verifyScratch   = "/tmp"
	verifyFileDir   = "/etc/neo4jctl/cluster"
	verifyFileKey   = "cluster.yaml"
	labelVerifyOfNS = "neo4jctl.io/verify-namespace"
)

// Environment variables of the verify container naming its Job, which
// `backup verify --local` records as where it ran.
const (
	VerifyJobNameEnv      = "NEO4JCTL_VERIFY_JOB"
	VerifyJobNamespaceEnv = "NEO4JCTL_VERIFY_NAMESPACE"
)

// VerifyWhere is the catalogue's Verification.Where of a run in Job
// namespace/name.
func VerifyWhere(namespace, job string) string { return "job " + namespace + "/" + job }

// VerifyJobDeadline is a verification Job's activeDeadlineSeconds: a
// download, a load and a full consistency check of the largest database.
const VerifyJobDeadline = 3 * time.Hour

// Resources of the verification Pod and the scratch namespace's limits.
// Disk is bounded by the volumes, not by ephemeral-storage requests: the
// root filesystem is read-only, so everything written goes to an emptyDir
// with a sizeLimit (the kubelet evicts a Pod whose emptyDir outgrows it),
// the scratch one holding the downloaded dump and the restored store
// (about twice the database). No ephemeral-storage request: a request of
// it would keep the Pod off nodes that do not report the resource. The
// quota admits one verification Pod at a time plus one finishing.
var (
	VerifyScratchSize = resource.MustParse("20Gi")
	verifyRequests    = corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("500m"),
		corev1.ResourceMemory: resource.MustParse("1Gi"),
	}
	verifyLimits = corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("2Gi"),
	}
	// The init container only copies a file.
	verifyInitResources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	verifyBinSize  = resource.MustParse("256Mi")
	verifyLogsSize = resource.MustParse("1Gi")
)

// VerifyNamespaceName is the cluster's scratch namespace:
// neo4jctl-verify-<namespace>-<cluster>, shortened with a digest when
// longer than a namespace name may be (63).
func VerifyNamespaceName(c *clusterfile.Cluster, namespace string) string {
	return verifyNamespaceName(namespace, c.Metadata.Name)
}

func verifyNamespaceName(namespace, cluster string) string {
	n := "neo4jctl-verify-" + namespace + "-" + cluster
	if len(n) <= 63 {
		return n
	}
	sum := sha256.Sum256([]byte(namespace + "/" + cluster))
	return strings.TrimRight(n[:63-9], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
}

// VerifyRoleName is the Role (and RoleBinding) in the cluster's namespace
// that lets the scratch ServiceAccount read the two Secrets.
func VerifyRoleName(c *clusterfile.Cluster) string { return c.Metadata.Name + "-verify-secrets" }

// VerifySecrets are the Secrets a verification reads, sorted: the keyset
// and the storage's credentials (copies are never read by verify).
func VerifySecrets(b *clusterfile.Backups) []string {
	out := []string{b.Encryption.KeysetSecret.Name}
	if s := b.Storage.CredentialsSecret; s != "" && s != out[0] {
		out = append(out, s)
	}
	if len(out) == 2 && out[1] < out[0] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// VerifyLabels are the labels of every verification object and Pod. No
// neo4jctl.io/cluster (see the package comment above) and no
// app.kubernetes.io/name=neo4j (the servers' selectors).
func VerifyLabels(c *clusterfile.Cluster, namespace string) map[string]string {
	return map[string]string{
		LabelName:       VerifyComponent,
		LabelInstance:   c.Metadata.Name,
		LabelManagedBy:  ManagedBy,
		LabelComponent:  VerifyComponent,
		labelVerifyOfNS: namespace,
	}
}

func verifyMeta(c *clusterfile.Cluster, clusterNS, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: VerifyLabels(c, clusterNS)}
}

// VerifyTypedObjects are the verification objects of a cluster with
// spec.backups, in apply order: the scratch namespace (Pod Security
// restricted, enforced), its ResourceQuota and LimitRange, the
// ServiceAccount and the cluster file; in the cluster's namespace the
// Role and RoleBinding granting that ServiceAccount `get` on the keyset
// and storage Secrets by name; and, with
// spec.backups.verification.schedule, the CronJob.
func VerifyTypedObjects(c *clusterfile.Cluster, namespace string) ([]runtime.Object, error) {
	b := c.Spec.Backups
	if b == nil {
		return nil, fmt.Errorf("render: the cluster file has no spec.backups")
	}
	scratch := VerifyNamespaceName(c, namespace)
	nsMeta := verifyMeta(c, namespace, "", scratch)
	// Pod Security admission enforces the restricted profile on every Pod
	// of the namespace (Kubernetes docs, "Pod Security Admission", labels
	// pod-security.kubernetes.io/<mode>): the verification Pod meets it,
	// anything else started there is refused.
	for _, mode := range []string{"enforce", "audit", "warn"} {
		nsMeta.Labels["pod-security.kubernetes.io/"+mode] = "restricted"
		nsMeta.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	file, err := agentClusterFile(c, namespace)
	if err != nil {
		return nil, err
	}
	podLimits := verifyLimits.DeepCopy()
	objs := []runtime.Object{
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: nsMeta},
		&corev1.ResourceQuota{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
			ObjectMeta: verifyMeta(c, namespace, scratch, VerifyQuotaName),
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				// One verification at a time (the CronJob forbids
				// overlap), plus one finishing.
				corev1.ResourcePods:                                 resource.MustParse("2"),
				corev1.ResourceRequestsCPU:                          resource.MustParse("1"),
				corev1.ResourceRequestsMemory:                       resource.MustParse("2Gi"),
				corev1.ResourceLimitsCPU:                            resource.MustParse("4"),
				corev1.ResourceLimitsMemory:                         resource.MustParse("4Gi"),
				corev1.ResourcePersistentVolumeClaims:               resource.MustParse("0"),
				corev1.ResourceServicesLoadBalancers:                resource.MustParse("0"),
				corev1.ResourceServicesNodePorts:                    resource.MustParse("0"),
				corev1.ResourceName("count/deployments.apps"):       resource.MustParse("0"),
				corev1.ResourceName("count/statefulsets.apps"):      resource.MustParse("0"),
				corev1.ResourceName("count/replicationcontrollers"): resource.MustParse("0"),
			}},
		},
		&corev1.LimitRange{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
			ObjectMeta: verifyMeta(c, namespace, scratch, VerifyQuotaName),
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer,
				// A container without resources gets the init
				// container's, small; none may exceed the verify
				// container's.
				Default:        verifyInitResources.Limits.DeepCopy(),
				DefaultRequest: verifyInitResources.Requests.DeepCopy(),
				Max:            podLimits,
			}}},
		},
		verifyServiceAccount(c, namespace, scratch),
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: verifyMeta(c, namespace, scratch, VerifyConfigMapName),
			Data:       map[string]string{verifyFileKey: file},
		},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: verifyMeta(c, namespace, namespace, VerifyRoleName(c)),
			// get by name only: resourceNames limits get (not list or
			// watch, which would reveal every Secret of the namespace).
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"},
				ResourceNames: VerifySecrets(b),
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: verifyMeta(c, namespace, namespace, VerifyRoleName(c)),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: VerifyRoleName(c)},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: VerifyServiceAccountName, Namespace: scratch}},
		},
	}
	if cj := VerifyCronJob(c, namespace); cj != nil {
		objs = append(objs, cj)
	}
	return objs, nil
}

// verifyServiceAccount is the verification Pods' ServiceAccount. With
// workload identity (spec.backups.storage.workloadIdentity) it carries
// spec.serviceAccount.annotations, as the backup Pods' ServiceAccount
// does: the verification Pod reads the same storage as that identity
// (IRSA's role ARN, GKE's service account, Azure's client id). The cloud
// side must trust this ServiceAccount too (docs/backups.md, "verify").
func verifyServiceAccount(c *clusterfile.Cluster, namespace, scratch string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: verifyMeta(c, namespace, scratch, VerifyServiceAccountName),
		// Only the verification Pod mounts a token (it reads two
		// Secrets through the API); anything else run as this
		// account gets none.
		AutomountServiceAccountToken: ptr.To(false),
	}
	if workloadIdentity(c.Spec.Backups) {
		sa = withServiceAccountAnnotations(sa, c)
	}
	return sa
}

// LabelVerifyPullSecret marks the copies of the cluster's image pull
// Secrets in the scratch namespace; AnnotationCopiedFrom names the Secret
// each was copied from (namespace/name).
const (
	LabelVerifyPullSecret = "neo4jctl.io/verify-pull-secret"
	AnnotationCopiedFrom  = "neo4jctl.io/copied-from"
)

// VerifyPullSecretCopy is the copy, in the scratch namespace, of the
// cluster's image pull Secret name (spec.imagePullSecrets), with the type
// and data read from the cluster's namespace: a Pod's imagePullSecrets
// name Secrets of its own namespace only (Kubernetes API, PodSpec
// imagePullSecrets: "references to secrets in the same namespace"), and
// the verification Pod pulls the Neo4j image and neo4jctl's from the
// registries the servers and the backup Pods pull them from.
// `neo4jctl backup verify` reads the source and applies the copy each
// time it applies the verification objects; its values are never printed.
func VerifyPullSecretCopy(c *clusterfile.Cluster, namespace, name string, typ corev1.SecretType, data map[string][]byte) (*unstructured.Unstructured, error) {
	meta := verifyMeta(c, namespace, VerifyNamespaceName(c, namespace), name)
	meta.Labels[LabelVerifyPullSecret] = "true"
	meta.Annotations = map[string]string{AnnotationCopiedFrom: namespace + "/" + name}
	objs, err := unstructuredObjects([]runtime.Object{&corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta, Type: typ, Data: data,
	}}, 0)
	if err != nil {
		return nil, err
	}
	return objs[0], nil
}

// VerifyObjects are VerifyTypedObjects as the unstructured objects
// neo4jctl applies (and `backup verify` prints in its plan).
func VerifyObjects(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	typed, err := VerifyTypedObjects(c, namespace)
	if err != nil {
		return nil, err
	}
	return unstructuredObjects(typed, 0)
}

// VerifyCronJob is spec.backups.verification.schedule's CronJob in the
// scratch namespace, nil without a schedule. Each run verifies the
// newest backup of the cluster (--latest).
func VerifyCronJob(c *clusterfile.Cluster, namespace string) *batchv1.CronJob {
	b := c.Spec.Backups
	if b == nil || b.Verification == nil || b.Verification.Schedule == "" {
		return nil
	}
	tz := clusterfile.DefaultBackupTimeZone
	if s := b.Schedule; s != nil && s.TimeZone != "" {
		tz = s.TimeZone
	}
	meta := verifyMeta(c, namespace, VerifyNamespaceName(c, namespace), VerifyCronJobName)
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: meta,
		Spec: batchv1.CronJobSpec{
			Schedule: b.Verification.Schedule,
			TimeZone: ptr.To(tz),
			// Two verifications at once would only share the quota.
			ConcurrencyPolicy: batchv1.ForbidConcurrent,
			// A run missed by less than an hour still runs; the health
			// check reports a longer gap (two periods without a pass).
			StartingDeadlineSeconds:    ptr.To(int64(3600)),
			SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
			FailedJobsHistoryLimit:     ptr.To(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
				Spec:       VerifyJobTemplate(c, namespace, ""),
			},
		},
	}
}

// VerifyJob is the one-off Job of `neo4jctl backup verify ID` (without
// --local): the CronJob's template (VerifyJobTemplate, the same code) for
// one backup, named neo4jctl-verify-<yyyymmddhhmmss>.
func VerifyJob(c *clusterfile.Cluster, namespace, id string, now time.Time) *batchv1.Job {
	meta := verifyMeta(c, namespace, VerifyNamespaceName(c, namespace), VerifyCronJobName+"-"+now.UTC().Format("20060102150405"))
	meta.Annotations = map[string]string{AnnotationInstantiate: "manual"}
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: meta, Spec: VerifyJobTemplate(c, namespace, id)}
}

// VerifyJobTemplate is the spec of a verification Job, the CronJob's and
// the command's: id "" verifies the newest backup (--latest). namespace is
// the cluster's; the Job runs in VerifyNamespaceName.
//
// The Pod: an init container from neo4jctl's image copies the neo4jctl
// binary into an emptyDir (the image has no shell: neo4jctl copies
// itself, `backup verify --install-binary`); the container, from the
// cluster's Neo4j image, runs it as `backup verify --local` with that
// image's neo4j-admin, reading the keyset and storage Secrets from the
// cluster's namespace through the API (--secrets-namespace) and writing
// the result into the catalogue. Everything it writes is under /tmp, an
// emptyDir bounded by VerifyScratchSize, under the restricted security
// context.
func VerifyJobTemplate(c *clusterfile.Cluster, namespace, id string) batchv1.JobSpec {
	image := c.Spec.Image
	if image == "" {
		image = clusterfile.Image(c.Spec.Version, c.Spec.Edition)
	}
	pullPolicy := corev1.PullPolicy(c.Spec.ImagePullPolicy)
	if pullPolicy == "" {
		pullPolicy = corev1.PullIfNotPresent
	}
	target := []string{"--latest"}
	if id != "" {
		target = []string{id}
	}
	args := append([]string{"backup", "verify"}, target...)
	args = append(args, "--local",
		"--neo4j-home", neo4jHome,
		"-f", verifyFileDir+"/"+verifyFileKey,
		"--secrets-namespace", namespace)
	sc := restrictedContainer()
	labels := VerifyLabels(c, namespace)
	var annotations map[string]string
	if m := c.Spec.Pod; m != nil && c.Spec.Backups != nil && workloadIdentity(c.Spec.Backups) {
		// Workload identity may need the Pod's metadata too (Azure's
		// azure.workload.identity/use label): spec.pod's labels and
		// annotations, the owner's first and neo4jctl's winning, as on
		// the servers' Pods (Validate refuses the reserved keys).
		merged := maps.Clone(m.Labels)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, labels)
		labels = merged
		if len(m.Annotations) > 0 {
			annotations = maps.Clone(m.Annotations)
		}
	}
	scratchLimit, binLimit, logsLimit := VerifyScratchSize, verifyBinSize, verifyLogsSize
	return batchv1.JobSpec{
		// One attempt: a verification that failed is a result (recorded),
		// and one that could not run is shown by the failed Job.
		BackoffLimit:          ptr.To(int32(0)),
		ActiveDeadlineSeconds: ptr.To(int64(VerifyJobDeadline / time.Second)),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
			Spec: corev1.PodSpec{
				RestartPolicy:      corev1.RestartPolicyNever,
				ServiceAccountName: VerifyServiceAccountName,
				// Copies in the scratch namespace of the cluster's pull
				// Secrets (VerifyPullSecretCopy), same names.
				ImagePullSecrets: pullSecrets(c.Spec.ImagePullSecrets),
				// The one Pod that needs a token: it reads the keyset and
				// storage Secrets of the cluster's namespace by API.
				AutomountServiceAccountToken: ptr.To(true),
				EnableServiceLinks:           ptr.To(false),
				SecurityContext:              restrictedPod(),
				NodeSelector:                 c.Spec.Scheduling.NodeSelector,
				Tolerations:                  tolerations(c.Spec.Scheduling.Tolerations),
				InitContainers: []corev1.Container{{
					Name:            "neo4jctl",
					Image:           AgentImage(),
					ImagePullPolicy: corev1.PullIfNotPresent,
					Command:         []string{verifyImageBin},
					Args:            []string{"backup", "verify", "--install-binary", VerifyBinary},
					Resources:       *verifyInitResources.DeepCopy(),
					SecurityContext: sc.DeepCopy(),
					VolumeMounts:    []corev1.VolumeMount{{Name: "bin", MountPath: VerifyBinDir}},
				}},
				Containers: []corev1.Container{{
					Name:            "verify",
					Image:           image,
					ImagePullPolicy: pullPolicy,
					Command:         []string{VerifyBinary},
					Args:            args,
					Env: []corev1.EnvVar{
						// Recorded as where the verification ran
						// ("job <namespace>/<job>"): the command finds its
						// run's result by it. The Job controller labels its
						// Pods with the Job's name.
						{Name: VerifyJobNameEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['" + batchv1.JobNameLabel + "']"}}},
						{Name: VerifyJobNamespaceEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
						{Name: "TMPDIR", Value: verifyScratch},
					},
					Resources:       corev1.ResourceRequirements{Requests: verifyRequests.DeepCopy(), Limits: verifyLimits.DeepCopy()},
					SecurityContext: sc,
					VolumeMounts: []corev1.VolumeMount{
						{Name: "bin", MountPath: VerifyBinDir, ReadOnly: true},
						{Name: "scratch", MountPath: verifyScratch},
						// neo4j-admin writes its own log under
						// $NEO4J_HOME/logs, on the read-only root
						// filesystem otherwise.
						{Name: "admin-logs", MountPath: neo4jHome + "/logs"},
						{Name: "cluster-file", MountPath: verifyFileDir, ReadOnly: true},
					},
				}},
				Volumes: []corev1.Volume{
					{Name: "bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &binLimit}}},
					{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &scratchLimit}}},
					{Name: "admin-logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &logsLimit}}},
					{Name: "cluster-file", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: VerifyConfigMapName},
					}}},
				},
			},
		},
	}
}

// AppliedVerifyObjects are the verification objects `neo4jctl apply`
// owns for the cluster file: VerifyObjects (the very objects `backup
// verify --install` applies) when spec.backups.verification.schedule is
// set, none otherwise. Without a schedule nothing runs on its own, and
// `backup verify` applies what a one-off run needs itself; apply leaves
// such objects alone and removes them only once a schedule had put the
// CronJob there (docs/backups.md, "Verification objects and apply").
func AppliedVerifyObjects(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	if VerifyCronJob(c, namespace) == nil {
		return nil, nil
	}
	return VerifyObjects(c, namespace)
}

// IsVerifyObject reports whether labels are those VerifyLabels gives the
// verification objects of cluster in namespace: what apply and destroy
// check before deleting one.
func IsVerifyObject(labels map[string]string, cluster, namespace string) bool {
	return labels[LabelComponent] == VerifyComponent && labels[LabelInstance] == cluster &&
		labels[labelVerifyOfNS] == namespace && labels[LabelManagedBy] == ManagedBy
}
