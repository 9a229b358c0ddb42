package clusterfile

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Limits neo4jctl enforces. Names are bounded so that the suffixes added
// to them stay within Kubernetes' 63-character label values: a Pod's
// controller-revision-hash label is "<statefulset>-<10 chars>", so a
// StatefulSet name has 52 characters, and a pool's StatefulSet is
// "<cluster>-<pool>".
const (
	MaxClusterNameLength     = 40
	maxStatefulSetNameLength = 52
	// MaxPrimaries is Neo4j's upper bound for a database's primaries
	// (status 51N52); MaxSecondaries its bound for secondaries (51N53).
	MaxPrimaries   = 11
	MaxSecondaries = 20
)

// Plugins neo4jctl can install, by their NEO4J_PLUGINS names.
var Plugins = []string{"apoc", "apoc-extended", "bloom", "genai", "graph-data-science", "n10s"}

// TLSScopes are the Neo4j SSL policies TLS can enable.
var TLSScopes = []string{"bolt", "https", "cluster", "backup"}

// neo4jPorts are the ports a Neo4j server already listens on; the metrics
// endpoint cannot share one.
var neo4jPorts = map[int32]string{
	5000: "discovery", 6000: "cluster", 6362: "backup", 7000: "raft",
	7473: "HTTPS", 7474: "HTTP", 7687: "Bolt", 7688: "routing",
}

// Validate checks a (defaulted) Cluster and returns every problem as a
// *ErrorList, or nil. Positions come from c.Source when the Cluster was
// loaded from a file. Load runs it; call it yourself only on a Cluster
// built or changed in code.
func (c *Cluster) Validate() error {
	list := &ErrorList{Errors: c.validate()}
	return list.orNil()
}

// validate returns the problems with their positions filled in.
func (c *Cluster) validate() []*FieldError {
	v := &validator{c: c}
	v.typeMeta()
	v.metadata()
	v.spec()
	c.locate(v.errs)
	return v.errs
}

type validator struct {
	c    *Cluster
	errs []*FieldError
}

func (v *validator) add(path, problem, fix string) {
	v.errs = append(v.errs, &FieldError{Path: path, Problem: problem, Fix: fix})
}

func (v *validator) required(path, value, fix string) bool {
	if value == "" {
		v.add(path, "required", fix)
		return false
	}
	return true
}

// oneOf checks an enumerated value; empty values are left to required.
func (v *validator) oneOf(path, value string, allowed ...string) {
	if value != "" && !slices.Contains(allowed, value) {
		v.add(path, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), value), closest(value, allowed))
	}
}

// closest suggests the allowed value a wrong one was probably meant to
// be, e.g. a case slip ("Enterprise").
func closest(value string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, value) {
			return fmt.Sprintf("write %q", a)
		}
	}
	for _, a := range allowed {
		if levenshtein(strings.ToLower(value), strings.ToLower(a)) <= maxTypos(a) {
			return fmt.Sprintf("did you mean %q?", a)
		}
	}
	return ""
}

func (v *validator) typeMeta() {
	c := v.c
	switch {
	case c.APIVersion == "":
		v.add("apiVersion", "required", "start the file with apiVersion: "+APIVersion)
	case c.APIVersion != APIVersion:
		v.add("apiVersion", fmt.Sprintf("unsupported version %q", c.APIVersion), "this neo4jctl reads "+APIVersion)
	}
	switch {
	case c.Kind == "":
		v.add("kind", "required", "add kind: "+Kind)
	case c.Kind != Kind:
		v.add("kind", fmt.Sprintf("must be %s, got %q", Kind, c.Kind), "")
	}
}

func (v *validator) metadata() {
	m := v.c.Metadata
	if v.required("metadata.name", m.Name, "name the cluster, e.g. name: graph") {
		// The client Service is named after the cluster, and Service names
		// are DNS-1035 labels: they must start with a letter.
		fix := fmt.Sprintf("lower-case letters, digits and '-', starting with a letter, at most %d characters to leave room for the suffixes neo4jctl adds", MaxClusterNameLength)
		if len(m.Name) > MaxClusterNameLength {
			v.add("metadata.name", fmt.Sprintf("must be at most %d characters, got %d", MaxClusterNameLength, len(m.Name)), fix)
		} else if errs := validation.IsDNS1035Label(m.Name); len(errs) > 0 {
			v.add("metadata.name", fmt.Sprintf("%q is not a valid name", m.Name), fix)
		}
	}
	if m.Namespace != "" {
		v.dnsLabel("metadata.namespace", m.Namespace, validation.DNS1123LabelMaxLength, "a namespace name: lower-case letters, digits and '-'")
	}
	v.labels("metadata.labels", m.Labels, true)
	v.annotationKeys("metadata.annotations", m.Annotations)
}

