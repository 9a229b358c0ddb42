package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Paths inside the server container.
const (
	neo4jHome       = "/var/lib/neo4j"
	dataDir         = "/data"
	logsDir         = "/logs"
	pluginsDir      = "/plugins"
	runDir          = neo4jHome + "/run"
	confDir         = neo4jHome + "/conf"
	certificatesDir = neo4jHome + "/certificates"
	// configMountDir is where the ConfigMap is mounted. It is deliberately
	// not /conf: the image entrypoint empties $NEO4J_HOME/conf and copies
	// /conf into it, which would drop the image's server-logs.xml and
	// user-logs.xml.
	configMountDir = "/config"
	confFileName   = "neo4j.conf"
	// dynamicConfFileName holds the dynamic settings, from their own
	// ConfigMap (see splitConf); the init container appends it to
	// neo4j.conf after the restart settings.
	dynamicConfFileName = "dynamic.conf"
)

// Two ConfigMaps carry neo4j.conf, split by what a change needs
// (Operations Manual 5.26, configuration/dynamic-settings.adoc):
//
//   - the restart settings, in an immutable ConfigMap named after the hash
//     of its content (RestartConfigMapName). The Pod template names it, so
//     a change is a new ConfigMap and a new template: the StatefulSet rolls
//     one server at a time through the roll gate, and a Pod that restarts
//     mid-roll (eviction, crash) still mounts the revision its template
//     names, never the next one early. An old revision is deleted after
//     the rolling restart, when no Pod mounts it any more.
//   - the dynamic settings, in one unhashed ConfigMap
//     (DynamicConfigMapName): changing it changes no template and rolls
//     nothing. plan changes the running servers with CALL
//     dbms.setConfigValue on each of them (the procedure affects only the
//     member it runs on); the ConfigMap is what a server reads when it
//     next starts, so the change outlives restarts.

// RestartConfigMapName returns the ConfigMap of the restart settings whose
// neo4j.conf hashes to confHash.
func RestartConfigMapName(c *clusterfile.Cluster, confHash string) string {
	return ConfigMapPrefix(c) + confHash[:min(len(confHash), 10)]
}

// ConfigMapPrefix starts the name of every restart-settings ConfigMap of
// the cluster, current and earlier revisions.
func ConfigMapPrefix(c *clusterfile.Cluster) string { return c.Metadata.Name + "-config-" }

// DynamicConfigMapName returns the ConfigMap of the dynamic settings.
func DynamicConfigMapName(c *clusterfile.Cluster) string {
	return c.Metadata.Name + "-config-dynamic"
}

// splitConf splits the settings of neo4j.conf into those a running server
// can take with dbms.setConfigValue and those that need a restart.
// initial.* settings go with the restart ones: they are read when the DBMS
// or a server is first created, and plan never rolls a running cluster for
// them (clusterfile.InitialSetting).
func splitConf(c *clusterfile.Cluster, conf map[string]string) (restart, dynamic map[string]string) {
	restart, dynamic = map[string]string{}, map[string]string{}
	for k, v := range conf {
		if clusterfile.DynamicSetting(c, k) {
			dynamic[k] = v
		} else {
			restart[k] = v
		}
	}
	return restart, dynamic
}

