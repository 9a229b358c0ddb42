package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Long is the agent's description, the help of `neo4jctl backup agent`
// and of the agent-only binary.
const Long = `Agent runs beside neo4j-admin (in the backup Job, or as a plain process)
and takes every artifact in --from-dir into spec.backups.storage:

  1. inspect it: the type and transaction range of a .backup come from
     --inspect-file, the output of
     neo4j-admin backup inspect --show-metadata --empty --format=TABULAR DIR
     (the type neo4j-admin produced, never the --type asked for); a
     Community <database>.dump is a FULL backup;
  2. encrypt it while uploading (streaming: memory stays flat whatever its
     size), then check the stored size and SHA-256;
  3. write its catalogue entry — last, so an interrupted upload never
     leaves an entry;
  4. copy it to every spec.backups.copies bucket, digest checked there;
  5. apply spec.backups.retention, printing every deletion before it
     happens (skipped when an artifact of the run failed, or --no-prune).

Artifacts already catalogued (a chain's earlier artifacts kept in the
directory) are skipped. One plain line per step goes to stderr.

Exit codes: 0 every artifact stored and copied, 1 otherwise (those stored
stay stored).`

// Options are the inputs of one agent process: `neo4jctl backup agent` and
// the agent-only binary (cmd/neo4jctl-backup-agent) fill them from the
// same flags (AddFlags, AddFileFlags) and call Execute, so both run the
// same code.
type Options struct {
	// File is the cluster file (-f).
	File string
	// SecretsDir is where the Secrets spec.backups names are mounted.
	SecretsDir string
	// KeysetFile overrides where the keyset is read from.
	KeysetFile string
	Config
	NoPrune bool
	// PartSize and Concurrency bound the upload's memory: about
	// PartSize × (Concurrency+1) (backup/blob).
	PartSize    int
	Concurrency int

	// Log receives one plain line per step (stderr).
	Log io.Writer
	// Now, Getenv and KMS default to the real clock, environment and
	// KMS clients (ops.Options).
	Now    func() time.Time
	Getenv func(string) string
	KMS    func(ctx context.Context, uri string) (crypt.KMS, error)
}

// AddFileFlags registers -f, --secrets-dir and --keyset-file, which the
// neo4jctl backup commands share (cmd/backup.go registers them there).
func (o *Options) AddFileFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.File, "filename", "f", "", "cluster file with spec.backups (YAML or JSON)")
	fs.StringVar(&o.SecretsDir, "secrets-dir", ops.DefaultSecretsDir, "directory where the Secrets spec.backups names are mounted, one directory per Secret (a Secret not mounted there is read from the environment)")
	fs.StringVar(&o.KeysetFile, "keyset-file", "", "file holding the Tink keyset (default: <secrets-dir>/<keysetSecret.name>/<keysetSecret.key>, then $"+ops.KeysetEnv+")")
}

// AddFlags registers the agent's own flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.FromDir, "from-dir", "", "directory neo4j-admin wrote the artifacts to")
	fs.StringVar(&o.InspectFile, "inspect-file", "", "output of neo4j-admin backup inspect --show-metadata --empty --format=TABULAR (needed for .backup artifacts)")
	fs.StringVar(&o.RequestedType, "requested-type", "", "the --type neo4j-admin was asked for (FULL, DIFF or AUTO), recorded to show a fallback to FULL")
	fs.BoolVar(&o.NoPrune, "no-prune", false, "do not apply spec.backups.retention after storing")
	fs.IntVar(&o.PartSize, "upload-part-size", 0, fmt.Sprintf("multipart part size in bytes (default %d MiB, larger for artifacts over %d GiB; the upload holds about part size × (concurrency+2) in memory)", DefaultPartSize>>20, DefaultPartSize*9000>>30))
	fs.IntVar(&o.Concurrency, "upload-concurrency", 0, fmt.Sprintf("parts uploaded at once (default %d)", blob.DefaultConcurrency))
}

// Validate checks the flags; its errors are usage errors.
func (o *Options) Validate() error {
	if o.File == "" {
		return errors.New("-f CLUSTER_FILE is required")
	}
	if o.FromDir == "" {
		return errors.New("--from-dir DIR is required")
	}
	switch strings.ToUpper(o.RequestedType) {
	case "", "FULL", "DIFF", "AUTO":
	default:
		return fmt.Errorf("--requested-type must be FULL, DIFF or AUTO, got %q", o.RequestedType)
	}
	if o.PartSize < 0 || o.Concurrency < 0 {
		return errors.New("--upload-part-size and --upload-concurrency must not be negative")
	}
	o.Prune = !o.NoPrune
	return nil
}

// DefaultPartSize is the agent's upload part size: S3's smallest, so the
// upload's buffers — part size × (concurrency+1) in the S3 transfer
// manager's pool, plus the first part, read outside it — stay about 20 MiB
// and the process within its 64 MiB (docs/benchmarks.md). An artifact over
// ~44 GiB gets larger parts (S3's 10 000-part limit, backup/blob).
const DefaultPartSize = 5 << 20

// memoryLimit is the Go runtime's soft limit for an upload with these
// parts: their buffers plus what the process holds besides. Without it the
// collector lets the heap reach twice what is live — the parts' buffers
// included — before collecting (peak 61-65 MiB). Measured with 5 MiB parts,
// 2 at once, 256 MiB: +10 MiB (30 MiB) peaked at 50 MiB but its collections
// cost ~0.2 s of CPU more (+25 %, user 0.92 s vs 0.74 s); +14 MiB (34 MiB)
// peaks at 54-55 MiB for the CPU of no limit.
func memoryLimit(partSize, concurrency int) int64 {
	return int64(partSize)*int64(concurrency+2) + 14<<20
}

// Execute loads the cluster file, opens its backups with the keyset and
// copies, and runs the agent. Unless GOMEMLIMIT is set it sets the Go
// runtime's soft memory limit for the upload's part size (the process is
// the agent's: both binaries call Execute last), and it logs the process's
// peak resident memory when done.
func Execute(ctx context.Context, o Options) (Result, error) {
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = blob.DefaultConcurrency
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(o.PartSize, o.Concurrency))
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	defer func() {
		if mib, ok := PeakRSS(); ok {
			fmt.Fprintf(o.Log, "memory: peak resident %.1f MiB\n", mib)
		}
	}()
	c, err := clusterfile.LoadFile(o.File)
	if err != nil {
		return Result{}, err
	}
	if c.Spec.Backups == nil {
		return Result{}, errors.New(o.File + " has no spec.backups (docs/backups.md)")
	}
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: o.SecretsDir, KeysetFile: o.KeysetFile, NeedKeys: true, OpenCopies: true,
		Log: o.Log, Now: o.Now, Getenv: o.Getenv, KMS: o.KMS,
		Blob: blob.Options{PartSize: o.PartSize, Concurrency: o.Concurrency}})
	if err != nil {
		return Result{}, err
	}
	return Run(ctx, s, o.Config)
}

// PeakRSS is this process's peak resident memory in MiB: VmHWM of
// /proc/self/status (Linux), the high-water mark of this program's own
// address space. getrusage's ru_maxrss is not used: on Linux it also holds
// the parent's peak when the process was started by vfork+exec, as Go's
// os/exec does, so a test process measuring its child would see its own.
func PeakRSS() (float64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, false
			}
			return kb / 1024, true
		}
	}
	return 0, false
}
