package helmimport

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/lazyre"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// StatefulSet is what import reads of a live StatefulSet the chart
// rendered.
type StatefulSet struct {
	Name     string
	Labels   map[string]string
	Replicas int32
	// Image is the image of the container named neo4j.
	Image string
}

// Neo4jView is Neo4j's own view of the cluster (SHOW SERVERS, SHOW
// DATABASES, SHOW SETTINGS), when it could be reached.
type Neo4jView struct {
	Servers   map[string]state.Server
	Databases []state.DatabaseAllocation
	Settings  map[string]state.Setting
}

// Input is everything Convert reads.
type Input struct {
	Namespace string
	Releases  []*Release
	// StatefulSets are the live StatefulSets of the chart in Namespace.
	StatefulSets []StatefulSet
	// Claims maps PersistentVolumeClaim names to their requested storage
	// as they are now (a claim may have been resized since install).
	Claims map[string]string
	// Neo4j is nil when Neo4j was not reached; Neo4jSkipped says why (it
	// goes into the file as a comment).
	Neo4j        *Neo4jView
	Neo4jSkipped string
}

// Refusal is one thing the chart set that neo4jctl cannot express.
type Refusal struct {
	Release string
	// Field is the chart value, as `helm --set` names it, or the object.
	Field   string
	Problem string
}

func (r Refusal) String() string {
	return fmt.Sprintf("release %s: %s: %s", r.Release, r.Field, r.Problem)
}

// RefusedError lists every refusal at once; nothing is written when
// Convert returns it.
type RefusedError struct{ Refusals []Refusal }

func (e *RefusedError) Error() string {
	lines := make([]string, 0, len(e.Refusals)+1)
	lines = append(lines, fmt.Sprintf("cannot import: %d chart value(s) neo4jctl cannot express (nothing was written)", len(e.Refusals)))
	for _, r := range e.Refusals {
		lines = append(lines, "  "+r.String())
	}
	return strings.Join(lines, "\n")
}

// MinVersion is the oldest Neo4j neo4jctl manages.
const MinVersion = "5.26.0"

// ChartName is the chart import understands.
const ChartName = "neo4j"

