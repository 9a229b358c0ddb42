package kube_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The objects a cluster "prod" renders, in the shapes where server-side diffs
// go wrong: list-map keys (ports, containers), defaulted fields, quantities,
// claim templates.
const (
	stsYAML = `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: prod-core
  labels: {neo4jctl.io/cluster: prod, app.kubernetes.io/name: neo4j}
spec:
  replicas: 1
  serviceName: prod-headless
  selector: {matchLabels: {neo4jctl.io/cluster: prod, neo4jctl.io/pool: core}}
  template:
    metadata:
      labels: {neo4jctl.io/cluster: prod, neo4jctl.io/pool: core}
    spec:
      containers:
      - name: neo4j
        image: neo4j:5.26-enterprise
        ports:
        - {name: bolt, containerPort: 7687}
        - {name: http, containerPort: 7474}
        resources:
          requests: {cpu: %CPU%, memory: 2Gi}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: standard
      resources: {requests: {storage: 1Gi}}
`
	svcYAML = `
apiVersion: v1
kind: Service
metadata:
  name: prod
  labels: {neo4jctl.io/cluster: prod}
spec:
  selector: {neo4jctl.io/cluster: prod}
  ports:
%PORTS%
`
	portsInOrder = `
  - {name: bolt, port: 7687, targetPort: 7687}
  - {name: http, port: 7474, targetPort: 7474}`
	portsReordered = `
  - {name: http, port: 7474, targetPort: 7474, protocol: TCP}
  - {name: bolt, port: 7687, targetPort: 7687}`
	cmYAML = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-config
  labels: {neo4jctl.io/cluster: prod}
data:
  server.memory.pagecache.size: 1G
`
	pdbYAML = `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: prod
  labels: {neo4jctl.io/cluster: prod}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {neo4jctl.io/cluster: prod}}
`
	netpolYAML = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: prod
  labels: {neo4jctl.io/cluster: prod}
spec:
  podSelector: {matchLabels: {neo4jctl.io/cluster: prod}}
  ingress:
  - ports:
    - {port: 7687}
    - {port: 7474, protocol: TCP}
`
)

func renderProd(cpu, ports string) []string {
	return []string{
		strings.ReplaceAll(stsYAML, "%CPU%", cpu),
		strings.ReplaceAll(svcYAML, "%PORTS%", ports),
		cmYAML, pdbYAML, netpolYAML,
	}
}

func TestObservePredictedEqualsLiveAfterApply(t *testing.T) {
	c, _, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, renderProd("1", portsInOrder)...)

	before, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatalf("Observe before apply: %v", err)
	}
	if !before.Reachable || before.Mode != kube.ModeDryRun || !strings.HasPrefix(before.ServerVersion, "v1.") {
		t.Errorf("got reachable=%v mode=%q version=%q, want reachable dry-run v1.x", before.Reachable, before.Mode, before.ServerVersion)
	}
	for _, o := range before.Objects {
		if o.Live != nil || o.Predicted == nil || o.DryRunError != "" {
			t.Errorf("%s before apply: live=%v predicted nil=%v dryRunError=%q, want no live object and a prediction", o.Address, o.Live != nil, o.Predicted == nil, o.DryRunError)
		}
	}

	applyAll(t, ctx, c, inv, desired)

	// Equal-but-differently-written values must not show up: a CPU of
	// 1000m, ports in another order with the defaulted protocol spelled out.
	for _, variant := range []struct{ name, cpu, ports string }{
		{"as applied", "1", portsInOrder},
		{"1000m and reordered ports", "1000m", portsReordered},
	} {
		t.Run(variant.name, func(t *testing.T) {
			docs := renderProd(variant.cpu, variant.ports)
			if variant.ports == portsReordered {
				// The container's ports too (a list-map inside a list-map).
				docs[0] = strings.Replace(docs[0],
					"        - {name: bolt, containerPort: 7687}\n        - {name: http, containerPort: 7474}",
					"        - {name: http, containerPort: 7474}\n        - {name: bolt, containerPort: 7687, protocol: TCP}", 1)
				if docs[0] == renderProd(variant.cpu, variant.ports)[0] {
					t.Fatal("container ports not reordered: the test fixture changed")
				}
			}
			k, err := c.Observe(ctx, objs(t, ns, docs...), inv)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if len(k.Objects) != len(desired) {
				t.Fatalf("got %d objects, want %d", len(k.Objects), len(desired))
			}
			for _, o := range k.Objects {
				if o.Live == nil || o.Predicted == nil {
					t.Errorf("%s: live nil=%v predicted nil=%v (%s)", o.Address, o.Live == nil, o.Predicted == nil, o.DryRunError)
					continue
				}
				if diff := cmp.Diff(o.Live, o.Predicted); diff != "" {
					t.Errorf("%s: predicted differs from live (-live +predicted):\n%s", o.Address, diff)
				}
				if len(o.Conflicts) > 0 {
					t.Errorf("%s: unexpected conflicts %v", o.Address, o.Conflicts)
				}
				if o.UID == "" || o.Fingerprint != kube.Fingerprint(o.Live) {
					t.Errorf("%s: uid %q fingerprint %q, want set and equal to Fingerprint(Live)", o.Address, o.UID, o.Fingerprint)
				}
				if _, ok := o.Live["status"]; ok {
					t.Errorf("%s: live not normalised: has status", o.Address)
				}
			}
			if len(k.Orphans) != 0 {
				t.Errorf("got orphans %v, want none", addresses(k.Orphans))
			}
		})
	}

	wantAddr := []string{
		"k8s:apps/StatefulSet/" + ns + "/prod-core",
		"k8s:core/Service/" + ns + "/prod",
		"k8s:core/ConfigMap/" + ns + "/prod-config",
		"k8s:policy/PodDisruptionBudget/" + ns + "/prod",
		"k8s:networking.k8s.io/NetworkPolicy/" + ns + "/prod",
	}
	if diff := cmp.Diff(wantAddr, addresses(before.Objects)); diff != "" {
		t.Errorf("addresses mismatch (-want +got):\n%s", diff)
	}
}

