#!/bin/sh
# Starts one Sentinel of a scalecharts RedisHA: finds the current master, completes sentinel.conf in a writable
# directory (Sentinel rewrites its own config file as its state changes) and execs redis-sentinel.
#
# The master comes from, in this order: the other Sentinels (the answer with the highest config epoch, i.e. the
# latest failover), else the Redis pod that reports role master. A Sentinel never guesses: until a master exists
# it waits (the bootstrap Redis pod becomes primary without Sentinels), so it can't point the group at a stale or
# empty pod; an undecided Redis pod (see redis-agent.sh) reports role slave and is never adopted. Adopting a
# master from the pods, it starts at the Sentinel epoch that master recorded, so a later failover's epoch is above
# every epoch any pod recorded before. After DISCOVERY_TIMEOUT_SECONDS it exits so the kubelet restarts the container.
#
# Environment (set by the RedisHA construct; the tests point it at 127.0.0.1 ports):
#   TEMPLATE_DIR        directory with sentinel.conf and common.sh (the ConfigMap)
#   CONFIG_DIR          writable directory for the completed sentinel.conf (memory-backed emptyDir)
#   SENTINEL_PORT       port to listen on; BIND_ADDRESSES the addresses to listen on
#   ANNOUNCE_HOST       stable DNS name of this Sentinel; ANNOUNCE_PORT defaults to SENTINEL_PORT
#   REDIS_ADDRESSES     host:port of every Redis pod, SENTINEL_ADDRESSES of every Sentinel
#   MASTER_NAME, QUORUM, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS, PARALLEL_SYNCS
#   AUTH_FILE           Redis password (mounted Secret); SENTINEL_AUTH_FILE the Sentinel password
#   DISCOVERY_TIMEOUT_SECONDS (300)
set -eu

LOG_TAG="sentinel-start ${ANNOUNCE_HOST:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env CONFIG_DIR SENTINEL_PORT BIND_ADDRESSES ANNOUNCE_HOST REDIS_ADDRESSES SENTINEL_ADDRESSES MASTER_NAME QUORUM \
  DOWN_AFTER_MS FAILOVER_TIMEOUT_MS PARALLEL_SYNCS AUTH_FILE SENTINEL_AUTH_FILE
ANNOUNCE_PORT=${ANNOUNCE_PORT:-$SENTINEL_PORT}
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
SENTINEL_PASSWORD=$(read_password "$SENTINEL_AUTH_FILE")

discovery_deadline=$(($(now) + ${DISCOVERY_TIMEOUT_SECONDS:-300}))
epoch=""
while :; do
  master=$(master_from_sentinels "$ANNOUNCE_HOST:$ANNOUNCE_PORT")
  if [ -n "$master" ]; then
    log "the other Sentinels follow master $master"
    break
  fi
  master=$(master_from_pods "")
  if [ -n "$master" ]; then
    published=$(published_state "${master% *}" "${master#* }") || published=""
    epoch=$(printf '%s' "$published" | cut -d ' ' -f 2)
    case "$epoch" in '' | *[!0-9]*) epoch="" ;; *) ;; esac
    log "no other Sentinel knows a master; pod $master reports role master (recorded epoch ${epoch:-none})"
    break
  fi
  [ "$(now)" -lt "$discovery_deadline" ] || die "no master found within ${DISCOVERY_TIMEOUT_SECONDS:-300}s"
  log "no master known yet; waiting"
  sleep 1
done

umask 077
conf="$CONFIG_DIR/sentinel.conf"
password=$(conf_quote "$SENTINEL_PASSWORD")
{
  cat "$TEMPLATE_DIR/sentinel.conf"
  printf '\n'
  printf '%s\n' \
    "# Written by sentinel-start.sh" \
    "bind $BIND_ADDRESSES" \
    "port $SENTINEL_PORT" \
    "dir $(conf_quote "$CONFIG_DIR")" \
    "sentinel announce-ip $ANNOUNCE_HOST" \
    "sentinel announce-port $ANNOUNCE_PORT" \
    "requirepass $password" \
    "sentinel sentinel-pass $password" \
    "sentinel monitor $MASTER_NAME $master $QUORUM" \
    "sentinel auth-pass $MASTER_NAME $(conf_quote "$REDIS_PASSWORD")" \
    "sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS" \
    "sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS" \
    "sentinel parallel-syncs $MASTER_NAME $PARALLEL_SYNCS"
  if [ -n "$epoch" ]; then
    printf '%s\n' "sentinel config-epoch $MASTER_NAME $epoch" "sentinel current-epoch $epoch"
  fi
} >"$conf.new"
mv "$conf.new" "$conf"
exec redis-sentinel "$conf"
