package clusterfile

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// compileSchema compiles Schema() with an independent JSON Schema
// implementation, which also checks that it is a valid 2020-12 schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// instance reads a YAML or JSON cluster file as a JSON value.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaGolden(t *testing.T) {
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "schema.golden.json"), string(data)+"\n")
}

func TestSchemaAcceptsValidFiles(t *testing.T) {
	s := compileSchema(t)
	for _, file := range clusterFiles(t, filepath.Join("testdata", "valid")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if err := s.Validate(instance(t, readFile(t, file))); err != nil {
				t.Errorf("got %v, want %s to validate", err, file)
			}
		})
	}
}

func TestSchemaRejects(t *testing.T) {
	const base = "apiVersion: neo4jctl.io/v1alpha1\nkind: Neo4jCluster\nmetadata: {name: g}\nspec:\n  edition: community\n  version: \"5.26.0\"\n  auth: {secretRef: {name: s}}\n"
	tests := []struct {
		name, data, want string // want: a fragment of the validation error
	}{
		{name: "unknown field", data: base + "  replica: 3\n", want: "replica"},
		{name: "nested unknown field", data: base + "  storage: {data: {sise: 1Gi}}\n", want: "sise"},
		{name: "inline password", data: strings.Replace(base, "{secretRef: {name: s}}", "{password: x}", 1), want: "password"},
		{name: "enum", data: strings.Replace(base, "community", "Community", 1), want: "edition"},
		{name: "wrong type", data: base + "  servers: three\n", want: "servers"},
		{name: "missing apiVersion", data: strings.Replace(base, "apiVersion: neo4jctl.io/v1alpha1\n", "", 1), want: "apiVersion"},
		{name: "unknown plugin", data: base + "  plugins: [gds]\n", want: "plugins"},
	}
	s := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(instance(t, []byte(tt.data)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSchemaDescriptions(t *testing.T) {
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"description": "Cluster is one Neo4j cluster as its owner declares it."`,
		`"description": "AcceptLicenseAgreement must be \"yes\" (commercial licence) or \"eval\"`,
		`"additionalProperties": false`,
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("schema lacks %s", want)
		}
	}
}
