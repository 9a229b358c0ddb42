package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
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
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// The DR drill in the cluster (docs/restore.md, "Scheduling drills"):
// spec.backups.drill.schedule renders a CronJob that runs `neo4jctl dr
// drill --in-namespace` in one fixed drill namespace per cluster, modelled
// on the verification objects (verify.go) and for the same reason: RBAC
// cannot limit `create` on namespaces to a name, and whoever may delete
// namespaces may delete any, so a drill that creates and removes its
// scratch namespace needs cluster-wide power. Here nothing does: the
// drill namespace is applied by `neo4jctl apply` (the operator's
// credentials) and stays; the drill's ServiceAccount has a Role in it
// that creates, patches and deletes exactly the kinds the scratch cluster
// renders there (and the Pods, Jobs and Leases a restore needs), and a
// Role in the cluster's namespace with `get` on the Secrets the drill
// copies, by name. No namespace verbs, nothing cluster-scoped, no `bind`
// or `escalate`: the scratch cluster's own Role is created under RBAC's
// escalation check (Kubernetes docs, "Using RBAC Authorization",
// Privilege escalation prevention: a Role may be created only by whom
// already holds every permission in it, in that namespace), which the
// drill Role satisfies by holding the union of the scratch cluster's Role
// rules (DrillRules).
//
// Limits: the in-cluster drill cannot read cluster-scoped objects (nodes,
// StorageClasses, the namespace object): what apply's pre-flight and the
// kwok detection read of them is unknown to it and said so; the scratch
// cluster is applied into a namespace whose quota is sized for it
// (DrillQuota), so a cluster file that grows needs an apply (which
// re-sizes it) before the next drill.
//
// As the verification objects, these carry no neo4jctl.io/cluster label
// (the cluster's ApplySet would prune them) and are owned by apply, plan,
// drift and destroy beside them (AppliedDrillObjects, IsDrillObject).

// DrillComponent is the app.kubernetes.io/component (and name) of the
// standing drill objects.
const DrillComponent = "neo4jctl-drill"

// Names of the standing drill objects.
const (
	// DrillServiceAccountName runs the drill's CronJob Pods.
	DrillServiceAccountName = "neo4jctl-drill"
	// DrillRoleName is the Role (and RoleBinding) in the drill namespace.
	DrillRoleName = "neo4jctl-drill"
	// DrillCronJobName is spec.backups.drill.schedule's CronJob.
	DrillCronJobName = "neo4jctl-drill"
	// DrillConfigMapName holds the cluster file the drill restores.
	DrillConfigMapName = "neo4jctl-drill-cluster"
	// DrillQuotaName is the drill namespace's ResourceQuota and
	// LimitRange.
	DrillQuotaName = "neo4jctl-drill"
	// LabelDrill marks a namespace as a drill namespace of the cluster
	// named by its value (cmd.DrillLabel: a drill reuses or cleans only a
	// namespace carrying it).
	LabelDrill     = "neo4jctl.io/dr-drill"
	labelDrillOfNS = "neo4jctl.io/drill-namespace"
	drillFileDir   = "/etc/neo4jctl/drill"
	drillFileKey   = "cluster.yaml"
	// DrillSecretsDir is where the drill Pod writes the Secrets it reads
	// through the API (a memory-backed emptyDir).
	DrillSecretsDir = "/var/run/neo4jctl/drill-secrets"
)

// DrillJobDeadline bounds one in-cluster drill: apply, restore of every
// database (the largest seed or load), healthcheck and count.
const DrillJobDeadline = 6 * time.Hour

// Resources of the drill Pod (it runs neo4jctl only: the restore itself
// runs in the restore's Jobs) and the allowance the quota adds for the
// restore's Pods beside the servers (a restore Job or a seed Pod at a
// time, as large as a verification Pod).
var (
	drillRequests = corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("100m"),
		corev1.ResourceMemory: resource.MustParse("256Mi"),
	}
	drillLimits = corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1"),
		corev1.ResourceMemory: resource.MustParse("512Mi"),
	}
	drillTmpSize     = resource.MustParse("256Mi")
	drillSecretsSize = resource.MustParse("16Mi")
)

// DrillNamespaceName is the cluster's drill namespace:
// neo4jctl-drill-<namespace>-<cluster>, shortened with a digest when
// longer than a namespace name may be (63), as VerifyNamespaceName.
func DrillNamespaceName(c *clusterfile.Cluster, namespace string) string {
	return scratchNamespaceName(drillNamespacePrefix, namespace, c.Metadata.Name)
}

