#!/bin/sh
# RpcPool proxy entrypoint: renders nginx.conf.template (next to this script) with the RPC_* environment into
# $RPC_RENDER_DIR, then execs nginx in the foreground. `entrypoint.sh render` renders only (nginx -t, tests).
#
# Environment, set by the RpcPool construct. Every tunable is required: the construct is their one source of truth.
#   RPC_LISTEN                          front listen address: port, or IPv4:port
#   RPC_WORKER_PROCESSES                nginx workers (the construct derives it from the CPU limit)
#   RPC_WORKER_CONNECTIONS              connections per worker
#   RPC_CONNECT_TIMEOUT                 seconds to connect to a provider, per attempt
#   RPC_READ_TIMEOUT                    seconds a provider may stay silent while answering, per attempt
#   RPC_TRIES                           attempts per request, the first included
#   RPC_RETRY_TIMEOUT                   seconds after the first attempt during which a retry may start
#   RPC_MAX_FAILS, RPC_FAIL_TIMEOUT     passive health: failures within FAIL_TIMEOUT seconds that mark an upstream
#                                       down for FAIL_TIMEOUT seconds
#   RPC_MAX_BODY                        largest request body, nginx size (e.g. 1m)
#   RPC_WS_TIMEOUT                      seconds a WebSocket connection may stay idle
#   RPC_UPSTREAM_COUNT                  number of upstreams; for each i in 1..count:
#     RPC_UPSTREAM_<i>_NAME             [a-z0-9-], unique
#     RPC_UPSTREAM_<i>_URL              http(s) JSON-RPC URL without credentials, or
#     RPC_UPSTREAM_<i>_URL_FILE         a file holding it (a Secret key mounted by the construct, for keyed URLs)
#     RPC_UPSTREAM_<i>_WEIGHT           round-robin weight, 1..100
#     RPC_UPSTREAM_<i>_WS_URL           optional ws(s) URL for subscriptions (or RPC_UPSTREAM_<i>_WS_URL_FILE)
#     RPC_UPSTREAM_<i>_WRITES           optional, true (default) or false: may receive eth_sendRawTransaction & co
#   RPC_ENGINE                          njs (JSON-RPC-aware front, rpc.js) or nginx (HTTP status only)
# With RPC_ENGINE=njs, also required:
#   RPC_MAX_LAG                         blocks an upstream's head may trail the best before it gets no traffic
#   RPC_HEAD_POLL_INTERVAL              seconds between eth_blockNumber polls of every upstream
#   RPC_RATE_LIMIT_BACKOFF              seconds a rate-limited upstream is skipped
#   RPC_CONTROL_PORT                    port of the loopback-only control server (head polls, /_rpc_state)
#   RPC_MAX_RESPONSE                    largest upstream answer the front reads, nginx size (e.g. 16m)
# Optional:
#   RPC_RENDER_DIR      where the config is rendered and nginx keeps its pid and temp files (/tmp/rpc)
#   RPC_ACCESS_LOG      access log file or "off" (/dev/stdout)
#   RPC_METRICS_SYSLOG  IPv4:port where the metrics exporter listens; access lines are sent to it as syslog (UDP)
#   RPC_CA_FILE         CA bundle that provider certificates are checked against (/etc/ssl/certs/ca-certificates.crt)
#   RPC_RESOLVE         auto | on | off: re-resolve provider names at run time (`server ... resolve`, nginx >= 1.27.3);
#                       auto picks on when the installed nginx supports it
#   RPC_RESOLV_CONF     where the DNS server and search domain are read from in resolve mode (/etc/resolv.conf)
#   RPC_NJS_MODULE      the njs module to load (/usr/lib/nginx/modules/ngx_http_js_module.so, as in the image)
#
# URLs may embed API keys: they are only written to files under RPC_RENDER_DIR (mode 0600) and never printed.
set -eu

NL='
'

fail() {
  echo "rpc-entrypoint: $*" >&2
  exit 64
}

# matches ERE VALUE: VALUE is a single line matching ERE.
matches() {
  case "$2" in *"$NL"*) return 1 ;; esac
  printf '%s\n' "$2" | grep -Eq -- "$1"
}

# require_int NAME MIN MAX: $NAME holds an integer from MIN to MAX.
require_int() {
  eval "value=\${$1:-}"
  # shellcheck disable=SC2154 # assigned by the eval above
  if ! matches '^[0-9]{1,9}$' "$value" || [ "$value" -lt "$2" ] || [ "$value" -gt "$3" ]; then
    fail "$1 must be an integer from $2 to $3, got '$value'"
  fi
}

