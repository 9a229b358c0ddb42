package watch

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/lazyre"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Options say what to render. Zero fields take their defaults.
type Options struct {
	// Name of every object (default neo4jctl-watch).
	Name string
	// Namespace watch runs in; it watches the clusters of this namespace.
	Namespace string
	// Image is the neo4jctl image, pinned by a tag other than latest or
	// by a digest. Empty: DefaultImageRepository at Version.
	Image string
	// Version is the neo4jctl release rendering (the binary's version);
	// it tags the default image. A development build has none, and then
	// Image must be given.
	Version string
	// Mode is warn (default) or enforce; enforce needs more verbs.
	Mode dwatch.Mode
	// Replicas (default 2: leader election makes the second a warm standby).
	Replicas int32
	// Selector picks the ConfigMaps holding cluster files.
	Selector string
	// Interval is --interval (default 60 s).
	Interval time.Duration
	// HealthInterval is --health-interval: how often watch runs the
	// healthcheck's checks and exports them as metrics (default 60 s).
	// NoHealth turns them off (and drops the Role's events list).
	HealthInterval time.Duration
	NoHealth       bool
	// SecretNames are the Secrets the watched cluster files reference
	// (spec.auth.secretRef): `get` is limited to them. Empty allows `get`
	// on every Secret of the namespace, which a Role cannot avoid when the
	// names are not known when rendering.
	SecretNames []string
	// ServiceMonitors and Certificates add the verbs on those CRD kinds,
	// for cluster files that render them (spec.monitoring, spec.tls).
	ServiceMonitors bool
	Certificates    bool
	// Backups adds the verbs on the backup objects of cluster files with
	// spec.backups: CronJobs, and the chain claim, which is rendered (so
	// observed with a dry-run patch) unlike the servers' claims.
	Backups bool
	// BackupCredentialsSecret is spec.backups.storage.credentialsSecret:
	// mounted read-only where `neo4jctl backup list` looks
	// (manifests.BackupSecretsDir/<name>), so watch's backups health check
	// can list the catalogue. Empty with workload identity.
	BackupCredentialsSecret string
	// AllowIrreversible renders --allow-irreversible and the delete verbs
	// enforce then uses.
	AllowIrreversible bool
	// Resources of the container (default requests 50m/64Mi, limit 256Mi).
	Resources *corev1.ResourceRequirements
	// MetricsPort (default 9090).
	MetricsPort int32
	// ClusterFiles ship with watch, one ConfigMap each, labelled so the
	// rendered --from-configmaps selector picks them.
	ClusterFiles []ClusterFile
	// CASecretName is a Secret whose ca.crt signs the servers'
	// certificates (TLS on): mounted read-only — that key only — and
	// passed as --neo4j-ca-file, so watch verifies Bolt.
	CASecretName string
	// RuleGroups are added to the PrometheusRule after watch's own group
	// (health, backup). Names must be unique.
	RuleGroups []RuleGroup
	// DashboardRows are added to the dashboard after watch's own panels.
	DashboardRows []DashboardRow
}

// ClusterFile is one cluster file watch reconciles.
type ClusterFile struct {
	// Cluster is metadata.name; it names the ConfigMap.
	Cluster string
	// FileName is the ConfigMap key (ending .yaml, .yml or .json).
	FileName string
	Content  string
}

// DefaultImageRepository is where neo4jctl's release images are.
const DefaultImageRepository = "ghcr.io/neo4jctl/neo4jctl"

// CAMountPath is where the CA Secret's ca.crt is mounted.
const CAMountPath = "/etc/neo4jctl/neo4j-ca"

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "neo4jctl-watch"
	}
	if o.Mode == "" {
		o.Mode = dwatch.ModeWarn
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.Selector == "" {
		o.Selector = dwatch.DefaultConfigMapSelector
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = 60 * time.Second
	}
	if o.Interval == 0 {
		o.Interval = 60 * time.Second
	}
	if o.MetricsPort == 0 {
		o.MetricsPort = 9090
	}
	if o.Resources == nil {
		o.Resources = &corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
	}
	return o
}

