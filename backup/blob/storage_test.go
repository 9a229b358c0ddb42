package blob_test

// Integration tests: every driver over real HTTP against a real storage
// server started by e2e/storage (versitygw for S3, fake-gcs-server for GCS,
// Azurite for Azure). They skip under -short only.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// fast keeps the retry tests quick: the policy is the production one
// (5 attempts, exponential, jitter, capped) with small numbers.
func fast(report func(blob.Attempt)) blob.Options {
	return blob.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Report: report}
}

type target struct {
	name string
	url  func(bucket, prefix string) string
	mk   func(t *testing.T, bucket string)
	opts func() blob.Options
}

func s3Target(t *testing.T) (*storage.S3, target) {
	s := storage.StartS3(t)
	return s, target{"s3", s.URL, func(t *testing.T, b string) { s.CreateBucket(t, b) }, func() blob.Options {
		o := fast(nil)
		o.Credentials = map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s.SecretKey)}
		return o
	}}
}

func gcsTarget(t *testing.T) (*storage.GCS, target) {
	g := storage.StartGCS(t)
	return g, target{"gcs", g.URL, func(t *testing.T, b string) { g.CreateBucket(t, b) }, func() blob.Options { return fast(nil) }}
}

func azureTarget(t *testing.T) (*storage.Azure, target) {
	a := storage.StartAzure(t)
	return a, target{"azure", a.URL, func(t *testing.T, b string) { a.CreateContainer(t, b) }, func() blob.Options {
		o := fast(nil)
		o.Credentials = map[string][]byte{blob.KeyAzureKey: []byte(storage.AzuriteKey)}
		return o
	}}
}

func open(t *testing.T, url string, opts blob.Options) *blob.Bucket {
	t.Helper()
	b, err := blob.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// exercise is the behaviour every driver must have.
func exercise(t *testing.T, tg target) {
	ctx := context.Background()
	tg.mk(t, "backups")
	b := open(t, tg.url("backups", "clusters/prod"), tg.opts())
	root := open(t, tg.url("backups", ""), tg.opts())

	// create-if-absent: the second writer gets ErrExists, the first's bytes stay.
	key := "catalog/neo4j/2026-12-07T10:00:00Z-full.json"
	if err := b.PutIfAbsent(ctx, key, []byte(`{"writer":1}`)); err != nil {
		t.Fatalf("first PutIfAbsent: %v", err)
	}
	err := b.PutIfAbsent(ctx, key, []byte(`{"writer":2}`))
	if !errors.Is(err, blob.ErrExists) || !blob.IsPermanent(err) {
		t.Fatalf("second PutIfAbsent = %v, want ErrExists (permanent)", err)
	}
	if got, err := b.Read(ctx, key); err != nil || string(got) != `{"writer":1}` {
		t.Fatalf("Read = %q, %v: the first writer's entry must stay", got, err)
	}

	// Two writers racing: exactly one wins.
	var wins, exists atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := b.PutIfAbsent(ctx, "catalog/race.json", []byte(fmt.Sprint(i))); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, blob.ErrExists):
				exists.Add(1)
			default:
				t.Errorf("racing PutIfAbsent: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || exists.Load() != 5 {
		t.Fatalf("race: %d winners, %d ErrExists; want 1 and 5", wins.Load(), exists.Load())
	}

	// Upload: size and digest of the streamed bytes; Stat agrees.
	data := make([]byte, 3<<20+17)
	_, _ = rand.NewChaCha8([32]byte{1, 2}).Read(data)
	obj, err := b.Upload(ctx, "artifacts/neo4j-2026-12-07T10-00-00.backup", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if obj.Size != int64(len(data)) || obj.SHA256 != sha(data) {
		t.Fatalf("Upload = %+v, want %d bytes sha256 %s", obj, len(data), sha(data))
	}
	rc, err := b.Open(ctx, obj.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Open/ReadAll: %d bytes, %v", len(got), err)
	}

	// A source failing half way: an error, and nothing under the key (the
	// driver's write is aborted, not committed truncated).
	_, err = b.Upload(ctx, "artifacts/broken.backup", io.MultiReader(bytes.NewReader(data[:1<<20]), errReader{errors.New("source failed")}))
	if err == nil || !strings.Contains(err.Error(), "source failed") {
		t.Fatalf("Upload(failing source) = %v", err)
	}
	if ok, err := b.Exists(ctx, "artifacts/broken.backup"); ok || err != nil {
		t.Fatalf("a failed upload left an object (%v)", err)
	}

	// List is scoped by the URL's prefix; the root sees the full keys.
	objs, err := b.List(ctx, "catalog/")
	if err != nil {
		t.Fatal(err)
	}
	if keys := blob.Keys(objs); strings.Join(keys, ",") != "catalog/neo4j/2026-12-07T10:00:00Z-full.json,catalog/race.json" {
		t.Fatalf("List(catalog/) = %v", keys)
	}
	all, err := root.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if !strings.HasPrefix(o.Key, "clusters/prod/") {
			t.Fatalf("root sees %q outside the prefix", o.Key)
		}
	}
	if len(all) != 3 {
		t.Fatalf("root List = %v", blob.Keys(all))
	}

	// Exists / Delete / missing key: ErrNotFound, permanent.
	if ok, err := b.Exists(ctx, key); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx, key); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	if _, err := b.Read(ctx, key); !errors.Is(err, blob.ErrNotFound) || !blob.IsPermanent(err) {
		t.Fatalf("Read(deleted) = %v, want ErrNotFound", err)
	}

	// A missing bucket is a permanent error, reported once.
	var reports []string
	o := tg.opts()
	o.Report = func(a blob.Attempt) { reports = append(reports, a.String()) }
	missing := open(t, tg.url("no-such-bucket", "p"), o)
	err = missing.PutIfAbsent(ctx, "x", []byte("x"))
	if err == nil || !blob.IsPermanent(err) || len(reports) != 1 {
		t.Fatalf("missing bucket: err %v, reports %q; want one permanent failure", err, reports)
	}
}

