package kube_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// TestObserveComparesOneVersion: another writer changes an object between
// the moment observe read it and its dry run (a controller binding a new
// claim did, seconds after an apply: a fresh plan then showed the PV
// controller's fields as a change). The live object and the prediction
// must be of the same stored version, so the other writer's fields are on
// both sides and only neo4jctl's own change remains.
func TestObserveComparesOneVersion(t *testing.T) {
	applier, cs, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	applyAll(t, ctx, applier, inv, objs(t, ns, cmYAML))
	// An object the member lists do not hold (no membership label: created
	// by another tool) is read with a GET after its dry run.
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other-config", Namespace: ns}, Data: map[string]string{"k": "1"}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	for _, target := range []string{"prod-config", "other-config"} {
		t.Run(target, func(t *testing.T) { observeAcrossForeignWrite(t, ctx, cs, ns, inv, target) })
	}
}

func observeAcrossForeignWrite(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string, inv kube.InventoryRef, target string) {
	// The next observation, by another client (another process), plans a
	// real change; the moment its dry run is answered, a foreign manager
	// labels the ConfigMap.
	env := sharedEnvOrSkip(t)
	cfg := env.RESTConfig()
	var once sync.Once
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if r.URL.Query().Get("dryRun") == "All" && strings.HasSuffix(r.URL.Path, "/configmaps/"+target) {
				once.Do(func() {
					_, err := cs.CoreV1().ConfigMaps(ns).Patch(context.Background(), target, types.MergePatchType,
						[]byte(`{"metadata":{"labels":{"foreign":"bound"}}}`), metav1.PatchOptions{FieldManager: "pv-controller-stand-in"})
					if err != nil {
						t.Errorf("foreign write: %v", err)
					}
				})
			}
			return resp, err
		})
	})
	planner, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	changed := objs(t, ns, strings.ReplaceAll(cmYAML, "1G", "2G"), `
apiVersion: v1
kind: ConfigMap
metadata: {name: other-config}
data: {k: "2G"}
`)
	k, err := planner.Observe(ctx, changed, inv)
	if err != nil {
		t.Fatal(err)
	}
	var o state.Object
	for _, x := range k.Objects {
		if x.Name == target {
			o = x
		}
	}
	if o.Live == nil || o.Predicted == nil {
		t.Fatalf("live nil=%v predicted nil=%v (%s)", o.Live == nil, o.Predicted == nil, o.DryRunError)
	}
	diff := cmp.Diff(o.Live, o.Predicted)
	if changedLines(diff, "foreign") {
		t.Errorf("the other writer's label is planned as a change (live read before it, prediction after):\n%s", diff)
	}
	if !strings.Contains(diff, "2G") {
		t.Errorf("neo4jctl's own change is missing from the diff:\n%s", diff)
	}
}

// changedLines reports whether a line cmp.Diff marks as removed or added
// mentions s.
func changedLines(diff, s string) bool {
	for _, l := range strings.Split(diff, "\n") {
		l = strings.TrimSpace(l)
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && strings.Contains(l, s) {
			return true
		}
	}
	return false
}
