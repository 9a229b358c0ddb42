// Package plantest builds the desired and observed state of a small cluster
// by hand, for the unit tests of plan, views and apply: a cluster file, the
// objects a renderer would produce, and the Neo4j plane as SHOW SERVERS /
// SHOW DATABASES would report it. It is test support, not a second renderer:
// the objects carry just enough fields to exercise diffs, redaction and the
// safe sequences.
package plantest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Canary is a planted password: no view, JSON document or error may ever
// contain it.
const Canary = "CANARY-s3cr3t-7f1d"

// Namespace and Name locate the test cluster.
const (
	Namespace = "graph"
	Name      = "prod"
	Image     = "neo4j:5.26.0-enterprise"
)

// ServerIDs are the serverIds of the servers of Pods prod-0 … prod-5.
var ServerIDs = []string{
	"3f2a9c1e-5b7d-4e21-9a0c-1d2e3f405161",
	"8b41d2f0-6c8e-4f32-8b1d-2e3f40516272",
	"c07e5a32-7d9f-4043-9c2e-3f4051627383",
	"5d9f0b7a-8e0a-4154-8d3f-405162738494",
	"e26c4f18-9f1b-4265-9e40-5162738495a5",
	"a4b8c2d6-0a2c-4376-8f51-62738495a6b6",
}

// Cluster returns a defaulted Enterprise cluster file with the given number
// of servers and one user database, movies, with three primaries.
func Cluster(servers int32) *clusterfile.Cluster {
	return &clusterfile.Cluster{
		APIVersion: clusterfile.APIVersion, Kind: clusterfile.Kind,
		Metadata: clusterfile.Metadata{Name: Name, Namespace: Namespace},
		Spec: clusterfile.Spec{
			Edition: clusterfile.EditionEnterprise, Version: "5.26.0", Servers: servers, SystemPrimaries: 3,
			AcceptLicenseAgreement: "yes",
			Auth:                   clusterfile.Auth{SecretRef: &clusterfile.SecretKeyRef{Name: "prod-auth", Key: "password"}},
			Config:                 map[string]string{"server.memory.heap.max_size": "2G"},
			Databases:              []clusterfile.Database{{Name: "movies", Topology: clusterfile.Topology{Primaries: 3}}},
		},
	}
}

// PodDNS is the advertised host of a Pod, as manifests.PodDNSName would
// return it.
func PodDNS(sts string, ordinal int) string {
	return fmt.Sprintf("%s-%d.%s-headless.%s.svc.cluster.local", sts, ordinal, sts, Namespace)
}

// Desired derives the desired state of c.
func Desired(c *clusterfile.Cluster) plan.Desired {
	d := plan.DesiredFrom(c, Namespace, PodDNS)
	d.ClusterFileSHA256 = "c1f0000000000000000000000000000000000000000000000000000000000000"
	return d
}

func obj(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(fmt.Sprintf("plantest: bad object %s: %v", s, err))
	}
	return m
}

// Clone deep-copies a JSON-shaped object so a test can edit it.
func Clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return obj(string(b))
}

// Conf renders neo4j.conf lines from settings, sorted.
func Conf(settings map[string]string) string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, settings[k])
	}
	return b.String()
}

