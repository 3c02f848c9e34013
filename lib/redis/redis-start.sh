#!/bin/sh
# Starts one Redis pod of a scalecharts RedisHA: completes redis.conf in a writable directory, starts the pod's
# agent (redis-agent.sh) in the background and execs redis-server.
#
# Every Redis starts undecided: a read-only replica of a placeholder (LIMBO_HOST:LIMBO_PORT) with
# replica-priority 0, so it loads its data and answers its peers, but takes no writes and no Sentinel can promote
# it. The agent then decides its role within a second or two (see redis-agent.sh): join the live master the
# Sentinels name, or, when no master is alive anywhere, take part in the cold-start agreement on the pod with the
# newest data. Deciding at run time rather than here means one rule for the first start, restarts and healing.
#
# Environment (set by the RedisHA construct; the tests point it at loopback addresses):
#   TEMPLATE_DIR        directory with redis.conf and the scripts (the ConfigMap)
#   CONFIG_DIR          writable directory for the completed redis.conf (memory-backed emptyDir)
#   DATA_DIR            AOF directory and the recorded state (the persistent volume)
#   POD_NAME            StatefulSet pod name
#   REDIS_PORT          port to listen on; BIND_ADDRESSES the addresses to listen on
#   ANNOUNCE_HOST       stable DNS name of this pod; ANNOUNCE_PORT defaults to REDIS_PORT
#   REDIS_ADDRESSES     host:port of every Redis pod, SENTINEL_ADDRESSES of every Sentinel
#   MASTER_NAME         Sentinel master group name
#   AUTH_FILE           Redis password (mounted Secret); SENTINEL_AUTH_FILE the Sentinel password
#   MAXMEMORY_BYTES     explicit maxmemory, or MEMORY_LIMIT_BYTES x MAXMEMORY_PERCENT / 100
#   MAXMEMORY_POLICY, MIN_REPLICAS_TO_WRITE, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS, COLD_START_WAIT_SECONDS
set -eu

LOG_TAG="redis-start ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env CONFIG_DIR DATA_DIR POD_NAME REDIS_PORT BIND_ADDRESSES ANNOUNCE_HOST REDIS_ADDRESSES SENTINEL_ADDRESSES \
  MASTER_NAME AUTH_FILE SENTINEL_AUTH_FILE MAXMEMORY_POLICY MIN_REPLICAS_TO_WRITE DOWN_AFTER_MS FAILOVER_TIMEOUT_MS \
  COLD_START_WAIT_SECONDS QUORUM PARALLEL_SYNCS
ANNOUNCE_PORT=${ANNOUNCE_PORT:-$REDIS_PORT}
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
read_password "$SENTINEL_AUTH_FILE" >/dev/null

if [ -n "${MAXMEMORY_BYTES:-}" ]; then
  maxmemory=$MAXMEMORY_BYTES
else
  require_env MEMORY_LIMIT_BYTES MAXMEMORY_PERCENT
  maxmemory=$((MEMORY_LIMIT_BYTES * MAXMEMORY_PERCENT / 100))
fi

state_load
log "recorded state: gen $rec_gen, epoch $rec_epoch, offset $rec_offset, last $rec_role (master $rec_master); starting undecided"

umask 077
conf="$CONFIG_DIR/redis.conf"
# shellcheck disable=SC2153 # ANNOUNCE_HOST is checked by require_env
{
  cat "$TEMPLATE_DIR/redis.conf"
  printf '\n'
  printf '%s\n' \
    "# Written by redis-start.sh" \
    "bind $BIND_ADDRESSES" \
    "port $REDIS_PORT" \
    "dir $(conf_quote "$DATA_DIR")" \
    "replica-announce-ip $ANNOUNCE_HOST" \
    "replica-announce-port $ANNOUNCE_PORT" \
    "maxmemory $maxmemory" \
    "maxmemory-policy $MAXMEMORY_POLICY" \
    "min-replicas-to-write $MIN_REPLICAS_TO_WRITE" \
    "requirepass $(conf_quote "$REDIS_PASSWORD")" \
    "masterauth $(conf_quote "$REDIS_PASSWORD")" \
    "replica-priority 0" \
    "replicaof $LIMBO_HOST $LIMBO_PORT" \
    "proc-title-template $(conf_quote "$(state_title "$rec_gen" "$rec_epoch" "$rec_offset")")"
} >"$conf.new"
mv "$conf.new" "$conf"

# The agent watches this process ($$ stays redis-server's PID across exec) and exits with it.
REDIS_PID=$$ sh "$TEMPLATE_DIR/redis-agent.sh" &
exec redis-server "$conf"
