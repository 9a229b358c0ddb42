package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/backup/crypt/kmsclient"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// DefaultSecretsDir is where the backup Pods mount the Secrets spec.backups
// names, one directory per Secret (<dir>/<secret>/<key>).
const DefaultSecretsDir = "/var/run/secrets/neo4jctl/backup"

// KeysetEnv holds the keyset itself when its Secret is given to the
// process as an environment variable instead of a file.
const KeysetEnv = "NEO4JCTL_BACKUP_KEYSET"

// credentialKeys are the Secret keys the storage drivers read
// (backup/blob), looked up in the environment when a Secret is given as
// environment variables (envFrom) rather than mounted as files.
var credentialKeys = []string{
	blob.KeyAWSAccessKeyID, blob.KeyAWSSecretAccessKey, blob.KeyAWSSessionToken,
	blob.KeyGoogleCredentials,
	blob.KeyAzureAccount, blob.KeyAzureKey, blob.KeyAzureSASToken, blob.KeyAzureConnString,
}

// Options open a Session.
type Options struct {
	// Cluster is the loaded cluster file: metadata.name is the cluster in
	// the catalogue, spec.backups the storage, copies and keyset.
	Cluster *clusterfile.Cluster
	// SecretsDir holds mounted Secrets, one directory per Secret, as a
	// Secret volume lays them out (default DefaultSecretsDir).
	SecretsDir string
	// Getenv reads a Secret given as environment variables, used when its
	// directory is absent (default os.Getenv).
	Getenv func(string) string
	// KeysetFile is the keyset's file; default
	// <SecretsDir>/<keysetSecret.name>/<keysetSecret.key>, then the
	// NEO4JCTL_BACKUP_KEYSET variable.
	KeysetFile string
	// NeedKeys loads the keyset (storing and downloading need it; listing
	// does not).
	NeedKeys bool
	// OpenCopies opens spec.backups.copies too (storing copies to them).
	OpenCopies bool
	// KMS returns the AEAD of spec.backups.encryption.kms (default: none
	// linked, an error).
	KMS func(ctx context.Context, uri string) (crypt.KMS, error)
	// Log receives one plain line per step (default io.Discard).
	Log io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Blob tunes retries of every bucket (attempts, backoff); Credentials
	// and Report are set by Open.
	Blob blob.Options
	// Secrets are more values that must never be printed or catalogued
	// (e.g. the Neo4j password).
	Secrets []string
}

// Session is one cluster's backups: its storage, copies, catalogue and keys.
type Session struct {
	Cluster string
	Spec    *clusterfile.Backups
	// Version is the cluster file's Neo4j version, recorded in entries.
	Version string
	Storage *blob.Bucket
	// Copies are spec.backups.copies, in order, when Options.OpenCopies.
	Copies  []*blob.Bucket
	Catalog *catalog.Catalog
	// Keys is nil unless Options.NeedKeys.
	Keys *crypt.Keys
	Log  *Logger

	opts Options
	now  func() time.Time
}

