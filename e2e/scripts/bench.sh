#!/usr/bin/env bash
# bench.sh — `make bench`: measures the built neo4jctl against kubectl on a
# local control plane and writes docs/benchmarks.md. Never part of
# `make test` or CI: the figures depend on the machine and take minutes.
#
# Environment: NEO4JCTL (binary, default bin/neo4jctl), KUBECTL (default
# /usr/bin/kubectl, the kubectl users have), RUNS (runs per figure,
# default 7), FLEET (largest fleet, default 50), and
# NEO4JCTL_TESTENV_KUBECONFIG to reuse a running control plane.
set -euo pipefail
cd "$(dirname "$0")/../.."

NEO4JCTL=${NEO4JCTL:-bin/neo4jctl}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
if [[ ! -x $KUBECTL ]]; then
	KUBECTL=$(command -v kubectl)
fi
if [[ ! -x $NEO4JCTL ]]; then
	echo "bench.sh: $NEO4JCTL missing: run make build" >&2
	exit 1
fi

go build -o "${TMPDIR:-/tmp}/neo4jctl-bench" ./e2e/bench
exec "${TMPDIR:-/tmp}/neo4jctl-bench" -neo4jctl "$NEO4JCTL" -kubectl "$KUBECTL" \
	-runs "${RUNS:-7}" -fleet "${FLEET:-50}" -out docs/benchmarks.md
