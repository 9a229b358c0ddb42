// Package ops is what neo4jctl does with backups, as functions the backup
// agent and the backup commands share: open the storage, the copies, the
// catalogue and the keyset of a cluster file's spec.backups (credentials
// from mounted Secrets, never flags), store an artifact (encrypt while
// uploading, verify, catalogue last, copy), list, describe, copy, download
// (decrypted, authenticated before use, digest-checked), prune by the
// retention policy, and rotate keys.
//
// Every line it prints goes through a Logger that blanks the secret values
// it was given (credentials, keyset material), so a value read from a
// Secret cannot reach a log even inside an error from a storage SDK.
package ops
