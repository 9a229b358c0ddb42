// Package lifecycle holds the once-in-a-cluster's-life operations that are
// not a convergence to the cluster file: destroying a cluster (a plan of
// exactly what neo4jctl applied, executed in an order a rerun can finish)
// and rotating the admin password without ever locking the admin out.
// Plans here are data, rendered by internal/views; the Kubernetes and Neo4j
// clients are reached through small interfaces so the sequencing can be
// tested step by step, with a crash injected after any step.
package lifecycle
