package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// A copy bucket carries its own catalogue: beside every artifact copied
// there, the artifact's entry object under the same layout as the
// primary's (catalog/v1/<cluster>/<database>/<stem>.json, byte for byte
// the primary's entry), an update recording the copy in that bucket, and
// the verifications known. A restore from the copy selects and checks a
// chain from it alone: in a regional outage the primary bucket is the
// region lost (docs/backup-catalog.md, "Copies").

// mirrorEntry writes e, the copy cp in dst and e's verifications into
// dst's catalogue. Every write is create-if-absent or deduplicated, so a
// rerun of `backup copy` completes an interrupted mirror.
func (s *Session) mirrorEntry(ctx context.Context, e catalog.Entry, dst *blob.Bucket, cp catalog.Copy) error {
	cat := s.CatalogOf(dst)
	base := e
	base.Copies, base.Verifications = nil, nil
	if _, err := cat.Put(ctx, base); err != nil {
		return err
	}
	if err := cat.AddCopy(ctx, e.ID, cp); err != nil {
		return err
	}
	for _, v := range e.Verifications {
		if err := cat.AddVerification(ctx, e.ID, v); err != nil {
			return err
		}
	}
	return nil
}

// mirrorVerification records v in the catalogue of every copy of e, so a
// drill from a copy finds the verified backups. A copy that cannot be
// written is reported, not fatal: the verification stands in the primary,
// and `backup copy` rerun carries it over.
func (s *Session) mirrorVerification(ctx context.Context, e catalog.Entry, v catalog.Verification) {
	for _, cp := range e.Copies {
		b, err := s.copyBucket(ctx, cp.URL)
		if err == nil {
			err = s.CatalogOf(b).AddVerification(ctx, e.ID, v)
		}
		if err != nil {
			s.Log.Printf("warning: the copy in %s does not record this verification: %v (rerun neo4jctl backup copy %s --to %s)", cp.URL, err, e.ID, cp.URL)
		}
	}
}

// copyBucket is the open bucket of the spec.backups.copies entry whose
// URL is url.
func (s *Session) copyBucket(ctx context.Context, url string) (*blob.Bucket, error) {
	for i, loc := range s.Spec.Copies {
		if i < len(s.Copies) && s.Copies[i] != nil {
			if s.Copies[i].URL() == url {
				return s.Copies[i], nil
			}
			continue
		}
		b, err := s.OpenLocation(ctx, loc)
		if err != nil {
			return nil, err
		}
		if b.URL() == url {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s is not in spec.backups.copies any more", url)
}

// ErrNoCopyCatalogue is returned by ListCopy for a copy bucket that holds
// artifacts of the database but no catalogue entry: copied by a neo4jctl
// older than the copy catalogue.
var ErrNoCopyCatalogue = errors.New("the copy has no catalogue")

// ListCopy is List for a session whose storage is a copy bucket (a
// restore or drill from a copy): the copy's own catalogue. Artifacts
// there without a single entry mean an older neo4jctl copied them; the
// error says how to write the entries.
func (s *Session) ListCopy(ctx context.Context, database string) ([]catalog.Entry, error) {
	es, err := s.List(ctx, database)
	if err != nil || len(es) > 0 {
		return es, err
	}
	prefix, of := catalog.ArtifactPrefix+s.Cluster+"/", s.Cluster
	if database != "" {
		prefix, of = prefix+database+"/", s.Cluster+"/"+database
	}
	objs, err := s.Storage.List(ctx, prefix)
	if err != nil {
		return nil, s.Log.Errorf("list %s: %w", s.Storage.URL(), err)
	}
	if len(objs) > 0 {
		return nil, fmt.Errorf("%s holds %d artifacts of %s but no catalogue entry for them: %w (they were copied by an older neo4jctl). "+
			"While the primary storage is reachable, rerun neo4jctl backup copy ID --to %s for each backup to write the entries there",
			s.Storage.URL(), len(objs), of, ErrNoCopyCatalogue, s.Storage.URL())
	}
	return es, nil
}
