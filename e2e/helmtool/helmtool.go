package helmtool

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Version is the pinned helm release; the Makefile's HELM target uses the
// same one.
const Version = "v3.21.4"

// repoRoot is the repository's root, found from this file's location, or
// — when the test binary was built with -trimpath (CI does: one build
// configuration for tests and binaries, docs/ci.md), which makes that
// location relative — the nearest directory above the working directory
// (go test runs in the package's) holding go.mod.
func repoRoot() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

// Path returns the helm binary: $NEO4JCTL_HELM, else the tool cache's,
// built there first when missing (minutes, once). Under -short a test that
// needs helm is skipped instead.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("NEO4JCTL_HELM"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "neo4jctl", "tools", "helm-"+Version)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if testing.Short() {
		t.Skipf("helm %s is not built (%s); run `make helm`, or drop -short to build it", Version, p)
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(), "e2e", "scripts", "helm.sh"), p)
	cmd.Env = append(os.Environ(), "HELM_VERSION="+Version)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("build helm %s: %v\n%s", Version, err, out.String())
	}
	return p
}

// Chart returns the directory of the official Neo4j chart (5.17.0) kept in
// shared/fixtures/helm/neo4j beside the repository, or $NEO4JCTL_HELM_CHART.
func Chart(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NEO4JCTL_HELM_CHART"); d != "" {
		return d
	}
	for dir := repoRoot(); ; {
		c := filepath.Join(dir, "shared", "fixtures", "helm", "neo4j")
		if _, err := os.Stat(filepath.Join(c, "Chart.yaml")); err == nil {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("the Neo4j chart (shared/fixtures/helm/neo4j) is not beside the repository; set NEO4JCTL_HELM_CHART")
		}
		dir = parent
	}
}

// Run runs helm with args against kubeconfig, its caches and config in a
// temporary directory, and returns its combined output.
func Run(t testing.TB, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(Path(t), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
