// Package suites holds the end-to-end tests of the built neo4jctl binary:
// it is run as a user runs it — a subprocess with flags, a kubeconfig and
// exit codes — against the real test control plane (e2e/testenv) and the
// Bolt simulator following the cluster's Pods (e2e/harness), and its
// output is checked against independent witnesses: the real kubectl binary
// (kubectl diff), the API server's audit log and the simulator's statement
// log. Nothing here calls neo4jctl's packages in-process, so the tests see
// exactly what the binary a user downloads does.
//
// TestMain builds the binary once (or uses NEO4JCTL_E2E_BINARY). Every
// test is skipped under -short. Each test works in its own namespace of a
// shared control plane, except those that restart the API server, which
// start their own so they do not disturb other packages.
//
// Speed is not asserted here; it is measured by e2e/scripts/bench.sh.
package suites
