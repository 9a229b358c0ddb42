// Package drill is the measuring half of `neo4jctl dr drill`: which backup
// a drill restores (the newest restorable backup whose last verification
// passed), the recovery point the catalogue offers now (RPO: the age of
// the newest restorable point of each database), the recovery time a
// drill achieved (RTO: wall time from its start to healthy), and the
// verdict against spec.backups.objectives. A Report is data; Render
// writes it as text, JSON or markdown (render.go only renders); the
// command decides the exit code (3 when an objective is missed). Record
// turns an evaluated report into the catalogue's drill record
// (backup/catalog drill.go), which status, healthcheck and watch read;
// CheckCertificateNames checks that a copied TLS certificate covers the
// scratch namespace's server names.
//
// Every step of a report says whether it was simulated (on a control plane
// whose Pods kwok completes, or a Neo4j that is the simulator), so a drill
// run in a test can never pass for one run against a real cluster.
package drill
