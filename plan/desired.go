package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Desired is the Neo4j-plane half of the desired state, derived from the
// cluster file (the Kubernetes half is the rendered objects inside
// state.Kube). It is plain data so tests and other callers can build it by
// hand.
type Desired struct {
	Cluster   *clusterfile.Cluster
	Namespace string
	// Edition is "enterprise" or "community"; it decides whether server and
	// topology steps exist at all.
	Edition string
	// Version is the Neo4j version the cluster file asks for (spec.version);
	// the versions guard compares it with what the servers report.
	Version string
	// Pools are the StatefulSets of servers, sorted by StatefulSet name.
	Pools     []Pool
	Databases []Database
	// Settings are the neo4j.conf settings the cluster file sets.
	Settings map[string]string
	// SystemPrimaries is the number of servers hosting system as a primary;
	// a scale-in below it is refused.
	SystemPrimaries int32
	// PodAddress returns the advertised host of a Pod of a StatefulSet; it
	// maps SHOW SERVERS rows to Pods. Nil falls back to matching the first DNS
	// label of the server's address ("<sts>-<ordinal>").
	PodAddress func(statefulSet string, ordinal int) string `json:"-"`
	// ClusterFileSHA256 identifies the cluster file for saved plans. DesiredFrom
	// sets it to the sha256 of the loaded cluster's canonical JSON; a caller
	// holding the file's bytes may overwrite it with their hash.
	ClusterFileSHA256 string
}

// Pool is one StatefulSet of servers sharing ENABLE SERVER options.
type Pool struct {
	// Name is the pool's name in the cluster file; "" for the main pool.
	Name        string
	StatefulSet string
	Replicas    int32
	Options     ServerOptions
	// ManagesDatabaseLists: the cluster file sets the pool's
	// allowedDatabases or deniedDatabases. Otherwise ALTER SERVER sends
	// each server's live lists back, since it replaces all options.
	ManagesDatabaseLists bool
}

// ServerOptions are the OPTIONS of ENABLE SERVER / ALTER SERVER. ALTER SERVER
// replaces all options, so apply always sends the full set.
type ServerOptions struct {
	ModeConstraint   string   `json:"mode_constraint,omitempty"`
	Tags             []string `json:"tags,omitempty"`
	AllowedDatabases []string `json:"allowed_databases,omitempty"`
	DeniedDatabases  []string `json:"denied_databases,omitempty"`
}

// Database is a user database the cluster file declares. Zero Primaries means
// the topology is left to Neo4j's defaults; empty Access is not managed.
type Database struct {
	Name        string
	Primaries   int32
	Secondaries int32
	Access      string
	// Absent is spec.databases[].state: absent: plan drops the database.
	Absent bool
}

// DesiredFrom derives the Neo4j-plane desired state from a loaded, defaulted
// cluster file. podAddress is manifests.PodDNSName (or a wrapper): taking a
// func keeps plan from importing manifests. StatefulSet names follow the
// manifests convention: the cluster's name for the main pool and
// "<cluster>-<pool>" for additional pools.
func DesiredFrom(c *clusterfile.Cluster, ns string, podAddress func(statefulSet string, ordinal int) string) Desired {
	d := Desired{Cluster: c, Namespace: ns, PodAddress: podAddress}
	if c == nil {
		return d
	}
	d.Edition = string(c.Spec.Edition)
	if d.Edition == "" {
		d.Edition = string(clusterfile.EditionEnterprise)
	}
	d.SystemPrimaries = c.Spec.SystemPrimaries
	d.Version = c.Spec.Version
	if c.IsHelmLayout() {
		// One single-server StatefulSet per adopted release, named after
		// it (manifests' helm layout).
		for _, r := range c.Spec.HelmReleases {
			d.Pools = append(d.Pools, Pool{Name: r.Name, StatefulSet: r.Name, Replicas: 1})
		}
	} else {
		d.Pools = append(d.Pools, Pool{
			StatefulSet: c.Metadata.Name,
			Replicas:    c.Spec.Servers,
			Options:     ServerOptions{ModeConstraint: c.Spec.ModeConstraint, Tags: c.Spec.Tags},
		})
		for _, sp := range c.Spec.ServerPools {
			d.Pools = append(d.Pools, Pool{
				Name:        sp.Name,
				StatefulSet: c.Metadata.Name + "-" + sp.Name,
				Replicas:    sp.Servers,
				Options: ServerOptions{ModeConstraint: sp.ModeConstraint, Tags: sp.Tags,
					AllowedDatabases: sp.AllowedDatabases, DeniedDatabases: sp.DeniedDatabases},
				ManagesDatabaseLists: sp.AllowedDatabases != nil || sp.DeniedDatabases != nil,
			})
		}
	}
	sort.Slice(d.Pools, func(i, j int) bool { return d.Pools[i].StatefulSet < d.Pools[j].StatefulSet })
	for _, db := range c.Spec.Databases {
		d.Databases = append(d.Databases, Database{
			Name:        db.Name,
			Primaries:   db.Topology.Primaries,
			Secondaries: db.Topology.Secondaries,
			Access:      db.Access,
			Absent:      db.State == DatabaseStateAbsent,
		})
	}
	if len(c.Spec.Config) > 0 {
		d.Settings = make(map[string]string, len(c.Spec.Config))
		for k, v := range c.Spec.Config {
			d.Settings[k] = v
		}
	}
	if b, err := json.Marshal(c); err == nil {
		sum := sha256.Sum256(b)
		d.ClusterFileSHA256 = hex.EncodeToString(sum[:])
	}
	return d
}
