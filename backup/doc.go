// Package backup takes, lists, verifies, prunes and restores Neo4j backups
// through one blob-storage abstraction, using the same Kubernetes and Neo4j
// clients as the rest of neo4jctl.
package backup
