package catalog

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/internal/lazyre"
)

// SchemaVersion is the version of the entry and update documents. A reader
// refuses a newer version rather than misreading it.
const SchemaVersion = 1

// Type is the type of an artifact as neo4j-admin produced it (read with
// backup/inspect), never the type that was asked for.
type Type = inspect.Type

const (
	Full = inspect.Full
	Diff = inspect.Diff
)

// Entry is the catalogue's record of one artifact. The stored entry object
// holds everything but Copies and Verifications, which come from update
// objects merged on read.
type Entry struct {
	SchemaVersion int    `json:"schemaVersion"`
	ID            string `json:"id"`
	Cluster       string `json:"cluster"`
	Database      string `json:"database"`
	// DatabaseID is inspect's DATABASE ID: it tells a recreated database of
	// the same name apart, so chains never mix the two.
	DatabaseID string `json:"databaseId,omitempty"`
	// Type is as produced (inspect's FULL column). A dump is always FULL.
	Type Type `json:"type"`
	// RequestedType is the --type that was asked for (FULL, DIFF, AUTO), kept
	// only to show when neo4j-admin fell back on a full; nothing decides on it.
	RequestedType string         `json:"requestedType,omitempty"`
	Format        inspect.Format `json:"format"`
	// File is the name neo4j-admin gave the artifact; restore writes it back
	// under this name.
	File string `json:"file"`
	// Object is the key of the encrypted artifact in the bucket.
	Object string `json:"object"`
	// ChainID is the ID of the full entry the chain starts with (its own ID
	// for a full); Parent the ID of the entry a differential continues (empty
	// for a full).
	ChainID string `json:"chainId"`
	Parent  string `json:"parent,omitempty"`
	// LowestTx..HighestTx is the transaction range (inspect's LOWEST TX and
	// HIGHEST TX): 1..n for a full, 0..0 for an empty differential, 0..0 for
	// a dump (a dump's range is not reported).
	LowestTx   int64 `json:"lowestTx"`
	HighestTx  int64 `json:"highestTx"`
	Compressed bool  `json:"compressed"`
	// Recovered is inspect's RECOVERED column (2025.06+); absent for 5.26.
	Recovered    *bool  `json:"recovered,omitempty"`
	Neo4jVersion string `json:"neo4jVersion,omitempty"`
	// Created is when neo4j-admin took the backup (inspect's TIME (UTC));
	// Catalogued when this entry was written.
	Created    time.Time `json:"created"`
	Catalogued time.Time `json:"catalogued"`
	// Sizes and SHA-256 (lowercase hex) of the artifact as neo4j-admin wrote
	// it (plaintext) and as stored (ciphertext).
	PlaintextSize    int64  `json:"plaintextSize"`
	CiphertextSize   int64  `json:"ciphertextSize"`
	PlaintextSHA256  string `json:"plaintextSha256"`
	CiphertextSHA256 string `json:"ciphertextSha256"`
	// KeyID names the keyset key that encrypted the artifact (never the key).
	KeyID string `json:"keyId"`

	// Copies and Verifications are merged from update objects on read, in
	// the order they were recorded; they are never part of the entry object.
	Copies        []Copy         `json:"copies,omitempty"`
	Verifications []Verification `json:"verifications,omitempty"`
}

// Copy records one copy of the artifact in another bucket, made and checked
// after the upload.
type Copy struct {
	// URL is the destination bucket, redacted: no user info, no credentials.
	URL    string `json:"url"`
	Object string `json:"object"`
	// SHA256 is the digest of the bytes read back at the destination; it
	// equals the entry's CiphertextSHA256 or the copy is not recorded.
	SHA256   string    `json:"sha256"`
	Verified time.Time `json:"verified"`
}

// VerificationResult is the outcome of restoring an artifact to check it.
type VerificationResult string

const (
	VerificationPassed VerificationResult = "passed"
	VerificationFailed VerificationResult = "failed"
)

