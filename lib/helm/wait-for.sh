#!/bin/sh
# Init container of a migration hook whose database is in the same chart: waits until WAIT_HOST:WAIT_PORT accepts
# TCP connections, so the migration starts once the database (or its pooler) is up, instead of failing against a
# Service without endpoints on the first install. Runs in the database's own image (no extra image to pin): busybox
# nc on Alpine, bash's /dev/tcp on Debian. The Job's activeDeadlineSeconds bounds the wait.
set -u
while :; do
  # nc -z: OpenBSD's, traditional and BusyBox's full nc; `-e true` after the address: BusyBox's small nc (no -z).
  if command -v nc >/dev/null 2>&1 && { nc -z -w 2 "$WAIT_HOST" "$WAIT_PORT" || nc "$WAIT_HOST" "$WAIT_PORT" -e true; } >/dev/null 2>&1; then break; fi
  if command -v bash >/dev/null 2>&1 && bash -c 'exec 3<>"/dev/tcp/$WAIT_HOST/$WAIT_PORT"' 2>/dev/null; then break; fi
  echo "waiting for $WAIT_HOST:$WAIT_PORT" >&2
  sleep 2
done
echo "$WAIT_HOST:$WAIT_PORT accepts connections"
