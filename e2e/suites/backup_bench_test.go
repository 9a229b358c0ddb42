package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/agent"
	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// EnvBackupBench turns on TestMeasureBackupAgent (make bench): it logs,
// never asserts, the agent's encrypt+upload time against an unencrypted
// upload of the same file to the same S3 server, and the agent's peak RSS.
const EnvBackupBench = "NEO4JCTL_BACKUP_BENCH"

// EnvAgentBinary names a prebuilt neo4jctl-backup-agent; without it the
// test builds cmd/neo4jctl-backup-agent as `make build` does.
const EnvAgentBinary = "NEO4JCTL_E2E_AGENT_BINARY"

// TestMeasureBackupAgent: rounds of (unencrypted upload, agent encrypt+upload)
// of the same random file to the same versitygw, interleaved so that a
// change of the machine's load hits both sides alike; medians are logged.
// The agent is the agent-only binary the backup Jobs run, as a process
// (start, keyset, catalogue LIST, upload, stat check, entry write); the
// unencrypted upload is blob.Upload in the test process. The full neo4jctl
// (`neo4jctl backup agent`, the same code) is run once more for its RSS.
// NEO4JCTL_BACKUP_BENCH_BYTES, _ROUNDS and _ARGS (extra agent flags) tune it.
func TestMeasureBackupAgent(t *testing.T) {
	if os.Getenv(EnvBackupBench) == "" || binary == "" {
		t.Skip("a benchmark: set " + EnvBackupBench + "=1 (make bench)")
	}
	size := int64(1 << 30)
	if v, err := strconv.ParseInt(os.Getenv("NEO4JCTL_BACKUP_BENCH_BYTES"), 10, 64); err == nil && v > 0 {
		size = v
	}
	rounds := 5
	if v, err := strconv.Atoi(os.Getenv("NEO4JCTL_BACKUP_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	agentBin := agentBinary(t)
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
	clusterFile, err := os.ReadFile(b.file)
	if err != nil {
		t.Fatal(err)
	}

	// Unencrypted: the same blob library, server and parts as the agent's
	// (agent.DefaultPartSize, 2 at once), so the difference is encryption
	// (plus the agent's start, keyset, catalogue LIST, stat and entry).
	ctx := context.Background()
	plain, err := blob.Open(ctx, s3.URL("plain", "bench"), blob.Options{PartSize: agent.DefaultPartSize, Concurrency: blob.DefaultConcurrency,
		Credentials: map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s3.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s3.SecretKey)}})
	if err != nil {
		t.Fatal(err)
	}
	// CPU time is logged beside wall time: on a loaded machine the wall
	// time is mostly waiting for a core, and CPU time is what encryption
	// adds. The unencrypted side's is this process's own during the upload.
	var plainCPU, agentCPU []time.Duration
	uploadPlain := func() time.Duration {
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		c0 := selfCPU()
		start := time.Now()
		if _, err := plain.Upload(ctx, "neo4j.dump", in); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		plainCPU = append(plainCPU, selfCPU()-c0)
		return d
	}
	// Each agent run stores under its own prefix (a catalogued artifact
	// would be skipped), then the prefix is removed to spare the disk.
	runAgent := func(bin string, prefix []string, round int) (time.Duration, float64) {
		file := filepath.Join(b.dir, fmt.Sprintf("cluster-%d.yaml", round))
		doc := strings.Replace(string(clusterFile), "/bench?", fmt.Sprintf("/bench-%d?", round), 1)
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append(prefix, "-f", file, "--from-dir", from, "--secrets-dir", b.secrets)
		if extra := os.Getenv("NEO4JCTL_BACKUP_BENCH_ARGS"); extra != "" {
			args = append(args, strings.Fields(extra)...)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		_ = os.RemoveAll(filepath.Join(s3.Dir, "data", "backups", fmt.Sprintf("bench-%d", round)))
		agentCPU = append(agentCPU, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		return d, peakFromLog(t, string(out))
	}

	var plainTimes, agentTimes []time.Duration
	var rss []float64
	for i := range rounds {
		// Alternate which side goes first, so a load change between the
		// two runs of a round does not always favour the same side.
		var p, a time.Duration
		var m float64
		if i%2 == 0 {
			p = uploadPlain()
			a, m = runAgent(agentBin, nil, i)
		} else {
			a, m = runAgent(agentBin, nil, i)
			p = uploadPlain()
		}
		plainTimes, agentTimes, rss = append(plainTimes, p), append(agentTimes, a), append(rss, m)
		t.Logf("round %d: unencrypted %s, agent %s, agent peak RSS %.1f MiB", i+1, p.Round(10*time.Millisecond), a.Round(10*time.Millisecond), m)
	}
	_, fullRSS := runAgent(binary, []string{"backup", "agent"}, rounds)

	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	pm, am := median(plainTimes), median(agentTimes)
	t.Logf("backup agent: method: %d interleaved rounds, %d MiB of random bytes, versitygw on loopback, both with %d MiB parts × %d at once; medians; load average at the end %s (2 cores)",
		rounds, size>>20, agent.DefaultPartSize>>20, blob.DefaultConcurrency, load)
	t.Logf("backup agent%s: %d MiB artifact: unencrypted upload %s, neo4jctl-backup-agent encrypt+upload %s (%+.0f%%), its peak RSS %.1f MiB (max of %d runs); `neo4jctl backup agent` peak RSS %.1f MiB",
		benchLabel(), size>>20, pm.Round(10*time.Millisecond), am.Round(10*time.Millisecond),
		100*(am.Seconds()-pm.Seconds())/pm.Seconds(), slices.Max(rss), rounds, fullRSS)
	t.Logf("backup agent: runs (unencrypted / agent): %s", runsText(plainTimes, agentTimes))
	pc, ac := median(plainCPU), median(agentCPU[:rounds])
	t.Logf("backup agent: CPU time (user+sys), medians: unencrypted upload %s, agent %s (%+.0f%%; the agent's includes its start, keyset and catalogue)",
		pc.Round(10*time.Millisecond), ac.Round(10*time.Millisecond), 100*(ac.Seconds()-pc.Seconds())/pc.Seconds())
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakFromLog is the agent's own "memory: peak resident N MiB" line
// (VmHWM). The child's rusage is not used: Go starts it with vfork, and
// Linux carries the parent's peak into the child's ru_maxrss at exec — the
// test process's ~160 MiB (it wrote and uploaded the file) was reported as
// the agent's before.
func peakFromLog(t *testing.T, log string) float64 {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(line, "memory: peak resident "); ok {
			mib, err := strconv.ParseFloat(strings.TrimSuffix(v, " MiB"), 64)
			if err == nil {
				return mib
			}
		}
	}
	t.Fatalf("the agent logged no peak memory:\n%s", log)
	return 0
}

// agentBinary is the agent-only binary: EnvAgentBinary, or built as `make
// build` does next to the neo4jctl under test.
func agentBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvAgentBinary); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(t.TempDir(), "neo4jctl-backup-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "../../cmd/neo4jctl-backup-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build neo4jctl-backup-agent: %v\n%s", err, b)
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func runsText(a, b []time.Duration) string {
	parts := make([]string, len(a))
	for i := range a {
		parts[i] = fmt.Sprintf("%s / %s", a[i].Round(10*time.Millisecond), b[i].Round(10*time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

// benchLabel names the extra agent flags of a run, if any.
func benchLabel() string {
	if extra := os.Getenv("NEO4JCTL_BACKUP_BENCH_ARGS"); extra != "" {
		return " (" + extra + ")"
	}
	return ""
}
