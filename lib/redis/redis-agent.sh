#!/bin/sh
# The agent of one Redis pod of a scalecharts RedisHA, started in the background by redis-start.sh; it exits when
# redis-server (REDIS_PID) does. Every half second it:
#
#  * records what this pod knows on its data volume (state_save: gen, Sentinel epoch, offset, replid, role,
#    master) and publishes it in the proc-title-template for its peers, but only while it is a master or a replica
#    with its link up: an undecided or disconnected pod keeps what it knew last. A master takes the epoch from the
#    Sentinels when they name it; a replica takes gen and epoch from its master;
#  * decides the role of an undecided pod (started undecided by redis-start.sh), in this order:
#     1. the Sentinels name a master (highest config epoch) that is not this pod and answers as master: join it;
#     2. a pod answers as master and published a generation and epoch not older than ours: join it (a cold-start
#        winner the Sentinels don't follow yet);
#     3. a pod still follows a master (a running replica): a Sentinel failover can still come, wait for it;
#     4. cold start, every reachable pod is undecided: each votes for the newest pod it sees, by (gen, epoch,
#        offset), ties to the first in REDIS_ADDRESSES. The newest pod promotes itself once a majority of all pods
#        vote for it and either every pod is up, or COLD_START_WAIT_SECONDS passed and a majority is up. A minority
#        goes ahead only for the pod the Sentinels name as their master (the last master: it holds every write any
#        replica acknowledged), after the same wait. A winner starts a new generation (gen + 1), so data written
#        from now on always outranks what a pod that stayed away recorded;
#  * heals a replica that follows another address than the live master the Sentinels name (after down-after + 1 s:
#    Sentinel reconfigures the replicas it knows faster), its own address, or a master nobody answers on (undecided
#    again after the Sentinels' failover bound, when no pod is master);
#  * raises replica-priority to 100 only once a replica's link is up and its sync done, so a Sentinel never
#    promotes a pod that never caught up;
#  * after it won a cold start, points Sentinels that still follow a dead master at this pod.
#
# Why a majority of pods is enough: a write acknowledged by WAIT numreplicas (numreplicas >= half the replicas) is
# on a majority of the pods, so any majority holds it, and the newest of them has it.
set -u

LOG_TAG="redis-agent ${POD_NAME:-}"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

require_env REDIS_PID CONFIG_DIR DATA_DIR REDIS_PORT ANNOUNCE_HOST REDIS_ADDRESSES SENTINEL_ADDRESSES MASTER_NAME \
  AUTH_FILE SENTINEL_AUTH_FILE DOWN_AFTER_MS FAILOVER_TIMEOUT_MS COLD_START_WAIT_SECONDS QUORUM PARALLEL_SYNCS
ANNOUNCE_PORT=${ANNOUNCE_PORT:-$REDIS_PORT}
REDIS_PASSWORD=$(read_password "$AUTH_FILE")
SENTINEL_PASSWORD=$(read_password "$SENTINEL_AUTH_FILE")
# shellcheck disable=SC2153 # checked by require_env
self="$ANNOUNCE_HOST:$ANNOUNCE_PORT"
me="$ANNOUNCE_HOST $ANNOUNCE_PORT"
# Sentinels declare a master down after DOWN_AFTER_MS and retry a failed election after 2 x FAILOVER_TIMEOUT_MS.
failover_bound=$((DOWN_AFTER_MS / 1000 + 2 * FAILOVER_TIMEOUT_MS / 1000 + 10))
pods=0
for addr in $REDIS_ADDRESSES; do pods=$((pods + 1)); done
majority=$((pods / 2 + 1))

state_load
gen=$rec_gen
undecided_since=$(now)
link_down_since=""
mismatch_since=""
promoted_at=""
vote="-"

alive() { kill -0 "$REDIS_PID" 2>/dev/null; }
local_cli() { cli "$REDIS_PASSWORD" 127.0.0.1 "$REDIS_PORT" "$@"; }

