#!/bin/bash
# Initializes the primary's data directory on first start (init container of the primary pod).
# Creates the cluster with the superuser password, the replication role and the application role and
# database, with passwords read from mounted Secret files. Does nothing when PGDATA already holds a cluster.
#
# Environment: PGDATA, PG_SOCKET_DIR, SUPERUSER_PASSWORD_FILE, REPLICATION_USER, REPLICATION_PASSWORD_FILE,
#              APP_USER, APP_PASSWORD_FILE, APP_DATABASE.
set -euo pipefail

: "${PGDATA:?}" "${PG_SOCKET_DIR:?}" "${SUPERUSER_PASSWORD_FILE:?}" "${REPLICATION_USER:?}"
: "${REPLICATION_PASSWORD_FILE:?}" "${APP_USER:?}" "${APP_PASSWORD_FILE:?}" "${APP_DATABASE:?}"

if [ -s "$PGDATA/PG_VERSION" ]; then
  echo "bootstrap-primary: $PGDATA already initialized"
  exit 0
fi

for f in "$SUPERUSER_PASSWORD_FILE" "$REPLICATION_PASSWORD_FILE" "$APP_PASSWORD_FILE"; do
  [ -s "$f" ] || { echo "bootstrap-primary: password file $f is missing or empty" >&2; exit 1; }
done

# Build the cluster beside PGDATA and move it in place only when complete, so a crash half-way through
# never leaves a directory that a restart would take for a finished cluster.
staging="$PGDATA.bootstrap"
rm -rf "$staging"
initdb --pgdata="$staging" --username=postgres --pwfile="$SUPERUSER_PASSWORD_FILE" \
  --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --data-checksums

# A private server: no TCP listener, a socket only this container sees.
pg_ctl --pgdata="$staging" --wait --silent \
  --options="-c listen_addresses='' -c unix_socket_directories='$PG_SOCKET_DIR'" start

# Passwords go from the files into psql variables (never into argv) and are quoted by psql (:'name').
psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --host="$PG_SOCKET_DIR" --username=postgres --dbname=postgres \
  --set=replication_user="$REPLICATION_USER" --set=app_user="$APP_USER" --set=app_database="$APP_DATABASE" <<'SQL'
\set replication_password `cat "$REPLICATION_PASSWORD_FILE"`
\set app_password `cat "$APP_PASSWORD_FILE"`
CREATE ROLE :"replication_user" WITH LOGIN REPLICATION PASSWORD :'replication_password';
CREATE ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_database" OWNER :"app_user";
SQL

pg_ctl --pgdata="$staging" --wait --silent --mode=fast stop
mv "$staging" "$PGDATA"
echo "bootstrap-primary: initialized $PGDATA"
