#!/bin/bash
# Kubernetes probes of the postgres container (exec probes; they see the container's environment).
#   probe.sh liveness   fails only when the postmaster is really gone: pg_isready exit 2 (no response) or 3 (no
#                       attempt). Exit 1, "rejecting connections", is a postmaster that is starting, replaying WAL
#                       after a crash or shutting down: alive, and killing it would restart crash recovery.
#                       Also the startup probe: it passes as soon as the postmaster answers at all.
#   probe.sh readiness  accepts connections, and the replication state fits the pod's role: a primary is out of
#                       recovery; a replica is in recovery with its WAL receiver streaming from the primary.
#
# Environment: PG_ROLE (primary | replica), PG_SOCKET_DIR, PG_PORT. Connects over the Unix socket as the
# `postgres` OS user (peer authentication, pg_hba.conf): no password.
set -uo pipefail

: "${PG_ROLE:?}" "${PG_SOCKET_DIR:?}" "${PG_PORT:?}"
mode="${1:-}"

pg_isready --quiet --host="$PG_SOCKET_DIR" --port="$PG_PORT" --timeout=3
ready=$?

case "$mode" in
  liveness)
    [ "$ready" -le 1 ] && exit 0
    echo "probe: postmaster not answering on $PG_SOCKET_DIR port $PG_PORT (pg_isready exit $ready)"
    exit 1
    ;;
  readiness)
    [ "$ready" -eq 0 ] || { echo "probe: not accepting connections (pg_isready exit $ready)"; exit 1; }
    state="$(psql --no-psqlrc --tuples-only --no-align --quiet --host="$PG_SOCKET_DIR" --port="$PG_PORT" \
      --username=postgres --dbname=postgres \
      --command="SELECT pg_is_in_recovery(), coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')" 2>&1)" \
      || { echo "probe: query failed: $state"; exit 1; }
    case "$PG_ROLE|$state" in
      "primary|f|"*) exit 0 ;;
      "replica|t|streaming") exit 0 ;;
      *) echo "probe: role $PG_ROLE, in recovery|WAL receiver = $state"; exit 1 ;;
    esac
    ;;
  *) echo "usage: probe.sh liveness|readiness" >&2; exit 2 ;;
esac
