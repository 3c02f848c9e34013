#!/bin/bash
# Patroni's post_bootstrap: runs once, on the member that initialized the cluster, with the superuser's
# connection string as its argument. Creates the application role and database (Patroni itself created the
# replication role and set the superuser password). A cluster restored from a backup (`restore`) already has both:
# then the role only gets the password of the current Secret.
#
# Environment (the pod's): APP_USER, APP_PASSWORD_FILE, APP_DATABASE.
set -euo pipefail

: "${APP_USER:?}" "${APP_PASSWORD_FILE:?}" "${APP_DATABASE:?}"
[ -s "$APP_PASSWORD_FILE" ] || { echo "post-bootstrap: $APP_PASSWORD_FILE is missing or empty" >&2; exit 1; }

# The password goes from the file into a psql variable (never into argv) and is quoted by psql (:'name').
psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname="$1" \
  --set=app_user="$APP_USER" --set=app_database="$APP_DATABASE" <<'SQL'
\set app_password `cat "$APP_PASSWORD_FILE"`
SELECT format('CREATE ROLE %I WITH LOGIN', :'app_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';
SELECT format('CREATE DATABASE %I OWNER %I', :'app_database', :'app_user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_database') \gexec
SQL
echo "post-bootstrap: role $APP_USER and database $APP_DATABASE are in place"
