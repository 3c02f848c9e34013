// RpcPool's JSON-RPC-aware front (njs engine; nginx 1.26.3 + njs 0.8.9, the image's versions).
//
// Per call: read the JSON-RPC body, pick upstreams (not lagging, not backed off, weighted round-robin), send the
// body to one upstream's hop through a subrequest, judge the answer by HTTP status AND JSON-RPC error, and try the
// next upstream when the answer means "this upstream failed". Writes (eth_sendRawTransaction...) are resent to
// another upstream only when the first one never received them.
//
// State shared by the workers of one pod lives in the `rpc_state` shared dict (numbers):
//   head:<name>, headAt:<name>  latest block from the head poller and when it was seen (ms)
//   ban:<name>                  ms until which the upstream is skipped (rate limit, or maxFails failures)
//   fails:<name>, failsAt:<name> failures in the current failTimeout window and when it started
//   rr                          round-robin counter
// Settings come from rpc-conf.json, written by entrypoint.sh and loaded once as the read-only global `rpc_conf`
// (js_preload_object), so no call re-reads or re-parses it.
//
// Only ES5 plus let/const, arrow functions, template literals and async/await: what njs runs.

const WRITE_METHODS = {
  eth_sendRawTransaction: 1, eth_sendTransaction: 1, eth_sendRawTransactionConditional: 1,
  eth_sendRawTransactionSync: 1, eth_sendPrivateTransaction: 1, eth_sendBundle: 1,
};

// JSON-RPC error codes that mean "this upstream failed" (retry elsewhere) or "ask another" (retry, no penalty).
// Anything not listed, and not matched by the messages below, is the caller's error and goes back as is.
const CODE_VERDICT = {
  '-32603': 'fail', // internal error
  '-32002': 'fail', // resource unavailable (EIP-1474)
  '-32005': 'rate', // limit exceeded (EIP-1474): rate limited, unless the message says the result is too large
  '-32601': 'other', // method not found: another provider may serve it
  '-32004': 'other', // method not supported (EIP-1474)
};
const RATE_MESSAGE = /rate limit|too many requests|request limit|limit exceeded|exceeded.*(quota|capacity|limit)|quota|throttl/i;
const FAIL_MESSAGE = /header not found|block not found|unknown block|missing trie node|not (yet )?available|pruned|timeout|timed out|internal error|try again|temporar|unavailable|syncing/i;
const TOO_LARGE_MESSAGE = /more than [0-9]+ results|returned more than|response size|too large|range (is )?too (large|wide)|block range/i;

function state() {
  return ngx.shared.rpc_state;
}

// Verdict of one JSON-RPC error object: 'client' | 'fail' | 'rate' | 'other'.
function errorVerdict(error) {
  if (!error || typeof error !== 'object') return 'fail';
  const message = String(error.message || '');
  const code = String(error.code);
  if (code === '-32005' && TOO_LARGE_MESSAGE.test(message)) return 'other';
  if (CODE_VERDICT[code]) return CODE_VERDICT[code];
  // Request errors are never retried, whatever the message says.
  if (code === '3' || code === '-32700' || code === '-32600' || code === '-32602' || code === '-32003') return 'client';
  if (RATE_MESSAGE.test(message)) return 'rate';
  if (FAIL_MESSAGE.test(message) && !/revert/i.test(message)) return 'fail';
  return 'client';
}

// Verdict of one upstream answer: { kind: 'ok' | 'client' | 'fail' | 'rate' | 'other', code: label for metrics }.
function judge(status, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    body = undefined;
  }
  const isRpc = body !== null && typeof body === 'object' && (Array.isArray(body) || 'result' in body || 'error' in body);
  if (!isRpc) {
    if (status === 429) return { kind: 'rate', code: '429' };
    // A 2xx that isn't JSON-RPC is a broken upstream too.
    return { kind: 'fail', code: status >= 200 && status < 300 ? '502' : String(status || 502) };
  }
  if (status === 429) return { kind: 'rate', code: '429' };
  // A bad key (401/403), a wrong path (404) or a timeout (408) is the upstream's fault, whatever its body says.
  if (status >= 500 || status === 401 || status === 403 || status === 404 || status === 408) return { kind: 'fail', code: String(status) };
  const items = Array.isArray(body) ? body : [body];
  let worst = 'ok';
  let worstCode = '';
  const rank = { ok: 0, client: 1, other: 2, fail: 3, rate: 4 };
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!item || typeof item !== 'object') return { kind: 'fail', code: '502' };
    if (item.error === undefined || item.error === null) continue;
    const v = errorVerdict(item.error);
    if (rank[v] > rank[worst]) {
      worst = v;
      worstCode = String(item.error.code);
    }
  }
  // Metrics: an HTTP status, or rpc<code> for a JSON-RPC error that counts against the upstream ('other', e.g. a
  // method this provider lacks, is no fault of the upstream and keeps the status).
  if (worst === 'ok' || worst === 'client' || worst === 'other') return { kind: worst, code: String(status) };
  return { kind: worst, code: `rpc${worstCode}` };
}