// Verification records one verification by restore (filled by `backup
// verify`): the artifact, with its chain, was downloaded, decrypted,
// digest-checked, restored into scratch and checked.
type Verification struct {
	Result   VerificationResult `json:"result"`
	Started  time.Time          `json:"started"`
	Duration time.Duration      `json:"durationNanos"`
	// Method says what ran, e.g. "neo4j-admin database load+check" or
	// "neo4j-admin database restore+check".
	Method string `json:"method"`
	// Where says where it ran, e.g. "local" or "job graph-scratch/verify-x".
	Where        string `json:"where,omitempty"`
	Neo4jVersion string `json:"neo4jVersion,omitempty"`
	// Nodes and Relationships are counted when the check could read them.
	Nodes         *int64 `json:"nodes,omitempty"`
	Relationships *int64 `json:"relationships,omitempty"`
	// Message explains a failure (first lines of the check's report); never
	// a secret.
	Message string `json:"message,omitempty"`
}

// LastVerification is the most recent verification, or nil.
func (e Entry) LastVerification() *Verification {
	if len(e.Verifications) == 0 {
		return nil
	}
	v := e.Verifications[len(e.Verifications)-1]
	return &v
}

// Verified reports whether the most recent verification passed.
func (e Entry) Verified() bool {
	v := e.LastVerification()
	return v != nil && v.Result == VerificationPassed
}

// IsFull reports whether the artifact restores on its own.
func (e Entry) IsFull() bool { return e.Type == Full }

// Empty reports an empty differential (0..0: a backup taken with nothing new).
func (e Entry) Empty() bool { return e.Type == Diff && e.LowestTx == 0 && e.HighestTx == 0 }

var (
	// Compiled on first use (internal/lazyre): every command starts this
	// package, few read a catalogue.
	namePart = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	token    = lazyre.New(`^[0-9a-z]{4,32}$`)
	hex64    = lazyre.New(`^[0-9a-f]{64}$`)
)

// Validate checks an entry before it is written: every problem, one per line,
// as `id: field: problem (fix)`.
func (e Entry) Validate() error {
	var errs []string
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s: %s: %s", e.ID, field, fmt.Sprintf(format, args...)))
	}
	if e.SchemaVersion != SchemaVersion {
		bad("schemaVersion", "%d, want %d", e.SchemaVersion, SchemaVersion)
	}
	n, err := ParseID(e.ID)
	if err != nil {
		bad("id", "%v (build it with NewID)", err)
	} else {
		if n.Cluster != e.Cluster || n.Database != e.Database {
			bad("id", "names %s/%s, the entry says %s/%s", n.Cluster, n.Database, e.Cluster, e.Database)
		}
		if n.Type != e.Type {
			bad("id", "names type %s, the entry says %s", n.Type, e.Type)
		}
		if !n.Time.Equal(e.Created.Truncate(time.Second)) {
			bad("id", "names time %s, created is %s", n.Time.Format(time.RFC3339), e.Created.UTC().Format(time.RFC3339))
		}
		if e.Object != n.ArtifactKey(e.Format) {
			bad("object", "%q, want %q (ArtifactKey)", e.Object, n.ArtifactKey(e.Format))
		}
	}
	switch e.Type {
	case Full:
		if e.ChainID != e.ID {
			bad("chainId", "%q: a full starts its own chain (want its own id)", e.ChainID)
		}
		if e.Parent != "" {
			bad("parent", "%q: a full has no parent", e.Parent)
		}
	case Diff:
		if e.Format == inspect.FormatDump {
			bad("type", "a dump is always FULL")
		}
		if e.Parent == "" || e.ChainID == "" {
			bad("parent", "a differential needs its parent and chain (Link sets them)")
		}
	default:
		bad("type", "%q, want FULL or DIFF", e.Type)
	}
	if e.Format != inspect.FormatBackup && e.Format != inspect.FormatDump {
		bad("format", "%q, want backup or dump", e.Format)
	}
	if e.LowestTx < 0 || e.HighestTx < e.LowestTx {
		bad("lowestTx", "range %d..%d is not a transaction range", e.LowestTx, e.HighestTx)
	}
	if e.File == "" {
		bad("file", "empty (the name neo4j-admin gave the artifact)")
	}
	if e.Created.IsZero() {
		bad("created", "not set")
	}
	if !hex64.MatchString(e.PlaintextSHA256) {
		bad("plaintextSha256", "%q is not a lowercase hex SHA-256", e.PlaintextSHA256)
	}
	if !hex64.MatchString(e.CiphertextSHA256) {
		bad("ciphertextSha256", "%q is not a lowercase hex SHA-256", e.CiphertextSHA256)
	}
	if e.PlaintextSize < 0 || e.CiphertextSize < 0 {
		bad("plaintextSize", "sizes cannot be negative")
	}
	if e.KeyID == "" {
		bad("keyId", "empty (every artifact is encrypted; record the key that did it)")
	}
	if len(e.Copies) > 0 || len(e.Verifications) > 0 {
		bad("copies", "copies and verifications are recorded with AddCopy/AddVerification after the entry")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// credentialParams are query parameters that carry credentials in the URLs
// of the storage drivers (S3 presigned URLs, Azure SAS tokens).
var credentialParams = lazyre.New(`(?i)(secret|password|passwd|token|credential|signature|^sig$|^sv$|^se$|access.?key|session)`)

// CheckURL refuses a storage URL that could carry a credential: user info,
// or a credential-like query parameter.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.User != nil {
		return fmt.Errorf("has user info (redact it: credentials never go into the catalogue)")
	}
	for k := range u.Query() {
		if credentialParams.MatchString(k) {
			return fmt.Errorf("query parameter %q looks like a credential (redact it)", k)
		}
	}
	if u.Scheme == "" {
		return fmt.Errorf("no scheme (want s3://, gs://, azblob:// or file://)")
	}
	return nil
}

