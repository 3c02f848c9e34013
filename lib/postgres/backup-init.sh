#!/bin/bash
# Renders pgBackRest's S3 credentials (init container of each Postgres member pod with `backup`): the access key and
# secret key go from the mounted Secret files into an include file in the pod's memory-backed run directory, which
# pgBackRest reads through PGBACKREST_CONFIG_INCLUDE_PATH. No key is in a ConfigMap or an environment variable.
#
# Environment: PGBACKREST_CONFIG_INCLUDE_PATH (output directory), S3_KEY_ID_FILE (access key id), S3_KEY_FILE (secret
#              access key), and
#              BACKUP_CA_FILE (optional: the CA of a private endpoint, copied beside the credentials).
set -euo pipefail

: "${PGBACKREST_CONFIG_INCLUDE_PATH:?}" "${S3_KEY_ID_FILE:?}" "${S3_KEY_FILE:?}"

read_key() {
  [ -s "$1" ] || { echo "backup-init: credentials file $1 is missing or empty" >&2; exit 1; }
  # $(...) drops a trailing newline (a Secret made with --from-file often has one).
  local value
  value="$(cat "$1")"
  # pgBackRest's ini format has no quoting: a line break would smuggle in another option.
  case "$value" in *$'\n'* | *$'\r'*) echo "backup-init: $1 must hold a single line" >&2; exit 1 ;; esac
  printf '%s' "$value"
}

umask 077
mkdir -p "$PGBACKREST_CONFIG_INCLUDE_PATH"
out="$PGBACKREST_CONFIG_INCLUDE_PATH/credentials.conf"
{
  printf '[global]\n'
  printf 'repo1-s3-key=%s\n' "$(read_key "$S3_KEY_ID_FILE")"
  printf 'repo1-s3-key-secret=%s\n' "$(read_key "$S3_KEY_FILE")"
} > "$out.tmp"
mv "$out.tmp" "$out"
if [ -n "${BACKUP_CA_FILE:-}" ]; then
  [ -s "$BACKUP_CA_FILE" ] || { echo "backup-init: CA file $BACKUP_CA_FILE is missing or empty" >&2; exit 1; }
  cat "$BACKUP_CA_FILE" > "$PGBACKREST_CONFIG_INCLUDE_PATH/ca.crt.tmp"
  mv "$PGBACKREST_CONFIG_INCLUDE_PATH/ca.crt.tmp" "$PGBACKREST_CONFIG_INCLUDE_PATH/ca.crt"
fi
echo "backup-init: wrote $out"
