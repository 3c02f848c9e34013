#!/bin/sh
# preStop hook of a Redis pod of a scalecharts RedisHA: a planned stop (rollout, drain, scale-in) of the master
# hands over to an in-sync replica before the container gets SIGTERM, instead of costing a failover timeout.
#
#  1. Not the master: nothing to hand over; a replica only waits (bounded) until a resync and its initial AOF are
#     written, which Redis would not interrupt for SIGTERM. No replica online: nothing to hand over either (Redis'
#     shutdown-timeout still lets a master wait for lagging replicas on SIGTERM).
#  2. CLIENT PAUSE WRITE: from here on this master accepts no write (clients wait), so nothing acknowledged here can
#     be missing on the new master, and there are never two writable masters.
#  3. Wait (bounded) until a replica has every byte (its offset equals ours). Before the pause, wait (bounded) until
#     the Sentinel knows every online replica, so its failover reconfigures all of them (each wait is bounded by
#     SWITCHOVER_TIMEOUT_SECONDS; the pod's grace period covers both, plus Redis' shutdown-timeout).
#  4. SENTINEL FAILOVER on the first Sentinel that names this pod and accepts it (the command fails over whatever
#     master that Sentinel names); Sentinel promotes the replica with the newest data.
#  5. Wait (bounded, SWITCHOVER_TIMEOUT_SECONDS) until the Sentinel names one of the replicas and it answers as
#     master, then close this pod's client connections so clients reconnect through the Sentinels at once. The writes they had waiting here were never
#     acknowledged; clients resend them (ioredis does by default) to the new master.
# On any failure after the pause, writes stay paused and the pod stops the old way (a Sentinel failover after
# down-after). Lifting the pause would be unsafe: a failover may be under way (the one asked for, or the Sentinels'
# own, since a paused master holds back their hello PUBLISH and looks down to them), and a write the old master
# took then, acknowledged by a replica it still had, is gone once that replica resyncs from the new master (the
# chaos suite lost 70 acknowledged writes that way). The pause outlasts the hook by 5 s, and Redis keeps writes
# paused itself while its SIGTERM shutdown waits for replicas, so nothing is lost by keeping it.
set -eu

LOG_TAG="prestop ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env REDIS_PORT ANNOUNCE_HOST SENTINEL_ADDRESSES MASTER_NAME AUTH_FILE SENTINEL_AUTH_FILE SWITCHOVER_TIMEOUT_SECONDS
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
SENTINEL_PASSWORD=$(read_password "$SENTINEL_AUTH_FILE")
local_cli() { cli "$REDIS_PASSWORD" 127.0.0.1 "$REDIS_PORT" "$@"; }
me="$ANNOUNCE_HOST ${ANNOUNCE_PORT:-$REDIS_PORT}"

info=$(local_cli INFO replication) || exit 0
if [ "$(info_field "$info" role)" != master ]; then
  # A replica that has just resynced writes its initial AOF, and until that is done Redis refuses SIGTERM ("Writing
  # initial AOF, can't exit") and would only die by the grace period's SIGKILL (the chaos suite's rolling restart
  # saw it). Wait until the sync and the AOF rewrite are over, so SIGTERM stops it at once; bounded by the two
  # switchover waits a master's hook may take, which the pod's grace period covers (render.ts).
  deadline=$(($(now) + 2 * SWITCHOVER_TIMEOUT_SECONDS))
  while :; do
    replication=$(local_cli INFO replication) || exit 0
    persistence=$(local_cli INFO persistence) || exit 0
    [ "$(info_field "$replication" master_sync_in_progress)" != 1 ] \
      && [ "$(info_field "$persistence" aof_rewrite_in_progress)" = 0 ] \
      && [ "$(info_field "$persistence" aof_rewrite_scheduled)" = 0 ] && exit 0
    [ "$(now)" -lt "$deadline" ] || { log "replica still syncing or writing its AOF after $((2 * SWITCHOVER_TIMEOUT_SECONDS))s; stopping anyway"; exit 0; }
    sleep 0.1
  done
fi
# "slave0:ip=...,port=...,state=online,offset=...,lag=..." lines: the online replicas as "host port".
online=$(printf '%s\n' "$info" | sed -n 's/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online,.*/\1 \2/p')
if [ -z "$online" ]; then
  log "master without an online replica: nothing to hand over"
  exit 0
