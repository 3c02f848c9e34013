#!/bin/bash
# The backup sidecar of each Postgres member with `backup`. Only the member whose Postgres is writable (Patroni's
# leader) acts: once per leadership it creates the pgBackRest stanza (idempotent), takes a first full backup when the
# repository has none (a new or restored cluster is protected at once), and then a full backup whenever the UTC minute
# matches BACKUP_SCHEDULE. Each backup also expires what repo1-retention-full no longer keeps, and is recorded in
# scalecharts_backup.runs (the exporter's pg_backup_newest_age_seconds, alert PostgresBackupTooOld).
#
# Environment: BACKUP_SCHEDULE (5-field cron, UTC), BACKUP_STANZA, BACKUP_CHECK_SECONDS (how often to look, < 60),
#              PGHOST (the socket directory), PGBACKREST_PG1_PORT, PGBACKREST_* (config, include path, data dir).
set -uo pipefail

: "${BACKUP_SCHEDULE:?}" "${BACKUP_STANZA:?}" "${BACKUP_CHECK_SECONDS:?}" "${PGHOST:?}" "${PGBACKREST_PG1_PORT:?}"
export PGPORT="$PGBACKREST_PG1_PORT" PGUSER=postgres PGDATABASE=postgres PGCONNECT_TIMEOUT=5

log() { echo "backup-loop: $(date -u +%FT%TZ) $*"; }

# One cron field against a value: numbers, `*`, lists, ranges, steps (`*/15`, `1-5`, `0,30`, `10/20`).
field_matches() {
  local field="$1" value="$2" min="$3" max="$4" part range step lo hi
  local -a parts
  IFS=, read -ra parts <<< "$field"
  for part in "${parts[@]}"; do
    range="${part%%/*}"; step=1
    [[ "$part" == */* ]] && step="${part#*/}"
    if [ "$range" = '*' ]; then lo=$min; hi=$max
    elif [[ "$range" == *-* ]]; then lo="${range%-*}"; hi="${range#*-}"
    else lo="$range"; hi="$range"; [[ "$part" == */* ]] && hi=$max
    fi
    if (( value >= lo && value <= hi && (value - lo) % step == 0 )); then return 0; fi
  done
  return 1
}

# The schedule against a time (default now); day-of-month and day-of-week both restricted means either (cron's rule).
schedule_matches() {
  local minute hour dom month dow day_ok
  local -a f
  read -ra f <<< "$BACKUP_SCHEDULE"
  read -r minute hour dom month dow <<< "$(date -u ${1:+--date="$1"} '+%M %H %d %m %w')"
  minute=$((10#$minute)); hour=$((10#$hour)); dom=$((10#$dom)); month=$((10#$month)); dow=$((10#$dow))
  field_matches "${f[0]}" "$minute" 0 59 && field_matches "${f[1]}" "$hour" 0 23 && field_matches "${f[3]}" "$month" 1 12 || return 1
  dow_matches() { field_matches "${f[4]}" "$dow" 0 7 || { [ "$dow" = 0 ] && field_matches "${f[4]}" 7 0 7; }; }
  if [ "${f[2]}" = '*' ] && [ "${f[4]}" = '*' ]; then day_ok=0
  elif [ "${f[2]}" = '*' ]; then dow_matches; day_ok=$?
  elif [ "${f[4]}" = '*' ]; then field_matches "${f[2]}" "$dom" 1 31; day_ok=$?
  else { field_matches "${f[2]}" "$dom" 1 31 || dow_matches; }; day_ok=$?
  fi
  return "$day_ok"
}

is_leader() { [ "$(psql --no-psqlrc -qAtc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; }

# The newest backup's label and stop time (epoch) from `pgbackrest info`, or nothing when the repository has none.
newest_backup() {
  pgbackrest --stanza="$BACKUP_STANZA" --output=json info 2>/dev/null | python3 -c '
import json, sys
backups = [b for s in json.load(sys.stdin) for b in s.get("backup", [])]
if backups:
    b = max(backups, key=lambda b: b["timestamp"]["stop"])
    print(b["label"], b["timestamp"]["stop"])'
}

record() {
  local label stop
  read -r label stop <<< "$(newest_backup)"
  [ -n "$label" ] || return 0
  psql --no-psqlrc -q --set=ON_ERROR_STOP=1 --set=label="$label" --set=stop="$stop" <<'SQL' || log "could not record backup $label"
CREATE SCHEMA IF NOT EXISTS scalecharts_backup;
CREATE TABLE IF NOT EXISTS scalecharts_backup.runs (label text PRIMARY KEY, finished_at timestamptz NOT NULL);
INSERT INTO scalecharts_backup.runs VALUES (:'label', to_timestamp(:'stop')) ON CONFLICT (label) DO NOTHING;
SQL
}

backup() {
  log "full backup ($1)"
  if pgbackrest --stanza="$BACKUP_STANZA" --log-level-console=info backup --type=full; then
    record
    log "full backup done"
  else
    log "full backup FAILED"
  fi
}

# `backup-loop.sh --matches TIME`: exit 0 when the schedule matches TIME (for tests and for checking a schedule).
if [ "${1:-}" = --matches ]; then schedule_matches "${2:?TIME}"; exit; fi

stanza_ready=""
last_minute=""
log "schedule \"$BACKUP_SCHEDULE\" (UTC), checking every ${BACKUP_CHECK_SECONDS} s"
while :; do
  if is_leader; then
    if [ -z "$stanza_ready" ]; then
      if pgbackrest --stanza="$BACKUP_STANZA" --log-level-console=info stanza-create; then
        stanza_ready=1
        [ -n "$(newest_backup)" ] || backup "the repository has none yet"
      else
        log "stanza-create failed; retrying"
      fi
    fi
    minute="$(date -u +%Y%m%d%H%M)"
    if [ -n "$stanza_ready" ] && [ "$minute" != "$last_minute" ] && schedule_matches ""; then
      last_minute="$minute"
      backup "schedule"
    fi
  else
    stanza_ready=""
  fi
  sleep "$BACKUP_CHECK_SECONDS"
done
