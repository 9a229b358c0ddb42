package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// env is a cluster file whose storage and copy are file:// buckets in a
// temporary directory, and a cleartext keyset file.
type env struct {
	dir, bucket, copy, keyset, from string
	cluster                         *clusterfile.Cluster
	keysetStrings                   []string
}

func newEnv(t *testing.T, retention string) *env {
	t.Helper()
	d := t.TempDir()
	e := &env{dir: d, bucket: filepath.Join(d, "bucket"), copy: filepath.Join(d, "copy"), keyset: filepath.Join(d, "keyset.json"), from: filepath.Join(d, "from")}
	for _, p := range []string{e.bucket, e.copy, e.from} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k, err := crypt.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := k.Marshal(crypt.Cleartext)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.keyset, ks, 0o600); err != nil {
		t.Fatal(err)
	}
	e.keysetStrings = secretStrings(ks)
	file := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: graph}
spec:
  edition: enterprise
  version: "5.26.0"
  acceptLicenseAgreement: "yes"
  servers: 3
  auth: {secretRef: {name: neo4j-auth}}
  backups:
    storage: {url: "file://%s"}
    copies: [{url: "file://%s"}]
    encryption: {keysetSecret: {name: backup-keyset}}
%s`, e.bucket, e.copy, retention)
	if e.cluster, err = clusterfile.Load("cluster.yaml", []byte(file)); err != nil {
		t.Fatal(err)
	}
	return e
}

// secretStrings are the keyset's key material as it appears in its JSON.
func secretStrings(ks []byte) []string {
	var out []string
	for _, part := range strings.Split(string(ks), `"`) {
		if len(part) >= 16 && !strings.Contains(part, "type.googleapis.com") {
			out = append(out, part)
		}
	}
	return out
}

