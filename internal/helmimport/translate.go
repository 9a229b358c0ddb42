package helmimport

import (
	"fmt"
	"strings"
)

// translation is one release's values in neo4jctl's terms. fields holds
// scalars keyed by their cluster-file path (spec. omitted); source names
// the chart value each came from, for refusals.
type translation struct {
	release, name, fullname string
	chartVersion            string
	revision                int
	manifest                string
	image, imageNote        string
	fields                  map[string]string
	source                  map[string]string
	lists                   map[string][]string
	maps                    map[string]map[string]string
	tolerations             []any
	config                  map[string]string
	configNotes             []string
	authNote                []string
	noEquivalent            []string
}

func (t *translation) set(path, chartPath, v string) {
	if v == "" {
		return
	}
	t.fields[path] = v
	t.source[path] = chartPath
}

// chartOwnedConfig are settings the chart writes itself (its
// neo4j-config.yaml and the image's defaults); neo4jctl renders its own
// value for each, so they are not carried into spec.config.
var chartOwnedConfig = map[string]string{
	"server.config.strict_validation.enabled":             "neo4jctl renders strict validation on; the chart turns it off by default",
	"initial.dbms.default_primaries_count":                "the chart derives it from neo4j.minimumClusterSize",
	"dbms.cluster.minimum_initial_system_primaries_count": "neo4jctl derives it from spec.systemPrimaries",
}

