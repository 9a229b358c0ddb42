package manifests

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// ciBuiltinResources are the built-in resources neo4jctl renders into a
// cluster's namespace, by group. plan and drift list every kind the
// cluster's inventory (ApplySet) has held, not only the kinds the file
// renders today: a kind the file stopped rendering is listed to find its
// orphans, so the Role covers all of them.
var ciBuiltinResources = map[string][]string{
	"":                          {"configmaps", "services", "serviceaccounts"},
	"apps":                      {"statefulsets"},
	"batch":                     {"cronjobs", "jobs"},
	"policy":                    {"poddisruptionbudgets"},
	"networking.k8s.io":         {"networkpolicies"},
	"rbac.authorization.k8s.io": {"roles", "rolebindings"},
}

// CIRoleOptions are what the read-only CI role of one cluster covers.
type CIRoleOptions struct {
	Namespace string
	Cluster   string
	// ServiceAccount is bound to the roles; it lives in Namespace.
	ServiceAccount string
	// Objects are the cluster's rendered objects: their custom resource
	// kinds (Certificate, ServiceMonitor) join the readable kinds.
	Objects []*unstructured.Unstructured
	// SecretNames are the Secrets the cluster references: read by name
	// only (the Neo4j password, the TLS CA, pre-flight's key checks).
	SecretNames []string
	// Issuers are the cert-manager issuers the Certificates reference, as
	// "Issuer/name" or "ClusterIssuer/name" (pre-flight checks they exist).
	Issuers []string
	// APIServer: the cluster's NetworkPolicy names the API server's
	// endpoints (UsesAPIServer), so plan and drift read the `kubernetes`
	// Service's EndpointSlice, default/kubernetes.
	APIServer bool
	// Verification: the cluster file has spec.backups.verification.schedule,
	// whose objects plan reads (verifyReadRules).
	Verification bool
	// Drill: the cluster file has spec.backups.drill.schedule, whose
	// standing objects plan reads (drillReadRules).
	Drill bool
}

// APIServerSliceRole is the least a reader of the API server's endpoints
// needs: get on the one EndpointSlice the API server keeps for the
// `kubernetes` Service (default/kubernetes), by name. A Role in the
// default namespace, not a ClusterRole: a ClusterRole's resourceNames
// would admit a slice of that name in every namespace.
func APIServerSliceRole(name string, labels map[string]string) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"},
			ResourceNames: []string{"kubernetes"}, Verbs: []string{"get"},
		}},
	}
}

// APIServerSliceRoleBinding binds APIServerSliceRole(name) to subject.
func APIServerSliceRoleBinding(name string, labels map[string]string, subject rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{subject},
	}
}

