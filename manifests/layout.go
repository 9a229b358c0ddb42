package manifests

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// layout names the per-server objects of a cluster: its pools of
// servers, their Pods, and the addresses the servers advertise. Every
// per-server name in neo4jctl goes through it, so a cluster adopted from
// the Helm chart (spec.layout: helm), whose StatefulSets, Pods and
// addresses are the chart's, is planned and observed with the names it
// really has.
type layout interface {
	pools(c *clusterfile.Cluster) []Pool
	podName(c *clusterfile.Cluster, pool string, ordinal int) string
	podDNSName(c *clusterfile.Cluster, namespace, pool string, ordinal int) string
	podSelector(c *clusterfile.Cluster) map[string]string
	// podAt maps an advertised host back to its Pod (namespace, name).
	podAt(host string) (namespace, pod string, ok bool)
}

func layoutOf(c *clusterfile.Cluster) layout {
	if c.IsHelmLayout() {
		return helmLayout{}
	}
	return neo4jctlLayout{}
}

// neo4jctlLayout is neo4jctl's own: one StatefulSet per pool, governed by
// the cluster's headless Service.
type neo4jctlLayout struct{}

func (neo4jctlLayout) podName(c *clusterfile.Cluster, pool string, ordinal int) string {
	return StatefulSetName(c, pool) + "-" + strconv.Itoa(ordinal)
}

func (l neo4jctlLayout) podDNSName(c *clusterfile.Cluster, namespace, pool string, ordinal int) string {
	return fmt.Sprintf("%s.%s.%s.svc.%s", l.podName(c, pool, ordinal), HeadlessServiceName(c), namespace, ClusterDomain)
}

func (neo4jctlLayout) podSelector(c *clusterfile.Cluster) map[string]string {
	return ClusterSelector(c)
}

func (neo4jctlLayout) podAt(host string) (string, string, bool) {
	labels := strings.Split(host, ".")
	if len(labels) < 4 || labels[3] != "svc" {
		return "", "", false
	}
	return labels[2], labels[0], true
}

// helmLayout is the official Neo4j Helm chart's: one release per server,
// each a single-replica StatefulSet named after the release (the chart's
// neo4j.fullname; import refuses nameOverride and fullnameOverride), whose
// Pod is <release>-0. A clustered server advertises its release's
// ClusterIP Service, <release>.<namespace>.svc.<domain> (the chart's
// neo4j-config.yaml sets server.bolt.advertised_address to
// $SERVICE_NEO4J and the cluster addresses to its -internals Service).
type helmLayout struct{}

// Labels the chart puts on every server Pod (templates/neo4j-statefulset.yaml).
const (
	HelmLabelName     = "helm.neo4j.com/neo4j.name"
	HelmLabelInstance = "helm.neo4j.com/instance"
	HelmLabelCategory = "helm.neo4j.com/pod_category"
)

func (helmLayout) pools(c *clusterfile.Cluster) []Pool {
	pools := make([]Pool, 0, len(c.Spec.HelmReleases))
	for _, r := range c.Spec.HelmReleases {
		pools = append(pools, Pool{
			Name: r.Name, StatefulSet: r.Name, Servers: 1,
			// The chart makes every release of a cluster a system
			// primary (minimumClusterSize primaries, one per release).
			Main:      true,
			Resources: c.Spec.Resources,
		})
	}
	return pools
}

func (helmLayout) podName(_ *clusterfile.Cluster, pool string, ordinal int) string {
	return pool + "-" + strconv.Itoa(ordinal)
}

func (helmLayout) podDNSName(_ *clusterfile.Cluster, namespace, pool string, ordinal int) string {
	if ordinal != 0 {
		// The chart never runs a second Pod of a release: a name of the
		// Pod's own shape, which no server advertises, so that no server
		// is taken for it.
		return fmt.Sprintf("%s-%d.%s.%s.svc.%s", pool, ordinal, pool, namespace, ClusterDomain)
	}
	return fmt.Sprintf("%s.%s.svc.%s", pool, namespace, ClusterDomain)
}

func (helmLayout) podSelector(c *clusterfile.Cluster) map[string]string {
	return map[string]string{HelmLabelName: c.Metadata.Name, HelmLabelCategory: "neo4j-instance"}
}

func (helmLayout) podAt(host string) (string, string, bool) {
	labels := strings.Split(host, ".")
	switch {
	case len(labels) >= 4 && labels[3] == "svc":
		return neo4jctlLayout{}.podAt(host)
	case len(labels) >= 3 && labels[2] == "svc":
		return labels[1], labels[0] + "-0", true
	}
	return "", "", false
}

// PodSelector returns the labels that select every server Pod of the
// cluster: neo4jctl's cluster labels, or the chart's for an adopted
// cluster (its Pods cannot gain labels without a restart).
func PodSelector(c *clusterfile.Cluster) map[string]string { return layoutOf(c).podSelector(c) }

// PodAt maps a server's advertised host (PodDNSName) back to the Pod that
// runs it, for port-forwarding to it from outside the cluster; ok is
// false for a host the layout does not name.
func PodAt(c *clusterfile.Cluster, host string) (namespace, pod string, ok bool) {
	return layoutOf(c).podAt(host)
}
