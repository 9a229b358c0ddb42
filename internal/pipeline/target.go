package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

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
	sum := sha256.Sum256(data)
	d.ClusterFileSHA256 = hex.EncodeToString(sum[:])
	return &Target{
		File: path, Cluster: c, Namespace: ns, Objects: objs, Desired: d,
		Inventory: inventoryOf(c, ns),
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

// inventoryOf is the cluster's inventory; an adopted Helm cluster's Pods
// are found by the chart's labels, which they keep.
func inventoryOf(c *clusterfile.Cluster, ns string) kube.InventoryRef {
	inv := kube.InventoryRef{Namespace: ns, Cluster: c.Metadata.Name}
	if c.IsHelmLayout() {
		inv.PodSelector = labels.SelectorFromSet(manifests.PodSelector(c)).String()
	}
	return inv
}