func (v *validator) dnsLabel(path, value string, maxLen int, fix string) {
	if len(value) > maxLen {
		v.add(path, fmt.Sprintf("must be at most %d characters, got %d", maxLen, len(value)), fix)
		return
	}
	if errs := validation.IsDNS1123Label(value); len(errs) > 0 {
		v.add(path, fmt.Sprintf("%q is not a valid DNS-1123 label", value), fix)
	}
}

func (v *validator) dnsSubdomain(path, value, what string) {
	if errs := validation.IsDNS1123Subdomain(value); len(errs) > 0 {
		v.add(path, fmt.Sprintf("%q is not a valid %s name", value, what), "lower-case letters, digits, '-' and '.'")
	}
}

func (v *validator) labels(path string, labels map[string]string, reserved bool) {
	for _, k := range sortedKeys(labels) {
		p := path + "[" + k + "]"
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			v.add(p, fmt.Sprintf("%q is not a valid label key: %s", k, errs[0]), "")
			continue
		}
		if reserved && (strings.HasPrefix(k, "neo4jctl.io/") || strings.HasPrefix(k, "app.kubernetes.io/")) {
			v.add(p, fmt.Sprintf("label %q is reserved", k), "neo4jctl sets it to find the objects it owns; remove it")
			continue
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			v.add(p, fmt.Sprintf("%q is not a valid label value: %s", labels[k], errs[0]), "")
		}
	}
}

func (v *validator) annotationKeys(path string, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		if errs := validation.IsQualifiedName(strings.ToLower(k)); len(errs) > 0 {
			v.add(path+"["+k+"]", fmt.Sprintf("%q is not a valid annotation key: %s", k, errs[0]), "")
		}
	}
}

func (v *validator) spec() {
	s := &v.c.Spec
	enterprise := s.Edition == EditionEnterprise
	community := s.Edition == EditionCommunity
	switch {
	case s.Edition == "":
		v.add("spec.edition", "required", "set edition: enterprise (clusters) or community (one standalone server)")
	case !enterprise && !community:
		v.oneOf("spec.edition", string(s.Edition), string(EditionEnterprise), string(EditionCommunity))
	}

	v.version(s.Version)
	v.image("spec.image", s.Image)
	v.oneOf("spec.imagePullPolicy", s.ImagePullPolicy, "Always", "IfNotPresent", "Never")
	for i, name := range s.ImagePullSecrets {
		v.dnsSubdomain(fmt.Sprintf("spec.imagePullSecrets[%d]", i), name, "Secret")
	}

	if enterprise {
		switch s.AcceptLicenseAgreement {
		case "yes", "eval":
		case "":
			v.add("spec.acceptLicenseAgreement", "required for Neo4j Enterprise, which does not start until its licence is accepted, and neo4jctl will not accept it on your behalf",
				`set acceptLicenseAgreement: "yes" if you hold a commercial licence, or "eval" to evaluate`)
		default:
			v.add("spec.acceptLicenseAgreement", fmt.Sprintf(`must be "yes" or "eval", got %q`, s.AcceptLicenseAgreement),
				`"yes" states that you hold a commercial licence, "eval" that you are evaluating`)
		}
	}

	v.servers(s, enterprise, community)
	v.layout(s)
	v.resources("spec.resources", &s.Resources)
	v.storage(&s.Storage)
	v.auth(&s.Auth)
	v.tls(s.TLS)
	v.config(s.Config, s.Version)
	v.memory(s)
	v.plugins(s.Plugins)
	v.databases(s, community)
	v.scheduling(&s.Scheduling)
	v.security(&s.Security)
	v.monitoring(&s.Monitoring, community)
	v.probes(s.Probes)
	v.upgrade(s.Upgrade)
	v.oneOf("spec.services.client.type", s.Services.Client.Type, "ClusterIP", "NodePort", "LoadBalancer")
	v.annotationKeys("spec.services.client.annotations", s.Services.Client.Annotations)
	v.hatches(s)
	v.ignore(s.Ignore)
	v.policies("spec.policies", s.Policies)
	v.backups(s.Backups, community)
}

// ignore checks spec.ignore: every rule names what it applies to and what
// it ignores, so a rule can never silently ignore a whole object.
func (v *validator) ignore(rules []IgnoreRule) {
	for i, r := range rules {
		p := fmt.Sprintf("spec.ignore[%d]", i)
		if r.Address == "" {
			v.add(p+".address", "required", "name an address such as k8s:apps/StatefulSet/<namespace>/<name>, or a glob like k8s:*/*/*/*")
		} else if !strings.HasPrefix(r.Address, "k8s:") && !strings.HasPrefix(r.Address, "neo4j:") && r.Address != "*" {
			v.add(p+".address", fmt.Sprintf("%q is not an address", r.Address), "addresses start with k8s: or neo4j:, e.g. k8s:apps/StatefulSet/graph/prod")
		}
		if len(r.JSONPointers) == 0 && len(r.ManagedFieldsManagers) == 0 {
			v.add(p, "ignores nothing", "add jsonPointers (e.g. /spec/replicas) or managedFieldsManagers (e.g. kube-controller-manager)")
		}
		for j, ptr := range r.JSONPointers {
			if !strings.HasPrefix(ptr, "/") {
				v.add(fmt.Sprintf("%s.jsonPointers[%d]", p, j), fmt.Sprintf("%q is not a JSON pointer", ptr), "JSON pointers start with /, e.g. /spec/replicas")
			}
		}
		for j, m := range r.ManagedFieldsManagers {
			if m == "" {
				v.add(fmt.Sprintf("%s.managedFieldsManagers[%d]", p, j), "empty manager name", "name a field manager as managedFields shows it, e.g. kubectl-edit")
			}
		}
	}
}

