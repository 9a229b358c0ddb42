#!/usr/bin/env bash
# ci.sh is `make test`: every check CI runs, ordered for a fresh 2-core
# machine (docs/ci.md has the measured timeline and the reasons).
#
# Nothing can be tested before the test control plane is built (≈ 9 min
# cold, 0 s cached), so that build is the critical path:
#   1. it runs at normal priority while what the tests also need (the
#      storage servers, bin/neo4jctl, helm) builds beside it under nice, so
#      that work only takes what the control plane's build leaves idle
#      (its links are single-threaded; module downloads wait on the network);
#   2. the tests run, then the contract suite against a real Neo4j, then go
#      vet, the fuzz run and goreleaser's check, one after another (run
#      beside the tests, the load came with failures: docs/ci.md).
# With everything cached, each build step finds its output and returns at
# once, so the order costs nothing on a warm machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
logs=$(mktemp -d "${TMPDIR:-/tmp}/neo4jctl-ci.XXXXXX")
trap 'rm -rf "$logs"' EXIT
t0=$(date +%s)
say() { echo "ci: +$(( $(date +%s) - t0 ))s $*"; }

declare -A pid
# bg NAME NICENESS CMD... runs CMD in the background, its output kept in a
# log that join prints.
bg() {
  local name=$1 n=$2
  shift 2
  say "start $name (nice $n): $*"
  nice -n "$n" "$@" >"$logs/$name.log" 2>&1 &
  pid[$name]=$!
}
# join NAME waits for a background job, prints its log and returns its status.
join() {
  local rc=0
  wait "${pid[$1]}" || rc=$?
  say "$1 finished (exit $rc)"
  sed "s/^/  $1| /" "$logs/$1.log"
  return "$rc"
}

say "$(go version), $(nproc) cores"
# gofmt first: it needs no compilation and fails fast.
out=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$out" ]; then
  echo "gofmt needed:"
  echo "$out"
  exit 1
fi

bg testenv 0 e2e/testenv/build.sh
bg tools 10 bash -c "e2e/storage/install.sh && $MAKE build && $MAKE helm"
failed=0
join testenv || failed=1
join tools || failed=1
[ "$failed" = 0 ] || exit 1

# The tests, then the contract suite and the checks, one after another:
# beside the tests, the load came with NetworkPolicy renders that fell back
# from the API server's EndpointSlice (docs/ci.md), so they no longer overlap.
rc=0
e2e/scripts/test.sh || rc=$?
say "tests finished (exit $rc)"
if [ "$rc" = 0 ]; then
  e2e/scripts/contract.sh || rc=$?
  say "contract suite finished (exit $rc)"
fi
if [ "$rc" = 0 ]; then
  { go vet ./... && $MAKE fuzz && $MAKE release-check; } || rc=$?
fi
say "done (exit $rc)"
exit "$rc"
