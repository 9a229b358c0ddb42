// Package pipeline is the one pipeline every command drives: load a cluster
// file, render it, observe both planes (Kubernetes through internal/kube,
// Neo4j through internal/neo4j) in parallel, and compute the plan. plan,
// apply, drift and watch differ only in what they do with the result.
//
// It owns how neo4jctl reaches Neo4j: an explicit URI, otherwise inside the
// cluster the client Service, otherwise a port-forward through the API server
// to a Pod, with an address resolver that forwards to each Pod named by the
// routing table.
package pipeline
