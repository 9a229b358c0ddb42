package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	gblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Object describes a stored object. SHA256 is the hex digest of its bytes,
// computed while streaming by Upload and CopyTo; List and Stat leave it
// empty (the digest is known only after the last byte, when an S3 object's
// metadata can no longer be set — the catalogue records it instead).
type Object struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	SHA256  string    `json:"sha256,omitempty"`
	ModTime time.Time `json:"modTime,omitzero"`
}

const contentType = "application/octet-stream"

// hashingReader counts and hashes what the driver reads from the source.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if err != nil && err != io.EOF {
		// Say which side failed: the source, not the storage service.
		err = fmt.Errorf("reading the source after %d bytes: %w", h.n, err)
	}
	return n, err
}

func (h *hashingReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// sizedSource is what a known-size source (os.File, bytes.Reader,
// io.SectionReader) offers to pick a part size.
type sizedSource interface{ Size() int64 }

// partSize keeps a known-size upload within S3's 10 000 parts.
func (b *Bucket) partSize(r io.Reader) int {
	ps := int64(b.opts.PartSize)
	var size int64 = -1
	if s, ok := r.(sizedSource); ok {
		size = s.Size()
	} else if f, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
	}
	if size > 0 {
		if need := size/9000 + 1; need > ps {
			ps = need
		}
	}
	return int(ps)
}

// upload streams r to key once; the digest and size are those of the bytes
// the driver consumed. A failure aborts: the write's context is cancelled
// before the writer is closed, which every driver treats as "do not commit"
// (S3 aborts the multipart upload — see s3Uploader —, GCS and Azure never
// finalise, fileblob removes its temp file). blob.Bucket.Upload is not used:
// for drivers without a native uploader it closes — commits — the writer
// even when the source failed, leaving a truncated object (a test of
// fileblob shows it).
func (b *Bucket) upload(ctx context.Context, key string, r io.Reader, ifNotExist bool) (Object, error) {
	hr := newHashingReader(r)
	opts := &gblob.WriterOptions{
		ContentType:    contentType,
		BufferSize:     b.partSize(r),
		MaxConcurrency: b.opts.Concurrency,
		IfNotExist:     ifNotExist,
	}
	if b.s3 != nil {
		opts.BeforeWrite = b.s3Uploader(opts.BufferSize)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.b.NewWriter(wctx, key, opts)
	if err != nil {
		return Object{}, b.mapErr(err)
	}
	// Plain Write calls (no ReaderFrom): blob.Writer.ReadFrom would hand the
	// source to the driver's uploader, the path that commits on error.
	if _, err := io.Copy(struct{ io.Writer }{w}, hr); err != nil {
		cancel()
		_ = w.Close()
		return Object{}, b.mapErr(err)
	}
	if err := w.Close(); err != nil {
		return Object{}, b.mapErr(err)
	}
	return Object{Key: key, Size: hr.n, SHA256: hr.sum()}, nil
}

// abortTimeout bounds the AbortMultipartUpload sent after a failed or
// cancelled S3 upload.
const abortTimeout = 30 * time.Second

// s3Uploader replaces the transfer manager s3blob made for this write with
// one whose FailTimeout is set: without it the manager sends
// AbortMultipartUpload on the write's own context, which is already
// cancelled when an upload is interrupted — the abort never reaches the
// server and the parts stay there (TestS3Faults/interrupted showed it).
func (b *Bucket) s3Uploader(partSize int) func(func(any) bool) error {
	return func(as func(any) bool) error {
		var tm *transfermanager.Client
		if !as(&tm) {
			return errors.New("s3 driver: no transfer manager to configure")
		}
		*tm = *transfermanager.New(b.s3, func(o *transfermanager.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.PartSizeBytes = int64(partSize)
			// The first part is read with io.ReadAll up to this threshold
			// (default 16 MiB), outside the part pool: at the default it
			// held 16 MiB more than a part, and grew there through ~16 MiB
			// of discarded slices (TestS3UploadMemory). At the part size,
			// a source that fills one part is still a multipart upload.
			o.MultipartUploadThreshold = int64(partSize)
			o.Concurrency = b.opts.Concurrency
			o.FailTimeout = abortTimeout
		})
		return nil
	}
}

// mapErr turns driver codes into the package's sentinel errors.
func (b *Bucket) mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch gcerrors.Code(err) {
	case gcerrors.FailedPrecondition, gcerrors.AlreadyExists:
		return fmt.Errorf("%w: %w", ErrExists, err)
	case gcerrors.NotFound:
		if isMissingBucket(err) {
			return &permanentError{fmt.Errorf("bucket does not exist: %w", err)}
		}
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Upload streams r to key (multipart for big objects: memory stays about
// PartSize × Concurrency whatever the size) and returns its size and SHA-256.
// If r is an io.Seeker it is rewound and the upload retried from the start
// on a transient error; otherwise it is tried once (see UploadFrom).
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader) (Object, error) {
	seeker, canRewind := r.(io.Seeker)
	var start int64
	if canRewind {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			canRewind = false
		}
	}
	var obj Object
	first := true
	err := b.do(ctx, "upload", key, canRewind, func(ctx context.Context) error {
		if !first {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return &permanentError{fmt.Errorf("rewind source: %w", err)}
			}
		}
		first = false
		var err error
		obj, err = b.upload(ctx, key, r, false)
		return err
	})
	return obj, err
}

