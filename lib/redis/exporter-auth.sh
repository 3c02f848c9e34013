#!/bin/sh
# Init container of a scalecharts RedisHA pod with metrics: writes the redis_exporter password file (a JSON map
# from the scraped address to its password, read through REDIS_PASSWORD_FILE) into the memory-backed config dir, so
# the exporter never gets the password in an environment variable.
#
# Environment: TEMPLATE_DIR, CONFIG_DIR, EXPORTER_ADDR (e.g. redis://127.0.0.1:6379), EXPORTER_AUTH_FILE (the
# mounted Secret of that address).
set -eu

LOG_TAG="exporter-auth ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env CONFIG_DIR EXPORTER_ADDR EXPORTER_AUTH_FILE
password=$(read_password "$EXPORTER_AUTH_FILE")
tab=$(printf '\t')
# JSON string escapes: backslash and quote; read_password already refused line breaks, so only a tab is left.
escaped=$(printf '%s' "$password" | sed -e 's/[\\"]/\\&/g' -e "s/$tab/\\\\t/g")
umask 077
printf '{"%s": "%s"}\n' "$EXPORTER_ADDR" "$escaped" >"$CONFIG_DIR/exporter-passwords.json.new"
mv "$CONFIG_DIR/exporter-passwords.json.new" "$CONFIG_DIR/exporter-passwords.json"