// Convert writes the cluster file that reproduces the releases (one
// release per server, all of one neo4j.name). It returns a *RefusedError
// listing every chart value neo4jctl cannot express, or the file. The file
// it returns loads and validates (clusterfile.Load); a value that loads in
// the chart but not in neo4jctl is refused here, by its chart name.
func Convert(in Input) ([]byte, error) {
	if len(in.Releases) == 0 {
		return nil, errors.New("no deployed release to import")
	}
	var refusals []Refusal
	refuse := func(rel, field, problem string) {
		refusals = append(refusals, Refusal{Release: rel, Field: field, Problem: problem})
	}
	var ts []*translation
	for _, r := range in.Releases {
		t := translate(r, refuse)
		ts = append(ts, t)
	}
	live := map[string]StatefulSet{}
	for _, s := range in.StatefulSets {
		live[s.Name] = s
	}
	// Live objects win over the record: an out-of-band edit is what runs.
	for _, t := range ts {
		s, ok := live[t.fullname]
		if !ok {
			refuse(t.release, "StatefulSet/"+t.fullname, "not found in namespace "+in.Namespace+": the release is recorded but its server is gone")
			continue
		}
		if s.Replicas != 1 {
			refuse(t.release, "StatefulSet/"+t.fullname, fmt.Sprintf("has %d replicas; the chart runs one server per release", s.Replicas))
		}
		if s.Image != "" && s.Image != t.image {
			v, ok := imageVersion(s.Image)
			if !ok || compareVersions(v, MinVersion) < 0 {
				refuse(t.release, "StatefulSet/"+t.fullname+" image", fmt.Sprintf("%s runs Neo4j older than %s: upgrade to 5.26 first", s.Image, MinVersion))
			}
			t.fields["image"], t.source["image"] = s.Image, "StatefulSet/"+t.fullname+" image"
			if ok {
				t.fields["version"], t.source["version"] = v, "StatefulSet/"+t.fullname+" image"
			}
			t.imageNote = fmt.Sprintf("the live StatefulSet %s runs %s, the release recorded %s", t.fullname, s.Image, t.image)
		}
	}

	// One cluster file describes one configuration for every server: a
	// value that differs between the releases has no place in it.
	first := ts[0]
	for _, t := range ts[1:] {
		if t.name != first.name {
			refuse(t.release, "neo4j.name", fmt.Sprintf("is %q, release %s has %q: one cluster file imports the releases of one neo4j.name", t.name, first.release, first.name))
		}
		for _, p := range diffKeys(first.fields, t.fields) {
			field := t.source[p]
			if field == "" {
				field = first.source[p]
			}
			if field == "" {
				field = p
			}
			refuse(t.release, field, fmt.Sprintf("differs from release %s: neo4jctl runs every server of a pool with the same configuration", first.release))
		}
	}
	root := &node{}
	root.set("apiVersion", clusterfile.APIVersion)
	root.set("kind", clusterfile.Kind)
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.release)
	}
	root.at("metadata").comments = []string{
		fmt.Sprintf("Imported from Helm release(s) %s (chart %s %s), one release per server.", strings.Join(names, ", "), ChartName, first.chartVersion),
		"layout: helm adopts the chart's objects in place: neo4jctl manages each release's",
		"StatefulSet, Services and ConfigMaps as the chart rendered them (spec.helmReleases),",
		"changing only what this file sets (image, resources, config); read docs/import.md first.",
	}
	root.set("metadata.name", first.name)
	root.set("metadata.namespace", in.Namespace)
	root.setMap("metadata.annotations", map[string]string{clusterfile.AnnotationImportedFromHelm: strings.Join(names, ",")},
		"the releases this file adopts (--forget-helm-release removes their Helm records after an apply).")

	spec := root.at("spec")
	// Keys are written in this order; fields holds their values.
	order := []string{"edition", "version", "image", "imagePullPolicy", "acceptLicenseAgreement"}
	for _, k := range order {
		if v, ok := first.fields[k]; ok && v != "" {
			spec.set(k, v)
		}
	}
	if first.imageNote != "" {
		spec.at("image").comments = append(spec.at("image").comments, first.imageNote)
	}
	if ps := first.lists["imagePullSecrets"]; len(ps) > 0 {
		for _, p := range ps {
			spec.at("imagePullSecrets").list = append(spec.at("imagePullSecrets").list, p)
		}
	}
	servers := len(ts)
	spec.set("servers", servers, fmt.Sprintf("one server per release: %s", strings.Join(names, ", ")))
	if first.fields["edition"] == string(clusterfile.EditionEnterprise) && servers < 3 {
		spec.set("allowSmallCluster", true, "the chart runs this cluster with fewer than three servers")
	}
	spec.set("layout", clusterfile.LayoutHelm, "the chart's StatefulSets, Services and ConfigMaps, adopted as they are")
	if sp := first.fields["systemPrimaries"]; sp != "" {
		n, _ := strconv.Atoi(sp)
		if n > servers {
			refuse(first.release, "neo4j.minimumClusterSize", fmt.Sprintf("is %d but only %d release(s) of %s were found: import them all (--helm-cluster %s)", n, servers, first.name, first.name))
		} else if n > 0 {
			spec.set("systemPrimaries", n, "neo4j.minimumClusterSize: the chart sets dbms.cluster.minimum_initial_system_primaries_count from it")
		}
	}
	for _, k := range []string{"resources.neo4j.requests.cpu", "resources.neo4j.requests.memory", "resources.neo4j.limits.cpu", "resources.neo4j.limits.memory"} {
		if v := first.fields[k]; v != "" {
			spec.set(k, v)
		}
	}
	if v := first.fields["storage.data.size"]; v != "" {
		size, note := claimSize(v, ts, in.Claims)
		spec.set("storage.data.size", size, note...)
	}
	if v := first.fields["storage.data.storageClassName"]; v != "" {
		spec.set("storage.data.storageClassName", v)
	}
	spec.at("storage").comments = append(spec.at("storage").comments,
		"The chart keeps logs, backups, metrics, import and licenses on the data volume (volumes.*.mode=share);",
		"neo4jctl gives logs a claim of their own: an adopted server keeps its claims as they are.")
	spec.set("storage.retention.whenScaled", "Retain")
	spec.set("storage.retention.whenDeleted", "Retain", "the chart's claims outlive its StatefulSets (Helm never deletes them)")

	auth := spec.at("auth")
	for _, c := range first.authNote {
		auth.comments = append(auth.comments, strings.ReplaceAll(c, "-n NS", "-n "+in.Namespace))
	}
	spec.set("auth.secretRef.name", first.name+"-password")
	spec.set("auth.secretRef.key", "password")

	if len(first.config) > 0 {
		spec.setMap("config", first.config)
	}
	for _, c := range first.configNotes {
		spec.at("config").comments = append(spec.at("config").comments, c)
	}
	// Scheduling, the Pod's labels and annotations, the environment, the
	// Services' types and the ServiceMonitor are in the chart's objects,
	// which layout: helm keeps as they are: they are recorded there (and
	// named here), not in fields neo4jctl would render.
	kept := spec.at("helmReleases")
	keptNote := func(what string, present bool) {
		if present {
			kept.comments = append(kept.comments, what+": kept in the chart's objects below")
		}
	}
	keptNote("podSpec.podAntiAffinity="+first.fields["scheduling.antiAffinity"], first.fields["scheduling.antiAffinity"] != "")
	keptNote("nodeSelector", len(first.maps["nodeSelector"]) > 0)
	keptNote("podSpec.priorityClassName", first.fields["scheduling.priorityClassName"] != "")
	keptNote("podSpec.tolerations", len(first.tolerations) > 0)
	keptNote("services.neo4j (the shared "+first.name+"-lb-neo4j Service, type "+first.fields["services.client.type"]+")", first.fields["services.client.type"] != "")
	keptNote("podSpec.annotations", len(first.maps["podSpec.annotations"]) > 0)
	keptNote("neo4j.labels", len(first.maps["neo4j.labels"]) > 0)
	keptNote("env (the -env ConfigMap)", len(first.maps["env"]) > 0)
	keptNote("serviceMonitor", first.fields["monitoring.serviceMonitor.enabled"] == "true")
	for _, t := range ts {
		rel := &node{}
		rel.set("name", t.release)
		if t.revision > 0 {
			rel.set("revision", t.revision)
		}
		manifest, secrets := withoutSecrets(t.manifest)
		c := rel.at("manifest")
		c.block = manifest
		for _, name := range secrets {
			c.comments = append(c.comments, "Secret "+name+" left out: it holds credentials (it stays in the namespace, untouched)")
		}
		kept.list = append(kept.list, rel)
	}
	neo4jView(spec, in, servers, first.config)

	if len(refusals) > 0 {
		return nil, &RefusedError{Refusals: refusals}
	}
	root.at("noEquivalent").comments = append([]string{
		"Chart settings with no neo4jctl field (neo4jctl renders its own values for these):"},
		first.noEquivalent...)
	var b strings.Builder
	root.write(&b, 0)
	out := []byte(b.String())
	// What neo4jctl would refuse at validate is refused now, by the
	// chart value it came from.
	if _, err := clusterfile.Load("imported.yaml", out); err != nil {
		var list *clusterfile.ErrorList
		if errors.As(err, &list) {
			for _, fe := range list.Errors {
				refuse(first.release, chartField(fe.Path), fe.Problem+fixOf(fe.Fix))
			}
			return nil, &RefusedError{Refusals: refusals}
		}
		return nil, err
	}
	return out, nil
}

