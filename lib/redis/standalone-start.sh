#!/bin/sh
# Starts the single Redis of a scalecharts RedisHA in mode standalone (development tier): no Sentinels, no
# replicas, so nothing to decide. Completes redis.conf in a writable directory and execs redis-server.
#
# Environment (set by the RedisHA construct; the tests point it at loopback addresses):
#   TEMPLATE_DIR, CONFIG_DIR, DATA_DIR, REDIS_PORT, BIND_ADDRESSES, AUTH_FILE, MAXMEMORY_POLICY,
#   MAXMEMORY_BYTES or MEMORY_LIMIT_BYTES x MAXMEMORY_PERCENT / 100
set -eu

LOG_TAG="standalone-start ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env CONFIG_DIR DATA_DIR REDIS_PORT BIND_ADDRESSES AUTH_FILE MAXMEMORY_POLICY
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
if [ -n "${MAXMEMORY_BYTES:-}" ]; then
  maxmemory=$MAXMEMORY_BYTES
else
  require_env MEMORY_LIMIT_BYTES MAXMEMORY_PERCENT
  maxmemory=$((MEMORY_LIMIT_BYTES * MAXMEMORY_PERCENT / 100))
fi

umask 077
conf="$CONFIG_DIR/redis.conf"
{
  cat "$TEMPLATE_DIR/redis.conf"
  printf '\n'
  printf '%s\n' \
    "# Written by standalone-start.sh" \
    "bind $BIND_ADDRESSES" \
    "port $REDIS_PORT" \
    "dir $(conf_quote "$DATA_DIR")" \
    "maxmemory $maxmemory" \
    "maxmemory-policy $MAXMEMORY_POLICY" \
    "min-replicas-to-write 0" \
    "requirepass $(conf_quote "$REDIS_PASSWORD")"
} >"$conf.new"
mv "$conf.new" "$conf"
log "standalone: no replicas and no Sentinels"
exec redis-server "$conf"
