package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// reports collects the attempt lines a Bucket prints.
type reports struct {
	mu    sync.Mutex
	lines []string
}

func (r *reports) add(a blob.Attempt) {
	r.mu.Lock()
	r.lines = append(r.lines, a.String())
	r.mu.Unlock()
}
func (r *reports) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// proxied opens bucket "faults" on s through a fault-injecting proxy.
func proxied(t *testing.T, s *storage.S3, secret string, rep *reports) (*blob.Bucket, *storage.Proxy) {
	p := storage.NewProxy(t, s.Endpoint)
	o := fast(rep.add)
	o.Credentials = map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s.AccessKey), blob.KeyAWSSecretAccessKey: []byte(secret)}
	// Small parts so a few MiB make a multipart upload.
	o.PartSize = 5 << 20
	o.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	url := "s3://faults/p?region=" + s.Region + "&endpoint=" + p.URL
	// Whatever the faults, no report shows the secret key.
	t.Cleanup(func() {
		for _, l := range rep.all() {
			if strings.Contains(l, secret) || strings.Contains(l, s.SecretKey) {
				t.Errorf("a report shows the secret key: %s", l)
			}
		}
	})
	return open(t, url, o), p
}

func isPart(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Has("partNumber")
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

func checkObject(t *testing.T, b *blob.Bucket, key string, want []byte) {
	t.Helper()
	got, err := b.Read(context.Background(), key)
	if err != nil {
		t.Fatalf("read back %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes stored, want %d identical", key, len(got), len(want))
	}
}

func TestS3Faults(t *testing.T) {
	s, _ := s3Target(t)
	s.CreateBucket(t, "faults")
	ctx := context.Background()
	// Above the uploader's 16 MiB multipart threshold: four 5 MiB parts.
	data := randomBytes(20<<20, 7)

	t.Run("5xx then success", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		// Four 503s on part 1: the SDK's three tries of it fail, the
		// multipart upload is aborted, our second attempt re-uploads from
		// the start (the SDK retrying part 1 once more) and completes.
		rule := p.Add(storage.Rule{Match: isFirstPart, Times: 4, Fault: storage.Fault{Status: http.StatusServiceUnavailable}})
		obj, err := b.Upload(ctx, "five-xx.backup", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Upload: %v (reports %q)", err, rep.all())
		}
		if p.Hits(rule) != 4 || obj.SHA256 != sha(data) {
			t.Fatalf("hits %d, obj %+v", p.Hits(rule), obj)
		}
		lines := rep.all()
		if len(lines) == 0 || !strings.HasPrefix(lines[0], "attempt 1/5: upload five-xx.backup: ") || !strings.Contains(lines[0], "503") {
			t.Fatalf("reports = %q, want attempt 1/5 with the 503", lines)
		}
		checkObject(t, b, "five-xx.backup", data)
	})

	t.Run("connection reset mid-upload", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		rule := p.Add(storage.Rule{Match: isPart, Times: 2, Fault: storage.Fault{ResetAfter: 1 << 20}})
		obj, err := b.Upload(ctx, "reset.backup", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Upload: %v (reports %q)", err, rep.all())
		}
		if p.Hits(rule) != 2 || obj.SHA256 != sha(data) {
			t.Fatalf("hits %d, obj %+v", p.Hits(rule), obj)
		}
		checkObject(t, b, "reset.backup", data)
	})

	t.Run("slow responses", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		// Slower than the client's 2 s timeout, three times in a row: the
		// SDK's tries time out, ours retries.
		rule := p.Add(storage.Rule{Match: func(r *http.Request) bool { return r.Method == http.MethodPut }, Times: 3, Fault: storage.Fault{Delay: 3 * time.Second}})
		small := randomBytes(64<<10, 3)
		if err := b.PutIfAbsent(ctx, "catalog/slow.json", small); err != nil {
			t.Fatalf("PutIfAbsent: %v (reports %q)", err, rep.all())
		}
		if p.Hits(rule) != 3 {
			t.Fatalf("hits %d", p.Hits(rule))
		}
		if lines := rep.all(); len(lines) != 1 || !strings.Contains(lines[0], "attempt 1/5") {
			t.Fatalf("reports = %q", lines)
		}
		checkObject(t, b, "catalog/slow.json", small)
	})

	t.Run("persistent 5xx fails loudly and leaves nothing", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		p.Add(storage.Rule{Match: isPart, Times: 1 << 30, Fault: storage.Fault{Status: http.StatusInternalServerError}})
		_, err := b.Upload(ctx, "doomed.backup", bytes.NewReader(data))
		if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") {
			t.Fatalf("Upload = %v", err)
		}
		lines := rep.all()
		if len(lines) != 5 || !strings.HasPrefix(lines[4], "attempt 5/5: ") {
			t.Fatalf("reports = %q, want attempts 1/5..5/5", lines)
		}
		p.Clear()
		if ok, err := b.Exists(ctx, "doomed.backup"); ok || err != nil {
			t.Fatalf("Exists(doomed) = %v, %v: a failed upload left an object", ok, err)
		}
	})

	t.Run("permanent errors are tried once", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, "CANARY-wrong-secret-0xdeadbeef", rep)
		err := b.PutIfAbsent(ctx, "catalog/x.json", []byte("x"))
		if err == nil || !blob.IsPermanent(err) {
			t.Fatalf("wrong secret: %v", err)
		}
		if n := len(p.Requests()); n != 1 || len(rep.all()) != 1 {
			t.Fatalf("wrong secret: %d requests, reports %q; want 1", n, rep.all())
		}
		for _, s := range append(rep.all(), err.Error(), b.URL()) {
			if strings.Contains(s, "CANARY") {
				t.Fatalf("the secret leaked: %s", s)
			}
		}

		t.Logf("reported: %s", rep.all()[0])
		rep2 := &reports{}
		good, p2 := proxied(t, s, s.SecretKey, rep2)
		_, err = good.Read(ctx, "catalog/never-written.json")
		if !errors.Is(err, blob.ErrNotFound) || len(p2.Requests()) != 1 {
			t.Fatalf("404 on read: %v after %d requests", err, len(p2.Requests()))
		}
	})

	t.Run("interrupted upload leaves no object", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		// The source fails after three parts' worth of bytes.
		src := io.MultiReader(bytes.NewReader(data[:18<<20]), errReader{errors.New("encryptor: disk read error")})
		_, err := b.Upload(ctx, "interrupted.backup", src)
		if err == nil || !strings.Contains(err.Error(), "not retried") {
			t.Fatalf("Upload = %v", err)
		}
		if !hasRequest(p, "uploadId=") {
			t.Fatalf("expected a multipart upload, saw %q", p.Requests())
		}
		if ok, _ := b.Exists(ctx, "interrupted.backup"); ok {
			t.Fatal("interrupted upload left an object under its key")
		}
		if !hasRequest(p, "DELETE /faults/p/interrupted.backup?uploadId=") {
			t.Fatalf("the multipart upload was not aborted: %q", p.Requests())
		}
		if n := pendingUploads(t, s); n != 0 {
			t.Fatalf("%d multipart uploads left pending on the server", n)
		}
		// Cancelled context: same.
		cctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		go func() { _, _ = pw.Write(data[:18<<20]); cancel(); _ = pw.CloseWithError(context.Canceled) }()
		if _, err := b.Upload(cctx, "cancelled.backup", pr); err == nil {
			t.Fatal("cancelled upload succeeded")
		}
		if ok, _ := b.Exists(ctx, "cancelled.backup"); ok {
			t.Fatal("cancelled upload left an object under its key")
		}
		if n := pendingUploads(t, s); n != 0 {
			t.Fatalf("%d multipart uploads left pending after a cancelled upload", n)
		}
	})

	t.Run("UploadFrom re-opens a non-seekable source", func(t *testing.T) {
		rep := &reports{}
		b, p := proxied(t, s, s.SecretKey, rep)
		p.Add(storage.Rule{Match: isFirstPart, Times: 3, Fault: storage.Fault{ResetAfter: 1}})
		opens := 0
		obj, err := b.UploadFrom(ctx, "reopened.backup", func() (io.ReadCloser, error) {
			opens++
			return io.NopCloser(io.MultiReader(bytes.NewReader(data))), nil
		})
		if err != nil || opens != 2 || obj.SHA256 != sha(data) {
			t.Fatalf("UploadFrom: %+v, %v after %d opens (reports %q)", obj, err, opens, rep.all())
		}
	})
}

