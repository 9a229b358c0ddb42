package kube

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestBuiltInGroup(t *testing.T) {
	for g, want := range map[string]bool{
		"": true, "apps": true, "policy": true, "batch": true, "autoscaling": true,
		"networking.k8s.io": true, "rbac.authorization.k8s.io": true,
		"monitoring.coreos.com": false, "cert-manager.io": false,
		"gateway.networking.k8s.io": false, "snapshot.storage.k8s.io": false,
	} {
		if got := builtInGroup(g); got != want {
			t.Errorf("builtInGroup(%q) = %v, want %v", g, got, want)
		}
	}
}

// TestMayPatch: the rules review proves a dry run possible only when its
// rules cover patch on the object's resource and name, and only when the
// server says the rules are complete and the object is namespaced.
func TestMayPatch(t *testing.T) {
	sts := prepared{
		obj:       &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "prod"}}},
		gvr:       schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"},
		namespace: "db",
	}
	read := rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}
	cases := []struct {
		name     string
		rules    []rbacv1.PolicyRule
		complete bool
		p        func(prepared) prepared
		want     bool
	}{
		{"read only", []rbacv1.PolicyRule{read}, true, nil, false},
		{"patch on everything", []rbacv1.PolicyRule{read, {APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}, true, nil, true},
		{"patch on statefulsets", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"patch"}}}, true, nil, true},
		{"patch on the core group's statefulsets (no such thing)", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"statefulsets"}, Verbs: []string{"patch"}}}, true, nil, false},
		{"patch on the scale subresource only", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets/scale"}, Verbs: []string{"patch"}}}, true, nil, false},
		{"update, not patch", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"update", "create"}}}, true, nil, false},
		{"patch by this name", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"patch"}, ResourceNames: []string{"prod"}}}, true, nil, true},
		{"patch by another name", []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"patch"}, ResourceNames: []string{"test"}}}, true, nil, false},
		{"incomplete review (a webhook authorizer)", []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}, false, nil, false},
		{"cluster-scoped object", []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}, true,
			func(p prepared) prepared { p.namespace = ""; return p }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := sts
			if tc.p != nil {
				p = tc.p(p)
			}
			if got := p.mayPatch(selfRules{rules: tc.rules, complete: tc.complete}); got != tc.want {
				t.Errorf("mayPatch = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRulesOf: a review the server could not finish (an authorizer that
// cannot list its rules, an evaluation error) is incomplete.
func TestRulesOf(t *testing.T) {
	all := []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
	if r := rulesOf(authorizationv1.SelfSubjectRulesReview{Status: authorizationv1.SubjectRulesReviewStatus{ResourceRules: all}}); !r.complete || len(r.rules) != 1 {
		t.Errorf("complete review: %+v", r)
	}
	if r := rulesOf(authorizationv1.SelfSubjectRulesReview{Status: authorizationv1.SubjectRulesReviewStatus{ResourceRules: all, Incomplete: true}}); r.complete {
		t.Errorf("incomplete review taken as complete")
	}
	if r := rulesOf(authorizationv1.SelfSubjectRulesReview{Status: authorizationv1.SubjectRulesReviewStatus{ResourceRules: all, EvaluationError: "webhook: no rules"}}); r.complete {
		t.Errorf("review with an evaluation error taken as complete")
	}
}
