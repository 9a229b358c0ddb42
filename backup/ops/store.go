package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
)

// AssociatedData binds an artifact's ciphertext to its entry: decrypting
// it under another cluster, database or object name fails authentication,
// so a swapped object cannot be restored as the wrong backup.
func AssociatedData(e catalog.Entry) []byte {
	return crypt.AssociatedData(e.Cluster, e.Database, e.Object)
}

// Artifact is one file neo4j-admin wrote and its entry so far (names,
// type as produced, transaction range, time: catalog.FromArtifact or
// catalog.FromDump).
type Artifact struct {
	Path  string
	Entry catalog.Entry
}

// StoreResult is what Store did.
type StoreResult struct {
	Entry catalog.Entry
	// CopyErrors are the copies that failed; the entry and the primary
	// artifact stand.
	CopyErrors []error
}

// encryptAttempt is one encrypting pipeline: the file read through the
// encrypting writer into a pipe the upload reads.
type encryptAttempt struct {
	w     *crypt.Writer
	keyID string
	err   error
	done  chan struct{}
}

// Store uploads one artifact and catalogues it: link it into its chain
// (a differential nothing continues is refused before any byte moves),
// encrypt while uploading (streaming: memory is the upload's parts, not
// the artifact), check the stored size and SHA-256 against what was
// encrypted, write the entry — last, so an interrupted upload never leaves
// an entry — then copy it to every copy bucket, digest-checked and
// recorded. existing are the catalogue's entries of the same database.
func (s *Session) Store(ctx context.Context, a Artifact, existing []catalog.Entry) (StoreResult, error) {
	if s.Keys == nil {
		return StoreResult{}, errors.New("ops: Store needs the keyset (Options.NeedKeys)")
	}
	e := a.Entry
	if e.Neo4jVersion == "" {
		e.Neo4jVersion = s.Version
	}
	if err := catalog.Link(existing, &e); err != nil {
		return StoreResult{}, fmt.Errorf("%s: %w (not uploaded)", filepath.Base(a.Path), err)
	}
	fi, err := os.Stat(a.Path)
	if err != nil {
		return StoreResult{}, err
	}
	ad := AssociatedData(e)
	s.Log.Printf("upload %s (%s, %s, %s) to %s as %s", e.File, e.Database, e.Type, humanBytes(fi.Size()), s.Storage.URL(), e.Object)

	var last *encryptAttempt
	obj, err := s.Storage.UploadFrom(ctx, e.Object, func() (io.ReadCloser, error) {
		f, err := os.Open(a.Path)
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		at := &encryptAttempt{done: make(chan struct{})}
		last = at
		go func() {
			defer close(at.done)
			defer f.Close()
			// The upload hashes the ciphertext it sends (blob.Object's
			// SHA256): a second pass here only cost CPU the upload
			// waited for (docs/benchmarks.md, backup agent).
			w, keyID, err := s.Keys.EncryptWith(pw, ad, crypt.EncryptOptions{NoCiphertextSHA256: true})
			if err == nil {
				at.w, at.keyID = w, keyID
				if _, err = io.Copy(w, f); err == nil {
					err = w.Close()
				}
			}
			at.err = err
			pw.CloseWithError(err) // nil: EOF for the reader
		}()
		return &pipeSource{r: pr, done: at.done, size: crypt.MaxCiphertextSize(fi.Size())}, nil
	})
	if err != nil {
		return StoreResult{}, s.Log.Errorf("upload %s: %w (no catalogue entry was written)", e.File, err)
	}
	<-last.done
	if last.err != nil {
		return StoreResult{}, s.Log.Errorf("encrypt %s: %w (no catalogue entry was written)", e.File, last.err)
	}
	d := last.w.Digests()
	// The ciphertext's digest is the upload's: computed over the bytes
	// sent, which verifyUpload checks the counted size and the stored
	// object against.
	d.CiphertextSHA256 = obj.SHA256
	if err := s.verifyUpload(ctx, e, fi.Size(), d, obj); err != nil {
		// The object is not what was encrypted: remove it rather than
		// leave a bad artifact that a later entry could point at.
		if derr := s.Storage.Delete(ctx, e.Object); derr != nil && !errors.Is(derr, blob.ErrNotFound) {
			err = fmt.Errorf("%w; deleting it failed too: %v", err, derr)
		}
		return StoreResult{}, s.Log.Errorf("%w (no catalogue entry was written)", err)
	}
	e.PlaintextSize, e.PlaintextSHA256 = d.PlaintextSize, d.PlaintextSHA256
	e.CiphertextSize, e.CiphertextSHA256 = d.CiphertextSize, d.CiphertextSHA256
	e.KeyID = last.keyID
	s.Log.Printf("verified %s: %d bytes stored, sha256 %s, key %s", e.Object, e.CiphertextSize, e.CiphertextSHA256, e.KeyID)

	stored, err := s.Catalog.Put(ctx, e)
	if err != nil {
		return StoreResult{}, s.Log.Errorf("catalogue %s: %w (the artifact %s is stored but has no entry; rerun the agent)", e.ID, err, e.Object)
	}
	s.Log.Printf("catalogued %s (%s, chain %s)", stored.ID, stored.Type, stored.ChainID)
	res := StoreResult{Entry: stored}
	for _, dst := range s.Copies {
		cp, err := s.copyTo(ctx, stored, dst)
		if err != nil {
			res.CopyErrors = append(res.CopyErrors, err)
			continue
		}
		res.Entry.Copies = append(res.Entry.Copies, cp)
	}
	return res, nil
}

