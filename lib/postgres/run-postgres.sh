#!/bin/bash
# Starts PostgreSQL in the foreground (main container of primary and replica pods), with the settings of
# the rendered postgresql.conf and pg_hba.conf plus the per-pod ones taken from the environment.
#
# Environment: PG_ROLE (primary | replica), PGDATA, PG_CONFIG_DIR (holds postgresql.conf and pg_hba.conf),
#              PG_PORT, PG_LISTEN_ADDRESSES, PG_SOCKET_DIR; replicas also PRIMARY_HOST, PRIMARY_PORT,
#              REPLICATION_USER, PGPASSFILE and REPLICA_NAME (see bootstrap-replica.sh).
set -euo pipefail

: "${PG_ROLE:?}" "${PGDATA:?}" "${PG_CONFIG_DIR:?}" "${PG_PORT:?}" "${PG_LISTEN_ADDRESSES:?}" "${PG_SOCKET_DIR:?}"

args=(
  -D "$PGDATA"
  -c "config_file=$PG_CONFIG_DIR/postgresql.conf"
  -c "hba_file=$PG_CONFIG_DIR/pg_hba.conf"
  -c "listen_addresses=$PG_LISTEN_ADDRESSES"
  -c "port=$PG_PORT"
  -c "unix_socket_directories=$PG_SOCKET_DIR"
)

case "$PG_ROLE" in
  primary) ;;
  replica)
    : "${PRIMARY_HOST:?}" "${PRIMARY_PORT:?}" "${REPLICATION_USER:?}" "${PGPASSFILE:?}" "${REPLICA_NAME:?}"
    [ -f "$PGDATA/standby.signal" ] || { echo "run-postgres: $PGDATA is not a standby; run bootstrap-replica.sh first" >&2; exit 1; }
    slot="${REPLICA_NAME//-/_}"
    args+=(
      -c "primary_conninfo=host=$PRIMARY_HOST port=$PRIMARY_PORT user=$REPLICATION_USER passfile=$PGPASSFILE application_name=$slot"
      -c "primary_slot_name=$slot"
    )
    ;;
  *) echo "run-postgres: PG_ROLE must be primary or replica, not '$PG_ROLE'" >&2; exit 1 ;;
esac

exec postgres "${args[@]}"
