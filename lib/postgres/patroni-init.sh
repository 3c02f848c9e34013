#!/bin/bash
# Renders Patroni's configuration (init container of each Postgres member pod): fills the superuser and
# replication passwords from the mounted Secret files into patroni.yml in a memory-backed emptyDir, so no
# password is stored in a ConfigMap or passed in an environment variable.
#
# Environment: PATRONI_CONFIG_DIR (holds the patroni.yml template), PATRONI_RUN_DIR (output, an emptyDir),
#              SUPERUSER_PASSWORD_FILE, REPLICATION_PASSWORD_FILE.
set -euo pipefail

: "${PATRONI_CONFIG_DIR:?}" "${PATRONI_RUN_DIR:?}" "${SUPERUSER_PASSWORD_FILE:?}" "${REPLICATION_PASSWORD_FILE:?}"

# A YAML double-quoted scalar: '\' and '"' escaped.
yaml_quoted() {
  local value
  [ -s "$1" ] || { echo "patroni-init: password file $1 is missing or empty" >&2; exit 1; }
  value="$(cat "$1")"
  value="${value//\\/\\\\}"
  printf '%s' "${value//\"/\\\"}"
}

umask 077
config="$(cat "$PATRONI_CONFIG_DIR/patroni.yml")"
# Quoted replacements: bash 5.2 would otherwise treat '&' and '\' in a password as special.
superuser="$(yaml_quoted "$SUPERUSER_PASSWORD_FILE")"
replication="$(yaml_quoted "$REPLICATION_PASSWORD_FILE")"
# shellcheck disable=SC2016 # the placeholders are literal text
config="${config//'${SUPERUSER_PASSWORD}'/"$superuser"}"
# shellcheck disable=SC2016
config="${config//'${REPLICATION_PASSWORD}'/"$replication"}"
unset superuser replication
if [[ "$config" == *"\${"* ]]; then
  echo "patroni-init: unknown \${...} placeholder left in patroni.yml" >&2
  exit 1
fi
printf '%s\n' "$config" > "$PATRONI_RUN_DIR/patroni.yml"
echo "patroni-init: wrote $PATRONI_RUN_DIR/patroni.yml"
