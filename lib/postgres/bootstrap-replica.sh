#!/bin/bash
# Prepares a read replica (init container of each replica pod). On first start it creates the replica's
# physical replication slot on the primary and clones the primary with pg_basebackup through that slot;
# on every start it writes the password file the WAL receiver uses and marks the data directory a standby.
#
# Environment: PGDATA, PGPASSFILE, PRIMARY_HOST, PRIMARY_PORT, REPLICATION_USER, REPLICATION_PASSWORD_FILE,
#              REPLICA_NAME (the pod name; its slot is the name with '-' turned into '_'),
#              PRIMARY_WAIT_SECONDS (how long to wait for the primary; default 600).
set -euo pipefail

: "${PGDATA:?}" "${PGPASSFILE:?}" "${PRIMARY_HOST:?}" "${PRIMARY_PORT:?}" "${REPLICATION_USER:?}"
: "${REPLICATION_PASSWORD_FILE:?}" "${REPLICA_NAME:?}"
slot="${REPLICA_NAME//-/_}"

[ -s "$REPLICATION_PASSWORD_FILE" ] || { echo "bootstrap-replica: $REPLICATION_PASSWORD_FILE is missing or empty" >&2; exit 1; }

# libpq's password file: host:port:database:user:password, with ':' and '\' escaped.
password="$(cat "$REPLICATION_PASSWORD_FILE")"
password="${password//\\/\\\\}"
password="${password//:/\\:}"
(umask 077 && printf '*:*:*:%s:%s\n' "$REPLICATION_USER" "$password" > "$PGPASSFILE")
unset password

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  deadline=$((SECONDS + ${PRIMARY_WAIT_SECONDS:-600}))
  until pg_isready --quiet --host="$PRIMARY_HOST" --port="$PRIMARY_PORT"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bootstrap-replica: primary $PRIMARY_HOST:$PRIMARY_PORT not ready in time" >&2
      exit 1
    fi
    sleep 1
  done

  # The slot makes the primary keep the WAL this replica has not received yet, also while it is down.
  pg_receivewal --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username="$REPLICATION_USER" --no-password \
    --slot="$slot" --create-slot --if-not-exists

  # Clone beside PGDATA and move in place only when complete (a half-done copy is never started).
  staging="$PGDATA.bootstrap"
  rm -rf "$staging"
  pg_basebackup --pgdata="$staging" --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" \
    --username="$REPLICATION_USER" --no-password --slot="$slot" --wal-method=stream --checkpoint=fast
  mv "$staging" "$PGDATA"
  echo "bootstrap-replica: cloned $PRIMARY_HOST:$PRIMARY_PORT into $PGDATA using slot $slot"
fi

# Every replica pod is a standby in this topology, also after a restart.
touch "$PGDATA/standby.signal"