// FromArtifact starts the entry of a backup artifact from what inspect
// reported about it: names, type as produced, transaction range, time. The
// caller adds sizes, digests, key id and version, then Link sets the chain.
func FromArtifact(cluster string, a inspect.Artifact, tok string) (Entry, error) {
	n, err := inspect.ParseName(a.File)
	if err != nil {
		return Entry{}, err
	}
	id, err := NewID(cluster, a.Database, a.Time, a.Type, tok)
	if err != nil {
		return Entry{}, err
	}
	nm, _ := ParseID(id)
	return Entry{
		SchemaVersion: SchemaVersion, ID: id, Cluster: cluster, Database: a.Database, DatabaseID: a.DatabaseID,
		Type: a.Type, Format: inspect.FormatBackup, File: n.String(), Object: nm.ArtifactKey(inspect.FormatBackup),
		LowestTx: a.LowestTx, HighestTx: a.HighestTx, Compressed: a.Compressed, Recovered: a.Recovered,
		Created: a.Time.UTC(),
	}, nil
}

// FromDump starts the entry of an offline dump (`<db>.dump`), which is
// always a full backup on its own; created is when the dump was taken.
func FromDump(cluster, file string, created time.Time, tok string) (Entry, error) {
	n, err := inspect.ParseName(file)
	if err != nil {
		return Entry{}, err
	}
	if n.Format != inspect.FormatDump {
		return Entry{}, fmt.Errorf("%q is not a dump (want <database>.dump)", file)
	}
	id, err := NewID(cluster, n.Database, created, Full, tok)
	if err != nil {
		return Entry{}, err
	}
	nm, _ := ParseID(id)
	return Entry{
		SchemaVersion: SchemaVersion, ID: id, Cluster: cluster, Database: n.Database, Type: Full,
		Format: inspect.FormatDump, File: n.String(), Object: nm.ArtifactKey(inspect.FormatDump),
		Created: created.UTC().Truncate(time.Second), ChainID: id,
	}, nil
}

// FellBack reports a backup asked for as a differential that neo4j-admin
// took as a full (Operations Manual 5, backup-restore/modes.adoc,
// "Differential backup": the client falls back on a full backup when the
// transaction logs it needs are not available on the server).
func (e Entry) FellBack() bool {
	return e.Type == Full && strings.EqualFold(e.RequestedType, string(Diff))
}