// Heads seen by the poller within freshness; best = the highest of them.
function heads(conf, now) {
  const d = state();
  const out = {};
  let best;
  for (let i = 0; i < conf.upstreams.length; i++) {
    const name = conf.upstreams[i].name;
    const at = d.get(`headAt:${name}`);
    if (at === undefined || now - at > conf.headFreshMs) continue;
    const h = d.get(`head:${name}`);
    out[name] = h;
    if (best === undefined || h > best) best = h;
  }
  return { of: out, best };
}

// Upstreams to try, in order: lagging ones never (while they lag); backed-off ones last, soonest-free first.
function candidates(conf, isWrite, now) {
  const d = state();
  const h = heads(conf, now);
  const ready = [];
  const benched = [];
  for (let i = 0; i < conf.upstreams.length; i++) {
    const u = conf.upstreams[i];
    if (isWrite && !u.writes) continue;
    const head = h.of[u.name];
    if (head !== undefined && h.best - head > conf.maxLag) continue;
    const until = d.get(`ban:${u.name}`) || 0;
    if (until > now) benched.push({ u, until });
    else ready.push(u);
  }
  // Backed-off upstreams come after the others: when those fail too, or none is left, a back-off is a guess worth
  // testing rather than failing the call.
  benched.sort((a, b) => a.until - b.until);
  const rest = benched.map((b) => b.u);
  if (ready.length === 0) return rest;
  // Weighted round-robin: the counter picks the first upstream in proportion to its weight; the rest follow in order.
  let total = 0;
  for (let i = 0; i < ready.length; i++) total += ready[i].weight;
  const tick = d.incr('rr', 1, 0);
  let pos = tick % total;
  let first = 0;
  for (; first < ready.length; first++) {
    if (pos < ready[first].weight) break;
    pos -= ready[first].weight;
  }
  return ready.slice(first).concat(ready.slice(0, first), rest);
}

function penalize(conf, name, kind, now) {
  const d = state();
  if (kind === 'rate') {
    d.set(`ban:${name}`, now + conf.rateLimitBackoffMs);
    return;
  }
  if (kind !== 'fail') return;
  const since = d.get(`failsAt:${name}`);
  let fails;
  if (since === undefined || now - since > conf.failTimeoutMs) {
    d.set(`failsAt:${name}`, now);
    d.set(`fails:${name}`, 1);
    fails = 1;
  } else {
    fails = d.incr(`fails:${name}`, 1, 0);
  }
  if (fails >= conf.maxFails) {
    d.set(`ban:${name}`, now + conf.failTimeoutMs);
    d.delete(`fails:${name}`);
    d.delete(`failsAt:${name}`);
  }
}

function reply(r, status, text) {
  r.headersOut['Content-Type'] = 'application/json';
  r.return(status, text);
}

function rpcError(id, code, message) {
  return JSON.stringify({ jsonrpc: '2.0', id: id === undefined ? null : id, error: { code, message } });
}