// verifyUpload checks that what the bucket holds is what was encrypted,
// and that the whole file was read.
func (s *Session) verifyUpload(ctx context.Context, e catalog.Entry, fileSize int64, d crypt.Digests, obj blob.Object) error {
	if d.PlaintextSize != fileSize {
		return fmt.Errorf("verify %s: read %d bytes of %s, the file has %d", e.Object, d.PlaintextSize, e.File, fileSize)
	}
	if obj.Size != d.CiphertextSize || obj.SHA256 != d.CiphertextSHA256 {
		return fmt.Errorf("verify %s: uploaded %d bytes with sha256 %s, encrypted %d bytes with sha256 %s", e.Object, obj.Size, obj.SHA256, d.CiphertextSize, d.CiphertextSHA256)
	}
	st, err := s.Storage.Stat(ctx, e.Object)
	if err != nil {
		return fmt.Errorf("verify %s: %w", e.Object, err)
	}
	if st.Size != d.CiphertextSize || (st.SHA256 != "" && st.SHA256 != d.CiphertextSHA256) {
		return fmt.Errorf("verify %s: the bucket holds %d bytes with sha256 %q, encrypted %d bytes with sha256 %s", e.Object, st.Size, st.SHA256, d.CiphertextSize, d.CiphertextSHA256)
	}
	return nil
}

// copyTo copies an entry's artifact to dst, checks the digest read back
// there against the entry's, and records the copy.
func (s *Session) copyTo(ctx context.Context, e catalog.Entry, dst *blob.Bucket) (catalog.Copy, error) {
	s.Log.Printf("copy %s to %s", e.ID, dst.URL())
	obj, err := s.Storage.CopyTo(ctx, e.Object, dst)
	if err != nil {
		return catalog.Copy{}, s.Log.Errorf("copy %s to %s: %w", e.ID, dst.URL(), err)
	}
	if obj.SHA256 != e.CiphertextSHA256 || obj.Size != e.CiphertextSize {
		_ = dst.Delete(ctx, e.Object)
		return catalog.Copy{}, s.Log.Errorf("copy %s to %s: the copy has sha256 %s (%d bytes), the entry %s (%d bytes); the copy was deleted",
			e.ID, dst.URL(), obj.SHA256, obj.Size, e.CiphertextSHA256, e.CiphertextSize)
	}
	cp := catalog.Copy{URL: dst.URL(), Object: e.Object, SHA256: obj.SHA256, Verified: s.now().UTC()}
	// The copy's own catalogue first: a copy the primary records is one a
	// restore can select without the primary (restore --from-copy).
	if err := s.mirrorEntry(ctx, e, dst, cp); err != nil {
		return catalog.Copy{}, s.Log.Errorf("catalogue the copy of %s in %s: %w (the primary records no copy there)", e.ID, dst.URL(), err)
	}
	if err := s.Catalog.AddCopy(ctx, e.ID, cp); err != nil {
		return catalog.Copy{}, s.Log.Errorf("record the copy of %s in %s: %w", e.ID, dst.URL(), err)
	}
	s.Log.Printf("copied %s to %s, sha256 %s checked at the destination", e.ID, dst.URL(), obj.SHA256)
	return cp, nil
}

// pipeSource is the upload's end of an encrypting pipeline. Closing it
// stops the pipeline (an aborted attempt) and waits for it to finish.
type pipeSource struct {
	r    *io.PipeReader
	done chan struct{}
	size int64
}

// Size bounds the ciphertext's size, so the upload picks parts large
// enough for S3's 10 000 (blob.Options.PartSize).
func (p *pipeSource) Size() int64 { return p.size }

func (p *pipeSource) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *pipeSource) Close() error {
	p.r.CloseWithError(errors.New("upload attempt ended"))
	<-p.done
	return nil
}

// humanBytes prints a size in IEC units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