// neo4jConf returns the settings of neo4j.conf shared by every pool.
// Settings that differ per pool or per Pod (advertised addresses, system
// database mode, mode constraint) are environment variables of the
// StatefulSet instead, so one ConfigMap serves all pools.
func neo4jConf(c *clusterfile.Cluster, namespace string) map[string]string {
	// defaults may be overridden by spec.config.
	defaults := map[string]string{
		"server.memory.pagecache.size": clusterfile.DefaultPageCache,
	}
	// required are what the rendered objects depend on; spec.config cannot
	// override them (Validate is expected to refuse such keys with a
	// message; here they silently win so the objects stay consistent).
	required := map[string]string{
		"server.default_listen_address": "0.0.0.0",
		"server.directories.data":       dataDir,
		"server.directories.logs":       logsDir,
		"server.directories.plugins":    pluginsDir,
		// The image default is /run, on the read-only root filesystem.
		"server.directories.run": runDir,
		// Unknown or misspelt settings stop the server instead of being
		// ignored, so a typo in spec.config fails loudly.
		"server.config.strict_validation.enabled": "true",
		"server.bolt.enabled":                     "true",
		"server.http.enabled":                     "true",
	}
	if isEnterprise(c) {
		main := Pools(c)[0]
		sysPrimaries := systemPrimaries(c)
		maps.Copy(required, map[string]string{
			// Kubernetes discovery: every server lists the Services
			// matching the selector (only the headless one) and contacts
			// the port named below. With discovery v2 that is the cluster
			// port, not the v1 discovery port 5000.
			"dbms.cluster.discovery.resolver_type": "K8S",
			"dbms.kubernetes.label_selector":       fmt.Sprintf("%s=%s,%s=%s", LabelCluster, c.Metadata.Name, LabelService, serviceRoleHeadless),
			"dbms.kubernetes.cluster_domain":       ClusterDomain,
			// Servers wait for this many system primaries before
			// bootstrapping the system database, so a cluster never
			// forms with fewer than declared (deploy.adoc § Configure a
			// cluster: "at least this many of the cluster's initial
			// machines must have server.cluster.system_database_mode set
			// to PRIMARY" — the first systemPrimaries Pods, see
			// systemModeScript).
			"dbms.cluster.minimum_initial_system_primaries_count": strconv.Itoa(int(sysPrimaries)),
			"initial.dbms.default_primaries_count":                strconv.Itoa(int(min(main.Servers, 3))),
			// neo4jctl enables new servers itself, with the pool's options,
			// once it has seen them Free (see ARCHITECTURE.md, scale-out).
			"initial.dbms.automatically_enable_free_servers": "false",
			// Remote backup needs the port on all interfaces (the default
			// is 127.0.0.1); the NetworkPolicy restricts who reaches it.
			"server.backup.enabled":              "true",
			"server.backup.listen_address":       fmt.Sprintf("0.0.0.0:%d", PortBackup),
			"server.cluster.listen_address":      fmt.Sprintf("0.0.0.0:%d", PortCluster),
			"server.cluster.raft.listen_address": fmt.Sprintf("0.0.0.0:%d", PortRaft),
			"server.routing.listen_address":      fmt.Sprintf("0.0.0.0:%d", PortRouting),
			// CSV metrics are on by default and write to
			// $NEO4J_HOME/metrics, on the read-only root filesystem.
			"server.metrics.csv.enabled": "false",
		})
		if isCalVer(c.Spec.Version) {
			required["dbms.kubernetes.discovery.service_port_name"] = PortNameCluster
		} else {
			// 5.26 still starts discovery v1 unless told otherwise; 2025.x
			// only has v2, so V2_ONLY now makes that upgrade a no-op.
			required["dbms.cluster.discovery.version"] = "V2_ONLY"
			required["dbms.kubernetes.discovery.v2.service_port_name"] = PortNameCluster
			required["server.discovery.listen_address"] = fmt.Sprintf("0.0.0.0:%d", PortDiscovery)
		}
		if m := c.Spec.Monitoring.Metrics; m.Enabled {
			required["server.metrics.enabled"] = "true"
			required["server.metrics.prometheus.enabled"] = "true"
			required["server.metrics.prometheus.endpoint"] = fmt.Sprintf("0.0.0.0:%d", metricsPort(c))
		}
	}
	maps.Copy(required, tlsConf(c))
	if TLSReloadable(c) {
		// A renewed certificate is then picked up with CALL
		// dbms.security.reloadTLS() on each server instead of a restart
		// (security/ssl-framework.adoc § Certificates rotation, label
		// new-2025.03). The setting needs a restart itself, so it is on
		// from the first render that has TLS on such a version ("It is
		// best to do this when the cluster is deployed").
		required[SettingTLSReload] = "true"
	}
	if procs := unrestrictedProcedures(c.Spec.Plugins); procs != "" {
		required["dbms.security.procedures.unrestricted"] = procs
	}

	conf := make(map[string]string, len(defaults)+len(c.Spec.Config)+len(required))
	maps.Copy(conf, defaults)
	maps.Copy(conf, c.Spec.Config)
	maps.Copy(conf, required)
	return conf
}