func TestS3(t *testing.T) {
	_, tg := s3Target(t)
	exercise(t, tg)
}

func TestGCS(t *testing.T) {
	_, tg := gcsTarget(t)
	exercise(t, tg)
}

func TestAzure(t *testing.T) {
	_, tg := azureTarget(t)
	exercise(t, tg)
}

// TestAzureWrongKeyIsPermanentAndNotShown: Azurite checks shared-key
// signatures, so a wrong key is a real 403 — tried once, the key (a canary)
// nowhere in the error or the reports. (fake-gcs-server checks no
// credentials; S3's wrong secret is in TestS3Faults.)
func TestAzureWrongKeyIsPermanentAndNotShown(t *testing.T) {
	a := storage.StartAzure(t)
	a.CreateContainer(t, "keys")
	canary := base64.StdEncoding.EncodeToString([]byte("CANARY-azure-key-0123456789abcdef"))
	var lines []string
	o := fast(func(at blob.Attempt) { lines = append(lines, at.String()) })
	o.Credentials = map[string][]byte{blob.KeyAzureKey: []byte(canary)}
	b := open(t, a.URL("keys", "p"), o)
	err := b.PutIfAbsent(context.Background(), "catalog/x.json", []byte("x"))
	if err == nil || !blob.IsPermanent(err) || len(lines) != 1 {
		t.Fatalf("wrong key: %v, reports %q; want one permanent failure", err, lines)
	}
	for _, s := range append(lines, err.Error(), fmt.Sprintf("%+v", err), b.URL()) {
		if strings.Contains(s, canary) || strings.Contains(s, "CANARY") {
			t.Fatalf("the key leaked: %s", s)
		}
	}
	t.Logf("reported: %s", lines[0])
}