// Render returns the objects, in apply order: ServiceAccount, Role,
// RoleBinding, dashboard ConfigMap, cluster-file ConfigMaps, Service,
// PodDisruptionBudget, Deployment, ServiceMonitor, PrometheusRule.
func Render(opts Options) ([]*unstructured.Unstructured, error) {
	o := opts.withDefaults()
	if o.Namespace == "" {
		return nil, fmt.Errorf("watch manifests: a namespace is required")
	}
	if o.Mode != dwatch.ModeWarn && o.Mode != dwatch.ModeEnforce {
		return nil, fmt.Errorf("watch manifests: mode must be warn or enforce, got %q", o.Mode)
	}
	image, err := pinnedImage(o.Image, o.Version)
	if err != nil {
		return nil, fmt.Errorf("watch manifests: %w", err)
	}
	o.Image = image
	groups, err := ruleGroups(o)
	if err != nil {
		return nil, fmt.Errorf("watch manifests: %w", err)
	}
	var fileLabels map[string]string
	if len(o.ClusterFiles) > 0 {
		if fileLabels, err = selectorAsLabels(o.Selector); err != nil {
			return nil, fmt.Errorf("watch manifests: %w", err)
		}
	}
	labels := map[string]string{
		manifests.LabelName: manifests.WatchAppName, manifests.LabelInstance: o.Name,
		"app.kubernetes.io/managed-by": "neo4jctl",
	}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: copyMap(labels)}
	}
	var typed []runtime.Object
	typed = append(typed,
		&corev1.ServiceAccount{TypeMeta: tm("v1", "ServiceAccount"), ObjectMeta: meta(o.Name), AutomountServiceAccountToken: ptr.To(true)},
		&rbacv1.Role{TypeMeta: tm("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: meta(o.Name), Rules: Rules(o)},
		&rbacv1.RoleBinding{
			TypeMeta: tm("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: meta(o.Name),
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: o.Name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}},
		},
	)
	// Enterprise clusters' NetworkPolicies name the API server's endpoints,
	// which watch reads (as plan does) from the `kubernetes` Service's
	// EndpointSlice in the default namespace: get on that one slice, by a
	// Role there (manifests.APIServerSliceRole). Without it watch renders
	// the fallback egress and reports the policy apply wrote as drift.
	apiName := APIServerRoleName(o)
	typed = append(typed,
		manifests.APIServerSliceRole(apiName, copyMap(labels)),
		manifests.APIServerSliceRoleBinding(apiName, copyMap(labels), rbacv1.Subject{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}),
	)
	dash := meta(o.Name + "-dashboard")
	dash.Labels["grafana_dashboard"] = "1"
	typed = append(typed, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: dash, Data: map[string]string{"neo4jctl-watch.json": Dashboard(append(backupRows(o), o.DashboardRows...)...)}})
	for _, f := range o.ClusterFiles {
		if f.Cluster == "" || f.FileName == "" {
			return nil, fmt.Errorf("watch manifests: a cluster file needs its cluster name and file name")
		}
		m := meta(o.Name + "-" + f.Cluster)
		for k, v := range fileLabels {
			m.Labels[k] = v
		}
		typed = append(typed, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: m, Data: map[string]string{f.FileName: f.Content}})
	}
	typed = append(typed, &corev1.Service{
		TypeMeta: tm("v1", "Service"), ObjectMeta: meta(o.Name),
		Spec: corev1.ServiceSpec{Selector: selectorLabels(o), Ports: []corev1.ServicePort{{Name: "metrics", Port: o.MetricsPort, TargetPort: intstr.FromString("metrics")}}},
	})
	// One replica at a time may be evicted: with leader election the
	// other keeps (or takes) the Lease, so a node drain never leaves the
	// clusters unwatched. Unready replicas may always go.
	typed = append(typed, &policyv1.PodDisruptionBudget{
		TypeMeta: tm("policy/v1", "PodDisruptionBudget"), ObjectMeta: meta(o.Name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable:             ptr.To(intstr.FromInt32(1)),
			Selector:                   &metav1.LabelSelector{MatchLabels: selectorLabels(o)},
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	})
	typed = append(typed, deployment(o, meta(o.Name)))

	var out []*unstructured.Unstructured
	for _, t := range typed {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
		out = append(out, u)
	}
	out = append(out, serviceMonitor(o, labels), prometheusRule(o, labels, groups))
	return out, nil
}

