package watch

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// With backups, the PrometheusRule holds the verification group, its own,
// alerting on a failed verification; without, it does not.
func TestVerificationRuleGroup(t *testing.T) {
	groupsOf := func(o Options) map[string]string {
		objs, err := Render(pinned(o))
		if err != nil {
			t.Fatal(err)
		}
		rule := find(objs, "PrometheusRule")
		gs, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
		out := map[string]string{}
		for _, g := range gs {
			g := g.(map[string]any)
			var exprs []string
			for _, r := range g["rules"].([]any) {
				exprs = append(exprs, r.(map[string]any)["alert"].(string)+": "+r.(map[string]any)["expr"].(string))
			}
			out[g["name"].(string)] = strings.Join(exprs, "\n")
		}
		return out
	}
	with := groupsOf(Options{Backups: true})
	g, ok := with[VerificationRuleGroupName]
	if !ok || !strings.Contains(g, AlertVerificationFailed+": neo4jctl_backup_verification_failed == 1") ||
		!strings.Contains(g, "neo4jctl_backup_verification_last_success_timestamp_seconds") {
		t.Errorf("group %s: %q", VerificationRuleGroupName, g)
	}
	if _, ok := with[HealthRuleGroupName]; !ok {
		t.Errorf("the health group is gone: %v", with)
	}
	if _, ok := groupsOf(Options{})[VerificationRuleGroupName]; ok {
		t.Errorf("verification group without backups")
	}
}
