// Package state holds the plain observed-state types that the adapters
// (internal/kube, internal/neo4j) produce and that plan, drift and
// healthcheck consume. It imports no client library, so the pure layers can be
// tested with values built by hand.
package state
