// Package observe reads both planes of one cluster into a
// healthcheck.Input, through the clients and the Neo4j connection plan
// uses: one observation for `neo4jctl healthcheck`, `status`, `report` and
// watch's health metrics, so they cannot disagree. What cannot be read is
// recorded as such: its checks are then UNKNOWN, never PASS. The checks
// themselves are the healthcheck package's, pure.
package observe
