// Package testenv runs a real Kubernetes control plane on 127.0.0.1 for
// integration tests: etcd, kube-apiserver (RBAC, audit log),
// kube-controller-manager (with the host-path volume provisioner),
// kube-scheduler and kwok, whose fake Nodes report Pods Ready and serve
// port-forwards to local listeners. The binaries are built from the Go
// module proxy by build.sh, next to this file, into a cache directory.
//
// Tests use Shared (one environment per test process, or the one named by
// NEO4JCTL_TESTENV_KUBECONFIG) and Namespace; packages call Main from
// TestMain. docs/testenv.md has the versions, commands and timings.
package testenv
