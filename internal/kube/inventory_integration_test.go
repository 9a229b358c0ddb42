package kube_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

func TestInventoryOrphans(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	// A StatefulSet whose Pod template carries the part-of label too (as a
	// manifest copying all labels would): its Pods and PVCs must still never
	// be orphans, even with Pod and PVC listed in the inventory.
	sts := strings.Replace(renderProd("1", portsInOrder)[0],
		"labels: {neo4jctl.io/cluster: prod, neo4jctl.io/pool: core}",
		"labels: {neo4jctl.io/cluster: prod, neo4jctl.io/pool: core, applyset.kubernetes.io/part-of: "+inv.ID()+"}", 1)
	extra := oldConfigYAML
	desired := objs(t, ns, sts, svcYAMLWith(portsInOrder), cmYAML, extra)
	applyAll(t, ctx, c, inv, desired)
	if err := c.EnsureInventory(ctx, inv, []schema.GroupKind{{Kind: "Pod"}, {Kind: "PersistentVolumeClaim"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStatefulSet(ctx, ns, "prod-core", 1, nil); err != nil {
		t.Fatal(err)
	}

	parent, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, inv.ParentName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("inventory parent: %v", err)
	}
	if got := parent.Labels[kube.ApplySetIDLabel]; got != inv.ID() {
		t.Errorf("parent id label = %q, want %q", got, inv.ID())
	}
	wantAnn := map[string]string{
		kube.ApplySetToolingAnn:    "neo4jctl/v1",
		kube.ApplySetGroupKindsAnn: "ConfigMap,PersistentVolumeClaim,Pod,Service,StatefulSet.apps",
	}
	if diff := cmp.Diff(wantAnn, parent.Annotations); diff != "" {
		t.Errorf("parent annotations mismatch (-want +got):\n%s", diff)
	}

	// A member owned by another object goes with its owner, never pruned.
	owned := objs(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-owned
  labels: {neo4jctl.io/cluster: prod}
data: {a: b}
`)[0]
	owned.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "prod-config", UID: parentUID(t, cs, ns, "prod-config")}})
	if _, err := c.Apply(ctx, owned, false); err != nil {
		t.Fatal(err)
	}
	// An object of the cluster applied by someone else (no part-of label)
	// is not neo4jctl's to delete.
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "hand-made", map[string]string{"neo4jctl.io/cluster": "prod"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The cluster file no longer renders prod-old-config.
	k, err := c.Observe(ctx, desired[:3], inv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"k8s:core/ConfigMap/" + ns + "/prod-old-config"}, addresses(k.Orphans)); diff != "" {
		t.Errorf("orphans mismatch (-want +got):\n%s", diff)
	}
	if len(k.Pods) != 1 || k.Pods[0].Name != "prod-core-0" || k.Pods[0].StatefulSet != "prod-core" || !k.Pods[0].Ready {
		t.Errorf("pods = %+v, want prod-core-0 of prod-core, Ready", k.Pods)
	}

	orphan := k.Orphans[0]
	if err := c.Delete(ctx, kube.RefOfState(orphan)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Delete(ctx, kube.RefOfState(orphan)); err != nil {
		t.Errorf("second Delete of a deleted object: %v, want nil", err)
	}
	if err := c.TrimInventory(ctx, inv, kube.KindsOf(desired[:3])); err != nil {
		t.Fatal(err)
	}
	k, err = c.Observe(ctx, desired[:3], inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Orphans) != 0 {
		t.Errorf("after pruning: orphans %v, want none", addresses(k.Orphans))
	}
}

func TestDeleteRefusesAReplacedObject(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	first, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "x", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "x", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ref := kube.Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "x", UID: string(first.UID)}
	if err := c.Delete(ctx, ref); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("Delete with a stale UID: got %v, want a refusal saying the object was replaced", err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "x", metav1.GetOptions{}); err != nil {
		t.Errorf("the new object is gone: %v", err)
	}
}

func TestInventoryOfAnotherToolIsRefused(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	cm := configMap(ns, inv.ParentName(), map[string]string{kube.ApplySetIDLabel: inv.ID()})
	cm.Annotations = map[string]string{kube.ApplySetToolingAnn: "kubectl/v1.37.2", kube.ApplySetGroupKindsAnn: "ConfigMap"}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureInventory(ctx, inv, []schema.GroupKind{{Kind: "ConfigMap"}}); err == nil || !strings.Contains(err.Error(), "kubectl") {
		t.Errorf("EnsureInventory over kubectl's ApplySet: got %v, want a refusal naming kubectl", err)
	}
}

// TestInventoryOrphansWithoutDiscovery: the inventory records group/kinds
// without versions; looking for orphans of the built-in kinds neo4jctl
// renders must not cost the discovery round trips (GET /api and /apis) a
// version-less lookup would, while a kind only discovery knows (a CRD) is
// still listed.
func TestInventoryOrphansWithoutDiscovery(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	ctx := testContext(t)
	agent := "neo4jctl-inventory-test/" + ns
	c, err := kube.NewForConfig(env.RESTConfig(), kube.Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	extra := oldConfigYAML
	desired := objs(t, ns, renderProd("1", portsInOrder)[0], svcYAMLWith(portsInOrder), cmYAML, extra)
	applyAll(t, ctx, c, inv, desired)
	since := time.Now()
	k, err := c.Observe(ctx, desired[:3], inv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"k8s:core/ConfigMap/" + ns + "/prod-old-config"}, addresses(k.Orphans)); diff != "" {
		t.Errorf("orphans mismatch (-want +got):\n%s", diff)
	}
	time.Sleep(300 * time.Millisecond) // the last request's audit event
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	var discovery []string
	for _, ev := range evs {
		if ev.UserAgent == agent && !ev.StageTimestamp.Before(since) && (ev.RequestURI == "/api" || ev.RequestURI == "/apis" || strings.HasPrefix(ev.RequestURI, "/apis?")) {
			discovery = append(discovery, ev.Verb+" "+ev.RequestURI)
		}
	}
	if len(discovery) > 0 {
		t.Errorf("Observe asked for discovery %v; built-in kinds need none", discovery)
	}

	sm := schema.GroupKind{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}
	if err := c.EnsureInventory(ctx, inv, []schema.GroupKind{sm}); err != nil {
		t.Fatal(err)
	}
	if k, err = c.Observe(ctx, desired[:3], inv); err != nil {
		t.Fatalf("Observe with a CRD kind in the inventory: %v", err)
	}
	if len(k.Orphans) != 1 {
		t.Errorf("orphans with a CRD kind in the inventory: %v, want prod-old-config", addresses(k.Orphans))
	}
}

// oldConfigYAML is a ConfigMap a previous version of the cluster file
// rendered: once applied and no longer rendered, an orphan.
const oldConfigYAML = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-old-config
  labels: {neo4jctl.io/cluster: prod}
data: {a: b}
`