// pendingUploads asks the server (directly, not through the package under
// test) how many multipart uploads are in progress in bucket "faults".
func pendingUploads(t *testing.T, s *storage.S3) int {
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), Region: s.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("faults")})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	return len(out.Uploads)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func hasRequest(p *storage.Proxy, sub string) bool {
	for _, r := range p.Requests() {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

// upload200MB streams a generated 200 MB artifact (never held in memory)
// to b through a proxy p, checks the digest against a second generation of
// the same bytes, that it went in parts (isPart counts the driver's part
// or chunk requests) and that the heap stayed flat, then reads it back.
// It returns the upload's duration (CI time: docs/backups.md).
func upload200MB(t *testing.T, b *blob.Bucket, p *storage.Proxy, isPart func(req string) bool) time.Duration {
	t.Helper()
	const size = 200 << 20
	want := sha256.New()
	if _, err := io.Copy(want, generated(size)); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	stop := sampleHeap()
	start := time.Now()
	obj, err := b.Upload(context.Background(), "neo4j-200MB.backup", generated(size))
	elapsed := time.Since(start)
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != size || obj.SHA256 != hex.EncodeToString(want.Sum(nil)) {
		t.Fatalf("Upload = %+v", obj)
	}
	parts := 0
	for _, r := range p.Requests() {
		if isPart(r) {
			parts++
		}
	}
	t.Logf("200 MB upload: %s, %d parts, peak heap %d MiB", elapsed.Round(time.Millisecond), parts, peak>>20)
	if parts < 10 {
		t.Fatalf("%d part uploads: not a multipart upload; requests:\n%s", parts, strings.Join(p.Requests(), "\n"))
	}
	// Measured 48-66 MiB (8 MiB parts, 2 in flight, plus garbage not yet
	// collected); an upload that held the object would need over 200.
	if peak > 96<<20 {
		t.Fatalf("peak heap %d MiB while uploading 200 MB: memory is not flat", peak>>20)
	}
	// Read back through the driver and hash.
	rc, err := b.Open(context.Background(), "neo4j-200MB.backup")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != obj.SHA256 {
		t.Fatalf("read back %d bytes, %v, digest mismatch", n, err)
	}
	return elapsed
}

// TestS3MultipartUpload200MB: S3 multipart (UploadPart requests).
func TestS3MultipartUpload200MB(t *testing.T) {
	s, _ := s3Target(t)
	s.CreateBucket(t, "big")
	p := storage.NewProxy(t, s.Endpoint)
	o := fast(nil)
	o.Credentials = map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s.SecretKey)}
	b := open(t, "s3://big/x?region="+s.Region+"&endpoint="+p.URL, o)
	upload200MB(t, b, p, func(r string) bool { return strings.HasPrefix(r, "PUT ") && strings.Contains(r, "partNumber=") })
}