func (e *env) session(t *testing.T, log io.Writer, now func() time.Time) *ops.Session {
	t.Helper()
	s, err := ops.Open(context.Background(), ops.Options{Cluster: e.cluster, KeysetFile: e.keyset, NeedKeys: true, OpenCopies: true,
		Log: log, Now: now, SecretsDir: filepath.Join(e.dir, "no-secrets"), Getenv: func(string) string { return "" },
		Blob: blob.Options{Attempts: 2, BaseBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// write makes an artifact of size random bytes and returns its SHA-256.
func write(t *testing.T, path string, seed uint64, size int) string {
	t.Helper()
	b := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// london is a full and a differential of one chain, rows taken from the
// Operations Manual's inspect example (backup-restore/inspect.adoc).
const londonInspect = `|                                              FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX |
| file:///backups/london-2024-10-07T16-04-05.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:04:05 | false |       true |         6 |          6 |
| file:///backups/london-2024-10-07T16-03-51.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:03:51 |  true |       true |         1 |          5 |
`

// lockedBuffer is a log both the agent and the test read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	on func(line string)
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.b.Write(p)
	on := l.on
	l.mu.Unlock()
	if on != nil {
		on(string(p))
	}
	return n, err
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestRunChainAndDump: a full, its differential and a Community dump are
// uploaded encrypted, catalogued as produced (the differential in the
// full's chain), copied with the digest checked, and download to the
// identical bytes; a second run skips them.
func TestRunChainAndDump(t *testing.T) {
	e := newEnv(t, "")
	full := write(t, filepath.Join(e.from, "london-2024-10-07T16-03-51.backup"), 1, 3<<20+17)
	diff := write(t, filepath.Join(e.from, "london-2024-10-07T16-04-05.backup"), 2, 100<<10)
	dump := write(t, filepath.Join(e.from, "neo4j.dump"), 3, 1<<20)
	inspectFile := filepath.Join(e.dir, "inspect.txt")
	if err := os.WriteFile(inspectFile, []byte(londonInspect), 0o644); err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	s := e.session(t, &log, time.Now)
	res, err := Run(context.Background(), s, Config{FromDir: e.from, InspectFile: inspectFile, RequestedType: "diff", Prune: true})
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, log.String())
	}
	if len(res.Stored) != 3 {
		t.Fatalf("stored %d, want 3\n%s", len(res.Stored), log.String())
	}
	entries, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]catalog.Entry{}
	for _, en := range entries {
		byFile[en.File] = en
	}
	f, d, du := byFile["london-2024-10-07T16-03-51.backup"], byFile["london-2024-10-07T16-04-05.backup"], byFile["neo4j.dump"]
	if f.Type != catalog.Full || d.Type != catalog.Diff || du.Type != catalog.Full {
		t.Errorf("types: got %s %s %s, want FULL DIFF FULL (as produced)", f.Type, d.Type, du.Type)
	}
	if d.ChainID != f.ID || d.Parent != f.ID {
		t.Errorf("the differential's chain: got chain %s parent %s, want %s", d.ChainID, d.Parent, f.ID)
	}
	if !f.FellBack() {
		t.Errorf("the full taken for a DIFF request is not shown as a fallback")
	}
	for _, en := range entries {
		if len(en.Copies) != 1 || en.Copies[0].SHA256 != en.CiphertextSHA256 {
			t.Errorf("%s: copies %+v, want one with sha256 %s", en.ID, en.Copies, en.CiphertextSHA256)
		}
		if _, err := os.Stat(filepath.Join(e.copy, filepath.FromSlash(en.Object))); err != nil {
			t.Errorf("%s: the copy is not in the copy bucket: %v", en.ID, err)
		}
	}
	for file, want := range map[string]string{"london-2024-10-07T16-03-51.backup": full, "london-2024-10-07T16-04-05.backup": diff, "neo4j.dump": dump} {
		out := filepath.Join(e.dir, "restored-"+file)
		if _, err := s.Download(context.Background(), byFile[file].ID, out); err != nil {
			t.Fatalf("download %s: %v", file, err)
		}
		if got := fileSHA(t, out); got != want {
			t.Errorf("%s: downloaded sha256 %s, want %s", file, got, want)
		}
	}
	// Stored bytes are ciphertext: the plaintext digest is not the object's.
	raw, err := os.ReadFile(filepath.Join(e.bucket, filepath.FromSlash(f.Object)))
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(raw); hex.EncodeToString(h[:]) == full || int64(len(raw)) != f.CiphertextSize {
		t.Errorf("the stored object is not the ciphertext the entry describes")
	}

	res, err = Run(context.Background(), e.session(t, &log, time.Now), Config{FromDir: e.from, InspectFile: inspectFile})
	if err != nil || len(res.Stored) != 0 || len(res.Skipped) != 3 {
		t.Errorf("second run: stored %d skipped %d err %v, want 0, 3, nil", len(res.Stored), len(res.Skipped), err)
	}
	assertNoSecrets(t, e, log.String())
}

// assertNoSecrets scans the log and every object of both buckets that is
// not an artifact for the keyset's material.
func assertNoSecrets(t *testing.T, e *env, texts ...string) {
	t.Helper()
	for _, root := range []string{e.bucket, e.copy} {
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() || strings.HasSuffix(p, ".enc") {
				return err
			}
			b, _ := os.ReadFile(p)
			texts = append(texts, string(b))
			return nil
		})
	}
	for _, text := range texts {
		for _, s := range e.keysetStrings {
			if strings.Contains(text, s) {
				t.Fatalf("keyset material %q… found in output or catalogue", s[:6])
			}
		}
	}
}

