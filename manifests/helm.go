package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// helmKeptSettings are the keys of the chart's -user-config ConfigMap that
// do not come from the cluster file's spec.config: the JVM arguments the
// chart derives from its neo4j.conf (jvm.useNeo4jDefaultJvmArguments) and
// the settings import leaves to the chart (helmimport's chartOwnedConfig).
// They stay as the chart rendered them.
var helmKeptSettings = map[string]bool{
	"server.jvm.additional":                               true,
	"server.config.strict_validation.enabled":             true,
	"initial.dbms.default_primaries_count":                true,
	"dbms.cluster.minimum_initial_system_primaries_count": true,
}

// HelmConfigChecksumAnnotation is the chart's Pod template annotation that
// rolls a release's Pod when its configuration changes
// (templates/neo4j-statefulset.yaml: checksum/<fullname>-config).
func HelmConfigChecksumAnnotation(release string) string {
	return "checksum/" + release + "-config"
}

// renderHelm renders an adopted cluster (spec.layout: helm): the objects
// neo4jctl manages, from each release's recorded manifest, as they are,
// changed only where the cluster file sets a value —
//   - the neo4j container's image and pull policy (spec.version /
//     spec.image, spec.imagePullPolicy) and resources (spec.resources.neo4j);
//   - the -user-config ConfigMap's settings (spec.config), the JVM
//     arguments and the chart's own settings kept; when they differ from
//     the recorded ones, the chart's checksum annotation on the Pod template
//     changes, which rolls the Pod as a `helm upgrade` would.
//
// Nothing else is touched: a StatefulSet's selector, serviceName and claim
// templates cannot change in place, and its Pod template changes only with
// the values above, so the first apply after import restarts no Pod.
func renderHelm(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, r := range c.Spec.HelmReleases {
		recorded, err := r.Objects()
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		var sts *unstructured.Unstructured
		var userConfig *unstructured.Unstructured
		for _, o := range recorded {
			if !clusterfile.HelmManaged(r.Name, o) {
				continue
			}
			u := &unstructured.Unstructured{Object: o.Object}
			u.SetNamespace(namespace)
			switch {
			case o.Kind == "StatefulSet":
				sts = u
			case o.Kind == "ConfigMap" && o.Name == r.Name+"-user-config":
				userConfig = u
			}
			objs = append(objs, u)
		}
		if sts == nil {
			return nil, fmt.Errorf("render: release %s: its manifest has no StatefulSet %s", r.Name, r.Name)
		}
		if err := helmContainer(c, sts); err != nil {
			return nil, fmt.Errorf("render: release %s: %w", r.Name, err)
		}
		if userConfig != nil {
			if changed := helmUserConfig(c, userConfig); changed != "" {
				ann, _, _ := unstructured.NestedStringMap(sts.Object, "spec", "template", "metadata", "annotations")
				if ann == nil {
					ann = map[string]string{}
				}
				ann[HelmConfigChecksumAnnotation(r.Name)] = changed
				if err := unstructured.SetNestedStringMap(sts.Object, ann, "spec", "template", "metadata", "annotations"); err != nil {
					return nil, err
				}
			}
		}
	}
	return objs, nil
}

// helmContainer sets the neo4j container's image, pull policy and
// resources from the cluster file.
func helmContainer(c *clusterfile.Cluster, sts *unstructured.Unstructured) error {
	containers, _, _ := unstructured.NestedSlice(sts.Object, "spec", "template", "spec", "containers")
	found := false
	for i, x := range containers {
		ct, ok := x.(map[string]any)
		if !ok || ct["name"] != "neo4j" {
			continue
		}
		found = true
		image := c.Spec.Image
		if image == "" {
			image = clusterfile.Image(c.Spec.Version, c.Spec.Edition)
		}
		ct["image"] = image
		if c.Spec.ImagePullPolicy != "" {
			ct["imagePullPolicy"] = c.Spec.ImagePullPolicy
		}
		recorded, _ := ct["resources"].(map[string]any)
		res := map[string]any{}
		for kind, l := range map[string]clusterfile.ResourceList{"requests": c.Spec.Resources.Neo4j.Requests, "limits": c.Spec.Resources.Neo4j.Limits} {
			m := map[string]any{}
			was, _ := recorded[kind].(map[string]any)
			for name, v := range map[string]string{"cpu": l.CPU, "memory": l.Memory} {
				if v == "" {
					continue
				}
				q, err := resource.ParseQuantity(v)
				if err != nil {
					return fmt.Errorf("spec.resources.neo4j.%s.%s %q: %w", kind, name, v, err)
				}
				m[name] = q.String()
				// An equal quantity keeps the chart's spelling (1000m, 1).
				if old, ok := was[name].(string); ok {
					if oq, err := resource.ParseQuantity(old); err == nil && oq.Cmp(q) == 0 {
						m[name] = old
					}
				}
			}
			if len(m) > 0 {
				res[kind] = m
			}
		}
		if len(res) > 0 {
			ct["resources"] = res
		} else {
			delete(ct, "resources")
		}
		containers[i] = ct
	}
	if !found {
		return fmt.Errorf("StatefulSet %s has no container named neo4j", sts.GetName())
	}
	return unstructured.SetNestedSlice(sts.Object, containers, "spec", "template", "spec", "containers")
}

// helmUserConfig replaces the recorded settings of the -user-config
// ConfigMap with spec.config (keeping helmKeptSettings). It returns "" when
// the data is what the chart recorded, else a checksum of the new data for
// the Pod template.
func helmUserConfig(c *clusterfile.Cluster, cm *unstructured.Unstructured) string {
	recorded, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	data := map[string]string{}
	for k, v := range recorded {
		if helmKeptSettings[k] {
			data[k] = v
		}
	}
	maps.Copy(data, c.Spec.Config)
	if maps.Equal(data, recorded) {
		return ""
	}
	_ = unstructured.SetNestedStringMap(cm.Object, data, "data")
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + data[k] + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "neo4jctl-" + hex.EncodeToString(sum[:])
}