# require_path NAME VALUE: an absolute path without spaces, quotes or other characters nginx would parse.
require_path() {
  matches '^/[A-Za-z0-9._/-]*$' "$2" || fail "$1 must be an absolute path of [A-Za-z0-9._/-], got '$2'"
}

here=$(cd "$(dirname "$0")" && pwd)
out=${RPC_RENDER_DIR:-/tmp/rpc}
export RPC_ACCESS_LOG="${RPC_ACCESS_LOG:-/dev/stdout}"
ca_file=${RPC_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
resolv_conf=${RPC_RESOLV_CONF:-/etc/resolv.conf}
require_path RPC_RENDER_DIR "$out"
require_path RPC_CA_FILE "$ca_file"
[ "$RPC_ACCESS_LOG" = off ] || require_path RPC_ACCESS_LOG "$RPC_ACCESS_LOG"
[ -z "${RPC_METRICS_SYSLOG:-}" ] || matches '^[0-9]{1,3}(\.[0-9]{1,3}){3}:[0-9]{1,5}$' "$RPC_METRICS_SYSLOG" ||
  fail "RPC_METRICS_SYSLOG must be IPv4:port, got '$RPC_METRICS_SYSLOG'"

matches '^([0-9]{1,3}(\.[0-9]{1,3}){3}:)?[0-9]{1,5}$' "${RPC_LISTEN:-}" ||
  fail "RPC_LISTEN must be a port or IPv4:port, got '${RPC_LISTEN:-}'"
require_int RPC_WORKER_PROCESSES 1 64
require_int RPC_WORKER_CONNECTIONS 64 65536
require_int RPC_CONNECT_TIMEOUT 1 60
require_int RPC_READ_TIMEOUT 1 600
require_int RPC_TRIES 1 32
require_int RPC_RETRY_TIMEOUT 1 3600
require_int RPC_MAX_FAILS 1 100
require_int RPC_FAIL_TIMEOUT 1 3600
require_int RPC_WS_TIMEOUT 1 86400
require_int RPC_UPSTREAM_COUNT 1 32
matches '^[0-9]{1,6}[km]?$' "${RPC_MAX_BODY:-}" || fail "RPC_MAX_BODY must be an nginx size such as 1m, got '${RPC_MAX_BODY:-}'"
engine=${RPC_ENGINE:-}
case "$engine" in njs | nginx) ;; *) fail "RPC_ENGINE must be njs or nginx, got '$engine'" ;; esac
if [ "$engine" = njs ]; then
  require_int RPC_MAX_LAG 0 100000
  require_int RPC_HEAD_POLL_INTERVAL 1 3600
  require_int RPC_RATE_LIMIT_BACKOFF 1 3600
  require_int RPC_CONTROL_PORT 1 65535
  matches '^[0-9]{1,6}[km]?$' "${RPC_MAX_RESPONSE:-}" ||
    fail "RPC_MAX_RESPONSE must be an nginx size such as 16m, got '${RPC_MAX_RESPONSE:-}'"
  njs_module=${RPC_NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}
  require_path RPC_NJS_MODULE "$njs_module"
fi
# Also listen on IPv6 (IPv6-only and dual-stack clusters) when the pod has it; binding [::] without it would fail.
export RPC_LISTEN_IPV6='# no IPv6 listener'
case "$RPC_LISTEN" in *:*) ;; *) [ ! -e /proc/net/if_inet6 ] || RPC_LISTEN_IPV6="listen [::]:$RPC_LISTEN;" ;; esac
# The front waits for a hop's whole attempt (connect + read), so the hop answers 502/504 first.
export RPC_FRONT_TIMEOUT=$((RPC_CONNECT_TIMEOUT + RPC_READ_TIMEOUT + 2))

# Run-time DNS: with `resolve`, nginx starts even when a provider's name doesn't resolve (that upstream just fails
# over) and follows address changes. Older nginx resolves every name once, at start, and refuses to start without it.
resolve=${RPC_RESOLVE:-auto}
if [ "$resolve" = auto ]; then
  version=$(nginx -v 2>&1 | sed -n 's|^.*nginx/\([0-9][0-9.]*\).*$|\1|p')
  if printf '%s\n' "$version" | awk -F. '{ exit !($1 > 1 || ($1 == 1 && ($2 > 27 || ($2 == 27 && $3 >= 3)))) }'; then
    resolve=on
  else
    resolve=off
  fi
