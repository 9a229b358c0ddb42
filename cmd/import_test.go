package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

func TestImportFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o *ImportOptions)
	}{
		{name: "neither", args: []string{"import", "-o", "x.yaml"}, wantErr: "--helm-release NAME (repeatable) or --helm-cluster NAME"},
		{name: "both", args: []string{"import", "--helm-release", "a", "--helm-cluster", "c", "-o", "x.yaml"}, wantErr: "--helm-release NAME (repeatable) or --helm-cluster NAME"},
		{name: "no output", args: []string{"import", "--helm-cluster", "c"}, wantErr: "-o CLUSTER_FILE is required"},
		{
			name: "releases", args: []string{"import", "--helm-release", "a", "--helm-release", "b", "-n", "graph", "-o", "-", "--skip-neo4j"},
			check: func(t *testing.T, o *ImportOptions) {
				if strings.Join(o.Releases, ",") != "a,b" || o.FlagNamespace != "graph" || o.Output != "-" || !o.cluster.SkipNeo4j {
					t.Errorf("got releases %v namespace %q output %q skip %v", o.Releases, o.FlagNamespace, o.Output, o.cluster.SkipNeo4j)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got *ImportOptions
			err := runWith(t, "import", func(f *Factory) *cobra.Command {
				return NewCmdImport(f, func(o *ImportOptions) error { got = o; return nil })
			}, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
}

// TestImportKeepsAnExistingFile: an existing output file is refused before
// anything is contacted, unless --overwrite.
func TestImportKeepsAnExistingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	io, _, _, _ := iostreams.Test()
	contacted := false
	o := &ImportOptions{IO: io, Cluster: "c", Output: file, Kube: func() (*kube.Client, error) { contacted = true; return nil, os.ErrInvalid }}
	err := o.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "--overwrite") || contacted {
		t.Errorf("got %v (contacted %v), want a refusal naming --overwrite before contacting anything", err, contacted)
	}
	if b, _ := os.ReadFile(file); string(b) != "mine\n" {
		t.Errorf("the existing file was changed: %q", b)
	}
}