var (
	ltsVersion      = newLazyRegexp(`^5\.26\.\d+$`)
	calendarVersion = newLazyRegexp(`^(\d{4})\.(\d{2})\.\d+$`)
	oldVersion      = newLazyRegexp(`^[1-4](\.\d+){1,2}$`)
	v5Version       = newLazyRegexp(`^5\.\d+(\.\d+)?$`)
	editionSuffix   = newLazyRegexp(`^(.*)-(enterprise|community)$`)
)

// supportedVersions says, in one phrase, which versions neo4jctl supports.
const supportedVersions = "use 5.26.x (LTS) or a 2025.x/2026.x calendar version, e.g. 5.26.0 or 2025.10.1"

func (v *validator) version(version string) {
	const path = "spec.version"
	if version == "" {
		v.add(path, "required", supportedVersions)
		return
	}
	if m := editionSuffix.FindStringSubmatch(version); m != nil {
		v.add(path, fmt.Sprintf("%q includes the edition", version), fmt.Sprintf("write version: %q and edition: %s", m[1], m[2]))
		return
	}
	switch {
	case ltsVersion.MatchString(version):
		return
	case calendarVersion.MatchString(version):
		m := calendarVersion.FindStringSubmatch(version)
		if m[1] != "2025" && m[1] != "2026" {
			v.add(path, fmt.Sprintf("Neo4j %s is not supported", version), supportedVersions)
			return
		}
		if m[2] < "01" || m[2] > "12" {
			v.add(path, fmt.Sprintf("%q is not a Neo4j calendar version (YYYY.MM.patch)", version), supportedVersions)
		}
		return
	case oldVersion.MatchString(version):
		v.add(path, fmt.Sprintf("Neo4j %s is not supported: neo4jctl manages 5.x-style clusters (servers and database allocations), which 4.x and older do not have", version),
			"upgrade to 5.26 LTS first; "+supportedVersions)
	case v5Version.MatchString(version):
		v.add(path, fmt.Sprintf("Neo4j %s is not supported: of the 5.x line only 5.26 LTS is", version), supportedVersions)
	default:
		v.add(path, fmt.Sprintf("%q is not a Neo4j version", version), supportedVersions)
	}
}

func (v *validator) servers(s *Spec, enterprise, community bool) {
	switch {
	case community:
		if s.Servers != 1 {
			v.add("spec.servers", fmt.Sprintf("Neo4j Community runs one standalone server, got %d", s.Servers),
				"set servers: 1, or use edition: enterprise for a cluster")
		}
		if len(s.ServerPools) > 0 {
			v.add("spec.serverPools", "server pools need Neo4j Enterprise clustering", "remove serverPools, or use edition: enterprise")
		}
		if s.SystemPrimaries != 0 {
			v.add("spec.systemPrimaries", "system primaries need Neo4j Enterprise clustering", "remove systemPrimaries")
		}
		if s.ModeConstraint != "" || len(s.Tags) > 0 {
			p := "spec.modeConstraint"
			if s.ModeConstraint == "" {
				p = "spec.tags"
			}
			v.add(p, "server options (modeConstraint, tags) need Neo4j Enterprise clustering", "remove them")
		}
		return
	case !enterprise:
		return // the edition is already reported
	}

	switch {
	case s.Servers < 0:
		v.add("spec.servers", fmt.Sprintf("must be at least 1, got %d", s.Servers), "")
	case s.Servers == 0:
		v.add("spec.servers", "required", "a cluster needs 3 or more servers: set servers: 3")
	case s.Servers < 3 && !s.AllowSmallCluster:
		v.add("spec.servers", fmt.Sprintf("must be at least 3 for a cluster, got %d", s.Servers),
			"3 servers tolerate one failure; set allowSmallCluster: true to run fewer anyway")
	}

	if s.Servers > 0 {
		upper := min(s.Servers, MaxPrimaries)
		switch {
		case s.SystemPrimaries < 1:
			v.add("spec.systemPrimaries", fmt.Sprintf("must be at least 1, got %d", s.SystemPrimaries), "")
		case s.SystemPrimaries > s.Servers:
			v.add("spec.systemPrimaries", fmt.Sprintf("must be at most servers (%d), got %d", s.Servers, s.SystemPrimaries),
				"the system primaries are the first servers of the main pool")
		case s.SystemPrimaries > upper:
			v.add("spec.systemPrimaries", fmt.Sprintf("must be at most %d, got %d", MaxPrimaries, s.SystemPrimaries), "")
		}
	}
	v.oneOf("spec.modeConstraint", s.ModeConstraint, "NONE", "PRIMARY", "SECONDARY")

	seen := map[string]int{}
	for i, pool := range s.ServerPools {
		p := fmt.Sprintf("spec.serverPools[%d]", i)
		if v.required(p+".name", pool.Name, "name the pool, e.g. name: secondaries") {
			v.dnsLabel(p+".name", pool.Name, validation.DNS1123LabelMaxLength, "lower-case letters, digits and '-'")
			if n := len(v.c.Metadata.Name) + 1 + len(pool.Name); v.c.Metadata.Name != "" && n > maxStatefulSetNameLength {
				v.add(p+".name", fmt.Sprintf("makes the StatefulSet name %q %d characters long, more than %d", v.c.Metadata.Name+"-"+pool.Name, n, maxStatefulSetNameLength),
					"shorten the pool or the cluster name")
			}
			if first, dup := seen[pool.Name]; dup {
				v.add(p+".name", fmt.Sprintf("duplicate pool name %q (also spec.serverPools[%d])", pool.Name, first), "give each pool its own name")
			} else {
				seen[pool.Name] = i
			}
		}
		if pool.Servers < 1 {
			v.add(p+".servers", fmt.Sprintf("must be at least 1, got %d", pool.Servers), "remove the pool instead of emptying it")
		}
		v.oneOf(p+".modeConstraint", pool.ModeConstraint, "NONE", "PRIMARY", "SECONDARY")
		if pool.Resources != nil {
			v.resources(p+".resources", pool.Resources)
		}
		v.poolDatabases(p, pool)
	}
}