fi
case "$resolve" in on | off) ;; *) fail "RPC_RESOLVE must be auto, on or off, got '$resolve'" ;; esac
resolver=''
search_domain=''
if [ "$resolve" = on ]; then
  resolver=$(awk '$1 == "nameserver" { print $2; exit }' "$resolv_conf" 2>/dev/null || true)
  search_domain=$(awk '$1 == "search" { print $2; exit }' "$resolv_conf" 2>/dev/null || true)
  matches '^[0-9A-Fa-f.:]+$' "$resolver" || fail "RPC_RESOLVE=on needs a nameserver in $resolv_conf"
  case "$resolver" in *:*) resolver="[$resolver]" ;; esac
  matches '^[A-Za-z0-9.-]*$' "$search_domain" || search_domain=''
fi

# parse_url LABEL URL SCHEMES: splits URL into scheme, host, port, host_header and request_uri (path and query), or
# fails naming LABEL (never the URL, which may hold a key). SCHEMES is "http" or "ws".
parse_url() {
  label=$1
  url=$2
  matches '^[]A-Za-z0-9._~:/?@!&()*+,;=%[-]+$' "$url" ||
    fail "$label must be a URL without spaces, quotes, '\$', '#' or braces (value not shown)"
  matches '^[A-Za-z][A-Za-z0-9+.-]*://' "$url" || fail "$label must start with scheme:// (value not shown)"
  scheme=$(printf '%s' "${url%%://*}" | tr '[:upper:]' '[:lower:]')
  case "$3:$scheme" in
    http:http | http:https | ws:ws | ws:wss) ;;
    http:*) fail "$label must be an http:// or https:// URL, not $scheme://" ;;
    *) fail "$label must be a ws:// or wss:// URL, not $scheme://" ;;
  esac
  rest=${url#*://}
  authority=${rest%%[/?]*}
  request_uri=${rest#"$authority"}
  case "$request_uri" in '') request_uri=/ ;; '?'*) request_uri="/$request_uri" ;; esac
  case "$authority" in *@*) fail "$label: user:password@ is not supported; providers take the key in the path or query" ;; esac
  case "$authority" in
    '['*']:'*) host="${authority%%]*}]" port=${authority##*]:} ;;
    '['*']') host=$authority port='' ;;
    *:*) host=${authority%%:*} port=${authority#*:} ;;
    *) host=$authority port='' ;;
  esac
  matches '^(([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$' "$host" ||
    fail "$label has an invalid host (value not shown)"
  case "$scheme" in https | wss) tls=on default_port=443 ;; *) tls=off default_port=80 ;; esac
  if [ -z "$port" ]; then
    port=$default_port
  elif ! matches '^[0-9]{1,5}$' "$port" || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    fail "$label has an invalid port (value not shown)"
  fi
  host_header=$host
  [ "$port" = "$default_port" ] || host_header="$host:$port"
}

# read_url_file NAME PATH: the URL in the file PATH (a mounted Secret key); trailing newlines dropped.
read_url_file() {
  require_path "$1" "$2"
  [ -r "$2" ] || fail "$1: cannot read $2"
  cat "$2"
}

is_ip() { matches '^([0-9.]+|\[.*\])$' "$1"; }

# remote_upstream ID HOST PORT KEEPALIVE: the upstream block one hop proxies to.
remote_upstream() {
  printf 'upstream %s {\n' "$1"
  if [ "$resolve" = on ] && ! is_ip "$2"; then
    dns_name=$2
    # nginx's resolver ignores resolv.conf's search list: complete in-cluster short names (e.g. the self-hosted node).
    case "$dns_name" in *.*) ;; *) [ -z "$search_domain" ] || dns_name="$dns_name.$search_domain" ;; esac
    printf '    zone %s 64k;\n    server %s:%s resolve;\n' "$1" "$dns_name" "$3"
  else
    printf '    server %s:%s;\n' "$2" "$3"
  fi
  [ "$4" = 0 ] || printf '    keepalive %s;\n' "$4"
  printf '}\n'
}