async function handle(r) {
  const conf = rpc_conf;
  if (r.method !== 'POST') {
    r.headersOut.Allow = 'POST';
    reply(r, 405, rpcError(null, -32600, 'JSON-RPC takes POST'));
    return;
  }
  const body = r.requestText;
  let call;
  try {
    call = JSON.parse(body);
  } catch (e) {
    reply(r, 400, rpcError(null, -32700, 'Parse error'));
    return;
  }
  if (call === null || typeof call !== 'object' || (Array.isArray(call) && call.length === 0)) {
    reply(r, 400, rpcError(null, -32600, 'Invalid Request: a JSON-RPC object or a non-empty batch'));
    return;
  }
  const calls = Array.isArray(call) ? call : [call];
  let isWrite = false;
  for (let i = 0; i < calls.length; i++) {
    if (calls[i] && WRITE_METHODS[calls[i].method]) isWrite = true;
  }
  const firstId = calls.length && calls[0] ? calls[0].id : null;
  const start = Date.now();
  const order = candidates(conf, isWrite, start);
  if (order.length === 0) {
    reply(r, 503, rpcError(firstId, -32603, isWrite ? 'no upstream of the pool takes writes' : 'no upstream is in sync'));
    return;
  }
  if (Array.isArray(call) && !isWrite && batchIds(calls)) {
    await batch(r, conf, calls, order, start);
    return;
  }
  const tried = [];
  const codes = [];
  let last;
  let attempts = 0;
  for (let i = 0; i < order.length && attempts < conf.tries; i++) {
    if (attempts > 0 && Date.now() - start > conf.retryTimeoutMs) break;
    const u = order[i];
    attempts++;
    const res = await r.subrequest(`/_rpc_hop/${u.name}`, { method: 'POST', body });
    const text = res.responseText || '';
    const verdict = judge(res.status, text);
    tried.push(`${conf.hopDir}/hop-${u.name}.sock`);
    codes.push(verdict.code);
    const now = Date.now();
    if (verdict.kind === 'ok' || verdict.kind === 'client') {
      if (verdict.kind === 'ok' && state().get(`fails:${u.name}`) !== undefined) state().delete(`fails:${u.name}`);
      r.variables.rpc_tried = tried.join(', ');
      r.variables.rpc_codes = codes.join(', ');
      reply(r, res.status, text);
      return;
    }
    penalize(conf, u.name, verdict.kind, now);
    last = { status: res.status, text, verdict };
    // A write may be resent only when the hop reports that it never connected to the provider: "-" (or several
    // "-" when nginx tried several addresses of one name). Anything else, missing included, may have reached it.
    if (isWrite && !/^-( *[,:] *-)*$/.test(res.headersOut['X-Rpc-Connect'] || '')) break;
  }
  r.variables.rpc_tried = tried.join(', ');
  r.variables.rpc_codes = codes.join(', ');
  if (last.verdict.code.indexOf('rpc') === 0 || last.verdict.kind === 'other') {
    // The last attempt got a JSON-RPC error: the most useful answer.
    reply(r, last.status, last.text);
  } else {
    reply(r, last.status === 504 ? 504 : 502, rpcError(firstId, -32603, `no upstream answered (${codes.join(', ')})`));
  }
}

// Keys of a batch's calls by id, or undefined when an id is missing or repeated (notifications get no answer, and
// answers are matched by id): such batches are retried whole.
function batchIds(calls) {
  const seen = {};
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i];
    if (!c || typeof c !== 'object' || c.id === undefined || c.id === null) return undefined;
    const key = JSON.stringify(c.id);
    if (seen[key]) return undefined;
    seen[key] = true;
  }
  return seen;
}