const drillNamespacePrefix = "neo4jctl-drill-"

// DrillSecretsRoleName is the Role (and RoleBinding) in the cluster's
// namespace that lets the drill ServiceAccount read the Secrets the drill
// copies.
func DrillSecretsRoleName(c *clusterfile.Cluster) string { return c.Metadata.Name + "-drill-secrets" }

// DrillLabels are the labels of every standing drill object and Pod. No
// neo4jctl.io/cluster (see above) and no app.kubernetes.io/name=neo4j.
func DrillLabels(c *clusterfile.Cluster, namespace string) map[string]string {
	return map[string]string{
		LabelName:      DrillComponent,
		LabelInstance:  c.Metadata.Name,
		LabelManagedBy: ManagedBy,
		LabelComponent: DrillComponent,
		labelDrillOfNS: namespace,
	}
}

func drillMeta(c *clusterfile.Cluster, clusterNS, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: DrillLabels(c, clusterNS)}
}

// DrillScratchCluster is the cluster the drill applies: c in the drill
// namespace, without spec.backups.schedule, .verification and .drill (the
// scratch cluster takes no backups into the real catalogue), as
// cmd's writeScratchFile writes it.
func DrillScratchCluster(c *clusterfile.Cluster, drillNS string) (*clusterfile.Cluster, error) {
	j, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var s clusterfile.Cluster
	if err := json.Unmarshal(j, &s); err != nil {
		return nil, err
	}
	s.Metadata.Namespace = drillNS
	if b := s.Spec.Backups; b != nil {
		b.Schedule, b.Verification, b.Drill = nil, nil, nil
	}
	return &s, nil
}

// drillKindResources are the API resources of the kinds a scratch
// cluster renders, plus what the restore and the apply around it touch:
// the ApplySet's inventory ConfigMap, the Secrets the drill copies, the
// claims the StatefulSet controller makes, the restore's Jobs.
var drillKindResources = map[string]struct{ group, resource string }{
	"ConfigMap":             {"", "configmaps"},
	"Secret":                {"", "secrets"},
	"Service":               {"", "services"},
	"ServiceAccount":        {"", "serviceaccounts"},
	"PersistentVolumeClaim": {"", "persistentvolumeclaims"},
	"StatefulSet":           {"apps", "statefulsets"},
	"PodDisruptionBudget":   {"policy", "poddisruptionbudgets"},
	"NetworkPolicy":         {"networking.k8s.io", "networkpolicies"},
	"Role":                  {"rbac.authorization.k8s.io", "roles"},
	"RoleBinding":           {"rbac.authorization.k8s.io", "rolebindings"},
	"Certificate":           {"cert-manager.io", "certificates"},
	"ServiceMonitor":        {"monitoring.coreos.com", "servicemonitors"},
	"Job":                   {"batch", "jobs"},
	"CronJob":               {"batch", "cronjobs"},
}

