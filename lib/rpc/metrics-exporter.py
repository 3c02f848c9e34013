"""RpcPool metrics exporter (sidecar of the nginx proxy).

nginx open source keeps no per-upstream counters, but its access log names every upstream tried and what each
answered. The proxy sends one `rpc_metrics` line per request to this process as syslog over UDP on the pod's loopback
(a unix datagram socket would drop lines in bursts: its queue holds only net.unix.max_dgram_qlen, often 10, datagrams);
this process counts them and serves the counts in the Prometheus text format.

Environment: RPC_METRICS_SYSLOG (IPv4:port to receive on, e.g. 127.0.0.1:5514), RPC_METRICS_LISTEN (host:port of the
/metrics endpoint, default 0.0.0.0:9145), RPC_METRICS_STATE_URL (njs engine: the proxy's /_rpc_state on the pod's
loopback, read at each scrape for the head, lag and back-off gauges). Standard library only.
"""
import os
import re
import socket
import threading
import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYSLOG_HOST, _, SYSLOG_PORT = os.environ["RPC_METRICS_SYSLOG"].rpartition(":")
LISTEN_HOST, _, LISTEN_PORT = os.environ.get("RPC_METRICS_LISTEN", "0.0.0.0:9145").rpartition(":")
STATE_URL = os.environ.get("RPC_METRICS_STATE_URL", "")
UPSTREAM_NAME = re.compile(r"[a-z0-9-]{1,32}")

# Address of a hop socket: /<dir>/hop-<upstream>.sock (JSON-RPC over HTTP) or ws-<upstream>.sock (WebSocket).
HOP_ADDRESS = re.compile(r"/(hop|ws)-([a-z0-9-]+)\.sock$")
KIND_BY_URI = {"/": "http", "/ws": "ws"}
RPC_CODE = re.compile(r"rpc-?[0-9]{1,6}")
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

lock = threading.Lock()
requests = {}  # (kind, code) -> count
attempts = {}  # (upstream, kind, code) -> count
bucket_counts = [0] * (len(DURATION_BUCKETS) + 1)  # HTTP request durations; the last slot is +Inf
duration_sum = 0.0
unparsed = 0


def split_list(value):
    # nginx separates attempts within one upstream group by ", " and internal redirects by " : ".
    return [part for group in value.split(" : ") for part in group.split(", ")]


def count(line):
    """Counts one access line: `rpcm <status>|<uri>|<upstream_addr>|<upstream_status>|<request_time>`."""
    global duration_sum, unparsed
    marker = line.find("rpcm ")
    fields = line[marker + 5:].strip().split("|") if marker >= 0 else []
    if len(fields) != 5 or fields[1] not in KIND_BY_URI:
        with lock:
            unparsed += 1
        return
    status, uri, addresses, statuses, request_time = fields
    kind = KIND_BY_URI[uri]
    tries = []
    for address, code in zip(split_list(addresses), split_list(statuses)):
        hop = HOP_ADDRESS.search(address)
        # No hop address: nginx answered without an attempt (e.g. every upstream marked down: "no live upstreams").
        # The njs engine reports a JSON-RPC error that counts against the upstream as rpc<code>, e.g. rpc-32005.
        if hop and (code.isdigit() or RPC_CODE.fullmatch(code)):
            tries.append((hop.group(2), kind, code))
    with lock:
        requests[(kind, status)] = requests.get((kind, status), 0) + 1
        for key in tries:
            attempts[key] = attempts.get(key, 0) + 1
        if kind == "http":
            seconds = float(request_time) if re.fullmatch(r"[0-9.]+", request_time) else 0.0
            duration_sum += seconds
            slot = next((i for i, bound in enumerate(DURATION_BUCKETS) if seconds <= bound), len(DURATION_BUCKETS))
            bucket_counts[slot] += 1


