// Package neo4jsim simulates a Neo4j 5 Enterprise (or Community) DBMS for
// neo4jctl's integration and end-to-end tests.
//
// Every simulated server listens on its own loopback port and speaks real
// Bolt 5.0–5.8 with PackStream, so the official neo4j-go-driver connects to it
// over TCP exactly as it would to Neo4j, over bolt:// and neo4j:// (routing).
// The servers share one cluster model that follows the documented server
// lifecycle (Free → Enabled → Cordoned / Deallocating → Deallocated →
// Dropped) and database allocation rules, answers the administration
// statements neo4jctl sends (parsed from real Cypher syntax), and refuses what
// Neo4j refuses with Neo4j's status codes. SHOW SERVERS reports advertised
// addresses (Pod DNS names), not the loopback ports; AddressMap translates.
//
// Every behaviour it models follows the Neo4j 5.26 Operations Manual and
// names its page and section in the facts table (facts.go, rendered in
// docs/neo4j.md); a test fails when a statement, procedure, status code or
// behaviour has no row. Each server has its own configuration and version,
// read from its Pod when it (re)starts, and its own live settings
// (dbms.setConfigValue); health is Neo4j's view, independent of the Pod's
// readiness; a database has a leader only while a majority of its primaries
// is available.
//
// The simulator can follow the Pods of a StatefulSet in a real Kubernetes API
// server (FollowStatefulSet), injects faults (faults.go) and records every
// administration statement in a log that tests assert on (Log).
package neo4jsim