publish() {
  local_cli CONFIG SET proc-title-template "$(state_title "$1" "$2" "$3" "$vote")" >/dev/null || true
}

# "a b c" > "x y z" as numbers, left to right.
newer() {
  # shellcheck disable=SC2086 # word splitting of the two triples is intended
  set -- $1 $2
  [ "$1" -gt "$4" ] || { [ "$1" -eq "$4" ] && { [ "$2" -gt "$5" ] || { [ "$2" -eq "$5" ] && [ "$3" -gt "$6" ]; }; }; }
}

join() {
  log "joining master $1 $2 ($3)"
  local_cli CONFIG SET replica-priority 0 >/dev/null || return 1
  local_cli REPLICAOF "$1" "$2" >/dev/null || return 1
  undecided_since="" link_down_since="" vote="-"
}

become_undecided() {
  log "leaving master $1: $2; undecided until a master is agreed"
  local_cli CONFIG SET replica-priority 0 >/dev/null || return 1
  local_cli REPLICAOF "$LIMBO_HOST" "$LIMBO_PORT" >/dev/null || return 1
  state_load
  gen=$rec_gen undecided_since=$(now) link_down_since="" vote="-"
}

# record ROLE MASTER REPLID OFFSET EPOCH: the epoch never goes down within a generation; a new generation starts
# from the epoch given.
record() {
  if [ "$gen" != "$rec_gen" ]; then
    rec_epoch=$5
  elif [ "$5" -gt "$rec_epoch" ]; then
    rec_epoch=$5
  fi
  rec_role=$1 rec_master=$2 rec_replid=$3 rec_offset=$4 rec_gen=$gen
  alive && state_save
  publish "$rec_gen" "$rec_epoch" "$rec_offset"
}

# After a cold-start win: Sentinels that follow another master that is not alive get pointed at this pod.
repoint_sentinels() {
  for addr in $SENTINEL_ADDRESSES; do
    host=$(addr_host "$addr") port=$(addr_port "$addr")
    reply=$(cli "$SENTINEL_PASSWORD" "$host" "$port" SENTINEL GET-MASTER-ADDR-BY-NAME "$MASTER_NAME") || continue
    [ -n "$reply" ] || continue
    # shellcheck disable=SC2086 # "host\nport"
    set -- $reply
    named="$1 $2"
    [ "$named" = "$me" ] && continue
    is_live_master "${named% *}" "${named#* }" && continue
    log "Sentinel $addr follows $named, which is not a live master: pointing it at this pod"
    cli "$SENTINEL_PASSWORD" "$host" "$port" SENTINEL REMOVE "$MASTER_NAME" >/dev/null || continue
    sentinel_monitor "$host" "$port" || log "could not point Sentinel $addr at this pod"
  done
}

sentinel_monitor() {
  cli "$SENTINEL_PASSWORD" "$1" "$2" SENTINEL MONITOR "$MASTER_NAME" "$ANNOUNCE_HOST" "$ANNOUNCE_PORT" "$QUORUM" >/dev/null &&
    cli "$SENTINEL_PASSWORD" "$1" "$2" SENTINEL SET "$MASTER_NAME" auth-pass "$REDIS_PASSWORD" \
      down-after-milliseconds "$DOWN_AFTER_MS" failover-timeout "$FAILOVER_TIMEOUT_MS" \
      parallel-syncs "$PARALLEL_SYNCS" >/dev/null
}