fi

started=$(now)
deadline=$((started + SWITCHOVER_TIMEOUT_SECONDS))

# Sentinel reconfigures only the replicas it knows (it reads them from the master's INFO every 10 s). Before writes
# pause, wait (within the bound) until the first Sentinel that answers lists every online replica.
first_sentinel=""
for addr in $SENTINEL_ADDRESSES; do
  if cli "$SENTINEL_PASSWORD" "$(addr_host "$addr")" "$(addr_port "$addr")" PING >/dev/null; then
    first_sentinel=$addr
    break
  fi
done
[ -n "$first_sentinel" ] || { log "no Sentinel answers: nothing to hand over to"; exit 0; }
while :; do
  known=$(cli "$SENTINEL_PASSWORD" "$(addr_host "$first_sentinel")" "$(addr_port "$first_sentinel")" \
    SENTINEL REPLICAS "$MASTER_NAME" | awk 'NR % 2 == 1 { key = $0; next } key == "name" { print }') || known=""
  missing=""
  for replica in $(printf '%s\n' "$online" | tr ' ' ':'); do
    printf '%s\n' "$known" | grep -qxF "$replica" || missing="$missing $replica"
  done
  [ -z "$missing" ] && break
  if [ "$(now)" -ge "$deadline" ]; then
    log "Sentinel $first_sentinel does not know replica(s)$missing yet; going ahead (their agents follow the new master)"
    break
  fi
  sleep 0.2
done
# The switchover itself gets its own bound.
deadline=$(($(now) + SWITCHOVER_TIMEOUT_SECONDS))
pause_ms=$(((SWITCHOVER_TIMEOUT_SECONDS + 5) * 1000))
local_cli CLIENT PAUSE "$pause_ms" WRITE >/dev/null || exit 0
log "writes paused; handing over to a replica"

give_up() {
  log "switchover failed ($1): writes stay paused until this pod stops; the Sentinels fail over after down-after"
  exit 0
}

# 3. A replica with every byte: the pause stops new writes, so this converges within a round trip.
while :; do
  info=$(local_cli INFO replication) || give_up "Redis does not answer"
  offset=$(info_field "$info" master_repl_offset)
  printf '%s\n' "$info" | grep -q "^slave[0-9]*:.*state=online,offset=$offset," && break
  [ "$(now)" -lt "$deadline" ] || give_up "no replica caught up"
  sleep 0.05
done

# 4. Any Sentinel may run the failover; the others follow its new epoch. The one that knows every replica first;
#    only one that names this pod as master, since the command fails over whatever master the Sentinel names.
asked=""
for addr in $first_sentinel $SENTINEL_ADDRESSES; do
  answer=$(sentinel_answer "$addr")
  [ "${answer#* }" = "$me" ] || continue
  if cli "$SENTINEL_PASSWORD" "$(addr_host "$addr")" "$(addr_port "$addr")" SENTINEL FAILOVER "$MASTER_NAME" >/dev/null; then
    asked=$addr
    break
  fi
done
[ -n "$asked" ] || give_up "no Sentinel accepted SENTINEL FAILOVER"

# 5. The Sentinel that runs the failover names the new master, and that one answers as master. Clients that ask
#    any Sentinel from now on get it (the others follow within a hello period).
asked_host=$(addr_host "$asked") asked_port=$(addr_port "$asked")
promoted=""
while [ -z "$promoted" ]; do
  reply=$(cli "$SENTINEL_PASSWORD" "$asked_host" "$asked_port" SENTINEL GET-MASTER-ADDR-BY-NAME "$MASTER_NAME") || reply=""
  # shellcheck disable=SC2086 # "host\nport"
  set -- $reply
  if [ $# -eq 2 ] && printf '%s\n' "$online" | grep -qxF "$1 $2" && is_live_master "$1" "$2"; then
    promoted="$1:$2"
  fi
  [ -n "$promoted" ] && break
  [ "$(now)" -lt "$deadline" ] || give_up "the Sentinels named no new master within ${SWITCHOVER_TIMEOUT_SECONDS}s"
  sleep 0.05
done
local_cli CLIENT KILL TYPE normal >/dev/null || true
log "switchover to $promoted done after $(($(now) - started))s (Sentinel $asked); stopping"
