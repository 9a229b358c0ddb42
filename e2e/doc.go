// Package e2e holds neo4jctl's real test environment — a Kubernetes control
// plane built from source (testenv), a Bolt simulator of a Neo4j Enterprise
// cluster (neo4jsim), a real Neo4j Community server (neo4jreal) — and the
// end-to-end suites that run the built binary against them.
package e2e