// tlsConf returns the SSL policy settings of the enabled scopes. Each scope
// reads the same certificate, mounted at certificates/<scope>.
func tlsConf(c *clusterfile.Cluster) map[string]string {
	conf := map[string]string{}
	for _, scope := range tlsScopes(c) {
		p := "dbms.ssl.policy." + scope + "."
		conf[p+"enabled"] = "true"
		conf[p+"base_directory"] = certificatesDir + "/" + scope
		conf[p+"private_key"] = "private.key"
		conf[p+"public_certificate"] = "public.crt"
		conf[p+"trusted_dir"] = "trusted"
		switch scope {
		case "bolt":
			// Drivers rarely present client certificates.
			conf[p+"client_auth"] = "NONE"
			conf["server.bolt.tls_level"] = "REQUIRED"
		case "https":
			conf[p+"client_auth"] = "NONE"
			conf["server.https.enabled"] = "true"
			conf["server.https.listen_address"] = fmt.Sprintf("0.0.0.0:%d", PortHTTPS)
			// Least exposure: with HTTPS on, plain HTTP (7474) is off, as
			// Operations Manual security/ssl-framework.adoc § Configure
			// SSL over HTTPS does (server.http.enabled=false). Nothing
			// neo4jctl renders depends on 7474: the probes are TCP on Bolt.
			conf["server.http.enabled"] = "false"
		default:
			// cluster and backup: both ends hold the cluster's
			// certificate, so mutual TLS keeps strangers off ports that
			// can copy the store.
			conf[p+"client_auth"] = "REQUIRE"
		}
	}
	return conf
}

// SettingTLSReload lets a server reload its certificates and SSL
// policies with CALL dbms.security.reloadTLS() (2025.03+, Enterprise;
// default false).
const SettingTLSReload = "dbms.security.tls_reload_enabled"

// TLSReloadable reports whether the cluster's servers can reload renewed
// certificates without a restart: Enterprise (dbms.security.reloadTLS()
// is Enterprise only, procedures/built-in-procedures.adoc) on 2025.03 or
// later, with TLS on.
func TLSReloadable(c *clusterfile.Cluster) bool {
	if !isEnterprise(c) || len(tlsScopes(c)) == 0 {
		return false
	}
	return versionAtLeast(c.Spec.Version, 2025, 3)
}

// versionAtLeast compares the YEAR.MONTH (or MAJOR.MINOR) of a Neo4j
// version with major.minor.
func versionAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// AnnotationTLSCertificate carries a fingerprint of the TLS Secret's
// certificate (TLSFingerprint), stamped on the rendered StatefulSets at
// plan time by StampTLS, in two places:
//
//   - on the StatefulSet's own metadata, always: the recorded baseline.
//     Changing it changes no Pod; where the servers can reload
//     certificates (2025.03+ Enterprise, TLSReloadable) a change of it
//     is what plans a reload-tls step per server (plan/tlsreload.go);
//   - on the Pod template, where the servers cannot reload: a renewed
//     certificate then changes the template and the servers restart in
//     the gated roll every template change gets (the kubelet rewrites the
//     mounted files, but before 2025.03 a server reads them only at start:
//     "Previous versions of Neo4j required a database restart for changes
//     to be applied", security/ssl-framework.adoc § Certificates rotation).
//
// The first stamp must not restart anything (see StampTLS).
const AnnotationTLSCertificate = "neo4jctl.io/tls-certificate"

