package drift

import (
	"fmt"
	"path"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// sourcePath maps a finding back to the cluster-file field that renders
// what drifted, so a GitHub annotation points at the line to look at:
// replicas → spec.servers, the image → spec.version (or spec.image), a
// neo4j.conf key → spec.config[key], resources → spec.resources, and so on.
// What no single field renders points at metadata.name.
func sourcePath(c *clusterfile.Cluster, f Finding) string {
	if c == nil {
		return "metadata.name"
	}
	kind, name := addressKind(f.Address)
	if f.Plane == PlaneNeo4j {
		return neo4jSource(c, kind, name, f.Field)
	}
	pool := poolPath(c, kind, name)
	field := f.Field
	switch {
	case kind == "ConfigMap" && strings.HasPrefix(field, "data.neo4j.conf["):
		key := strings.TrimSuffix(strings.TrimPrefix(field, "data.neo4j.conf["), "]")
		if _, ok := c.Spec.Config[key]; ok {
			return "spec.config[" + key + "]"
		}
		return "spec.config"
	case kind == "ConfigMap":
		return "spec.config"
	case kind == "StatefulSet":
		return statefulSetSource(c, pool, field)
	case kind == "NetworkPolicy":
		return "spec.security.networkPolicy"
	case kind == "ServiceMonitor":
		return "spec.monitoring.serviceMonitor"
	case kind == "Certificate":
		return "spec.tls"
	case kind == "Service" && name == c.Metadata.Name && (strings.HasPrefix(field, "spec.type") || strings.HasPrefix(field, "metadata.annotations")):
		return "spec.services.client"
	case kind == "PodDisruptionBudget":
		return pool + ".servers"
	}
	if strings.HasPrefix(field, "metadata.labels.") {
		if _, ok := c.Metadata.Labels[strings.TrimPrefix(field, "metadata.labels.")]; ok {
			return "metadata.labels"
		}
	}
	return "metadata.name"
}

func statefulSetSource(c *clusterfile.Cluster, pool, field string) string {
	const ctr = "spec.template.spec.containers[name=neo4j]"
	switch {
	case field == "" || field == "spec.replicas":
		return pool + ".servers"
	case field == ctr+".image":
		// Default fills spec.image in; point at it only when the file sets it.
		if c.Source != nil {
			if _, ok := c.Source.Positions["spec.image"]; ok {
				return "spec.image"
			}
		}
		return "spec.version"
	case field == ctr+".imagePullPolicy":
		return "spec.imagePullPolicy"
	case strings.HasPrefix(field, ctr+".resources."):
		rest := strings.TrimPrefix(field, ctr+".resources.")
		base := "spec.resources.neo4j"
		if pool != "spec" {
			base = pool + ".resources.neo4j"
		}
		return base + "." + rest
	case strings.HasPrefix(field, ctr+".env[name=NEO4J_ACCEPT_LICENSE_AGREEMENT]"):
		return "spec.acceptLicenseAgreement"
	case strings.HasPrefix(field, ctr+".env[name=NEO4J_PLUGINS]"):
		return "spec.plugins"
	case strings.HasPrefix(field, ctr+".env[name=NEO4J_AUTH]"):
		return "spec.auth"
	case strings.HasPrefix(field, "spec.volumeClaimTemplates"):
		return "spec.storage"
	case strings.HasPrefix(field, "spec.persistentVolumeClaimRetentionPolicy"):
		return "spec.storage.retention"
	case strings.HasPrefix(field, "spec.template.spec.affinity"), strings.HasPrefix(field, "spec.template.spec.tolerations"),
		strings.HasPrefix(field, "spec.template.spec.nodeSelector"), strings.HasPrefix(field, "spec.template.spec.topologySpreadConstraints"),
		strings.HasPrefix(field, "spec.template.spec.priorityClassName"):
		return "spec.scheduling"
	case strings.HasPrefix(field, "spec.template.spec.imagePullSecrets"):
		return "spec.imagePullSecrets"
	case strings.HasPrefix(field, "spec.template.spec.securityContext"), strings.HasPrefix(field, ctr+".securityContext"):
		return "spec.security"
	}
	if pool == "spec" {
		return "metadata.name"
	}
	return pool
}

// poolPath is the cluster-file path of the pool a StatefulSet (or the
// cluster's PDB) renders: "spec" for the main pool, spec.serverPools[i].
func poolPath(c *clusterfile.Cluster, kind, name string) string {
	for i, p := range c.Spec.ServerPools {
		if name == c.Metadata.Name+"-"+p.Name {
			return fmt.Sprintf("spec.serverPools[%d]", i)
		}
	}
	return "spec"
}

func neo4jSource(c *clusterfile.Cluster, kind, name, field string) string {
	switch kind {
	case "setting":
		if _, ok := c.Spec.Config[name]; ok {
			return "spec.config[" + name + "]"
		}
		return "spec.config"
	case "database":
		for i, db := range c.Spec.Databases {
			if db.Name == name {
				p := fmt.Sprintf("spec.databases[%d]", i)
				switch field {
				case "topology":
					return p + ".topology"
				case "access":
					return p + ".access"
				}
				return p
			}
		}
		return "spec.databases"
	case "server":
		// A pending address names the Pod: "<sts>-<ordinal>".
		for i, p := range c.Spec.ServerPools {
			if strings.HasPrefix(name, c.Metadata.Name+"-"+p.Name+"-") {
				return fmt.Sprintf("spec.serverPools[%d].servers", i)
			}
		}
		return "spec.servers"
	}
	return "metadata.name"
}

// addressKind returns the kind and name of an address:
// k8s:apps/StatefulSet/graph/prod → StatefulSet, prod;
// neo4j:setting/server.memory.heap.max_size → setting, server.memory.heap.max_size.
func addressKind(addr string) (string, string) {
	if rest, ok := strings.CutPrefix(addr, "k8s:"); ok {
		parts := strings.Split(rest, "/")
		if len(parts) >= 3 {
			return parts[1], parts[len(parts)-1]
		}
		return "", ""
	}
	if rest, ok := strings.CutPrefix(addr, "neo4j:"); ok {
		kind, name, _ := strings.Cut(rest, "/")
		return kind, name
	}
	return "", ""
}

func matchAddress(pattern, addr string) bool {
	if pattern == addr || pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, addr)
	return ok
}
