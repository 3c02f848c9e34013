#!/usr/bin/env bash
# The whole test suite, set-up included (idempotent, quick when everything is present):
#   1. the Kubernetes control plane (scripts/setup-kube.sh: kube-apiserver, controller-manager, scheduler, etcd,
#      kwok, built from the Go module proxy) builds in the background;
#   2. meanwhile system tools (scripts/setup-tools.sh and scripts/setup.d/*.sh), type-check, strict schemas and every
#      test that needs no control plane;
#   3. then the tests under test/cluster/, which run against the real API server.
# Each step prints its wall time. Arguments are passed to vitest (both phases).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo "test.sh: $1 took $(( SECONDS - $2 )) s"; }
[ -d node_modules ] || { s=$SECONDS; npm ci --no-audit --no-fund; step "npm ci" $s; }

mkdir -p .cache
kube_log=.cache/setup-kube.log
( s=$SECONDS; bash scripts/setup-kube.sh cluster > "$kube_log" 2>&1; rc=$?; echo "rc=$rc seconds=$(( SECONDS - s ))" >> "$kube_log"; exit $rc ) &
kube_pid=$!

s=$SECONDS; bash scripts/setup-tools.sh; step "setup-tools" $s
for f in scripts/setup.d/*.sh; do [ -e "$f" ] || continue; s=$SECONDS; bash "$f"; step "$f" $s; done
GOPATH_DIR="$(go env GOPATH)"
export PATH="$GOPATH_DIR/bin:${SCALECHARTS_TOOLS:-$HOME/.cache/scalecharts/bin}:/usr/lib/postgresql/15/bin:$PATH"
s=$SECONDS; npx tsc -p tsconfig.json; step "tsc" $s
s=$SECONDS; npx tsx scripts/gen-schemas.ts; step "schemas" $s

s=$SECONDS; npx vitest run --exclude 'test/cluster/**' "$@"; step "vitest (no control plane)" $s

s=$SECONDS
if ! wait "$kube_pid"; then cat "$kube_log"; echo "test.sh: building the control plane failed"; exit 1; fi
tail -n 1 "$kube_log"; step "waiting for the control plane build" $s
if compgen -G 'test/cluster/*.test.ts' > /dev/null; then
  # A path filter, not --dir: with --dir, vitest looks for the include pattern (test/**) under test/cluster/.
  s=$SECONDS; npx vitest run test/cluster/ "$@"; step "vitest (control plane)" $s
fi
step "whole suite" $t0
