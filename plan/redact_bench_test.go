package plan

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// BenchmarkRedactRenderedObjects redacts the objects the production
// example renders (from the examples' golden file), as Compute does twice
// per object.
func BenchmarkRedactRenderedObjects(b *testing.B) {
	raw, err := os.ReadFile("../examples/testdata/production.golden.yaml")
	if err != nil {
		b.Skip(err)
	}
	var objs []map[string]any
	for _, doc := range splitYAML(raw) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err == nil && m != nil {
			objs = append(objs, m)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, o := range objs {
			redact(o["kind"].(string), nil, o)
		}
	}
}

func splitYAML(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i+4 <= len(b); i++ {
		if string(b[i:i+4]) == "---\n" && (i == 0 || b[i-1] == '\n') {
			out = append(out, b[start:i])
			start = i + 4
		}
	}
	return append(out, b[start:])
}
