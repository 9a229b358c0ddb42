package crypt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// ErrNoAssociatedData: without associated data a ciphertext is not bound
// to its artifact, and an object swapped for another would decrypt.
var ErrNoAssociatedData = errors.New("crypt: associated data is required: bind the ciphertext to its artifact with AssociatedData(cluster, database, object)")

// Digests are the sizes and SHA-256 (lower-case hex) of one artifact's
// plaintext and ciphertext, computed while streaming.
type Digests struct {
	PlaintextSHA256  string `json:"plaintextSHA256"`
	PlaintextSize    int64  `json:"plaintextSize"`
	CiphertextSHA256 string `json:"ciphertextSHA256"`
	CiphertextSize   int64  `json:"ciphertextSize"`
}

// hashCount hashes and counts the bytes that pass through it.
type hashCount struct {
	h hash.Hash
	n int64
}

func newHashCount() *hashCount { return &hashCount{h: sha256.New()} }

func (c *hashCount) Write(p []byte) (int, error) {
	if c.h != nil {
		c.h.Write(p)
	}
	c.n += int64(len(p))
	return len(p), nil
}

// sum is the hex digest, "" when only counting.
func (c *hashCount) sum() string {
	if c.h == nil {
		return ""
	}
	return hex.EncodeToString(c.h.Sum(nil))
}

// MaxCiphertextSize bounds the ciphertext of a plaintext of n bytes under
// the AES-GCM-HKDF streaming keys of Tink's templates (a header of at most
// 1+32+7 bytes, a 16-byte tag per segment of 4 KiB or more): a size hint,
// e.g. for choosing upload part sizes; the exact size is known after Close.
func MaxCiphertextSize(n int64) int64 { return n + n/64 + 16 + 1024 }

func digests(pt, ct *hashCount) Digests {
	return Digests{PlaintextSHA256: pt.sum(), PlaintextSize: pt.n, CiphertextSHA256: ct.sum(), CiphertextSize: ct.n}
}

// Writer encrypts what is written to it into the destination given to
// Encrypt. Close writes the last segment: an unclosed Writer leaves a
// ciphertext that never decrypts.
type Writer struct {
	enc    io.WriteCloser
	pt, ct *hashCount
	keyID  string
	closed bool
}

// Encrypt returns a Writer that encrypts into dst with the primary key,
// bound to associatedData (see AssociatedData), and the id of the key it
// uses, to be recorded with the artifact. Memory stays at about two
// segments (2 MiB) whatever the artifact's size.
func (k *Keys) Encrypt(dst io.Writer, associatedData []byte) (*Writer, string, error) {
	return k.EncryptWith(dst, associatedData, EncryptOptions{})
}

// EncryptOptions tune EncryptWith.
type EncryptOptions struct {
	// NoCiphertextSHA256 leaves Digests().CiphertextSHA256 empty (the size
	// is still counted): for a destination that hashes what it receives
	// itself, such as blob.Bucket's uploads, a second SHA-256 pass over
	// the ciphertext is CPU the upload waits for.
	NoCiphertextSHA256 bool
}

// EncryptWith is Encrypt with options.
func (k *Keys) EncryptWith(dst io.Writer, associatedData []byte, opts EncryptOptions) (*Writer, string, error) {
	if len(associatedData) == 0 {
		return nil, "", ErrNoAssociatedData
	}
	a, keyID := k.current()
	ct := newHashCount()
	if opts.NoCiphertextSHA256 {
		ct.h = nil
	}
	enc, err := a.NewEncryptingWriter(io.MultiWriter(dst, ct), associatedData)
	if err != nil {
		return nil, "", fmt.Errorf("crypt: encrypt: %w", err)
	}
	return &Writer{enc: enc, pt: newHashCount(), ct: ct, keyID: keyID}, keyID, nil
}

// Write encrypts p.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("crypt: write after Close")
	}
	n, err := w.enc.Write(p)
	w.pt.Write(p[:n])
	return n, err
}

// Close flushes the last segment (authenticated as the last, so a
// truncated ciphertext fails). It does not close the destination.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.enc.Close()
}

// KeyID is the id of the key this Writer encrypts with.
func (w *Writer) KeyID() string { return w.keyID }

// Digests returns the plaintext and ciphertext digests; complete only
// after Close.
func (w *Writer) Digests() Digests { return digests(w.pt, w.ct) }