# hop_server KIND NAME REMOTE TIMEOUT: the local server that forwards one upstream's traffic (KIND hop or ws), using
# scheme, host, host_header, request_uri and tls from parse_url.
hop_server() {
  proxy_scheme=http
  [ "$tls" = off ] || proxy_scheme=https
  # nginx error lines print the upstream URI. A URL with a path or query may carry an API key: keep those quiet
  # (failures still show in the hop access line as upstream_status).
  error_level=error
  [ "$request_uri" = / ] || error_level=emerg
  printf 'server {\n    listen unix:%s/%s-%s.sock;\n    server_name %s;\n' "$out" "$1" "$2" "$2"
  if [ "$RPC_ACCESS_LOG" = off ]; then printf '    access_log off;\n'; else printf '    access_log %s rpc_hop;\n' "$RPC_ACCESS_LOG"; fi
  printf '    error_log stderr %s;\n' "$error_level"
  printf '    location = / {\n'
  # The provider's path and query replace the client's.
  # shellcheck disable=SC2016 # nginx variables, not shell ones
  printf '        set $args "";\n'
  printf '        proxy_pass "%s://%s%s";\n' "$proxy_scheme" "$3" "$request_uri"
  printf '        proxy_http_version 1.1;\n'
  printf '        proxy_set_header Host "%s";\n' "$host_header"
  if [ "$1" = ws ]; then
    # shellcheck disable=SC2016 # nginx variables, not shell ones
    printf '        proxy_set_header Upgrade $http_upgrade;\n        proxy_set_header Connection $connection_upgrade;\n'
  else
    printf '        proxy_set_header Connection "";\n'
  fi
  # The njs front resends a write only when the connection to the provider was never made ("-": refused, DNS,
  # connect timeout). ($upstream_bytes_sent would read 0 here: it is counted after the headers are sent.)
  # shellcheck disable=SC2016 # nginx variables, not shell ones
  [ "$1:$engine" != hop:njs ] || printf '        add_header X-Rpc-Connect "$upstream_connect_time" always;\n'
  # Failover is the front's job: one attempt per hop keeps the worst case at tries x (connect + read).
  printf '        proxy_next_upstream off;\n'
  printf '        proxy_connect_timeout %ss;\n        proxy_send_timeout %ss;\n        proxy_read_timeout %ss;\n' \
    "$RPC_CONNECT_TIMEOUT" "$4" "$4"
  if [ "$tls" = on ]; then
    # SNI and certificate check against this provider's own name.
    sni=$host
    case "$sni" in '['*) sni=${sni#[} sni=${sni%]} ;; esac
    printf '        proxy_ssl_server_name on;\n        proxy_ssl_name "%s";\n' "$sni"
    printf '        proxy_ssl_verify on;\n        proxy_ssl_verify_depth 4;\n        proxy_ssl_trusted_certificate "%s";\n' "$ca_file"
    printf '        proxy_ssl_protocols TLSv1.2 TLSv1.3;\n        proxy_ssl_session_reuse on;\n'
  fi
  printf '    }\n}\n'
}

umask 077
mkdir -p "$out/tmp"
# A restarted container finds the previous run's sockets on the emptyDir; nginx can't bind over them.
rm -f "$out"/hop-*.sock "$out"/ws-*.sock

generated="$out/upstreams.conf"
{
  printf '# Generated by entrypoint.sh at %s. Holds provider URLs: do not print.\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [ "$RPC_ACCESS_LOG" = off ]; then printf 'access_log off;\n'; else printf 'access_log %s rpc;\n' "$RPC_ACCESS_LOG"; fi
  [ -z "${RPC_METRICS_SYSLOG:-}" ] ||
    printf 'access_log syslog:server=%s,nohostname,tag=rpc rpc_metrics;\n' "$RPC_METRICS_SYSLOG"
  [ -z "$resolver" ] || printf 'resolver %s valid=30s ipv6=off;\nresolver_timeout 5s;\n' "$resolver"
} >"$generated"

