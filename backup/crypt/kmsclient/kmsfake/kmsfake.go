package kmsfake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is a running fake KMS holding some keys.
type Server struct {
	URL string

	mu    sync.Mutex
	keys  map[string]cipher.AEAD // by key name (ARN or Cloud KMS resource name)
	calls []string
}

// AWSKeyARN is the ARN of an AWS KMS key named id in the fake's account.
func AWSKeyARN(id string) string { return "arn:aws:kms:eu-west-1:111122223333:key/" + id }

// GCPKeyName is the resource name of a Cloud KMS key named id.
func GCPKeyName(id string) string {
	return "projects/neo4jctl-test/locations/europe-west1/keyRings/backups/cryptoKeys/" + id
}

// Start serves AWS KMS (POST / with X-Amz-Target) and Cloud KMS (POST
// /v1/{name}:encrypt|decrypt) on loopback; keys are key names (AWSKeyARN,
// GCPKeyName).
func Start(t testing.TB, keys ...string) *Server {
	t.Helper()
	s := &Server{keys: map[string]cipher.AEAD{}}
	for _, k := range keys {
		s.AddKey(k)
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddKey creates a key.
func (s *Server) AddKey(name string) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	b, _ := aes.NewCipher(raw)
	g, _ := cipher.NewGCM(b)
	s.mu.Lock()
	s.keys[name] = g
	s.mu.Unlock()
}

// Calls are the operations served, "Encrypt <key>" / "Decrypt <key>".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *Server) key(name string) cipher.AEAD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[name]
}

func (s *Server) record(op, key string) {
	s.mu.Lock()
	s.calls = append(s.calls, op+" "+key)
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveAWS(w, r, target)
		return
	}
	s.serveGCP(w, r)
}

// seal binds a ciphertext to its key name: name length, name, nonce, sealed.
func seal(g cipher.AEAD, name string, pt, ad []byte) []byte {
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{byte(len(name))}, name...)
	out = append(out, nonce...)
	return g.Seal(out, nonce, pt, ad)
}

// keyOf reads the key name a ciphertext was sealed with.
func keyOf(ct []byte) (string, []byte, bool) {
	if len(ct) < 1 || len(ct) < 1+int(ct[0]) {
		return "", nil, false
	}
	return string(ct[1 : 1+int(ct[0])]), ct[1+int(ct[0]):], true
}

func open(g cipher.AEAD, rest, ad []byte) ([]byte, bool) {
	if len(rest) < g.NonceSize() {
		return nil, false
	}
	pt, err := g.Open(nil, rest[:g.NonceSize()], rest[g.NonceSize():], ad)
	return pt, err == nil
}

// --- AWS KMS, JSON 1.1 protocol ---

type awsRequest struct {
	KeyID             string            `json:"KeyId"`
	Plaintext         []byte            `json:"Plaintext"`
	CiphertextBlob    []byte            `json:"CiphertextBlob"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
}

func awsError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// context is the encryption context as associated data, canonical.
func context(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(m[k]), m[k])
	}
	return []byte(b.String())
}

func (s *Server) serveAWS(w http.ResponseWriter, r *http.Request, target string) {
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		awsError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "Request is missing Authentication Token")
		return
	}
	var req awsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		awsError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	ad := context(req.EncryptionContext)
	switch strings.TrimPrefix(target, "TrentService.") {
	case "Encrypt":
		s.record("Encrypt", req.KeyID)
		g := s.key(req.KeyID)
		if g == nil {
			awsError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", req.KeyID))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"CiphertextBlob": seal(g, req.KeyID, req.Plaintext, ad), "KeyId": req.KeyID, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	case "Decrypt":
		s.record("Decrypt", req.KeyID)
		name, rest, ok := keyOf(req.CiphertextBlob)
		if !ok {
			awsError(w, http.StatusBadRequest, "InvalidCiphertextException", "")
			return
		}
		if req.KeyID != "" && req.KeyID != name {
			if s.key(req.KeyID) == nil {
				awsError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", req.KeyID))
				return
			}
			awsError(w, http.StatusBadRequest, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
			return
		}
		g := s.key(name)
		if g == nil {
			awsError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", name))
			return
		}
		pt, ok := open(g, rest, ad)
		if !ok {
			awsError(w, http.StatusBadRequest, "InvalidCiphertextException", "")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Plaintext": pt, "KeyId": name, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	default:
		awsError(w, http.StatusBadRequest, "UnknownOperationException", target)
	}
}

// --- Cloud KMS, REST v1 ---

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.Checksum(b, castagnoli)), 10) }

// b64 decodes a bytes field of protobuf JSON: standard or URL-safe base64,
// padded or not, as the service accepts (Tink sends URL-safe).
func b64(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func gcpError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

func (s *Server) serveGCP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	name, op, ok := strings.Cut(path, ":")
	if !ok || (op != "encrypt" && op != "decrypt") {
		gcpError(w, http.StatusNotFound, "NOT_FOUND", "no such method "+r.URL.Path)
		return
	}
	var req struct {
		Plaintext  string `json:"plaintext"`
		Ciphertext string `json:"ciphertext"`
		AAD        string `json:"additionalAuthenticatedData"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	ad := b64(req.AAD)
	s.record(strings.ToUpper(op[:1])+op[1:], name)
	g := s.key(name)
	if g == nil {
		gcpError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("CryptoKey %s not found.", name))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if op == "encrypt" {
		pt := b64(req.Plaintext)
		ct := seal(g, name, pt, ad)
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "ciphertext": base64.StdEncoding.EncodeToString(ct),
			"ciphertextCrc32c": crc(ct), "verifiedPlaintextCrc32c": true, "verifiedAdditionalAuthenticatedDataCrc32c": true})
		return
	}
	ct := b64(req.Ciphertext)
	kn, rest, ok := keyOf(ct)
	var pt []byte
	if ok && kn == name {
		pt, ok = open(g, rest, ad)
	} else {
		ok = false
	}
	if !ok {
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt), "plaintextCrc32c": crc(pt)})
}
