package kube

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sentService is a prepared Service as apply sends it: stamped.
func sentService(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(`{
	  "apiVersion": "v1", "kind": "Service",
	  "metadata": {"name": "prod", "namespace": "db", "creationTimestamp": null,
	    "labels": {"neo4jctl.io/cluster": "prod", "app": "neo4j"}},
	  "spec": {"selector": {"app": "neo4j"}, "type": "ClusterIP",
	    "ports": [{"name": "bolt", "port": 7687, "targetPort": 7687}, {"name": "http", "port": 7474, "targetPort": "http"}],
	    "sessionAffinityConfig": {}},
	  "status": {"loadBalancer": {}}
	}`), &u.Object); err != nil {
		t.Fatal(err)
	}
	markMember(u, "db")
	return u
}

// liveOf is what the API server stores for sent: defaults (protocol,
// clusterIP, sessionAffinity), server metadata, neo4jctl's managed fields
// and a status-only entry of another manager. Numbers decode as int64, as
// the dynamic client decodes them.
func liveOf(t *testing.T, sent *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	b, err := json.Marshal(sent.Object)
	if err != nil {
		t.Fatal(err)
	}
	live := &unstructured.Unstructured{}
	if err := live.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	live.SetUID("u-1")
	live.SetResourceVersion("42")
	spec := live.Object["spec"].(map[string]any)
	delete(spec, "sessionAffinityConfig") // an empty struct the server drops
	spec["clusterIP"] = "10.0.0.7"
	spec["sessionAffinity"] = "None"
	for _, p := range spec["ports"].([]any) {
		p.(map[string]any)["protocol"] = "TCP"
	}
	md := live.Object["metadata"].(map[string]any)
	delete(md, "creationTimestamp")
	md["creationTimestamp"] = "2026-12-07T20:00:00Z"
	md["managedFields"] = []any{
		map[string]any{"manager": "neo4jctl", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{"f:app": map[string]any{}, "f:neo4jctl.io/cluster": map[string]any{}}},
				"f:spec": map[string]any{"f:selector": map[string]any{}, "f:ports": map[string]any{`k:{"port":7687,"protocol":"TCP"}`: map[string]any{".": map[string]any{}, "f:port": map[string]any{}}}}}},
		map[string]any{"manager": "some-controller", "operation": "Update", "subresource": "status", "apiVersion": "v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:status": map[string]any{"f:loadBalancer": map[string]any{}}}},
	}
	live.Object["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{}}}
	return live
}

func TestProvablyUnchanged(t *testing.T) {
	if !provablyUnchanged(sentService(t), liveOf(t, sentService(t))) {
		t.Fatal("the object as neo4jctl applied it, defaulted by the server, is not proven unchanged")
	}
	cases := []struct {
		name string
		edit func(sent, live *unstructured.Unstructured)
	}{
		{"configuration changed since the apply", func(sent, live *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(sent.Object, "LoadBalancer", "spec", "type")
			stamp(sent)
		}},
		{"a field left the configuration", func(sent, live *unstructured.Unstructured) {
			// live still has the label neo4jctl applied before; only the
			// hash tells.
			unstructured.RemoveNestedField(sent.Object, "metadata", "labels", "app")
			stamp(sent)
		}},
		{"no stamp live (applied by an older neo4jctl)", func(sent, live *unstructured.Unstructured) {
			unstructured.RemoveNestedField(live.Object, "metadata", "annotations")
		}},
		{"nothing stamped to compare (a Secret)", func(sent, live *unstructured.Unstructured) {
			unstructured.RemoveNestedField(sent.Object, "metadata", "annotations")
		}},
		{"another manager changed a field", func(sent, live *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(live.Object, "other", "metadata", "labels", "app")
			addManager(live, "kubectl-edit", "Update", "", map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{"f:app": map[string]any{}}}})
		}},
		{"another manager owns a field it did not change (kubectl annotate)", func(sent, live *unstructured.Unstructured) {
			addManager(live, "kubectl-annotate", "Update", "", map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{"f:x": map[string]any{}}}})
		}},
		{"Helm owns fields", func(sent, live *unstructured.Unstructured) {
			addManager(live, "helm", "Update", "", map[string]any{"f:spec": map[string]any{"f:type": map[string]any{}}})
		}},
		{"an autoscaler through the scale subresource", func(sent, live *unstructured.Unstructured) {
			addManager(live, "kube-controller-manager", "Update", "scale", map[string]any{"f:spec": map[string]any{"f:replicas": map[string]any{}}})
		}},
		{"a status-subresource entry owning metadata", func(sent, live *unstructured.Unstructured) {
			addManager(live, "some-controller", "Update", "status", map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{}}})
		}},
		{"neo4jctl through an Update (a webhook's change during its apply)", func(sent, live *unstructured.Unstructured) {
			addManager(live, "neo4jctl", "Update", "", map[string]any{"f:spec": map[string]any{"f:externalName": map[string]any{}}})
		}},
		{"unreadable managed fields", func(sent, live *unstructured.Unstructured) {
			addManager(live, "x", "Update", "status", "not a map")
		}},
		{"no neo4jctl entry (managedFields reset)", func(sent, live *unstructured.Unstructured) {
			live.Object["metadata"].(map[string]any)["managedFields"] = []any{}
		}},
		{"a label removed by another manager, no trace in managedFields", func(sent, live *unstructured.Unstructured) {
			unstructured.RemoveNestedField(live.Object, "metadata", "labels", "app")
		}},
		{"a list item removed", func(sent, live *unstructured.Unstructured) {
			ports, _, _ := unstructured.NestedSlice(live.Object, "spec", "ports")
			_ = unstructured.SetNestedSlice(live.Object, ports[:1], "spec", "ports")
		}},
		{"a list item changed", func(sent, live *unstructured.Unstructured) {
			ports, _, _ := unstructured.NestedSlice(live.Object, "spec", "ports")
			ports[1].(map[string]any)["targetPort"] = int64(7475)
			_ = unstructured.SetNestedSlice(live.Object, ports, "spec", "ports")
		}},
		{"a number of another value", func(sent, live *unstructured.Unstructured) {
			ports, _, _ := unstructured.NestedSlice(live.Object, "spec", "ports")
			ports[0].(map[string]any)["port"] = int64(7688)
			_ = unstructured.SetNestedSlice(live.Object, ports, "spec", "ports")
		}},
		{"being deleted", func(sent, live *unstructured.Unstructured) {
			live.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-12-07T20:01:00Z"
		}},
		{"another apiVersion", func(sent, live *unstructured.Unstructured) {
			live.SetAPIVersion("v2")
		}},
		{"a custom resource, whose CRD may have changed since", func(sent, live *unstructured.Unstructured) {
			for _, u := range []*unstructured.Unstructured{sent, live} {
				u.SetAPIVersion("monitoring.coreos.com/v1")
			}
			stamp(sent)
			_ = unstructured.SetNestedField(live.Object, stampOf(sent), "metadata", "annotations", AppliedHashAnnotation)
		}},
		{"a value the configuration sets missing live, stamp equal", func(sent, live *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(sent.Object, "x", "spec", "loadBalancerClass")
			stamp(sent)
			_ = unstructured.SetNestedField(live.Object, stampOf(sent), "metadata", "annotations", AppliedHashAnnotation)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := sentService(t)
			live := liveOf(t, sent)
			tc.edit(sent, live)
			if provablyUnchanged(sent, live) {
				t.Errorf("proven unchanged; it must be dry-run")
			}
		})
	}
}

