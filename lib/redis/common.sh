# shellcheck shell=sh
# Functions shared by redis-start.sh and sentinel-start.sh (POSIX sh: runs under dash in the official Debian
# image and under busybox sh). Sourced, never executed.
#
# Addresses are "host:port" words in space-separated lists (REDIS_ADDRESSES, SENTINEL_ADDRESSES): in Kubernetes
# stable per-pod DNS names, in the tests 127.0.0.1 with random ports.

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${LOG_TAG:-redis-ha}" "$*" >&2
}

die() {
  log "FATAL: $*"
  exit 1
}

now() {
  date +%s
}

# Fails fast, naming the variable, when a setting the construct always passes is missing.
require_env() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    # shellcheck disable=SC2154 # assigned by the eval above
    [ -n "$value" ] || die "environment variable $name is not set"
  done
}

# Prints the password stored in a mounted Secret file, without its trailing newline.
read_password() {
  [ -r "$1" ] || die "cannot read password file $1 (is the Secret mounted?)"
  password=$(cat "$1")
  [ -n "$password" ] || die "password file $1 is empty"
  newline='
'
  carriage_return=$(printf '\r')
  case "$password" in
    *"$newline"* | *"$carriage_return"*) die "password in $1 contains a line break" ;;
    *) ;;
  esac
  printf '%s' "$password"
}

# Quotes a value for redis.conf / sentinel.conf: double quotes, with backslash and double quote escaped.
conf_quote() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

# cli PASSWORD HOST PORT COMMAND... : runs one command with a short timeout; prints the raw reply; fails on any
# connection or error reply. The password travels in REDISCLI_AUTH, never on the command line.
cli() {
  cli_password=$1 cli_host=$2 cli_port=$3
  shift 3
  cli_reply=$(REDISCLI_AUTH=$cli_password timeout "${CLI_TIMEOUT_SECONDS:-2}" \
    redis-cli -h "$cli_host" -p "$cli_port" --no-auth-warning -e "$@" 2>/dev/null) || return 1
  printf '%s\n' "$cli_reply" | tr -d '\r'
}

addr_host() { printf '%s' "${1%:*}"; }
addr_port() { printf '%s' "${1##*:}"; }

# sentinel_answer HOST:PORT: prints "epoch host port" for the master one Sentinel names, or nothing when it does not
# answer or monitors no MASTER_NAME. The config epoch comes from SENTINEL MASTER, the address from
# GET-MASTER-ADDR-BY-NAME, read in this order: a Sentinel leading a failover raises the epoch as soon as its replica
# is promoted, but SENTINEL MASTER keeps the old master's address until every replica is reconfigured, whereas
# GET-MASTER-ADDR-BY-NAME already names the promoted replica (what clients are told). Reading the address second,
# a new epoch never comes with the old address (the chaos suite saw a restarted master take that pair for "the
# Sentinels still name me" and force a second failover).
sentinel_answer() {
  answer_host=$(addr_host "$1") answer_port=$(addr_port "$1")
  reply=$(cli "$SENTINEL_PASSWORD" "$answer_host" "$answer_port" SENTINEL MASTER "$MASTER_NAME") || return 0
  # The reply is a flat list of field / value lines.
  answer_epoch=$(printf '%s\n' "$reply" | awk 'NR % 2 == 1 { key = $0; next } key == "config-epoch" { print $0 + 0 }')
  [ -n "$answer_epoch" ] || return 0
  reply=$(cli "$SENTINEL_PASSWORD" "$answer_host" "$answer_port" SENTINEL GET-MASTER-ADDR-BY-NAME "$MASTER_NAME") || return 0
  # shellcheck disable=SC2086 # "host\nport"
  set -- $reply
  [ $# -eq 2 ] || return 0
  printf '%s %s %s' "$answer_epoch" "$1" "$2"
}

# Asks every Sentinel in SENTINEL_ADDRESSES (but the address in $1, the caller itself) which master it follows.
# Prints "epoch host port" of the answer with the highest config epoch, i.e. the newest failover any of them has
# seen, or nothing when no reachable Sentinel monitors MASTER_NAME. The answer may name an address nobody answers
# on (a pod moved, or a promotion is not confirmed yet): callers act on it only once is_live_master confirms it.
sentinel_view() {
  self=${1:-}
  best="" best_epoch=-1
  for addr in $SENTINEL_ADDRESSES; do
    [ "$addr" = "$self" ] && continue
    answer=$(sentinel_answer "$addr")
    [ -n "$answer" ] || continue
    epoch=${answer%% *}
    if [ "$epoch" -gt "$best_epoch" ]; then
      best_epoch=$epoch
      best=$answer
    fi
  done
  printf '%s' "$best"
}

# Prints "host port" of the master the Sentinels name (see sentinel_view), or nothing.
master_from_sentinels() {
  view=$(sentinel_view "${1:-}")
  if [ -n "$view" ]; then printf '%s' "${view#* }"; fi
}

# is_live_master HOST PORT: true when a Redis answers there and reports role master.
is_live_master() {
  live_info=$(cli "$REDIS_PASSWORD" "$1" "$2" INFO replication) || return 1
  case "$live_info" in *role:master*) return 0 ;; *) return 1 ;; esac
}

