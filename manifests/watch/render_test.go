package watch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

func TestRenderKindsAndOrder(t *testing.T) {
	objs, err := Render(Options{Namespace: "graph"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
		if o.GetNamespace() != "graph" {
			t.Errorf("%s/%s: namespace %q, want graph", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
	want := []string{"ServiceAccount/neo4jctl-watch", "Role/neo4jctl-watch", "RoleBinding/neo4jctl-watch",
		"ConfigMap/neo4jctl-watch-dashboard", "Service/neo4jctl-watch", "Deployment/neo4jctl-watch",
		"ServiceMonitor/neo4jctl-watch", "PrometheusRule/neo4jctl-watch"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func find(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

func TestDeploymentIsRestricted(t *testing.T) {
	objs, err := Render(Options{Namespace: "graph", Image: "example/neo4jctl:1"})
	if err != nil {
		t.Fatal(err)
	}
	d := find(objs, "Deployment")
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	ctr := c[0].(map[string]any)
	for _, tc := range []struct {
		path []string
		want any
	}{
		{[]string{"securityContext", "readOnlyRootFilesystem"}, true},
		{[]string{"securityContext", "runAsNonRoot"}, true},
		{[]string{"securityContext", "allowPrivilegeEscalation"}, false},
		{[]string{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
		{[]string{"livenessProbe", "httpGet", "path"}, "/healthz"},
		{[]string{"readinessProbe", "httpGet", "path"}, "/readyz"},
		{[]string{"resources", "limits", "memory"}, "256Mi"},
		{[]string{"image"}, "example/neo4jctl:1"},
	} {
		got, _, _ := unstructured.NestedFieldNoCopy(ctr, tc.path...)
		if got != tc.want {
			t.Errorf("container %s: got %v, want %v", strings.Join(tc.path, "."), got, tc.want)
		}
	}
	drop, _, _ := unstructured.NestedStringSlice(ctr, "securityContext", "capabilities", "drop")
	if diff := cmp.Diff([]string{"ALL"}, drop); diff != "" {
		t.Errorf("capabilities.drop (-want +got):\n%s", diff)
	}
	args, _, _ := unstructured.NestedStringSlice(ctr, "args")
	if got := strings.Join(args, " "); !strings.Contains(got, "watch --from-configmaps neo4jctl.io/cluster-file=true") || !strings.Contains(got, "--leader-elect") {
		t.Errorf("args: got %q", got)
	}
}

func TestRulesHaveNoWildcardAndFollowTheMode(t *testing.T) {
	verbs := func(rules []rbacv1.PolicyRule, resource string) []string {
		for _, r := range rules {
			for _, res := range r.Resources {
				if res == resource {
					return r.Verbs
				}
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name       string
		opts       Options
		leases     []string
		pods       []string
		sts        []string
		secretsRef []string
	}{
		{"warn", Options{}, []string{"get", "create", "update"}, []string{"list"}, []string{"get", "list", "watch", "patch"}, nil},
		{"enforce", Options{Mode: dwatch.ModeEnforce}, []string{"get", "create", "update", "delete"}, []string{"list", "watch"}, []string{"get", "list", "watch", "patch"}, nil},
		{"enforce with opt-in deletes", Options{Mode: dwatch.ModeEnforce, AllowIrreversible: true, SecretNames: []string{"b", "a"}}, []string{"get", "create", "update", "delete"}, []string{"list", "watch"}, []string{"get", "list", "watch", "patch", "delete"}, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules := Rules(tc.opts)
			if hasWildcard(rules) {
				t.Fatalf("wildcard in %+v", rules)
			}
			for res, want := range map[string][]string{"leases": tc.leases, "pods": tc.pods, "statefulsets": tc.sts} {
				if diff := cmp.Diff(want, verbs(rules, res)); diff != "" {
					t.Errorf("%s verbs (-want +got):\n%s", res, diff)
				}
			}
			for _, r := range rules {
				if len(r.Resources) == 1 && r.Resources[0] == "secrets" {
					if diff := cmp.Diff(tc.secretsRef, r.ResourceNames); diff != "" {
						t.Errorf("secrets resourceNames (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

func TestDashboardAndAlertsNameTheMetrics(t *testing.T) {
	objs, err := Render(Options{Namespace: "graph"})
	if err != nil {
		t.Fatal(err)
	}
	cm := find(objs, "ConfigMap")
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Error("dashboard ConfigMap lacks the grafana_dashboard label")
	}
	dash, _, _ := unstructured.NestedString(cm.Object, "data", "neo4jctl-watch.json")
	for _, m := range []string{dwatch.MetricDriftObjects, dwatch.MetricReconcileDuration, dwatch.MetricApplyTotal, dwatch.MetricNeo4jReachable, dwatch.MetricCircuitState, dwatch.MetricLeader} {
		if !strings.Contains(dash, m) {
			t.Errorf("dashboard has no panel on %s", m)
		}
	}
	rule := find(objs, "PrometheusRule")
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	rs := groups[0].(map[string]any)["rules"].([]any)
	var alerts []string
	for _, r := range rs {
		alerts = append(alerts, r.(map[string]any)["alert"].(string))
	}
	if diff := cmp.Diff([]string{AlertDrift, AlertReconcileFail, AlertNeo4jUnreachable, AlertNoLeader}, alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}
