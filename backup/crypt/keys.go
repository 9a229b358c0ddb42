package crypt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// KMS is a key-encryption key held by a key management service: the AEAD
// that wraps the keyset. It has tink.AEAD's method set, so the AEAD returned
// by the Tink AWS KMS and GCP KMS extensions' KMSClient.GetAEAD(keyURI)
// satisfies it as is (tests use Tink's testing/fakekms, a local AEAD).
type KMS interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
}

var _ KMS = tink.AEAD(nil)

// kmsCause is the failure a KMS client explained (backup/crypt/kmsclient
// keeps it: its message names the key and what to check, never key
// material). Tink's keyset layer only says that decryption failed.
func kmsCause(kms KMS) error {
	if c, ok := kms.(interface{ Cause() error }); ok {
		return c.Cause()
	}
	return nil
}

// cleartextKMS marks a cleartext keyset; it is never called as an AEAD.
type cleartextKMS struct{}

func (cleartextKMS) Encrypt([]byte, []byte) ([]byte, error) {
	return nil, errors.New("crypt: Cleartext is not a KMS")
}

func (cleartextKMS) Decrypt([]byte, []byte) ([]byte, error) {
	return nil, errors.New("crypt: Cleartext is not a KMS")
}

// Cleartext, passed as the KMS, reads or writes a keyset that no KMS key
// wraps: the keyset's protection is then only the Secret's. It must be
// asked for explicitly; a nil KMS is an error.
var Cleartext KMS = cleartextKMS{}

// keyTypeURL is the key type of the AES-GCM-HKDF streaming AEAD.
const keyTypeURL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"

// Errors callers can test with errors.Is.
var (
	// ErrNoKMS: LoadKeyset or Marshal got a nil KMS.
	ErrNoKMS = errors.New("no KMS key given: pass the KMS AEAD that wraps the keyset, or crypt.Cleartext for a cleartext keyset")
	// ErrKeyset: the keyset bytes are not a usable keyset (the cause is not
	// given, because parse errors can quote the key material).
	ErrKeyset = errors.New("invalid keyset")
	// ErrAuthentication: the ciphertext did not authenticate.
	ErrAuthentication = errors.New("ciphertext did not authenticate: wrong key, wrong associated data (artifact name), or a truncated or altered object")
	// ErrKeyNotFound: the key recorded for an artifact is not in the keyset.
	ErrKeyNotFound = errors.New("key not in keyset")
)

// Keys is a loaded keyset. It is safe for concurrent use; Rotate swaps the
// keyset for later calls.
type Keys struct {
	mu     sync.RWMutex
	handle *keyset.Handle
	aead   tink.StreamingAEAD
}

// Template returns the key template every new key uses: AES256_GCM_HKDF_1MB.
func Template() *tinkpb.KeyTemplate { return streamingaead.AES256GCMHKDF1MBKeyTemplate() }

// NewKeyset returns a fresh keyset with one AES256_GCM_HKDF_1MB key.
func NewKeyset() (*Keys, error) {
	h, err := keyset.NewHandle(Template())
	if err != nil {
		return nil, fmt.Errorf("crypt: new keyset: %w", err)
	}
	return fromHandle(h)
}

func fromHandle(h *keyset.Handle) (*Keys, error) {
	for _, ki := range h.KeysetInfo().GetKeyInfo() {
		if ki.GetTypeUrl() != keyTypeURL {
			// The type URL is not printed: it is the keyset's text.
			return nil, fmt.Errorf("crypt: %w: key %d is not an AES-GCM-HKDF streaming key (template AES256_GCM_HKDF_1MB)",
				ErrKeyset, ki.GetKeyId())
		}
	}
	a, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w: no streaming AEAD from it", ErrKeyset)
	}
	return &Keys{handle: h, aead: a}, nil
}