// CIRole renders the least-privilege credentials of a CI job that runs
// `neo4jctl plan` and `neo4jctl drift` for one cluster: a ServiceAccount,
// a Role in the cluster's namespace and a ClusterRole, with their
// bindings. Every verb is a read (get, list) except create on
// pods/portforward, which opens the tunnel to a Neo4j server's Bolt port
// and changes nothing; leave that rule out for --skip-neo4j or
// --neo4j-uri runs. No patch: plan falls back to the structural comparison
// (kube_mode: structural), as drift does. Secrets are readable by name
// only. The built-in `view` ClusterRole is not enough: it cannot read
// Roles, RoleBindings or Secrets.
func CIRole(o CIRoleOptions) ([]*unstructured.Unstructured, error) {
	name := "neo4jctl-ci-" + o.Cluster
	clusterName := fmt.Sprintf("neo4jctl-ci-%s-%s", o.Namespace, o.Cluster)
	labels := map[string]string{"app.kubernetes.io/name": "neo4jctl-ci", "app.kubernetes.io/instance": o.Cluster, "app.kubernetes.io/managed-by": "neo4jctl"}
	read := []string{"get", "list"}

	groups := map[string]map[string]bool{}
	addRes := func(group string, res ...string) {
		if groups[group] == nil {
			groups[group] = map[string]bool{}
		}
		for _, r := range res {
			groups[group][r] = true
		}
	}
	for g, rs := range ciBuiltinResources {
		addRes(g, rs...)
	}
	for _, u := range o.Objects {
		gvk := u.GroupVersionKind()
		if _, builtin := ciBuiltinResources[gvk.Group]; builtin {
			continue
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		addRes(gvk.Group, plural.Resource)
	}
	gs := make([]string, 0, len(groups))
	for g := range groups {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	var rules []rbacv1.PolicyRule
	for _, g := range gs {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: sortedKeys(groups[g]), Verbs: read})
	}
	// The Pods are listed for the Kubernetes plane and to find a Ready
	// server for the Neo4j plane.
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: read})
	// The claims are listed so a plan sees their size (storage growth) and
	// the claims a scale-in left behind.
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: read})
	if len(o.SecretNames) > 0 {
		names := append([]string(nil), o.SecretNames...)
		sort.Strings(names)
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: names, Verbs: []string{"get"}})
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/portforward"}, Verbs: []string{"create"}})
	var issuers, clusterIssuers []string
	for _, ref := range o.Issuers {
		switch kind, n := splitRef(ref); kind {
		case "ClusterIssuer":
			clusterIssuers = append(clusterIssuers, n)
		default:
			issuers = append(issuers, n)
		}
	}
	if len(issuers) > 0 {
		sort.Strings(issuers)
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"cert-manager.io"}, Resources: []string{"issuers"}, ResourceNames: issuers, Verbs: []string{"get"}})
	}

	clusterRules := []rbacv1.PolicyRule{
		// Pre-flight: the namespace exists, and so do the StorageClasses
		// the claims name (or a default one: a list).
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{o.Namespace}, Verbs: []string{"get"}},
		{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses"}, Verbs: read},
	}
	if o.Verification {
		clusterRules = append(clusterRules, verifyReadRules(o)...)
	}
	if o.Drill {
		clusterRules = append(clusterRules, drillReadRules(o)...)
	}
	if len(clusterIssuers) > 0 {
		sort.Strings(clusterIssuers)
		clusterRules = append(clusterRules, rbacv1.PolicyRule{APIGroups: []string{"cert-manager.io"}, Resources: []string{"clusterissuers"}, ResourceNames: clusterIssuers, Verbs: []string{"get"}})
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.ServiceAccount, Namespace: o.Namespace}}
	objs := []runtime.Object{
		&rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels}, Rules: rules},
		&rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}, Subjects: subject},
		&rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: clusterName, Labels: labels}, Rules: clusterRules},
		&rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: clusterName, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterName}, Subjects: subject},
	}
	if o.APIServer {
		// The cluster-scoped name: one per cluster in the default namespace.
		objs = append(objs, APIServerSliceRole(clusterName, labels), APIServerSliceRoleBinding(clusterName, labels, subject[0]))
	}
	out := make([]*unstructured.Unstructured, 0, len(objs)+1)
	sa := map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": o.ServiceAccount, "namespace": o.Namespace, "labels": toAny(labels)}}
	out = append(out, &unstructured.Unstructured{Object: sa})
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, err
		}
		unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

func splitRef(ref string) (kind, name string) {
	kind, name, _ = strings.Cut(ref, "/")
	return kind, name
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// verifyReadRules let plan and drift read the backup verification objects
// (plan/verify.go) of spec.backups.verification.schedule: the scratch
// Namespace and the objects in it, get by their fixed names. They are
// granted cluster-wide, not by a RoleBinding in the scratch namespace:
// that namespace exists only once apply made it, and no binding can wait
// for it. Names only, never list and never Secrets (the pull-Secret
// copies are not read). The same names in other clusters' scratch
// namespaces are readable too: their CronJob, quota and cluster file,
// which holds no credential (agentClusterFile). The Role and
// RoleBinding in the cluster's namespace are read under the Role's
// roles/rolebindings.
func verifyReadRules(o CIRoleOptions) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{verifyNamespaceName(o.Namespace, o.Cluster)}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps", "limitranges", "resourcequotas", "serviceaccounts"},
			ResourceNames: []string{VerifyConfigMapName, VerifyQuotaName, VerifyServiceAccountName}, Verbs: []string{"get"}},
		{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, ResourceNames: []string{VerifyCronJobName}, Verbs: []string{"get"}},
	}
}

// drillReadRules let plan and drift read the standing DR drill objects
// (manifests/drill.go) of spec.backups.drill.schedule, as verifyReadRules
// do the verification objects: the drill Namespace and the objects in it,
// get by their fixed names, cluster-wide (the namespace exists only once
// apply made it). The drill namespace also holds a Role and a RoleBinding
// (the drill ServiceAccount's), read by name too: rules hold no secret.
// Never list, never Secrets (the copies a running drill makes are not
// read). The Role and RoleBinding in the cluster's namespace are read
// under the Role's roles/rolebindings.
func drillReadRules(o CIRoleOptions) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{scratchNamespaceName(drillNamespacePrefix, o.Namespace, o.Cluster)}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps", "limitranges", "resourcequotas", "serviceaccounts"},
			ResourceNames: []string{DrillConfigMapName, DrillQuotaName, DrillServiceAccountName}, Verbs: []string{"get"}},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, ResourceNames: []string{DrillRoleName}, Verbs: []string{"get"}},
		{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, ResourceNames: []string{DrillCronJobName}, Verbs: []string{"get"}},
	}
}
