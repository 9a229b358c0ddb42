package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Versions of the components; they must match the defaults in build.sh,
// which names its cache directory after them.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
	KwokVersion       = "v0.8.0"
	// PrometheusOperatorVersion is the newest version of the
	// github.com/prometheus-operator/prometheus-operator root module the Go
	// module proxy serves; its CRDs define ServiceMonitor and PrometheusRule.
	PrometheusOperatorVersion = "v0.85.0"
	// CertManagerVersion provides the cert.manager.io CRDs.
	CertManagerVersion = "v1.21.2"
)

// binaries are the executables Start needs in the bin directory.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// DefaultBinDir is where build.sh puts the binaries:
// $NEO4JCTL_TESTENV_BIN if set, else the versioned directory under
// $NEO4JCTL_TESTENV_CACHE, $XDG_CACHE_HOME/neo4jctl/testenv or
// ~/.cache/neo4jctl/testenv.
func DefaultBinDir() string {
	if d := os.Getenv("NEO4JCTL_TESTENV_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("NEO4JCTL_TESTENV_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "neo4jctl", "testenv")
	}
	return filepath.Join(cache, fmt.Sprintf("k8s-%s-etcd-%s-kwok-%s", KubernetesVersion, EtcdVersion, KwokVersion), "bin")
}

// missingFiles lists what Start needs but binDir (and its sibling asset
// directories written by build.sh) lacks.
func missingFiles(binDir string) []string {
	var missing []string
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(binDir, b)); err != nil || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	root := filepath.Dir(binDir)
	for _, d := range []string{"kwok/stage", "kwok/crd", "crds"} {
		if _, err := os.Stat(filepath.Join(root, d)); err != nil {
			missing = append(missing, d)
		}
	}
	return missing
}

// BinariesPresent reports whether build.sh has produced everything Start
// needs in binDir ("" means DefaultBinDir()).
func BinariesPresent(binDir string) bool {
	if binDir == "" {
		binDir = DefaultBinDir()
	}
	return len(missingFiles(binDir)) == 0
}

// BuildScript returns the path of build.sh in the source tree. The test
// binary's working directory is its package directory, somewhere inside the
// module, so the module root is found by walking up to go.mod.
func BuildScript() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		p := filepath.Join(filepath.Dir(file), "build.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/neo4jctl/neo4jctl\n")) {
			return filepath.Join(dir, "e2e", "testenv", "build.sh"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("build.sh not found: not inside the github.com/neo4jctl/neo4jctl module")
		}
		dir = parent
	}
}

// Build runs build.sh (which skips what already exists) and returns the bin
// directory it printed on its last line. Progress goes to logw.
func Build(ctx context.Context, logw io.Writer) (string, error) {
	script, err := BuildScript()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout = &out
	cmd.Stderr = logw
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}
