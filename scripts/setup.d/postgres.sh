#!/usr/bin/env bash
# PostgresCluster's real-process tools: a Debian 13 (trixie) root made with debootstrap, holding the versions the
# shipped images carry (PostgreSQL 17, PgBouncer 1.24.1, Patroni 4.0.x, etcd 3.5). The host is Debian 12, whose
# packages are older (PG 15, PgBouncer 1.18); installing trixie packages on it would pull a newer libc, so the tests
# run these programs with `chroot "$ROOT" ...` (loopback networking is shared with the host).
# Idempotent: a stamp file records the versions; a second run with the stamp present only checks it.
set -euo pipefail
ROOT="${SCALECHARTS_TRIXIE:-$HOME/.cache/scalecharts/trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
STAMP="$ROOT/.scalecharts-stamp"
# The upstream versions the tests and the shipped images agree on (docs/postgres.md, "Images").
WANT_PG=17 WANT_PGBOUNCER=1.24.1 WANT_PATRONI=4.0
# Bump when PKGS changes, so an existing root gets the new packages.
PKGS_REVISION=2
PKGS=(postgresql-17 pgbouncer patroni python3-etcd etcd-server etcd-client procps iproute2 curl)
t0=$SECONDS

# The Python clients the pooler test drives (psycopg 3 and asyncpg with their default settings), from PyPI.
VENV="${SCALECHARTS_PYCLIENTS:-$HOME/.cache/scalecharts/pyclients}"
PY_PKGS=("psycopg[binary]==3.3.9" "asyncpg==0.32.0")
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "${PY_PKGS[*]}" ]; then
  rm -rf "$VENV"; python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PKGS[@]}"
  echo "${PY_PKGS[*]}" > "$VENV/.stamp"
  echo "setup.d/postgres: python clients ${PY_PKGS[*]} in $VENV"
fi

if [ -f "$STAMP" ] && [ -L "$ROOT$ROOT" ] && mountpoint -q "$ROOT/proc" && grep -q "^pgbouncer=$WANT_PGBOUNCER" "$STAMP" && grep -q "^postgres=$WANT_PG\." "$STAMP" \
   && grep -q "^patroni=$WANT_PATRONI\." "$STAMP" && grep -q "^revision=$PKGS_REVISION$" "$STAMP"; then
  echo "setup.d/postgres: ok ($(tr '\n' ' ' < "$STAMP")) in $ROOT ($(( SECONDS - t0 )) s)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "setup.d/postgres: needs root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  rm -rf "$ROOT"; mkdir -p "$(dirname "$ROOT")"
  echo "setup.d/postgres: debootstrap trixie into $ROOT"
  debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" > "$ROOT.debootstrap.log" 2>&1 \
    || { tail -30 "$ROOT.debootstrap.log"; exit 1; }
fi
# No services start inside the root, and Debian's postgresql-common must not create a "main" cluster: the tests
# create their own data directories with our bootstrap scripts.
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/etc/postgresql-common"
echo 'create_main_cluster = false' > "$ROOT/etc/postgresql-common/createcluster.conf"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null

# Inside the root, the root's own host path leads back to "/": a file the tests write at $ROOT/tmp/x on the host
# has the same path inside the chroot, so paths need no translation.
mkdir -p "$ROOT$(dirname "$ROOT")"; ln -sfn / "$ROOT$ROOT"
# Postgres' dynamic shared memory lives in /dev/shm (a plain world-writable directory is enough); Patroni reads
# processes through /proc (psutil), mounted once per boot.
mkdir -p "$ROOT/dev/shm"; chmod 1777 "$ROOT/dev/shm"
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
# The root's postgres user must traverse that path (the root's /root is 0700).
d="$(dirname "$ROOT")"; while [ "$d" != / ]; do chmod go+x "$ROOT$d"; d="$(dirname "$d")"; done

pg=$(chroot "$ROOT" /usr/lib/postgresql/17/bin/postgres --version | awk '{print $3}')
pgb=$(chroot "$ROOT" pgbouncer --version | awk 'NR==1{print $2}')
pat=$(chroot "$ROOT" patroni --version | awk '{print $2}')
etcd=$(chroot "$ROOT" etcd --version | awk '/etcd Version/{print $3}')
[ "$pgb" = "$WANT_PGBOUNCER" ] || { echo "setup.d/postgres: pgbouncer $pgb, want $WANT_PGBOUNCER"; exit 1; }
case "$pg" in "$WANT_PG".*) ;; *) echo "setup.d/postgres: postgres $pg, want $WANT_PG.x"; exit 1;; esac
printf 'postgres=%s\npgbouncer=%s\npatroni=%s\netcd=%s\nrevision=%s\n' "$pg" "$pgb" "$pat" "$etcd" "$PKGS_REVISION" > "$STAMP"
echo "setup.d/postgres: installed postgres $pg, pgbouncer $pgb, patroni $pat, etcd $etcd in $(( SECONDS - t0 )) s"