func addresses(os []state.Object) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.Address)
	}
	return out
}

func findObject(t *testing.T, k state.Kube, kind string) state.Object {
	t.Helper()
	for _, o := range k.Objects {
		if o.Kind == kind {
			return o
		}
	}
	t.Fatalf("no %s observed", kind)
	return state.Object{}
}

func TestObserveAttributesOutOfBandScale(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, renderProd("1", portsInOrder)[0])
	applyAll(t, ctx, c, inv, desired)

	// What `kubectl scale` does: an Update of the scale subresource, here
	// under the field manager "kubectl-scale".
	// The controller writes the StatefulSet's status meanwhile, so the
	// read-modify-write is retried on a conflict, as kubectl scale does.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := cs.AppsV1().StatefulSets(ns).GetScale(ctx, "prod-core", metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = 3
		_, err = cs.AppsV1().StatefulSets(ns).UpdateScale(ctx, "prod-core", scale, metav1.UpdateOptions{FieldManager: "kubectl-scale"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	k, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	o := findObject(t, k, "StatefulSet")
	if got, want := replicas(o.Live), int64(3); got != want {
		t.Errorf("live spec.replicas = %d, want %d", got, want)
	}
	if got, want := replicas(o.Predicted), int64(1); got != want {
		t.Errorf("predicted spec.replicas = %d, want %d (neo4jctl takes the field back)", got, want)
	}
	var scaler *state.FieldManager
	for i, m := range o.Managers {
		if m.Manager == "kubectl-scale" {
			scaler = &o.Managers[i]
		}
	}
	if scaler == nil {
		t.Fatalf("managers %+v: no kubectl-scale", o.Managers)
	}
	if diff := cmp.Diff(state.FieldManager{Manager: "kubectl-scale", Operation: "Update", Fields: []string{"spec.replicas"}}, *scaler); diff != "" {
		t.Errorf("kubectl-scale manager mismatch (-want +got):\n%s", diff)
	}
	if len(o.Conflicts) != 0 {
		t.Errorf("got conflicts %v, want none: an Update manager's field is drift, not a conflict", o.Conflicts)
	}
	// Apply without --force-conflicts takes an Update manager's field back:
	// that is drift, not a conflict.
	if _, err := c.Apply(ctx, desired[0], false); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	after, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	if o := findObject(t, after, "StatefulSet"); replicas(o.Live) != 1 || cmp.Diff(o.Live, o.Predicted) != "" {
		t.Errorf("after apply: live replicas %d, diff %s", replicas(o.Live), cmp.Diff(o.Live, o.Predicted))
	}
}

func replicas(obj map[string]any) int64 {
	n, _, _ := unstructured.NestedInt64(obj, "spec", "replicas")
	return n
}

func TestObserveConflictWithAnotherApplyManager(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, cmYAML)
	applyAll(t, ctx, c, inv, desired)

	otherApply := func(value string) {
		t.Helper()
		cfg := applycorev1.ConfigMap("prod-config", ns).WithData(map[string]string{"server.memory.pagecache.size": value})
		if _, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: "argocd", Force: true}); err != nil {
			t.Fatal(err)
		}
	}

	// Same value: the field is shared, not in conflict.
	otherApply("1G")
	k, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	if o := findObject(t, k, "ConfigMap"); len(o.Conflicts) != 0 {
		t.Errorf("equal value: got conflicts %v, want none", o.Conflicts)
	}

	// Another value: a conflict naming argocd.
	otherApply("4G")
	k, err = c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := []state.Conflict{{Field: "data.server.memory.pagecache.size", Manager: "argocd"}}
	o := findObject(t, k, "ConfigMap")
	if diff := cmp.Diff(want, o.Conflicts); diff != "" {
		t.Errorf("conflicts mismatch (-want +got):\n%s", diff)
	}

	// The preflight dry run refuses the same way, and stores nothing.
	var ce *kube.ConflictError
	if _, err := c.DryRunApply(ctx, desired[0], false); !errors.As(err, &ce) {
		t.Errorf("DryRunApply without force: got %v, want *ConflictError", err)
	}
	if out, err := c.DryRunApply(ctx, desired[0], true); err != nil || out.Object["data"].(map[string]any)["server.memory.pagecache.size"] != "1G" {
		t.Errorf("forced DryRunApply: got %v, %v; want the desired value predicted", out, err)
	}
	if cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "prod-config", metav1.GetOptions{}); err != nil || cm.Data["server.memory.pagecache.size"] != "4G" {
		t.Errorf("after dry runs: stored value %v (%v), want argocd's 4G untouched", cm.Data, err)
	}

	_, err = c.Apply(ctx, desired[0], false)
	if !errors.As(err, &ce) {
		t.Fatalf("Apply without force: got %v, want *ConflictError", err)
	}
	if diff := cmp.Diff(want, ce.Conflicts); diff != "" {
		t.Errorf("ConflictError conflicts mismatch (-want +got):\n%s", diff)
	}
	if kube.IsTransient(err) {
		t.Errorf("a conflict is classified transient")
	}
	if _, err := c.Apply(ctx, desired[0], true); err != nil {
		t.Errorf("Apply with force: %v", err)
	}
}

