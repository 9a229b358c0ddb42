package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// EnvBackupBench turns on TestMeasureBackupAgent (make bench): it logs,
// never asserts, the agent's encrypt+upload time against an unencrypted
// upload of the same file to the same S3 server, and the agent's peak RSS.
const EnvBackupBench = "NEO4JCTL_BACKUP_BENCH"

func TestMeasureBackupAgent(t *testing.T) {
	if os.Getenv(EnvBackupBench) == "" || binary == "" {
		t.Skip("a benchmark: set " + EnvBackupBench + "=1 (make bench)")
	}
	size := int64(1 << 30)
	if v, err := strconv.ParseInt(os.Getenv("NEO4JCTL_BACKUP_BENCH_BYTES"), 10, 64); err == nil && v > 0 {
		size = v
	}
	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "plain")
	s3.CreateBucket(t, "backups")
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: %q, credentialsSecret: backup-s3}\n", s3.URL("backups", "bench")), filepath.Join(s3.Dir, "data", "backups"))
	b.secret("backup-s3", "AWS_ACCESS_KEY_ID", s3.AccessKey)
	b.secret("backup-s3", "AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	from := filepath.Join(b.dir, "from")
	if err := os.Mkdir(from, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(from, "neo4j.dump")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Random bytes: a compressed artifact does not compress further.
	r := rand.NewChaCha8([32]byte{42})
	buf := make([]byte, 4<<20)
	for written := int64(0); written < size; written += int64(len(buf)) {
		_, _ = r.Read(buf)
		n := min(int64(len(buf)), size-written)
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// Unencrypted: the same blob library, part size and server.
	ctx := context.Background()
	plain, err := blob.Open(ctx, s3.URL("plain", "bench"), blob.Options{Credentials: map[string][]byte{
		blob.KeyAWSAccessKeyID: []byte(s3.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s3.SecretKey)}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := plain.Upload(ctx, "neo4j.dump", in); err != nil {
		t.Fatal(err)
	}
	plainTime := time.Since(start)
	in.Close()

	// Encrypted, by the agent binary as a process.
	args := []string{"backup", "agent", "-f", b.file, "--from-dir", from, "--secrets-dir", b.secrets}
	if extra := os.Getenv("NEO4JCTL_BACKUP_BENCH_ARGS"); extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	start = time.Now()
	out, err := cmd.CombinedOutput()
	agentTime := time.Since(start)
	if err != nil {
		t.Fatalf("agent: %v\n%s", err, out)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	t.Logf("backup agent%s: %d MiB artifact: unencrypted upload %s, agent encrypt+upload %s (%+.0f%%), agent peak RSS %.1f MiB",
		benchLabel(), size>>20, plainTime.Round(10*time.Millisecond), agentTime.Round(10*time.Millisecond),
		100*(agentTime.Seconds()-plainTime.Seconds())/plainTime.Seconds(), float64(rss)/1024)
}

// benchLabel names the extra agent flags of a run, if any.
func benchLabel() string {
	if extra := os.Getenv("NEO4JCTL_BACKUP_BENCH_ARGS"); extra != "" {
		return " (" + extra + ")"
	}
	return ""
}
