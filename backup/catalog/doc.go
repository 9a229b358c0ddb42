// Package catalog is the backup catalogue kept in the bucket beside the
// artifacts: one small JSON object per artifact, written create-if-absent,
// found by listing a prefix (no index object to keep consistent).
//
// # Object names
//
// Every name carries cluster, database, time and type, so a LIST answers
// "which backups exist" and sorts them chronologically by itself:
//
//	catalog/v1/<cluster>/<database>/<stem>.json                    the entry
//	catalog/v1/<cluster>/<database>/<stem>.update.<000001>.json    later facts about it
//	artifacts/<cluster>/<database>/<stem>.<backup|dump>.enc        the encrypted artifact
//
//	stem = <YYYYMMDDTHHMMSSZ>-<full|diff>-<token>
//
// The time is when neo4j-admin took the backup (UTC, fixed width, so byte
// order is time order); the token is random per upload so two artifacts of
// one database taken in the same second never share a name, and an upload
// never overwrites another one's object. An entry's ID is
// <cluster>/<database>/<stem>.
//
// # Writes never overwrite
//
// Every object is written once with PutIfAbsent (gocloud.dev/blob's
// IfNotExist). An entry is immutable; facts learnt later (a copy made to
// another region, a verification by restore) are appended as update objects
// numbered per entry. A writer takes the next free number and, if another
// writer took it first (PutIfAbsent fails), tries the one after: two
// concurrent updates both land and neither is lost. Reading an entry merges
// its updates in number order.
//
// # Order of operations (for the agent and prune)
//
// Upload the artifact first, write the entry last: an interrupted upload
// never leaves an entry pointing at a partial object. Deleting is the
// reverse: the entry first (Delete removes the entry, then its updates), then
// the artifact and its copies, so an interrupted prune leaves at worst an
// unreferenced object, never an entry without its data.
//
// # Secrets
//
// An entry holds names, sizes, digests and a key id, never a key, password or
// credential. URLs with user info or credential-like query parameters are
// refused, and the Catalog refuses to write any object containing one of the
// secret values it was given (Options.Secrets): the check runs on the encoded
// bytes, so no field can carry one by accident.
//
// The package does no I/O of its own beyond the Store it is handed.
package catalog