// DrillRules are the drill Role's rules in the drill namespace: full
// object verbs on the kinds the scratch cluster renders (and ConfigMaps,
// Secrets, Jobs the apply and restore write); Pods read and deleted (a
// restore restarts servers), their logs read and port-forwarded (the
// drill talks Bolt to the scratch servers); StatefulSets' scale (the
// Community restore stops the server); the apply Lease; Events read; and
// every rule of the scratch cluster's own Roles, so that creating them
// passes RBAC's escalation check. Never namespaces, bind or escalate.
func DrillRules(c *clusterfile.Cluster, namespace string) ([]rbacv1.PolicyRule, error) {
	s, err := DrillScratchCluster(c, DrillNamespaceName(c, namespace))
	if err != nil {
		return nil, err
	}
	objs, err := Render(s, s.Metadata.Namespace)
	if err != nil {
		return nil, err
	}
	byGroup := map[string]map[string]bool{}
	add := func(kind string) {
		r, ok := drillKindResources[kind]
		if !ok {
			return
		}
		if byGroup[r.group] == nil {
			byGroup[r.group] = map[string]bool{}
		}
		byGroup[r.group][r.resource] = true
	}
	// Every kind a scratch cluster may render, whether this file renders
	// it or not: healthcheck and the teardown list them all (a Community
	// cluster renders no PDB, yet healthcheck lists PDBs), and a file
	// that gains one (TLS from cert-manager, a ServiceMonitor) then needs
	// no new grant. Not CronJobs: the scratch cluster takes no backups.
	for k := range drillKindResources {
		if k != "CronJob" {
			add(k)
		}
	}
	var own []rbacv1.PolicyRule
	for _, o := range objs {
		add(o.GetKind())
		if o.GetKind() == "Role" {
			var r rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				return nil, err
			}
			own = append(own, r.Rules...)
		}
	}
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var rules []rbacv1.PolicyRule
	for _, g := range groups {
		res := make([]string, 0, len(byGroup[g]))
		for r := range byGroup[g] {
			res = append(res, r)
		}
		sort.Strings(res)
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: res, Verbs: all})
	}
	rules = append(rules,
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "create", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/portforward"}, Verbs: []string{"create"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"statefulsets/scale"}, Verbs: []string{"get", "update", "patch"}},
		rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: all},
	)
	// The scratch cluster's own Role rules, verbatim (see above).
	for _, r := range own {
		if !slices.ContainsFunc(rules, func(have rbacv1.PolicyRule) bool { return coveredBy(r, have) }) {
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// coveredBy reports whether have grants everything r does (same groups,
// resources and verbs, unrestricted by name).
func coveredBy(r, have rbacv1.PolicyRule) bool {
	if len(have.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
		return false
	}
	for _, g := range r.APIGroups {
		if !slices.Contains(have.APIGroups, g) {
			return false
		}
	}
	for _, x := range r.Resources {
		if !slices.Contains(have.Resources, x) {
			return false
		}
	}
	for _, v := range r.Verbs {
		if !slices.Contains(have.Verbs, v) {
			return false
		}
	}
	return true
}

// DrillSecrets are the Secrets of the cluster's namespace the drill
// copies (DrillSecretsInOrder), sorted: the names a Role grants.
func DrillSecrets(c *clusterfile.Cluster) []string {
	names := DrillSecretsInOrder(c)
	sort.Strings(names)
	return names
}

// DrillSecretsInOrder are the Secrets of the cluster's namespace a drill
// copies, each once, in the order the drill copies them: the auth Secret,
// the backup storage credentials, the encryption keyset, and the
// servers' TLS Secret unless a cert-manager ClusterIssuer issues the
// drill namespace its own (cmd's drillSecrets says why).
func DrillSecretsInOrder(c *clusterfile.Cluster) []string {
	var names []string
	if c.Spec.Auth.SecretRef != nil {
		names = append(names, c.Spec.Auth.SecretRef.Name)
	}
	if b := c.Spec.Backups; b != nil {
		if b.Storage.CredentialsSecret != "" {
			names = append(names, b.Storage.CredentialsSecret)
		}
		if b.Encryption.KeysetSecret.Name != "" {
			names = append(names, b.Encryption.KeysetSecret.Name)
		}
	}
	if tls := c.Spec.TLS; tls != nil && (tls.CertManager == nil || tls.CertManager.IssuerRef.Kind != "ClusterIssuer") {
		names = append(names, TLSSecretName(c))
	}
	out := names[:0]
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// DrillQuota is the drill namespace's ResourceQuota, sized from the
// cluster file: the scratch cluster's StatefulSets as rendered (replicas
// × each Pod's CPU and memory requests and memory limits, the larger of
// the init containers' and the containers' sum, as the scheduler counts
// a Pod;
// replicas × each claim template's storage), plus the drill Pod and one
// restore Pod (a restore Job or a seed Pod, as large as a verification
// Pod) at a time. No LoadBalancer or NodePort Services (the scratch
// cluster is reached from inside only).
func DrillQuota(c *clusterfile.Cluster, namespace string) (corev1.ResourceList, error) {
	s, err := DrillScratchCluster(c, DrillNamespaceName(c, namespace))
	if err != nil {
		return nil, err
	}
	objs, err := Render(s, s.Metadata.Namespace)
	if err != nil {
		return nil, err
	}
	sum := corev1.ResourceList{}
	addTimes := func(name corev1.ResourceName, q resource.Quantity, n int64) {
		for range n {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
	var pods, claims int64 = 2, 0 // the drill Pod and one restore Pod
	for _, o := range objs {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		var st struct {
			Spec struct {
				Replicas             *int32                         `json:"replicas"`
				Template             corev1.PodTemplateSpec         `json:"template"`
				VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
			} `json:"spec"`
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &st); err != nil {
			return nil, err
		}
		n := int64(1)
		if st.Spec.Replicas != nil {
			n = int64(*st.Spec.Replicas)
		}
		pods += n
		requests := func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests }
		limits := func(r corev1.ResourceRequirements) corev1.ResourceList {
			return withDefault(r.Limits, corev1.ResourceMemory, drillDefaultMemoryLimit)
		}
		addTimes(corev1.ResourceRequestsCPU, podResource(st.Spec.Template.Spec, requests, corev1.ResourceCPU), n)
		addTimes(corev1.ResourceRequestsMemory, podResource(st.Spec.Template.Spec, requests, corev1.ResourceMemory), n)
		addTimes(corev1.ResourceLimitsMemory, podResource(st.Spec.Template.Spec, limits, corev1.ResourceMemory), n)
		for _, t := range st.Spec.VolumeClaimTemplates {
			claims += n
			addTimes(corev1.ResourceRequestsStorage, t.Spec.Resources.Requests[corev1.ResourceStorage], n)
		}
	}
	// The drill Pod and a restore Pod.
	for _, r := range []corev1.ResourceList{drillRequests, verifyRequests} {
		addTimes(corev1.ResourceRequestsCPU, r[corev1.ResourceCPU], 1)
		addTimes(corev1.ResourceRequestsMemory, r[corev1.ResourceMemory], 1)
	}
	for _, r := range []corev1.ResourceList{drillLimits, verifyLimits} {
		addTimes(corev1.ResourceLimitsMemory, r[corev1.ResourceMemory], 1)
	}
	sum[corev1.ResourcePods] = *resource.NewQuantity(pods, resource.DecimalSI)
	sum[corev1.ResourcePersistentVolumeClaims] = *resource.NewQuantity(claims, resource.DecimalSI)
	sum[corev1.ResourceServicesLoadBalancers] = resource.MustParse("0")
	sum[corev1.ResourceServicesNodePorts] = resource.MustParse("0")
	return sum, nil
}

// drillDefaultMemoryLimit is the LimitRange's default memory limit in
// the drill namespace, for a container without one (the quota counts
// limits.memory, so every container needs one), as large as a
// verification Pod's. No CPU limit is counted or defaulted: the servers
// set none (a CPU limit throttles Neo4j), and a default CPU limit below
// their request would make their Pods invalid.
var drillDefaultMemoryLimit = verifyLimits[corev1.ResourceMemory]

func withDefault(l corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) corev1.ResourceList {
	if _, ok := l[name]; ok {
		return l
	}
	out := l.DeepCopy()
	if out == nil {
		out = corev1.ResourceList{}
	}
	out[name] = q
	return out
}

// podResource is what the scheduler counts of a Pod for name: the larger
// of the containers' sum and the largest init container.
func podResource(p corev1.PodSpec, of func(corev1.ResourceRequirements) corev1.ResourceList, name corev1.ResourceName) resource.Quantity {
	var sum, initMax resource.Quantity
	for _, c := range p.Containers {
		if q, ok := of(c.Resources)[name]; ok {
			sum.Add(q)
		}
	}
	for _, c := range p.InitContainers {
		if q, ok := of(c.Resources)[name]; ok && q.Cmp(initMax) > 0 {
			initMax = q
		}
	}
	if initMax.Cmp(sum) > 0 {
		return initMax
	}
	return sum
}

// drillClusterFile is the whole cluster file as the drill reads it (it
// renders the scratch cluster from it), in the cluster's namespace. It
// holds no secret: the file never does.
func drillClusterFile(c *clusterfile.Cluster, namespace string) (string, error) {
	f := *c
	f.Metadata.Namespace = namespace
	if f.APIVersion == "" {
		f.APIVersion = clusterfile.APIVersion
	}
	if f.Kind == "" {
		f.Kind = clusterfile.Kind
	}
	j, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("render: drill cluster file: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return "", fmt.Errorf("render: drill cluster file: %w", err)
	}
	return "# Cluster " + c.Metadata.Name + " as its DR drill reads it, rendered by neo4jctl.\n" + string(y), nil
}

// DrillTypedObjects are the standing drill objects of a cluster with
// spec.backups.drill.schedule, in apply order: the drill namespace
// (labelled LabelDrill), its ResourceQuota and LimitRange, the
// ServiceAccount, the Role and RoleBinding there, the cluster file; in
// the cluster's namespace the Role and RoleBinding granting `get` on the
// copied Secrets by name; then the CronJob. nil without a schedule.
func DrillTypedObjects(c *clusterfile.Cluster, namespace string) ([]runtime.Object, error) {
	b := c.Spec.Backups
	if b == nil || b.Drill == nil || b.Drill.Schedule == "" {
		return nil, nil
	}
	drillNS := DrillNamespaceName(c, namespace)
	nsMeta := drillMeta(c, namespace, "", drillNS)
	nsMeta.Labels[LabelDrill] = c.Metadata.Name
	// Baseline enforced (the scratch cluster's Pods and the restore's
	// run there as they do in the cluster's namespace), restricted
	// warned and audited.
	nsMeta.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
	nsMeta.Labels["pod-security.kubernetes.io/enforce-version"] = "latest"
	for _, mode := range []string{"audit", "warn"} {
		nsMeta.Labels["pod-security.kubernetes.io/"+mode] = "restricted"
		nsMeta.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	quota, err := DrillQuota(c, namespace)
	if err != nil {
		return nil, err
	}
	rules, err := DrillRules(c, namespace)
	if err != nil {
		return nil, err
	}
	file, err := drillClusterFile(c, namespace)
	if err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: drillMeta(c, namespace, drillNS, DrillServiceAccountName),
		// Only the drill Pod mounts a token.
		AutomountServiceAccountToken: ptr.To(false),
	}
	objs := []runtime.Object{
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: nsMeta},
		&corev1.ResourceQuota{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
			ObjectMeta: drillMeta(c, namespace, drillNS, DrillQuotaName),
			Spec:       corev1.ResourceQuotaSpec{Hard: quota},
		},
		&corev1.LimitRange{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
			ObjectMeta: drillMeta(c, namespace, drillNS, DrillQuotaName),
			// A container without resources gets small requests and the
			// default memory limit, so the quota (which then requires
			// them) still admits it.
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type:           corev1.LimitTypeContainer,
				Default:        corev1.ResourceList{corev1.ResourceMemory: drillDefaultMemoryLimit.DeepCopy()},
				DefaultRequest: verifyInitResources.Requests.DeepCopy(),
			}}},
		},
		sa,
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: drillMeta(c, namespace, drillNS, DrillRoleName),
			Rules:      rules,
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: drillMeta(c, namespace, drillNS, DrillRoleName),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: DrillRoleName},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: DrillServiceAccountName, Namespace: drillNS}},
		},
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: drillMeta(c, namespace, drillNS, DrillConfigMapName),
			Data:       map[string]string{drillFileKey: file},
		},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: drillMeta(c, namespace, namespace, DrillSecretsRoleName(c)),
			// get by name only (resourceNames limits get; list or
			// watch would reveal every Secret of the namespace).
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"},
				ResourceNames: DrillSecrets(c),
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: drillMeta(c, namespace, namespace, DrillSecretsRoleName(c)),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: DrillSecretsRoleName(c)},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: DrillServiceAccountName, Namespace: drillNS}},
		},
		DrillCronJob(c, namespace),
	}
	return objs, nil
}

