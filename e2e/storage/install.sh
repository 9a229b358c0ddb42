#!/usr/bin/env bash
# install.sh builds or installs the storage servers the backup/blob tests talk
# to, once, into ${XDG_CACHE_HOME:-~/.cache}/neo4jctl/tools/<name>-<version>,
# and reuses them afterwards (`make storage-tools`; the Go launch helpers in
# this package call it when a server is missing).
#
#   versitygw   S3 (posix backend): conditional PUT (If-None-Match: *) on both
#               PutObject and CompleteMultipartUpload, parts spooled to disk.
#   fake-gcs-server  GCS (JSON + XML API, conditional writes via ifGenerationMatch=0).
#   azurite     Azure Blob (npm; the newest release that runs on the Node here).
#
# Usage: install.sh [versitygw|fake-gcs-server|azurite]...   (default: all)
# Prints, per tool, whether it was built or reused, the time and its size.
set -euo pipefail

VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
FAKEGCS_VERSION=${FAKEGCS_VERSION:-v1.56.1}
AZURITE_VERSION=${AZURITE_VERSION:-3.35.0}

cache=${NEO4JCTL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/neo4jctl/tools}
mkdir -p "$cache"
# One installer at a time: test binaries of two packages may both find a
# server missing and call this script together.
exec 9>"$cache/.storage-tools.lock"
flock 9

report() { # name dir start built
  local size
  size=$(du -sh "$2" 2>/dev/null | cut -f1)
  if [ "$4" = 1 ]; then
    echo "storage-tools: $1 built in $(( $(date +%s) - $3 ))s, $size at $2"
  else
    echo "storage-tools: $1 reused ($size at $2)"
  fi
}

# go_tool installs a Go main package with `go install mod@version` into its
# own cache directory: outside the project's go.mod, so the servers'
# dependencies never enter neo4jctl's module graph.
go_tool() { # name pkg version
  local dir="$cache/$1-$3" start built=0
  start=$(date +%s)
  if [ ! -x "$dir/$1" ]; then
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    GOBIN="$dir.tmp" GOFLAGS=-mod=mod GOWORK=off go install -trimpath -ldflags='-s -w' "$2@$3"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    built=1
  fi
  report "$1" "$dir" "$start" "$built"
}

azurite() {
  local dir="$cache/azurite-$AZURITE_VERSION" start built=0
  start=$(date +%s)
  if [ ! -x "$dir/node_modules/.bin/azurite-blob" ]; then
    command -v npm >/dev/null || { echo "storage-tools: npm not found (Azurite needs Node.js >= 18)" >&2; exit 1; }
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    npm install --silent --no-audit --no-fund --prefix "$dir.tmp" "azurite@$AZURITE_VERSION" >&2
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    built=1
  fi
  report azurite "$dir" "$start" "$built"
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(versitygw fake-gcs-server azurite)
for t in "${tools[@]}"; do
  case "$t" in
    versitygw) go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION" ;;
    fake-gcs-server) go_tool fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKEGCS_VERSION" ;;
    azurite) azurite ;;
    *) echo "install.sh: unknown tool $t (versitygw, fake-gcs-server, azurite)" >&2; exit 2 ;;
  esac
done