// translate reads one release. Every user-set value is consumed by one of
// the rules below or refused by name at the end.
func translate(r *Release, refuse func(rel, field, problem string)) *translation {
	t := &translation{
		release: r.Name, chartVersion: r.Chart.Metadata.Version,
		revision: r.Version, manifest: r.Manifest,
		fields: map[string]string{}, source: map[string]string{},
		lists: map[string][]string{}, maps: map[string]map[string]string{},
		config: map[string]string{},
	}
	bad := func(field, problem string) { refuse(r.Name, field, problem) }
	if r.Chart.Metadata.Name != ChartName {
		bad("chart", fmt.Sprintf("is %q: import reads releases of the official %q chart", r.Chart.Metadata.Name, ChartName))
		return t
	}
	v := newValues(r.Chart.Values, r.Config)

	t.name = strings.TrimSpace(v.str("neo4j.name"))
	t.fullname = fullname(r.Name, v)
	edition := strings.ToLower(v.str("neo4j.edition"))
	t.set("edition", "neo4j.edition", edition)
	if edition == "enterprise" {
		if lic := v.str("neo4j.acceptLicenseAgreement"); lic == "yes" || lic == "eval" {
			t.set("acceptLicenseAgreement", "neo4j.acceptLicenseAgreement", lic)
		} else {
			bad("neo4j.acceptLicenseAgreement", fmt.Sprintf("is %q: Enterprise needs yes or eval", lic))
		}
	} else {
		v.get("neo4j.acceptLicenseAgreement")
	}

	// The chart's image: image.customImage, else neo4j:<appVersion>[-enterprise].
	image := v.str("image.customImage")
	if image == "" {
		image = "neo4j:" + r.Chart.Metadata.AppVersion
		if edition == "enterprise" {
			image += "-enterprise"
		}
	}
	t.image = image
	version, ok := imageVersion(image)
	switch {
	case !ok:
		bad("image.customImage", fmt.Sprintf("%q has no version in its tag: neo4jctl needs the Neo4j version (tag the image neo4j:<version>…)", image))
	case compareVersions(version, MinVersion) < 0:
		bad("image.customImage", fmt.Sprintf("%s runs Neo4j %s; neo4jctl manages %s and later: upgrade to 5.26 first (helm upgrade --reuse-values --set image.customImage=neo4j:5.26.0-%s)", image, version, MinVersion, editionOr(edition)))
	}
	t.set("version", "image.customImage", version)
	if want := "neo4j:" + version + "-" + edition; image != want && !(edition == "community" && image == "neo4j:"+version) {
		t.set("image", "image.customImage", image)
	}
	t.set("imagePullPolicy", "image.imagePullPolicy", v.str("image.imagePullPolicy"))
	if ps, ok := v.get("image.imagePullSecrets").([]any); ok {
		for _, p := range ps {
			t.lists["imagePullSecrets"] = append(t.lists["imagePullSecrets"], fmt.Sprint(p))
		}
	}
	if v.userSet("image.imageCredentials") {
		bad("image.imageCredentials", "the chart creates a pull Secret from registry credentials; create it yourself and list it in image.imagePullSecrets")
		v.consume("image.imageCredentials")
	}

	clustered := false
	if n := v.str("neo4j.minimumClusterSize"); n != "" && n != "1" {
		clustered = true
		t.set("systemPrimaries", "neo4j.minimumClusterSize", n)
	}

	// neo4j.resources: {cpu, memory} is both requests and limits; with
	// requests/limits keys those are used as they are.
	res, _ := v.get("neo4j.resources").(map[string]any)
	_, hasReq := res["requests"]
	_, hasLim := res["limits"]
	if hasReq || hasLim {
		for _, kind := range []string{"requests", "limits"} {
			m, _ := res[kind].(map[string]any)
			for k, x := range m {
				if k != "cpu" && k != "memory" {
					bad("neo4j.resources."+kind+"."+k, "neo4jctl sets cpu and memory only")
					continue
				}
				t.set("resources.neo4j."+kind+"."+k, "neo4j.resources."+kind+"."+k, scalar(x))
			}
		}
	} else {
		for _, k := range []string{"cpu", "memory"} {
			if x, ok := res[k]; ok {
				t.set("resources.neo4j.requests."+k, "neo4j.resources."+k, scalar(x))
				t.set("resources.neo4j.limits."+k, "neo4j.resources."+k, scalar(x))
			}
		}
	}

	// Password: the chart's Secret holds NEO4J_AUTH=neo4j/<password>;
	// neo4jctl reads a key holding the password alone. The value itself is
	// never read here, let alone written.
	// The chart names it after neo4j.name (neo4j-auth.yaml), shared by
	// every release of the cluster.
	secret := t.name + "-auth"
	if s := v.str("neo4j.passwordFromSecret"); s != "" {
		secret = s
	}
	v.get("neo4j.password")
	v.get("logInitialPassword")
	t.authNote = []string{
		fmt.Sprintf("The chart keeps the password in Secret %s, key NEO4J_AUTH, as neo4j/<password>.", secret),
		"neo4jctl reads a key holding the password alone. Before plan, create it, e.g.:",
		fmt.Sprintf("  kubectl -n NS get secret %s -o jsonpath='{.data.NEO4J_AUTH}' | base64 -d | cut -d/ -f2- | \\", secret),
		"    kubectl -n NS create secret generic " + t.name + "-password --from-file=password=/dev/stdin",
	}

	// Storage: the data volume becomes spec.storage.data.
	switch mode := v.str("volumes.data.mode"); mode {
	case "defaultStorageClass":
		t.set("storage.data.size", "volumes.data.defaultStorageClass.requests.storage", v.str("volumes.data.defaultStorageClass.requests.storage"))
		bad2 := accessModes(v, "volumes.data.defaultStorageClass.accessModes")
		if bad2 != "" {
			bad("volumes.data.defaultStorageClass.accessModes", bad2)
		}
	case "dynamic":
		t.set("storage.data.size", "volumes.data.dynamic.requests.storage", v.str("volumes.data.dynamic.requests.storage"))
		t.set("storage.data.storageClassName", "volumes.data.dynamic.storageClassName", v.str("volumes.data.dynamic.storageClassName"))
		if b := accessModes(v, "volumes.data.dynamic.accessModes"); b != "" {
			bad("volumes.data.dynamic.accessModes", b)
		}
	case "":
		bad("volumes.data.mode", "is not set (the chart requires it); nothing to import")
	default:
		bad("volumes.data.mode", fmt.Sprintf("is %q: neo4jctl provisions each server's data claim from a storage class (defaultStorageClass or dynamic)", mode))
	}
	// The chart's unused data modes carry defaults only; consume them.
	for _, m := range []string{"selector", "volume", "volumeClaimTemplate", "defaultStorageClass", "dynamic", "labels", "disableSubPathExpr"} {
		p := "volumes.data." + m
		if v.userSet(p) && m != v.str("volumes.data.mode") && m != "labels" && m != "disableSubPathExpr" {
			v.consume(p) // values of a mode not in use render nothing
		}
	}
	if v.userSet("volumes.data.labels") {
		bad("volumes.data.labels", "neo4jctl labels its claims itself")
		v.consume("volumes.data.labels")
	}
	v.get("volumes.data.disableSubPathExpr")
	for _, vol := range []string{"logs", "backups", "metrics", "import", "licenses"} {
		p := "volumes." + vol
		if mode := v.str(p + ".mode"); mode != "share" || v.str(p+".share.name") != "data" {
			bad(p+".mode", fmt.Sprintf("is %q: neo4jctl imports the chart's default only (share the data volume)", mode))
		}
		v.get(p)
	}

	// Settings: config is neo4j.conf. The chart's own settings are left to
	// neo4jctl, which renders its value for each (commented).
	if cfg, ok := v.get("config").(map[string]any); ok {
		for _, k := range sortedKeys(cfg) {
			val := scalar(cfg[k])
			if why, owned := chartOwnedConfig[k]; owned {
				t.configNotes = append(t.configNotes, fmt.Sprintf("config %s=%s not carried over: %s", k, val, why))
				continue
			}
			if strings.HasPrefix(k, "server.jvm.additional") {
				bad("config."+k, "set JVM options through jvm.additionalJvmArguments is not supported by neo4jctl yet")
				continue
			}
			t.config[k] = val
			t.fields["config."+k] = val
			t.source["config."+k] = "config." + k
		}
	}
	if v.userSet("jvm.additionalJvmArguments") {
		if l, _ := v.get("jvm.additionalJvmArguments").([]any); len(l) > 0 {
			bad("jvm.additionalJvmArguments", "neo4jctl has no field for extra JVM arguments")
		}
	}
	v.get("jvm.useNeo4jDefaultJvmArguments")
	for _, p := range []string{"apoc_config", "apoc_credentials"} {
		if m, _ := v.get(p).(map[string]any); len(m) > 0 {
			bad(p, "neo4jctl has no equivalent (APOC settings go in spec.config with spec.plugins: [apoc])")
		}
	}

	// Scheduling.
	switch aa := v.get("podSpec.podAntiAffinity").(type) {
	case bool:
		if aa {
			t.set("scheduling.antiAffinity", "podSpec.podAntiAffinity", "required")
		} else {
			t.set("scheduling.antiAffinity", "podSpec.podAntiAffinity", "none")
		}
	case nil:
	default:
		bad("podSpec.podAntiAffinity", "a custom anti-affinity has no equivalent: neo4jctl has required, preferred or none")
	}
	if m, _ := v.get("podSpec.nodeAffinity").(map[string]any); len(m) > 0 {
		bad("podSpec.nodeAffinity", "neo4jctl has no node affinity (use nodeSelector or scheduling.zones)")
	}
	if tsc, _ := v.get("podSpec.topologySpreadConstraints").([]any); len(tsc) > 0 {
		bad("podSpec.topologySpreadConstraints", "custom constraints have no equivalent (neo4jctl has scheduling.topologySpread)")
	}
	t.maps["nodeSelector"] = v.strMap("nodeSelector")
	addMapFields(t, "nodeSelector", t.maps["nodeSelector"])
	if tols, _ := v.get("podSpec.tolerations").([]any); len(tols) > 0 {
		for _, x := range tols {
			m, _ := x.(map[string]any)
			n := &node{}
			for _, k := range []string{"key", "operator", "value", "effect"} {
				if s, ok := m[k].(string); ok && s != "" {
					n.set(k, s)
				}
			}
			if s, ok := m["tolerationSeconds"].(float64); ok {
				n.set("tolerationSeconds", int(s))
			}
			t.tolerations = append(t.tolerations, n)
			t.fields["tolerations"] += fmt.Sprint(m)
		}
	}
	t.set("scheduling.priorityClassName", "podSpec.priorityClassName", v.str("podSpec.priorityClassName"))
	t.maps["podSpec.annotations"] = v.strMap("podSpec.annotations")
	addMapFields(t, "podSpec.annotations", t.maps["podSpec.annotations"])
	t.maps["neo4j.labels"] = v.strMap("neo4j.labels")
	addMapFields(t, "neo4j.labels", t.maps["neo4j.labels"])
	if v.userSet("podSpec.serviceAccountName") && v.str("podSpec.serviceAccountName") != "" {
		bad("podSpec.serviceAccountName", "neo4jctl renders the servers' ServiceAccount itself")
	}
	v.get("podSpec.serviceAccountName")
	for _, p := range []string{"podSpec.initContainers", "podSpec.containers", "additionalVolumes", "additionalVolumeMounts"} {
		if l, _ := v.get(p).([]any); len(l) > 0 {
			bad(p, "has no equivalent imported yet (neo4jctl's spec.sidecars / spec.extraVolumes take a restricted form): move them by hand")
		}
	}

	// Env: literal variables become spec.extraEnv.
	if env, ok := v.get("env").(map[string]any); ok && len(env) > 0 {
		m := map[string]string{}
		for k, x := range env {
			m[k] = scalar(x)
		}
		t.maps["env"] = m
		addMapFields(t, "env", m)
	}

	// Services: the chart's LoadBalancer-style client Service becomes
	// spec.services.client.
	if v.str("services.neo4j.enabled") == "false" {
		bad("services.neo4j.enabled", "is false: neo4jctl always renders a client Service")
	}
	t.set("services.client.type", "services.neo4j.spec.type", v.str("services.neo4j.spec.type"))
	t.maps["services.neo4j.annotations"] = v.strMap("services.neo4j.annotations")
	addMapFields(t, "services.neo4j.annotations", t.maps["services.neo4j.annotations"])
	if m, _ := v.get("services.neo4j.spec").(map[string]any); len(m) > 1 {
		bad("services.neo4j.spec", "only spec.type has an equivalent")
	}
	for _, p := range []string{"services.neo4j.ports", "services.neo4j.selector", "services.neo4j.multiCluster", "services.neo4j.cleanup", "services.admin", "services.internals", "services.default"} {
		if v.userSet(p) {
			bad(p, "neo4jctl renders its own Services; this chart value has no equivalent")
			v.consume(p)
		}
	}

	// TLS from Secrets has no one-to-one equivalent yet.
	for _, scope := range []string{"bolt", "https", "cluster"} {
		if v.str("ssl."+scope+".privateKey.secretName") != "" {
			bad("ssl."+scope, "TLS from the chart's Secrets is not imported: set spec.tls by hand and drop it from the release first")
		}
	}
	if v.changed("ssl") {
		bad("ssl", "the chart's TLS settings have no one-to-one equivalent: set spec.tls by hand and drop them from the release first")
	}
	v.get("ssl")

	// Monitoring.
	if v.str("serviceMonitor.enabled") == "true" {
		t.set("monitoring.serviceMonitor.enabled", "serviceMonitor.enabled", "true")
		t.set("monitoring.serviceMonitor.interval", "serviceMonitor.interval", v.str("serviceMonitor.interval"))
		for _, p := range []string{"serviceMonitor.labels", "serviceMonitor.jobLabel", "serviceMonitor.port", "serviceMonitor.path", "serviceMonitor.namespaceSelector", "serviceMonitor.targetLabels", "serviceMonitor.selector"} {
			if v.userSet(p) {
				bad(p, "has no equivalent: neo4jctl renders its own ServiceMonitor")
				v.consume(p)
			}
		}
	}
	v.get("serviceMonitor")

	if v.str("podDisruptionBudget.enabled") == "true" {
		for _, p := range []string{"podDisruptionBudget.minAvailable", "podDisruptionBudget.maxUnavailable", "podDisruptionBudget.matchLabels", "podDisruptionBudget.matchExpressions", "podDisruptionBudget.labels"} {
			if v.changed(p) {
				bad(p, "neo4jctl renders its own PodDisruptionBudget (one server down at a time)")
			}
		}
		t.noEquivalent = append(t.noEquivalent, "podDisruptionBudget: neo4jctl renders its own PodDisruptionBudget")
	}
	v.get("podDisruptionBudget")
	if v.str("analytics.enabled") == "true" {
		bad("analytics.enabled", "an analytics (GDS) cluster has no equivalent")
	}
	v.get("analytics")
	if v.str("neo4j.offlineMaintenanceModeEnabled") == "true" {
		bad("neo4j.offlineMaintenanceModeEnabled", "the server is in offline maintenance: finish it (helm upgrade) before importing")
	}
	v.get("neo4j.offlineMaintenanceModeEnabled")
	if v.str("disableLookups") == "true" {
		v.get("disableLookups")
	}
	v.get("neo4j.name")
	v.get("clusterDomain")
	if d := v.str("clusterDomain"); d != "cluster.local" {
		bad("clusterDomain", fmt.Sprintf("is %q: neo4jctl renders addresses in cluster.local", d))
	}

	// Chart defaults that have no field: commented, never silently lost.
	for _, p := range []struct{ path, what string }{
		{"podSpec.terminationGracePeriodSeconds", "neo4jctl sets its own grace period"},
		{"securityContext", "neo4jctl runs the restricted Pod Security profile"},
		{"containerSecurityContext", "neo4jctl runs the restricted Pod Security profile"},
		{"readinessProbe", "neo4jctl renders its own probes"},
		{"livenessProbe", "neo4jctl renders its own probes"},
		{"startupProbe", "neo4jctl renders its own probes"},
		{"podSpec.dnsPolicy", "neo4jctl leaves the default"},
		{"podSpec.loadbalancer", "neo4jctl selects its client Service's Pods by its own labels"},
		{"statefulset.metadata.annotations", "neo4jctl annotates its StatefulSet itself"},
		{"logging", "neo4jctl keeps the image's log configuration"},
		{"nameOverride", "neo4jctl names objects from metadata.name"},
		{"fullnameOverride", "neo4jctl names objects from metadata.name"},
	} {
		val := v.get(p.path)
		if val == nil || val == "" {
			continue
		}
		if v.changed(p.path) {
			// A default is commented; a value someone chose is refused.
			bad(p.path, fmt.Sprintf("is set to %s: neo4jctl has no equivalent (%s)", compact(val), p.what))
			continue
		}
		t.noEquivalent = append(t.noEquivalent, fmt.Sprintf("%s = %s: %s", p.path, compact(val), p.what))
	}
	if clustered {
		t.noEquivalent = append(t.noEquivalent, "services.internals / the chart's per-release -admin and -internals Services: neo4jctl renders a headless Service per pool")
	}
	for _, p := range v.unconsumed() {
		bad(p, "neo4jctl has no equivalent for this chart value")
	}
	return t
}

