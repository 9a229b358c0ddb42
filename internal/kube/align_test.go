package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAlignLists(t *testing.T) {
	port := func(name string, p int64) map[string]any {
		return map[string]any{"name": name, "port": p, "protocol": "TCP"}
	}
	managed := []metav1.ManagedFieldsEntry{{Manager: "neo4jctl", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: fieldsV1(`{
		"f:metadata":{"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}}},
		"f:spec":{"f:ports":{"k:{\"port\":7687,\"protocol\":\"TCP\"}":{".":{},"f:name":{}},"k:{\"port\":7474,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}},
		"f:args":{},
		"f:containers":{"k:{\"name\":\"neo4j\"}":{".":{},"f:ports":{"k:{\"containerPort\":7687,\"protocol\":\"TCP\"}":{".":{}},"k:{\"containerPort\":7474,\"protocol\":\"TCP\"}":{".":{}}}}}}}`)}}
	cport := func(p int64) map[string]any { return map[string]any{"containerPort": p, "protocol": "TCP"} }
	tests := []struct {
		name       string
		live, pred map[string]any
		want       map[string]any
	}{
		{
			name: "list-map, set and nested list-map follow live order",
			live: map[string]any{
				"metadata": map[string]any{"finalizers": []any{"a", "b"}},
				"spec": map[string]any{
					"ports":      []any{port("bolt", 7687), port("http", 7474)},
					"containers": []any{map[string]any{"name": "neo4j", "ports": []any{cport(7687), cport(7474)}}},
				},
			},
			pred: map[string]any{
				"metadata": map[string]any{"finalizers": []any{"b", "a"}},
				"spec": map[string]any{
					"ports":      []any{port("http", 7474), port("bolt", 7687)},
					"containers": []any{map[string]any{"name": "neo4j", "ports": []any{cport(7474), cport(7687)}}},
				},
			},
			want: map[string]any{
				"metadata": map[string]any{"finalizers": []any{"a", "b"}},
				"spec": map[string]any{
					"ports":      []any{port("bolt", 7687), port("http", 7474)},
					"containers": []any{map[string]any{"name": "neo4j", "ports": []any{cport(7687), cport(7474)}}},
				},
			},
		},
		{
			name: "new items keep their rendered order after the known ones; changed values stay",
			live: map[string]any{"spec": map[string]any{"ports": []any{port("bolt", 7687)}}},
			pred: map[string]any{"spec": map[string]any{"ports": []any{port("http", 7474), port("bolt-renamed", 7687), port("backup", 6362)}}},
			want: map[string]any{"spec": map[string]any{"ports": []any{port("bolt-renamed", 7687), port("http", 7474), port("backup", 6362)}}},
		},
		{
			name: "atomic lists keep their order: it is meaningful",
			live: map[string]any{"spec": map[string]any{"args": []any{"--a", "--b"}}},
			pred: map[string]any{"spec": map[string]any{"args": []any{"--b", "--a"}}},
			want: map[string]any{"spec": map[string]any{"args": []any{"--b", "--a"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alignLists(shapeOf(managed), tt.live, tt.pred)
			if diff := cmp.Diff(tt.want, tt.pred); diff != "" {
				t.Errorf("alignLists() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
