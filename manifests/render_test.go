package manifests_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the rendered output")

// enterprise returns a defaulted three-server Enterprise cluster, built in
// Go so these tests do not depend on the loader.
func enterprise() *clusterfile.Cluster {
	c := &clusterfile.Cluster{
		APIVersion: clusterfile.APIVersion,
		Kind:       clusterfile.Kind,
		Metadata:   clusterfile.Metadata{Name: "g", Namespace: "db"},
		Spec: clusterfile.Spec{
			Edition:                clusterfile.EditionEnterprise,
			Version:                "5.26.0",
			AcceptLicenseAgreement: "eval",
			Servers:                3,
			Auth:                   clusterfile.Auth{SecretRef: &clusterfile.SecretKeyRef{Name: "g-auth"}},
		},
	}
	clusterfile.Default(c)
	return c
}

func community() *clusterfile.Cluster {
	c := &clusterfile.Cluster{
		Metadata: clusterfile.Metadata{Name: "solo", Namespace: "db"},
		Spec: clusterfile.Spec{
			Edition: clusterfile.EditionCommunity,
			Version: "5.26.0",
			Auth:    clusterfile.Auth{SecretRef: &clusterfile.SecretKeyRef{Name: "solo-auth"}},
		},
	}
	clusterfile.Default(c)
	c.Spec.Security.NetworkPolicy.Enabled = new(bool)
	return c
}

// calverPools is a 2025.x cluster with a secondary pool and TLS from an
// existing Secret: the settings that differ between 5.x and calendar
// versions, and the pool-specific environment.
func calverPools() *clusterfile.Cluster {
	c := enterprise()
	c.Spec.Version = "2025.10.1"
	c.Spec.Image = ""
	c.Spec.ServerPools = []clusterfile.ServerPool{{Name: "read", Servers: 2, ModeConstraint: "SECONDARY", Tags: []string{"read"}}}
	c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs", Scopes: []string{"cluster", "bolt"}}
	clusterfile.Default(c)
	return c
}