// Open opens the storage and catalogue of the cluster file's
// spec.backups, and the keyset when opts.NeedKeys. It contacts nothing:
// storage errors surface on the first operation.
func Open(ctx context.Context, opts Options) (*Session, error) {
	c := opts.Cluster
	if c == nil || c.Spec.Backups == nil {
		return nil, errors.New("the cluster file has no spec.backups (docs/backups.md)")
	}
	if opts.SecretsDir == "" {
		opts.SecretsDir = DefaultSecretsDir
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KMS == nil {
		opts.KMS = DefaultKMS
	}
	s := &Session{Cluster: c.Metadata.Name, Spec: c.Spec.Backups, Version: c.Spec.Version, opts: opts, now: opts.Now,
		Log: NewLogger(opts.Log, opts.Secrets...)}
	var err error
	if s.Storage, err = s.OpenLocation(ctx, s.Spec.Storage); err != nil {
		return nil, err
	}
	if opts.OpenCopies {
		for _, loc := range s.Spec.Copies {
			b, err := s.OpenLocation(ctx, loc)
			if err != nil {
				return nil, err
			}
			s.Copies = append(s.Copies, b)
		}
	}
	if opts.NeedKeys {
		if s.Keys, err = s.loadKeys(ctx); err != nil {
			return nil, err
		}
	}
	// Last, so that it refuses to write every secret read above.
	s.Catalog = s.CatalogOf(s.Storage)
	return s, nil
}

// CatalogOf is the catalogue kept in bucket b: the storage's own, or the
// mirror a copy bucket holds of the entries copied there (docs/backup-catalog.md).
// It refuses to write every secret the session knows of.
func (s *Session) CatalogOf(b *blob.Bucket) *catalog.Catalog {
	return catalog.New(b, func(o blob.Object) string { return o.Key }, catalog.Options{
		IsExists:   func(err error) bool { return errors.Is(err, blob.ErrExists) },
		IsNotFound: func(err error) bool { return errors.Is(err, blob.ErrNotFound) },
		Secrets:    s.Log.Secrets(),
		Now:        s.opts.Now,
	})
}

// DefaultKMS opens the KMS key that wraps a keyset through Tink's AWS and
// GCP KMS extensions (backup/crypt/kmsclient).
func DefaultKMS(ctx context.Context, uri string) (crypt.KMS, error) {
	return kmsclient.Open(ctx, uri)
}

// OpenLocation opens one bucket of spec.backups with its credentials.
func (s *Session) OpenLocation(ctx context.Context, loc clusterfile.BackupLocation) (*blob.Bucket, error) {
	creds, err := s.credentials(loc)
	if err != nil {
		return nil, err
	}
	for _, v := range creds {
		s.Log.AddSecret(string(v))
	}
	o := s.opts.Blob
	o.Credentials = creds
	o.Report = func(a blob.Attempt) { s.Log.Printf("%s", a) }
	b, err := blob.Open(ctx, loc.URL, o)
	if err != nil {
		return nil, fmt.Errorf("open %s: %s", redactURL(loc.URL), s.Log.Redact(err.Error()))
	}
	return b, nil
}

// credentials reads a location's Secret: the files of its mounted
// directory, or the provider's variables from the environment. A
// workload-identity or file:// location has none.
func (s *Session) credentials(loc clusterfile.BackupLocation) (map[string][]byte, error) {
	name := loc.CredentialsSecret
	if name == "" {
		return nil, nil
	}
	dir := filepath.Join(s.opts.SecretsDir, name)
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil:
		creds := map[string][]byte{}
		for _, e := range entries {
			// A Secret volume holds ..data and timestamped directories
			// beside one symlink per key.
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("read Secret %s key %s: %w", name, e.Name(), err)
			}
			creds[e.Name()] = data
		}
		return creds, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read Secret %s: %w", name, err)
	}
	// Only the storage's own Secret may come from the environment: the
	// variables have one name per provider, so two Secrets would collide.
	if name != s.Spec.Storage.CredentialsSecret {
		return nil, fmt.Errorf("Secret %s is not mounted at %s (a copy's credentials must be mounted as files: environment variables would collide with the storage's)", name, dir)
	}
	creds := map[string][]byte{}
	for _, k := range credentialKeys {
		if v := s.opts.Getenv(k); v != "" {
			creds[k] = []byte(v)
		}
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("Secret %s is neither mounted at %s nor given as environment variables (%s)", name, dir, strings.Join(credentialKeys, ", "))
	}
	return creds, nil
}

// loadKeys reads the keyset from its file or variable and registers its
// material as secret.
func (s *Session) loadKeys(ctx context.Context) (*crypt.Keys, error) {
	data, src, err := s.ReadKeyset()
	if err != nil {
		return nil, err
	}
	kms, err := s.KMS(ctx)
	if err != nil {
		return nil, err
	}
	k, err := crypt.LoadKeyset(data, kms)
	if err != nil {
		return nil, fmt.Errorf("load the keyset from %s: %w", src, err)
	}
	return k, nil
}

