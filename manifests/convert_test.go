package manifests

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// toUnstructured replaced runtime.DefaultUnstructuredConverter for speed;
// the objects must stay exactly what the converter produced, Go types of
// the values included (int64, not float64), for every example cluster.
func TestToUnstructuredMatchesTheConverter(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example cluster files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := clusterfile.LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ns, err := c.Namespace("")
			if err != nil {
				ns = "default"
			}
			typed, err := typedObjects(c, ns, Environment{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range typed {
				want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := toUnstructured(o)
				if err != nil {
					t.Fatal(err)
				}
				// cmp tells int64(3) from float64(3), which a YAML
				// golden file would not.
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%T: toUnstructured differs from the converter (-want +got):\n%s", o, diff)
				}
			}
		})
	}
}
