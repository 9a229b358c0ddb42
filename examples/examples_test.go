package examples_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the rendered output")

// wantExamples are the examples the README and issue promise; a missing one
// fails the test rather than silently shrinking the glob.
var wantExamples = []string{"backups", "community", "production", "quickstart", "secondaries", "workload-identity"}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(f, ".yaml"))
	}
	if diff := cmp.Diff(wantExamples, names); diff != "" {
		t.Errorf("example files (-want +got):\n%s", diff)
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got := render(t, name+".yaml")
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./examples -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("render %s (-want +got):\n%s\nrun go test ./examples -update if the change is intended", name, diff)
			}
		})
	}
}

// render loads, defaults, validates and renders one example the way
// `neo4jctl render -f` does, with the version requirements as a comment
// header so a reviewer sees them next to the objects.
func render(t *testing.T, file string) string {
	t.Helper()
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	ns, err := c.Namespace("")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifests.Render(c, ns)
	if err != nil {
		t.Fatalf("render %s: %v", file, err)
	}
	body, err := manifests.MarshalYAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered from examples/%s by go test ./examples -update.\n", file)
	for _, r := range manifests.MinKubernetesVersions(objs) {
		fmt.Fprintf(&b, "# requires Kubernetes %s: %s %s\n", r.MinVersion(), r.Object, r.Field)
	}
	b.WriteString("---\n")
	b.Write(body)
	return b.String()
}
