// Package lock is a per-database backup lock in the bucket: one backup
// (or dump) of a database at a time, across CronJobs, clusters and
// regions that share the bucket, with an expiry so a run that died does
// not block backups for ever.
//
// Object storage offers create-if-absent (blob's IfNotExist) but no
// compare-and-swap and no conditional delete, so the lock is a sequence
// of generations, locks/<cluster>/<database>/<generation>.json, each
// written create-if-absent and never overwritten: the highest generation
// is the lock. Taking a lock over (after its expiry, or after its holder
// released it with a .released marker) writes the next generation, which
// only one contender can create. Nobody ever deletes the current
// generation, so there is no window in which two contenders both see "no
// lock". Older generations are deleted by the holder that released a
// newer one; a contender that wrote a generation below the highest (it
// listed, stalled, and generations were collected meanwhile) sees the
// higher one when it lists again after its write, and gives up.
//
// Expiry is judged by the acquirer's clock against the holder's
// recorded expiry: keep clocks in sync (NTP), and make the TTL longer
// than a run plus any skew.
package lock