func render(t *testing.T, c *clusterfile.Cluster) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Render(c, "")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return objs
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name    string
		cluster *clusterfile.Cluster
	}{
		{"enterprise", enterprise()},
		{"community", community()},
		{"calver-pools", calverPools()},
		{"escape-hatches", withHatches()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifests.MarshalYAML(render(t, tt.cluster))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./manifests -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Render (-want +got):\n%s", diff)
			}
		})
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func TestRenderObjectsAndOrder(t *testing.T) {
	prod := enterprise()
	prod.Spec.TLS = &clusterfile.TLS{CertManager: &clusterfile.CertManager{IssuerRef: clusterfile.IssuerRef{Name: "ca"}}}
	prod.Spec.Monitoring = clusterfile.Monitoring{Metrics: clusterfile.Metrics{Enabled: true}, ServiceMonitor: clusterfile.ServiceMonitor{Enabled: true}}
	clusterfile.Default(prod)

	tests := []struct {
		name    string
		cluster *clusterfile.Cluster
		want    []string
	}{
		{"enterprise", enterprise(), []string{
			"ServiceAccount/g", "Role/g-discovery", "RoleBinding/g-discovery", "ConfigMap/g-config-<rev>", "ConfigMap/g-config-dynamic",
			"Service/g", "Service/g-headless", "PodDisruptionBudget/g", "NetworkPolicy/g", "StatefulSet/g",
		}},
		{"community has no RBAC, no PDB", community(), []string{
			"ServiceAccount/solo", "ConfigMap/solo-config-<rev>", "ConfigMap/solo-config-dynamic", "Service/solo", "Service/solo-headless", "StatefulSet/solo",
		}},
		{"pools sort by name", calverPools(), []string{
			"ServiceAccount/g", "Role/g-discovery", "RoleBinding/g-discovery", "ConfigMap/g-config-<rev>", "ConfigMap/g-config-dynamic",
			"Service/g", "Service/g-headless", "PodDisruptionBudget/g", "NetworkPolicy/g", "StatefulSet/g", "StatefulSet/g-read",
		}},
		{"cert-manager and monitoring", prod, []string{
			"ServiceAccount/g", "Role/g-discovery", "RoleBinding/g-discovery", "ConfigMap/g-config-<rev>", "ConfigMap/g-config-dynamic",
			"Service/g", "Service/g-headless", "PodDisruptionBudget/g", "NetworkPolicy/g",
			"Certificate/g-tls", "ServiceMonitor/g", "StatefulSet/g",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := render(t, tt.cluster)
			got := kinds(objs)
			for i, k := range got {
				// The restart ConfigMap is named after its content's hash.
				got[i] = configRevision.ReplaceAllString(k, "-config-<rev>")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			last := -1
			for _, o := range objs {
				if s := manifests.Stage(o.GetKind()); s < last {
					t.Errorf("%s: stage %d after stage %d", manifests.Address(o), s, last)
				} else {
					last = s
				}
				if got := o.GetLabels()[manifests.LabelCluster]; got != tt.cluster.Metadata.Name {
					t.Errorf("%s: label %s = %q, want %q", manifests.Address(o), manifests.LabelCluster, got, tt.cluster.Metadata.Name)
				}
				if o.GetNamespace() != "db" || o.GetAPIVersion() == "" {
					t.Errorf("%s: namespace %q apiVersion %q, want db and set", manifests.Address(o), o.GetNamespace(), o.GetAPIVersion())
				}
				if _, ok := o.Object["status"]; ok {
					t.Errorf("%s: has status", manifests.Address(o))
				}
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, _ := manifests.MarshalYAML(render(t, calverPools()))
	for range 5 {
		b, _ := manifests.MarshalYAML(render(t, calverPools()))
		if diff := cmp.Diff(string(a), string(b)); diff != "" {
			t.Fatalf("two renders differ:\n%s", diff)
		}
	}
}

func statefulSet(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "StatefulSet" && o.GetName() == name {
			return o.Object
		}
	}
	t.Fatalf("no StatefulSet %s", name)
	return nil
}

func container(t *testing.T, sts map[string]any) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(sts, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("got %d containers, want 1", len(cs))
	}
	return cs[0].(map[string]any)
}

func env(t *testing.T, sts map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _, _ := unstructured.NestedSlice(container(t, sts), "env")
	for _, e := range list {
		m := e.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// notSettings are the NEO4J_* variables the image entrypoint consumes
// itself instead of writing them into neo4j.conf.
var notSettings = map[string]bool{"NEO4J_AUTH": true, "NEO4J_ACCEPT_LICENSE_AGREEMENT": true, "NEO4J_PLUGINS": true}

func TestCredentialsComeFromTheSecret(t *testing.T) {
	for _, c := range []*clusterfile.Cluster{enterprise(), community(), calverPools()} {
		objs := render(t, c)
		for _, pool := range manifests.Pools(c) {
			e := env(t, statefulSet(t, objs, pool.StatefulSet))
			auth := e["NEO4J_AUTH"]
			if auth == nil || auth["value"] != "neo4j/$(AUTH_PASSWORD)" {
				t.Errorf("%s: NEO4J_AUTH = %v, want neo4j/$(AUTH_PASSWORD)", pool.StatefulSet, auth)
			}
			ref, _, _ := unstructured.NestedStringMap(e["AUTH_PASSWORD"], "valueFrom", "secretKeyRef")
			if diff := cmp.Diff(map[string]string{"name": c.Spec.Auth.SecretRef.Name, "key": "password"}, ref); diff != "" {
				t.Errorf("%s: AUTH_PASSWORD secretKeyRef (-want +got):\n%s", pool.StatefulSet, diff)
			}
			for name := range e {
				// Any other NEO4J_ variable becomes a setting; it must be
				// one spelled the entrypoint's way (no dots, lower case).
				if strings.HasPrefix(name, "NEO4J_") && !notSettings[name] && strings.ToLower(name[6:]) != name[6:] {
					t.Errorf("%s: env %s would be written into neo4j.conf as an unknown setting", pool.StatefulSet, name)
				}
			}
		}
	}
}

func conf(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			s, _, _ := unstructured.NestedString(o.Object, "data", "neo4j.conf")
			return s
		}
	}
	t.Fatal("no ConfigMap")
	return ""
}

func TestNeo4jConf(t *testing.T) {
	overridden := enterprise()
	overridden.Spec.Config = map[string]string{
		"server.memory.pagecache.size": "2g",
		// A managed setting (Validate refuses it); Render keeps its own.
		"dbms.cluster.discovery.resolver_type": "LIST",
		"server.jvm.additional":                "-XX:+UseG1GC\n-XX:+AlwaysPreTouch",
	}
	tests := []struct {
		name          string
		cluster       *clusterfile.Cluster
		want, notWant []string
	}{
		{"5.x discovery", enterprise(),
			[]string{"dbms.cluster.discovery.resolver_type=K8S\n", "dbms.cluster.discovery.version=V2_ONLY\n", "dbms.kubernetes.discovery.v2.service_port_name=tcp-tx\n",
				"dbms.kubernetes.label_selector=neo4jctl.io/cluster=g,neo4jctl.io/service=headless\n", "dbms.cluster.minimum_initial_system_primaries_count=3\n",
				"server.backup.listen_address=0.0.0.0:6362\n", "server.directories.run=/var/lib/neo4j/run\n", "server.memory.pagecache.size=512M\n"},
			[]string{"dbms.kubernetes.discovery.service_port_name"}},
		{"2025.x discovery", calverPools(),
			[]string{"dbms.kubernetes.discovery.service_port_name=tcp-tx\n", "dbms.ssl.policy.cluster.client_auth=REQUIRE\n", "server.bolt.tls_level=REQUIRED\n"},
			[]string{"discovery.version", ".v2.", "server.discovery.", "dbms.ssl.policy.https", "server.https.enabled"}},
		{"community has no cluster settings", community(),
			[]string{"server.default_listen_address=0.0.0.0\n"},
			[]string{"dbms.cluster", "dbms.kubernetes", "server.backup"}},
		{"user settings override defaults, not managed ones", overridden,
			[]string{"server.memory.pagecache.size=2g\n", "dbms.cluster.discovery.resolver_type=K8S\n",
				"server.jvm.additional=-XX:+UseG1GC\nserver.jvm.additional=-XX:+AlwaysPreTouch\n"},
			[]string{"resolver_type=LIST", "pagecache.size=512M"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := conf(t, render(t, tt.cluster))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("neo4j.conf lacks %q; got:\n%s", w, got)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("neo4j.conf has %q; got:\n%s", nw, got)
				}
			}
		})
	}
}

func TestConfigChangeRollsPods(t *testing.T) {
	hash := func(c *clusterfile.Cluster) string {
		v, _, _ := unstructured.NestedString(statefulSet(t, render(t, c), "g"), "spec", "template", "metadata", "annotations", manifests.AnnotationConfigHash)
		return v
	}
	template := func(c *clusterfile.Cluster) any {
		v, _, _ := unstructured.NestedFieldCopy(statefulSet(t, render(t, c), "g"), "spec", "template")
		return v
	}
	a, b := enterprise(), enterprise()
	b.Spec.Config = map[string]string{"server.memory.heap.max_size": "2g"}
	if ha, hb := hash(a), hash(b); ha == "" || ha == hb {
		t.Errorf("config hash %q then %q, want set and different", ha, hb)
	}
	if ha, hc := hash(a), hash(enterprise()); ha != hc {
		t.Errorf("config hash %q then %q for the same file", ha, hc)
	}
	// A dynamic setting (Operations Manual 5.26,
	// configuration/dynamic-settings.adoc) changes on the running servers
	// with dbms.setConfigValue: its change must not touch the template.
	d := enterprise()
	d.Spec.Config = map[string]string{"db.logs.query.threshold": "5s"}
	if diff := cmp.Diff(template(a), template(d)); diff != "" {
		t.Errorf("a dynamic setting changed the Pod template, so it would roll every server (-before +after):\n%s", diff)
	}
	if !strings.Contains(configMapData(t, render(t, d), "g-config-dynamic", "dynamic.conf"), "db.logs.query.threshold=5s\n") {
		t.Error("the dynamic setting is not in the dynamic ConfigMap")
	}
}

// TestRestartConfigMapIsImmutableAndNamedByHash: the restart settings'
// ConfigMap is a revision (immutable, named after its content), so a Pod
// restarting mid-roll mounts the revision its template names.
func TestRestartConfigMapIsImmutableAndNamedByHash(t *testing.T) {
	names := func(c *clusterfile.Cluster) (out []string) {
		for _, o := range render(t, c) {
			if o.GetKind() == "ConfigMap" {
				out = append(out, o.GetName())
				if strings.HasPrefix(o.GetName(), "g-config-") && o.GetName() != "g-config-dynamic" {
					if imm, _, _ := unstructured.NestedBool(o.Object, "immutable"); !imm {
						t.Errorf("%s is not immutable", o.GetName())
					}
				}
			}
		}
		return out
	}
	a, b := enterprise(), enterprise()
	b.Spec.Config = map[string]string{"server.memory.heap.max_size": "2g"}
	na, nb := names(a), names(b)
	if len(na) != 2 || len(nb) != 2 || na[0] == nb[0] || na[1] != nb[1] {
		t.Errorf("ConfigMaps %v then %v: want a new restart revision and the same dynamic ConfigMap", na, nb)
	}
}

var configRevision = regexp.MustCompile(`-config-[0-9a-f]{10}$`)

func configMapData(t *testing.T, objs []*unstructured.Unstructured, name, key string) string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == name {
			v, _, _ := unstructured.NestedString(o.Object, "data", key)
			return v
		}
	}
	t.Fatalf("no ConfigMap %s", name)
	return ""
}

