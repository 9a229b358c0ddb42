package kube

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// podSpecOf finds the Pod template of a workload (StatefulSet, Deployment,
// Job, DaemonSet, ReplicaSet; CronJob one level deeper; a bare Pod) as the
// unstructured map it is.
//
// It used to convert the template into a corev1.PodSpec with
// runtime.DefaultUnstructuredConverter, which walks every field of the
// template by reflection to read the dozen addPodSpec needs: about 10 % of
// a plan's client CPU (docs/benchmarks.md). addPodSpec reads those fields
// from the map instead; TestPodRefsMatchConverter holds the answers to
// the converter's on the examples' rendered objects.
func podSpecOf(u *unstructured.Unstructured) (map[string]any, bool) {
	var path []string
	switch u.GetKind() {
	case "StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template", "spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Pod":
		path = []string{"spec"}
	default:
		return nil, false
	}
	m, ok := nestedMap(u.Object, path...)
	return m, ok
}

// nestedMap is unstructured.NestedMap without its deep copy: the map is
// only read.
func nestedMap(m map[string]any, path ...string) (map[string]any, bool) {
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

// maps returns the elements of the list at m[key] that are objects.
func maps(m map[string]any, key string) []map[string]any {
	list, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if em, ok := e.(map[string]any); ok {
			out = append(out, em)
		}
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// child returns m[key] when it is an object.
func child(m map[string]any, key string) (map[string]any, bool) {
	c, ok := m[key].(map[string]any)
	return c, ok
}

// optionalRef: a reference marked optional: true is not required.
func optionalRef(m map[string]any) bool {
	b, _ := m["optional"].(bool)
	return b
}

func need(m map[string]map[string]bool, name string, keys ...string) {
	if name == "" {
		return
	}
	if m[name] == nil {
		m[name] = map[string]bool{}
	}
	for _, k := range keys {
		m[name][k] = true
	}
}

// addPodSpec records the Secrets and ConfigMaps a Pod spec needs (not
// optional ones): image pull secrets, secret/configMap volumes and the
// sources of projected volumes (with the keys their items name), env
// valueFrom secretKeyRef/configMapKeyRef and envFrom, of init and
// regular containers.
func (r *References) addPodSpec(spec map[string]any) {
	for _, s := range maps(spec, "imagePullSecrets") {
		need(r.Secrets, str(s, "name"))
	}
	for _, v := range maps(spec, "volumes") {
		if s, ok := child(v, "secret"); ok && !optionalRef(s) {
			need(r.Secrets, str(s, "secretName"), itemKeys(s)...)
		}
		if c, ok := child(v, "configMap"); ok && !optionalRef(c) {
			need(r.ConfigMaps, str(c, "name"), itemKeys(c)...)
		}
		if p, ok := child(v, "projected"); ok {
			for _, src := range maps(p, "sources") {
				if s, ok := child(src, "secret"); ok && !optionalRef(s) {
					need(r.Secrets, str(s, "name"), itemKeys(s)...)
				}
				if c, ok := child(src, "configMap"); ok && !optionalRef(c) {
					need(r.ConfigMaps, str(c, "name"), itemKeys(c)...)
				}
			}
		}
	}
	for _, list := range []string{"initContainers", "containers"} {
		for _, c := range maps(spec, list) {
			for _, e := range maps(c, "env") {
				from, ok := child(e, "valueFrom")
				if !ok {
					continue
				}
				if s, ok := child(from, "secretKeyRef"); ok && !optionalRef(s) {
					need(r.Secrets, str(s, "name"), str(s, "key"))
				}
				if cm, ok := child(from, "configMapKeyRef"); ok && !optionalRef(cm) {
					need(r.ConfigMaps, str(cm, "name"), str(cm, "key"))
				}
			}
			for _, e := range maps(c, "envFrom") {
				if s, ok := child(e, "secretRef"); ok && !optionalRef(s) {
					need(r.Secrets, str(s, "name"))
				}
				if cm, ok := child(e, "configMapRef"); ok && !optionalRef(cm) {
					need(r.ConfigMaps, str(cm, "name"))
				}
			}
		}
	}
}

// itemKeys are the keys the items of a secret/configMap source project.
func itemKeys(src map[string]any) []string {
	items := maps(src, "items")
	keys := make([]string, 0, len(items))
	for _, it := range items {
		keys = append(keys, str(it, "key"))
	}
	return keys
}