def state_lines():
    """Gauges from the njs engine's state: head block, lag and exclusion per upstream, as this pod sees them."""
    if not STATE_URL:
        return []
    out = [
        "# HELP rpc_state_up Whether the proxy's state could be read (njs engine).",
        "# TYPE rpc_state_up gauge",
    ]
    try:
        with urllib.request.urlopen(STATE_URL, timeout=1) as res:
            state = json.loads(res.read())
        upstreams = state["upstreams"]
    except Exception:  # the proxy is starting or stopping: say so, keep serving the counters
        return out + ["rpc_state_up 0"]
    out.append("rpc_state_up 1")
    heads, lags, lagging, backed = [], [], [], []
    for name, u in sorted(upstreams.items()):
        if not UPSTREAM_NAME.fullmatch(name):
            continue
        if isinstance(u.get("head"), int):
            heads.append('rpc_upstream_head_block{upstream="%s"} %d' % (name, u["head"]))
            lags.append('rpc_upstream_lag_blocks{upstream="%s"} %d' % (name, u.get("lag") or 0))
        lagging.append('rpc_upstream_lagging{upstream="%s"} %d' % (name, 1 if u.get("lagging") else 0))
        backed.append('rpc_upstream_backed_off{upstream="%s"} %d' % (name, 1 if u.get("backedOffMs") else 0))
    out += ["# HELP rpc_upstream_head_block Latest block the head poller saw on each upstream.", "# TYPE rpc_upstream_head_block gauge"] + heads
    out += ["# HELP rpc_upstream_lag_blocks Blocks behind the best upstream.", "# TYPE rpc_upstream_lag_blocks gauge"] + lags
    out += ["# HELP rpc_upstream_lagging 1 while the upstream lags by more than maxBlockLag and gets no traffic.", "# TYPE rpc_upstream_lagging gauge"] + lagging
    out += ["# HELP rpc_upstream_backed_off 1 while the upstream is skipped after rate limits or failures.", "# TYPE rpc_upstream_backed_off gauge"] + backed
    return out


def exposition():
    extra = state_lines()
    with lock:
        out = [
            "# HELP rpc_requests_total Client requests answered by the RPC pool, by kind (http, ws) and final status.",
            "# TYPE rpc_requests_total counter",
        ]
        out += ['rpc_requests_total{kind="%s",code="%s"} %d' % (k, c, n) for (k, c), n in sorted(requests.items())]
        out += [
            "# HELP rpc_upstream_attempts_total Attempts per upstream by the status it answered; 502/504 also stand for"
            " a refused connection or a timeout, rpc<code> for a JSON-RPC error that made the pool try another upstream.",
            "# TYPE rpc_upstream_attempts_total counter",
        ]
        out += [
            'rpc_upstream_attempts_total{upstream="%s",kind="%s",code="%s"} %d' % (u, k, c, n)
            for (u, k, c), n in sorted(attempts.items())
        ]
        out += [
            "# HELP rpc_request_duration_seconds Time to answer JSON-RPC requests over HTTP, retries included.",
            "# TYPE rpc_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, n in zip(DURATION_BUCKETS + ("+Inf",), bucket_counts):
            cumulative += n
            out.append('rpc_request_duration_seconds_bucket{le="%s"} %d' % (bound, cumulative))
        out += ["rpc_request_duration_seconds_sum %.3f" % duration_sum, "rpc_request_duration_seconds_count %d" % cumulative]
        out += [
            "# HELP rpc_metrics_unparsed_lines_total Log lines the exporter could not read.",
            "# TYPE rpc_metrics_unparsed_lines_total counter",
            "rpc_metrics_unparsed_lines_total %d" % unparsed,
        ]
        out += extra
    return ("\n".join(out) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = exposition()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def receive(sock):
    while True:
        count(sock.recv(65535).decode("utf-8", "replace"))


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for bursts; the kernel caps it at net.core.rmem_max.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((SYSLOG_HOST, int(SYSLOG_PORT)))
    threading.Thread(target=receive, args=(sock,), daemon=True).start()
    server = ThreadingHTTPServer((LISTEN_HOST, int(LISTEN_PORT)), Handler)
    print("rpc-metrics: syslog on udp %s:%s, serving http://%s:%s/metrics" % (SYSLOG_HOST, SYSLOG_PORT, LISTEN_HOST, LISTEN_PORT), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
