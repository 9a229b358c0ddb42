#!/usr/bin/env bash
# test.sh runs every Go test package (unit and integration) against ONE
# local control plane shared by all packages, started here and stopped on
# exit. The contract suite (a real Neo4j) runs separately: `make contract`.
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

pkgs=$(go list ./... | grep -v -e '/e2e/contract' -e '/e2e/neo4jreal')
go test -count=1 -timeout 40m ${GOTESTFLAGS:-} $pkgs
