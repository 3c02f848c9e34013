#!/usr/bin/env bash
# Builds the real Kubernetes control plane the tests run on loopback, from the Go module proxy:
#   kube-apiserver (+ kube-controller-manager, kube-scheduler) v1.34.4, etcd 3.6 and kwok (fake nodes).
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging modules with local folders), so the
# module is copied, the replaces are dropped and the published staging modules required instead.
# Binaries land in $SCALECHARTS_TOOLS (default ~/.cache/scalecharts/bin) and are reused while their version matches.
# Usage: setup-kube.sh [apiserver|cluster]   (cluster = apiserver + controller-manager + scheduler + kwok)
set -euo pipefail
what="${1:-cluster}"
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.4}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
TOOLS="${SCALECHARTS_TOOLS:-$HOME/.cache/scalecharts/bin}"
mkdir -p "$TOOLS"
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
log() { echo "setup-kube: $*"; }

stamp_ok() { [ -x "$TOOLS/$1" ] && [ "$(cat "$TOOLS/$1.version" 2>/dev/null)" = "$2" ]; }

build_kube() {
  local cmds=(kube-apiserver)
  [ "$what" = cluster ] && cmds+=(kube-controller-manager kube-scheduler)
  local missing=()
  for c in "${cmds[@]}"; do stamp_ok "$c" "$K8S_VERSION" || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && { log "${cmds[*]} $K8S_VERSION present"; return; }
  local start=$SECONDS src minor
  src="$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')"
  local work="${TMPDIR:-/tmp}/scalecharts-k8s-$K8S_VERSION"
  rm -rf "$work"; cp -r "$src" "$work"; chmod -R u+w "$work"
  cd "$work"
  rm -rf vendor go.work go.work.sum
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local staging="v0.${K8S_VERSION#v1.}"
  # Drop every replace and require the published staging modules at the matching v0 version.
  go mod edit -json | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      const m=JSON.parse(s); const out=[];
      for (const r of m.Replace||[]) out.push("-dropreplace="+r.Old.Path);
      for (const r of m.Require||[]) if (r.Path.startsWith("k8s.io/") && r.Version==="v0.0.0") out.push("-require="+r.Path+"@'"$staging"'");
      console.log(out.join("\n"));})' | xargs go mod edit
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  local pkgs=(); for c in "${missing[@]}"; do pkgs+=("./cmd/$c"); done
  log "building ${missing[*]} $K8S_VERSION (cold: ~15 min on 2 cores)"
  go build -p 2 -trimpath -ldflags "$ld" -o "$TOOLS/" "${pkgs[@]}"
  for c in "${missing[@]}"; do echo "$K8S_VERSION" > "$TOOLS/$c.version"; done
  cd /; rm -rf "$work"
  log "built ${missing[*]} in $((SECONDS - start)) s"
}

build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && { log "etcd $ETCD_VERSION present"; return; }
  local start=$SECONDS d="${TMPDIR:-/tmp}/scalecharts-etcd"
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  cat > main.go <<'GO'
// etcd server entry point: the released etcd binary is the same call.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod init scalecharts.local/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -trimpath -ldflags "-s -w" -o "$TOOLS/etcd" .
  echo "$ETCD_VERSION" > "$TOOLS/etcd.version"
  cd /; rm -rf "$d"
  log "built etcd $ETCD_VERSION in $((SECONDS - start)) s"
}

build_kwok() {
  stamp_ok kwok "$KWOK_VERSION" && { log "kwok $KWOK_VERSION present"; return; }
  local start=$SECONDS
  (cd /tmp && GOBIN="$TOOLS" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
  echo "$KWOK_VERSION" > "$TOOLS/kwok.version"
  log "built kwok $KWOK_VERSION in $((SECONDS - start)) s"
}

build_etcd
build_kube
[ "$what" = cluster ] && build_kwok
log "ok ($TOOLS)"