// APIServerRoleName names watch's Role and RoleBinding in the default
// namespace: after the watch and its namespace, since every watch
// installation's live there side by side.
func APIServerRoleName(opts Options) string {
	o := opts.withDefaults()
	return o.Name + "-" + o.Namespace + "-apiserver"
}

// releaseVersion is a version a release image is tagged with.
var releaseVersion = lazyre.New(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// pinnedImage returns the image watch runs: image when it is pinned (a
// tag other than latest, or a digest), else the release image of version.
// A moving tag would let a node pull a different neo4jctl than the one
// reviewed, and two replicas run two versions.
func pinnedImage(image, version string) (string, error) {
	if image == "" {
		if !releaseVersion.MatchString(version) {
			return "", fmt.Errorf("no pinned image: this neo4jctl (version %q) is not a release; pass --watch-image REPOSITORY:TAG or REPOSITORY@sha256:DIGEST", version)
		}
		return DefaultImageRepository + ":" + version, nil
	}
	if strings.Contains(image, "@sha256:") {
		return image, nil
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok || tag == "":
		return "", fmt.Errorf("image %q has no tag: pin it with a version tag or a digest", image)
	case tag == "latest":
		return "", fmt.Errorf("image %q: :latest moves under the Deployment; pin a version tag or a digest", image)
	}
	return image, nil
}

// selectorAsLabels turns an equality label selector (k=v,k2=v2) into the
// labels of the cluster-file ConfigMaps, so watch's own selector picks
// them. A set-based selector names no single label value.
func selectorAsLabels(sel string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, v = strings.TrimSpace(strings.TrimSuffix(k, "=")), strings.TrimSpace(strings.TrimPrefix(v, "="))
		if !ok || k == "" || strings.ContainsAny(k, "!() ") || strings.ContainsAny(v, "() ") {
			return nil, fmt.Errorf("selector %q: only k=v selectors can label the cluster-file ConfigMaps", sel)
		}
		out[k] = v
	}
	return out, nil
}

func tm(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func selectorLabels(o Options) map[string]string {
	// The name label is what the servers' NetworkPolicy admits to Bolt.
	return map[string]string{manifests.LabelName: manifests.WatchAppName, manifests.LabelInstance: o.Name}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Rules are exactly the permissions watch uses in mode o.Mode, each
// traced to the code that needs it. No wildcards; a test removes each verb
// in turn and sees watch fail.
func Rules(opts Options) []rbacv1.PolicyRule {
	o := opts.withDefaults()
	// Every kind neo4jctl renders: informers (list, watch), Observe's
	// forced server-side-apply dry run (patch), the inventory's member
	// listing (list: live objects and orphans), and a GET of a rendered
	// object that exists without the ApplySet label (adopted). Enforce
	// applies with the same patch verb.
	rendered := []string{"get", "list", "watch", "patch"}
	eventVerbs := []string{"create"}
	if !o.NoHealth {
		// The health checks list the namespace's Warning events
		// (healthcheck's kubernetes.events).
		eventVerbs = append(eventVerbs, "list")
	}
	if o.AllowIrreversible {
		rendered = append(rendered, "delete")
	}
	rules := []rbacv1.PolicyRule{
		// configmaps: also the inventory (get, patch) and the cluster-file
		// ConfigMaps (list, watch).
		{APIGroups: []string{""}, Resources: []string{"configmaps", "serviceaccounts", "services"}, Verbs: rendered},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: rendered},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: rendered},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: rendered},
		// The discovery Role and its binding: patching them is allowed only
		// because this Role already holds what they grant (get, list,
		// watch on services) — no escalate or bind verb.
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings", "roles"}, Verbs: rendered},
		// Events with the drift summary; created once per distinct drift,
		// never patched.
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: eventVerbs},
	}
	// Observe lists the cluster's Pods (server readiness); enforce's
	// rollout waits also watch them.
	podVerbs := []string{"list"}
	if o.Mode == dwatch.ModeEnforce {
		podVerbs = []string{"list", "watch"}
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: podVerbs})
	// Observe lists the pools' PersistentVolumeClaims to compare their
	// sizes with the cluster file's (internal/kube/resize.go). Only list:
	// a claim that must grow needs its StorageClass read, which a Role
	// cannot grant, so watch refuses the resize and never patches a claim.
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"list"}})
	// The Neo4j password (spec.auth.secretRef), read when connecting.
	secrets := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}
	if len(o.SecretNames) > 0 {
		names := append([]string(nil), o.SecretNames...)
		sort.Strings(names)
		secrets.ResourceNames = names
	}
	rules = append(rules, secrets)
	// Leader election (get, create, update); enforce's apply lock also
	// deletes its Lease when done, as apply does.
	leaseVerbs := []string{"get", "create", "update"}
	if o.Mode == dwatch.ModeEnforce {
		leaseVerbs = append(leaseVerbs, "delete")
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: leaseVerbs})
	if o.ServiceMonitors {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"servicemonitors"}, Verbs: rendered})
	}
	if o.Certificates {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: rendered})
	}
	if o.Backups {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: rendered},
			// The chain claim: get, watch and the dry-run patch of a
			// rendered object (list is granted above). Plan never
			// deletes a claim, so delete is not added.
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "watch", "patch"}},
			// The failed backup Jobs, counted into
			// neo4jctl_backup_failures_total (drift/watch/backups.go).
			rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"list"}},
		)
	}
	return rules
}

