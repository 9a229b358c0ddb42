package suites

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// TestAgentBinaryPeakMemory: the agent-only binary the backup Jobs run
// (cmd/neo4jctl-backup-agent) encrypts and uploads a 128 MiB artifact to a
// real S3 server (versitygw) in at most 64 MiB of resident memory — its own
// VmHWM, logged by the agent. The memory is the upload's parts plus what
// the binary's start-up leaves mapped, flat in the artifact's size
// (docs/benchmarks.md: 1 GiB). Measured 94-111 MiB for the first agent-only
// build (16 MiB first part read outside the part pool, no memory limit, the
// start-up's pages kept), 134 MiB for `neo4jctl backup agent`.
func TestAgentBinaryPeakMemory(t *testing.T) {
	agentBin := agentBinary(t)
	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "backups")
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: %q, credentialsSecret: backup-s3}\n", s3.URL("backups", "mem")), filepath.Join(s3.Dir, "data", "backups"))
	b.secret("backup-s3", "AWS_ACCESS_KEY_ID", s3.AccessKey)
	b.secret("backup-s3", "AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	from := filepath.Join(b.dir, "from")
	if err := os.Mkdir(from, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 128<<20)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	if err := os.WriteFile(filepath.Join(from, "neo4j.dump"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	data = nil
	// The Pod's arguments, as manifests renders them for neo4jctl.
	cmd := exec.Command(agentBin, "backup", "agent", "-f", b.file, "--from-dir", from, "--secrets-dir", b.secrets)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("agent: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "catalogued ") {
		t.Fatalf("nothing catalogued:\n%s", out.String())
	}
	peak := peakFromLog(t, out.String())
	t.Logf("neo4jctl-backup-agent, 128 MiB to versitygw: peak resident %.1f MiB", peak)
	if peak > 64 {
		t.Fatalf("peak resident memory %.1f MiB, want ≤ 64 MiB\n%s", peak, out.String())
	}
	// The artifact is in the catalogue as neo4jctl reads it.
	if l := b.list(); len(l.Backups) != 1 || l.Backups[0].PlaintextSize != 128<<20 {
		t.Fatalf("list after the agent: %+v", l.Backups)
	}
}
