#!/bin/sh
# Starts one Redis pod of a scalecharts RedisHA: decides whether this pod joins an existing master as replica or
# is the primary, completes redis.conf in a writable directory and execs redis-server.
#
# Rules, in this order. None of them makes a second master:
#  1. The Sentinels name a master other than this pod: replicate from it.
#  2. The Sentinels name this pod itself: its previous process died before they failed over. Coming back as master
#     would make the replicas resync from a copy that may miss the last second of acknowledged writes (AOF fsync
#     every second) or, without a persistent volume, from an empty data set. So wait for the failover and
#     replicate from the new master. Only if no failover happens in time (no replica could take over) resume as
#     master with the data on disk.
#  3. No Sentinel knows a master (first boot, or every Sentinel restarted): replicate from a pod that reports
#     role master, if any.
#  4. Still none, and this is the bootstrap pod (ordinal BOOTSTRAP_ORDINAL, normally 0): become the primary.
#  5. Otherwise wait and retry; after DISCOVERY_TIMEOUT_SECONDS exit so the kubelet restarts the container.
#
# Environment (set by the RedisHA construct; the tests point it at 127.0.0.1 ports):
#   TEMPLATE_DIR        directory with redis.conf and common.sh (the ConfigMap)
#   CONFIG_DIR          writable directory for the completed redis.conf (memory-backed emptyDir)
#   DATA_DIR            AOF directory (the persistent volume)
#   POD_NAME            StatefulSet pod name; its ordinal suffix picks the bootstrap pod
#   REDIS_PORT          port to listen on
#   ANNOUNCE_HOST       stable DNS name of this pod; ANNOUNCE_PORT defaults to REDIS_PORT
#   REDIS_ADDRESSES     host:port of every Redis pod, SENTINEL_ADDRESSES of every Sentinel
#   MASTER_NAME         Sentinel master group name
#   AUTH_FILE           Redis password (mounted Secret); SENTINEL_AUTH_FILE the Sentinel password
#   MAXMEMORY_BYTES     explicit maxmemory, or MEMORY_LIMIT_BYTES x MAXMEMORY_PERCENT / 100
#   MAXMEMORY_POLICY, MIN_REPLICAS_TO_WRITE, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS
#   BOOTSTRAP_ORDINAL (0), DISCOVERY_TIMEOUT_SECONDS (300)
set -eu

LOG_TAG="redis-start ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env CONFIG_DIR DATA_DIR POD_NAME REDIS_PORT ANNOUNCE_HOST REDIS_ADDRESSES SENTINEL_ADDRESSES MASTER_NAME \
  AUTH_FILE SENTINEL_AUTH_FILE MAXMEMORY_POLICY MIN_REPLICAS_TO_WRITE DOWN_AFTER_MS FAILOVER_TIMEOUT_MS
ANNOUNCE_PORT=${ANNOUNCE_PORT:-$REDIS_PORT}
BOOTSTRAP_ORDINAL=${BOOTSTRAP_ORDINAL:-0}
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
SENTINEL_PASSWORD=$(read_password "$SENTINEL_AUTH_FILE")

if [ -n "${MAXMEMORY_BYTES:-}" ]; then
  maxmemory=$MAXMEMORY_BYTES
else
  require_env MEMORY_LIMIT_BYTES MAXMEMORY_PERCENT
  maxmemory=$((MEMORY_LIMIT_BYTES * MAXMEMORY_PERCENT / 100))
fi

ordinal=${POD_NAME##*-}
# shellcheck disable=SC2153 # ANNOUNCE_HOST comes from the environment (checked by require_env)
me="$ANNOUNCE_HOST $ANNOUNCE_PORT"
started=$(now)
discovery_deadline=$((started + ${DISCOVERY_TIMEOUT_SECONDS:-300}))
# Sentinels declare the master down after DOWN_AFTER_MS and retry a failed election after 2 x FAILOVER_TIMEOUT_MS.
takeover_deadline=$((started + DOWN_AFTER_MS / 1000 + 2 * FAILOVER_TIMEOUT_MS / 1000 + 10))

master=""
while :; do
  named=$(master_from_sentinels "")
  if [ -n "$named" ] && [ "$named" != "$me" ]; then
    master=$named
    log "Sentinels name master $master: starting as its replica"
    break
  elif [ -n "$named" ]; then
    if [ "$(now)" -ge "$takeover_deadline" ]; then
      log "Sentinels still name this pod as master and no replica took over: resuming as master with the data on disk"
      break
    fi
    log "Sentinels still name this pod as master: waiting for them to fail over before rejoining as replica"
  else
    master=$(master_from_pods "$ANNOUNCE_HOST:$ANNOUNCE_PORT")
    if [ -n "$master" ]; then
      log "no Sentinel knows a master; pod $master reports role master: starting as its replica"
      break
    fi
    if [ "$ordinal" = "$BOOTSTRAP_ORDINAL" ]; then
      log "no Sentinel knows a master and no pod is master: bootstrap pod starts as primary"
      break
    fi
    log "no master known yet; waiting for the bootstrap pod (ordinal $BOOTSTRAP_ORDINAL)"
  fi
  [ "$(now)" -lt "$discovery_deadline" ] || die "no master found within ${DISCOVERY_TIMEOUT_SECONDS:-300}s"
  sleep 1
done

umask 077
conf="$CONFIG_DIR/redis.conf"
{
  cat "$TEMPLATE_DIR/redis.conf"
  printf '\n'
  printf '%s\n' \
    "# Written by redis-start.sh" \
    "port $REDIS_PORT" \
    "dir $(conf_quote "$DATA_DIR")" \
    "replica-announce-ip $ANNOUNCE_HOST" \
    "replica-announce-port $ANNOUNCE_PORT" \
    "maxmemory $maxmemory" \
    "maxmemory-policy $MAXMEMORY_POLICY" \
    "min-replicas-to-write $MIN_REPLICAS_TO_WRITE" \
    "requirepass $(conf_quote "$REDIS_PASSWORD")" \
    "masterauth $(conf_quote "$REDIS_PASSWORD")"
  if [ -n "$master" ]; then
    printf '%s\n' "replicaof $master"
  fi
} >"$conf.new"
mv "$conf.new" "$conf"
exec redis-server "$conf"
