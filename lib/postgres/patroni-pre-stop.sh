#!/bin/bash
# preStop hook of a Postgres member: when this member is the leader, hand leadership to a healthy replica
# with a planned switchover before Kubernetes stops the pod (rollout, drain), so a rollout costs a switchover
# (the old leader stops cleanly after the new one took over) instead of a failover that waits for ttl.
#
# Environment: PATRONI_NAME (this member), PATRONI_RESTAPI_CONNECT_ADDRESS (host:port of this member's REST API).
set -uo pipefail

: "${PATRONI_NAME:?}" "${PATRONI_RESTAPI_CONNECT_ADDRESS:?}"
api="http://${PATRONI_RESTAPI_CONNECT_ADDRESS}"

# GET /primary answers 200 only on the member holding the leader lock.
code="$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 "$api/primary")"
if [ "$code" != 200 ]; then
  echo "patroni-pre-stop: $PATRONI_NAME is not the leader ($code): nothing to hand over"
  exit 0
fi
# Patroni picks the healthiest replica; it answers once the new leader is promoted (or refuses: none is healthy).
response="$(curl --silent --max-time 50 --request POST --data "{\"leader\": \"$PATRONI_NAME\"}" "$api/switchover")"
echo "patroni-pre-stop: switchover from $PATRONI_NAME: $response"
exit 0