func fixOf(fix string) string {
	if fix == "" {
		return ""
	}
	return " (" + fix + ")"
}

// chartField names the chart value a cluster-file path came from.
func chartField(path string) string {
	switch {
	case strings.HasPrefix(path, "spec.config."):
		return "config." + strings.TrimPrefix(path, "spec.config.")
	case strings.HasPrefix(path, "spec.extraEnv"):
		return "env (" + path + ")"
	case strings.HasPrefix(path, "spec.resources"):
		return "neo4j.resources (" + path + ")"
	case strings.HasPrefix(path, "spec.pod.labels"):
		return "neo4j.labels (" + path + ")"
	case strings.HasPrefix(path, "spec.pod.annotations"):
		return "podSpec.annotations (" + path + ")"
	}
	return path
}

// neo4jView adds what Neo4j reports: the user databases and their
// topologies, and settings whose running value differs from the config.
func neo4jView(spec *node, in Input, servers int, config map[string]string) {
	if in.Neo4j == nil {
		reason := in.Neo4jSkipped
		if reason == "" {
			reason = "not reached"
		}
		spec.at("databases").comments = append(spec.at("databases").comments,
			"Neo4j "+reason+": databases were not imported; list them here before the first apply.")
		return
	}
	v := in.Neo4j
	type topo struct{ p, s int64 }
	dbs := map[string]topo{}
	for _, a := range v.Databases {
		if a.Name == "system" || a.Type == "system" || a.Type == "composite" {
			continue
		}
		t := dbs[a.Name]
		if a.RequestedPrimaries > 0 || a.RequestedSecondaries > 0 {
			t = topo{a.RequestedPrimaries, a.RequestedSecondaries}
		} else if a.CurrentPrimaries > 0 {
			t = topo{a.CurrentPrimaries, a.CurrentSecondaries}
		}
		dbs[a.Name] = t
	}
	for _, name := range sortedKeys(dbs) {
		d := &node{}
		d.set("name", name)
		if t := dbs[name]; t.p > 0 {
			d.set("topology.primaries", int(t.p))
			if t.s > 0 {
				d.set("topology.secondaries", int(t.s))
			}
		}
		spec.at("databases").list = append(spec.at("databases").list, d)
	}
	// A setting changed at runtime (dbms.setConfigValue) runs with a value
	// neo4j.conf does not hold; the file keeps the configured one, and
	// says what runs, so the owner decides.
	for _, k := range sortedKeys(config) {
		if live, ok := v.Settings[k]; ok && live.Value != config[k] {
			spec.at("config").child(k).comments = append(spec.at("config").child(k).comments,
				fmt.Sprintf("SHOW SETTINGS: %s runs with %q (changed at runtime?)", k, live.Value))
		}
	}
	if n := len(v.Servers); n != 0 && n != servers {
		spec.at("servers").comments = append(spec.at("servers").comments,
			fmt.Sprintf("SHOW SERVERS lists %d servers, the chart %d: plan will show the difference", n, servers))
	}
}