http_pool=''
ws_pool=''
ws_names=''
njs_upstreams=''
hop_locations=''
poll_locations=''
names=' '
i=1
while [ "$i" -le "$RPC_UPSTREAM_COUNT" ]; do
  eval "name=\${RPC_UPSTREAM_${i}_NAME:-} url=\${RPC_UPSTREAM_${i}_URL:-} ws_url=\${RPC_UPSTREAM_${i}_WS_URL:-}"
  eval "url_file=\${RPC_UPSTREAM_${i}_URL_FILE:-} ws_url_file=\${RPC_UPSTREAM_${i}_WS_URL_FILE:-}"
  # shellcheck disable=SC2154 # assigned by the eval above
  if [ -n "$url_file" ]; then
    [ -z "$url" ] || fail "give RPC_UPSTREAM_${i}_URL or RPC_UPSTREAM_${i}_URL_FILE, not both"
    url=$(read_url_file "RPC_UPSTREAM_${i}_URL_FILE" "$url_file")
  fi
  # shellcheck disable=SC2154 # assigned by the eval above
  if [ -n "$ws_url_file" ]; then
    [ -z "$ws_url" ] || fail "give RPC_UPSTREAM_${i}_WS_URL or RPC_UPSTREAM_${i}_WS_URL_FILE, not both"
    ws_url=$(read_url_file "RPC_UPSTREAM_${i}_WS_URL_FILE" "$ws_url_file")
  fi
  # shellcheck disable=SC2154 # assigned by the eval above
  matches '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' "$name" ||
    fail "RPC_UPSTREAM_${i}_NAME must be 1-32 of [a-z0-9-], got '$name'"
  case "$names" in *" $name "*) fail "RPC_UPSTREAM_${i}_NAME '$name' is used twice" ;; esac
  names="$names$name "
  require_int "RPC_UPSTREAM_${i}_WEIGHT" 1 100
  weight=$value
  [ -n "$url" ] || fail "RPC_UPSTREAM_${i}_URL is empty (upstream '$name')"
  health="weight=$weight max_fails=$RPC_MAX_FAILS fail_timeout=${RPC_FAIL_TIMEOUT}s"

  parse_url "RPC_UPSTREAM_${i}_URL (upstream '$name')" "$url" http
  {
    remote_upstream "remote_$name" "$host" "$port" 16
    hop_server hop "$name" "remote_$name" "$RPC_READ_TIMEOUT"
  } >>"$generated"
  http_pool="$http_pool    server unix:$out/hop-$name.sock $health;$NL"
  eval "writes=\${RPC_UPSTREAM_${i}_WRITES:-true}"
  # shellcheck disable=SC2154 # assigned by the eval above
  case "$writes" in true | false) ;; *) fail "RPC_UPSTREAM_${i}_WRITES must be true or false, got '$writes'" ;; esac
  has_ws=false
  [ -z "$ws_url" ] || has_ws=true
  if [ "$engine" = njs ]; then
    printf 'upstream hop_%s {\n    server unix:%s/hop-%s.sock;\n    keepalive 16;\n}\n' "$name" "$out" "$name" >>"$generated"
    njs_upstreams="$njs_upstreams${njs_upstreams:+,}{\"name\":\"$name\",\"weight\":$weight,\"writes\":$writes,\"ws\":$has_ws}"
    hop_locations="${hop_locations}location = /_rpc_hop/$name {\n    internal;\n    proxy_pass http://hop_$name/;\n    include hop-location.conf;\n}\n"
    poll_locations="${poll_locations}location = /_rpc_poll/$name {\n    proxy_pass http://hop_$name/;\n    include hop-location.conf;\n}\n"
  fi

  # shellcheck disable=SC2154 # assigned by the eval above
  if [ -n "$ws_url" ]; then
    parse_url "RPC_UPSTREAM_${i}_WS_URL (upstream '$name')" "$ws_url" ws
    {
      remote_upstream "remote_ws_$name" "$host" "$port" 0
      hop_server ws "$name" "remote_ws_$name" "$RPC_WS_TIMEOUT"
    } >>"$generated"
    ws_pool="$ws_pool    server unix:$out/ws-$name.sock $health;$NL"
    ws_names="$ws_names $name"
  fi
  i=$((i + 1))
done

{
  # Keepalive to the hops saves a local connect per request.
  printf 'upstream rpc_http {\n%s    keepalive 32;\n}\n' "$http_pool"
  [ -z "$ws_pool" ] || printf 'upstream rpc_ws {\n%s}\n' "$ws_pool"
  # njs engine: rpc.js picks the WebSocket upstream (in sync, not backed off) by naming one of these groups; the
  # others are its backups, tried when the chosen one's handshake fails.
  if [ "$engine" = njs ]; then
    for primary in $ws_names; do
      printf 'upstream ws_pref_%s {\n' "$primary"
      for other in $ws_names; do
        if [ "$other" = "$primary" ]; then
          printf '    server unix:%s/ws-%s.sock max_fails=%s fail_timeout=%ss;\n' "$out" "$other" "$RPC_MAX_FAILS" "$RPC_FAIL_TIMEOUT"
        else
          printf '    server unix:%s/ws-%s.sock backup;\n' "$out" "$other"
        fi
      done
      printf '}\n'
    done
  fi
} >>"$generated"
export RPC_WS_PASS=rpc_ws
# shellcheck disable=SC2016 # an nginx variable, set by rpc.js
[ "$engine" != njs ] || RPC_WS_PASS='$rpc_ws_group'