func (v *validator) resources(path string, r *Resources) {
	v.container(path+".neo4j", r.Neo4j)
	v.container(path+".init", r.Init)
}

func (v *validator) container(path string, r ContainerResources) {
	v.pair(path, "cpu", r.Requests.CPU, r.Limits.CPU)
	v.pair(path, "memory", r.Requests.Memory, r.Limits.Memory)
}

// pair checks a request and its limit. Default copies a memory request to
// the limit, so an unparsable request is reported once, at the request.
func (v *validator) pair(path, resourceName, request, limit string) {
	req := v.quantity(path+".requests."+resourceName, request)
	if limit == request && req == nil {
		return
	}
	lim := v.quantity(path+".limits."+resourceName, limit)
	if req != nil && lim != nil && req.Cmp(*lim) > 0 {
		v.add(path+".requests."+resourceName, fmt.Sprintf("request %s is more than the limit %s", request, limit), "raise the limit or lower the request")
	}
}

// quantity parses a Kubernetes quantity; empty is allowed (not set).
func (v *validator) quantity(path, s string) *resource.Quantity {
	if s == "" {
		return nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		v.add(path, fmt.Sprintf("%q is not a Kubernetes quantity", s), `e.g. "500m" or "2" for CPU, "512Mi" or "4Gi" for memory and storage`)
		return nil
	}
	if q.Sign() <= 0 {
		v.add(path, fmt.Sprintf("must be more than zero, got %s", s), "")
		return nil
	}
	return &q
}

func (v *validator) storage(st *Storage) {
	for _, vol := range []struct {
		path string
		v    Volume
	}{{"spec.storage.data", st.Data}, {"spec.storage.logs", st.Logs}} {
		if vol.v.Size != "" {
			q := v.quantity(vol.path+".size", vol.v.Size)
			if q != nil && q.Cmp(resource.MustParse("1Mi")) < 0 {
				v.add(vol.path+".size", fmt.Sprintf("%s is too small for a volume", vol.v.Size), `sizes are quantities with a unit, e.g. "10Gi"`)
			}
		}
		if vol.v.StorageClassName != "" {
			v.dnsSubdomain(vol.path+".storageClassName", vol.v.StorageClassName, "StorageClass")
		}
	}
	v.oneOf("spec.storage.retention.whenScaled", st.Retention.WhenScaled, "Retain", "Delete")
	v.oneOf("spec.storage.retention.whenDeleted", st.Retention.WhenDeleted, "Retain", "Delete")
}

func (v *validator) auth(a *Auth) {
	if a.Password != "" {
		v.add("spec.auth.password", "inline passwords are not allowed",
			"store it in a Secret and reference it: auth.secretRef.name")
	}
	if a.SecretRef == nil {
		if a.Password == "" {
			v.add("spec.auth.secretRef", "required", "reference the Secret holding the neo4j user's password: auth.secretRef.name")
		}
		return
	}
	if v.required("spec.auth.secretRef.name", a.SecretRef.Name, "the name of the Secret holding the password") {
		v.dnsSubdomain("spec.auth.secretRef.name", a.SecretRef.Name, "Secret")
	}
	if k := a.SecretRef.Key; k != "" {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			v.add("spec.auth.secretRef.key", fmt.Sprintf("%q is not a valid Secret key", k), "letters, digits, '-', '_' and '.'")
		}
	}
}

