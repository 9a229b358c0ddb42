// Package healthcheck answers "is this cluster healthy, and if not, what
// exactly is wrong": Compute turns one observation of both planes (Pods,
// claims, PodDisruptionBudget, StatefulSet rollout and Warning events from
// Kubernetes; SHOW SERVERS, SHOW DATABASES and dbms.cluster.statusCheck from
// Neo4j) into a Report of named checks, each PASS, WARN, FAIL, UNKNOWN (could
// not run) or SKIP (does not apply), with its evidence and the fix.
//
// It is pure: the command reads the planes through internal/kube and
// internal/neo4j and hands the result in, so every check is tested with
// values built by hand. It reports; it never acts, not even on a
// split-brain.
package healthcheck
