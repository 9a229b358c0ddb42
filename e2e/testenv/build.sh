#!/usr/bin/env bash
# build.sh builds the test control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) from the Go module
# proxy into a cache directory outside the repository, and skips every binary
# that is already there. Prints the bin directory on its last line.
#
# Why a scratch module: k8s.io/kubernetes and etcd's server carry replace
# directives, so `go install pkg@version` refuses them (see TESTENV.md).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
K8S_STAGING=${K8S_STAGING:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}

CACHE=${NEO4JCTL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neo4jctl/testenv}
ROOT="$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
BIN="$ROOT/bin"
mkdir -p "$BIN"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf 'testenv: %s\n' "$*" >&2; }
modfield() { # modfield MODULE@VERSION FIELD -> the field of `go mod download -json`
  go mod download -json "$1" | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p"
}

# --- Kubernetes ------------------------------------------------------------
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=()
for b in "${k8s_bins[@]}"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  start=$(date +%s)
  log "building ${missing[*]} $K8S_VERSION (cold: ~6 min on 2 cores)"
  src=$(modfield "k8s.io/kubernetes@$K8S_VERSION" Dir)
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
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && go mod tidy)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=${K8S_VERSION#v1.}"
    ldflags="${ldflags%.*}"   # gitMinor is the minor number only
    ldflags="$ldflags -X $p.gitTreeState=clean"
  done
  for b in "${missing[@]}"; do
    log "  go build $b"
    (cd "$work" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$BIN/$b.tmp" "$BIN/$b"
  done
  log "kubernetes built in $(( $(date +%s) - start ))s"
fi

# --- etcd ------------------------------------------------------------------
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

# --- kwok ------------------------------------------------------------------
if [ ! -x "$BIN/kwok" ]; then
  start=$(date +%s)
  log "building kwok $KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  log "kwok built in $(( $(date +%s) - start ))s"
fi
# kwok's stage definitions and CRDs ship in its module; keep a copy beside the
# binaries so starting needs no module lookup.
if [ ! -d "$ROOT/kwok" ]; then
  src=$(modfield "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)
  mkdir -p "$ROOT/kwok.tmp"
  cp -r "$src/kustomize/stage" "$ROOT/kwok.tmp/stage"
  cp -r "$src/kustomize/crd" "$ROOT/kwok.tmp/crd" 2>/dev/null || true
  chmod -R u+w "$ROOT/kwok.tmp"
  mv "$ROOT/kwok.tmp" "$ROOT/kwok"
fi

echo "$BIN"
