package kube_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// dryRunCounter is a Client whose dry runs are counted by object name, as
// a second process (a later plan) would make them.
type dryRunCounter struct {
	mu    sync.Mutex
	names map[string]int
}

func (d *dryRunCounter) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names = map[string]int{}
}

func (d *dryRunCounter) got() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.names {
		out[k] = v
	}
	return out
}

func countingClient(t *testing.T) (*kube.Client, *dryRunCounter) {
	t.Helper()
	env := sharedEnvOrSkip(t)
	d := &dryRunCounter{names: map[string]int{}}
	cfg := env.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("dryRun") == "All" {
				parts := strings.Split(r.URL.Path, "/")
				d.mu.Lock()
				d.names[parts[len(parts)-2]+"/"+parts[len(parts)-1]]++
				d.mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	})
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// TestObserveProvesUnchangedAcrossClients: objects another process applied
// (another Client here: nothing of the apply is remembered) and nobody
// touched since are not dry-run — their live state is the prediction, and
// it is what a dry run answers. Anything else is dry-run as before: an
// object whose configuration changed, one a field of the configuration was
// removed from, and one another manager removed a field from (which leaves
// no trace in managedFields).
func TestObserveProvesUnchangedAcrossClients(t *testing.T) {
	applier, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	docs := renderProd(`"500m"`, portsInOrder)
	if !strings.Contains(docs[2], "kind: ConfigMap") {
		t.Fatal("renderProd's third object is not the ConfigMap")
	}
	docs[2] = strings.Replace(cmYAML, "\ndata:\n", "\ndata:\n  dbms.extra: \"on\"\n", 1)
	desired := objs(t, ns, docs...)
	applyAll(t, ctx, applier, inv, desired)

	c, dry := countingClient(t)
	observe := func(objs []*unstructured.Unstructured) state.Kube {
		t.Helper()
		dry.reset()
		k, err := c.Observe(ctx, objs, inv)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	k := observe(desired)
	if got := dry.got(); len(got) != 0 {
		t.Errorf("observing objects applied by another client and untouched since sent dry runs %v, want none", got)
	}
	for _, o := range k.Objects {
		if o.Live == nil || o.Predicted == nil || o.DryRunError != "" || len(o.Conflicts) > 0 {
			t.Fatalf("%s: live %v, predicted %v, dry-run error %q, conflicts %v", o.Address, o.Live != nil, o.Predicted != nil, o.DryRunError, o.Conflicts)
		}
		if d := cmp.Diff(o.Live, o.Predicted); d != "" {
			t.Errorf("%s: unchanged, but live and predicted differ: %s", o.Address, d)
		}
		// The witness: what the dry run would have answered.
		for _, u := range desired {
			if u.GetKind() != o.Kind {
				continue
			}
			answer, err := c.DryRunApply(ctx, u, true)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(kube.Normalize(answer.Object), o.Predicted); d != "" {
				t.Errorf("%s: the prediction without a dry run differs from the dry run's answer (-dry run +prediction):\n%s", o.Address, d)
			}
		}
		if ann, _, _ := unstructured.NestedStringMap(o.Desired, "metadata", "annotations"); ann[kube.AppliedHashAnnotation] != "" {
			t.Errorf("%s: Desired shows the applied-hash stamp; it is bookkeeping", o.Address)
		}
	}

	// Another manager removes a label neo4jctl set: the server drops it
	// from neo4jctl's managed fields and records no owner for the removal.
	if _, err := cs.AppsV1().StatefulSets(ns).Patch(ctx, "prod-core", types.JSONPatchType,
		[]byte(`[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1name"}]`), metav1.PatchOptions{FieldManager: "kubectl-label"}); err != nil {
		t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "prod-core", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var managers []string
	for _, e := range sts.ManagedFields {
		managers = append(managers, e.Manager+"/"+string(e.Operation)+"/"+e.Subresource)
	}
	t.Logf("managers after the label's removal: %v", managers)
	k = observe(desired)
	if got := dry.got(); got["statefulsets/prod-core"] != 1 || len(got) != 1 {
		t.Errorf("after another manager removed a label: dry runs %v, want the StatefulSet's alone", got)
	}
	o := findObject(t, k, "StatefulSet")
	if _, has, _ := unstructured.NestedString(o.Live, "metadata", "labels", "app.kubernetes.io/name"); has {
		t.Errorf("live StatefulSet still has the removed label")
	}
	if v, _, _ := unstructured.NestedString(o.Predicted, "metadata", "labels", "app.kubernetes.io/name"); v != "neo4j" {
		t.Errorf("predicted StatefulSet label %q, want neo4j back (the drift)", v)
	}
	if _, err := applier.Apply(ctx, findDesired(t, desired, "StatefulSet"), false); err != nil {
		t.Fatal(err)
	}

	// The configuration changes: one key of the ConfigMap is no longer
	// rendered. Only the ConfigMap is dry-run, and the key goes.
	changed := objs(t, ns, renderProd(`"500m"`, portsInOrder)...)
	k = observe(changed)
	if got := dry.got(); got["configmaps/prod-config"] != 1 || len(got) != 1 {
		t.Errorf("after a key left the ConfigMap's configuration: dry runs %v, want the ConfigMap's alone", got)
	}
	o = findObject(t, k, "ConfigMap")
	if _, has, _ := unstructured.NestedString(o.Predicted, "data", "dbms.extra"); has {
		t.Errorf("predicted ConfigMap keeps the key the configuration no longer sets")
	}
	if _, has, _ := unstructured.NestedString(o.Live, "data", "dbms.extra"); !has {
		t.Errorf("live ConfigMap lost the key before any apply")
	}
}

func findDesired(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	t.Fatalf("no %s rendered", kind)
	return nil
}