// A batch without writes: after each attempt, only the calls that got a retryable error (or no answer) go to the
// next upstream; answers are put back in the client's order.
async function batch(r, conf, calls, order, start) {
  const answers = new Array(calls.length);
  const lastErrors = new Array(calls.length);
  let pending = [];
  for (let k = 0; k < calls.length; k++) pending.push(k);
  const tried = [];
  const codes = [];
  let lastStatus = 502;
  let attempts = 0;
  for (let i = 0; i < order.length && attempts < conf.tries && pending.length > 0; i++) {
    if (attempts > 0 && Date.now() - start > conf.retryTimeoutMs) break;
    const u = order[i];
    attempts++;
    const sent = pending.map((k) => calls[k]);
    const res = await r.subrequest(`/_rpc_hop/${u.name}`, { method: 'POST', body: JSON.stringify(sent) });
    const text = res.responseText || '';
    const verdict = judge(res.status, text);
    tried.push(`${conf.hopDir}/hop-${u.name}.sock`);
    codes.push(verdict.code);
    lastStatus = res.status;
    let body;
    try {
      body = JSON.parse(text);
    } catch (e) {
      body = undefined;
    }
    if (!Array.isArray(body) || res.status >= 500 || res.status === 429) {
      // Not a batch answer (an HTTP failure, or one error object for the whole batch): everything stays pending.
      penalize(conf, u.name, verdict.kind === 'ok' || verdict.kind === 'client' ? 'fail' : verdict.kind, Date.now());
      continue;
    }
    const byId = {};
    for (let j = 0; j < body.length; j++) {
      const el = body[j];
      if (el && typeof el === 'object' && el.id !== undefined) byId[JSON.stringify(el.id)] = el;
    }
    const still = [];
    for (let j = 0; j < pending.length; j++) {
      const k = pending[j];
      const el = byId[JSON.stringify(calls[k].id)];
      const v = !el ? 'fail' : el.error === undefined || el.error === null ? 'ok' : errorVerdict(el.error);
      if (v === 'ok' || v === 'client') {
        answers[k] = el;
      } else {
        if (el) lastErrors[k] = el;
        still.push(k);
      }
    }
    if (verdict.kind === 'ok' || verdict.kind === 'client') {
      if (state().get(`fails:${u.name}`) !== undefined) state().delete(`fails:${u.name}`);
    } else {
      penalize(conf, u.name, verdict.kind, Date.now());
    }
    pending = still;
  }
  r.variables.rpc_tried = tried.join(', ');
  r.variables.rpc_codes = codes.join(', ');
  let answered = false;
  for (let k = 0; k < calls.length; k++) if (answers[k] || lastErrors[k]) answered = true;
  if (!answered) {
    reply(r, lastStatus === 504 ? 504 : 502, rpcError(calls[0].id, -32603, `no upstream answered (${codes.join(', ')})`));
    return;
  }
  const out = calls.map((c, k) => answers[k] || lastErrors[k]
    || { jsonrpc: '2.0', id: c.id, error: { code: -32603, message: `no upstream answered (${codes.join(', ')})` } });
  reply(r, 200, JSON.stringify(out));
}

// js_set $rpc_ws_group: the upstream group for a new WebSocket connection, ws_pref_<name> of the first candidate
// with a WebSocket URL (lagging and backed-off upstreams excluded, as for calls); its group lists the others as backups.
function wsGroup(r) {
  const conf = rpc_conf;
  const order = candidates(conf, false, Date.now());
  for (let i = 0; i < order.length; i++) {
    if (order[i].ws) return `ws_pref_${order[i].name}`;
  }
  for (let i = 0; i < conf.upstreams.length; i++) {
    if (conf.upstreams[i].ws) return `ws_pref_${conf.upstreams[i].name}`;
  }
  return 'rpc_ws';
}

const POLL_BODY = '{"jsonrpc":"2.0","id":"rpc-pool-head","method":"eth_blockNumber","params":[]}';

async function pollOne(conf, name) {
  try {
    const res = await ngx.fetch(`http://127.0.0.1:${conf.controlPort}/_rpc_poll/${name}`, {
      method: 'POST', body: POLL_BODY, headers: { 'Content-Type': 'application/json' },
    });
    const text = await res.text();
    const answer = JSON.parse(text);
    const head = typeof answer.result === 'string' ? parseInt(answer.result, 16) : NaN;
    if (isFinite(head)) {
      state().set(`head:${name}`, head);
      state().set(`headAt:${name}`, Date.now());
    }
  } catch (e) {
    // No fresh head: the upstream is neither counted as lagging nor as the best; failures are judged on real calls.
  }
}

// js_periodic: every upstream's head block, in parallel.
async function poll() {
  const conf = rpc_conf;
  // The preloaded object is read-only and its arrays lack map(): loop.
  const polls = [];
  for (let i = 0; i < conf.upstreams.length; i++) polls.push(pollOne(conf, conf.upstreams[i].name));
  await Promise.all(polls);
}

// GET /_rpc_state on the pod's loopback: heads, lag and back-offs, for tests and debugging.
function status(r) {
  const conf = rpc_conf;
  const d = state();
  const now = Date.now();
  const h = heads(conf, now);
  const out = {};
  for (let i = 0; i < conf.upstreams.length; i++) {
    const name = conf.upstreams[i].name;
    const head = h.of[name];
    const ban = d.get(`ban:${name}`) || 0;
    out[name] = {
      head: head === undefined ? null : head,
      lag: head === undefined ? null : h.best - head,
      lagging: head !== undefined && h.best - head > conf.maxLag,
      backedOffMs: ban > now ? ban - now : 0,
    };
  }
  reply(r, 200, JSON.stringify({ best: h.best === undefined ? null : h.best, upstreams: out }));
}

export default { handle, poll, status, wsGroup, judge, errorVerdict };
