package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canaryFile writes the quickstart example with credentials planted inside
// values whose keys are not credentials.
func canaryFile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "    server.memory.pagecache.size: 256m\n",
		"    server.memory.pagecache.size: 256m\n    server.jvm.additional: -Dfoo.password=canary -Dbar.token=canary\n", 1)
	if s == string(b) {
		t.Fatal("quickstart.yaml changed: cannot plant the canary")
	}
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRenderHidesCredentials: render prints a credential written inside a
// value as (sensitive), in YAML and JSON, and says so on stderr;
// --show-sensitive prints it for kubectl apply.
func TestRenderHidesCredentials(t *testing.T) {
	file := canaryFile(t)
	for _, format := range []string{"yaml", "json"} {
		code, stdout, stderr := runCLI(t, "render", "-f", file, "-o", format)
		if code != ExitOK {
			t.Fatalf("render -o %s: exit %d: %s", format, code, stderr)
		}
		if n := strings.Count(stdout+stderr, "canary"); n != 0 {
			t.Errorf("render -o %s: the canary appears %d times, want 0:\n%s", format, n, stdout)
		}
		if !strings.Contains(stdout, "-Dfoo.password=(sensitive) -Dbar.token=(sensitive)") {
			t.Errorf("render -o %s: the redacted setting is missing:\n%s", format, stdout)
		}
		if !strings.Contains(stderr, "--show-sensitive") {
			t.Errorf("render -o %s: stderr does not say what was hidden: %q", format, stderr)
		}
	}
	code, stdout, _ := runCLI(t, "render", "-f", file, "--show-sensitive")
	if code != ExitOK || !strings.Contains(stdout, "-Dfoo.password=canary") {
		t.Errorf("render --show-sensitive: exit %d, want the value as written:\n%s", code, stdout)
	}
}

// TestRenderExamplesHideNothing: a file without credentials renders exactly
// as with --show-sensitive, so `render | kubectl apply` keeps working.
func TestRenderExamplesHideNothing(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		code, plain, stderr := runCLI(t, "render", "-f", f)
		_, shown, _ := runCLI(t, "render", "-f", f, "--show-sensitive")
		if code != ExitOK || plain != shown || stderr != "" {
			t.Errorf("%s: render hid something in a file without credentials (exit %d, stderr %q)", f, code, stderr)
		}
	}
}

// TestValidatePolicyViolationHidesCredentials: a policy violation quotes
// the value it found; a credential inside it is hidden.
func TestValidatePolicyViolationHidesCredentials(t *testing.T) {
	file := canaryFile(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b) + `  policies:
    - name: small-stacks
      setting: server.jvm.additional
      regex: ^-Xss
`
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", "-f", file)
	if code != ExitError || !strings.Contains(stdout, "small-stacks") {
		t.Fatalf("validate: exit %d, want 1 with the violation:\n%s\n%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout+stderr, "canary"); n != 0 {
		t.Errorf("the canary appears %d times:\n%s\n%s", n, stdout, stderr)
	}
}