// TestGCSUpload200MB: GCS resumable upload (one request per 8 MiB chunk of
// the session) against fake-gcs-server.
func TestGCSUpload200MB(t *testing.T) {
	g, tg := gcsTarget(t)
	g.CreateBucket(t, "big")
	p := storage.NewProxy(t, g.Endpoint)
	p.RewriteHost = true
	// The session URI fake-gcs-server returns names its own address: the
	// chunks would bypass the proxy that counts them. A second proxy in
	// front rewrites it to the counting one.
	front := locationRewriter(t, p.URL, g.Endpoint)
	b := open(t, "gs://big/x?endpoint="+front, tg.opts())
	upload200MB(t, b, p, func(r string) bool {
		return strings.Contains(r, "uploadType=resumable") && strings.Contains(r, "upload_id=")
	})
}

// locationRewriter proxies to target and rewrites Location headers naming
// origin to point back at itself.
func locationRewriter(t *testing.T, target, origin string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	rp.ModifyResponse = func(r *http.Response) error {
		if loc := r.Header.Get("Location"); loc != "" {
			r.Header.Set("Location", strings.Replace(loc, origin, srv.URL, 1))
		}
		return nil
	}
	return srv.URL
}

// TestAzureUpload200MB: Azure block blob (one Put Block per 8 MiB block,
// then Put Block List) against Azurite.
func TestAzureUpload200MB(t *testing.T) {
	a, tg := azureTarget(t)
	a.CreateContainer(t, "big")
	p := storage.NewProxy(t, a.Endpoint)
	p.RewriteHost = true
	b := open(t, "azblob://big/x?account="+storage.AzuriteAccount+"&endpoint="+p.URL+"/"+storage.AzuriteAccount, tg.opts())
	upload200MB(t, b, p, func(r string) bool {
		return strings.HasPrefix(r, "PUT ") && strings.Contains(r, "comp=block") && !strings.Contains(r, "comp=blocklist")
	})
}

