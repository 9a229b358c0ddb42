package watch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
)

// TestHealthAlertsAndRow: the PrometheusRule carries the health group
// (its own, after watch's) with an alert per FAIL the health metrics can
// show, each on a metric watch exports; the dashboard has a health row
// with a panel on each health metric.
func TestHealthAlertsAndRow(t *testing.T) {
	objs, err := Render(pinned(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	rule := find(objs, "PrometheusRule")
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	var names []string
	var health map[string]any
	for _, g := range groups {
		gm := g.(map[string]any)
		names = append(names, gm["name"].(string))
		if gm["name"] == HealthRuleGroupName {
			health = gm
		}
	}
	if diff := cmp.Diff([]string{WatchRuleGroupName, HealthRuleGroupName}, names); diff != "" {
		t.Fatalf("rule groups (-want +got):\n%s", diff)
	}
	exprs := map[string]string{}
	for _, r := range health["rules"].([]any) {
		rm := r.(map[string]any)
		exprs[rm["alert"].(string)] = rm["expr"].(string)
	}
	for alert, metric := range map[string]string{
		AlertHealthCheckFailing:  dwatch.MetricHealthCheck + " == 2",
		AlertSplitBrain:          dwatch.MetricHealthSplitBrain + " > 0",
		AlertStorageAlmostFull:   dwatch.MetricHealthStorageUsed + " >= 0.95",
		AlertCertificateExpiring: dwatch.MetricHealthCertificateExpiry + " < 7 * 86400",
		AlertHealthCheckUnknown:  dwatch.MetricHealthCheckUnknown + " == 1",
	} {
		if exprs[alert] != metric {
			t.Errorf("%s: expr %q, want %q", alert, exprs[alert], metric)
		}
	}
	dash, _, _ := unstructured.NestedString(find(objs, "ConfigMap").Object, "data", "neo4jctl-watch.json")
	if !strings.Contains(dash, `"title": "Health (neo4jctl healthcheck)"`) {
		t.Error("the dashboard has no health row")
	}
	for _, m := range []string{dwatch.MetricHealthCheck, dwatch.MetricHealthSplitBrain, dwatch.MetricHealthStorageUsed, dwatch.MetricHealthCertificateExpiry, dwatch.MetricHealthCheckUnknown} {
		if !strings.Contains(dash, m) {
			t.Errorf("dashboard has no panel on %s", m)
		}
	}
}

// TestHealthOnByDefault: the rendered Deployment runs the health checks
// (--health-interval, default 60 s) and its Role lists events for them;
// NoHealth drops both.
func TestHealthOnByDefault(t *testing.T) {
	eventsList := func(o Options) bool {
		for _, r := range Rules(o) {
			for _, res := range r.Resources {
				if res == "events" {
					for _, v := range r.Verbs {
						if v == "list" {
							return true
						}
					}
				}
			}
		}
		return false
	}
	on := strings.Join(Args(Options{Namespace: "graph"}), " ")
	if !strings.Contains(on, "--health-interval 1m0s") || !eventsList(Options{}) {
		t.Errorf("default: args %q, events list %v; want --health-interval 1m0s and list", on, eventsList(Options{}))
	}
	off := strings.Join(Args(Options{Namespace: "graph", NoHealth: true}), " ")
	if strings.Contains(off, "--health-interval") || eventsList(Options{NoHealth: true}) {
		t.Errorf("NoHealth: args %q, events list %v; want neither", off, eventsList(Options{NoHealth: true}))
	}
}
