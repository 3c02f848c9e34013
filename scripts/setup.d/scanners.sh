#!/usr/bin/env bash
# Installs the manifest scanners the security tests run (test/scanners.test.ts), each version-stamped in
# $SCALECHARTS_TOOLS (default ~/.cache/scalecharts/bin) and reused while the stamp matches:
#   kube-score  `go install` from the Go module proxy (~1-3 min cold on 2 cores);
#   checkov     PyPI, in a venv under ~/.cache/scalecharts/checkov-<version> (~1-2 min cold);
#   trivy       `go install` with GOEXPERIMENT=jsonv2 (cold build ~15+ min on 2 cores, too long for the foreground:
#               it builds in the background and writes $TOOLS/trivy.done when finished, success or not; the trivy
#               test waits for that marker, bounded by SCALECHARTS_TRIVY_WAIT seconds, default 1500).
# SCALECHARTS_TRIVY=0 skips trivy (its test then reports itself skipped, it does not pass silently).
set -euo pipefail
KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
TRIVY_VERSION="${TRIVY_VERSION:-v0.74.0}"
TOOLS="${SCALECHARTS_TOOLS:-$HOME/.cache/scalecharts/bin}"
CACHE="$(dirname "$TOOLS")"
mkdir -p "$TOOLS"
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
log() { echo "setup.d/scanners: $*"; }
stamp_ok() { [ -x "$TOOLS/$1" ] && [ "$(cat "$TOOLS/$1.version" 2>/dev/null)" = "$2" ]; }

if stamp_ok kube-score "$KUBE_SCORE_VERSION"; then log "kube-score $KUBE_SCORE_VERSION present"; else
  s=$SECONDS
  (cd /tmp && GOBIN="$TOOLS" go install -trimpath -ldflags "-s -w" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION")
  echo "$KUBE_SCORE_VERSION" > "$TOOLS/kube-score.version"
  log "built kube-score $KUBE_SCORE_VERSION in $((SECONDS - s)) s"
fi

if stamp_ok checkov "$CHECKOV_VERSION"; then log "checkov $CHECKOV_VERSION present"; else
  s=$SECONDS venv="$CACHE/checkov-$CHECKOV_VERSION"
  rm -rf "$venv"; python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  ln -sf "$venv/bin/checkov" "$TOOLS/checkov"
  echo "$CHECKOV_VERSION" > "$TOOLS/checkov.version"
  log "installed checkov $CHECKOV_VERSION in $((SECONDS - s)) s"
fi

if [ "${SCALECHARTS_TRIVY:-1}" = 0 ]; then log "trivy skipped (SCALECHARTS_TRIVY=0)";
elif stamp_ok trivy "$TRIVY_VERSION"; then log "trivy $TRIVY_VERSION present"; echo "$TRIVY_VERSION ok" > "$TOOLS/trivy.done";
elif [ -e "$TOOLS/trivy.building" ] && kill -0 "$(cat "$TOOLS/trivy.building")" 2>/dev/null; then log "trivy build already running";
else
  rm -f "$TOOLS/trivy.done"
  log "building trivy $TRIVY_VERSION in the background (log: $CACHE/trivy-build.log)"
  (
    s=$SECONDS
    if (cd /tmp && GOEXPERIMENT=jsonv2 GOBIN="$TOOLS" nice go install -p 1 -trimpath -ldflags "-s -w" "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"); then
      echo "$TRIVY_VERSION" > "$TOOLS/trivy.version"; echo "$TRIVY_VERSION ok $((SECONDS - s)) s" > "$TOOLS/trivy.done"
    else echo "$TRIVY_VERSION failed $((SECONDS - s)) s" > "$TOOLS/trivy.done"; fi
    rm -f "$TOOLS/trivy.building"
  ) > "$CACHE/trivy-build.log" 2>&1 &
  echo $! > "$TOOLS/trivy.building"
fi