// generated is a deterministic pseudo-random stream of n bytes.
func generated(n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'n', 'e', 'o', '4', 'j'}), n)
}

func sampleHeap() func() uint64 {
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak }
}

// TestCopyAcrossProviders copies S3 → GCS → Azure and checks the digest at
// each destination; a destination that returns damaged bytes fails the
// copy with ErrDigest and the bad copy is removed.
func TestCopyAcrossProviders(t *testing.T) {
	ctx := context.Background()
	s, s3t := s3Target(t)
	g, gcst := gcsTarget(t)
	a, azt := azureTarget(t)
	s.CreateBucket(t, "eu-west")
	g.CreateBucket(t, "us-east")
	a.CreateContainer(t, "ap-south")
	src := open(t, s3t.url("eu-west", "prod"), s3t.opts())
	toGCS := open(t, gcst.url("us-east", "prod-copy"), gcst.opts())
	toAz := open(t, azt.url("ap-south", "prod-copy"), azt.opts())

	data := randomBytes(9<<20+3, 11)
	up, err := src.Upload(ctx, "neo4j/a.backup", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c1, err := src.CopyTo(ctx, "neo4j/a.backup", toGCS)
	if err != nil || c1.SHA256 != up.SHA256 || c1.Size != up.Size {
		t.Fatalf("S3→GCS: %+v, %v (source %+v)", c1, err, up)
	}
	c2, err := toGCS.CopyTo(ctx, "neo4j/a.backup", toAz)
	if err != nil || c2.SHA256 != up.SHA256 {
		t.Fatalf("GCS→Azure: %+v, %v", c2, err)
	}
	checkObject(t, toAz, "neo4j/a.backup", data)

	// A destination whose reads come back damaged (S3 sends no checksum a
	// client checks): ErrDigest, and the bad copy is removed.
	ps3 := storage.NewProxy(t, s.Endpoint)
	s.CreateBucket(t, "damaged")
	badS3 := open(t, "s3://damaged/x?region="+s.Region+"&endpoint="+ps3.URL, s3t.opts())
	ps3.Add(storage.Rule{Match: storage.IsGet, Times: 1 << 30, Fault: storage.Fault{Corrupt: true}})
	_, err = toGCS.CopyTo(ctx, "neo4j/a.backup", badS3)
	if !errors.Is(err, blob.ErrDigest) || !strings.Contains(err.Error(), "the unverified copy was deleted") {
		t.Fatalf("CopyTo(damaging S3 destination) = %v, want ErrDigest", err)
	}
	ps3.Clear()
	if ok, err := badS3.Exists(ctx, "neo4j/a.backup"); ok || err != nil {
		t.Fatalf("the bad copy was left behind (%v)", err)
	}

	// GCS's client checks CRC32C itself: the damaged read fails loudly
	// before our digest does, and the unverified copy is removed all the same.
	pg := storage.NewProxy(t, g.Endpoint)
	pg.RewriteHost = true
	badGCS := open(t, "gs://us-east/damaged?endpoint="+pg.URL, gcst.opts())
	pg.Add(storage.Rule{Match: storage.IsGet, Times: 1 << 30, Fault: storage.Fault{Corrupt: true}})
	_, err = src.CopyTo(ctx, "neo4j/a.backup", badGCS)
	if err == nil || !strings.Contains(err.Error(), "could not be verified") || !strings.Contains(err.Error(), "the unverified copy was deleted") {
		t.Fatalf("CopyTo(damaging GCS destination) = %v", err)
	}
	pg.Clear()
	if ok, err := badGCS.Exists(ctx, "neo4j/a.backup"); ok || err != nil {
		t.Fatalf("the unverified copy was left behind (%v)", err)
	}
}

// isFirstPart matches part 1 only: faults on one part exhaust the SDK's
// three tries of that part (faults spread over parts are absorbed by it).
func isFirstPart(r *http.Request) bool { return isPart(r) && r.URL.Query().Get("partNumber") == "1" }

// TestRetriesOnGCSAndAzure: the same retry policy on the other drivers —
// 5xx answers retried and completed, a persistent 5xx failing loudly after
// five reported attempts with nothing left under the key.
func TestRetriesOnGCSAndAzure(t *testing.T) {
	ctx := context.Background()
	g, gcst := gcsTarget(t)
	a, azt := azureTarget(t)
	g.CreateBucket(t, "retries")
	a.CreateContainer(t, "retries")
	isWrite := func(r *http.Request) bool { return r.Method == http.MethodPut || r.Method == http.MethodPost }
	for _, c := range []struct {
		name     string
		endpoint string
		url      func(endpoint string) string
		opts     func() blob.Options
	}{
		{"gcs", g.Endpoint, func(e string) string { return "gs://retries/p?endpoint=" + e }, gcst.opts},
		{"azure", a.Endpoint, func(e string) string {
			return "azblob://retries/p?account=" + storage.AzuriteAccount + "&endpoint=" + e + "/" + storage.AzuriteAccount
		}, azt.opts},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := storage.NewProxy(t, c.endpoint)
			p.RewriteHost = true
			rep := &reports{}
			o := c.opts()
			o.Report = rep.add
			b := open(t, c.url(p.URL), o)

			// More 503s than one SDK call tries (3 for GCS, 4 for Azure).
			rule := p.Add(storage.Rule{Match: isWrite, Times: 5, Fault: storage.Fault{Status: http.StatusServiceUnavailable}})
			if err := b.PutIfAbsent(ctx, "catalog/a.json", []byte(`{"a":1}`)); err != nil {
				t.Fatalf("PutIfAbsent: %v (reports %q)", err, rep.all())
			}
			// The SDK's own retries may absorb some or all of them; any of
			// ours is reported as attempt n/5.
			if p.Hits(rule) != 5 || (len(rep.all()) > 0 && !strings.HasPrefix(rep.all()[0], "attempt 1/5: put-if-absent catalog/a.json: ")) {
				t.Fatalf("hits %d, reports %q, requests %q", p.Hits(rule), rep.all(), p.Requests())
			}
			checkObject(t, b, "catalog/a.json", []byte(`{"a":1}`))

			p.Clear()
			rep2 := &reports{}
			o.Report = rep2.add
			b2 := open(t, c.url(p.URL), o)
			p.Add(storage.Rule{Match: isWrite, Times: 1 << 30, Fault: storage.Fault{Status: http.StatusInternalServerError}})
			_, err := b2.Upload(ctx, "doomed.backup", bytes.NewReader(randomBytes(1<<20, 5)))
			if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") || len(rep2.all()) != 5 {
				t.Fatalf("persistent 500: %v, reports %q", err, rep2.all())
			}
			p.Clear()
			if ok, err := b2.Exists(ctx, "doomed.backup"); ok || err != nil {
				t.Fatalf("a failed upload left an object (%v)", err)
			}
		})
	}
}

