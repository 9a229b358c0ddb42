package manifests_test

import (
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// drilled is an Enterprise cluster (3 servers, Role of its own) with
// backups and a drill schedule read in Europe/Paris.
func drilled() *clusterfile.Cluster {
	c := enterprise()
	c.Spec.Backups = &clusterfile.Backups{
		Storage:    clusterfile.BackupLocation{URL: "s3://bk/g?region=eu-west-1", CredentialsSecret: "bk-s3"},
		Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "bk-keyset"}},
		Schedule:   &clusterfile.BackupSchedule{Full: "0 2 * * *", TimeZone: "Europe/Paris"},
		Drill:      &clusterfile.BackupDrill{Schedule: "0 5 * * 1"},
	}
	clusterfile.Default(c)
	return c
}

func drillObjects(t *testing.T, c *clusterfile.Cluster) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.DrillObjects(c, c.Metadata.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestDrillObjectsOnlyWithSchedule(t *testing.T) {
	c := drilled()
	c.Spec.Backups.Drill = nil
	if objs := drillObjects(t, c); len(objs) != 0 {
		t.Errorf("without spec.backups.drill.schedule: %d objects, want none", len(objs))
	}
	objs := drillObjects(t, drilled())
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		if !manifests.IsDrillObject(o.GetLabels(), "g", "db") {
			t.Errorf("%s/%s lacks the drill labels: %v", o.GetKind(), o.GetName(), o.GetLabels())
		}
		if _, ok := o.GetLabels()[manifests.LabelCluster]; ok {
			t.Errorf("%s/%s carries %s: the cluster's ApplySet would prune it", o.GetKind(), o.GetName(), manifests.LabelCluster)
		}
	}
	for kind, n := range map[string]int{"Namespace": 1, "ResourceQuota": 1, "LimitRange": 1, "ServiceAccount": 1, "Role": 2, "RoleBinding": 2, "ConfigMap": 1, "CronJob": 1} {
		if kinds[kind] != n {
			t.Errorf("%d %s, want %d (%v)", kinds[kind], kind, n, kinds)
		}
	}
	if objs[0].GetKind() != "Namespace" || objs[0].GetName() != "neo4jctl-drill-db-g" || objs[0].GetLabels()[manifests.LabelDrill] != "g" {
		t.Errorf("first object: %s %s %v, want the labelled drill namespace", objs[0].GetKind(), objs[0].GetName(), objs[0].GetLabels())
	}
}

// TestDrillRBACNeedsNoClusterPower: only Roles (nothing cluster-scoped),
// no namespace verbs, no bind/escalate/impersonate, no wildcards; the
// drill namespace's Role covers every kind the scratch cluster renders
// and every rule of the scratch cluster's own Role (escalation check);
// in the cluster's namespace only get on the copied Secrets by name.
func TestDrillRBACNeedsNoClusterPower(t *testing.T) {
	c := drilled()
	drillNS := manifests.DrillNamespaceName(c, "db")
	var inDrill, inCluster *rbacv1.Role
	for _, o := range drillObjects(t, c) {
		switch o.GetKind() {
		case "ClusterRole", "ClusterRoleBinding":
			t.Errorf("cluster-scoped %s %s", o.GetKind(), o.GetName())
		case "Role":
			var r rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			for _, rule := range r.Rules {
				for _, res := range rule.Resources {
					if res == "namespaces" || res == "*" || res == "clusterroles" || res == "clusterrolebindings" {
						t.Errorf("Role %s/%s grants %v on %s", r.Namespace, r.Name, rule.Verbs, res)
					}
				}
				for _, v := range rule.Verbs {
					if v == "bind" || v == "escalate" || v == "impersonate" || v == "*" {
						t.Errorf("Role %s/%s grants %s on %v", r.Namespace, r.Name, v, rule.Resources)
					}
				}
				if slices.Contains(rule.APIGroups, "*") {
					t.Errorf("Role %s/%s: wildcard group", r.Namespace, r.Name)
				}
			}
			switch r.Namespace {
			case drillNS:
				inDrill = &r
			case "db":
				inCluster = &r
			default:
				t.Errorf("Role in namespace %s", r.Namespace)
			}
		}
	}
	if inDrill == nil || inCluster == nil {
		t.Fatalf("Roles: drill %v, cluster %v", inDrill, inCluster)
	}
	if len(inCluster.Rules) != 1 || !slices.Equal(inCluster.Rules[0].Verbs, []string{"get"}) ||
		!slices.Equal(inCluster.Rules[0].Resources, []string{"secrets"}) || !slices.Equal(inCluster.Rules[0].ResourceNames, []string{"bk-keyset", "bk-s3", "g-auth"}) {
		t.Errorf("the cluster namespace's Role: %+v, want get on the named Secrets only", inCluster.Rules)
	}
	grants := func(group, res, verb string) bool {
		for _, r := range inDrill.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, verb) && len(r.ResourceNames) == 0 {
				return true
			}
		}
		return false
	}
	scratch, err := manifests.DrillScratchCluster(c, drillNS)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := manifests.Render(scratch, drillNS)
	if err != nil {
		t.Fatal(err)
	}
	plural := map[string]string{"ConfigMap": "configmaps", "Service": "services", "ServiceAccount": "serviceaccounts", "StatefulSet": "statefulsets",
		"PodDisruptionBudget": "poddisruptionbudgets", "NetworkPolicy": "networkpolicies", "Role": "roles", "RoleBinding": "rolebindings", "PersistentVolumeClaim": "persistentvolumeclaims"}
	for _, o := range rendered {
		res, ok := plural[o.GetKind()]
		if !ok {
			t.Errorf("the scratch cluster renders %s, unknown to the test", o.GetKind())
			continue
		}
		for _, v := range []string{"create", "patch", "delete"} {
			if !grants(o.GroupVersionKind().Group, res, v) {
				t.Errorf("the drill Role cannot %s %s", v, res)
			}
		}
		if o.GetKind() == "Role" {
			var own rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &own); err != nil {
				t.Fatal(err)
			}
			for _, r := range own.Rules {
				for _, g := range r.APIGroups {
					for _, res := range r.Resources {
						for _, v := range r.Verbs {
							if !grants(g, res, v) {
								t.Errorf("the scratch cluster's Role grants %s %s/%s, the drill Role does not: creating it would fail the escalation check", v, g, res)
							}
						}
					}
				}
			}
		}
	}
	for _, need := range [][3]string{{"batch", "jobs", "create"}, {"coordination.k8s.io", "leases", "create"}, {"", "pods", "delete"}, {"", "secrets", "create"}, {"", "persistentvolumeclaims", "delete"}} {
		if !grants(need[0], need[1], need[2]) {
			t.Errorf("the drill Role cannot %s %s/%s", need[2], need[0], need[1])
		}
	}
}