func addManager(live *unstructured.Unstructured, manager, op, sub string, fields any) {
	md := live.Object["metadata"].(map[string]any)
	e := map[string]any{"manager": manager, "operation": op, "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": fields}
	if sub != "" {
		e["subresource"] = sub
	}
	md["managedFields"] = append(md["managedFields"].([]any), e)
}

func TestAppliedHash(t *testing.T) {
	a := sentService(t)
	h := stampOf(a)
	if len(h) != 64 {
		t.Fatalf("stamp %q, want a hex sha256", h)
	}
	// Stable: stamping again, in another namespace, or from an object that
	// numbers its ports with other Go types gives the same stamp.
	b := sentService(t)
	b.SetNamespace("elsewhere")
	ports, _, _ := unstructured.NestedSlice(b.Object, "spec", "ports")
	ports[0].(map[string]any)["port"] = int64(7687)
	_ = unstructured.SetNestedSlice(b.Object, ports, "spec", "ports")
	stamp(b)
	stamp(b)
	if stampOf(b) != h {
		t.Errorf("restamped: %s, want %s", stampOf(b), h)
	}
	// It covers the configuration: the ApplySet label, any value.
	c := sentService(t)
	labels := c.GetLabels()
	delete(labels, ApplySetPartOfLabel)
	c.SetLabels(labels)
	stamp(c)
	if stampOf(c) == h {
		t.Error("the stamp does not cover the ApplySet label")
	}
	// The object without its stamp is unchanged by unstamped.
	before, _ := json.Marshal(a.Object)
	_ = unstamped(a.Object, true)
	after, _ := json.Marshal(a.Object)
	if string(before) != string(after) {
		t.Error("unstamped modified its argument")
	}
	if _, ok := unstamped(a.Object, false)["metadata"].(map[string]any)["annotations"]; ok {
		t.Error("unstamped kept an annotations map holding only the stamp")
	}
	// Normalize drops it: plans and fingerprints never show it.
	if ann, _, _ := unstructured.NestedStringMap(Normalize(a.Object), "metadata", "annotations"); ann[AppliedHashAnnotation] != "" {
		t.Error("Normalize keeps the stamp")
	}
	// Secrets are never stamped.
	s := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "auth", "labels": map[string]any{ClusterLabel: "prod"},
			"annotations": map[string]any{AppliedHashAnnotation: "stale"}},
		"stringData": map[string]any{"password": "pw"}}}
	markMember(s, "db")
	if stampOf(s) != "" {
		t.Error("a Secret was stamped")
	}
}