var versionRE = lazyre.New(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// imageVersion reads the Neo4j version from an image reference's tag
// (neo4j:5.26.0-enterprise, registry/neo4j:2025.10.1@sha256:…).
func imageVersion(image string) (string, bool) {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", false
	}
	m := versionRE.FindStringSubmatch(ref[i+1:])
	if m == nil {
		return "", false
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	return m[1] + "." + m[2] + "." + patch, true
}

// compareVersions compares dotted numeric versions; calendar versions
// (2025.x) sort after 5.x as Neo4j intends.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func diffKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// claimSize is the data size to declare: the largest of the chart's data
// claims as they are now (data-<statefulset>-0), else the chart's value.
// neo4jctl declares one size per pool; a claim is never shrunk, so the
// largest is the one every server can have.
func claimSize(values string, ts []*translation, claims map[string]string) (string, []string) {
	valuesQ, err := resource.ParseQuantity(values)
	if err != nil {
		return values, nil // validation names the bad size
	}
	best, bestQ := values, valuesQ
	var notes []string
	for _, t := range ts {
		name := "data-" + t.fullname + "-0"
		live, ok := claims[name]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(live)
		if err != nil {
			continue
		}
		if q.Cmp(valuesQ) != 0 {
			notes = append(notes, fmt.Sprintf("claim %s requests %s, the release's values %s", name, live, values))
		}
		if q.Cmp(bestQ) > 0 {
			best, bestQ = live, q
		}
	}
	return best, notes
}

// withoutSecrets drops the Secret documents of a release manifest (the
// chart's auth Secret holds the password in its data) and returns the
// rest, with the names of the Secrets left out.
func withoutSecrets(manifest string) (string, []string) {
	var docs []string
	var secrets []string
	for _, doc := range splitDocuments(manifest) {
		if name, ok := secretName(doc); ok {
			secrets = append(secrets, name)
			continue
		}
		if strings.TrimSpace(doc) == "" {
			continue
		}
		docs = append(docs, "---\n"+strings.TrimLeft(doc, "\n"))
	}
	return strings.Join(docs, ""), secrets
}

// splitDocuments splits a YAML stream on its "---" separator lines.
func splitDocuments(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimRight(line, " \r\n") == "---" {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(out, cur.String())
}

var (
	kindSecretRE = lazyre.New(`(?m)^kind:\s*"?Secret"?\s*$`)
	topNameRE    = lazyre.New(`(?m)^  name:\s*"?([^"\s]+)"?\s*$`)
)

func secretName(doc string) (string, bool) {
	if !kindSecretRE.MatchString(doc) {
		return "", false
	}
	name := "(unnamed)"
	if m := topNameRE.FindStringSubmatch(doc); m != nil {
		name = m[1]
	}
	return name, true
}