func TestDrillCronJob(t *testing.T) {
	c := drilled()
	cj := manifests.DrillCronJob(c, "db")
	if cj == nil {
		t.Fatal("no CronJob with spec.backups.drill.schedule")
	}
	if cj.Namespace != "neo4jctl-drill-db-g" || cj.Spec.Schedule != "0 5 * * 1" || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Europe/Paris" ||
		cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("CronJob %s/%s schedule %q timeZone %v concurrency %s", cj.Namespace, cj.Name, cj.Spec.Schedule, cj.Spec.TimeZone, cj.Spec.ConcurrencyPolicy)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if pod.ServiceAccountName != manifests.DrillServiceAccountName || len(pod.Containers) != 1 {
		t.Fatalf("Pod: SA %q, %d containers", pod.ServiceAccountName, len(pod.Containers))
	}
	args := pod.Containers[0].Args
	for _, want := range [][]string{{"dr", "drill"}, {"--in-namespace"}, {"--namespace", "neo4jctl-drill-db-g"}, {"--secrets-namespace", "db"}} {
		if !containsSeq(args, want) {
			t.Errorf("args %v lack %v", args, want)
		}
	}
	// Without spec.backups.schedule the zone is the default one.
	c.Spec.Backups.Schedule = nil
	if cj := manifests.DrillCronJob(c, "db"); *cj.Spec.TimeZone != clusterfile.DefaultBackupTimeZone {
		t.Errorf("timeZone %s, want %s", *cj.Spec.TimeZone, clusterfile.DefaultBackupTimeZone)
	}
}

func containsSeq(s, seq []string) bool {
	for i := 0; i+len(seq) <= len(s); i++ {
		if slices.Equal(s[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

// TestDrillQuotaSizedFromClusterFile: three servers' requests, limits and
// claims plus the drill Pod and one restore Pod; a fourth server grows it.
func TestDrillQuotaSizedFromClusterFile(t *testing.T) {
	c := drilled()
	q, err := manifests.DrillQuota(c, "db")
	if err != nil {
		t.Fatal(err)
	}
	pods := q[corev1.ResourcePods]
	if pods.Value() != int64(c.Spec.Servers)+2 {
		t.Errorf("pods %s, want %d servers + 2", pods.String(), c.Spec.Servers)
	}
	storage := q[corev1.ResourceRequestsStorage]
	if storage.IsZero() || q[corev1.ResourceRequestsMemory] == (resource.Quantity{}) {
		t.Errorf("quota %v: no storage or memory", q)
	}
	c.Spec.Servers++
	q2, err := manifests.DrillQuota(c, "db")
	if err != nil {
		t.Fatal(err)
	}
	s2, m1, m2 := q2[corev1.ResourceRequestsStorage], q[corev1.ResourceLimitsMemory], q2[corev1.ResourceLimitsMemory]
	if s2.Cmp(storage) <= 0 || m2.Cmp(m1) <= 0 {
		t.Errorf("a fourth server: storage %s→%s, memory limits %s→%s, want both larger", storage.String(), s2.String(), m1.String(), m2.String())
	}
}