// Objects renders the Kubernetes objects of c, as manifests.Render would
// (abridged), sorted by address.
func Objects(c *clusterfile.Cluster) []state.Object {
	ns, name := Namespace, c.Metadata.Name
	conf, _ := json.Marshal(Conf(c.Spec.Config))
	labels := fmt.Sprintf(`{"app.kubernetes.io/name":"neo4j","neo4jctl.io/cluster":%q}`, name)
	image := c.Spec.Image
	if image == "" {
		image = Image
	}
	out := []state.Object{
		mk("", "v1", "ServiceAccount", ns, name, fmt.Sprintf(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":%q,"namespace":%q,"labels":%s}}`, name, ns, labels)),
		mk("", "v1", "ConfigMap", ns, name+"-config", fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s-config","namespace":%q,"labels":%s},"data":{"neo4j.conf":%s}}`, name, ns, labels, conf)),
		mk("", "v1", "Service", ns, name, fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":%q,"labels":%s},"spec":{"type":"ClusterIP","selector":%s,"ports":[{"name":"bolt","port":7687,"targetPort":7687,"protocol":"TCP"},{"name":"http","port":7474,"targetPort":7474,"protocol":"TCP"}]}}`, name, ns, labels, labels)),
		mk("policy", "v1", "PodDisruptionBudget", ns, name, fmt.Sprintf(`{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":%q,"namespace":%q,"labels":%s},"spec":{"maxUnavailable":1,"selector":{"matchLabels":%s}}}`, name, ns, labels, labels)),
		mk("apps", "v1", "StatefulSet", ns, name, fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":%q,"namespace":%q,"labels":%s},
 "spec":{"replicas":%d,"serviceName":"%s-headless","podManagementPolicy":"Parallel","selector":{"matchLabels":%s},
  "template":{"metadata":{"labels":%s,"annotations":{"neo4jctl.io/config-hash":"9e1c"}},
   "spec":{"serviceAccountName":%q,"containers":[{"name":"neo4j","image":%q,
     "ports":[{"name":"bolt","containerPort":7687,"protocol":"TCP"},{"name":"http","containerPort":7474,"protocol":"TCP"},{"name":"cluster","containerPort":6000,"protocol":"TCP"}],
     "env":[{"name":"NEO4J_AUTH","valueFrom":{"secretKeyRef":{"name":"prod-auth","key":"password"}}},{"name":"NEO4J_ACCEPT_LICENSE_AGREEMENT","value":"yes"}],
     "resources":{"requests":{"cpu":"1","memory":"4Gi"}}}]}},
  "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"10Gi"}}}}]}}`,
			name, ns, labels, c.Spec.Servers, name, labels, labels, name, image)),
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func mk(group, version, kind, ns, name, body string) state.Object {
	g := group
	if g == "" {
		g = "core"
	}
	return state.Object{
		Address: fmt.Sprintf("k8s:%s/%s/%s/%s", g, kind, ns, name),
		Group:   group, Version: version, Kind: kind, Namespace: ns, Name: name,
		Desired: obj(body),
	}
}

// Fresh is an empty namespace: every object is predicted, none is live.
func Fresh(c *clusterfile.Cluster) state.Kube {
	k := state.Kube{Reachable: true, Mode: "dry-run", ClaimsObserved: true}
	for _, o := range Objects(c) {
		o.Predicted = Clone(o.Desired)
		k.Objects = append(k.Objects, o)
	}
	return k
}

// Converged is a namespace where every object matches c; liveServers is
// the StatefulSet's live replica count (pass c.Spec.Servers for "no change").
func Converged(c *clusterfile.Cluster, liveServers int32) state.Kube {
	k := state.Kube{Reachable: true, Mode: "dry-run", ClaimsObserved: true}
	for i, o := range Objects(c) {
		o.Predicted = Clone(o.Desired)
		o.Live = Clone(o.Desired)
		o.UID = fmt.Sprintf("uid-%d", i)
		o.Generation = 1
		o.Managers = []state.FieldManager{{Manager: "neo4jctl", Operation: "Apply"}}
		if o.Kind == "StatefulSet" {
			o.Live["spec"].(map[string]any)["replicas"] = float64(liveServers)
			for p := 0; p < int(liveServers); p++ {
				k.Pods = append(k.Pods, state.Pod{Name: fmt.Sprintf("%s-%d", o.Name, p), Namespace: Namespace, StatefulSet: o.Name, Ordinal: p, Ready: true, Phase: "Running"})
			}
		}
		k.Objects = append(k.Objects, o)
	}
	return k
}

// Object returns a pointer to the observed object of the given kind and
// name, so a test can plant a change.
func Object(k *state.Kube, kind, name string) *state.Object {
	for i := range k.Objects {
		if k.Objects[i].Kind == kind && k.Objects[i].Name == name {
			return &k.Objects[i]
		}
	}
	panic("plantest: no " + kind + " " + name)
}

// Neo4j is a healthy Enterprise cluster of n Enabled, Available servers
// (Pods prod-0 … prod-n-1): system on every server as primary (the first
// three) or secondary, the default database neo4j with one primary on
// prod-0, and movies with three primaries on prod-0 … prod-2.
func Neo4j(n int) state.Neo4j {
	out := state.Neo4j{Reachable: true, Edition: "enterprise", Version: "5.26.0",
		Servers:  map[string]state.Server{},
		Settings: map[string]state.Setting{"server.memory.heap.max_size": {Name: "server.memory.heap.max_size", Value: "2G"}},
	}
	for i := 0; i < n; i++ {
		id := ServerIDs[i]
		hosting := []string{"system"}
		if i == 0 {
			hosting = append(hosting, "neo4j")
		}
		if i < 3 {
			hosting = append(hosting, "movies")
		}
		out.Servers[id] = state.Server{ID: id, Name: id, Address: PodDNS(Name, i) + ":7687",
			State: state.ServerEnabled, Health: state.HealthAvailable, Hosting: hosting, RequestedHosting: hosting,
			ModeConstraint: "NONE", Version: "5.26.0"}
	}
	sysP := min(n, 3)
	for i := 0; i < n; i++ {
		role := "primary"
		if i >= 3 {
			role = "secondary"
		}
		out.Databases = append(out.Databases, alloc("system", "system", i, role, int64(sysP), int64(n-sysP)))
	}
	if n > 0 {
		a := alloc("neo4j", "standard", 0, "primary", 1, 0)
		a.Default, a.Home = true, true
		out.Databases = append(out.Databases, a)
	}
	for i := 0; i < min(n, 3); i++ {
		out.Databases = append(out.Databases, alloc("movies", "standard", i, "primary", int64(min(n, 3)), 0))
	}
	return out
}

func alloc(db, typ string, server int, role string, p, s int64) state.DatabaseAllocation {
	return state.DatabaseAllocation{Name: db, Type: typ, Access: "read-write", Address: PodDNS(Name, server) + ":7687",
		Role: role, RequestedStatus: "online", CurrentStatus: "online", ServerID: ServerIDs[server],
		CurrentPrimaries: p, CurrentSecondaries: s, RequestedPrimaries: p, RequestedSecondaries: s}
}

// MoveSolePrimary makes neo4j:database/neo4j's only primary live on the
// server of Pod ordinal, so a scale-in removing it must be refused.
func MoveSolePrimary(n *state.Neo4j, ordinal int) {
	for i, a := range n.Databases {
		if a.Name == "neo4j" {
			n.Databases[i].ServerID = ServerIDs[ordinal]
			n.Databases[i].Address = PodDNS(Name, ordinal) + ":7687"
		}
	}
}

// Scenario is one hand-built planning situation.
type Scenario struct {
	Name    string
	Desired plan.Desired
	Kube    state.Kube
	Neo4j   state.Neo4j
	Options plan.Options
}

// Scenarios are the situations views and apply are tested on: create-all,
// no-changes, scale-out 3→5, scale-in 5→3, a refused scale-in (sole
// primary) and an out-of-band edit carrying the Canary.
func Scenarios() []Scenario {
	var out []Scenario

	c3 := Cluster(3)
	out = append(out, Scenario{Name: "create-all", Desired: Desired(c3), Kube: Fresh(c3), Neo4j: state.Neo4j{Reason: "no Pods yet"}})
	out = append(out, Scenario{Name: "no-changes", Desired: Desired(c3), Kube: Converged(c3, 3), Neo4j: Neo4j(3)})

	c5 := Cluster(5)
	out = append(out, Scenario{Name: "scale-out", Desired: Desired(c5), Kube: Converged(c5, 3), Neo4j: Neo4j(3)})
	out = append(out, Scenario{Name: "scale-in", Desired: Desired(c3), Kube: Converged(c3, 5), Neo4j: Neo4j(5)})

	n := Neo4j(5)
	MoveSolePrimary(&n, 4)
	out = append(out, Scenario{Name: "refusal", Desired: Desired(c3), Kube: Converged(c3, 5), Neo4j: n})

	out = append(out, OutOfBand())
	return out
}

// OutOfBand is a converged cluster after `kubectl edit`: the image changed,
// NEO4J_AUTH replaced by a literal holding the Canary, and a credential line
// with the Canary added to neo4j.conf; the file also changes the heap size.
func OutOfBand() Scenario {
	c := Cluster(3)
	c.Spec.Config["dbms.security.ldap.authorization.system_password"] = "from-file-" + Canary
	c.Spec.Config["server.memory.heap.max_size"] = "3G"
	k := Converged(c, 3)
	sts := Object(&k, "StatefulSet", Name)
	ctr := sts.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	ctr["image"] = "neo4j:5.26.1-enterprise"
	ctr["env"] = []any{
		map[string]any{"name": "NEO4J_ACCEPT_LICENSE_AGREEMENT", "value": "yes"},
		map[string]any{"name": "NEO4J_AUTH", "value": "neo4j/" + Canary},
	}
	sts.Managers = append(sts.Managers, state.FieldManager{Manager: "kubectl-edit", Operation: "Update", Fields: []string{
		"spec.template.spec.containers[name=neo4j].image", "spec.template.spec.containers[name=neo4j].env"}})
	cm := Object(&k, "ConfigMap", Name+"-config")
	cm.Live["data"].(map[string]any)["neo4j.conf"] = Conf(map[string]string{
		"dbms.security.ldap.authorization.system_password": Canary,
		"server.memory.heap.max_size":                      "2G",
	})
	n := Neo4j(3)
	n.Settings["dbms.security.ldap.authorization.system_password"] = state.Setting{Name: "dbms.security.ldap.authorization.system_password", Value: Canary, Dynamic: true}
	k.Orphans = append(k.Orphans, state.Object{Address: "k8s:core/Secret/graph/prod-old", Version: "v1", Kind: "Secret", Namespace: Namespace, Name: "prod-old",
		Live: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "prod-old", "namespace": Namespace},
			"data": map[string]any{"password": Canary}, "stringData": map[string]any{"password": Canary}}})
	return Scenario{Name: "out-of-band", Desired: Desired(c), Kube: k, Neo4j: n}
}
