// Package apply executes a plan.Plan: the plan's ordered steps exactly as
// computed, under a Lease lock, with retries for transient errors and waits
// for Kubernetes rollout and Neo4j convergence. Progress reaches the user
// through a Hook, never by printing.
package apply
