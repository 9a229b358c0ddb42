package clusterfile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNamespace(t *testing.T) {
	tests := []struct {
		name      string
		file      string // metadata.namespace
		flag      string
		want      string
		wantError string
	}{
		{name: "neither", want: "default"},
		{name: "file only", file: "graphs", want: "graphs"},
		{name: "flag only", flag: "team-a", want: "team-a"},
		{name: "both agree", file: "graphs", flag: "graphs", want: "graphs"},
		{name: "both disagree", file: "graphs", flag: "team-a",
			wantError: `c.yaml:4: metadata.namespace: the file sets namespace "graphs" but --namespace is "team-a" (drop --namespace, or make it match metadata.namespace)`},
		{name: "invalid flag", flag: "Team_A", wantError: `--namespace "Team_A"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cluster{
				Metadata: Metadata{Name: "graph", Namespace: tt.file},
				Source:   &Source{File: "c.yaml", Positions: map[string]Position{"metadata.namespace": {Line: 4, Column: 3}}},
			}
			got, err := c.Namespace(tt.flag)
			if tt.wantError != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantError) {
					t.Fatalf("got %q, %v, want error starting %q", got, err, tt.wantError)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestNamespaceMismatchIsErrorList(t *testing.T) {
	c := &Cluster{Metadata: Metadata{Namespace: "a"}}
	_, err := c.Namespace("b")
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %T, want *ErrorList so that the command exits 1", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "metadata.namespace" {
		t.Errorf("got %v, want a FieldError at metadata.namespace", fe)
	}
}

// TestDefaultIdempotent runs Default twice over every valid file: the
// second run must change nothing.
func TestDefaultIdempotent(t *testing.T) {
	for _, file := range clusterFiles(t, filepath.Join("testdata", "valid")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			again, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			Default(again)
			if diff := cmp.Diff(c, again); diff != "" {
				t.Errorf("second Default changed the cluster (-once +twice):\n%s", diff)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	tests := []struct {
		name string
		in   Spec
		want func(s Spec) any // the part of the defaulted spec under test
		exp  any
	}{
		{name: "enterprise image", in: Spec{Edition: EditionEnterprise, Version: "2025.10.1"},
			want: func(s Spec) any { return s.Image }, exp: "neo4j:2025.10.1-enterprise"},
		{name: "community image", in: Spec{Edition: EditionCommunity, Version: "5.26.0"},
			want: func(s Spec) any { return s.Image }, exp: "neo4j:5.26.0"},
		{name: "explicit image kept", in: Spec{Edition: EditionCommunity, Version: "5.26.0", Image: "mirror/neo4j:5.26.0"},
			want: func(s Spec) any { return s.Image }, exp: "mirror/neo4j:5.26.0"},
		{name: "community is one server", in: Spec{Edition: EditionCommunity},
			want: func(s Spec) any { return s.Servers }, exp: int32(1)},
		{name: "enterprise servers not guessed", in: Spec{Edition: EditionEnterprise},
			want: func(s Spec) any { return []int32{s.Servers, s.SystemPrimaries} }, exp: []int32{0, 0}},
		{name: "system primaries capped at 3", in: Spec{Edition: EditionEnterprise, Servers: 7},
			want: func(s Spec) any { return s.SystemPrimaries }, exp: int32(3)},
		{name: "system primaries of a small cluster", in: Spec{Edition: EditionEnterprise, Servers: 2},
			want: func(s Spec) any { return s.SystemPrimaries }, exp: int32(2)},
		{name: "memory limit follows request", in: Spec{Resources: Resources{Neo4j: ContainerResources{Requests: ResourceList{Memory: "8Gi"}}}},
			want: func(s Spec) any { return s.Resources.Neo4j }, exp: ContainerResources{Requests: ResourceList{CPU: "1", Memory: "8Gi"}, Limits: ResourceList{Memory: "8Gi"}}},
		{name: "request follows limit", in: Spec{Resources: Resources{Neo4j: ContainerResources{Limits: ResourceList{CPU: "4", Memory: "16Gi"}}}},
			want: func(s Spec) any { return s.Resources.Neo4j }, exp: ContainerResources{Requests: ResourceList{CPU: "4", Memory: "16Gi"}, Limits: ResourceList{CPU: "4", Memory: "16Gi"}}},
		{name: "pool inherits what it leaves out", in: Spec{Edition: EditionEnterprise, ServerPools: []ServerPool{{Name: "p", Servers: 1, Resources: &Resources{Neo4j: ContainerResources{Requests: ResourceList{CPU: "2"}}}}}},
			want: func(s Spec) any { return s.ServerPools[0].Resources.Neo4j }, exp: ContainerResources{Requests: ResourceList{CPU: "2", Memory: "2Gi"}, Limits: ResourceList{Memory: "2Gi"}}},
		{name: "tls scopes and issuer kind", in: Spec{TLS: &TLS{CertManager: &CertManager{IssuerRef: IssuerRef{Name: "ca"}}}},
			want: func(s Spec) any { return []string{s.TLS.Scopes[0], s.TLS.Scopes[1], s.TLS.CertManager.IssuerRef.Kind} }, exp: []string{"bolt", "https", "Issuer"}},
		{name: "database topology and access", in: Spec{Databases: []Database{{Name: "movies"}}},
			want: func(s Spec) any { return s.Databases[0] }, exp: Database{Name: "movies", Topology: Topology{Primaries: 1}, Access: "read-write"}},
		{name: "metrics port only when enabled", in: Spec{},
			want: func(s Spec) any { return s.Monitoring }, exp: Monitoring{}},
		{name: "metrics defaults", in: Spec{Monitoring: Monitoring{Metrics: Metrics{Enabled: true}, ServiceMonitor: ServiceMonitor{Enabled: true}}},
			want: func(s Spec) any { return s.Monitoring }, exp: Monitoring{Metrics: Metrics{Enabled: true, Port: 2004}, ServiceMonitor: ServiceMonitor{Enabled: true, Interval: "30s"}}},
		{name: "secret key", in: Spec{Auth: Auth{SecretRef: &SecretKeyRef{Name: "s"}}},
			want: func(s Spec) any { return *s.Auth.SecretRef }, exp: SecretKeyRef{Name: "s", Key: "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cluster{Spec: tt.in}
			Default(c)
			if diff := cmp.Diff(tt.exp, tt.want(c.Spec)); diff != "" {
				t.Errorf("got (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineOf(t *testing.T) {
	c, err := LoadFile(filepath.Join("testdata", "valid", "production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want int
	}{
		{path: "apiVersion", want: 4},
		{path: "spec.servers", want: 18},
		{path: "spec.serverPools[0].name", want: 23},
		{path: "spec.config[server.memory.heap.max_size]", want: 49},
		{path: "spec.scheduling.nodeSelector[cloud.google.com/gke-nodepool]", want: 64},
		{path: "spec.auth.secretRef.key", want: 41},    // flow mapping: same line
		{path: "spec.tls.secretName", want: 42},        // missing: the line of tls
		{path: "spec.databases[1].topology", want: 57}, // missing: its database
		{path: "status", want: 1},                      // nothing like it: the top
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := c.LineOf(tt.path); got != tt.want {
				t.Errorf("LineOf(%q): got %d, want %d", tt.path, got, tt.want)
			}
		})
	}
	if got := (&Cluster{}).LineOf("spec"); got != 0 {
		t.Errorf("LineOf on a Cluster built in code: got %d, want 0", got)
	}
}

// TestValidateBuiltInCode covers callers that build a Cluster without a
// file: problems have paths but no positions.
func TestValidateBuiltInCode(t *testing.T) {
	c := &Cluster{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "g"},
		Spec: Spec{Edition: EditionCommunity, Version: "5.26.0", Auth: Auth{SecretRef: &SecretKeyRef{Name: "s"}}}}
	Default(c)
	if err := c.Validate(); err != nil {
		t.Fatalf("got %v, want valid", err)
	}
	c.Spec.Servers = 2
	err := c.Validate()
	want := "spec.servers: Neo4j Community runs one standalone server, got 2 (set servers: 1, or use edition: enterprise for a cluster)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestDecodeEdgeCases(t *testing.T) {
	const base = "apiVersion: neo4jctl.io/v1alpha1\nkind: Neo4jCluster\nmetadata: {name: g}\nspec:\n  edition: community\n  version: \"5.26.0\"\n  auth: {secretRef: {name: s}}\n"
	tests := []struct {
		name string
		data string
		want string // the whole error text; "" for valid
	}{
		{name: "config scalars keep their text", data: base + "  config:\n    db.logs.query.enabled: true\n    server.memory.heap.max_size: 0x10\n"},
		{name: "null section is unset", data: base + "  tls:\n  monitoring: ~\n"},
		{name: "json with tabs", data: "{\n\t\"apiVersion\": \"neo4jctl.io/v1alpha1\",\n\t\"kind\": \"Neo4jCluster\",\n\t\"metadata\": {\"name\": \"g\"},\n\t\"spec\": {\"edition\": \"community\", \"version\": \"5.26.0\", \"auth\": {\"secretRef\": {\"name\": \"s\"}}}\n}\n"},
		{name: "trailing document separator", data: base + "---\n"},
		{name: "non-scalar key", data: base + "  config:\n    ? [a, b]\n    : c\n",
			want: "t.yaml:9: spec.config: keys must be strings, got a list"},
		{name: "float for integer", data: base + "  servers: 1.5\n",
			want: "t.yaml:8: spec.servers: must be an integer, got number 1.5"},
		{name: "mapping for string", data: base + "  image: {name: neo4j}\n",
			want: "t.yaml:8: spec.image: must be a string, got a mapping"},
		// Merge keys of merge keys expand to 10^6 entries unless the node
		// budget stops the walk.
		{name: "merge-key bomb", data: "x: &a {k: v}\nx1: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\nx2: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\nx3: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\nx4: &e {<<: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\nx5: &f {<<: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]}\nspec:\n  config: {<<: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]}\n",
			want: "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(tt.data))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got error\n%v\nwant none", err)
			case tt.want == "budget":
				if err == nil || !strings.Contains(err.Error(), "expands to more than") {
					t.Errorf("got %v, want the node budget to stop the walk", err)
				}
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("got\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestUnknownFieldSuggestions(t *testing.T) {
	tests := []struct {
		field, want string
	}{
		{field: "replicas", want: `did you mean "servers"?`},
		{field: "namespace", want: "it belongs in metadata.namespace"},
		{field: "plugin", want: `did you mean "plugins"?`},
		{field: "Version", want: `did you mean "version"? field names are case-sensitive`},
		{field: "zzzzzz", want: "remove it; `neo4jctl schema` lists the fields of spec"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := Load("t.yaml", []byte("spec:\n  "+tt.field+": x\n"))
			var fe *FieldError
			for _, e := range errorsOf(err) {
				if e.Path == "spec."+tt.field {
					fe = e
				}
			}
			if fe == nil || fe.Fix != tt.want {
				t.Errorf("got %v, want fix %q", fe, tt.want)
			}
		})
	}
}

func errorsOf(err error) []*FieldError {
	var list *ErrorList
	if errors.As(err, &list) {
		return list.Errors
	}
	return nil
}