func TestObserveImmutableSelector(t *testing.T) {
	c, _, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	applyAll(t, ctx, c, inv, objs(t, ns, renderProd("1", portsInOrder)[0]))

	changed := objs(t, ns, strings.NewReplacer("neo4jctl.io/pool: core}", "neo4jctl.io/pool: primaries}").Replace(renderProd("1", portsInOrder)[0]))
	k, err := c.Observe(ctx, changed, inv)
	if err != nil {
		t.Fatal(err)
	}
	o := findObject(t, k, "StatefulSet")
	if !o.Immutable || o.DryRunError == "" || o.Predicted != nil || o.Live == nil {
		t.Errorf("got immutable=%v dryRunError=%q predicted nil=%v live nil=%v, want an immutable refusal with the live object",
			o.Immutable, o.DryRunError, o.Predicted == nil, o.Live == nil)
	}
}

func TestObserveStructuralWithReadOnlyCredentials(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, renderProd("1", portsInOrder)...)
	applyAll(t, ctx, c, inv, desired)

	ro := readOnlyClient(t, ctx, cs, ns)
	if _, err := ro.Observe(ctx, desired, inv); !kube.IsForbidden(err) {
		t.Fatalf("Observe with get/list only: got %v, want a Forbidden error", err)
	}
	k, err := ro.ObserveStructural(ctx, desired, inv)
	if err != nil {
		t.Fatalf("ObserveStructural: %v", err)
	}
	if k.Mode != kube.ModeStructural || !k.Reachable {
		t.Errorf("got mode %q reachable %v, want structural and reachable", k.Mode, k.Reachable)
	}
	for _, o := range k.Objects {
		if o.Live == nil || o.Predicted != nil || len(o.Managers) == 0 {
			t.Errorf("%s: live nil=%v predicted nil=%v managers=%d, want live with managers and no prediction", o.Address, o.Live == nil, o.Predicted == nil, len(o.Managers))
		}
	}
}