// Args are the container's arguments.
func Args(o Options) []string {
	o = o.withDefaults()
	args := []string{"watch", "--from-configmaps", o.Selector, "--namespace", o.Namespace,
		"--mode", string(o.Mode), "--interval", o.Interval.String(), "-o", "json",
		"--metrics-addr", fmt.Sprintf(":%d", o.MetricsPort), "--leader-elect"}
	if !o.NoHealth {
		args = append(args, "--health-interval", o.HealthInterval.String())
	}
	if o.AllowIrreversible {
		args = append(args, "--allow-irreversible")
	}
	if o.CASecretName != "" {
		args = append(args, "--neo4j-ca-file", CAMountPath+"/ca.crt")
	}
	return args
}

func deployment(o Options, meta metav1.ObjectMeta) *appsv1.Deployment {
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("metrics")}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	podLabels := selectorLabels(o)
	for k, v := range meta.Labels {
		podLabels[k] = v
	}
	// The Neo4j driver and client-go may write temporary files; the root
	// filesystem is read-only.
	mounts := []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	volumes := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("16Mi"))}}}}
	if o.CASecretName != "" {
		// ca.crt only: the same Secret holds the servers' private key,
		// which watch has no use for.
		mounts = append(mounts, corev1.VolumeMount{Name: "neo4j-ca", MountPath: CAMountPath, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "neo4j-ca", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: o.CASecretName, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}, DefaultMode: ptr.To(int32(0o444)),
		}}})
	}
	if o.BackupCredentialsSecret != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: "backup-storage", MountPath: manifests.BackupSecretsDir + "/" + o.BackupCredentialsSecret, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "backup-storage", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: o.BackupCredentialsSecret, DefaultMode: ptr.To(int32(0o440)),
		}}})
	}
	return &appsv1.Deployment{
		TypeMeta: tm("apps/v1", "Deployment"), ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(o.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(o)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: o.Name,
					// Long enough to finish a revert step and release both
					// Leases; watch exits well within it on SIGTERM.
					TerminationGracePeriodSeconds: ptr.To(int64(30)),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(65532)), RunAsGroup: ptr.To(int64(65532)),
						FSGroup: ptr.To(int64(65532)), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name: "watch", Image: o.Image, Args: Args(o),
						Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: o.MetricsPort}},
						Env: []corev1.EnvVar{
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: "NEO4JCTL_SERVICE_ACCOUNT", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
						},
						Resources:      *o.Resources,
						LivenessProbe:  probe("/healthz", 20),
						ReadinessProbe: probe("/readyz", 10),
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							RunAsNonRoot: ptr.To(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
						VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

func serviceMonitor(o Options, labels map[string]string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": anyMap(labels)},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": anyMap(selectorLabels(o))},
			"endpoints": []any{map[string]any{"port": "metrics", "path": "/metrics", "interval": "30s"}},
		},
	}}
}

// hasWildcard reports a "*" in any rule (tests, and a guard for editors).
func hasWildcard(rules []rbacv1.PolicyRule) bool {
	for _, r := range rules {
		for _, l := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
			for _, v := range l {
				if strings.Contains(v, "*") {
					return true
				}
			}
		}
	}
	return false
}