func (v *validator) tls(t *TLS) {
	if t == nil {
		return
	}
	switch {
	case t.SecretName == "" && t.CertManager == nil:
		v.add("spec.tls", "needs secretName or certManager", "reference a kubernetes.io/tls Secret with secretName, or an issuer with certManager.issuerRef")
	case t.SecretName != "" && t.CertManager != nil:
		v.add("spec.tls", "sets both secretName and certManager", "keep one: neo4jctl either uses your Secret or asks cert-manager for one")
	}
	if t.SecretName != "" {
		v.dnsSubdomain("spec.tls.secretName", t.SecretName, "Secret")
	}
	if cm := t.CertManager; cm != nil {
		if v.required("spec.tls.certManager.issuerRef.name", cm.IssuerRef.Name, "the name of a cert-manager Issuer or ClusterIssuer") {
			v.dnsSubdomain("spec.tls.certManager.issuerRef.name", cm.IssuerRef.Name, "issuer")
		}
		v.oneOf("spec.tls.certManager.issuerRef.kind", cm.IssuerRef.Kind, "Issuer", "ClusterIssuer")
		for i, name := range cm.DNSNames {
			if errs := validation.IsWildcardDNS1123Subdomain(name); len(errs) > 0 && len(validation.IsDNS1123Subdomain(name)) > 0 {
				v.add(fmt.Sprintf("spec.tls.certManager.dnsNames[%d]", i), fmt.Sprintf("%q is not a DNS name", name), "")
			}
		}
	}
	seen := map[string]bool{}
	for i, scope := range t.Scopes {
		p := fmt.Sprintf("spec.tls.scopes[%d]", i)
		v.oneOf(p, scope, TLSScopes...)
		if seen[scope] {
			v.add(p, fmt.Sprintf("duplicate scope %q", scope), "list each scope once")
		}
		seen[scope] = true
	}
}

