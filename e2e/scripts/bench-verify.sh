#!/usr/bin/env bash
# bench-verify.sh — the `backup verify` section of docs/benchmarks.md
# (issue 16's speed goal), appended by bench.sh. A test logs the figures
# (never asserts them) while the built binary verifies a real dump written
# through Bolt into a real Neo4j Community 5.26; this copies its line.
#
# Environment: NEO4JCTL (binary), VERIFY_MB (dump size, default 100),
# VERIFY_RUNS (alternating runs, default 3), BENCH_NOTE (e.g. that the
# machine was loaded).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Absolute: go test runs in e2e/suites, where bin/neo4jctl is not.
bin=${NEO4JCTL:-bin/neo4jctl}
[[ $bin == /* ]] || bin=$PWD/$bin
log=$(NEO4JCTL_E2E_BINARY="$bin" NEO4JCTL_VERIFY_BENCH=1 \
	NEO4JCTL_VERIFY_BENCH_MB="${VERIFY_MB:-100}" NEO4JCTL_VERIFY_BENCH_RUNS="${VERIFY_RUNS:-3}" \
	go test -count=1 -timeout 90m -v -run TestMeasureBackupVerify ./e2e/suites 2>&1) || {
	echo "$log" >&2
	exit 1
}
{
	echo
	echo "## backup verify"
	echo
	echo "Measured by \`NEO4JCTL_VERIFY_BENCH=1 go test -v -run TestMeasureBackupVerify ./e2e/suites\`: \`neo4jctl backup verify --latest --local\` of a real Neo4j Community 5.26 dump (random strings written through Bolt, dumped by the real neo4j-admin, stored encrypted by the agent in a \`file://\` bucket) against the same neo4j-admin's \`database load\` + \`database check\` of the same dump by hand, runs alternating. Goal: neo4jctl's overhead (its start, the catalogue, download + decrypt + digests, the record) ≤ 20 %.${BENCH_NOTE:+ $BENCH_NOTE}"
	echo
	echo "$log" | grep -E 'backup verify:|wrote [0-9]+ nodes' | sed -E 's/^ *[a-z_]+\.go:[0-9]+: /- /'
} >>docs/benchmarks.md