# Reads one "name:value" field of an INFO reply given in $1.
info_field() {
  printf '%s\n' "$1" | sed -n "s/^$2://p" | head -n 1
}

# The state every Redis pod publishes in its proc-title-template (readable with CONFIG GET by its peers, and
# shown by ps): "redis-ha gen=G epoch=E offset=O vote=HOST:PORT". A pod that has not decided its role yet publishes
# what it recorded on its data volume, so the pods that come up can agree on the newest one.
published_state() {
  title=$(cli "$REDIS_PASSWORD" "$1" "$2" CONFIG GET proc-title-template) || return 1
  printf '%s\n' "$title" | sed -n 's/.* redis-ha gen=\([0-9-]*\) epoch=\([0-9-]*\) offset=\([0-9-]*\) vote=\([^ ]*\).*/\1 \2 \3 \4/p'
}

# The template that publishes "gen epoch offset vote" (see published_state).
state_title() {
  printf '{title} {listen-addr} {server-mode} redis-ha gen=%s epoch=%s offset=%s vote=%s' "$1" "$2" "$3" "${4:--}"
}

# Asks every Redis in REDIS_ADDRESSES (but $1, the caller itself) for its role. Prints "host port" of the master
# with the most connected replicas, or nothing when no reachable Redis is a master. The address printed is the
# one from REDIS_ADDRESSES, i.e. the name the pod announces, so Sentinels and replicas agree on it.
master_from_pods() {
  self=${1:-}
  best="" best_replicas=-1
  for addr in $REDIS_ADDRESSES; do
    [ "$addr" = "$self" ] && continue
    info=$(cli "$REDIS_PASSWORD" "$(addr_host "$addr")" "$(addr_port "$addr")" INFO replication) || continue
    case "$info" in *role:master*) ;; *) continue ;; esac
    replicas=$(printf '%s\n' "$info" | sed -n 's/^connected_slaves://p')
    if [ "${replicas:-0}" -gt "$best_replicas" ]; then
      best_replicas=${replicas:-0}
      best="$(addr_host "$addr") $(addr_port "$addr")"
    fi
  done
  printf '%s' "$best"
}

# A pod that has not decided its role yet runs as a read-only replica of this placeholder: it loads its data and
# answers its peers, but takes no writes, and with replica-priority 0 no Sentinel promotes it.
# shellcheck disable=SC2034 # used by the scripts that source this file
LIMBO_HOST=127.0.0.1 LIMBO_PORT=1

# What this pod last knew, on its data volume (DATA_DIR/redis-ha.state): the cold-start generation, the Sentinel
# config epoch, the replication offset and id, role and master. Sets rec_gen, rec_epoch, rec_offset, rec_replid,
# rec_role, rec_master; a volume without the file (never held data) gives gen 0, epoch -1, offset -1.
state_load() {
  rec_gen=0 rec_epoch=-1 rec_offset=-1 rec_replid=- rec_role=none rec_master=-
  [ -r "$DATA_DIR/redis-ha.state" ] || return 0
  while IFS='=' read -r key value; do
    case "$key=$value" in
      gen=[0-9]* | epoch=[0-9]* | epoch=-1 | offset=[0-9]* | offset=-1)
        case "$value" in *[!0-9-]*) continue ;; *) ;; esac
        eval "rec_$key=\$value"
        ;;
      replid=* | role=* | master=*) eval "rec_$key=\$value" ;;
      *) ;;
    esac
  done <"$DATA_DIR/redis-ha.state"
}

# Writes rec_* to the state file atomically (rename), so a crash leaves the old or the new file, never half of one.
state_save() {
  printf 'gen=%s\nepoch=%s\noffset=%s\nreplid=%s\nrole=%s\nmaster=%s\nupdated=%s\n' \
    "$rec_gen" "$rec_epoch" "$rec_offset" "$rec_replid" "$rec_role" "$rec_master" "$(now)" \
    >"$DATA_DIR/redis-ha.state.new" && mv "$DATA_DIR/redis-ha.state.new" "$DATA_DIR/redis-ha.state"
}
