package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/plan"
)

func statefulSet(memLimit, cpu any, image string) map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": "prod", "namespace": "graph"},
		"spec": map[string]any{"replicas": float64(3), "template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "init", "image": "busybox"},
			map[string]any{"name": "neo4j", "image": image,
				"env":       []any{map[string]any{"name": "NEO4J_AUTH", "value": "neo4j/hunter2"}},
				"resources": map[string]any{"limits": map[string]any{"memory": memLimit}, "requests": map[string]any{"cpu": cpu}}},
		}}}},
	}
}

const memPtr = "/spec/template/spec/containers/neo4j/resources/limits/memory"

func TestEvaluatePolicies(t *testing.T) {
	objs := []map[string]any{statefulSet("4Gi", "1", "neo4j:5.26.0-enterprise")}
	settings := map[string]string{"server.memory.heap.max_size": "512m", "db.logs.query.enabled": "verbose", "dbms.security.auth_password": "hunter2"}
	tests := []struct {
		name      string
		rule      clusterfile.PolicyRule
		objs      []map[string]any
		settings  map[string]string
		wantMsg   string // "" means no violation
		wantValue any
	}{
		{name: "min holds across units", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: memPtr, Min: "4096Mi"}},
		{name: "min fails", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: memPtr, Min: "8Gi"},
			wantMsg: `"4Gi" is less than the minimum 8Gi`, wantValue: "4Gi"},
		{name: "max fails with a Neo4j size against a quantity", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: memPtr, Max: "2g"},
			wantMsg: `"4Gi" is more than the maximum 2g`, wantValue: "4Gi"},
		{name: "cpu 1 equals 1000m", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/neo4j/resources/requests/cpu", Equals: "1000m"}},
		{name: "list element by index", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/0/image", Equals: "busybox"}},
		{name: "replicas min", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/replicas", Min: "5"},
			wantMsg: `"3" is less than the minimum 5`, wantValue: float64(3)},
		{name: "regex fails", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/neo4j/image", Regex: `^neo4j:2025\.`},
			wantMsg: `"neo4j:5.26.0-enterprise" does not match ^neo4j:2025\.`, wantValue: "neo4j:5.26.0-enterprise"},
		{name: "required field missing", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/priorityClassName", Required: true},
			wantMsg: "is not set (required)"},
		{name: "unset field passes without required", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/priorityClassName", Equals: "high"}},
		{name: "required kind absent", rule: clusterfile.PolicyRule{Kind: "NetworkPolicy", JSONPointer: "/spec", Required: true},
			wantMsg: "no NetworkPolicy to check /spec on"},
		{name: "objectName narrows", rule: clusterfile.PolicyRule{Kind: "StatefulSet", ObjectName: "other", JSONPointer: "/spec/replicas", Min: "5"}},
		{name: "setting min in Neo4j units: 512m is 512 MiB", rule: clusterfile.PolicyRule{Setting: "server.memory.heap.max_size", Min: "1g"},
			settings: settings, wantMsg: `"512m" is less than the minimum 1g`, wantValue: "512m"},
		{name: "setting holds with Kubernetes units", rule: clusterfile.PolicyRule{Setting: "server.memory.heap.max_size", Max: "512Mi"}, settings: settings},
		{name: "setting oneOf is case-insensitive", rule: clusterfile.PolicyRule{Setting: "db.logs.query.enabled", OneOf: []string{"INFO", "VERBOSE"}}, settings: settings},
		{name: "setting oneOf fails", rule: clusterfile.PolicyRule{Setting: "db.logs.query.enabled", OneOf: []string{"OFF"}},
			settings: settings, wantMsg: `"verbose" is not one of OFF`, wantValue: "verbose"},
		{name: "setting required but unset", rule: clusterfile.PolicyRule{Setting: "db.transaction.timeout", Required: true}, settings: settings,
			wantMsg: "is not set (required)"},
		{name: "setting rules skipped when settings unknown", rule: clusterfile.PolicyRule{Setting: "db.transaction.timeout", Required: true}},
		{name: "secret setting value redacted", rule: clusterfile.PolicyRule{Setting: "dbms.security.auth_password", Equals: "x"}, settings: settings,
			wantMsg: plan.Sensitive + ` is not "x"`, wantValue: plan.Sensitive},
		{name: "secret env value redacted", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/neo4j/env/0/value", Regex: "^$"},
			wantMsg: plan.Sensitive + " does not match ^$", wantValue: plan.Sensitive},
		{name: "two checks fail together", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: memPtr, Min: "8Gi", Equals: "16Gi"},
			wantMsg: `"4Gi" is less than the minimum 8Gi; "4Gi" is not "16Gi"`, wantValue: "4Gi"},
		{name: "not an amount", rule: clusterfile.PolicyRule{Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/neo4j/image", Max: "1"},
			wantMsg: `"neo4j:5.26.0-enterprise" is not an amount to compare with 1`, wantValue: "neo4j:5.26.0-enterprise"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.objs
			if o == nil {
				o = objs
			}
			tc.rule.Name, tc.rule.Severity = "r", "critical"
			got := EvaluatePolicies([]Rule{{PolicyRule: tc.rule, Path: "spec.policies[0]", File: "c.yaml", Line: 7}}, o, tc.settings)
			if tc.wantMsg == "" {
				if len(got) != 0 {
					t.Fatalf("got %+v, want no violation", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d violations %+v, want 1", len(got), got)
			}
			v := got[0]
			if diff := cmp.Diff(tc.wantMsg, v.Message); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantValue, v.Value); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if v.Severity != SeverityCritical || v.Line != 7 || v.File != "c.yaml" || v.Rule != "r" {
				t.Errorf("got severity %s at %s:%d rule %q, want critical at c.yaml:7 rule r", v.Severity, v.File, v.Line, v.Rule)
			}
		})
	}
}

func TestDefaultSeverityIsError(t *testing.T) {
	got := EvaluatePolicies([]Rule{{PolicyRule: clusterfile.PolicyRule{Name: "r", Setting: "a.b", Required: true}}}, nil, map[string]string{})
	if len(got) != 1 || got[0].Severity != SeverityError {
		t.Errorf("got %+v, want one violation of severity error", got)
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in      string
		setting bool
		want    float64
	}{
		{"2Gi", false, 2 << 30},
		{"500m", false, 0.5},
		{"500m", true, 500 << 20},
		{"4g", false, 4 << 30},
		{"4G", true, 4 << 30},
		{"1.00GiB", true, 1 << 30},
		{"512MiB", true, 512 << 20},
		{"1k", true, 1024},
		{"1000", true, 1000},
		{"1", false, 1},
		{"1000m", false, 1},
	} {
		got, err := clusterfile.ParseAmount(tc.in, tc.setting)
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q, %v): got %v, %v; want %v", tc.in, tc.setting, got, err, tc.want)
		}
	}
	if _, err := clusterfile.ParseAmount("lots", false); err == nil {
		t.Error(`ParseAmount("lots"): got no error`)
	}
}

func TestConfSettings(t *testing.T) {
	objs := []map[string]any{
		{"kind": "ConfigMap", "data": map[string]any{"neo4j.conf": "# comment\na.b=1\n\nc.d = x y\n"}},
		{"kind": "Service"},
	}
	if diff := cmp.Diff(map[string]string{"a.b": "1", "c.d": "x y"}, ConfSettings(objs)); diff != "" {
		t.Errorf("ConfSettings (-want +got):\n%s", diff)
	}
}
