#!/usr/bin/env bash
# helm.sh builds the helm CLI from the Go module proxy at a pinned release
# into OUT (default ~/.cache/neo4jctl/tools/helm-$HELM_VERSION), once: the
# import tests install the official Neo4j chart with it. It builds in a
# scratch module in a temporary directory so the Helm library never enters
# the project's go.mod (neo4jctl decodes release Secrets itself).
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.21.4}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/neo4jctl
out=${1:-$cache/tools/helm-$HELM_VERSION}
if [ -x "$out" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
# One build at a time: ci.sh builds helm while the tests already run, and
# a test that needs helm first (helmtool.Path) calls this script too; the
# second caller waits here and then finds the binary.
exec 9>"$out.lock"
flock 9
if [ -x "$out" ]; then
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/neo4jctl-helm.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
cd "$work"
export GOWORK=off
go mod init neo4jctl.local/helmbuild >/dev/null 2>&1
GOFLAGS=-mod=mod go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null
# The version stamp is what `helm version` prints and what charts see as
# .Capabilities.HelmVersion; Helm's own Makefile sets it the same way.
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  -o "$work/helm" helm.sh/helm/v3/cmd/helm
mv "$work/helm" "$out"
echo "helm: built $HELM_VERSION into $out in $(( $(date +%s) - start ))s" >&2