// DrillStandingNames are the names of the standing objects in the drill
// namespace by kind: what an in-namespace drill leaves in place when it
// removes the scratch cluster object by object.
func DrillStandingNames() map[string][]string {
	return map[string][]string{
		"ServiceAccount": {DrillServiceAccountName},
		"Role":           {DrillRoleName},
		"RoleBinding":    {DrillRoleName},
		"ConfigMap":      {DrillConfigMapName},
		"CronJob":        {DrillCronJobName},
		"ResourceQuota":  {DrillQuotaName},
		"LimitRange":     {DrillQuotaName},
	}
}

// DrillCronJob is spec.backups.drill.schedule's CronJob in the drill
// namespace (timeZone spec.backups.schedule.timeZone, as the verification
// CronJob's), nil without a schedule. Its Pod, from neo4jctl's image,
// runs `neo4jctl dr drill --in-namespace` as the drill ServiceAccount,
// reading the cluster file from DrillConfigMapName and the Secrets from
// the cluster's namespace through the API.
func DrillCronJob(c *clusterfile.Cluster, namespace string) *batchv1.CronJob {
	b := c.Spec.Backups
	if b == nil || b.Drill == nil || b.Drill.Schedule == "" {
		return nil
	}
	tz := clusterfile.DefaultBackupTimeZone
	if s := b.Schedule; s != nil && s.TimeZone != "" {
		tz = s.TimeZone
	}
	drillNS := DrillNamespaceName(c, namespace)
	meta := drillMeta(c, namespace, drillNS, DrillCronJobName)
	tmpLimit, secLimit := drillTmpSize, drillSecretsSize
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: meta,
		Spec: batchv1.CronJobSpec{
			Schedule: b.Drill.Schedule,
			TimeZone: ptr.To(tz),
			// One scratch cluster at a time: the drill namespace and its
			// quota hold one.
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			StartingDeadlineSeconds:    ptr.To(int64(3600)),
			SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
			FailedJobsHistoryLimit:     ptr.To(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
				Spec: batchv1.JobSpec{
					// One attempt: a failed drill is a result (recorded).
					BackoffLimit:          ptr.To(int32(0)),
					ActiveDeadlineSeconds: ptr.To(int64(DrillJobDeadline / time.Second)),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: DrillLabels(c, namespace)},
						Spec: corev1.PodSpec{
							RestartPolicy:                corev1.RestartPolicyNever,
							ServiceAccountName:           DrillServiceAccountName,
							AutomountServiceAccountToken: ptr.To(true),
							EnableServiceLinks:           ptr.To(false),
							ImagePullSecrets:             pullSecrets(c.Spec.ImagePullSecrets),
							SecurityContext:              restrictedPod(),
							NodeSelector:                 c.Spec.Scheduling.NodeSelector,
							Tolerations:                  tolerations(c.Spec.Scheduling.Tolerations),
							Containers: []corev1.Container{{
								Name:            "drill",
								Image:           AgentImage(),
								ImagePullPolicy: corev1.PullIfNotPresent,
								Command:         []string{verifyImageBin},
								Args: []string{"dr", "drill", "--in-namespace",
									"-f", drillFileDir + "/" + drillFileKey,
									"--namespace", drillNS,
									"--secrets-namespace", namespace,
									"--secrets-dir", DrillSecretsDir,
									"-o", "json"},
								Env: []corev1.EnvVar{
									{Name: "TMPDIR", Value: verifyScratch},
									{Name: DrillJobNameEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['" + batchv1.JobNameLabel + "']"}}},
								},
								Resources:       corev1.ResourceRequirements{Requests: drillRequests.DeepCopy(), Limits: drillLimits.DeepCopy()},
								SecurityContext: restrictedContainer(),
								VolumeMounts: []corev1.VolumeMount{
									{Name: "tmp", MountPath: verifyScratch},
									{Name: "secrets", MountPath: DrillSecretsDir},
									{Name: "cluster-file", MountPath: drillFileDir, ReadOnly: true},
								},
							}},
							Volumes: []corev1.Volume{
								{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &tmpLimit}}},
								// The Secrets read through the API are written
								// here for the restore's session, in memory.
								{Name: "secrets", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &secLimit}}},
								{Name: "cluster-file", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
									LocalObjectReference: corev1.LocalObjectReference{Name: DrillConfigMapName},
								}}},
							},
						},
					},
				},
			},
		},
	}
}

