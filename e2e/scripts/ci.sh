#!/usr/bin/env bash
# ci.sh is `make test`: every check CI runs, ordered for a fresh 2-core
# machine (docs/ci.md has the measured timeline and the reasons).
#
# Nothing can be tested before the test control plane is built (≈ 9 min
# cold, 0 s cached), so that build is the critical path:
#   1. it runs at normal priority while the tools some tests need (the
#      storage servers, helm) and the test binaries build beside it under
#      nice, so that work only takes what the control plane's build leaves
#      idle;
#   2. the tests start as soon as the control plane is built — every package,
#      the real-Neo4j contract suite among them — while the tools finish
#      (a test that needs one first waits on the same lock its build holds)
#      and go vet, `make build` and the fuzz run go on beside them under
#      nice: the tests mostly wait on servers and leave a core idle;
#   3. the background jobs' output is printed and fails the run like a test.
# goreleaser is not built here: e2e/release checks .goreleaser.yaml against
# the pinned release's schema, and runs `goreleaser check` itself where it
# is built (`make release-check`).
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

# One build configuration for everything compiled from this module: the
# test binaries, go vet, `make build` and the binaries the end-to-end tests
# build (the released configuration: static, -trimpath). With the defaults
# (cgo on, full paths) the tests compiled the whole dependency tree a
# second time beside the binaries' build (≈ 400 CPU-seconds, docs/ci.md).
# The control plane's build sets its own.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath"

bg testenv 0 e2e/testenv/build.sh
# Then, still under nice, every test binary compiled and not run
# (`-exec true`): the fresh run spent minutes compiling them after the
# control plane was up; this fills the build cache while the control
# plane's single-threaded links leave a core idle. A compile error here is
# reported by the real run.
bg tools 10 bash -c "e2e/storage/install.sh && $MAKE helm && { go test -count=1 -exec true ./... >/dev/null 2>&1 || true; }"
join testenv || exit 1

bg checks 15 bash -c "go vet ./... && $MAKE build && $MAKE fuzz"
rc=0
e2e/scripts/test.sh || rc=$?
say "tests finished (exit $rc)"
join tools || rc=1
join checks || rc=1
say "done (exit $rc)"
exit "$rc"
