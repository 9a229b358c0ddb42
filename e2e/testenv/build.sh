#!/usr/bin/env bash
# build.sh builds the test control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) from the Go module
# proxy into a cache directory outside the repository, copies the assets
# Start needs next to it (kwok's stages and CRDs, the Prometheus-operator and
# cert-manager CRDs), and skips everything that is already there. Prints the
# bin directory on its last line; progress and timings go to stderr.
#
# Why a scratch module: k8s.io/kubernetes and etcd's server carry replace
# directives, so `go install pkg@version` refuses them (see TESTENV.md).
# The versions must match the constants in binaries.go.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
K8S_STAGING=${K8S_STAGING:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# The newest prometheus-operator root-module version the module proxy serves.
PROMOP_VERSION=${PROMOP_VERSION:-v0.85.0}
CERTMANAGER_VERSION=${CERTMANAGER_VERSION:-v1.21.2}

CACHE=${NEO4JCTL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neo4jctl/testenv}
ROOT="$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
BIN="$ROOT/bin"
mkdir -p "$BIN"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
total_start=$(date +%s)

log() { printf 'testenv: %s\n' "$*" >&2; }
# modfield MODULE@VERSION FIELD -> that field of `go mod download -json`.
# Runs in $ROOT so no go.mod of the caller's tree is read or touched.
modfield() {
  (cd "$ROOT" && go mod download -json "$1") | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p"
}

# The three builds below are independent: they run side by side (one
# module's downloads overlap another's compilation), and the script waits
# for all of them.

# --- Kubernetes ------------------------------------------------------------
build_kubernetes() {
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=()
for b in "${k8s_bins[@]}"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  start=$(date +%s)
  log "building ${missing[*]} $K8S_VERSION (cold: ≈ 10 min on 2 cores)"
  src=$(modfield "k8s.io/kubernetes@$K8S_VERSION" Dir)
  [ -n "$src" ] || { log "cannot download k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  work="$ROOT/src/kubernetes"
  mkdir -p "$work"
  {
    echo "module neo4jctl.local/testenv/kubernetes"
    echo
    grep -E '^go [0-9]' "$src/go.mod"
    grep -E '^godebug ' "$src/go.mod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Every staging module k8s.io/kubernetes requires at v0.0.0 is published
    # separately at the matching v0.x tag.
    grep -E '^[[:space:]]+k8s\.io/[^ ]+ v0\.0\.0$' "$src/go.mod" | awk -v v="$K8S_STAGING" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$work" && go mod tidy)
  # Without these the binaries report v0.0.0-master from /version, and
  # kubectl warns about version skew.
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  # One go build for all of them: the packages they share compile once and
  # the links (single-threaded each) run side by side.
  log "  go build ${missing[*]}"
  pkgs=()
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  rm -rf "$BIN/k8s.tmp"
  mkdir -p "$BIN/k8s.tmp"
  (cd "$work" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$BIN/k8s.tmp/" "${pkgs[@]}")
  for b in "${missing[@]}"; do mv "$BIN/k8s.tmp/$b" "$BIN/$b"; done
  rmdir "$BIN/k8s.tmp"
  log "kubernetes built in $(( $(date +%s) - start ))s"
fi
}

# --- etcd ------------------------------------------------------------------
build_etcd() {
if [ ! -x "$BIN/etcd" ]; then
  start=$(date +%s)
  log "building etcd $ETCD_VERSION"
  work="$ROOT/src/etcd"
  mkdir -p "$work"
  cat >"$work/go.mod" <<MOD
module neo4jctl.local/testenv/etcd

go 1.26.0

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
MOD
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$work" && go mod tidy)
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "etcd built in $(( $(date +%s) - start ))s"
fi
}

# --- kwok ------------------------------------------------------------------
build_kwok() {
if [ ! -x "$BIN/kwok" ]; then
  start=$(date +%s)
  log "building kwok $KWOK_VERSION"
  (cd "$ROOT" && GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
  log "kwok built in $(( $(date +%s) - start ))s"
fi
}

build_kubernetes & k8s_pid=$!
build_etcd & etcd_pid=$!
build_kwok & kwok_pid=$!
failed=0
for p in "$k8s_pid" "$etcd_pid" "$kwok_pid"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { log "a build failed (above)"; exit 1; }
# kwok's stage definitions (kustomize/stage/{node,pod}/...) and CRDs
# (kustomize/crd/bases/*.yaml) ship in its module; keep a copy beside the
# binaries so starting needs no module lookup.
if [ ! -d "$ROOT/kwok" ]; then
  src=$(modfield "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)
  [ -d "$src/kustomize/stage/node/fast" ] && [ -d "$src/kustomize/crd/bases" ] || { log "kwok module lacks kustomize/stage or kustomize/crd/bases"; exit 1; }
  rm -rf "$ROOT/kwok.tmp"
  mkdir -p "$ROOT/kwok.tmp"
  cp -r "$src/kustomize/stage" "$ROOT/kwok.tmp/stage"
  cp -r "$src/kustomize/crd" "$ROOT/kwok.tmp/crd"
  chmod -R u+w "$ROOT/kwok.tmp"
  mv "$ROOT/kwok.tmp" "$ROOT/kwok"
fi

# --- CRDs of the kinds neo4jctl renders beyond core ---------------------------
# The real definitions, as generated by each project's controller-gen, from
# their Go module zips: prometheus-operator's example/prometheus-operator-crd
# and cert-manager's deploy/crds (plain YAML, not Helm-templated).
if [ ! -d "$ROOT/crds" ]; then
  start=$(date +%s)
  rm -rf "$ROOT/crds.tmp"
  mkdir -p "$ROOT/crds.tmp"
  src=$(modfield "github.com/prometheus-operator/prometheus-operator@$PROMOP_VERSION" Dir)
  for k in servicemonitors podmonitors prometheusrules; do
    cp "$src/example/prometheus-operator-crd/monitoring.coreos.com_$k.yaml" "$ROOT/crds.tmp/"
  done
  src=$(modfield "github.com/cert-manager/cert-manager@$CERTMANAGER_VERSION" Dir)
  for k in certificates certificaterequests issuers clusterissuers; do
    f="$src/deploy/crds/cert-manager.io_$k.yaml"
    # Refuse templated files rather than install a broken definition.
    if grep -q '{{' "$f"; then log "$f is Helm-templated: update build.sh"; exit 1; fi
    cp "$f" "$ROOT/crds.tmp/"
  done
  chmod -R u+w "$ROOT/crds.tmp"
  mv "$ROOT/crds.tmp" "$ROOT/crds"
  log "CRDs fetched in $(( $(date +%s) - start ))s"
fi

log "done in $(( $(date +%s) - total_start ))s"
echo "$BIN"