// LoadKeyset reads a Tink JSON keyset (a Secret's bytes). kms is the KMS
// AEAD the keyset is encrypted with (Tink's envelope, as written by
// Marshal(kms) or `tinkey create-keyset --master-key-uri`), or Cleartext
// for a cleartext keyset; nil is ErrNoKMS. A KMS-encrypted keyset given
// Cleartext, or a cleartext one given a KMS, is an error rather than a
// silent downgrade. Errors never quote the keyset.
func LoadKeyset(jsonKeyset []byte, kms KMS) (*Keys, error) {
	if kms == nil {
		return nil, fmt.Errorf("crypt: load keyset: %w", ErrNoKMS)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(jsonKeyset, &top); err != nil {
		// encoding/json's message can quote a byte of the input.
		return nil, fmt.Errorf("crypt: load keyset: %w: not a JSON object", ErrKeyset)
	}
	_, encrypted := top["encryptedKeyset"]
	_, clear := top["key"]
	var (
		h   *keyset.Handle
		err error
	)
	switch _, isClear := kms.(cleartextKMS); {
	case encrypted && isClear:
		return nil, fmt.Errorf("crypt: load keyset: %w: it is encrypted with a KMS key; configure that key", ErrKeyset)
	case clear && !isClear:
		return nil, fmt.Errorf("crypt: load keyset: %w: it is a cleartext keyset but a KMS key was configured; re-wrap it with the KMS key or configure it as cleartext explicitly", ErrKeyset)
	case isClear:
		h, err = insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(jsonKeyset)))
		if err != nil {
			return nil, fmt.Errorf("crypt: load cleartext keyset: %w: not a Tink JSON keyset", ErrKeyset)
		}
	default:
		// Empty associated data: what Tink's envelope and tinkey use.
		h, err = keyset.Read(keyset.NewJSONReader(bytes.NewReader(jsonKeyset)), kms)
		if err != nil {
			if cause := kmsCause(kms); cause != nil {
				return nil, fmt.Errorf("crypt: load keyset: %w: %w", ErrKeyset, cause)
			}
			return nil, fmt.Errorf("crypt: load keyset: %w: the KMS key could not decrypt it (wrong KMS key, no access, or not a Tink encrypted keyset)", ErrKeyset)
		}
	}
	return fromHandle(h)
}

// Marshal writes the keyset as Tink JSON, encrypted with kms, or in
// cleartext when kms is Cleartext; nil is ErrNoKMS.
func (k *Keys) Marshal(kms KMS) ([]byte, error) {
	if kms == nil {
		return nil, fmt.Errorf("crypt: marshal keyset: %w", ErrNoKMS)
	}
	k.mu.RLock()
	h := k.handle
	k.mu.RUnlock()
	var buf bytes.Buffer
	w := keyset.NewJSONWriter(&buf)
	if _, ok := kms.(cleartextKMS); ok {
		if err := insecurecleartextkeyset.Write(h, w); err != nil {
			return nil, errors.New("crypt: marshal cleartext keyset failed")
		}
		return buf.Bytes(), nil
	}
	if err := h.Write(w, kms); err != nil {
		if cause := kmsCause(kms); cause != nil {
			return nil, fmt.Errorf("crypt: marshal keyset: %w", cause)
		}
		return nil, errors.New("crypt: marshal keyset: the KMS key could not encrypt it (no access?)")
	}
	return buf.Bytes(), nil
}

// Rotate adds a new AES256_GCM_HKDF_1MB key and makes it the primary: later
// Encrypt calls use it, and every older key still decrypts. It returns the
// new key's id. Store the keyset again (Marshal) to keep the new key.
func (k *Keys) Rotate() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := keyset.NewManagerFromHandle(k.handle)
	id, err := m.Add(Template())
	if err != nil {
		return "", fmt.Errorf("crypt: rotate: %w", err)
	}
	if err := m.SetPrimary(id); err != nil {
		return "", fmt.Errorf("crypt: rotate: %w", err)
	}
	h, err := m.Handle()
	if err != nil {
		return "", fmt.Errorf("crypt: rotate: %w", err)
	}
	nk, err := fromHandle(h)
	if err != nil {
		return "", err
	}
	k.handle, k.aead = nk.handle, nk.aead
	return formatKeyID(id), nil
}

// PrimaryKeyID returns the id of the key Encrypt uses.
func (k *Keys) PrimaryKeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return formatKeyID(k.handle.KeysetInfo().GetPrimaryKeyId())
}

// KeyIDs returns the ids of every key in the keyset, sorted.
func (k *Keys) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var ids []uint32
	for _, ki := range k.handle.KeysetInfo().GetKeyInfo() {
		ids = append(ids, ki.GetKeyId())
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = formatKeyID(id)
	}
	return out
}

func (k *Keys) hasKey(id string) bool {
	for _, have := range k.KeyIDs() {
		if have == id {
			return true
		}
	}
	return false
}

func (k *Keys) current() (tink.StreamingAEAD, string) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.aead, formatKeyID(k.handle.KeysetInfo().GetPrimaryKeyId())
}

// formatKeyID prints a Tink key id as tinkey does: the uint32 in decimal.
func formatKeyID(id uint32) string { return strconv.FormatUint(uint64(id), 10) }

// adPrefix versions the associated-data layout.
const adPrefix = "neo4jctl-backup-v1"

// AssociatedData binds a ciphertext to its artifact: e.g.
// AssociatedData(cluster, database, objectName). Each part is
// length-prefixed, so ("ab","c") and ("a","bc") differ.
func AssociatedData(parts ...string) []byte {
	b := []byte(adPrefix)
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}
