// Package watch is neo4jctl's reconcile loop: `neo4jctl watch`. It keeps
// informers on the objects neo4jctl renders and, when one of them changes
// (debounced), observes again only the objects whose normalised state moved,
// so an idle watch sends the API server nothing but its open watches and
// Lease renewals. The Neo4j plane, which cannot be watched, is polled on a
// jittered interval through a circuit breaker per cluster.
//
// In warn mode a Watcher reports drift (Kubernetes Events, Prometheus
// metrics, an event stream); in enforce mode it also applies the plan
// through apply.Executor under the same Lease lock as `neo4jctl apply`,
// minus every irreversible or data-losing step, which waits for a person.
// Several replicas elect a leader with a Lease; only the leader reconciles.
package watch
