// Package helmimport turns clusters installed by the official Neo4j Helm
// chart into a neo4jctl cluster file (`neo4jctl import`).
//
// It reads what Helm recorded (the release Secrets
// sh.helm.release.v1.<release>.v<N>, decoded here without the Helm library:
// base64, gzip and JSON), what lives in the namespace (the StatefulSets the
// chart rendered) and, when reachable, what Neo4j itself reports (SHOW
// SERVERS / SHOW DATABASES / SHOW SETTINGS), and writes the cluster file
// that describes it. Every chart value a user set is either translated, or
// refused with its name: nothing is dropped silently. Values the chart sets
// on its own that neo4jctl has no field for are written as YAML comments.
//
// The package is pure apart from its Source interface, which internal/kube
// implements; it never talks to a server itself.
package helmimport