var (
	settingName = newLazyRegexp(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
	envName     = newLazyRegexp(`^NEO4J_[A-Za-z0-9_]+$`)
)

// managedSetting is a neo4j.conf setting neo4jctl writes itself, and
// where in the cluster file to say what it derives from.
type managedSetting struct {
	prefix bool
	fix    string
}

// helmDiscoveryMove are the settings of the Operations Manual 5.x's move
// from discovery service v1 to v2 (clustering/setup/discovery.adoc §
// Preparation, and dbms.cluster.discovery.version after the move) that
// spec.config may set under layout: helm: neo4jctl renders none of them
// for the chart's servers, whose settings are spec.config (the
// -user-config ConfigMap), so the file is where the move is prepared
// and persisted (plan/discovery.go).
var helmDiscoveryMove = map[string]bool{
	"dbms.cluster.discovery.version":                 true,
	"dbms.kubernetes.discovery.v2.service_port_name": true,
	"dbms.cluster.discovery.v2.endpoints":            true,
}

// managedSettings must not be overridden: discovery, addresses and the
// directories depend on the objects neo4jctl renders, and the rest is
// derived from fields of the cluster file.
var managedSettings = map[string]managedSetting{
	"server.default_advertised_address":                   {},
	"server.default_listen_address":                       {},
	"server.bolt.listen_address":                          {},
	"server.bolt.advertised_address":                      {},
	"server.http.listen_address":                          {},
	"server.http.advertised_address":                      {},
	"server.https.listen_address":                         {},
	"server.https.advertised_address":                     {},
	"server.cluster.listen_address":                       {},
	"server.cluster.advertised_address":                   {},
	"server.cluster.raft.listen_address":                  {},
	"server.cluster.raft.advertised_address":              {},
	"server.routing.listen_address":                       {},
	"server.routing.advertised_address":                   {},
	"server.discovery.listen_address":                     {},
	"server.discovery.advertised_address":                 {},
	"server.backup.listen_address":                        {fix: "the NetworkPolicy opens the backup port to spec.security.networkPolicy.backupClients"},
	"dbms.cluster.discovery.":                             {prefix: true},
	"dbms.cluster.endpoints":                              {},
	"dbms.kubernetes.":                                    {prefix: true},
	"dbms.security.tls_reload_enabled":                    {fix: "neo4jctl turns it on with spec.tls from 2025.03, so renewed certificates are reloaded without a restart"},
	"server.directories.data":                             {},
	"server.directories.logs":                             {},
	"server.directories.plugins":                          {fix: "list plugins in spec.plugins"},
	"dbms.cluster.minimum_initial_system_primaries_count": {fix: "set spec.systemPrimaries"},
	"server.cluster.system_database_mode":                 {fix: "set spec.systemPrimaries"},
	"initial.server.mode_constraint":                      {fix: "set spec.modeConstraint or a pool's modeConstraint"},
	"initial.server.tags":                                 {fix: "set spec.tags or a pool's tags"},
	"initial.dbms.automatically_enable_free_servers":      {fix: "neo4jctl enables servers itself, in a safe order"},
	"server.metrics.prometheus.":                          {prefix: true, fix: "set spec.monitoring.metrics"},
	"dbms.ssl.policy.":                                    {prefix: true, fix: "set spec.tls"},
	"server.bolt.tls_level":                               {fix: "set spec.tls.scopes"},
	"server.https.enabled":                                {fix: "set spec.tls.scopes"},
	"dbms.security.procedures.unrestricted":               {fix: "list plugins in spec.plugins; neo4jctl allows what they need"},
	"dbms.security.cluster_status_auth_enabled":           {fix: "the probes ask the cluster status endpoints without credentials (docs/probes.md); limit who reaches 7474/7473 with spec.security.networkPolicy.allowedClients"},
	// What the rendered objects, probes and neo4jctl itself rely on.
	"server.bolt.enabled":                     {fix: "neo4jctl, the probes and drivers reach the servers over Bolt, so it stays on"},
	"server.http.enabled":                     {fix: "the Services, container ports and NetworkPolicy neo4jctl renders expose port 7474; limit who reaches it with spec.security.networkPolicy.allowedClients, or add https to spec.tls.scopes"},
	"server.config.strict_validation.enabled": {fix: "neo4jctl keeps it on so that a misspelt setting stops the server instead of being ignored; validate checks the names first"},
	"server.directories.run":                  {fix: "the root filesystem is read-only; neo4jctl points it at a writable volume"},
	"server.backup.enabled":                   {fix: "neo4jctl keeps remote backup on; spec.security.networkPolicy.backupClients decides who reaches port 6362"},
	"server.metrics.csv.enabled":              {fix: "CSV metrics write to the read-only root filesystem, so neo4jctl turns them off; use spec.monitoring.metrics for Prometheus"},
	"server.metrics.enabled":                  {fix: "set spec.monitoring.metrics.enabled"},
	"initial.dbms.default_primaries_count":    {fix: "neo4jctl derives it from spec.servers; set each database's topology in spec.databases"},
}

func managed(key string) (managedSetting, bool) {
	if m, ok := managedSettings[key]; ok && !m.prefix {
		return m, true
	}
	for k, m := range managedSettings {
		if m.prefix && strings.HasPrefix(key, k) {
			return m, true
		}
	}
	return managedSetting{}, false
}

// secretWords mark a setting whose value is a credential.
var secretWords = []string{"password", "passwd", "secret", "credential", "credentials", "token", "apikey", "api_key"}

// looksSecret reports whether a setting probably holds a credential: its
// last segment names one (client_secret, system_password, access_token)
// and the value is not a plain number or boolean, which rules out settings
// about credentials such as auth_minimum_password_length.
func looksSecret(key, value string) bool {
	last := key[strings.LastIndex(key, ".")+1:]
	hit := false
	for _, w := range secretWords {
		if last == w || strings.HasSuffix(last, "_"+w) || strings.HasPrefix(last, w+"_") && w != "token" {
			hit = true
		}
	}
	if !hit {
		return false
	}
	switch strings.ToLower(value) {
	case "true", "false", "":
		return false
	}
	for _, r := range value {
		if r < '0' || r > '9' {
			return true
		}
	}
	return false
}

func (v *validator) config(config map[string]string, version string) {
	for _, k := range sortedKeys(config) {
		p := "spec.config[" + k + "]"
		switch {
		case envName.MatchString(k):
			v.add(p, fmt.Sprintf("%q is an environment variable, not a neo4j.conf setting", k),
				fmt.Sprintf("write the setting name, e.g. %s", envToSetting(k)))
			continue
		case !settingName.MatchString(k):
			v.add(p, fmt.Sprintf("%q does not look like a Neo4j setting", k), "settings are dotted lower-case names, e.g. server.memory.heap.max_size")
			continue
		}
		if m, ok := managed(k); ok && !(v.c.IsHelmLayout() && helmDiscoveryMove[k]) {
			fix := "neo4jctl sets this"
			if m.fix != "" {
				fix += "; " + m.fix
			}
			v.add(p, fmt.Sprintf("%s is managed by neo4jctl", k), fix)
			continue
		}
		if checkedSettings(version) {
			if problem, fix := unknownSetting(k); problem != "" {
				v.add(p, problem, fix)
				continue
			}
		}
		if looksSecret(k, config[k]) {
			v.add(p, "secrets are not allowed in spec.config, which neo4jctl renders into a ConfigMap",
				"store it in a Secret; spec.config is for non-secret settings only")
		}
	}
}

// envToSetting turns NEO4J_server_memory_heap_max__size into
// server.memory.heap.max_size, the official image's naming convention.
func envToSetting(env string) string {
	s := strings.TrimPrefix(env, "NEO4J_")
	s = strings.ReplaceAll(s, "__", "\x00")
	s = strings.ReplaceAll(s, "_", ".")
	return strings.ToLower(strings.ReplaceAll(s, "\x00", "_"))
}

func (v *validator) plugins(plugins []string) {
	seen := map[string]bool{}
	for i, name := range plugins {
		p := fmt.Sprintf("spec.plugins[%d]", i)
		if !slices.Contains(Plugins, name) {
			v.add(p, fmt.Sprintf("unknown plugin %q", name), "neo4jctl installs "+strings.Join(Plugins, ", "))
			continue
		}
		if seen[name] {
			v.add(p, fmt.Sprintf("duplicate plugin %q", name), "list each plugin once")
		}
		seen[name] = true
	}
}

var databaseName = newLazyRegexp(`^[a-z][a-z0-9.-]{2,62}$`)

func (v *validator) databases(s *Spec, community bool) {
	// Servers that can host a primary or a secondary allocation, given
	// the mode constraints of the main pool and the server pools.
	total, primaryHosts, secondaryHosts := s.Servers, int32(0), int32(0)
	hosts := func(n int32, mode string) {
		if mode != "SECONDARY" {
			primaryHosts += n
		}
		if mode != "PRIMARY" {
			secondaryHosts += n
		}
	}
	hosts(s.Servers, s.ModeConstraint)
	for _, pool := range s.ServerPools {
		total += pool.Servers
		hosts(pool.Servers, pool.ModeConstraint)
	}

	seen := map[string]int{}
	for i, db := range s.Databases {
		p := fmt.Sprintf("spec.databases[%d]", i)
		if v.required(p+".name", db.Name, "name the database, e.g. name: movies") {
			switch {
			case db.Name == "system" || strings.HasPrefix(db.Name, "system"):
				v.add(p+".name", fmt.Sprintf("%q is reserved: the system database and names starting with system belong to Neo4j", db.Name), "choose another name")
			case !databaseName.MatchString(db.Name):
				v.add(p+".name", fmt.Sprintf("%q is not a valid database name", db.Name), "3–63 lower-case letters, digits, '.' and '-', starting with a letter")
			}
			if first, dup := seen[db.Name]; dup {
				v.add(p+".name", fmt.Sprintf("duplicate database %q (also spec.databases[%d])", db.Name, first), "list each database once")
			} else {
				seen[db.Name] = i
			}
		}
		v.oneOf(p+".access", db.Access, "read-write", "read-only")
		v.oneOf(p+".state", db.State, "present", "absent")

		t := db.Topology
		if community {
			if db.Name != "" && db.Name != "neo4j" {
				v.add(p+".name", fmt.Sprintf("Neo4j Community hosts only the default database neo4j, got %q", db.Name), "use edition: enterprise to create more databases")
			}
			if t.Primaries > 1 || t.Secondaries > 0 {
				v.add(p+".topology", fmt.Sprintf("Neo4j Community runs one standalone server, got %d primaries and %d secondaries", t.Primaries, t.Secondaries),
					"remove the topology, or use edition: enterprise")
			}
			continue
		}
		before := len(v.errs)
		switch {
		case t.Primaries < 1:
			v.add(p+".topology.primaries", fmt.Sprintf("must be at least 1, got %d", t.Primaries), "")
		case t.Primaries > MaxPrimaries:
			v.add(p+".topology.primaries", fmt.Sprintf("must be at most %d, got %d", MaxPrimaries, t.Primaries), "")
		case total > 0 && t.Primaries > primaryHosts:
			v.add(p+".topology.primaries", fmt.Sprintf("%d primaries need %d servers that can host primaries, the cluster has %d", t.Primaries, t.Primaries, primaryHosts),
				"add servers or lower the primaries")
		}
		switch {
		case t.Secondaries < 0:
			v.add(p+".topology.secondaries", fmt.Sprintf("must be at least 0, got %d", t.Secondaries), "")
		case t.Secondaries > MaxSecondaries:
			v.add(p+".topology.secondaries", fmt.Sprintf("must be at most %d, got %d", MaxSecondaries, t.Secondaries), "")
		case total > 0 && t.Secondaries > secondaryHosts:
			v.add(p+".topology.secondaries", fmt.Sprintf("%d secondaries need %d servers that can host secondaries, the cluster has %d", t.Secondaries, t.Secondaries, secondaryHosts),
				"add a pool of secondaries or lower the secondaries")
		}
		// The sum is only worth reporting when each count fits on its own.
		if len(v.errs) == before && total > 0 && t.Primaries+t.Secondaries > total {
			v.add(p+".topology", fmt.Sprintf("%d primaries and %d secondaries need %d servers, the cluster has %d", t.Primaries, t.Secondaries, t.Primaries+t.Secondaries, total),
				"each server hosts at most one copy of a database: add servers or lower the topology")
		}
		if len(v.errs) == before && total > 0 {
			v.hostableBehindPools(p, s, db)
		}
	}
}

func (v *validator) scheduling(sc *Scheduling) {
	seen := map[string]int{}
	for i, z := range sc.Zones {
		p := fmt.Sprintf("spec.scheduling.zones[%d]", i)
		if z == "" {
			v.add(p, "must not be empty", "")
			continue
		}
		if errs := validation.IsValidLabelValue(z); len(errs) > 0 {
			v.add(p, fmt.Sprintf("%q is not a valid zone label value", z), "")
		}
		if first, dup := seen[z]; dup {
			v.add(p, fmt.Sprintf("duplicate zone %q (also spec.scheduling.zones[%d])", z, first), "list each zone once")
		} else {
			seen[z] = i
		}
	}
	v.oneOf("spec.scheduling.antiAffinity", sc.AntiAffinity, "required", "preferred", "none")
	if ts := sc.TopologySpread; ts != nil {
		if ts.MaxSkew < 1 {
			v.add("spec.scheduling.topologySpread.maxSkew", fmt.Sprintf("must be at least 1, got %d", ts.MaxSkew), "")
		}
		v.oneOf("spec.scheduling.topologySpread.whenUnsatisfiable", ts.WhenUnsatisfiable, "DoNotSchedule", "ScheduleAnyway")
	}
	v.labels("spec.scheduling.nodeSelector", sc.NodeSelector, false)
	for i, t := range sc.Tolerations {
		p := fmt.Sprintf("spec.scheduling.tolerations[%d]", i)
		v.oneOf(p+".operator", t.Operator, "Equal", "Exists")
		v.oneOf(p+".effect", t.Effect, "NoSchedule", "PreferNoSchedule", "NoExecute")
		if t.Key != "" {
			if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
				v.add(p+".key", fmt.Sprintf("%q is not a valid taint key", t.Key), "")
			}
		} else if t.Operator != "Exists" {
			v.add(p+".operator", "must be Exists when key is empty", "an empty key with Exists tolerates every taint")
		}
		if t.Operator == "Exists" && t.Value != "" {
			v.add(p+".value", "must be empty when operator is Exists", "")
		}
		if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
			v.add(p+".tolerationSeconds", "only applies to effect NoExecute", "")
		}
	}
	if sc.PriorityClassName != "" {
		v.dnsSubdomain("spec.scheduling.priorityClassName", sc.PriorityClassName, "PriorityClass")
	}
}