// EncryptStream encrypts all of src into dst (see Encrypt) and returns the
// key id and digests.
func (k *Keys) EncryptStream(dst io.Writer, src io.Reader, associatedData []byte) (string, Digests, error) {
	w, keyID, err := k.Encrypt(dst, associatedData)
	if err != nil {
		return "", Digests{}, err
	}
	if _, err := io.Copy(w, src); err != nil {
		return "", Digests{}, fmt.Errorf("crypt: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", Digests{}, fmt.Errorf("crypt: encrypt: %w", err)
	}
	return keyID, w.Digests(), nil
}

// DecryptOptions tunes DecryptFile and DecryptTo.
type DecryptOptions struct {
	// StagingDir holds the plaintext until the whole stream has
	// authenticated. DecryptFile defaults to the destination's directory
	// (so the release is a rename on one file system); DecryptTo to
	// os.TempDir(). It needs room for the whole plaintext.
	StagingDir string
	// KeyID, if set, is the key id recorded for the artifact: a keyset
	// without it fails early with ErrKeyNotFound instead of ErrAuthentication.
	KeyID string
}

// sourceReader remembers an error of the ciphertext source, so an I/O
// failure (retryable) is not reported as an authentication failure.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// decryptInto decrypts src into staging (an open file) and returns the
// digests; it fails unless the whole stream authenticated.
func (k *Keys) decryptInto(staging io.Writer, src io.Reader, associatedData []byte, opts DecryptOptions) (Digests, error) {
	if len(associatedData) == 0 {
		return Digests{}, ErrNoAssociatedData
	}
	if opts.KeyID != "" && !k.hasKey(opts.KeyID) {
		return Digests{}, fmt.Errorf("crypt: decrypt: %w: the artifact was encrypted with key %s, which is no longer in the keyset (keys: %v)", ErrKeyNotFound, opts.KeyID, k.KeyIDs())
	}
	a, _ := k.current()
	ct := newHashCount()
	srcR := &sourceReader{r: io.TeeReader(src, ct)}
	dec, err := a.NewDecryptingReader(srcR, associatedData)
	if err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: %w", ErrAuthentication)
	}
	pt := newHashCount()
	if _, err := io.Copy(io.MultiWriter(staging, pt), dec); err != nil {
		if srcR.err != nil {
			return Digests{}, fmt.Errorf("crypt: decrypt: read ciphertext: %w", srcR.err)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
		}
		// Tink's messages name no key material, but say nothing the caller
		// can act on either; ours does.
		return Digests{}, fmt.Errorf("crypt: decrypt: %w", ErrAuthentication)
	}
	return digests(pt, ct), nil
}

// DecryptFile decrypts src into a new file dstPath. The plaintext goes to
// a staging file first (0600, in opts.StagingDir or dstPath's directory)
// and is renamed to dstPath only after the whole stream authenticated; on
// any failure the staging file is removed and dstPath is never created.
// An existing dstPath is an error (nothing is overwritten).
func (k *Keys) DecryptFile(dstPath string, src io.Reader, associatedData []byte, opts DecryptOptions) (Digests, error) {
	if _, err := os.Lstat(dstPath); err == nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: %s already exists; not overwriting it", dstPath)
	}
	dir := opts.StagingDir
	if dir == "" {
		dir = filepath.Dir(dstPath)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(dstPath)+".partial-*")
	if err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
	}
	staging := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(staging)
		}
	}()
	d, err := k.decryptInto(f, src, associatedData, opts)
	if err != nil {
		return Digests{}, err
	}
	if err := f.Sync(); err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
	}
	if err := f.Close(); err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
	}
	// A hard link, not a rename, so a dstPath created meanwhile is not
	// replaced; across file systems (a StagingDir elsewhere) copy instead.
	if err := os.Link(staging, dstPath); err != nil {
		if errors.Is(err, os.ErrExist) {
			return Digests{}, fmt.Errorf("crypt: decrypt: %s already exists; not overwriting it", dstPath)
		}
		if err := copyFile(staging, dstPath); err != nil {
			return Digests{}, fmt.Errorf("crypt: decrypt: release to %s: %w", dstPath, err)
		}
	}
	ok = true
	os.Remove(staging)
	return d, nil
}

// copyFile copies src to a new file dst, removing dst if the copy fails.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}

// DecryptTo decrypts src and writes the plaintext to dst, but only after
// the whole stream authenticated: it is staged in a temporary file in
// opts.StagingDir (default os.TempDir()) and copied to dst afterwards. On
// an authentication or source failure nothing at all is written to dst.
// The staging file is removed in every case.
func (k *Keys) DecryptTo(dst io.Writer, src io.Reader, associatedData []byte, opts DecryptOptions) (Digests, error) {
	f, err := os.CreateTemp(opts.StagingDir, ".neo4jctl-decrypt-*")
	if err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	d, err := k.decryptInto(f, src, associatedData, opts)
	if err != nil {
		return Digests{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: staging: %w", err)
	}
	// The staged bytes were hashed on the way in; hash them again on the
	// way out so a staging file changed on disk meanwhile is caught.
	out := newHashCount()
	if _, err := io.Copy(io.MultiWriter(dst, out), f); err != nil {
		return Digests{}, fmt.Errorf("crypt: decrypt: write plaintext: %w", err)
	}
	if out.sum() != d.PlaintextSHA256 {
		return Digests{}, errors.New("crypt: decrypt: the staged plaintext changed on disk before it was released")
	}
	return d, nil
}