// TestRunInterruptedUploadLeavesNoEntry cancels the run while the
// artifact uploads: no catalogue entry, no artifact object.
func TestRunInterruptedUploadLeavesNoEntry(t *testing.T) {
	e := newEnv(t, "")
	write(t, filepath.Join(e.from, "neo4j.dump"), 4, 64<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &lockedBuffer{}
	log.on = func(line string) {
		if strings.HasPrefix(line, "upload ") {
			go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		}
	}
	s := e.session(t, log, time.Now)
	_, err := Run(ctx, s, Config{FromDir: e.from})
	if err == nil {
		t.Fatalf("Run: got no error after cancelling mid-upload\n%s", log.String())
	}
	entries, lerr := e.session(t, io.Discard, time.Now).List(context.Background(), "")
	if lerr != nil || len(entries) != 0 {
		t.Errorf("entries after an interrupted upload: %d (%v), want none", len(entries), lerr)
	}
	var objs []string
	_ = filepath.Walk(e.bucket, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			objs = append(objs, p)
		}
		return nil
	})
	for _, o := range objs {
		if strings.Contains(o, "artifacts") && !strings.Contains(filepath.Base(o), ".tmp") {
			t.Errorf("object left behind: %s", o)
		}
	}
	if !strings.Contains(log.String(), "no catalogue entry was written") {
		t.Errorf("the log does not say that no entry was written:\n%s", log.String())
	}
}

// TestRunRefusesUnlinkableDifferential: a differential whose chain is
// neither catalogued nor in the directory cannot be restored; it is not
// uploaded.
func TestRunRefusesUnlinkableDifferential(t *testing.T) {
	e := newEnv(t, "")
	write(t, filepath.Join(e.from, "london-2024-10-07T16-04-05.backup"), 2, 1000)
	inspectFile := filepath.Join(e.dir, "inspect.txt")
	if err := os.WriteFile(inspectFile, []byte(londonInspect), 0o644); err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	_, err := Run(context.Background(), e.session(t, &log, time.Now), Config{FromDir: e.from, InspectFile: inspectFile})
	if err == nil || !strings.Contains(err.Error(), "cannot be restored") {
		t.Fatalf("got %v, want the differential refused", err)
	}
	if _, serr := os.Stat(filepath.Join(e.bucket, "artifacts")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("something was uploaded for a refused differential")
	}
}

// TestRunNeedsInspectForBackups: .backup artifacts without the inspect
// output are refused, saying how to produce it.
func TestRunNeedsInspectForBackups(t *testing.T) {
	e := newEnv(t, "")
	write(t, filepath.Join(e.from, "london-2024-10-07T16-03-51.backup"), 1, 1000)
	_, err := Run(context.Background(), e.session(t, io.Discard, time.Now), Config{FromDir: e.from})
	if err == nil || !strings.Contains(err.Error(), "backup inspect --show-metadata") {
		t.Errorf("got %v, want a refusal naming the inspect command", err)
	}
}

// TestRunAppliesRetention: three daily dumps under daily: 1 keep the
// newest; the deletions are printed before the first one happens, and
// the copies go with their artifacts.
func TestRunAppliesRetention(t *testing.T) {
	e := newEnv(t, "    retention: {daily: 1}\n")
	base := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var log lockedBuffer
	for day := 0; day < 3; day++ {
		p := filepath.Join(e.from, "neo4j.dump")
		write(t, p, uint64(10+day), 4096)
		taken := base.AddDate(0, 0, day)
		if err := os.Chtimes(p, taken, taken); err != nil {
			t.Fatal(err)
		}
		now := func() time.Time { return taken.Add(time.Hour) }
		if _, err := Run(context.Background(), e.session(t, &log, now), Config{FromDir: e.from, Prune: true}); err != nil {
			t.Fatalf("day %d: %v\n%s", day, err, log.String())
		}
	}
	entries, err := e.session(t, io.Discard, time.Now).List(context.Background(), "neo4j")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].Created.Equal(base.AddDate(0, 0, 2)) {
		t.Fatalf("kept %d entries, want only the newest:\n%s", len(entries), log.String())
	}
	text := log.String()
	plannedAt := strings.Index(text, "retention: will delete")
	deletedAt := strings.Index(text, "\ndelete ")
	if plannedAt < 0 || deletedAt < 0 || plannedAt > deletedAt {
		t.Errorf("deletions not printed before they happen:\n%s", text)
	}
	for _, root := range []string{e.bucket, e.copy} {
		n := 0
		_ = filepath.Walk(filepath.Join(root, "artifacts"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".enc") {
				n++
			}
			return nil
		})
		if n != 1 {
			t.Errorf("%s holds %d artifacts after pruning, want 1", root, n)
		}
	}
}
