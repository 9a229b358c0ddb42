package suites

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// EnvBinary names a prebuilt neo4jctl to test instead of building one
// (bench.sh and quick iterations use it).
const EnvBinary = "NEO4JCTL_E2E_BINARY"

// binary is the path of the neo4jctl under test; "" under -short.
var binary string

// binaryVersion is stamped into the binary we build, so its User-Agent
// ("neo4jctl/<version>") is known and can be found in the audit log.
const binaryVersion = "e2e"

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		var err error
		if binary, err = buildBinary(); err != nil {
			fmt.Fprintln(os.Stderr, "suites: build neo4jctl:", err)
			os.Exit(1)
		}
	}
	testenv.Main(m)
}

// buildBinary builds the module root (../.. from this package) the way
// `make build` does, so the tests exercise a real release-shaped binary.
// It goes to a fixed place in the user cache, overwritten by each run:
// testenv.Main exits the process, so a temporary directory could never be
// removed. The place is per checkout (a hash of its path): two checkouts
// tested at once must not run each other's binary.
func buildBinary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return filepath.Abs(p)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "neo4jctl", "e2e", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "neo4jctl")
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-X github.com/neo4jctl/neo4jctl/cmd.version="+binaryVersion,
		"-o", out, "../..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return out, cmd.Run()
}
