package manifests

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// kindOrder is the apply order of the kinds Render produces, grouped in
// stages: identity and configuration first (a Pod cannot start without its
// ServiceAccount and ConfigMap), then the Services that name the Pods, the
// guards (PDB, NetworkPolicy), the add-ons whose output the Pods mount (the
// Certificate's Secret), and the StatefulSets last.
var kindOrder = []struct {
	kind  string
	stage int
}{
	{"ServiceAccount", 0},
	{"Role", 0},
	{"RoleBinding", 0},
	{"ConfigMap", 0},
	{"Service", 1},
	{"PodDisruptionBudget", 2},
	{"NetworkPolicy", 3},
	{"Certificate", 4},
	{"ServiceMonitor", 4},
	{"StatefulSet", 5},
}

// Stage returns the apply stage of a kind rendered by Render, lowest
// first; objects of one stage do not depend on each other. Kinds Render
// does not produce come last.
func Stage(kind string) int {
	for _, k := range kindOrder {
		if k.kind == kind {
			return k.stage
		}
	}
	return kindOrder[len(kindOrder)-1].stage + 1
}

func kindRank(kind string) int {
	for i, k := range kindOrder {
		if k.kind == kind {
			return i
		}
	}
	return len(kindOrder)
}

// Render returns the Kubernetes objects of the cluster in namespace, in
// apply order: by Stage, within a stage by kind (ServiceAccount, Role,
// RoleBinding, ConfigMap; Certificate, ServiceMonitor), then by name. namespace overrides
// metadata.namespace of the file when not empty (the command decides
// which wins). c must have been defaulted and validated; Render refuses
// only what it cannot express (an unparsable quantity, a missing data
// volume size, a pool named like the main pool).
func Render(c *clusterfile.Cluster, namespace string) ([]*unstructured.Unstructured, error) {
	return RenderFor(c, namespace, Environment{})
}

// RenderFor is Render with what the caller observed of the Kubernetes
// cluster it renders for (see Environment); still pure.
func RenderFor(c *clusterfile.Cluster, namespace string, env Environment) ([]*unstructured.Unstructured, error) {
	if c == nil {
		return nil, fmt.Errorf("render: no cluster")
	}
	if namespace == "" {
		namespace = c.Metadata.Namespace
	}
	if namespace == "" {
		return nil, fmt.Errorf("render: no namespace: set metadata.namespace in the cluster file or pass --namespace")
	}
	if c.Metadata.Name == "" {
		return nil, fmt.Errorf("render: metadata.name is empty")
	}
	seen := map[string]bool{}
	for _, p := range c.Spec.ServerPools {
		if p.Name == "" || p.Name == MainPool || seen[p.Name] {
			return nil, fmt.Errorf("render: server pool name %q is empty, reserved or repeated", p.Name)
		}
		seen[p.Name] = true
	}

	if c.IsHelmLayout() {
		objs, err := renderHelm(c, namespace)
		if err != nil {
			return nil, err
		}
		sortObjects(objs)
		return objs, nil
	}
	typed, err := withBackups(c, namespace)(typedObjects(c, namespace, env))
	if err != nil {
		return nil, err
	}
	objs, err := unstructuredObjects(typed, 2)
	if err != nil {
		return nil, err
	}
	if metricsEnabled(c) && c.Spec.Monitoring.ServiceMonitor.Enabled {
		objs = append(objs, serviceMonitor(c, namespace))
	}
	if c.Spec.TLS != nil && c.Spec.TLS.CertManager != nil {
		objs = append(objs, certificate(c, namespace))
	}

	sortObjects(objs)
	return objs, nil
}

// sortObjects puts objects in apply order: by kind, then by name.
func sortObjects(objs []*unstructured.Unstructured) {
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return cmp.Or(
			cmp.Compare(kindRank(a.GetKind()), kindRank(b.GetKind())),
			cmp.Compare(a.GetName(), b.GetName()),
		)
	})
}

// typedObjects builds the objects of the built-in kinds as client-go types.
func typedObjects(c *clusterfile.Cluster, namespace string, env Environment) ([]runtime.Object, error) {
	restart, dynamic := splitConf(c, neo4jConf(c, namespace))
	conf := renderConf(restart)
	hash := hashConf(conf)

	typed := []runtime.Object{withServiceAccountAnnotations(serviceAccount(c, namespace), c)}
	typed = append(typed, configMaps(c, namespace, conf, hash, renderConf(dynamic))...)
	typed = append(typed, headlessService(c, namespace), clientService(c, namespace))
	if isEnterprise(c) {
		// A standalone Community server gets no PDB: with one Pod, any
		// budget either allows its eviction (and protects nothing) or
		// forbids it and blocks every drain of its node.
		typed = append(typed,
			discoveryRole(c, namespace),
			discoveryRoleBinding(c, namespace),
			podDisruptionBudget(c, namespace),
		)
	}
	if np := c.Spec.Security.NetworkPolicy.Enabled; np != nil && *np {
		typed = append(typed, networkPolicy(c, namespace, env))
	}
	for _, pool := range Pools(c) {
		sts, err := statefulSet(c, namespace, pool, hash)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		typed = append(typed, sts)
	}
	return typed, nil
}

// toUnstructured converts a typed object to the map form the dynamic
// client sends. It goes through JSON rather than
// runtime.DefaultUnstructuredConverter: the result is the same (the JSON
// tags decide both; whole numbers decode as int64, as in objects read from
// the API server), but the converter's reflection cache is built per type
// on first use, and for the StatefulSet's type tree that cost 15-20 ms of
// every plan's start-up, while encoding/json is warm in a few.
func toUnstructured(o runtime.Object) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := utiljson.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// prune drops what the converter emits for unset fields that are not
// optional in Go (creationTimestamp: null, the status of claim
// templates), recursively, so
// rendered objects hold only what neo4jctl means to own under server-side
// apply.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			if k == "creationTimestamp" {
				delete(m, k)
			}
		case map[string]any:
			prune(v)
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					if k == "volumeClaimTemplates" {
						delete(em, "status")
					}
					prune(em)
				}
			}
		}
	}
}

// MarshalYAML encodes objects as one multi-document YAML stream, the
// format `neo4jctl render` prints and `kubectl apply -f -` reads. Keys are
// sorted, so equal objects always encode the same.
func MarshalYAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var out []byte
	for i, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", Address(o), err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, b...)
	}
	return out, nil
}

// unstructuredObjects converts typed objects into what is applied, with
// room for extra more (the CRD-kind objects built unstructured).
func unstructuredObjects(typed []runtime.Object, extra int) ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, 0, len(typed)+extra)
	for _, o := range typed {
		m, err := toUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("render: convert %T: %w", o, err)
		}
		// Status is the server's to write; the converter emits zero
		// values for it that must not be applied.
		delete(m, "status")
		prune(m)
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}
