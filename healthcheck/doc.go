// Package healthcheck builds a health Report of a cluster from Kubernetes
// readiness and the Neo4j plane (SHOW SERVERS, SHOW DATABASES, the cluster
// status check, split-brain detection).
package healthcheck
