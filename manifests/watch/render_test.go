package watch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// pinned are the options every test starts from: a released version, so
// the image is pinned.
func pinned(o Options) Options {
	if o.Version == "" && o.Image == "" {
		o.Version = "1.4.0"
	}
	if o.Namespace == "" {
		o.Namespace = "graph"
	}
	return o
}

func TestRenderKindsAndOrder(t *testing.T) {
	objs, err := Render(pinned(Options{ClusterFiles: []ClusterFile{{Cluster: "orders", FileName: "orders.yaml", Content: "kind: Neo4jCluster\n"}}}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
		if o.GetNamespace() == "default" && strings.HasSuffix(o.GetName(), "-graph-apiserver") {
			continue // the read of the API server's EndpointSlice (TestAPIServerSliceRole)
		}
		if o.GetNamespace() != "graph" {
			t.Errorf("%s/%s: namespace %q, want graph", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
	want := []string{"ServiceAccount/neo4jctl-watch", "Role/neo4jctl-watch", "RoleBinding/neo4jctl-watch",
		"Role/neo4jctl-watch-graph-apiserver", "RoleBinding/neo4jctl-watch-graph-apiserver",
		"ConfigMap/neo4jctl-watch-dashboard", "ConfigMap/neo4jctl-watch-orders", "Service/neo4jctl-watch",
		"PodDisruptionBudget/neo4jctl-watch", "Deployment/neo4jctl-watch",
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
	objs, err := Render(pinned(Options{Image: "example/neo4jctl:1"}))
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
	objs, err := Render(pinned(Options{}))
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
	if diff := cmp.Diff([]string{AlertWatchDown, AlertNoLeader, AlertAuditFailing, AlertDrift, AlertReconcileFail, AlertNeo4jUnreachable}, alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// TestImageIsPinned: the rendered image is this release's, or the one
// given with a tag or digest; never :latest, never untagged.
func TestImageIsPinned(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		wantImage string
		wantErr   string
	}{
		{"release version", Options{Version: "1.4.0"}, "ghcr.io/neo4jctl/neo4jctl:1.4.0", ""},
		{"v-prefixed release", Options{Version: "v1.4.0-rc.1"}, "ghcr.io/neo4jctl/neo4jctl:v1.4.0-rc.1", ""},
		{"explicit tag", Options{Version: "dev", Image: "registry.local:5000/neo4jctl:1.3.2"}, "registry.local:5000/neo4jctl:1.3.2", ""},
		{"digest", Options{Image: "ghcr.io/neo4jctl/neo4jctl@sha256:" + strings.Repeat("a", 64)}, "ghcr.io/neo4jctl/neo4jctl@sha256:" + strings.Repeat("a", 64), ""},
		{"dev build, no image", Options{Version: "dev"}, "", "pinned"},
		{"no version, no image", Options{}, "", "pinned"},
		{"latest", Options{Image: "ghcr.io/neo4jctl/neo4jctl:latest"}, "", ":latest"},
		{"untagged", Options{Image: "ghcr.io/neo4jctl/neo4jctl"}, "", "tag"},
		{"registry port is not a tag", Options{Image: "registry.local:5000/neo4jctl"}, "", "tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Namespace = "graph"
			objs, err := Render(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, _, _ := unstructured.NestedSlice(find(objs, "Deployment").Object, "spec", "template", "spec", "containers")
			if got := c[0].(map[string]any)["image"]; got != tc.wantImage {
				t.Errorf("image: got %v, want %s", got, tc.wantImage)
			}
		})
	}
}

// TestPDBKeepsAReplica: voluntary evictions take one watch replica at a
// time, so a node drain never leaves the namespace without one.
func TestPDBKeepsAReplica(t *testing.T) {
	objs, err := Render(pinned(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	pdb := find(objs, "PodDisruptionBudget")
	if pdb == nil {
		t.Fatal("no PodDisruptionBudget")
	}
	if got, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "maxUnavailable"); got != int64(1) {
		t.Errorf("maxUnavailable: got %v, want 1", got)
	}
	sel, _, _ := unstructured.NestedStringMap(pdb.Object, "spec", "selector", "matchLabels")
	dsel, _, _ := unstructured.NestedStringMap(find(objs, "Deployment").Object, "spec", "selector", "matchLabels")
	if diff := cmp.Diff(dsel, sel); diff != "" {
		t.Errorf("PDB selector is not the Deployment's (-deployment +pdb):\n%s", diff)
	}
}

// TestClusterFileConfigMap: the cluster file ships with watch, in a
// ConfigMap the rendered --from-configmaps selector picks.
func TestClusterFileConfigMap(t *testing.T) {
	objs, err := Render(pinned(Options{ClusterFiles: []ClusterFile{{Cluster: "orders", FileName: "orders.yaml", Content: "metadata:\n  name: orders\n"}}}))
	if err != nil {
		t.Fatal(err)
	}
	var cm *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "neo4jctl-watch-orders" {
			cm = o
		}
	}
	if cm == nil {
		t.Fatal("no cluster-file ConfigMap")
	}
	if cm.GetLabels()["neo4jctl.io/cluster-file"] != "true" {
		t.Errorf("labels %v do not match the selector %s", cm.GetLabels(), dwatch.DefaultConfigMapSelector)
	}
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "orders.yaml"); got != "metadata:\n  name: orders\n" {
		t.Errorf("data[orders.yaml]: got %q", got)
	}
	if _, err := Render(pinned(Options{Selector: "team in (a,b)", ClusterFiles: []ClusterFile{{Cluster: "o", FileName: "o.yaml"}}})); err == nil {
		t.Error("a set-based selector cannot label the ConfigMap: want an error")
	}
}

// TestCAMountedWhenTLS: with TLS on, the CA is mounted read-only and
// passed to watch, so Bolt is verified, not skipped.
func TestCAMountedWhenTLS(t *testing.T) {
	objs, err := Render(pinned(Options{CASecretName: "orders-tls"}))
	if err != nil {
		t.Fatal(err)
	}
	spec, _, _ := unstructured.NestedMap(find(objs, "Deployment").Object, "spec", "template", "spec")
	vols, _, _ := unstructured.NestedSlice(spec, "volumes")
	found := false
	for _, v := range vols {
		v := v.(map[string]any)
		if name, _, _ := unstructured.NestedString(v, "secret", "secretName"); name == "orders-tls" {
			found = true
			items, _, _ := unstructured.NestedSlice(v, "secret", "items")
			if len(items) != 1 || items[0].(map[string]any)["key"] != "ca.crt" {
				t.Errorf("CA volume mounts %v, want ca.crt only (never the private key)", items)
			}
		}
	}
	if !found {
		t.Fatalf("no volume from Secret orders-tls: %v", vols)
	}
	ctr := spec["containers"].([]any)[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(ctr, "args")
	if got := strings.Join(args, " "); !strings.Contains(got, "--neo4j-ca-file "+CAMountPath+"/ca.crt") {
		t.Errorf("args %q do not pass the CA", got)
	}
	noTLS, err := Render(pinned(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if args, _, _ := unstructured.NestedStringSlice(find(noTLS, "Deployment").Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any), "args"); strings.Contains(strings.Join(args, " "), "--neo4j-ca-file") {
		t.Errorf("without TLS: args %v pass a CA", args)
	}
}

func alertExprs(t *testing.T, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	groups, _, _ := unstructured.NestedSlice(find(objs, "PrometheusRule").Object, "spec", "groups")
	out := map[string]string{}
	for _, g := range groups {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			r := r.(map[string]any)
			out[r["alert"].(string)] = r["expr"].(string)
		}
	}
	return out
}

// TestAlertsFireWhenWatchIsDown: with no watch replica scraped there are
// no watch series at all, so a comparison on them never fires; the alerts
// that must fire then use absent() on the series the ServiceMonitor's
// scrape produces (job = the Service's name, namespace = watch's).
func TestAlertsFireWhenWatchIsDown(t *testing.T) {
	objs, err := Render(pinned(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	exprs := alertExprs(t, objs)
	svc := find(objs, "Service").GetName()
	sel := `{job="` + svc + `",namespace="graph"}`
	for alert, want := range map[string]string{
		AlertWatchDown: "absent(up" + sel + " == 1)",
		AlertNoLeader:  "absent(" + dwatch.MetricLeader + sel + ")",
	} {
		if !strings.Contains(exprs[alert], want) {
			t.Errorf("%s: expr %q does not contain %q", alert, exprs[alert], want)
		}
	}
	sm := find(objs, "ServiceMonitor")
	if m, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels"); m["app.kubernetes.io/instance"] != svc {
		t.Errorf("ServiceMonitor selects %v, not the Service %s the alerts' job label names", m, svc)
	}
}

// TestRuleGroupsAndDashboardRowsExtend: other features add their own rule
// groups and dashboard rows; names must not collide.
func TestRuleGroupsAndDashboardRowsExtend(t *testing.T) {
	backup := RuleGroup{Name: "neo4jctl-backup", Rules: []Rule{{Alert: "Neo4jBackupStale", Expr: "time() - neo4jctl_backup_last_success_timestamp_seconds > 90000", For: "10m", Severity: "warning", Summary: "no backup in 25h"}}}
	row := DashboardRow{Title: "Backups", Panels: []Panel{{Title: "Last backup age", Expr: "time() - neo4jctl_backup_last_success_timestamp_seconds", Unit: "s"}}}
	objs, err := Render(pinned(Options{RuleGroups: []RuleGroup{backup}, DashboardRows: []DashboardRow{row}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := alertExprs(t, objs)["Neo4jBackupStale"]; !ok {
		t.Error("the added rule group is not in the PrometheusRule")
	}
	dash, _, _ := unstructured.NestedString(find(objs, "ConfigMap").Object, "data", "neo4jctl-watch.json")
	if !strings.Contains(dash, "Last backup age") || !strings.Contains(dash, `"type": "row"`) {
		t.Error("the added row is not on the dashboard")
	}
	if _, err := Render(pinned(Options{RuleGroups: []RuleGroup{{Name: WatchRuleGroupName}}})); err == nil {
		t.Error("a group named like watch's: want an error")
	}
}

// TestPodsCarryTheLabelTheServersAdmit: the servers' NetworkPolicy admits
// Pods labelled app.kubernetes.io/name=neo4jctl-watch to Bolt; watch's
// Pods must carry it whatever Name is.
func TestPodsCarryTheLabelTheServersAdmit(t *testing.T) {
	objs, err := Render(pinned(Options{Name: "team-a-watch"}))
	if err != nil {
		t.Fatal(err)
	}
	l, _, _ := unstructured.NestedStringMap(find(objs, "Deployment").Object, "spec", "template", "metadata", "labels")
	if l[manifests.LabelName] != manifests.WatchAppName {
		t.Errorf("Pod labels %v lack %s=%s", l, manifests.LabelName, manifests.WatchAppName)
	}
}
