package kube

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// converterRefs is how pre-flight read a Pod template before podrefs.go:
// converted to a corev1.PodSpec by reflection, then walked as types. It
// is kept here as the reference the map reading must agree with.
func converterRefs(u *unstructured.Unstructured) (References, bool) {
	r := References{Secrets: map[string]map[string]bool{}, ConfigMaps: map[string]map[string]bool{}}
	var path []string
	switch u.GetKind() {
	case "StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template", "spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Pod":
		path = []string{"spec"}
	default:
		return r, false
	}
	m, found, _ := unstructured.NestedMap(u.Object, path...)
	if !found {
		return r, false
	}
	var spec corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec); err != nil {
		return r, false
	}
	opt := func(b *bool) bool { return b != nil && *b }
	keys := func(items []corev1.KeyToPath) []string {
		var ks []string
		for _, it := range items {
			ks = append(ks, it.Key)
		}
		return ks
	}
	for _, s := range spec.ImagePullSecrets {
		need(r.Secrets, s.Name)
	}
	for _, v := range spec.Volumes {
		if s := v.Secret; s != nil && !opt(s.Optional) {
			need(r.Secrets, s.SecretName, keys(s.Items)...)
		}
		if c := v.ConfigMap; c != nil && !opt(c.Optional) {
			need(r.ConfigMaps, c.Name, keys(c.Items)...)
		}
		if p := v.Projected; p != nil {
			for _, src := range p.Sources {
				if s := src.Secret; s != nil && !opt(s.Optional) {
					need(r.Secrets, s.Name, keys(s.Items)...)
				}
				if c := src.ConfigMap; c != nil && !opt(c.Optional) {
					need(r.ConfigMaps, c.Name, keys(c.Items)...)
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if s := e.ValueFrom.SecretKeyRef; s != nil && !opt(s.Optional) {
				need(r.Secrets, s.Name, s.Key)
			}
			if cm := e.ValueFrom.ConfigMapKeyRef; cm != nil && !opt(cm.Optional) {
				need(r.ConfigMaps, cm.Name, cm.Key)
			}
		}
		for _, e := range c.EnvFrom {
			if s := e.SecretRef; s != nil && !opt(s.Optional) {
				need(r.Secrets, s.Name)
			}
			if cm := e.ConfigMapRef; cm != nil && !opt(cm.Optional) {
				need(r.ConfigMaps, cm.Name)
			}
		}
	}
	return r, true
}

func mapRefs(u *unstructured.Unstructured) (References, bool) {
	r := References{Secrets: map[string]map[string]bool{}, ConfigMaps: map[string]map[string]bool{}}
	spec, ok := podSpecOf(u)
	if ok {
		r.addPodSpec(spec)
	}
	return r, ok
}

// renderedExamples are the objects of every example cluster file,
// rendered.
func renderedExamples(t testing.TB) map[string][]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	out := map[string][]*unstructured.Unstructured{}
	for _, f := range files {
		c, err := clusterfile.LoadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		objs, err := manifests.Render(c, "ns")
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = objs
	}
	return out
}

