package manifests

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Ports Neo4j listens on. They are fixed: the Services, the NetworkPolicy
// and the advertised addresses all derive from them, so a setting in the
// cluster file that moves one would silently break the others.
const (
	PortBolt      int32 = 7687
	PortHTTP      int32 = 7474
	PortHTTPS     int32 = 7473
	PortCluster   int32 = 6000 // transactions, catch-up, and discovery v2
	PortRaft      int32 = 7000
	PortDiscovery int32 = 5000 // discovery v1 (5.x only)
	PortRouting   int32 = 7688 // server-side routing between members
	PortBackup    int32 = 6362
	// DefaultMetricsPort is Neo4j's Prometheus endpoint port when the
	// cluster file does not name one.
	DefaultMetricsPort int32 = 2004
)

// Port names, used on container ports and Service ports. Kubernetes
// discovery looks the cluster port up by its Service port name, so these
// are part of the contract with Neo4j, not decoration.
const (
	PortNameBolt      = "bolt"
	PortNameHTTP      = "http"
	PortNameHTTPS     = "https"
	PortNameCluster   = "tcp-tx"
	PortNameRaft      = "tcp-raft"
	PortNameDiscovery = "tcp-discovery"
	PortNameRouting   = "tcp-routing"
	PortNameBackup    = "tcp-backup"
	PortNameMetrics   = "metrics"
)

// Label keys and values put on every rendered object.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelComponent = "app.kubernetes.io/component"
	LabelVersion   = "app.kubernetes.io/version"
	// LabelCluster is how plan finds every object a cluster owns.
	LabelCluster = "neo4jctl.io/cluster"
	// LabelPool tells the StatefulSets of one cluster apart; it is part of
	// each StatefulSet's selector.
	LabelPool = "neo4jctl.io/pool"
	// LabelService marks the role of a Service (headless or client); the
	// Kubernetes discovery label selector picks the headless one by it.
	LabelService = "neo4jctl.io/service"

	AppName   = "neo4j"
	ManagedBy = "neo4jctl"
	Component = "database"

	// WatchAppName is the app.kubernetes.io/name of `neo4jctl watch`'s
	// Pods (manifests/watch renders them): the servers' NetworkPolicy
	// admits them to Bolt.
	WatchAppName = "neo4jctl-watch"
	// BackupComponent is the app.kubernetes.io/component of neo4jctl's
	// backup Jobs: the servers' NetworkPolicy admits Pods of the cluster's
	// namespace carrying it to the backup port.
	BackupComponent = "neo4jctl-backup"

	// MainPool is the pool label value of the servers counted by
	// spec.servers. A server pool may not take this name.
	MainPool = "main"
)

// Annotations neo4jctl sets.
const (
	// AnnotationConfigHash on the Pod template carries a hash of
	// neo4j.conf: a ConfigMap change alone does not restart Pods, a changed
	// template does, so the hash turns a config change into a rollout.
	AnnotationConfigHash = "neo4jctl.io/config-hash"
)

// ClusterDomain is the DNS suffix of Services. It is the Kubernetes default;
// clusters with another domain are not supported yet.
const ClusterDomain = "cluster.local"

// Labels returns the labels every object of the cluster carries: the
// cluster file's own metadata.labels, overridden by the app.kubernetes.io
// set and neo4jctl.io/cluster, which neo4jctl relies on.
func Labels(c *clusterfile.Cluster) map[string]string {
	l := make(map[string]string, len(c.Metadata.Labels)+6)
	maps.Copy(l, c.Metadata.Labels)
	maps.Copy(l, ClusterSelector(c))
	l[LabelManagedBy] = ManagedBy
	l[LabelComponent] = Component
	if v := versionLabel(c.Spec.Version); v != "" {
		l[LabelVersion] = v
	}
	return l
}

// ClusterSelector returns the labels that select every server Pod of the
// cluster, across pools. They never change for a cluster, so they are safe
// in selectors (PodDisruptionBudget, Services, NetworkPolicy).
func ClusterSelector(c *clusterfile.Cluster) map[string]string {
	return map[string]string{
		LabelName:     AppName,
		LabelInstance: c.Metadata.Name,
		LabelCluster:  c.Metadata.Name,
	}
}

// SelectorLabels returns the StatefulSet selector of a pool. A StatefulSet
// selector is immutable, so it holds only labels that never change (no
// version label).
func SelectorLabels(c *clusterfile.Cluster, pool string) map[string]string {
	l := ClusterSelector(c)
	l[LabelPool] = poolLabel(pool)
	return l
}