# One decision step of an undecided pod (rules 1-4 above).
decide() {
  view=$(sentinel_view "")
  named=""
  if [ -n "$view" ]; then
    named=${view#* }
    if [ "$named" != "$me" ] && is_live_master "${named% *}" "${named#* }"; then
      join "${named% *}" "${named#* }" "named by the Sentinels" && return 0
    fi
  fi
  visible=0 running_replica="" best="" best_addr="" best_gen=$gen votes=0
  # REDIS_ADDRESSES is in ordinal order: walking it in order, ties go to the pod listed first.
  for addr in $REDIS_ADDRESSES; do
    if [ "$addr" = "$self" ]; then
      key="$rec_gen $rec_epoch $rec_offset" peer_vote=$vote
    else
      host=$(addr_host "$addr") port=$(addr_port "$addr")
      info=$(cli "$REDIS_PASSWORD" "$host" "$port" INFO replication) || continue
      peer=$(published_state "$host" "$port") || continue
      [ -n "$peer" ] || continue
      # shellcheck disable=SC2086 # "gen epoch offset vote"
      set -- $peer
      key="$1 $2 $3" peer_vote=$4
      case "$info" in
        *role:master*)
          if ! newer "$rec_gen $rec_epoch 0" "$1 $2 0"; then
            join "$host" "$port" "answers as master, gen $1 epoch $2" && return 0
          fi
          continue
          ;;
        *"master_host:$LIMBO_HOST"*"master_port:$LIMBO_PORT"*) ;;
        *) running_replica=$addr ;;
      esac
      [ "$1" -gt "$best_gen" ] && best_gen=$1
    fi
    visible=$((visible + 1))
    [ "$peer_vote" = "$self" ] && votes=$((votes + 1))
    if [ -z "$best" ] || newer "$key" "$best"; then
      best=$key best_addr=$addr
    fi
  done
  if [ -n "$running_replica" ]; then
    # It still follows a master: a Sentinel failover may come (and it heals itself after the failover bound). When
    # the Sentinels name this undecided pod, they would wait down-after + 20 s before they count a master that
    # reports role slave as down: ask them to fail over now (only replicas with priority > 0 are candidates).
    # SENTINEL FAILOVER fails over whatever master that Sentinel names: ask only when no pod answers as master (a
    # failover under way has promoted one already) and only a Sentinel that names this pod at the newest epoch seen.
    if [ "$named" = "$me" ] && [ $(($(now) - ${asked_failover:-0})) -ge 5 ] && [ -z "$(master_from_pods "$self")" ]; then
      asked_failover=$(now)
      for addr in $SENTINEL_ADDRESSES; do
        [ "$(sentinel_answer "$addr")" = "$view" ] || continue
        if cli "$SENTINEL_PASSWORD" "$(addr_host "$addr")" "$(addr_port "$addr")" SENTINEL FAILOVER "$MASTER_NAME" >/dev/null; then
          log "the Sentinels still name this restarted pod as master: asked Sentinel $addr to fail over to $running_replica's group"
          break
        fi
      done
    fi
    vote="-"
    publish "$rec_gen" "$rec_epoch" "$rec_offset"
    return 0
  fi
  if [ "$vote" != "$best_addr" ]; then
    vote=$best_addr
    publish "$rec_gen" "$rec_epoch" "$rec_offset"
    return 0
  fi
  [ "$best_addr" = "$self" ] || return 0
  waited=$(($(now) - undecided_since))
  if [ "$visible" -eq "$pods" ] && [ "$votes" -ge "$majority" ]; then
    reason="all $pods pods up, $votes votes"
  elif [ "$waited" -ge "$COLD_START_WAIT_SECONDS" ] && [ "$visible" -ge "$majority" ] && [ "$votes" -ge "$majority" ]; then
    reason="$visible of $pods pods up after ${waited}s, $votes votes"
  elif [ "$waited" -ge "$COLD_START_WAIT_SECONDS" ] && [ "$named" = "$me" ]; then
    reason="the Sentinels' last master, alone after ${waited}s"
  else
    return 0
  fi
  # Someone may have become master since we looked.
  [ -z "$(master_from_pods "$self")" ] || return 0
  gen=$((best_gen + 1))
  log "cold start: newest data here (gen $rec_gen, epoch $rec_epoch, offset $rec_offset; $reason): promoting, gen $gen"
  publish "$gen" "$rec_epoch" "$rec_offset"
  local_cli REPLICAOF NO ONE >/dev/null || return 1
  local_cli CONFIG SET replica-priority 100 >/dev/null || true
  promoted_at=$(now) undecided_since="" vote="-"
}

