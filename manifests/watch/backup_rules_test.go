package watch

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Watch observes a backups cluster's CronJobs and chain claim with the
// dry-run patch every rendered object gets; without spec.backups it is
// granted nothing on them.
func TestRulesForBackups(t *testing.T) {
	has := func(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	with := Rules(Options{Namespace: "db", Backups: true})
	for _, want := range []struct{ group, resource, verb string }{
		{"batch", "cronjobs", "patch"}, {"batch", "cronjobs", "watch"}, {"", "persistentvolumeclaims", "patch"}, {"", "persistentvolumeclaims", "get"},
	} {
		if !has(with, want.group, want.resource, want.verb) {
			t.Errorf("Backups: no %s on %s/%s", want.verb, want.group, want.resource)
		}
	}
	if has(with, "", "persistentvolumeclaims", "delete") || hasWildcard(with) {
		t.Errorf("Backups: claims deletable or a wildcard: %v", with)
	}
	without := Rules(Options{Namespace: "db"})
	if has(without, "batch", "cronjobs", "get") || has(without, "", "persistentvolumeclaims", "patch") {
		t.Errorf("without backups: %v", without)
	}
}
