package clusterfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Layouts of spec.layout.
const (
	// LayoutNeo4jctl is neo4jctl's own layout (the default).
	LayoutNeo4jctl = "neo4jctl"
	// LayoutHelm is a cluster adopted from the official Neo4j Helm chart:
	// one single-replica StatefulSet per release, the chart's objects kept
	// as they are.
	LayoutHelm = "helm"
)

// IsHelmLayout reports whether the cluster was adopted from the Helm
// chart (spec.layout: helm).
func (c *Cluster) IsHelmLayout() bool { return c != nil && c.Spec.Layout == LayoutHelm }

// helmLayoutFix is the fix of every field refused under layout: helm.
const helmLayoutFix = "under layout: helm the chart's Pod template and objects are kept as they are (docs/import.md); remove the field, or change it with helm before importing"

// layout checks spec.layout and spec.helmReleases. Under layout: helm the
// servers are the chart's releases, whose StatefulSets cannot change
// shape in place: every field that would have neo4jctl render something
// the chart's objects do not hold is refused here, named, rather than
// silently left out of the rendering.
func (v *validator) layout(s *Spec) {
	v.oneOf("spec.layout", s.Layout, LayoutNeo4jctl, LayoutHelm)
	if s.Layout != LayoutHelm {
		if len(s.HelmReleases) > 0 {
			v.add("spec.helmReleases", "is only read with layout: helm", "add layout: helm, or remove helmReleases")
		}
		return
	}
	if len(s.HelmReleases) == 0 {
		v.add("spec.helmReleases", "required with layout: helm (one per server)", "write the file with neo4jctl import")
		return
	}
	if int(s.Servers) != len(s.HelmReleases) {
		v.add("spec.servers", fmt.Sprintf("is %d but spec.helmReleases lists %d release(s): under layout: helm each release is one server", s.Servers, len(s.HelmReleases)),
			"adding or removing servers of an adopted cluster is done with helm install/uninstall, then neo4jctl import again")
	}
	seen := map[string]int{}
	for i, r := range s.HelmReleases {
		p := fmt.Sprintf("spec.helmReleases[%d]", i)
		if v.required(p+".name", r.Name, "the release's name") {
			if errs := validation.IsDNS1035Label(r.Name); len(errs) > 0 {
				v.add(p+".name", fmt.Sprintf("%q is not a valid StatefulSet/Service name: %s", r.Name, strings.Join(errs, "; ")), "")
			}
			if first, dup := seen[r.Name]; dup {
				v.add(p+".name", fmt.Sprintf("duplicate release %q (also spec.helmReleases[%d])", r.Name, first), "")
			} else {
				seen[r.Name] = i
			}
		}
		if v.required(p+".manifest", r.Manifest, "import writes the chart's rendered objects here") {
			if problem := checkHelmManifest(r.Name, r.Manifest); problem != "" {
				v.add(p+".manifest", problem, "write the file again with neo4jctl import")
			}
		}
	}
	refuse := func(path string, set bool) {
		if set {
			v.add(path, "cannot be set with layout: helm", helmLayoutFix)
		}
	}
	refuse("spec.serverPools", len(s.ServerPools) > 0)
	refuse("spec.storage.logs", s.Storage.Logs.Size != "")
	refuse("spec.tls", s.TLS != nil)
	refuse("spec.plugins", len(s.Plugins) > 0)
	refuse("spec.sidecars", len(s.Sidecars) > 0)
	refuse("spec.extraVolumes", len(s.ExtraVolumes) > 0)
	refuse("spec.extraEnv", len(s.ExtraEnv) > 0)
	refuse("spec.pod", s.Pod != nil)
	refuse("spec.serviceAccount", s.ServiceAccount != nil)
	refuse("spec.modeConstraint", s.ModeConstraint != "" && s.ModeConstraint != DefaultModeConstraint)
	refuse("spec.tags", len(s.Tags) > 0)
	refuse("spec.scheduling.zones", len(s.Scheduling.Zones) > 0)
	refuse("spec.scheduling.nodeSelector", len(s.Scheduling.NodeSelector) > 0)
	refuse("spec.scheduling.tolerations", len(s.Scheduling.Tolerations) > 0)
	refuse("spec.scheduling.priorityClassName", s.Scheduling.PriorityClassName != "")
	refuse("spec.scheduling.topologySpread", s.Scheduling.TopologySpread != nil)
	refuse("spec.monitoring.serviceMonitor.enabled", s.Monitoring.ServiceMonitor.Enabled)
	refuse("spec.services.client.annotations", len(s.Services.Client.Annotations) > 0)
}

// checkHelmManifest reads a release's recorded manifest: YAML documents,
// among them the release's StatefulSet, and no Secret (the chart's auth
// Secret holds the password, which never belongs in a cluster file).
func checkHelmManifest(release, manifest string) string {
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	found := false
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Sprintf("document %d is not YAML: %v", i+1, err)
		}
		if doc == nil {
			continue
		}
		kind, _ := doc["kind"].(string)
		meta, _ := doc["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		switch kind {
		case "Secret":
			return fmt.Sprintf("holds Secret %s: a cluster file never holds a Secret (its values are credentials)", name)
		case "StatefulSet":
			if name == release {
				found = true
			}
		}
	}
	if !found {
		return fmt.Sprintf("has no StatefulSet named %s (the chart names it after the release)", release)
	}
	return ""
}

// ManifestObject is one object of a release's recorded manifest.
type ManifestObject struct {
	APIVersion, Kind, Name string
	// Object is the document as JSON-shaped data (whole numbers int64).
	Object map[string]any
}

// Objects parses the release's recorded manifest, in its order.
func (r HelmRelease) Objects() ([]ManifestObject, error) {
	dec := yaml.NewDecoder(strings.NewReader(r.Manifest))
	var out []ManifestObject
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("release %s manifest: %w", r.Name, err)
		}
		if doc == nil {
			continue
		}
		// Through JSON: the shape the API server sends (int64 whole
		// numbers, float64 others), which unstructured objects need.
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("release %s manifest: %w", r.Name, err)
		}
		var m map[string]any
		if err := utiljson.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("release %s manifest: %w", r.Name, err)
		}
		o := ManifestObject{Object: m}
		o.APIVersion, _ = m["apiVersion"].(string)
		o.Kind, _ = m["kind"].(string)
		if meta, ok := m["metadata"].(map[string]any); ok {
			o.Name, _ = meta["name"].(string)
		}
		out = append(out, o)
	}
}

// HelmManaged reports whether neo4jctl renders and manages an object of a
// release's manifest under layout: helm: the release's StatefulSet, its
// ConfigMaps and its own Services. Everything else the chart rendered (its
// ServiceAccount, Role and RoleBinding, PodDisruptionBudget, the shared
// load-balancer Service it marks helm.sh/resource-policy: keep, a
// ServiceMonitor) is kept as it is and never deleted; plan lists it.
func HelmManaged(release string, o ManifestObject) bool {
	switch o.Kind {
	case "StatefulSet":
		return o.Name == release
	case "ConfigMap":
		return strings.HasPrefix(o.Name, release+"-")
	case "Service":
		return o.Name == release || o.Name == release+"-admin" || o.Name == release+"-internals"
	}
	return false
}
