#!/bin/bash
# Prepares PgBouncer's run directory (init container of each pooler pod): renders pgbouncer.ini from the
# ConfigMap template with the pod's environment, and writes the auth file from the application password
# Secret, so no password is ever stored in a ConfigMap.
#
# Environment: PGBOUNCER_CONFIG_DIR (holds the pgbouncer.ini template), PGBOUNCER_RUN_DIR (output, an
#              emptyDir), POSTGRES_HOST, POSTGRES_PORT, PGBOUNCER_LISTEN_ADDR, PGBOUNCER_PORT,
#              APP_USER, APP_PASSWORD_FILE.
set -euo pipefail

: "${PGBOUNCER_CONFIG_DIR:?}" "${PGBOUNCER_RUN_DIR:?}" "${POSTGRES_HOST:?}" "${POSTGRES_PORT:?}"
: "${PGBOUNCER_LISTEN_ADDR:?}" "${PGBOUNCER_PORT:?}" "${APP_USER:?}" "${APP_PASSWORD_FILE:?}"

[ -s "$APP_PASSWORD_FILE" ] || { echo "pooler-init: $APP_PASSWORD_FILE is missing or empty" >&2; exit 1; }

umask 077
# Only these names are substituted; any other ${...} in the template is an error, not silently emptied.
substituted=(POSTGRES_HOST POSTGRES_PORT PGBOUNCER_LISTEN_ADDR PGBOUNCER_PORT PGBOUNCER_RUN_DIR)
config="$(cat "$PGBOUNCER_CONFIG_DIR/pgbouncer.ini")"
for name in "${substituted[@]}"; do
  config="${config//\$\{$name\}/${!name}}"
done
if [[ "$config" == *"\${"* ]]; then
  echo "pooler-init: unknown \${...} placeholder left in pgbouncer.ini" >&2
  exit 1
fi
printf '%s\n' "$config" > "$PGBOUNCER_RUN_DIR/pgbouncer.ini"

# auth_file format: "user" "password", with '"' doubled.
password="$(cat "$APP_PASSWORD_FILE")"
printf '"%s" "%s"\n' "${APP_USER//\"/\"\"}" "${password//\"/\"\"}" > "$PGBOUNCER_RUN_DIR/userlist.txt"
# libpq password file for the metrics exporter (it reads PGPASSFILE): host:port:database:user:password with ':'
# and '\' escaped, so its container needs no password in an environment variable.
password="${password//\\/\\\\}"
password="${password//:/\\:}"
printf '*:*:pgbouncer:%s:%s\n' "$APP_USER" "$password" > "$PGBOUNCER_RUN_DIR/exporter.pgpass"
unset password
echo "pooler-init: wrote $PGBOUNCER_RUN_DIR/pgbouncer.ini, userlist.txt and exporter.pgpass"
