package restore

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// Source is where a restore reads its backups: the cluster whose
// catalogue holds them and the bucket the restore's Pods download from.
// It is the target itself for an in-place restore, another cluster file
// for a restore into a new cluster, namespace or Kubernetes context (DR),
// and a copy bucket with --from-copy.
type Source struct {
	// Cluster is the cluster the backups are of (metadata.name of the
	// source cluster file): the catalogue entries chosen are its.
	Cluster string `json:"cluster"`
	// Namespace is the source cluster's namespace; display only: a
	// restore sends no request to the source's Kubernetes namespace nor
	// to its Neo4j servers, it reads only its bucket.
	Namespace string `json:"namespace"`
	// File is the source cluster file when it is not the target's;
	// display only.
	File string `json:"file,omitempty"`
	// Storage is the bucket the restore's Pods read (its URL without
	// credentials): the source's spec.backups.storage, or the copy
	// Point.Location names. Display only: Point.Location drives.
	Storage string `json:"storage"`
	// Secrets are the Secrets, in the target's namespace, the restore's
	// Pods mount to read the bucket and decrypt: the source's keyset and
	// the bucket's credentials. They drive the Pods' volumes.
	Secrets []string `json:"secrets"`
}

// FetchBackups is the spec.backups the restore's Pods are given to read
// the source's backups: b itself for its storage, or — reading the copy
// loc — b with loc as its storage and no copies, so that the Pods need
// and mount only the copy's credentials and the keyset, never the
// primary bucket's (which, in a disaster, may be the region lost).
func FetchBackups(b *clusterfile.Backups, loc *clusterfile.BackupLocation) *clusterfile.Backups {
	if loc == nil {
		return b
	}
	out := *b
	out.Storage = *loc
	out.Copies = nil
	return &out
}

// ResolveCopy finds the spec.backups.copies entry --from-copy names: by
// its URL (as written in the cluster file or as the catalogue records
// it, query order aside), or by its region (the region= of exactly one
// copy's URL).
func ResolveCopy(b *clusterfile.Backups, v string) (clusterfile.BackupLocation, error) {
	if len(b.Copies) == 0 {
		return clusterfile.BackupLocation{}, fmt.Errorf("--from-copy %s: the source cluster file lists no spec.backups.copies", v)
	}
	var urls []string
	for _, c := range b.Copies {
		if SameLocation(c.URL, v) {
			return c, nil
		}
		urls = append(urls, LocationURL(c.URL))
	}
	var byRegion []clusterfile.BackupLocation
	for _, c := range b.Copies {
		if u, err := url.Parse(c.URL); err == nil && u.Query().Get("region") == v {
			byRegion = append(byRegion, c)
		}
	}
	switch len(byRegion) {
	case 1:
		return byRegion[0], nil
	case 0:
		return clusterfile.BackupLocation{}, fmt.Errorf("--from-copy %s: no spec.backups.copies entry has that URL or region (copies: %s)", v, strings.Join(urls, ", "))
	}
	return clusterfile.BackupLocation{}, fmt.Errorf("--from-copy %s: %d copies are in that region; name one by its URL (copies: %s)", v, len(byRegion), strings.Join(urls, ", "))
}

// LocationURL is a bucket URL as the catalogue records it (the blob
// package's Bucket.URL): no user info, query parameters sorted. Bucket
// URLs carry no credentials (validate refuses them), so nothing is lost.
func LocationURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.TrimRight(raw, "/")
	}
	u.User = nil
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
	u.RawQuery = u.Query().Encode()
	return u.String()
}

// SameLocation compares two bucket URLs as locations: a trailing slash,
// the order of query parameters and user info aside.
func SameLocation(a, b string) bool { return LocationURL(a) == LocationURL(b) }

// CopyIn returns e's copy in the bucket at location whose digest, checked
// at the destination when it was copied, is the entry's: the only kind of
// copy a restore reads.
func CopyIn(e catalog.Entry, location string) (catalog.Copy, bool) {
	for _, c := range e.Copies {
		if SameLocation(c.URL, location) && c.SHA256 == e.CiphertextSHA256 {
			return c, true
		}
	}
	return catalog.Copy{}, false
}

// EntryFile is the ConfigMap key (a file in ConfDir) holding the
// catalogue entry of the chain's i-th artifact, for a fetch from a copy:
// the copy bucket has no catalogue, so the entry the plan read from the
// source's catalogue travels with the Pod (digests, key id: no secret).
func EntryFile(i int) string { return fmt.Sprintf("entry-%d.json", i) }

// EncodeEntry is an entry as EntryFile holds it.
func EncodeEntry(e catalog.Entry) (string, error) {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// FetchCopyArgs are the neo4jctl arguments that download the artifact of
// the entry in entryFile from the copy bucket clusterFile names as its
// storage (FetchBackups), decrypted and digest-checked, to file: `restore
// fetch`, as in the fetch containers of a restore --from-copy.
func FetchCopyArgs(entryFile, file, clusterFile, secretsDir string) []string {
	return []string{"restore", "fetch", "--entry", entryFile, "-o", file, "-f", clusterFile, "--secrets-dir", secretsDir}
}

// fetchArgs are the arguments of the i-th fetch container.
func fetchArgs(p *Plan, i int, e catalog.Entry, file string) []string {
	if p.Point.Location != "" {
		return FetchCopyArgs(path.Join(ConfDir, EntryFile(i)), file, ConfDir+"/cluster.yaml", manifests.BackupSecretsDir)
	}
	return FetchArgs(e, file, ConfDir+"/cluster.yaml", manifests.BackupSecretsDir)
}