# ${RPC_*} placeholders of the templates; any other placeholder is a bug in the template.
render() {
  awk -v names='RPC_LISTEN RPC_LISTEN_IPV6 RPC_WORKER_PROCESSES RPC_WORKER_CONNECTIONS RPC_TRIES RPC_RETRY_TIMEOUT RPC_FRONT_TIMEOUT RPC_MAX_BODY RPC_WS_TIMEOUT RPC_CONTROL_PORT RPC_HEAD_POLL_INTERVAL RPC_MAX_RESPONSE RPC_WS_PASS' '
    BEGIN { n = split(names, list, " "); for (k = 1; k <= n; k++) known[list[k]] = 1 }
    {
      line = $0; done = ""
      while (match(line, /\$\{RPC_[A-Z0-9_]+\}/)) {
        key = substr(line, RSTART + 2, RLENGTH - 3)
        if (!(key in known)) { print "rpc-entrypoint: unknown placeholder " key > "/dev/stderr"; exit 65 }
        done = done substr(line, 1, RSTART - 1) ENVIRON[key]
        line = substr(line, RSTART + RLENGTH)
      }
      print done line
    }' "$1" >"$2"
}
render "$here/nginx.conf.template" "$out/nginx.conf"
if [ "$engine" = njs ]; then
  printf 'load_module "%s";\n' "$njs_module" >"$out/modules.conf"
  render "$here/njs-http.conf.template" "$out/engine-http.conf"
  render "$here/njs-front.conf.template" "$out/front.conf"
  # %b: the location lists hold \n escapes.
  printf '%b' "$hop_locations" >"$out/hop-locations.conf"
  printf '%b' "$poll_locations" >"$out/poll-locations.conf"
  cp "$here/rpc.js" "$out/rpc.js"
  {
    printf '# How the front and the head poller reach a hop. Generated by entrypoint.sh.\n'
    printf 'proxy_http_version 1.1;\nproxy_set_header Connection "";\nproxy_next_upstream off;\n'
    printf 'proxy_connect_timeout 1s;\nproxy_send_timeout %ss;\nproxy_read_timeout %ss;\n' "$RPC_FRONT_TIMEOUT" "$RPC_FRONT_TIMEOUT"
    # rpc.js reads whole answers; a larger one fails that attempt (502).
    printf 'subrequest_output_buffer_size %s;\n' "$RPC_MAX_RESPONSE"
  } >"$out/hop-location.conf"
  printf '{"upstreams":[%s],"tries":%s,"retryTimeoutMs":%s,"maxFails":%s,"failTimeoutMs":%s,"rateLimitBackoffMs":%s,"maxLag":%s,"headFreshMs":%s,"controlPort":%s,"hopDir":"%s"}\n' \
    "$njs_upstreams" "$RPC_TRIES" "$((RPC_RETRY_TIMEOUT * 1000))" "$RPC_MAX_FAILS" "$((RPC_FAIL_TIMEOUT * 1000))" \
    "$((RPC_RATE_LIMIT_BACKOFF * 1000))" "$RPC_MAX_LAG" "$(((3 * RPC_HEAD_POLL_INTERVAL + RPC_FRONT_TIMEOUT) * 1000))" \
    "$RPC_CONTROL_PORT" "$out" >"$out/rpc-conf.json"
else
  printf '# nginx engine: no dynamic module.\n' >"$out/modules.conf"
  render "$here/nginx-http.conf.template" "$out/engine-http.conf"
  render "$here/nginx-front.conf.template" "$out/front.conf"
fi
if [ -n "$ws_pool" ]; then
  render "$here/ws-location.conf.template" "$out/ws-location.conf"
else
  printf '# No upstream has a WebSocket URL.\n' >"$out/ws-location.conf"
fi

[ "${1:-}" != render ] || exit 0
exec nginx -p "$out/" -c "$out/nginx.conf" -e stderr -g 'daemon off;'
