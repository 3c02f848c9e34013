#!/usr/bin/env bash
# Installs the system programs the test suite runs for real, when they are missing:
# PostgreSQL 15 + PgBouncer, Redis + Sentinel, nginx, shellcheck, openssl (test certificates) and python3 (the
# RpcPool metrics exporter), busybox (the shell of Alpine-based images) from Debian; helm built with `go install`.
# Idempotent and quick when everything is present. Tools of one area go in scripts/setup.d/<area>.sh (run after this).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.16.4}"
GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
have pgbouncer || need_apt+=(pgbouncer)
have redis-server || need_apt+=(redis-server)
have redis-sentinel || need_apt+=(redis-sentinel)
have nginx || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
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

# Built with the ldflags of helm's own release Makefile: without them `helm version` says "v3.16" and helm assumes
# Kubernetes 1.20, which fails our charts' `kubeVersion: >=1.28.0-0` in `helm template` / `helm lint`.
HELM_K8S_MINOR="${HELM_K8S_MINOR:-31}" # helm v3.16 is built against k8s.io/client-go v0.31
if ! [ -x "$GOBIN_DIR/helm" ] || [ "$("$GOBIN_DIR/helm" version --template '{{.Version}}' 2>/dev/null)" != "$HELM_VERSION" ]; then
  echo "setup-tools: building helm ${HELM_VERSION} with go install"
  ldflags="-w -s -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${HELM_K8S_MINOR}"
  done
  (cd /tmp && GOFLAGS=-mod=mod go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}")
fi
echo "setup-tools: ok (helm $("$GOBIN_DIR/helm" version --short))"
