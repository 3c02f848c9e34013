#!/bin/bash
# Patroni's custom bootstrap for `restore` (bootstrap.method: pgbackrest): restores a backup from the store into the
# empty data directory. Patroni then starts Postgres with the recovery settings of patroni.yml (restore_command from
# the same repository, the target, promote), so Postgres replays the archived WAL up to the target, promotes itself
# on a new timeline, and Patroni makes the member leader; the other members clone it.
#
# Arguments (from Patroni): --scope=... --datadir=DIR --source_path=REPO_PATH [--backup_set=LABEL]
#                           [--target_time=ISO8601] [--target_lsn=X/Y]
# The backup: the given set; for a target time or LSN the newest backup that ended before it; else the newest.
set -euo pipefail

datadir="" source_path="" backup_set="" target_time="" target_lsn=""
for arg in "$@"; do
  case "$arg" in
    --datadir=*) datadir="${arg#*=}" ;;
    --source_path=*) source_path="${arg#*=}" ;;
    --backup_set=*) backup_set="${arg#*=}" ;;
    --target_time=*) target_time="${arg#*=}" ;;
    --target_lsn=*) target_lsn="${arg#*=}" ;;
    --scope=*) ;;
    *) echo "backup-restore: unknown argument $arg" >&2; exit 1 ;;
  esac
done
: "${datadir:?--datadir missing}" "${source_path:?--source_path missing}"
repo=(--stanza=db "--repo1-path=$source_path")

if [ -z "$backup_set" ] && { [ -n "$target_time" ] || [ -n "$target_lsn" ]; }; then
  backup_set="$(pgbackrest "${repo[@]}" --output=json info | TARGET_TIME="$target_time" TARGET_LSN="$target_lsn" python3 -c '
import json, os, re, sys
from datetime import datetime

def lsn(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)

backups = [b for s in json.load(sys.stdin) for b in s.get("backup", [])]
if os.environ["TARGET_TIME"]:
    t = os.environ["TARGET_TIME"].replace(" ", "T")
    t = re.sub(r"Z$", "+00:00", t)
    t = re.sub(r"([+-]\d{2})$", r"\1:00", t)
    t = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", t)
    target = datetime.fromisoformat(t).timestamp()
    ok = [b for b in backups if b["timestamp"]["stop"] < target]
else:
    target = lsn(os.environ["TARGET_LSN"])
    ok = [b for b in backups if lsn(b["lsn"]["stop"]) <= target]
if not ok:
    sys.exit("backup-restore: no backup ended before the target")
print(max(ok, key=lambda b: b["timestamp"]["stop"])["label"])')"
fi

mkdir -p "$datadir"
chmod 0700 "$datadir"
echo "backup-restore: restoring ${backup_set:-the newest backup} from $source_path into $datadir"
# type=none: the recovery settings come from Patroni's recovery_conf (they vanish from the config after recovery,
# unlike lines pgBackRest would leave in postgresql.auto.conf for every later clone).
pgbackrest "${repo[@]}" --pg1-path="$datadir" --log-level-console=info restore --type=none ${backup_set:+"--set=$backup_set"}
