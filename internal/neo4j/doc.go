// Package neo4j is neo4jctl's only user of the Neo4j Go driver: it connects
// to a Neo4j server or cluster, observes it (SHOW SERVERS, SHOW DATABASES,
// settings, status checks) into the plain types of package state, and runs
// administration statements against the system database.
//
// Three rules shape the package:
//
//   - Credentials are handed in through Config by the caller. They are never
//     read from flags or Kubernetes here, never logged, and never appear in
//     an error string: every error leaving the package is an *Error whose
//     message has the password redacted.
//
//   - No user text is ever spliced into Cypher unescaped. Statements are
//     built by pure, deterministic, exported functions (EnableServerStatement,
//     CreateDatabaseStatement, …) on top of QuoteString, QuoteIdentifier and
//     Literal, so the exact text can be shown in a plan, golden-tested, and
//     sent unchanged to a simulator or a real server by the contract suite.
//
//   - Only idempotent statements are retried. SHOW…, components, ENABLE
//     SERVER, ALTER SERVER, RENAME SERVER, cordon, ALTER DATABASE and dry runs
//     go through a retry loop with capped exponential backoff and jitter
//     (Config.OnRetry reports each retry). DEALLOCATE, REALLOCATE, DROP
//     SERVER, CREATE DATABASE and DROP DATABASE are sent exactly once in an
//     auto-commit transaction: after any error from them the outcome is
//     unknown, and callers must re-read SHOW SERVERS / SHOW DATABASES before
//     deciding the next step.
//
// The retry loop is our own rather than the driver's managed transactions
// because the driver's retry API (ExecuteRead/ExecuteWrite, ExecuteQuery)
// exposes no callback per attempt; the only trace of a retry is a debug log
// line, and parsing log text would be fragile.
//
// # Address resolution
//
// Inside Kubernetes, Neo4j servers advertise addresses (pod DNS names) that a
// CLI outside the cluster cannot dial; port-forwards make them reachable at
// other host:port pairs. The driver's AddressResolver only rewrites the
// initial router address; addresses learnt from routing tables are dialled
// as advertised, and the driver has no public dial hook. So when
// Config.Resolver is set the client does its own routing instead: every
// connection is a direct (bolt) connection to a resolved address, reads go to
// the server named in the URI, and writes go to the system database's writer,
// found with SHOW DATABASE system and re-discovered after a NotALeader error.
// TLS certificates are still verified against the advertised host name, not
// the resolved one.
package neo4j