// KMS returns the AEAD that wraps the keyset, or crypt.Cleartext.
func (s *Session) KMS(ctx context.Context) (crypt.KMS, error) {
	if uri := s.Spec.Encryption.KMS; uri != "" {
		return s.opts.KMS(ctx, uri)
	}
	return crypt.Cleartext, nil
}

// ReadKeyset returns the keyset's bytes and where they came from; its
// material is registered as secret first.
func (s *Session) ReadKeyset() ([]byte, string, error) {
	data, src, err := ReadKeyset(s.Spec.Encryption, s.opts.SecretsDir, s.opts.KeysetFile, s.opts.Getenv)
	if err != nil {
		return nil, "", err
	}
	s.Log.AddSecret(string(data))
	for _, v := range KeysetSecrets(data) {
		s.Log.AddSecret(v)
	}
	return data, src, nil
}

// ReadKeyset reads the keyset of spec.backups.encryption: keysetFile when
// given, else the mounted Secret <secretsDir>/<name>/<key>, else the
// NEO4JCTL_BACKUP_KEYSET variable. A missing keyset is an error wrapping
// os.ErrNotExist.
func ReadKeyset(enc clusterfile.BackupEncryption, secretsDir, keysetFile string, getenv func(string) string) ([]byte, string, error) {
	ref := enc.KeysetSecret
	if secretsDir == "" {
		secretsDir = DefaultSecretsDir
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	file := keysetFile
	if file == "" {
		file = filepath.Join(secretsDir, ref.Name, ref.Key)
	}
	data, err := os.ReadFile(file)
	src := file
	if errors.Is(err, os.ErrNotExist) && keysetFile == "" {
		if v := getenv(KeysetEnv); v != "" {
			data, err, src = []byte(v), nil, "$"+KeysetEnv
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the keyset (Secret %s, key %s): %w; mount it at %s or pass --keyset-file", ref.Name, ref.Key, err, file)
	}
	return data, src, nil
}

// KeysetSecrets are the long string values of a JSON keyset (the key
// material, base64), so that a fragment of it is blanked too.
func KeysetSecrets(data []byte) []string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		case string:
			if len(t) >= 16 {
				out = append(out, t)
			}
		}
	}
	walk(v)
	return out
}

// redactURL drops user info and the query from a URL for messages.
func redactURL(raw string) string {
	if err := catalog.CheckURL(raw); err == nil {
		return raw
	}
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s[i+3:], "@"); at >= 0 {
			s = s[:i+3] + s[i+3+at+1:]
		}
	}
	return s
}

// Logger prints one line per step and blanks every secret value it knows.
type Logger struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

// NewLogger returns a Logger writing to w.
func NewLogger(w io.Writer, secrets ...string) *Logger {
	l := &Logger{w: w}
	for _, s := range secrets {
		l.AddSecret(s)
	}
	return l
}

// AddSecret registers a value that must never be printed. Values shorter
// than 4 characters are ignored: blanking them would garble every line.
func (l *Logger) AddSecret(v string) {
	v = strings.TrimSpace(v)
	if len(v) < 4 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secrets = append(l.secrets, v)
	// Longest first, so a value containing another is blanked whole.
	sort.Slice(l.secrets, func(i, j int) bool { return len(l.secrets[i]) > len(l.secrets[j]) })
}

// Secrets returns the registered values.
func (l *Logger) Secrets() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.secrets...)
}

// Redact blanks the secret values in s.
func (l *Logger) Redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

// Printf writes one line.
func (l *Logger) Printf(format string, args ...any) {
	line := l.Redact(strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, line)
}

// Errorf is fmt.Errorf with the secret values blanked.
func (l *Logger) Errorf(format string, args ...any) error {
	return errors.New(l.Redact(fmt.Errorf(format, args...).Error()))
}