func (v *validator) security(sec *Security) {
	v.oneOf("spec.security.podSecurity", sec.PodSecurity, "restricted", "baseline")
	for _, list := range []struct {
		path  string
		peers []PeerSelector
	}{{"spec.security.networkPolicy.allowedClients", sec.NetworkPolicy.AllowedClients}, {"spec.security.networkPolicy.backupClients", sec.NetworkPolicy.BackupClients},
		{"spec.security.networkPolicy.metricsClients", sec.NetworkPolicy.MetricsClients}} {
		for i, peer := range list.peers {
			p := fmt.Sprintf("%s[%d]", list.path, i)
			v.labels(p+".podSelector", peer.PodSelector, false)
			v.labels(p+".namespaceSelector", peer.NamespaceSelector, false)
		}
	}
}

var promDuration = newLazyRegexp(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

func (v *validator) monitoring(m *Monitoring, community bool) {
	if m.Metrics.Enabled {
		if community {
			v.add("spec.monitoring.metrics.enabled", "Prometheus metrics are a Neo4j Enterprise feature", "remove monitoring, or use edition: enterprise")
		}
		switch port := m.Metrics.Port; {
		case port < 1 || port > 65535:
			v.add("spec.monitoring.metrics.port", fmt.Sprintf("must be between 1 and 65535, got %d", port), fmt.Sprintf("Neo4j's default is %d", DefaultMetricsPort))
		case neo4jPorts[port] != "":
			v.add("spec.monitoring.metrics.port", fmt.Sprintf("%d is Neo4j's %s port", port, neo4jPorts[port]), fmt.Sprintf("use another port; Neo4j's default is %d", DefaultMetricsPort))
		}
	}
	if len(v.c.Spec.Security.NetworkPolicy.MetricsClients) > 0 && !m.Metrics.Enabled {
		v.add("spec.security.networkPolicy.metricsClients", "names scrapers of a metrics port that is off", "set monitoring.metrics.enabled: true, or remove metricsClients")
	}
	if m.ServiceMonitor.Enabled {
		if !m.Metrics.Enabled {
			v.add("spec.monitoring.serviceMonitor.enabled", "a ServiceMonitor needs metrics", "set monitoring.metrics.enabled: true")
		}
		if iv := m.ServiceMonitor.Interval; iv != "" && !promDuration.MatchString(iv) {
			v.add("spec.monitoring.serviceMonitor.interval", fmt.Sprintf("%q is not a Prometheus duration", iv), `e.g. "30s" or "1m"`)
		}
	}
	v.labels("spec.monitoring.serviceMonitor.labels", m.ServiceMonitor.Labels, false)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
