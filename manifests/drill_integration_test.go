package manifests_test

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestDrillServiceAccountConfinedToDrillNamespace applies the standing
// drill objects on the real API server (its RBAC authorizer and
// escalation check) and, impersonating the drill ServiceAccount, proves
// that it can create and delete the scratch cluster's objects in the
// drill namespace (its Role and RoleBinding included) and what a restore
// writes there, but can neither create nor delete namespaces, nor write
// anything in the cluster's namespace, nor read more than the named
// Secrets there.
func TestDrillServiceAccountConfinedToDrillNamespace(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := drilled()
	c.Metadata.Namespace = ns
	drillNS := manifests.DrillNamespaceName(c, ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), drillNS, metav1.DeleteOptions{}) })
	for _, name := range []string{"g-auth", "bk-s3", "bk-keyset", "unrelated"} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	objs, err := manifests.DrillObjects(c, ns)
	if err != nil {
		t.Fatal(err)
	}
	y, err := manifests.MarshalYAML(objs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if out, err := kubectlIn(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "-f", "-"); err != nil {
		t.Fatalf("apply the drill namespace: %v\n%s", err, out)
	}
	if y, err = manifests.MarshalYAML(objs); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectlIn(t, env, y, "apply", "--server-side", "--field-manager=neo4jctl", "-f", "-"); err != nil {
		t.Fatalf("apply the drill objects: %v\n%s", err, out)
	}

	// The drill ServiceAccount, as the API server sees its token.
	cfg := rest.CopyConfig(env.RESTConfig())
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + drillNS + ":" + manifests.DrillServiceAccountName,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + drillNS, "system:authenticated"},
	}
	sa, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))

	// The scratch cluster's objects, as the drill applies them (its Role
	// and RoleBinding included: the escalation check passes because the
	// drill Role holds every rule of it).
	scratch, err := manifests.DrillScratchCluster(c, drillNS)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := manifests.Render(scratch, drillNS)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range rendered {
		m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(m.Resource).Namespace(drillNS).Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "neo4jctl", Force: true}); err != nil {
			t.Errorf("the drill ServiceAccount cannot apply %s %s: %v", o.GetKind(), o.GetName(), err)
			continue
		}
		kinds[o.GetKind()] = true
	}
	for _, k := range []string{"StatefulSet", "Service", "ConfigMap", "Role", "RoleBinding", "ServiceAccount", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("no %s of the scratch cluster was created", k)
		}
	}
	// What the drill and the restore write beside them: the Secrets'
	// copies, a claim, a restore Job's Pod, the apply Lease.
	if _, err := sa.CoreV1().Secrets(drillNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("copy a Secret: %v", err)
	}
	// Not data-g-0: the StatefulSet controller creates that one for the
	// StatefulSet applied above, and under load it did so first.
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "restore-claim"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := sa.CoreV1().PersistentVolumeClaims(drillNS).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Errorf("create a claim: %v", err)
	}
	if _, err := sa.CoordinationV1().Leases(drillNS).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "g-apply"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("create the apply Lease: %v", err)
	}
	// Everything deleted object by object, as the in-namespace drill ends.
	for _, o := range rendered {
		m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if err := dyn.Resource(m.Resource).Namespace(drillNS).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("the drill ServiceAccount cannot delete %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	if err := sa.CoreV1().PersistentVolumeClaims(drillNS).Delete(ctx, "restore-claim", metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete a claim: %v", err)
	}

	// Refused: namespaces, anything cluster-scoped, a Role wider than its
	// own, writes in the cluster's namespace, Secrets not named.
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
	_, err = sa.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: drillNS + "-x"}}, metav1.CreateOptions{})
	forbidden("create a namespace", err)
	forbidden("delete the drill namespace", sa.CoreV1().Namespaces().Delete(ctx, drillNS, metav1.DeleteOptions{}))
	forbidden("delete the cluster's namespace", sa.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}))
	_, err = sa.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: drillNS + "-x"}}, metav1.CreateOptions{})
	forbidden("create a ClusterRole", err)
	_, err = sa.RbacV1().Roles(drillNS).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "wider"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"delete"}}}}, metav1.CreateOptions{})
	forbidden("create a Role wider than the drill's", err)
	_, err = sa.RbacV1().RoleBindings(drillNS).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: manifests.DrillServiceAccountName, Namespace: drillNS}}}, metav1.CreateOptions{})
	forbidden("bind the admin ClusterRole", err)
	_, err = sa.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	forbidden("create a ConfigMap in the cluster's namespace", err)
	_, err = sa.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	forbidden("create a Secret in the cluster's namespace", err)
	forbidden("delete a Secret in the cluster's namespace", sa.CoreV1().Secrets(ns).Delete(ctx, "bk-keyset", metav1.DeleteOptions{}))
	_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	forbidden("list the cluster's Secrets", err)
	_, err = sa.CoreV1().Secrets(ns).Get(ctx, "unrelated", metav1.GetOptions{})
	forbidden("get a Secret not named", err)
	_, err = sa.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	forbidden("list the cluster's StatefulSets", err)
	for _, name := range []string{"g-auth", "bk-s3", "bk-keyset"} {
		if _, err := sa.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("get the named Secret %s: %v", name, err)
		}
	}
	// The standing objects are still there, and the CronJob's Pod is
	// admitted in the drill namespace (Pod Security, quota, limit range)
	// once the quota's controller has counted.
	cj, err := cs.BatchV1().CronJobs(drillNS).Get(ctx, manifests.DrillCronJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the drill CronJob: %v", err)
	}
	for {
		q, err := cs.CoreV1().ResourceQuotas(drillNS).Get(ctx, manifests.DrillQuotaName, metav1.GetOptions{})
		if err == nil && len(q.Status.Hard) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the quota has no status: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	tmpl := cj.Spec.JobTemplate.Spec.Template
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "drill-", Namespace: drillNS, Labels: tmpl.Labels}, Spec: tmpl.Spec}
	if _, err := cs.CoreV1().Pods(drillNS).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the drill Pod refused in its namespace: %v", err)
	}
}
