// Package restore is `neo4jctl restore`: choosing what to restore from the
// backup catalogue (a point, with point-in-time recovery), planning the
// restore as data (what is stopped, replaced or created, which artifacts
// are replayed, the data-loss window), and executing it in the cluster.
//
// Selection (point.go) is pure: it reads catalogue entries and never a
// bucket. A restore point is always a whole chain — a full and the
// contiguous differentials up to the target (backup/catalog's Graph) — so a
// differential whose full, or any link before it, is missing is never
// chosen, whatever its time. With a location (a copy bucket in another
// region) only the artifacts copied there, digest-checked, count: a chain
// whose full was never copied there is not restorable from there.
//
// Point-in-time recovery follows neo4j-admin database restore
// --restore-until (Operations Manual 5.26,
// backup-restore/restore-backup.adoc, "Options" and "Restore data up to a
// specific date"): the artifact passed must contain the data up to that
// date, and the restore replays transactions committed before it.
package restore