// DrillJobNameEnv names the drill Job in its Pod: the record says where
// the drill ran ("job <namespace>/<job>").
const DrillJobNameEnv = "NEO4JCTL_DRILL_JOB"

// DrillObjects are DrillTypedObjects as the unstructured objects apply
// sends; none without spec.backups.drill.schedule.
func DrillObjects(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	typed, err := DrillTypedObjects(c, namespace)
	if err != nil || len(typed) == 0 {
		return nil, err
	}
	return unstructuredObjects(typed, 0)
}

// AppliedDrillObjects are the drill objects `neo4jctl apply` owns for
// the cluster file: DrillObjects when spec.backups.drill.schedule is
// set, none otherwise (apply then removes those a schedule had put
// there).
func AppliedDrillObjects(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	return DrillObjects(c, namespace)
}

// IsDrillObject reports whether labels are those DrillLabels gives the
// drill objects of cluster in namespace: what apply and destroy check
// before deleting one.
func IsDrillObject(labels map[string]string, cluster, namespace string) bool {
	return labels[LabelComponent] == DrillComponent && labels[LabelInstance] == cluster &&
		labels[labelDrillOfNS] == namespace && labels[LabelManagedBy] == ManagedBy
}

// scratchNamespaceName is prefix+<namespace>-<cluster>, shortened with a
// digest when longer than a namespace name may be (63), by the rule of
// verifyNamespaceName.
func scratchNamespaceName(prefix, namespace, cluster string) string {
	n := prefix + namespace + "-" + cluster
	if len(n) <= 63 {
		return n
	}
	sum := sha256.Sum256([]byte(namespace + "/" + cluster))
	return strings.TrimRight(n[:63-9], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
}