func TestPodSecurity(t *testing.T) {
	objs := render(t, enterprise())
	sts := statefulSet(t, objs, "g")
	for _, path := range [][]string{
		{"spec", "podManagementPolicy"},
		{"spec", "template", "spec", "securityContext", "runAsNonRoot"},
		{"spec", "template", "spec", "securityContext", "fsGroup"},
		{"spec", "template", "spec", "terminationGracePeriodSeconds"},
		{"spec", "template", "spec", "enableServiceLinks"},
	} {
		if _, ok, _ := unstructured.NestedFieldNoCopy(sts, path...); !ok {
			t.Errorf("StatefulSet lacks %s", strings.Join(path, "."))
		}
	}
	sc, _, _ := unstructured.NestedMap(container(t, sts), "securityContext")
	want := map[string]any{
		"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
		"runAsNonRoot": true, "runAsUser": int64(7474), "runAsGroup": int64(7474),
		"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
	if diff := cmp.Diff(want, sc); diff != "" {
		t.Errorf("container securityContext (-want +got):\n%s", diff)
	}
	if got, _, _ := unstructured.NestedBool(statefulSet(t, render(t, community()), "solo"), "spec", "template", "spec", "automountServiceAccountToken"); got {
		t.Error("community Pods mount a ServiceAccount token; only Kubernetes discovery needs one")
	}
}

func TestNames(t *testing.T) {
	c := calverPools()
	tests := []struct{ got, want string }{
		{manifests.StatefulSetName(c, ""), "g"},
		{manifests.StatefulSetName(c, manifests.MainPool), "g"},
		{manifests.StatefulSetName(c, "read"), "g-read"},
		{manifests.HeadlessServiceName(c), "g-headless"},
		{manifests.PodDNSName(c, "db", "read", 1), "g-read-1.g-headless.db.svc.cluster.local"},
		{manifests.BoltAddress(c, "db", "", 0), "g-0.g-headless.db.svc.cluster.local:7687"},
		{manifests.TLSSecretName(c), "g-certs"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	pools := manifests.Pools(c)
	want := []manifests.ServerOptions{{ModeConstraint: "NONE"}, {ModeConstraint: "SECONDARY", Tags: []string{"read"}}}
	var got []manifests.ServerOptions
	for _, p := range pools {
		got = append(got, p.Options)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pools options (-want +got):\n%s", diff)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*clusterfile.Cluster)
		want   string
	}{
		{"no namespace", func(c *clusterfile.Cluster) { c.Metadata.Namespace = "" }, "no namespace"},
		{"bad quantity", func(c *clusterfile.Cluster) { c.Spec.Resources.Neo4j.Requests.CPU = "lots" }, `cpu "lots"`},
		{"no data size", func(c *clusterfile.Cluster) { c.Spec.Storage.Data.Size = "" }, "spec.storage.data.size"},
		{"reserved pool name", func(c *clusterfile.Cluster) {
			c.Spec.ServerPools = []clusterfile.ServerPool{{Name: manifests.MainPool, Servers: 1}}
		}, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := enterprise()
			tt.mutate(c)
			_, err := manifests.Render(c, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestVersionRequirements(t *testing.T) {
	prod := enterprise()
	prod.Spec.Scheduling.Zones = []string{"a", "b", "c"}
	prod.Spec.Scheduling.TopologySpread.WhenUnsatisfiable = "DoNotSchedule"
	reqs := manifests.MinKubernetesVersions(render(t, prod))
	var got []string
	for _, r := range reqs {
		got = append(got, r.Object+" "+r.Field+" "+r.MinVersion())
	}
	want := []string{
		"policy/PodDisruptionBudget/db/g spec.unhealthyPodEvictionPolicy 1.31",
		"apps/StatefulSet/db/g spec.persistentVolumeClaimRetentionPolicy 1.32",
		"apps/StatefulSet/db/g spec.template.spec.topologySpreadConstraints[*].minDomains 1.30",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MinKubernetesVersions (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		server string
		unmet  int
	}{{"v1.29.3", 3}, {"v1.30.0", 2}, {"v1.31.14", 1}, {"1.32", 0}, {"v1.37.2+k3s1", 0}, {"v2.0.0", 0}} {
		unmet, err := manifests.UnmetVersionRequirements(reqs, tt.server)
		if err != nil || len(unmet) != tt.unmet {
			t.Errorf("UnmetVersionRequirements(%s) = %d requirements, %v; want %d", tt.server, len(unmet), err, tt.unmet)
		}
	}
	if _, err := manifests.UnmetVersionRequirements(reqs, "unknown"); err == nil {
		t.Error("UnmetVersionRequirements(unknown): want an error")
	}
}

// TestRenderedSettingsAreRefusedInSpecConfig: every neo4j.conf setting
// neo4jctl renders itself wins over spec.config, so validate must refuse
// each of them with the reason instead of letting it be dropped silently
// (server.http.enabled: "false" was). Only the page cache default may be
// overridden.
func TestRenderedSettingsAreRefusedInSpecConfig(t *testing.T) {
	full := enterprise()
	full.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs", Scopes: clusterfile.TLSScopes}
	full.Spec.Monitoring.Metrics.Enabled = true
	full.Spec.Plugins = []string{"apoc", "graph-data-science"}
	for name, c := range map[string]*clusterfile.Cluster{"enterprise": full, "calver": calverPools(), "community": community()} {
		for _, line := range strings.Split(conf(t, render(t, c)), "\n") {
			key, _, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(key, "#") || key == "server.memory.pagecache.size" {
				continue
			}
			t.Run(name+"/"+key, func(t *testing.T) {
				cc := *c
				cc.Spec.Config = map[string]string{key: "x"}
				err := cc.Validate()
				if err == nil || !strings.Contains(err.Error(), "spec.config["+key+"]") {
					t.Errorf("spec.config[%s] is rendered by neo4jctl but accepted: got %v", key, err)
				}
			})
		}
	}
}

// withHatches is the enterprise cluster with every escape hatch set.
func withHatches() *clusterfile.Cluster {
	c := enterprise()
	c.Spec.Storage.Logs.Size = ""
	c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs", Scopes: clusterfile.TLSScopes}
	c.Spec.Plugins = []string{"apoc"}
	c.Spec.Pod = &clusterfile.PodMeta{Annotations: map[string]string{"example.com/owner": "graph-team"}, Labels: map[string]string{"team": "graph"}}
	c.Spec.ServiceAccount = &clusterfile.ServiceAccount{Annotations: map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/neo4j"}}
	c.Spec.ExtraEnv = []clusterfile.EnvVar{{Name: "NEO4J_dbms_security_ldap_authorization_system__password",
		ValueFrom: &clusterfile.EnvVarSource{SecretKeyRef: &clusterfile.KeyRef{Name: "ldap", Key: "password"}}}}
	c.Spec.ExtraVolumes = []clusterfile.ExtraVolume{{Name: "import", MountPath: "/var/lib/neo4j/import", ReadOnly: true,
		EmptyDir: &clusterfile.EmptyDirVolume{SizeLimit: "1Gi"}}}
	c.Spec.Sidecars = []clusterfile.Sidecar{{Name: "shipper", Image: "fluent/fluent-bit:3.2.2",
		VolumeMounts: []clusterfile.VolumeMount{{Name: "logs", MountPath: "/logs", ReadOnly: true}}}}
	return c
}

// TestEscapeHatchesKeepSafety renders every escape hatch and checks that
// each lands where it should and none weakens what neo4jctl relies on: the
// sidecar runs under the Neo4j container's security context, the probes
// and managed env are unchanged, neo4jctl's annotation is still set, and
// the volumes and mount paths the validator reserves are exactly the ones
// rendered.
func TestEscapeHatchesKeepSafety(t *testing.T) {
	c := withHatches()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	objs := render(t, c)
	plain := render(t, func() *clusterfile.Cluster {
		c := withHatches()
		c.Spec.Pod, c.Spec.ServiceAccount, c.Spec.ExtraEnv, c.Spec.ExtraVolumes, c.Spec.Sidecars = nil, nil, nil, nil, nil
		return c
	}())
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" && o.GetAnnotations()["eks.amazonaws.com/role-arn"] == "" {
			t.Errorf("ServiceAccount annotations: got %v", o.GetAnnotations())
		}
	}
	sts := statefulSet(t, objs, "g")
	pod, _, _ := unstructured.NestedMap(sts, "spec", "template")
	ann, _, _ := unstructured.NestedStringMap(pod, "metadata", "annotations")
	labels, _, _ := unstructured.NestedStringMap(pod, "metadata", "labels")
	if ann["example.com/owner"] != "graph-team" || ann[manifests.AnnotationConfigHash] == "" || labels["team"] != "graph" {
		t.Errorf("Pod metadata: annotations %v, labels %v", ann, labels)
	}
	ctrs, _, _ := unstructured.NestedSlice(pod, "spec", "containers")
	if len(ctrs) != 2 {
		t.Fatalf("containers: got %d, want neo4j and the sidecar", len(ctrs))
	}
	neo, side := ctrs[0].(map[string]any), ctrs[1].(map[string]any)
	if diff := cmp.Diff(neo["securityContext"], side["securityContext"]); diff != "" || side["securityContext"] == nil {
		t.Errorf("sidecar security context differs from neo4j's (-neo4j +sidecar):\n%s", diff)
	}
	plainNeo := container(t, statefulSet(t, plain, "g"))
	for _, f := range []string{"startupProbe", "livenessProbe", "readinessProbe", "securityContext", "ports", "resources"} {
		if diff := cmp.Diff(plainNeo[f], neo[f]); diff != "" {
			t.Errorf("escape hatches changed the neo4j container's %s (-without +with):\n%s", f, diff)
		}
	}
	plainEnv, _ := plainNeo["env"].([]any)
	gotEnv, _ := neo["env"].([]any)
	if len(gotEnv) != len(plainEnv)+1 || gotEnv[len(gotEnv)-1].(map[string]any)["name"] != "NEO4J_dbms_security_ldap_authorization_system__password" {
		t.Errorf("env: want neo4jctl's variables, then the extra one: got %v", gotEnv)
	} else if diff := cmp.Diff(plainEnv, gotEnv[:len(plainEnv)]); diff != "" {
		t.Errorf("managed env changed (-without +with):\n%s", diff)
	}

	// The validator's reserved lists match what is rendered.
	vols, _, _ := unstructured.NestedSlice(pod, "spec", "volumes")
	claims, _, _ := unstructured.NestedSlice(sts, "spec", "volumeClaimTemplates")
	for _, v := range append(vols, claims...) {
		m := v.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			name, _, _ = unstructured.NestedString(m, "metadata", "name")
		}
		if name != "import" && !slices.Contains(clusterfile.ReservedVolumeNames, name) {
			t.Errorf("volume %q is rendered but not in clusterfile.ReservedVolumeNames", name)
		}
	}
	mounts, _ := neo["volumeMounts"].([]any)
	for _, mt := range mounts {
		p := mt.(map[string]any)["mountPath"].(string)
		covered := p == "/var/lib/neo4j/import"
		for _, r := range clusterfile.ReservedMountPaths {
			covered = covered || p == r || strings.HasPrefix(p, r+"/")
		}
		if !covered {
			t.Errorf("mount %s is rendered but not covered by clusterfile.ReservedMountPaths", p)
		}
	}
}
