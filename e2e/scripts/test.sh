#!/usr/bin/env bash
# test.sh runs every Go test package (unit, integration, and the contract
# suite against a real Neo4j Community server) with ONE local control plane
# shared by all packages, started here and stopped on exit. `make test`
# (e2e/scripts/ci.sh) runs it once the control plane is built.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/neo4jctl-test.XXXXXX")
go build -o "$work/testenv" ./e2e/cmd/testenv
cleanup() {
  "$work/testenv" down -dir "$work/env" || true
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
"$work/testenv" up -dir "$work/env" >"$work/env.sh"
echo "test: control plane up in $(( $(date +%s) - start ))s"
# shellcheck disable=SC1091
source "$work/env.sh"

# The contract suite must prove it really ran: missing java/mvn/Maven
# Central fail it instead of skipping (e2e/scripts/contract.sh sets the same).
export NEO4JCTL_REQUIRE_REAL_NEO4J="${NEO4JCTL_REQUIRE_REAL_NEO4J:-1}"
# -p 3: the test binaries mostly wait on the API server, the simulator and
# JVMs, so a third package keeps the two cores busy. -parallel 4: e2e/suites'
# tests (t.Parallel) each work in their own namespace against their own
# simulator or Neo4j. No test writes what every plan reads on the shared
# control plane (the `default/kubernetes` EndpointSlice: the two tests that
# move it start a control plane of their own), so packages side by side
# cannot change each other's plans (docs/ci.md).
# The longest packages first: go test starts packages in the order given,
# at most -p at once, so e2e/suites (the long pole, ≈ 8–12 min) must not
# wait for a slot behind the short ones (measured in docs/ci.md).
slow="./e2e/suites ./cmd ./e2e/neo4jreal ./drift/watch ./e2e/contract ./internal/kube ./internal/lifecycle"
rest=$(go list ./... | sed 's|^github.com/neo4jctl/neo4jctl|.|' | grep -v -x -F -e ./e2e/suites -e ./cmd -e ./e2e/neo4jreal -e ./drift/watch -e ./e2e/contract -e ./internal/kube -e ./internal/lifecycle)
rc=0
# shellcheck disable=SC2086
go test -count=1 -timeout 40m -p 3 -parallel 4 ${GOTESTFLAGS:-} $slow $rest || rc=$?

# Hold every package to that: a write to default/kubernetes on the shared
# control plane (its audit log records every request) fails the run, with
# the user agent that made it.
writes=$(grep '"objectRef":{"resource":"endpointslices","namespace":"default","name":"kubernetes"' "$work/env/audit.log" |
  grep -E '"verb":"(create|update|patch|delete)"' | grep -o '"userAgent":"[^"]*"' | sort | uniq -c || true)
if [ -n "$writes" ]; then
  echo "test: a test wrote EndpointSlice default/kubernetes on the shared control plane (every plan reads it; use testenv.Private):"
  echo "$writes"
  rc=1
fi
exit "$rc"
