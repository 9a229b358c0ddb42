// Package backup is reserved for taking, listing, verifying, pruning and
// restoring Neo4j backups through one blob-storage abstraction, using the
// same Kubernetes and Neo4j clients as the rest of neo4jctl. Nothing is
// implemented yet: no command uses it.
package backup
