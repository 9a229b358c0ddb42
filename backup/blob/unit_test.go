package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const canary = "CANARY-s3cr3t-9f8e7d6c5b4a"

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	base, cap := 100*time.Millisecond, 30*time.Second
	for n := 1; n <= 20; n++ {
		ceil := base << (n - 1)
		if ceil > cap || ceil <= 0 {
			ceil = cap
		}
		var seen []time.Duration
		for i := 0; i < 200; i++ {
			d := backoff(base, cap, n)
			if d < 0 || d > ceil {
				t.Fatalf("attempt %d: backoff %s outside [0, %s]", n, d, ceil)
			}
			seen = append(seen, d)
		}
		// Jitter: 200 draws are not all the same.
		same := true
		for _, d := range seen {
			if d != seen[0] {
				same = false
			}
		}
		if same {
			t.Fatalf("attempt %d: no jitter (%s every time)", n, seen[0])
		}
	}
}

func TestOpenRejectsBadURLsWithoutEchoingSecrets(t *testing.T) {
	ctx := context.Background()
	creds := map[string][]byte{KeyAWSAccessKeyID: []byte("AKIA" + canary), KeyAWSSecretAccessKey: []byte(canary)}
	cases := []struct{ url, want string }{
		{"s3://user:" + canary + "@bucket/p", "credentials in the URL are not accepted"},
		{"ftp://bucket/p", `unsupported scheme "ftp"`},
		{"s3:///prefix", "no bucket name"},
		{"s3://bucket/p?colour=blue", `unknown query parameter "colour"`},
		{"gs://bucket/p?region=x", `unknown query parameter "region"`},
		{"file://somehost/var/backups", "a file URL has no host"},
	}
	for _, c := range cases {
		o := Options{}
		if strings.HasPrefix(c.url, "s3") {
			o.Credentials = creds
		}
		_, err := Open(ctx, c.url, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", c.url, err, c.want)
			continue
		}
		if strings.Contains(fmt.Sprintf("%v %+v", err, err), canary) {
			t.Errorf("Open(%q): error shows the secret: %v", c.url, err)
		}
	}
	// No region and no endpoint: a real AWS bucket in the wrong region
	// would answer 301, reported as "not found"; ask for the region.
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	if _, err := Open(ctx, "s3://bucket/p", Options{Credentials: creds}); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("s3 without region: %v", err)
	}
	// A credential key the scheme does not use is named, its value never shown.
	_, err := Open(ctx, "gs://bucket/p", Options{Credentials: creds})
	if err == nil || !strings.Contains(err.Error(), `credential key "AWS_ACCESS_KEY_ID" is not used by gs://`) || strings.Contains(err.Error(), canary) {
		t.Errorf("gs with AWS keys: %v", err)
	}
	_, err = Open(ctx, "gs://bucket/p", Options{Credentials: map[string][]byte{KeyGoogleCredentials: []byte(`{"type":"` + canary)}})
	if err == nil || strings.Contains(err.Error(), canary) {
		t.Errorf("bad Google key: %v", err)
	}
}

