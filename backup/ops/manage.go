package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// List returns the cluster's entries (one database's when database is
// set), chronologically: a LIST of the catalogue prefix, no index.
func (s *Session) List(ctx context.Context, database string) ([]catalog.Entry, error) {
	es, err := s.Catalog.List(ctx, catalog.Filter{Cluster: s.Cluster, Database: database})
	if err != nil {
		return nil, s.Log.Errorf("list %s: %w", s.Storage.URL(), err)
	}
	return es, nil
}

// Get reads one entry; an id of another cluster is refused, so a command
// run with one cluster file never acts on another cluster's backups.
func (s *Session) Get(ctx context.Context, id string) (catalog.Entry, error) {
	n, err := catalog.ParseID(id)
	if err != nil {
		return catalog.Entry{}, err
	}
	if n.Cluster != s.Cluster {
		return catalog.Entry{}, fmt.Errorf("%s is a backup of cluster %s, the cluster file is %s's", id, n.Cluster, s.Cluster)
	}
	e, err := s.Catalog.Get(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.Entry{}, fmt.Errorf("no backup %s in %s (neo4jctl backup list shows the ids)", id, s.Storage.URL())
	}
	if err != nil {
		return catalog.Entry{}, s.Log.Errorf("read %s: %w", id, err)
	}
	return e, nil
}

// Download writes the artifact of entry id, decrypted, to path. The
// plaintext is released to path only after the whole object authenticated
// and both its digests matched the entry; on any failure path is never
// created. An existing path is refused.
func (s *Session) Download(ctx context.Context, id, path string) (catalog.Entry, error) {
	if s.Keys == nil {
		return catalog.Entry{}, errors.New("ops: Download needs the keyset (Options.NeedKeys)")
	}
	if _, err := os.Lstat(path); err == nil {
		return catalog.Entry{}, fmt.Errorf("%s already exists; not overwriting it", path)
	}
	e, err := s.Get(ctx, id)
	if err != nil {
		return catalog.Entry{}, err
	}
	if err := s.DownloadEntry(ctx, e, e.Object, path); err != nil {
		return catalog.Entry{}, err
	}
	return e, nil
}

// DownloadEntry is Download of an entry already read from the catalogue,
// its artifact read from object key of s.Storage — a copy's object when
// the session's storage is a copy bucket, which has no catalogue of its
// own (a restore from a copy: backup/restore). The checks are Download's:
// the associated data, both digests and sizes are the entry's.
func (s *Session) DownloadEntry(ctx context.Context, e catalog.Entry, key, path string) error {
	if s.Keys == nil {
		return errors.New("ops: Download needs the keyset (Options.NeedKeys)")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; not overwriting it", path)
	}
	r, err := s.Storage.Open(ctx, key)
	if err != nil {
		return s.Log.Errorf("open %s: %w", key, err)
	}
	defer r.Close()
	// Decrypt into a hidden name beside path, check the digests, then
	// link it into place: the file at path is only ever the verified one.
	staging := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.verifying-%d", filepath.Base(path), os.Getpid()))
	s.Log.Printf("download %s (%s, key %s) to %s", e.ID, humanBytes(e.CiphertextSize), e.KeyID, path)
	d, err := s.Keys.DecryptFile(staging, r, AssociatedData(e), crypt.DecryptOptions{KeyID: e.KeyID})
	if err != nil {
		return s.Log.Errorf("decrypt %s: %w (nothing was written to %s)", e.ID, err, path)
	}
	defer os.Remove(staging)
	if d.CiphertextSHA256 != e.CiphertextSHA256 || d.CiphertextSize != e.CiphertextSize {
		return fmt.Errorf("%s: the stored object has sha256 %s (%d bytes), the catalogue says %s (%d bytes); nothing was written to %s",
			e.ID, d.CiphertextSHA256, d.CiphertextSize, e.CiphertextSHA256, e.CiphertextSize, path)
	}
	if d.PlaintextSHA256 != e.PlaintextSHA256 || d.PlaintextSize != e.PlaintextSize {
		return fmt.Errorf("%s: the decrypted artifact has sha256 %s (%d bytes), the catalogue says %s (%d bytes); nothing was written to %s",
			e.ID, d.PlaintextSHA256, d.PlaintextSize, e.PlaintextSHA256, e.PlaintextSize, path)
	}
	if err := os.Link(staging, path); err != nil {
		return fmt.Errorf("release %s: %w", path, err)
	}
	s.Log.Printf("downloaded %s: %d bytes, sha256 %s verified", e.ID, d.PlaintextSize, d.PlaintextSHA256)
	return nil
}

// Copy copies entry id's artifact to the bucket at url, checks its digest
// there and records the copy. A URL listed in spec.backups.copies uses
// that location's credentials; any other URL the provider's default chain
// (workload identity) or none (file://).
func (s *Session) Copy(ctx context.Context, id, url string) (catalog.Copy, error) {
	if err := catalog.CheckURL(url); err != nil {
		return catalog.Copy{}, fmt.Errorf("--to: the URL %v (store credentials in a Secret and list the location in spec.backups.copies)", err)
	}
	e, err := s.Get(ctx, id)
	if err != nil {
		return catalog.Copy{}, err
	}
	loc := clusterfile.BackupLocation{URL: url}
	for _, c := range s.Spec.Copies {
		if c.URL == url {
			loc = c
		}
	}
	dst, err := s.OpenLocation(ctx, loc)
	if err != nil {
		return catalog.Copy{}, err
	}
	return s.copyTo(ctx, e, dst)
}