// UploadFrom uploads what open returns, calling open again for each retry:
// a source that cannot seek (an encrypting pipeline) is retried by being
// produced anew.
func (b *Bucket) UploadFrom(ctx context.Context, key string, open func() (io.ReadCloser, error)) (Object, error) {
	var obj Object
	err := b.do(ctx, "upload", key, true, func(ctx context.Context) error {
		rc, err := open()
		if err != nil {
			return &permanentError{fmt.Errorf("open source: %w", err)}
		}
		defer rc.Close()
		obj, err = b.upload(ctx, key, rc, false)
		return err
	})
	return obj, err
}

// PutIfAbsent writes data under key only if no object is there (the
// provider's conditional write: S3 If-None-Match: *, GCS
// ifGenerationMatch=0, Azure If-None-Match: *); ErrExists otherwise. Two
// writers racing on one key: exactly one succeeds.
//
// A retried attempt whose first try did in fact land (the response was
// lost) sees ErrExists: it then reads the object back and succeeds if the
// bytes are its own.
func (b *Bucket) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	tries := 0
	return b.do(ctx, "put-if-absent", key, true, func(ctx context.Context) error {
		tries++
		_, err := b.upload(ctx, key, bytes.NewReader(data), true)
		if errors.Is(err, ErrExists) && tries > 1 {
			if got, rerr := b.read(ctx, key); rerr == nil && bytes.Equal(got, data) {
				return nil
			}
		}
		return err
	})
}

// Open returns a reader of the object; the caller closes it. Opening is
// retried; reading the stream is not (the caller owns the stream).
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	var r *gblob.Reader
	err := b.do(ctx, "open", key, true, func(ctx context.Context) error {
		var err error
		r, err = b.b.NewReader(ctx, key, nil)
		return b.mapErr(err)
	})
	if err != nil {
		return nil, err
	}
	return &redactingReader{r: r, red: b.red}, nil
}

type redactingReader struct {
	r   io.ReadCloser
	red redactor
}

func (r *redactingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.red.err(err)
	}
	return n, err
}

func (r *redactingReader) Close() error { return r.red.err(r.r.Close()) }

func (b *Bucket) read(ctx context.Context, key string) ([]byte, error) {
	data, err := b.b.ReadAll(ctx, key)
	return data, b.mapErr(err)
}

// Read returns the whole object (for small objects: catalogue entries).
func (b *Bucket) Read(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := b.do(ctx, "read", key, true, func(ctx context.Context) error {
		var err error
		data, err = b.read(ctx, key)
		return err
	})
	return data, err
}

// List returns every object whose key starts with prefix, sorted by key.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := b.do(ctx, "list", prefix, true, func(ctx context.Context) error {
		out = out[:0]
		it := b.b.List(&gblob.ListOptions{Prefix: prefix})
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return b.mapErr(err)
			}
			if o.IsDir {
				continue
			}
			out = append(out, Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime})
		}
	})
	return out, err
}

// Stat returns the object's size and modification time.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	var obj Object
	err := b.do(ctx, "stat", key, true, func(ctx context.Context) error {
		a, err := b.b.Attributes(ctx, key)
		if err != nil {
			return b.mapErr(err)
		}
		obj = Object{Key: key, Size: a.Size, ModTime: a.ModTime}
		return nil
	})
	return obj, err
}

// Exists reports whether key is present.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	var ok bool
	err := b.do(ctx, "exists", key, true, func(ctx context.Context) error {
		var err error
		ok, err = b.b.Exists(ctx, key)
		return b.mapErr(err)
	})
	return ok, err
}

// Delete removes key. Deleting a missing key is ErrNotFound.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	return b.do(ctx, "delete", key, true, func(ctx context.Context) error {
		return b.mapErr(b.b.Delete(ctx, key))
	})
}

// CopyTo streams key from b to the same key in dst (another bucket, region
// or provider), then reads the destination back and checks that its bytes
// hash to the source's digest. On a mismatch (ErrDigest) or when the copy
// cannot be read back, the destination object is deleted: a copy is either
// verified or absent.
func (b *Bucket) CopyTo(ctx context.Context, key string, dst *Bucket) (Object, error) {
	src, err := dst.UploadFrom(ctx, key, func() (io.ReadCloser, error) { return b.Open(ctx, key) })
	if err != nil {
		return Object{}, fmt.Errorf("copy %s from %s to %s: %w", key, b.url, dst.url, err)
	}
	var got Object
	err = dst.do(ctx, "verify", key, true, func(ctx context.Context) error {
		r, err := dst.b.NewReader(ctx, key, nil)
		if err != nil {
			return dst.mapErr(err)
		}
		defer r.Close()
		hr := newHashingReader(r)
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return err
		}
		got = Object{Key: key, Size: hr.n, SHA256: hr.sum()}
		return nil
	})
	switch {
	case err != nil:
		err = fmt.Errorf("copy %s from %s to %s: the copy could not be verified: %w", key, b.url, dst.url, err)
	case got.SHA256 != src.SHA256 || got.Size != src.Size:
		err = fmt.Errorf("copy %s from %s to %s: %w: source sha256 %s (%d bytes), destination sha256 %s (%d bytes)",
			key, b.url, dst.url, ErrDigest, src.SHA256, src.Size, got.SHA256, got.Size)
	}
	if err != nil {
		// Unverified is as bad as wrong: remove it (the source is intact,
		// the copy can be made again).
		if derr := dst.Delete(ctx, key); derr != nil && !errors.Is(derr, ErrNotFound) {
			return Object{}, fmt.Errorf("%w; deleting the unverified copy failed too: %v", err, derr)
		}
		return Object{}, fmt.Errorf("%w; the unverified copy was deleted", err)
	}
	return got, nil
}

// Keys lists only the keys under prefix (a convenience for callers that
// do not need sizes).
func Keys(objs []Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Key
	}
	return out
}