// TLSFingerprint is the fingerprint StampTLS records: a hash of the
// Secret's certificate and CA, never of its private key (which changes
// with the certificate anyway, and must never be read for this).
func TLSFingerprint(data map[string][]byte) string {
	h := sha256.New()
	for _, k := range TLSFingerprintKeys {
		h.Write([]byte(k + "\x00"))
		h.Write(data[k])
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// TLSFingerprintKeys are the keys of the TLS Secret TLSFingerprint reads:
// the certificate and the CA; the private key is left alone.
var TLSFingerprintKeys = []string{corev1.TLSCertKey, "ca.crt"}

// TLSStamped reports whether c's StatefulSets carry the certificate stamp:
// TLS is on with at least one scope (the certificate is mounted).
func TLSStamped(c *clusterfile.Cluster) bool {
	return TLSSecretName(c) != "" && len(tlsScopes(c)) > 0
}

// TLSStampLive is the certificate stamp a live StatefulSet carries.
type TLSStampLive struct {
	// Exists is false when the StatefulSet does not exist yet: it is
	// created with the stamp, and no Pod runs that it could restart.
	Exists bool
	// Recorded is the fingerprint on the StatefulSet's metadata (the
	// baseline), "" when none was recorded (a binary that did not stamp).
	Recorded string
	// Template is the fingerprint on its Pod template, "" when none.
	Template string
}

// TLSStampOf reads the stamp of a live StatefulSet (nil: it does not exist).
func TLSStampOf(live map[string]any) TLSStampLive {
	if live == nil {
		return TLSStampLive{}
	}
	meta, _, _ := unstructured.NestedStringMap(live, "metadata", "annotations")
	tmpl, _, _ := unstructured.NestedStringMap(live, "spec", "template", "metadata", "annotations")
	return TLSStampLive{Exists: true, Recorded: meta[AnnotationTLSCertificate], Template: tmpl[AnnotationTLSCertificate]}
}

// StampTLS stamps the certificate fingerprint on c's rendered StatefulSets
// (see AnnotationTLSCertificate), given what each carries live. The rule
// makes only a change of certificate restart or reload servers, never the
// first stamp:
//
//   - fingerprint "" (the Secret could not be read, or does not exist
//     yet): the live stamp is kept as it is, so nothing moves either way;
//   - a StatefulSet that does not exist yet gets the full stamp: it has
//     no Pod to restart;
//   - the baseline is always recorded on the StatefulSet's metadata,
//     which restarts nothing;
//   - where the servers cannot reload, the Pod template carries the
//     fingerprint only once it did, or once the certificate differs from
//     a recorded baseline: a live StatefulSet with no stamp (created by a
//     neo4jctl that did not stamp) gets its baseline recorded and no
//     roll; a renewal after that rolls the servers once; where they can
//     reload, the template carries none (a reload needs no restart).
//
// Objects already stamped are stamped again from scratch, so a target can
// be re-stamped as the Secret or the live object moves.
func StampTLS(c *clusterfile.Cluster, objs []*unstructured.Unstructured, fingerprint string, live func(statefulSet string) TLSStampLive) {
	stamped := TLSStamped(c)
	for _, o := range objs {
		if o.GetKind() != "StatefulSet" || o.GetLabels()[LabelCluster] != c.Metadata.Name {
			continue
		}
		metaPath := []string{"metadata", "annotations"}
		tmplPath := []string{"spec", "template", "metadata", "annotations"}
		setAnnotation(o, metaPath, "")
		setAnnotation(o, tmplPath, "")
		if !stamped {
			continue
		}
		l := TLSStampLive{}
		if live != nil {
			l = live(o.GetName())
		}
		if fingerprint == "" {
			setAnnotation(o, metaPath, l.Recorded)
			setAnnotation(o, tmplPath, l.Template)
			continue
		}
		setAnnotation(o, metaPath, fingerprint)
		if TLSReloadable(c) {
			continue
		}
		if !l.Exists || l.Template != "" || l.Recorded != "" && l.Recorded != fingerprint {
			setAnnotation(o, tmplPath, fingerprint)
		}
	}
}

// setAnnotation sets AnnotationTLSCertificate in the annotations at path
// to v, or removes it for "" (and the annotations with it when it was the
// only one, so an unstamped object renders as before).
func setAnnotation(o *unstructured.Unstructured, path []string, v string) {
	ann, _, _ := unstructured.NestedStringMap(o.Object, path...)
	if v == "" {
		if _, ok := ann[AnnotationTLSCertificate]; !ok {
			return
		}
		delete(ann, AnnotationTLSCertificate)
		if len(ann) == 0 {
			unstructured.RemoveNestedField(o.Object, path...)
			return
		}
	} else {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationTLSCertificate] = v
	}
	_ = unstructured.SetNestedStringMap(o.Object, ann, path...)
}

// tlsScopes returns the enabled SSL policy scopes, sorted; bolt and https
// when TLS is on and the file names none. Community has no cluster or
// backup traffic, so those scopes are dropped there.
func tlsScopes(c *clusterfile.Cluster) []string {
	if c.Spec.TLS == nil {
		return nil
	}
	scopes := c.Spec.TLS.Scopes
	if len(scopes) == 0 {
		scopes = []string{"bolt", "https"}
	}
	var out []string
	for _, s := range scopes {
		if !isEnterprise(c) && (s == "cluster" || s == "backup") {
			continue
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pluginProcedures are the procedure namespaces each plugin needs
// unrestricted access for (they use internal APIs).
var pluginProcedures = map[string]string{
	"apoc":               "apoc.*",
	"apoc-extended":      "apoc.*",
	"graph-data-science": "gds.*",
	"bloom":              "bloom.*",
	"genai":              "genai.*",
	"n10s":               "n10s.*",
}

// unrestrictedProcedures returns dbms.security.procedures.unrestricted for
// the plugins. Setting it here, rather than letting the entrypoint append
// each plugin's default, keeps the rendered neo4j.conf the whole truth.
func unrestrictedProcedures(plugins []string) string {
	var procs []string
	for _, p := range plugins {
		if v, ok := pluginProcedures[p]; ok {
			procs = append(procs, v)
		}
	}
	slices.Sort(procs)
	return strings.Join(slices.Compact(procs), ",")
}

func tlsScope(c *clusterfile.Cluster, scope string) bool {
	return slices.Contains(tlsScopes(c), scope)
}

func metricsPort(c *clusterfile.Cluster) int32 {
	if p := c.Spec.Monitoring.Metrics.Port; p > 0 {
		return p
	}
	return DefaultMetricsPort
}

func metricsEnabled(c *clusterfile.Cluster) bool {
	// Prometheus metrics are an Enterprise feature.
	return isEnterprise(c) && c.Spec.Monitoring.Metrics.Enabled
}

// renderConf formats settings as neo4j.conf, one key=value a line, sorted
// so that the same settings always hash the same. The image entrypoint
// matches "^key=" when it decides whether to add its own defaults, so there
// is no space around "=".
func renderConf(conf map[string]string) string {
	var b strings.Builder
	b.WriteString("# Rendered by neo4jctl from the cluster file; edits here are overwritten.\n")
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		// A multi-line value (server.jvm.additional) is the key repeated,
		// one value a line, as neo4j.conf spells it.
		for _, v := range strings.Split(conf[k], "\n") {
			if v = strings.TrimSpace(v); v != "" || !strings.Contains(conf[k], "\n") {
				fmt.Fprintf(&b, "%s=%s\n", k, v)
			}
		}
	}
	return b.String()
}

func hashConf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// systemPrimaries is how many servers host the system database as
// primaries: the first systemPrimaries servers of the main pool (ordinals
// 0 to N-1). A file that did not say (or an unvalidated one asking for
// more than the pool holds) gets min(servers, 3), the manual's "start with
// three system primaries" (clustering/introduction.adoc § Primaries and
// secondaries for the system database).
func systemPrimaries(c *clusterfile.Cluster) int32 {
	main := Pools(c)[0]
	n := c.Spec.SystemPrimaries
	if n <= 0 || n > main.Servers {
		n = min(main.Servers, 3)
	}
	return n
}
