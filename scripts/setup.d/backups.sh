#!/usr/bin/env bash
# PostgresCluster backups (issue 16), the tools test/postgres-backup.test.ts runs:
#  - pgBackRest 2.55.1 from Debian 13 (trixie), installed into the trixie root of scripts/setup.d/postgres.sh next to
#    PostgreSQL 17 and Patroni (the version the backup-enabled member image carries: docs/postgres.md, "Backups and
#    recovery");
#  - versitygw, a real S3 server (Versity's S3 gateway over a POSIX directory, Apache-2.0) from the Go module proxy,
#    built once into ~/.cache/scalecharts/bin with a version stamp. Smaller than SeaweedFS and MinIO: one binary, no
#    cluster, the S3 API pgBackRest speaks (signature v4, multipart uploads, TLS).
# Idempotent: skips what the stamps say is present. Prints how long it took.
set -euo pipefail
t0=$SECONDS
WANT_PGBACKREST=2.55.1
VERSITYGW=v1.8.0
ROOT="${SCALECHARTS_TRIXIE:-$HOME/.cache/scalecharts/trixie}"
BIN="${SCALECHARTS_TOOLS:-$HOME/.cache/scalecharts/bin}"
here="$(cd "$(dirname "$0")" && pwd)"

# The trixie root first (its own script is a no-op when present; setup.d runs in name order, this file sorts first).
bash "$here/postgres.sh" >/dev/null

have="$(chroot "$ROOT" pgbackrest version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$WANT_PGBACKREST" ]; then
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbackrest >/dev/null
  have="$(chroot "$ROOT" pgbackrest version | awk '{print $2}')"
  [ "$have" = "$WANT_PGBACKREST" ] || { echo "setup.d/backups: trixie has pgBackRest $have, want $WANT_PGBACKREST" >&2; exit 1; }
  echo "setup.d/backups: installed pgBackRest $have into $ROOT"
fi

if [ ! -x "$BIN/versitygw" ] || [ "$(cat "$BIN/versitygw.version" 2>/dev/null)" != "$VERSITYGW" ]; then
  s=$SECONDS
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Pure Go: no cgo libraries needed; nice, because the machine's other builds share its two cores.
  GOBIN="$work" CGO_ENABLED=0 GOFLAGS=-trimpath nice go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW"
  mkdir -p "$BIN"
  mv "$work/versitygw" "$BIN/versitygw.new" && mv "$BIN/versitygw.new" "$BIN/versitygw"
  echo "$VERSITYGW" > "$BIN/versitygw.version"
  echo "setup.d/backups: built versitygw $VERSITYGW in $(( SECONDS - s )) s"
fi
echo "setup.d/backups: ok (pgBackRest $have in $ROOT, versitygw $(cat "$BIN/versitygw.version")) ($(( SECONDS - t0 )) s)"
