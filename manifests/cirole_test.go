package manifests

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
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
