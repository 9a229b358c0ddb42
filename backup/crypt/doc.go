// Package crypt encrypts and decrypts backup artifacts client-side, before
// they leave the cluster and after they come back, with Google Tink's
// streaming AEAD (github.com/tink-crypto/tink-go/v2, template
// AES256_GCM_HKDF_1MB: AES-256-GCM over 1 MiB segments, a fresh key derived
// per stream with HKDF-SHA256). Tink, not hand-written AES-GCM framing:
// segment nonces, the last-segment flag that makes truncation detectable,
// key derivation and key rotation are exactly what is easy to get wrong.
//
// Keys. A keyset is Tink's JSON keyset, read from a Secret's bytes
// (LoadKeyset). It is either wrapped by a KMS key (Tink's envelope: the
// keyset encrypted with a KMS AEAD; the AWS and GCP Tink extensions'
// KMSClient.GetAEAD return a tink.AEAD, which is our KMS interface) or
// cleartext, which must be asked for explicitly by passing Cleartext.
// Rotate adds a new primary key; older keys stay in the keyset and still
// decrypt. Encrypt reports the id of the key it used, to be recorded per
// artifact; Tink's streaming ciphertexts carry no key id, so decryption
// tries every key, and DecryptOptions.KeyID only gives a clear error when
// the recorded key has been removed.
//
// Binding. The associated data (AssociatedData(cluster, database, object))
// is authenticated with every segment: a ciphertext moved to another
// object name, database or cluster fails to decrypt.
//
// Authenticate before use. Tink authenticates segment by segment, so a
// flipped byte in the last segment, or a missing last segment, is only
// noticed at the end of the stream. DecryptFile and DecryptTo therefore
// decrypt into a staging file first and release the plaintext (rename, or
// copy to the caller's writer) only after the whole stream authenticated;
// on any failure the staging file is removed and nothing is written
// downstream. Both compute the SHA-256 of plaintext and ciphertext while
// streaming, as does the encrypting Writer.
//
// Secrets. No error of this package carries key material: Tink and
// protobuf parse errors, which can quote their input, are replaced by
// fixed messages.
package crypt
