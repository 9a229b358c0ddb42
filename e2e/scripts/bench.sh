#!/usr/bin/env bash
# bench.sh — `make bench`: measures the built neo4jctl against kubectl on a
# local control plane and writes docs/benchmarks.md. Never part of
# `make test` or CI: the figures depend on the machine and take minutes.
#
# Environment: NEO4JCTL (binary, default bin/neo4jctl), KUBECTL (default:
# the stock kubectl of the API server's version that e2e/testenv builds
# beside the control plane — never the kubectl on PATH, which on these
# machines is a version-dispatching wrapper of an older one), RUNS (runs per figure,
# default 7), FLEET (largest fleet, default 50), FLEET_APPLY_RUNS (fresh
# control planes per tool for the fleet apply, default 3), BENCH_NOTE (a line under
# the healthcheck/status heading, e.g. that the machine was loaded),
# HEALTH_ONLY=1 (measure only healthcheck and status, issue 13, and replace
# that section, keeping every other figure), and
# NEO4JCTL_TESTENV_KUBECONFIG to reuse a running control plane.
set -euo pipefail
cd "$(dirname "$0")/../.."

NEO4JCTL=${NEO4JCTL:-bin/neo4jctl}
# Absolute: `go test ./e2e/suites` below runs in e2e/suites, where
# bin/neo4jctl is not (the verify and agent benchmarks failed to start it).
[[ $NEO4JCTL == /* ]] || NEO4JCTL=$PWD/$NEO4JCTL
KUBECTL=${KUBECTL:-}
if [[ ! -x $NEO4JCTL ]]; then
	echo "bench.sh: $NEO4JCTL missing: run make build" >&2
	exit 1
fi

go build -o "${TMPDIR:-/tmp}/neo4jctl-bench" ./e2e/bench
if [[ ${HEALTH_ONLY:-} == 1 ]]; then
	"${TMPDIR:-/tmp}/neo4jctl-bench" -neo4jctl "$NEO4JCTL" -kubectl "$KUBECTL" \
		-runs "${RUNS:-7}" -health-only -note "${BENCH_NOTE:-}" -out docs/benchmarks.md
	echo "bench.sh: replaced the healthcheck/status section of docs/benchmarks.md"
	exit 0
fi
"${TMPDIR:-/tmp}/neo4jctl-bench" -neo4jctl "$NEO4JCTL" -kubectl "$KUBECTL" \
	-runs "${RUNS:-7}" -fleet "${FLEET:-50}" -fleet-apply-runs "${FLEET_APPLY_RUNS:-3}" -note "${BENCH_NOTE:-}" -out docs/benchmarks.md

# watch's figures come from its integration tests, which log them (never
# assert them) while watch runs as a process with its ServiceAccount's token.
watch_tests='TestWatchWarnThenEnforce|TestWatchIdleThroughPortForward|TestWatchLeaderElection|TestMeasureWatchRSS'
log=$(NEO4JCTL_WATCH_MEASURE=1 go test -count=1 -v -run "$watch_tests" ./drift/watch 2>&1) || {
	echo "$log" >&2
	exit 1
}
{
	echo
	echo "## watch"
	echo
	echo "Measured by \`NEO4JCTL_WATCH_MEASURE=1 go test -v -run '$watch_tests' ./drift/watch\` (one run each; the binary built as released, stripped and static). Goals: out-of-band edit → drift reported ≤ 2 s; enforce mode reverts it ≤ 5 s; an idle watch makes 0 Kubernetes requests per minute beyond its watches and Lease renewals; resident memory watching 10 clusters ≤ 60 MiB. The idle figure \"through a port-forward\" and the memory figure are taken as users run watch outside the cluster (Neo4j read through port-forwards to the Pods, no test-only flag); the plain \"idle\" line comes from the warn/enforce test, which reaches the simulator through a test-only address map."
	echo
	echo "$log" | grep -E 'warn: edit|enforce: edit|idle:|idle through a port-forward|handover|watch of 10 clusters.*: Vm(RSS|HWM)' | sed -E 's/^ *[a-z_]+\.go:[0-9]+: /- /'
} >>docs/benchmarks.md
# The backup agent (issue 14): encrypt+upload of a 1 GiB artifact against an
# unencrypted upload of the same file to the same versitygw, and the agent's
# peak RSS, logged (never asserted) by a test that runs the binary.
log=$(NEO4JCTL_E2E_BINARY="$NEO4JCTL" NEO4JCTL_BACKUP_BENCH=1 go test -count=1 -v -run TestMeasureBackupAgent ./e2e/suites 2>&1) || {
	echo "$log" >&2
	exit 1
}
{
	echo
	echo "## backup agent"
	echo
	echo "Measured by \`NEO4JCTL_BACKUP_BENCH=1 go test -v -run TestMeasureBackupAgent ./e2e/suites\` (rounds interleaved, medians; the method is its first line below). Goals: encryption costs ≤ 15 % of the wall time; peak RSS ≤ 64 MiB whatever the size."
	echo
	echo "$log" | grep -E 'backup agent:' | sed -E 's/^ *[a-z_]+\.go:[0-9]+: /- /'
} >>docs/benchmarks.md
# backup verify against a hand-run load + check (issue 16): its own script.
NEO4JCTL="$NEO4JCTL" e2e/scripts/bench-verify.sh
echo "bench.sh: wrote docs/benchmarks.md"