func TestObserveUnreachable(t *testing.T) {
	env := sharedEnvOrSkip(t)
	cfg := env.RESTConfig()
	cfg.Host = "https://127.0.0.1:1" // nothing listens on port 1
	c, err := kube.NewForConfig(cfg, kube.Options{Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.Observe(testContext(t), objs(t, "x", cmYAML), kube.InventoryRef{Namespace: "x", Cluster: "prod"})
	if err != nil {
		t.Fatalf("Observe: %v, want no error and Reachable=false", err)
	}
	if k.Reachable || !strings.Contains(k.Reason, "127.0.0.1:1") {
		t.Errorf("got reachable=%v reason=%q, want unreachable naming the server", k.Reachable, k.Reason)
	}
}

// TestObserveAfterOwnApply: right after this Client applied an object, an
// observation reads it again but does not dry-run it while the server has
// not changed it (the apply's answer is what the dry run would return);
// once something else changes it, it is dry-run again and the change shows.
func TestObserveAfterOwnApply(t *testing.T) {
	env := sharedEnvOrSkip(t)
	_, cs, ns := setup(t)
	ctx := testContext(t)
	var dryRuns atomic.Int32
	cfg := env.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("dryRun") == "All" {
				dryRuns.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, cmYAML)
	applyAll(t, ctx, c, inv, desired)

	dryRuns.Store(0)
	k, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	o := findObject(t, k, "ConfigMap")
	if n := dryRuns.Load(); n != 0 {
		t.Errorf("observing the object just applied sent %d dry runs, want 0", n)
	}
	if o.Live == nil || cmp.Diff(o.Live, o.Predicted) != "" {
		t.Errorf("just applied: live and predicted differ: %s", cmp.Diff(o.Live, o.Predicted))
	}

	// An out-of-band edit moves the resourceVersion: dry-run again.
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "prod-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["server.memory.pagecache.size"] = "2G"
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	dryRuns.Store(0)
	k, err = c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	o = findObject(t, k, "ConfigMap")
	if n := dryRuns.Load(); n != 1 {
		t.Errorf("observing an object changed since the apply sent %d dry runs, want 1", n)
	}
	live, _, _ := unstructured.NestedString(o.Live, "data", "server.memory.pagecache.size")
	pred, _, _ := unstructured.NestedString(o.Predicted, "data", "server.memory.pagecache.size")
	if live != "2G" || pred != "1G" {
		t.Errorf("after the edit: live %q, predicted %q; want 2G, 1G", live, pred)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestObserveAfterOwnApplyStatusMoved: a controller's status write moves
// the resourceVersion of an object this Client just applied (a
// StatefulSet's, a PodDisruptionBudget's); that alone does not make the
// verifying observation dry-run it again — applying the same object
// would change nothing — but any other change does.
func TestObserveAfterOwnApplyStatusMoved(t *testing.T) {
	env := sharedEnvOrSkip(t)
	_, cs, ns := setup(t)
	ctx := testContext(t)
	var dryRuns atomic.Int32
	cfg := env.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("dryRun") == "All" {
				dryRuns.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	desired := objs(t, ns, pdbYAML)
	applyAll(t, ctx, c, inv, desired)
	applied, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "prod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Play the disruption controller (which may also be writing it).
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "prod", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb.Status.ObservedGeneration = pdb.Generation
		pdb.Status.ExpectedPods = 3
		pdb.Status.DesiredHealthy = 2
		_, err = cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{FieldManager: "test-disruption-controller"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	moved, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "prod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if moved.ResourceVersion == applied.ResourceVersion {
		t.Fatal("the status write did not move the resourceVersion")
	}
	dryRuns.Store(0)
	k, err := c.Observe(ctx, desired, inv)
	if err != nil {
		t.Fatal(err)
	}
	o := findObject(t, k, "PodDisruptionBudget")
	if n := dryRuns.Load(); n != 0 {
		t.Errorf("observing an object whose status alone moved since this client applied it sent %d dry runs, want 0", n)
	}
	if o.Live == nil || cmp.Diff(o.Live, o.Predicted) != "" {
		t.Errorf("status moved: live and predicted differ: %s", cmp.Diff(o.Live, o.Predicted))
	}

	// A label another manager adds is not status: dry-run again.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "prod", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb.Labels["team"] = "graph"
		_, err = cs.PolicyV1().PodDisruptionBudgets(ns).Update(ctx, pdb, metav1.UpdateOptions{FieldManager: "kubectl-label"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	dryRuns.Store(0)
	if _, err := c.Observe(ctx, desired, inv); err != nil {
		t.Fatal(err)
	}
	if n := dryRuns.Load(); n != 1 {
		t.Errorf("observing an object relabelled since the apply sent %d dry runs, want 1", n)
	}
}