// allReferences is a workload with every kind of reference pre-flight
// reads, optional and not, in init and regular containers, plus a CronJob
// and a bare Pod: the examples render only some of them.
const allReferences = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: all}
spec:
  template:
    spec:
      imagePullSecrets: [{name: pull-a}, {name: pull-b}]
      initContainers:
      - name: init
        env:
        - {name: A, value: plain}
        - {name: B, valueFrom: {secretKeyRef: {name: init-secret, key: k1}}}
        - {name: C, valueFrom: {configMapKeyRef: {name: init-cm, key: k2}}}
        - {name: D, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        envFrom: [{secretRef: {name: init-env}}, {configMapRef: {name: init-envcm, optional: true}}]
      containers:
      - name: main
        env:
        - {name: E, valueFrom: {secretKeyRef: {name: opt-secret, key: k, optional: true}}}
        - {name: F, valueFrom: {configMapKeyRef: {name: main-cm, key: k3, optional: false}}}
        envFrom: [{secretRef: {name: main-env, optional: false}}, {configMapRef: {name: main-envcm}}, {prefix: X_}]
      - name: side
        env: [{name: G, valueFrom: {secretKeyRef: {name: init-secret, key: k4}}}]
      volumes:
      - {name: v1, secret: {secretName: vol-secret}}
      - {name: v2, secret: {secretName: vol-secret-items, items: [{key: a, path: a}, {key: b, path: b}]}}
      - {name: v3, secret: {secretName: vol-opt, optional: true}}
      - {name: v4, configMap: {name: vol-cm, items: [{key: c, path: c}]}}
      - {name: v5, configMap: {name: vol-cm-opt, optional: true}}
      - {name: v6, emptyDir: {}}
      - name: v7
        projected:
          sources:
          - secret: {name: proj-secret, items: [{key: tls.crt, path: x}]}
          - secret: {name: proj-opt, optional: true}
          - configMap: {name: proj-cm}
          - configMap: {name: proj-cm-opt, items: [{key: z, path: z}], optional: true}
          - serviceAccountToken: {path: token}
          - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            envFrom: [{secretRef: {name: cron-env}}]
          volumes: [{name: s, secret: {secretName: cron-vol}}]
---
apiVersion: v1
kind: Pod
metadata: {name: pod}
spec:
  containers: [{name: c, env: [{name: P, valueFrom: {secretKeyRef: {name: pod-secret, key: p}}}]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: no-template}
spec: {}
`

// TestPodRefsMatchConverter: reading the Pod template straight from the
// map finds the same Secrets, ConfigMaps and keys as converting it to a
// corev1.PodSpec did, for every rendered object of every example and for
// a workload using every kind of reference.
func TestPodRefsMatchConverter(t *testing.T) {
	sets := renderedExamples(t)
	var extra []*unstructured.Unstructured
	for _, doc := range splitYAML(allReferences) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, u)
	}
	sets["allReferences"] = extra
	workloads, nonEmpty := 0, 0
	for name, objs := range sets {
		for _, u := range objs {
			want, wantOK := converterRefs(u)
			got, gotOK := mapRefs(u)
			if wantOK != gotOK {
				t.Errorf("%s: %s %s: Pod template found %v, want %v", name, u.GetKind(), u.GetName(), gotOK, wantOK)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s: %s %s: references (-converter +map):\n%s", name, u.GetKind(), u.GetName(), d)
			}
			if wantOK {
				workloads++
			}
			if len(want.Secrets)+len(want.ConfigMaps) > 0 {
				nonEmpty++
			}
		}
	}
	// The comparison means something only if it saw references.
	if workloads < 8 || nonEmpty < 8 {
		t.Errorf("only %d workloads, %d with references: the examples changed?", workloads, nonEmpty)
	}
	// The hand-written workload's answer, spelled out.
	all, _ := mapRefs(extra[0])
	want := References{
		Secrets: map[string]map[string]bool{
			"pull-a": {}, "pull-b": {}, "init-secret": {"k1": true, "k4": true}, "init-env": {},
			"main-env": {}, "vol-secret": {}, "vol-secret-items": {"a": true, "b": true},
			"proj-secret": {"tls.crt": true},
		},
		ConfigMaps: map[string]map[string]bool{
			"init-cm": {"k2": true}, "main-cm": {"k3": true}, "main-envcm": {},
			"vol-cm": {"c": true}, "proj-cm": {},
		},
	}
	if d := cmp.Diff(want, all); d != "" {
		t.Errorf("allReferences (-want +got):\n%s", d)
	}
}

// TestReferencesOfAllocs: pre-flight runs on every plan over every
// rendered object; converting each Pod template by reflection made it
// one of a plan's largest client-side costs. Reading the map allocates
// only the answer.
func TestReferencesOfAllocs(t *testing.T) {
	objs := renderedExamples(t)["production.yaml"]
	allocs := testing.AllocsPerRun(20, func() { ReferencesOf(objs) })
	if allocs > 300 {
		t.Errorf("ReferencesOf of the production example's %d objects: %.0f allocations, want at most 300", len(objs), allocs)
	}
}

func BenchmarkReferencesOf(b *testing.B) {
	objs := renderedExamples(b)["production.yaml"]
	b.ReportAllocs()
	for b.Loop() {
		ReferencesOf(objs)
	}
}

func splitYAML(s string) []string {
	var out []string
	for _, d := range strings.Split(s, "\n---\n") {
		if strings.TrimSpace(d) != "" {
			out = append(out, d)
		}
	}
	return out
}
