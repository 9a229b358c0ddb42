// Package healthcheck is reserved for the cluster health Report
// (Kubernetes readiness, SHOW SERVERS, SHOW DATABASES, the cluster status
// check, split-brain detection). Nothing is implemented yet: no command
// uses it.
package healthcheck
