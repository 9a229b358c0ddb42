// Package retention decides which catalogued backups to keep and which to
// delete: grandfather-father-son (GFS) rotation that understands Neo4j's
// backup chains. Plan is pure — entries, policy and clock in, a Decision out
// — so `backup prune` can print exactly what it will delete before it
// deletes anything, and `--apply` deletes exactly that.
//
// # Restore points and chains
//
// Every restorable backup is a restore point: a full, or a differential
// whose whole chain (its full and every differential between) is in the
// catalogue with contiguous transaction ranges (catalog.Assemble). Keeping a
// differential keeps everything it depends on, so a full is never deleted
// while a kept differential depends on it. Dependencies are followed through
// the recorded parents even where the chain is broken further up, so a
// young backup protected by MinAge keeps what it was built on.
//
// # GFS bucketing (per cluster and database, periods in UTC)
//
//	daily   the calendar day          2025-12-31
//	weekly  the ISO 8601 week         2025-W52 (weeks start on Monday; the
//	                                  first week of a year holds its first Thursday)
//	monthly the calendar month        2025-12
//	yearly  the calendar year         2025
//
// As restic's --keep-daily/--keep-weekly/…: for each rule with count n, the
// n most recent periods that hold at least one restorable backup (within
// MaxAge) each keep their newest restorable backup, its representative.
// Periods without a backup are not counted, so a paused schedule does not
// make older backups expire faster. The rules are independent: one backup
// may represent its day, week, month and year at once.
//
// # Protections, in order of precedence
//
//  1. The newest verified backup (latest verification by restore passed) is
//     never deleted. When no backup of the database is verified, the newest
//     restorable backup is protected instead — so a database always keeps at
//     least one restorable backup whatever the policy says — and when none is
//     restorable, the newest backup of any kind.
//  2. MinAge: a backup younger than MinAge is kept whatever else applies,
//     including one that cannot be restored yet (its full may still be on its
//     way into the catalogue from a concurrent writer).
//  3. Dependencies of anything kept are kept (above).
//  4. MaxAge: a backup older than MaxAge is no GFS representative and is
//     deleted unless 1-3 keep it.
//
// Everything else is deleted, each with its reason: not the representative
// of any kept period, older than MaxAge, or an orphan that cannot be
// restored (its full or a link of its chain is missing).
//
// # Deletion order
//
// Decision.Delete is ordered newest first, and a differential is always newer
// than its parent (catalog.Assemble refuses the opposite), so every
// differential is deleted before the backups it depends on. An interrupted
// prune therefore never leaves a differential without its full, kept or not.
package retention
