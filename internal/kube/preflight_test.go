package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func TestReferencesOf(t *testing.T) {
	docs := []string{`
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      imagePullSecrets: [{name: pull}]
      containers:
      - name: neo4j
        env:
        - {name: PW, valueFrom: {secretKeyRef: {name: auth, key: password}}}
        - {name: OPT, valueFrom: {secretKeyRef: {name: maybe, key: x, optional: true}}}
        envFrom: [{configMapRef: {name: extra}}]
      volumes:
      - name: tls
        projected:
          sources:
          - secret: {name: cert-tls, items: [{key: tls.crt, path: a}, {key: tls.key, path: b}]}
          - secret: {name: cert-tls, items: [{key: ca.crt, path: c}], optional: true}
      - name: own
        configMap: {name: db-config}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: fast}
  - metadata: {name: logs}
    spec: {}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: db-config}
`, `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: db-tls}
spec:
  secretName: cert-tls
  issuerRef: {name: ca, kind: ClusterIssuer}
`, `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: db}
`}
	var objs []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	got := ReferencesOf(objs)
	want := References{
		// cert-tls comes from the rendered Certificate, maybe is optional,
		// db-config is rendered.
		Secrets:        map[string]map[string]bool{"auth": {"password": true}, "pull": {}},
		ConfigMaps:     map[string]map[string]bool{"extra": {}},
		StorageClasses: map[string]bool{"fast": true},
		DefaultClass:   true,
		Kinds: []schema.GroupVersionKind{
			{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"},
			{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"},
		},
		Issuers: map[string]bool{"ClusterIssuer/ca": true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReferencesOf (-want +got):\n%s", d)
	}
}
