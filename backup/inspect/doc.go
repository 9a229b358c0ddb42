// Package inspect reads what neo4j-admin says about the backup artifacts it
// wrote: their file names and the table printed by
//
//	neo4j-admin backup inspect --show-metadata --format=TABULAR <path>
//
// (Neo4j 5.25+, Enterprise). The catalogue records the type an artifact was
// produced as from this table, never the --type that was asked for: the
// backup client falls back on a full backup when the transaction logs a
// differential needs are not available on the server (Operations Manual 5,
// backup-restore/modes.adoc, "Differential backup"), and a full backup is
// always taken first into an empty target (same page, "Full backup").
//
// TABULAR, not JSON: the manual documents the columns of the tabular output
// (backup-restore/inspect.adoc, "Command" and "Examples") but not the JSON
// layout in 5.26. The parser is driven by the header row, so the RECOVERED
// column that 2025.06 adds (same page in the 2025.x manual) is read when
// present, and columns added later are ignored.
//
// The package is pure: it parses text and names handed to it and runs
// nothing.
package inspect
