package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// prefetchFleet applies cluster "prod" into ns1 and ns2 in the shapes a
// fleet plan meets: in ns1 everything applied, then its ConfigMap changed
// out of band; in ns2 the PDB never applied and the NetworkPolicy created by
// another tool, without the ApplySet membership label (so no member list
// finds it: it must still be read). It returns each cluster's desired
// objects.
func prefetchFleet(t *testing.T, ctx context.Context, ns1, ns2 string) (d1, d2 []*unstructured.Unstructured) {
	t.Helper()
	env := testenv.Shared(t)
	admin, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	d1 = objs(t, ns1, renderProd("1", portsInOrder)...)
	d2 = objs(t, ns2, renderProd("1", portsInOrder)...)
	applyAll(t, ctx, admin, kube.InventoryRef{Namespace: ns1, Cluster: "prod"}, d1)
	cm, err := cs.CoreV1().ConfigMaps(ns1).Get(ctx, "prod-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["server.memory.pagecache.size"] = "2G"
	if _, err := cs.CoreV1().ConfigMaps(ns1).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	var kept []*unstructured.Unstructured
	for _, o := range d2 {
		switch o.GetKind() {
		case "PodDisruptionBudget":
		case "NetworkPolicy":
			other := o.DeepCopy()
			other.SetLabels(map[string]string{"neo4jctl.io/cluster": "prod"}) // no part-of label
			netpols := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
			if _, err := dyn.Resource(netpols).Namespace(ns2).Create(ctx, other, metav1.CreateOptions{FieldManager: "other-tool"}); err != nil {
				t.Fatal(err)
			}
		default:
			kept = append(kept, o)
		}
	}
	applyAll(t, ctx, admin, kube.InventoryRef{Namespace: ns2, Cluster: "prod"}, kept)
	// The StatefulSets' Pods, so that Pods are observed too; they appear a
	// moment after the apply.
	for _, ns := range []string{ns1, ns2} {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "prod-core-0", metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("Pod prod-core-0 in %s not Ready: %v", ns, err)
		}
	}
	return d1, d2
}

func kindsOf(sets ...[]*unstructured.Unstructured) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, s := range sets {
		for _, o := range s {
			out = append(out, o.GroupVersionKind())
		}
	}
	return out
}

// getsOf lists the GETs of single objects an agent sent since a time.
func getsOf(t *testing.T, agent string, since time.Time) []string {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the last request's audit event
	evs, err := testenv.Shared(t).AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.UserAgent != agent || ev.StageTimestamp.Before(since) || ev.Stage != "ResponseComplete" || ev.Verb != "get" || ev.ObjectRef == nil || ev.ObjectRef.Name == "" {
			continue
		}
		out = append(out, ev.ObjectRef.Resource+"/"+ev.ObjectRef.Namespace+"/"+ev.ObjectRef.Name)
	}
	return out
}

// A fleet observed from a prefetch must be observed exactly as without it
// (each cluster on its own: its inventory's lists, GETs for the rest), while
// reading only the objects no member list found.
func TestPrefetchObservesAsWithout(t *testing.T) {
	env := testenv.Shared(t)
	ns1, ns2 := testenv.Namespace(t, env), testenv.Namespace(t, env)
	ctx := testContext(t)
	d1, d2 := prefetchFleet(t, ctx, ns1, ns2)
	waitClaimsSized(t, ctx, env, ns1, ns2)
	agent := "neo4jctl-prefetch-test/" + ns1
	c, err := kube.NewForConfig(env.RESTConfig(), kube.Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	inv1, inv2 := kube.InventoryRef{Namespace: ns1, Cluster: "prod"}, kube.InventoryRef{Namespace: ns2, Cluster: "prod"}

	since := time.Now()
	pf := c.Prefetch(ctx, []kube.InventoryRef{inv1, inv2}, kindsOf(d1, d2))
	var got []state.Kube
	for _, tc := range []struct {
		inv     kube.InventoryRef
		desired []*unstructured.Unstructured
	}{{inv1, d1}, {inv2, d2}} {
		k, err := c.Observe(ctx, tc.desired, tc.inv, kube.UsePrefetched(pf))
		if err != nil {
			t.Fatalf("Observe %s with the prefetch: %v", tc.inv.Namespace, err)
		}
		got = append(got, k)
	}
	gets := getsOf(t, agent, since)

	for i, tc := range []struct {
		inv     kube.InventoryRef
		desired []*unstructured.Unstructured
	}{{inv1, d1}, {inv2, d2}} {
		want, err := c.Observe(ctx, tc.desired, tc.inv)
		if err != nil {
			t.Fatalf("Observe %s: %v", tc.inv.Namespace, err)
		}
		if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("cluster %s: observed from the prefetch differs (-without +with):\n%s", tc.inv.Namespace, diff)
		}
	}
	// The inventory parents are read by their own GET (orphans); of the
	// objects, only the one without the membership label.
	var objectGets []string
	for _, g := range gets {
		if !strings.Contains(g, "-applyset") {
			objectGets = append(objectGets, g)
		}
	}
	if diff := cmp.Diff([]string{"networkpolicies/" + ns2 + "/prod"}, objectGets); diff != "" {
		t.Errorf("GETs of objects with the prefetch (-want +got):\n%s", diff)
	}
}

// Credentials limited to namespaces cannot list across them: the prefetch
// then holds nothing, and the observation is the same as without it.
func TestPrefetchForbiddenFallsBack(t *testing.T) {
	env := testenv.Shared(t)
	ns1, ns2 := testenv.Namespace(t, env), testenv.Namespace(t, env)
	ctx := testContext(t)
	d1, d2 := prefetchFleet(t, ctx, ns1, ns2)
	waitClaimsSized(t, ctx, env, ns1, ns2)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{ns1, ns2} {
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "planner", Namespace: ns},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "create", "patch"}}},
		}
		if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "planner", Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "planner"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "planner", Namespace: ns1}},
		}
		if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	path, err := env.ServiceAccountKubeconfig(ctx, ns1, "planner")
	if err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &path
	c, err := kube.New(flags, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv1, inv2 := kube.InventoryRef{Namespace: ns1, Cluster: "prod"}, kube.InventoryRef{Namespace: ns2, Cluster: "prod"}
	pf := c.Prefetch(ctx, []kube.InventoryRef{inv1, inv2}, kindsOf(d1, d2))
	for _, tc := range []struct {
		inv     kube.InventoryRef
		desired []*unstructured.Unstructured
	}{{inv1, d1}, {inv2, d2}} {
		got, err := c.Observe(ctx, tc.desired, tc.inv, kube.UsePrefetched(pf))
		if err != nil {
			t.Fatalf("Observe %s with a forbidden prefetch: %v", tc.inv.Namespace, err)
		}
		want, err := c.Observe(ctx, tc.desired, tc.inv)
		if err != nil {
			t.Fatalf("Observe %s: %v", tc.inv.Namespace, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("cluster %s (-without +with a forbidden prefetch):\n%s", tc.inv.Namespace, diff)
		}
	}
}

// waitClaimsSized waits until every claim in the namespaces has its
// capacity: an observation reads the claims' sizes, and two observations of
// one fleet compared while the provisioner is still binding would differ.
func waitClaimsSized(t *testing.T, ctx context.Context, env *testenv.Env, nss ...string) {
	t.Helper()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for _, ns := range nss {
		for {
			l, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sized := true
			for _, p := range l.Items {
				if _, ok := p.Status.Capacity[corev1.ResourceStorage]; !ok {
					sized = false
				}
			}
			if sized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("claims in %s not bound after a minute", ns)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
