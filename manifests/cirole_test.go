package manifests

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

func TestCIRoleIsReadOnlyAndNarrow(t *testing.T) {
	sm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": map[string]any{"name": "db"}}}
	objs, err := CIRole(CIRoleOptions{Namespace: "prod", Cluster: "db", ServiceAccount: "ci", Objects: []*unstructured.Unstructured{sm},
		SecretNames: []string{"db-auth"}, Issuers: []string{"ClusterIssuer/ca"}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var rules []rbacv1.PolicyRule
	for _, o := range objs {
		kinds = append(kinds, o.GetKind())
		if o.GetKind() == "Role" || o.GetKind() == "ClusterRole" {
			var r rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			rules = append(rules, r.Rules...)
		}
	}
	if want := []string{"ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds: got %v, want %v", kinds, want)
	}
	can := func(group, resource, verb string) (bool, []string) {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true, r.ResourceNames
			}
		}
		return false, nil
	}
	for _, r := range rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && !(v == "create" && slices.Equal(r.Resources, []string{"pods/portforward"})) {
				t.Errorf("rule %v grants %s, want reads only", r.Resources, v)
			}
		}
	}
	for _, c := range []struct{ group, res, verb string }{
		{"rbac.authorization.k8s.io", "roles", "list"}, {"monitoring.coreos.com", "servicemonitors", "list"},
		{"", "pods", "list"}, {"apps", "statefulsets", "get"}, {"storage.k8s.io", "storageclasses", "get"},
	} {
		if ok, _ := can(c.group, c.res, c.verb); !ok {
			t.Errorf("cannot %s %s.%s", c.verb, c.res, c.group)
		}
	}
	for _, c := range []struct{ group, res, name string }{{"", "secrets", "db-auth"}, {"", "namespaces", "prod"}, {"cert-manager.io", "clusterissuers", "ca"}} {
		if ok, names := can(c.group, c.res, "get"); !ok || !slices.Equal(names, []string{c.name}) {
			t.Errorf("%s: get %v by names %v, want only %s", c.res, ok, names, c.name)
		}
	}
	if ok, _ := can("", "secrets", "list"); ok {
		t.Error("the role may list Secrets")
	}
}

// The CI role reads the API server's EndpointSlice (for the NetworkPolicy)
// only when the cluster's policy names it, and then that one slice by
// name, in the default namespace, with get alone.
func TestCIRoleAPIServerSlice(t *testing.T) {
	for _, apiServer := range []bool{false, true} {
		objs, err := CIRole(CIRoleOptions{Namespace: "prod", Cluster: "db", ServiceAccount: "ci", APIServer: apiServer})
		if err != nil {
			t.Fatal(err)
		}
		var found []rbacv1.PolicyRule
		for _, o := range objs {
			if o.GetNamespace() != "default" {
				continue
			}
			switch o.GetKind() {
			case "Role":
				var r rbacv1.Role
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
					t.Fatal(err)
				}
				found = append(found, r.Rules...)
			case "RoleBinding":
				var b rbacv1.RoleBinding
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b); err != nil {
					t.Fatal(err)
				}
				if len(b.Subjects) != 1 || b.Subjects[0].Name != "ci" || b.Subjects[0].Namespace != "prod" || b.RoleRef.Kind != "Role" {
					t.Errorf("binding in default: %+v", b)
				}
			default:
				t.Errorf("APIServer=%v: a %s in the default namespace", apiServer, o.GetKind())
			}
		}
		want := []rbacv1.PolicyRule{{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, ResourceNames: []string{"kubernetes"}, Verbs: []string{"get"}}}
		if !apiServer {
			want = nil
		}
		if !slices.EqualFunc(found, want, func(a, b rbacv1.PolicyRule) bool {
			return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) && slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.Verbs, b.Verbs)
		}) {
			t.Errorf("APIServer=%v: rules in default %+v, want %+v", apiServer, found, want)
		}
	}
}

// With a verification schedule the CI role reads the scratch namespace and
// the verification objects in it by name, get only, and nothing more:
// no list, no Secret.
func TestCIRoleReadsVerificationObjectsByName(t *testing.T) {
	rulesOf := func(verification bool) []rbacv1.PolicyRule {
		return clusterRulesOf(t, CIRoleOptions{Namespace: "prod", Cluster: "db", ServiceAccount: "ci", Verification: verification})
	}
	without, with := rulesOf(false), rulesOf(true)
	added := with[len(without):]
	if len(added) != 3 {
		t.Fatalf("verification added %d cluster rules, want 3: %+v", len(added), added)
	}
	for _, r := range added {
		if !slices.Equal(r.Verbs, []string{"get"}) || len(r.ResourceNames) == 0 || slices.Contains(r.Resources, "secrets") {
			t.Errorf("rule %+v: want get by name, no Secrets", r)
		}
	}
	if !slices.Equal(added[0].ResourceNames, []string{"neo4jctl-verify-prod-db"}) {
		t.Errorf("namespaces: %v, want the scratch namespace only", added[0].ResourceNames)
	}
}

// With a drill schedule the CI role reads the drill namespace and the
// standing drill objects in it by name, get only: no list, no Secret.
func TestCIRoleReadsDrillObjectsByName(t *testing.T) {
	rulesOf := func(drill bool) []rbacv1.PolicyRule {
		return clusterRulesOf(t, CIRoleOptions{Namespace: "prod", Cluster: "db", ServiceAccount: "ci", Drill: drill})
	}
	without, with := rulesOf(false), rulesOf(true)
	added := with[len(without):]
	if len(added) != 4 {
		t.Fatalf("a drill schedule added %d cluster rules, want 4: %+v", len(added), added)
	}
	for _, r := range added {
		if !slices.Equal(r.Verbs, []string{"get"}) || len(r.ResourceNames) == 0 || slices.Contains(r.Resources, "secrets") {
			t.Errorf("rule %+v: want get by name, no Secrets", r)
		}
	}
	c := &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "db"}}
	if want := DrillNamespaceName(c, "prod"); !slices.Equal(added[0].ResourceNames, []string{want}) {
		t.Errorf("namespaces: %v, want the drill namespace %s only", added[0].ResourceNames, want)
	}
}

// clusterRulesOf is the rules of the ClusterRole CIRole renders for o.
func clusterRulesOf(t *testing.T, o CIRoleOptions) []rbacv1.PolicyRule {
	t.Helper()
	objs, err := CIRole(o)
	if err != nil {
		t.Fatal(err)
	}
	var out []rbacv1.PolicyRule
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" {
			var r rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Rules...)
		}
	}
	return out
}
