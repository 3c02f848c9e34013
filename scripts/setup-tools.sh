#!/usr/bin/env bash
# Installs the system programs the test suite runs for real, when they are missing:
# PostgreSQL 15 + PgBouncer, Redis + Sentinel, nginx, shellcheck, openssl (test certificates) and python3 (the
# RpcPool metrics exporter), busybox (the shell of Alpine-based images) from Debian; helm built with `go install`.
# Idempotent and quick when everything is present.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.16.4}"
GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
have pgbouncer || need_apt+=(pgbouncer)
have redis-server || need_apt+=(redis-server)
have redis-sentinel || need_apt+=(redis-sentinel)
have nginx || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
have shellcheck || need_apt+=(shellcheck)
have openssl || need_apt+=(openssl)
have python3 || need_apt+=(python3)
[ -x /usr/bin/busybox ] || need_apt+=(busybox)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-tools: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's postinst scripts would start the system services; the tests start their own on loopback.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

if ! [ -x "$GOBIN_DIR/helm" ] || ! "$GOBIN_DIR/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION}"; then
  echo "setup-tools: building helm ${HELM_VERSION} with go install"
  (cd /tmp && GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}")
fi
echo "setup-tools: ok (helm $("$GOBIN_DIR/helm" version --short))"
