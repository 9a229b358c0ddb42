package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

// TestWriteScratchFile: the scratch cluster file is the cluster file in
// the scratch namespace, without the backup and verification schedules
// (a drill must not write backups into the real cluster's catalogue), and
// still a valid cluster file.
func TestWriteScratchFile(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../examples/backups.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(b), "    objectives:", "    verification:\n      schedule: \"0 4 * * *\"\n    objectives:", 1)
	in, out := filepath.Join(dir, "in.yaml"), filepath.Join(dir, "out.yaml")
	if err := os.WriteFile(in, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if c0, err := clusterfile.LoadFile(in); err != nil || c0.Spec.Backups.Schedule == nil || c0.Spec.Backups.Verification == nil {
		t.Fatalf("the input is not valid or lacks the schedules: %v", err)
	}
	if err := writeScratchFile(in, out, "backups-drill"); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(out)
	if err != nil {
		t.Fatalf("scratch file: %v", err)
	}
	if c.Metadata.Namespace != "backups-drill" || c.Spec.Backups.Schedule != nil || c.Spec.Backups.Verification != nil || c.Spec.Backups.Objectives == nil {
		t.Errorf("scratch file: namespace %q schedule %v verification %v objectives %v", c.Metadata.Namespace, c.Spec.Backups.Schedule, c.Spec.Backups.Verification, c.Spec.Backups.Objectives)
	}
}

// TestDRDrillUsage: bad flags are usage errors (exit 1), nothing runs.
func TestDRDrillUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"dr", "drill"}, "-f CLUSTER_FILE is required"},
		{[]string{"dr", "drill", "-f", "x.yaml", "-o", "yaml"}, "-o must be text, json or markdown"},
		{[]string{"dr", "drill", "-f", "x.yaml", "--namespace", "Bad_NS"}, `--namespace "Bad_NS"`},
	} {
		io, _, _, errOut := iostreams.Test()
		code := Run(context.Background(), &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, tt.args)
		if code != ExitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, want 1 with %q\n%s", tt.args, code, tt.want, errOut)
		}
	}
}