func TestURLHasNoSecrets(t *testing.T) {
	b, err := Open(context.Background(), "s3://bucket/team/prod?region=eu-west-1&endpoint=http://127.0.0.1:1", Options{
		Credentials: map[string][]byte{KeyAWSAccessKeyID: []byte("AKIAEXAMPLE"), KeyAWSSecretAccessKey: []byte(canary)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.URL(); strings.Contains(got, canary) || strings.Contains(got, "AKIAEXAMPLE") || !strings.Contains(got, "s3://bucket/team/prod") {
		t.Fatalf("URL() = %q", got)
	}
}

// s3Stub is an HTTP endpoint answering every request with one status and
// S3 error code: enough to check which errors are retried without a server.
func s3Stub(t *testing.T, status int, code string) (*httptest.Server, *int) {
	n := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0"?><Error><Code>%s</Code><Message>m</Message></Error>`, code)
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

func TestPermanentErrorsAreTriedOnceAndTransientOnesRetried(t *testing.T) {
	cases := []struct {
		status    int
		code      string
		permanent bool
	}{
		{403, "InvalidAccessKeyId", true},
		{403, "SignatureDoesNotMatch", true},
		{403, "AccessDenied", true},
		{404, "NoSuchBucket", true},
		{503, "SlowDown", false},
		{500, "InternalError", false},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			srv, n := s3Stub(t, c.status, c.code)
			var reports []string
			b, err := Open(context.Background(), "s3://bucket/p?region=us-east-1&endpoint="+srv.URL, Options{
				Attempts: 5, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
				Credentials: map[string][]byte{KeyAWSAccessKeyID: []byte("AKIAEXAMPLE"), KeyAWSSecretAccessKey: []byte(canary)},
				Report:      func(a Attempt) { reports = append(reports, a.String()) },
			})
			if err != nil {
				t.Fatal(err)
			}
			err = b.PutIfAbsent(context.Background(), "k", []byte("v"))
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsPermanent(err); got != c.permanent {
				t.Fatalf("IsPermanent = %v, want %v (%v)", got, c.permanent, err)
			}
			if c.permanent {
				if *n != 1 || len(reports) != 1 || !strings.HasPrefix(reports[0], "attempt 1/5: ") || !strings.HasSuffix(reports[0], "(permanent: not retried)") {
					t.Fatalf("permanent error: %d requests, reports %q; want 1 and 1", *n, reports)
				}
			} else {
				// Five of ours, each with the SDK's three tries.
				if len(reports) != 5 || *n != 15 || !strings.Contains(err.Error(), "gave up after 5 attempts") {
					t.Fatalf("transient error: %d requests, reports %q, err %v", *n, reports, err)
				}
				for i, r := range reports {
					if !strings.HasPrefix(r, fmt.Sprintf("attempt %d/5: put-if-absent k: ", i+1)) {
						t.Fatalf("report %d = %q", i, r)
					}
				}
			}
			all := fmt.Sprintf("%v %+v %s", err, err, strings.Join(reports, "\n"))
			if strings.Contains(all, canary) {
				t.Fatalf("secret in error or reports: %s", all)
			}
		})
	}
}

func TestFileBucketRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, "file://"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("neo4j"), 100000)
	obj, err := b.Upload(ctx, "db/a.backup", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if obj.SHA256 != hex.EncodeToString(sum[:]) || obj.Size != int64(len(data)) {
		t.Fatalf("Upload = %+v", obj)
	}
	if err := b.PutIfAbsent(ctx, "catalog/x.json", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := b.PutIfAbsent(ctx, "catalog/x.json", []byte("2")); !errors.Is(err, ErrExists) || !IsPermanent(err) {
		t.Fatalf("second PutIfAbsent = %v, want ErrExists", err)
	}
	if got, _ := b.Read(ctx, "catalog/x.json"); string(got) != "1" {
		t.Fatalf("catalogue entry overwritten: %q", got)
	}
	objs, err := b.List(ctx, "catalog/")
	if err != nil || len(objs) != 1 || objs[0].Key != "catalog/x.json" {
		t.Fatalf("List = %+v, %v", objs, err)
	}
	if _, err := b.Read(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read(missing) = %v", err)
	}
	// A source that fails half way leaves nothing under the key.
	_, err = b.Upload(ctx, "db/broken.backup", io.MultiReader(bytes.NewReader(data[:1000]), failingReader{}))
	if err == nil || !strings.Contains(err.Error(), "not retried") || !strings.Contains(err.Error(), "reading the source after 1000 bytes: disk read error") {
		t.Fatalf("Upload(failing stream) = %v", err)
	}
	if ok, _ := b.Exists(ctx, "db/broken.backup"); ok {
		t.Fatal("a failed upload left an object")
	}
	// No temp file or sidecar of it either.
	left, _ := filepath.Glob(filepath.Join(dir, "db", "*broken*"))
	if len(left) != 0 {
		t.Fatalf("files left in the bucket: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "db", "broken.backup")); err == nil {
		t.Fatal("partial file under the final name")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk read error") }

func TestPartSizeFitsKnownSizesInto10000Parts(t *testing.T) {
	b := &Bucket{opts: Options{}.withDefaults()}
	f, err := os.Create(filepath.Join(t.TempDir(), "big.backup"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 200 << 30 // sparse: no disk used
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, r := range []io.Reader{f, io.NewSectionReader(f, 0, size)} {
		if ps := b.partSize(r); int64(ps)*10000 < size {
			t.Errorf("%T of 200 GiB: part size %d needs more than 10 000 parts", r, ps)
		}
	}
	if ps := b.partSize(bytes.NewReader(nil)); ps != 8<<20 {
		t.Errorf("small source: part size %d, want the 8 MiB default", ps)
	}
	if ps := b.partSize(io.MultiReader()); ps != 8<<20 {
		t.Errorf("unknown size: part size %d, want the 8 MiB default", ps)
	}
}
