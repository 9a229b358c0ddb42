package watch

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/manifests"
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

// watch's backups health check lists the catalogue as `backup list` does,
// with the storage's Secret mounted where backup/ops looks for it.
func TestBackupStorageSecretMounted(t *testing.T) {
	objs, err := Render(pinned(Options{Backups: true, BackupCredentialsSecret: "bucket-creds"}))
	if err != nil {
		t.Fatal(err)
	}
	dep := find(objs, "Deployment")
	vols, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "volumes")
	var volName string
	for _, v := range vols {
		v := v.(map[string]any)
		if name, _, _ := unstructured.NestedString(v, "secret", "secretName"); name == "bucket-creds" {
			volName, _ = v["name"].(string)
		}
	}
	if volName == "" {
		t.Fatalf("no volume from Secret bucket-creds: %v", vols)
	}
	ctrs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	mounts, _, _ := unstructured.NestedSlice(ctrs[0].(map[string]any), "volumeMounts")
	found := false
	for _, m := range mounts {
		m := m.(map[string]any)
		if m["name"] == volName && m["mountPath"] == manifests.BackupSecretsDir+"/bucket-creds" && m["readOnly"] == true {
			found = true
		}
	}
	if !found {
		t.Errorf("Secret bucket-creds not mounted read-only at %s/bucket-creds: %v", manifests.BackupSecretsDir, mounts)
	}
	without, err := Render(pinned(Options{Backups: true}))
	if err != nil {
		t.Fatal(err)
	}
	if vols, _, _ := unstructured.NestedSlice(find(without, "Deployment").Object, "spec", "template", "spec", "volumes"); len(vols) != 1 {
		t.Errorf("without a credentials Secret (workload identity): volumes %v, want only tmp", vols)
	}
}
