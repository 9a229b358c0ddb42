package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

func testFactory() (*Factory, *iostreams.IOStreams) {
	io, _, _, _ := iostreams.Test()
	return &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(false), Build: BuildInfo{Version: "test"}}, io
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	f, io := testFactory()
	code = Run(context.Background(), f, args)
	return code, io.Out.(interface{ String() string }).String(), io.ErrOut.(interface{ String() string }).String()
}

// TestValidateInvalidFiles runs `neo4jctl validate` on every invalid cluster
// file of the loader's testdata: each must exit 1, print exactly the
// expected file:line: path: problem (fix) lines, and print nothing on stdout.
func TestValidateInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("../internal/clusterfile/testdata/invalid/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 invalid files, got %d (%v)", len(files), err)
	}
	jsonFiles, _ := filepath.Glob("../internal/clusterfile/testdata/invalid/*.json")
	for _, file := range append(files, jsonFiles...) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI(t, "validate", "-f", file)
			if code != ExitError {
				t.Errorf("exit code: got %d, want %d", code, ExitError)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
			// The golden holds paths relative to the loader's package.
			wantLines := strings.ReplaceAll(strings.TrimSpace(string(want)), "testdata/", "../internal/clusterfile/testdata/")
			if !strings.HasPrefix(stderr, wantLines+"\n") {
				t.Errorf("stderr:\ngot:\n%s\nwant prefix:\n%s", stderr, wantLines)
			}
			if !strings.Contains(stderr, "nothing was planned or changed") {
				t.Errorf("stderr does not say nothing was planned:\n%s", stderr)
			}
		})
	}
}

func TestValidateExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) < 4 {
		t.Fatalf("want at least 4 examples, got %d", len(files))
	}
	for _, file := range files {
		code, stdout, stderr := runCLI(t, "validate", "-f", file)
		if code != ExitOK || !strings.Contains(stdout, "is valid") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", file, code, stdout, stderr)
		}
	}
}

func TestNamespaceMismatch(t *testing.T) {
	code, _, stderr := runCLI(t, "render", "-f", "../examples/quickstart.yaml", "--namespace", "elsewhere")
	if code != ExitError || !strings.Contains(stderr, "metadata.namespace") {
		t.Errorf("got exit %d, stderr %q; want exit 1 naming metadata.namespace", code, stderr)
	}
}

func TestUsageErrorsExitOne(t *testing.T) {
	for _, args := range [][]string{
		{"validate"},
		{"render", "-f", "../examples/quickstart.yaml", "-o", "toml"},
		{"plan"},
		{"no-such-command"},
		{"version", "-o", "xml"},
		{"--color", "sometimes", "version"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != ExitError || stderr == "" {
			t.Errorf("%v: got exit %d stderr %q, want exit 1 with a message", args, code, stderr)
		}
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("NEO4JCTL_OUTPUT", "json")
	code, stdout, _ := runCLI(t, "version")
	if code != 0 || !strings.Contains(stdout, `"version": "test"`) {
		t.Errorf("NEO4JCTL_OUTPUT=json: got exit %d, stdout %q", code, stdout)
	}
}

// TestPlanRefusesPolicyViolationsBeforePlanning: the quickstart's 384m heap
// breaks a critical policy; plan must say so and exit 1 before observing
// anything (the kubeconfig points nowhere, so an observation would fail
// differently; the connection plan opens while loading files does not
// report its own failure).
func TestPlanRefusesPolicyViolationsBeforePlanning(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "-f", "../examples/quickstart.yaml",
		"--policy-file", "testdata/heap-policy.yaml", "--kubeconfig", "/nonexistent/kubeconfig")
	if code != ExitError {
		t.Errorf("exit code: got %d, want %d", code, ExitError)
	}
	if stdout != "" {
		t.Errorf("stdout: got %q, want no plan", stdout)
	}
	for _, want := range []string{"heap-at-least-2g", "[critical]", "nothing was planned"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// Below the threshold it is only reported, and planning goes on (and
	// then fails on the missing kubeconfig, which proves it went on).
	code, _, stderr = runCLI(t, "plan", "-f", "../examples/quickstart.yaml",
		"--policy-file", "testdata/heap-warning.yaml", "--kubeconfig", "/nonexistent/kubeconfig")
	if !strings.Contains(stderr, "heap-warning") || strings.Contains(stderr, "nothing was planned") || code != ExitError {
		t.Errorf("a warning below --fail-on error: got exit %d, stderr:\n%s", code, stderr)
	}
}

// runWith executes args on the real command tree with the command named
// name replaced by cmd (built with a runF that records its options), so
// flag tests check parsing and validation without running anything.
func runWith(t *testing.T, name string, build func(f *Factory) *cobra.Command, args []string) error {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}
	root := NewCmdRoot(f)
	for _, c := range root.Commands() {
		if c.Name() == name {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(build(f))
	root.SetArgs(args)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	return root.ExecuteContext(context.Background())
}