# The record must be fresh: at a cold start the pods compare what they recorded, so a write acknowledged after a
# pod's last record only counts on the pods that recorded after it. Every half second, with as few calls as
# possible; the Sentinels (three calls) only every fourth round.
tick=0
view=""
while alive; do
  tick=$((tick + 1))
  info=$(local_cli INFO replication) || { sleep 0.5; continue; }
  role=$(info_field "$info" role)
  [ $((tick % 4)) -eq 1 ] && view=$(sentinel_view "")
  if [ "$role" = master ]; then
    epoch=-1
    [ -n "$view" ] && [ "${view#* }" = "$me" ] && epoch=${view%% *}
    record master "$self" "$(info_field "$info" master_replid)" "$(info_field "$info" master_repl_offset)" "$epoch"
    if [ -n "$promoted_at" ]; then
      if [ $(($(now) - promoted_at)) -lt 120 ]; then
        [ $((tick % 4)) -eq 1 ] && repoint_sentinels
      else
        promoted_at=""
      fi
    fi
    sleep 0.5
    continue
  fi
  master_host=$(info_field "$info" master_host)
  master_port=$(info_field "$info" master_port)
  if [ "$master_host" = "$LIMBO_HOST" ] && [ "$master_port" = "$LIMBO_PORT" ]; then
    [ -n "$undecided_since" ] || undecided_since=$(now)
    decide || log "decision step failed; retrying"
    view=""
    sleep 0.5
    continue
  fi
  if [ "$master_host $master_port" = "$me" ]; then
    become_undecided "$master_host $master_port" "it is this pod's own address"
    continue
  fi
  # A replica follows the live master the Sentinels name. Sentinel reconfigures the replicas it knows after a
  # failover; one it did not know yet (discovered from the master's INFO only every 10 s), or one that reconnected
  # to a restarted pod at its old master's address (a chained replica), would otherwise stay where it is.
  named=${view#* }
  if [ -n "$view" ] && [ "$named" != "$me" ] && [ "$named" != "$master_host $master_port" ]; then
    [ -n "$mismatch_since" ] || mismatch_since=$(now)
    if [ $(($(now) - mismatch_since)) -ge $((DOWN_AFTER_MS / 1000 + 1)) ] && is_live_master "${named% *}" "${named#* }"; then
      join "${named% *}" "${named#* }" "named by the Sentinels; this pod followed $master_host:$master_port" || true
      mismatch_since="" view=""
      sleep 0.5
      continue
    fi
  else
    mismatch_since=""
  fi
  if [ "$(info_field "$info" master_link_status)" = up ] && [ "$(info_field "$info" master_sync_in_progress)" = 0 ]; then
    link_down_since=""
    # Generation and epoch come from the master (which reads its epoch from the Sentinels): along a replication
    # link they only grow, so a replica that kept replicating never records less than one that stopped.
    peer=$(published_state "$master_host" "$master_port") || peer=""
    epoch=-1
    if [ -n "$peer" ]; then
      # shellcheck disable=SC2086 # "gen epoch offset vote"
      set -- $peer
      gen=$1 epoch=$2
    fi
    record replica "$master_host:$master_port" "$(info_field "$info" master_replid)" \
      "$(info_field "$info" slave_repl_offset)" "$epoch"
    [ "$(info_field "$info" slave_priority)" = 0 ] && local_cli CONFIG SET replica-priority 100 >/dev/null
  else
    [ -n "$link_down_since" ] || link_down_since=$(now)
    down=$(($(now) - link_down_since))
    if [ "$down" -ge "$failover_bound" ] && ! is_live_master "$master_host" "$master_port" &&
      [ -z "$(master_from_pods "$self")" ]; then
      become_undecided "$master_host:$master_port" "no live master for ${down}s and no failover"
    fi
  fi
  sleep 0.5
done