// TestS3UploadMemory: what a streamed upload allocates is its parts —
// the transfer manager's pool of Concurrency+1 and the first part, read
// outside the pool — not a first read of 16 MiB (the transfer manager's
// default multipart threshold, read with io.ReadAll through ~16 MiB of
// discarded slices: 51 MiB allocated for 5 MiB parts before the threshold
// was set to the part size). The agent's 64 MiB depends on it.
func TestS3UploadMemory(t *testing.T) {
	s, _ := s3Target(t)
	s.CreateBucket(t, "mem")
	o := fast(nil)
	o.Credentials = map[string][]byte{blob.KeyAWSAccessKeyID: []byte(s.AccessKey), blob.KeyAWSSecretAccessKey: []byte(s.SecretKey)}
	o.PartSize, o.Concurrency = 5<<20, 2
	b := open(t, s.URL("mem", "x"), o)
	// Warm the client up (credentials, connections) outside the count.
	if err := b.PutIfAbsent(context.Background(), "warm", []byte("x")); err != nil {
		t.Fatal(err)
	}
	const size = 48 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// A reader without Size or Seek: the agent's encrypting pipe.
	obj, err := b.Upload(context.Background(), "big", struct{ io.Reader }{generated(size)})
	runtime.ReadMemStats(&after)
	if err != nil || obj.Size != size {
		t.Fatalf("Upload = %+v, %v", obj, err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	// Pool (3 × 5 MiB) + first part (5 MiB, ~10 MiB allocated growing it)
	// + requests: measured 27-29 MiB.
	limit := uint64(o.PartSize*(o.Concurrency+4)) + 4<<20
	t.Logf("48 MiB streamed in 5 MiB parts: %d MiB allocated (limit %d MiB)", alloc>>20, limit>>20)
	if alloc > limit {
		t.Fatalf("%d MiB allocated to upload 48 MiB in 5 MiB parts, 2 at once; want ≤ %d MiB", alloc>>20, limit>>20)
	}
}