// StatefulSetName returns the StatefulSet of a pool: the cluster's name for
// the main pool ("" or MainPool), <name>-<pool> for a server pool.
func StatefulSetName(c *clusterfile.Cluster, pool string) string {
	if pool == "" || pool == MainPool {
		return c.Metadata.Name
	}
	return c.Metadata.Name + "-" + pool
}

// HeadlessServiceName returns the headless Service that governs every
// StatefulSet of the cluster and gives each Pod its DNS name.
func HeadlessServiceName(c *clusterfile.Cluster) string {
	return c.Metadata.Name + "-headless"
}

// ClientServiceName returns the Service applications connect to.
func ClientServiceName(c *clusterfile.Cluster) string {
	return c.Metadata.Name
}

// ServiceAccountName returns the ServiceAccount the servers run as.
func ServiceAccountName(c *clusterfile.Cluster) string {
	return c.Metadata.Name
}

// TLSSecretName returns the Secret holding the servers' certificate: the
// one named in the file, or the one the rendered Certificate fills.
func TLSSecretName(c *clusterfile.Cluster) string {
	if c.Spec.TLS == nil {
		return ""
	}
	if c.Spec.TLS.SecretName != "" {
		return c.Spec.TLS.SecretName
	}
	return c.Metadata.Name + "-tls"
}

// PodName returns the name of a server Pod, as the cluster's layout
// names it.
func PodName(c *clusterfile.Cluster, pool string, ordinal int) string {
	return layoutOf(c).podName(c, pool, ordinal)
}

// PodDNSName returns the stable DNS name of a server Pod: in neo4jctl's
// layout <sts>-<ordinal>.<headless>.<namespace>.svc.cluster.local. It is
// the server's advertised address, so SHOW SERVERS reports it and the
// Neo4j plane matches servers to Pods by it.
func PodDNSName(c *clusterfile.Cluster, namespace, pool string, ordinal int) string {
	return layoutOf(c).podDNSName(c, namespace, pool, ordinal)
}

// BoltAddress returns host:port of a server's Bolt connector.
func BoltAddress(c *clusterfile.Cluster, namespace, pool string, ordinal int) string {
	return fmt.Sprintf("%s:%d", PodDNSName(c, namespace, pool, ordinal), PortBolt)
}

// ServerOptions are the ENABLE SERVER options of a pool's servers.
type ServerOptions struct {
	// ModeConstraint is NONE, PRIMARY or SECONDARY; empty means NONE.
	ModeConstraint string
	Tags           []string
}

// Pool is one StatefulSet of servers and what the Neo4j plane needs to
// know about it.
type Pool struct {
	// Name is MainPool for spec.servers, the pool's name otherwise.
	Name        string
	StatefulSet string
	Servers     int32
	Options     ServerOptions
	// Main is true for the pool that hosts the system database primaries.
	Main      bool
	Resources clusterfile.Resources
}

// Pools returns the cluster's pools of servers, as its layout has them:
// in neo4jctl's layout the main pool followed by the server pools in file
// order.
func Pools(c *clusterfile.Cluster) []Pool {
	return layoutOf(c).pools(c)
}

func (neo4jctlLayout) pools(c *clusterfile.Cluster) []Pool {
	pools := []Pool{{
		Name:        MainPool,
		StatefulSet: StatefulSetName(c, MainPool),
		Servers:     c.Spec.Servers,
		Options:     ServerOptions{ModeConstraint: c.Spec.ModeConstraint, Tags: c.Spec.Tags},
		Main:        true,
		Resources:   c.Spec.Resources,
	}}
	for _, p := range c.Spec.ServerPools {
		r := c.Spec.Resources
		if p.Resources != nil {
			r = *p.Resources
		}
		pools = append(pools, Pool{
			Name:        p.Name,
			StatefulSet: StatefulSetName(c, p.Name),
			Servers:     p.Servers,
			Options:     ServerOptions{ModeConstraint: p.ModeConstraint, Tags: p.Tags},
			Resources:   r,
		})
	}
	return pools
}

func poolLabel(pool string) string {
	if pool == "" {
		return MainPool
	}
	return pool
}

// versionLabel keeps a label value legal: Neo4j versions are, but an
// overridden image tag need not be.
func versionLabel(v string) string {
	if len(v) > 63 {
		return ""
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return ""
		}
	}
	return v
}

// isEnterprise reports whether the cluster runs Enterprise, the only
// edition with clustering.
func isEnterprise(c *clusterfile.Cluster) bool {
	return c.Spec.Edition != clusterfile.EditionCommunity
}

// isCalVer reports whether the version is a calendar version (2025.01 and
// later). Discovery v1 and its settings are gone from those releases, and
// some v2 settings lost their ".v2" infix.
func isCalVer(version string) bool {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 2025
}