func addMapFields(t *translation, chartPath string, m map[string]string) {
	for k, x := range m {
		t.fields[chartPath+"."+k] = x
		t.source[chartPath+"."+k] = chartPath + "." + k
	}
}

func accessModes(v *values, path string) string {
	l, _ := v.get(path).([]any)
	for _, m := range l {
		if m != "ReadWriteOnce" {
			return fmt.Sprintf("%v: neo4jctl's claims are ReadWriteOnce", m)
		}
	}
	return ""
}

func editionOr(e string) string {
	if e == "" {
		return "enterprise"
	}
	return e
}

// fullname is the chart's neo4j.fullname helper: the objects' name.
func fullname(release string, v *values) string {
	trunc := func(s string) string {
		if len(s) > 63 {
			s = s[:63]
		}
		return strings.TrimSuffix(s, "-")
	}
	if f := v.str("fullnameOverride"); f != "" {
		return trunc(f)
	}
	if n := v.str("nameOverride"); n != "" {
		if strings.Contains(release, n) {
			return trunc(release)
		}
		return trunc(release + "-" + n)
	}
	return trunc(release)
}

func compact(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+compact(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case string:
		if strings.Contains(x, "\n") {
			return "(multi-line text)"
		}
		return x
	default:
		return fmt.Sprint(x)
	}
}

// ReleaseObjects names what a release of the chart created that import
// reads besides the record: the StatefulSet (also the name of its single
// Pod's prefix) and the Secret holding NEO4J_AUTH.
func ReleaseObjects(r *Release) (statefulSet, authSecret string) {
	v := newValues(r.Chart.Values, r.Config)
	authSecret = strings.TrimSpace(v.str("neo4j.name")) + "-auth"
	if s := v.str("neo4j.passwordFromSecret"); s != "" {
		authSecret = s
	}
	return fullname(r.Name, v), authSecret
}

// NameOf returns the release's neo4j.name (the cluster it belongs to).
func NameOf(r *Release) string {
	return strings.TrimSpace(newValues(r.Chart.Values, r.Config).str("neo4j.name"))
}
