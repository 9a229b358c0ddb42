package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Target is one cluster file loaded, rendered and turned into desired state.
// Everything in it is computed without contacting a server.
type Target struct {
	File      string
	Cluster   *clusterfile.Cluster
	Namespace string
	// Objects are the rendered Kubernetes objects in apply order.
	Objects []*unstructured.Unstructured
	// Verify are the verification objects apply owns
	// (manifests.AppliedVerifyObjects), in apply order; planned after
	// Objects (target_verify.go).
	Verify []*unstructured.Unstructured
	// Drill are the standing DR drill objects apply owns
	// (manifests.AppliedDrillObjects), planned after Verify as they are
	// (target_drill.go).
	Drill []*unstructured.Unstructured
	// Desired is the Neo4j-plane half of the desired state.
	Desired   plan.Desired
	Inventory kube.InventoryRef
	// Env is what Objects were rendered for: the zero value (the
	// documented fallbacks) until Runner.RenderForCluster read the
	// cluster.
	Env manifests.Environment
	// EnvWarnings say why Env could not be read (the plan carries them).
	EnvWarnings []string
}

// Name is "<namespace>/<cluster>", how messages name a cluster.
func (t *Target) Name() string { return t.Namespace + "/" + t.Cluster.Metadata.Name }

// Load reads, validates and renders one cluster file. flagNamespace is the
// --namespace flag, used only when the file names no namespace.
func Load(path, flagNamespace string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadData(path, data, flagNamespace)
}

// LoadData is Load for a cluster file already in memory (watch reads cluster
// files held in ConfigMaps); path names it in messages.
func LoadData(path string, data []byte, flagNamespace string) (*Target, error) {
	c, err := clusterfile.Load(path, data)
	if err != nil {
		return nil, err
	}
	ns, err := c.Namespace(flagNamespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	objs, err := manifests.Render(c, ns)
	if err != nil {
		return nil, fmt.Errorf("%s: render: %w", path, err)
	}
	// The objects carry their ApplySet membership label here already, so
	// they are exactly what apply sends and what render prints.
	kube.MarkMembers(objs, ns)
	d := plan.DesiredFrom(c, ns, func(sts string, ordinal int) string {
		return podDNSName(c, ns, sts, ordinal)
	})
	verify, err := manifests.AppliedVerifyObjects(c, ns)
	if err != nil {
		return nil, fmt.Errorf("%s: render: %w", path, err)
	}
	drill, err := manifests.AppliedDrillObjects(c, ns)
	if err != nil {
		return nil, fmt.Errorf("%s: render: %w", path, err)
	}
	sum := sha256.Sum256(data)
	d.ClusterFileSHA256 = hex.EncodeToString(sum[:])
	return &Target{
		File: path, Cluster: c, Namespace: ns, Objects: objs, Verify: verify, Drill: drill, Desired: d,
		Inventory: inventoryOf(c, ns, objs),
	}, nil
}

// podDNSName maps a StatefulSet name back to its pool and asks manifests for
// the Pod's DNS name, so the naming convention lives in one place.
func podDNSName(c *clusterfile.Cluster, ns, sts string, ordinal int) string {
	for _, p := range manifests.Pools(c) {
		if p.StatefulSet == sts {
			return manifests.PodDNSName(c, ns, p.Name, ordinal)
		}
	}
	return fmt.Sprintf("%s-%d.%s.%s.svc.cluster.local", sts, ordinal, manifests.HeadlessServiceName(c), ns)
}

// inventoryOf is the cluster's inventory. An adopted Helm cluster's
// objects keep the chart's labels, not neo4jctl's cluster label: its Pods
// are found by the chart's Pod labels (manifests.PodSelector), its
// StatefulSets by the chart's helm.neo4j.com/neo4j.name (which the chart
// puts on each release's StatefulSet, templates/neo4j-statefulset.yaml),
// and its claims by the labels the StatefulSet controller gives them.
func inventoryOf(c *clusterfile.Cluster, ns string, objs []*unstructured.Unstructured) kube.InventoryRef {
	inv := kube.InventoryRef{Namespace: ns, Cluster: c.Metadata.Name}
	if c.IsHelmLayout() {
		inv.PodSelector = labels.SelectorFromSet(manifests.PodSelector(c)).String()
		inv.WorkloadSelector = labels.SelectorFromSet(labels.Set{manifests.HelmLabelName: c.Metadata.Name}).String()
		inv.ClaimSelector = claimSelector(objs)
	}
	return inv
}

// claimSelector selects the claims of the StatefulSets among objs. The
// StatefulSet controller labels each claim it makes with its StatefulSet's
// spec.selector.matchLabels (kubernetes pkg/controller/statefulset,
// getPersistentVolumeClaims), so a label every selector sets to one value
// is required as is, and a label they all set to different values (the
// chart's helm.neo4j.com/instance, one per release) is required to be one
// of them. A label only some set cannot be required; the claims' names
// (<template>-<statefulset>-<ordinal>) still say whose they are.
func claimSelector(objs []*unstructured.Unstructured) string {
	var selectors []map[string]string
	for _, o := range objs {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		m, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels")
		selectors = append(selectors, m)
	}
	if len(selectors) == 0 {
		return ""
	}
	sel := labels.NewSelector()
	for key := range selectors[0] {
		values := sets.New[string]()
		for _, m := range selectors {
			v, ok := m[key]
			if !ok {
				values = nil
				break
			}
			values.Insert(v)
		}
		if values == nil {
			continue
		}
		op := selection.Equals
		if values.Len() > 1 {
			op = selection.In
		}
		r, err := labels.NewRequirement(key, op, sets.List(values))
		if err != nil {
			continue
		}
		sel = sel.Add(*r)
	}
	return sel.String()
}

// ObjectSelector selects every object rendered for an adopted Helm
// cluster by the labels they all carry with one value (the chart labels
// each object app=<neo4j.name>), for watch's informers: the objects carry
// no neo4jctl.io/cluster label, by which neo4jctl's own are watched. It is
// "" for neo4jctl's layout, and when the objects share no label.
func (t *Target) ObjectSelector() string {
	if !t.Cluster.IsHelmLayout() || len(t.Objects) == 0 {
		return ""
	}
	common := labels.Set{}
	for k, v := range t.Objects[0].GetLabels() {
		common[k] = v
	}
	for _, o := range t.Objects[1:] {
		l := o.GetLabels()
		for k, v := range common {
			if got, ok := l[k]; !ok || got != v {
				delete(common, k)
			}
		}
	}
	if len(common) == 0 {
		return ""
	}
	return labels.SelectorFromSet(common).String()
}
