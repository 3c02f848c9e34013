#!/bin/sh
# Container probes for a scalecharts RedisHA, run by the kubelet inside the pod:
#   probe.sh redis-alive      Redis answers at all (also while it loads its AOF or syncs)
#   probe.sh redis-ready      Redis serves: a master answers PING; a replica has its master link up and no
#                             initial sync running, so a rollout never takes the next pod down before it caught up
#   probe.sh sentinel-ready   Sentinel answers PING
set -eu

LOG_TAG="probe"
# shellcheck source=common.sh
. "${TEMPLATE_DIR:?TEMPLATE_DIR is not set}/common.sh"

case "${1:-}" in
  redis-alive)
    reply=$(REDISCLI_AUTH=$(read_password "$AUTH_FILE") timeout 3 \
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning PING 2>&1) || true
    case "$reply" in
      PONG* | LOADING* | MASTERDOWN*) exit 0 ;;
      *) die "Redis does not answer: $reply" ;;
    esac
    ;;
  redis-ready)
    info=$(cli "$(read_password "$AUTH_FILE")" 127.0.0.1 "$REDIS_PORT" INFO replication) || die "Redis does not answer"
    case "$info" in
      *role:master*) exit 0 ;;
      *master_link_status:up*master_sync_in_progress:0*) exit 0 ;;
      *) die "replica not in sync with its master" ;;
    esac
    ;;
  sentinel-ready)
    reply=$(cli "$(read_password "$SENTINEL_AUTH_FILE")" 127.0.0.1 "$SENTINEL_PORT" PING) || die "Sentinel does not answer"
    [ "$reply" = "PONG" ] || die "Sentinel replied $reply"
    ;;
  *)
    die "usage: probe.sh redis-alive|redis-ready|sentinel-ready"
    ;;
esac
