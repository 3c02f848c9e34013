/**
 * RpcPool's njs engine for real: Debian trixie's nginx 1.26.3 + njs 0.8.9 (the shipped image's versions, installed by
 * scripts/setup.d/rpc.sh) runs the synthesized ConfigMap's files through the same entrypoint with the Deployment's env,
 * in front of fake JSON-RPC nodes on 127.0.19.x that the tests control (test/rpc-njs-support.ts).
 */
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Chart, Testing } from 'cdk8s';
import { RpcPool, RpcPoolProps } from '../lib';
import { writeHelmChart } from '../lib/helm';
import { renderChart } from './harness/helm';
import { K8sObject, synth } from './harness/synth';
import {
  NJS_MODULE, NJS_NGINX, RpcFake, call, isOk, load, njsAvailable, post, startRpcFake,
} from './rpc-njs-support';
import {
  RunningPool, busyboxPath, freePort, httpGet, makeTempDir, parseMetrics, percentile, selfSignedCert, startPool, stopAll, waitFor,
} from './rpc-support';

const API_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const fakes: RpcFake[] = [];
let pool: RunningPool | undefined;
let controlPort = 0;

async function fake(last: number, opts: Parameters<typeof startRpcFake>[1] = {}): Promise<RpcFake> {
  const f = await startRpcFake(`127.0.19.${last}`, opts);
  fakes.push(f);
  return f;
}

const url = (f: RpcFake, path = '/'): string => `http://${f.host}:${f.port}${path}`;

function objects(props: RpcPoolProps): K8sObject[] {
  return synth((chart) => new RpcPool(chart, 'rpc', props), { namespace: 'chain' });
}

async function start(props: RpcPoolProps, secrets: Record<string, string> = {}, extraEnv: Record<string, string> = {}): Promise<RunningPool> {
  controlPort = await freePort();
  pool = await startPool(objects(props), secrets, {
    PATH: busyboxPath(NJS_NGINX), RPC_NJS_MODULE: NJS_MODULE, RPC_CONTROL_PORT: String(controlPort), ...extraEnv,
  });
  return pool;
}

interface PoolState { best: number | null; upstreams: Record<string, { head: number | null; lag: number | null; lagging: boolean; backedOffMs: number }> }
async function poolState(): Promise<PoolState> {
  return JSON.parse((await httpGet(controlPort, '/_rpc_state')).body) as PoolState;
}

function summary(results: { ms: number }[]): string {
  const ms = results.map((r) => r.ms);
  return `p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;
}

beforeAll(() => {
  if (!njsAvailable()) throw new Error(`nginx + njs missing at ${NJS_NGINX}: run scripts/setup.d/rpc.sh`);
});
afterEach(async () => {
  await pool?.stop();
  pool = undefined;
  for (const f of fakes.splice(0)) await f.close();
});
afterAll(stopAll);

describe('RpcPool njs engine: JSON-RPC errors (real nginx + njs)', () => {
  it.each([
    ['-32005 rate limit', { code: -32005, message: 'daily request count exceeded, request rate limited' }],
    ['-32603 internal error', { code: -32603, message: 'internal error' }],
  ])('1,000 calls with one upstream answering 200 + %s: 0 client errors, the bad upstream drops out', async (_label, error) => {
    const [good1, good2, bad] = [await fake(11), await fake(12), await fake(13)];
    bad.answer = () => ({ error });
    await start({
      upstreams: [{ name: 'good1', url: url(good1) }, { name: 'good2', url: url(good2) }, { name: 'bad', url: url(bad) }],
      monitoring: true,
      // Longer than the test, even on a loaded machine: the back-off gauge is checked at the end.
      rateLimitBackoffSeconds: 120,
    });
    const results = await load(pool!.port, 1000, (i) => (i % 10 === 9
      ? [call('eth_blockNumber', i), call('eth_chainId', i + 100_000)] // batches fail over too
      : call('eth_blockNumber', i)));
    const failed = results.filter((r) => !isOk(r));
    const share = bad.total() / (good1.total() + good2.total() + bad.total());
    console.log(`[rpc-njs] ${_label}: client errors ${failed.length}/1000, attempts good1 ${good1.total()} good2 ${good2.total()} bad ${bad.total()} (${(share * 100).toFixed(1)} %), ${summary(results)}`);
    expect(failed.map((r) => r.body).slice(0, 3)).toEqual([]);
    // Round-robin alone would give it a third; backoff (rate limit) or maxFails (internal error) take it out.
    expect(bad.total()).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.05);

    // The exporter sees the failed attempts as rpc<code>, which the RpcUpstreamErrors alert counts.
    await waitFor(async () => {
      const m = parseMetrics((await httpGet(pool!.metricsPort!, '/metrics')).body);
      return (m.get(`rpc_upstream_attempts_total{upstream="bad",kind="http",code="rpc${error.code}"}`) ?? 0) >= 1
        && (m.get('rpc_requests_total{kind="http",code="200"}') ?? 0) === 1000;
    }, 5000, () => 'exporter did not count the JSON-RPC errors');
    expect(pool!.accessLog()).toMatch(new RegExp(`upstream=\\S+/hop-bad\\.sock, \\S+/hop-good\\d\\.sock upstream_status=rpc${error.code}, 200`));
    // State gauges: the rate-limited upstream shows as backed off (the -32603 one may have served its ban by now).
    const m = parseMetrics((await httpGet(pool!.metricsPort!, '/metrics')).body);
    expect(m.get('rpc_state_up')).toBe(1);
    expect(m.get('rpc_upstream_lagging{upstream="bad"}')).toBe(0);
    if (error.code === -32005) expect(m.get('rpc_upstream_backed_off{upstream="bad"}')).toBe(1);
  }, 60_000);

  it('returns invalid params and execution reverted to the client from the first upstream, without retrying', async () => {
    const fs = [await fake(21), await fake(22), await fake(23)];
    for (const f of fs) {
      f.answer = (c) => (c.method === 'eth_getBalance' ? { error: { code: -32602, message: 'invalid argument 0: hex string has length 3, want 40 for common.Address' } }
        : c.method === 'eth_call' ? { error: { code: 3, message: 'execution reverted: not owner' } } : undefined);
    }
    await start({ upstreams: fs.map((f, i) => ({ name: `u${i}`, url: url(f) })) });
    for (const [method, code] of [['eth_getBalance', -32602], ['eth_call', 3]] as const) {
      for (let i = 0; i < 10; i++) {
        const r = await post(pool!.port, call(method, i, ['0xabc', 'latest']));
        expect(r.status).toBe(200);
        expect((r.json as { error: { code: number } }).error.code).toBe(code);
      }
      // 10 calls, 10 attempts in all: none was retried on another upstream.
      expect(fs.reduce((n, f) => n + f.total(method), 0)).toBe(10);
    }
    // Unparsable bodies are answered by the pool itself.
    const bad = await post(pool!.port, 'a JSON string, not a call');
    expect(bad.status).toBe(400);
  }, 30_000);
});

describe('RpcPool njs engine: dead and hanging upstreams', () => {
  it('answers 502 with a JSON-RPC error when every upstream is down, and the exporter sees no successful attempt', async () => {
    const ports = [await freePort(), await freePort()];
    await start({ upstreams: ports.map((p, i) => ({ name: `down${i}`, url: `http://127.0.19.9${i}:${p}/` })), monitoring: true });
    const results = await load(pool!.port, 20, (i) => call('eth_blockNumber', i), 2);
    const ms = results.map((r) => r.ms);
    console.log(`[rpc-njs] all down: 20 calls, statuses ${[...new Set(results.map((r) => r.status))]}, p50 ${percentile(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`);
    for (const r of results) {
      expect(r.status).toBe(502);
      expect((r.json as { error: { code: number; message: string } }).error).toMatchObject({ code: -32603, message: expect.stringMatching(/^no upstream answered/) });
    }
    await waitFor(async () => (parseMetrics((await httpGet(pool!.metricsPort!, '/metrics')).body).get('rpc_requests_total{kind="http",code="502"}') ?? 0) === 20,
      5000, () => 'exporter did not count the 502s');
    const m = parseMetrics((await httpGet(pool!.metricsPort!, '/metrics')).body);
    expect([...m.keys()].filter((k) => k.startsWith('rpc_upstream_attempts_total') && /code="2/.test(k))).toEqual([]);
  }, 30_000);

  it('moves on from an upstream that hangs after its read timeout, then backs it off', async () => {
    const [hang, ok] = [await fake(93), await fake(94)];
    hang.answer = () => 'hang';
    await start({ upstreams: [{ name: 'hang', url: url(hang) }, { name: 'ok', url: url(ok) }], readTimeoutSeconds: 1 });
    const results = await load(pool!.port, 40, (i) => call('eth_blockNumber', i), 2);
    const ms = results.map((r) => r.ms);
    console.log(`[rpc-njs] one hanging upstream (read timeout 1 s): 40 calls ok ${results.filter(isOk).length}, hang got ${hang.total()}, max ${Math.max(...ms).toFixed(0)} ms, p50 ${percentile(ms, 50).toFixed(1)} ms`);
    expect(results.filter((r) => !isOk(r))).toEqual([]);
    // maxFails 2: two timeouts, then it is skipped for failTimeoutSeconds.
    expect(hang.total()).toBeLessThanOrEqual(3);
    expect(Math.max(...ms)).toBeLessThan(5000);
  }, 30_000);
});

describe('RpcPool njs engine: the error table', () => {
  it('retries -32601 method not found and -32000 "header not found" on another upstream; -32000 "nonce too low" goes back', async () => {
    const [partial, full] = [await fake(71), await fake(72)];
    partial.answer = (c) => (c.method === 'debug_traceTransaction' ? { error: { code: -32601, message: 'the method debug_traceTransaction does not exist/is not available' } }
      : c.method === 'eth_getBlockByNumber' ? { error: { code: -32000, message: 'header not found' } }
        : c.method === 'eth_estimateGas' ? { error: { code: -32000, message: 'nonce too low: next nonce 5, tx nonce 4' } } : undefined);
    full.answer = (c) => (c.method === 'eth_estimateGas' ? { error: { code: -32000, message: 'nonce too low: next nonce 5, tx nonce 4' } } : undefined);
    // maxFails 100: "header not found" counts as a failure, but this test is about retries, not bans.
    await start({ upstreams: [{ name: 'partial', url: url(partial) }, { name: 'full', url: url(full) }], maxFails: 100 });
    for (const method of ['debug_traceTransaction', 'eth_getBlockByNumber']) {
      const results = await load(pool!.port, 20, (i) => call(method, i, ['0x1']), 2);
      expect(results.filter((r) => !isOk(r)), method).toEqual([]);
      expect(full.total(method)).toBe(20);
      expect(partial.total(method)).toBeGreaterThan(0); // round-robin sent some there first
    }
    const results = await load(pool!.port, 20, (i) => call('eth_estimateGas', i, [{}]), 2);
    expect(results.every((r) => (r.json as { error?: { message: string } }).error?.message.startsWith('nonce too low'))).toBe(true);
    expect(partial.total('eth_estimateGas') + full.total('eth_estimateGas')).toBe(20);
  }, 30_000);
});

describe('RpcPool njs engine: batches', () => {
  it('resends only the calls of a batch that failed, and answers in the client\'s order', async () => {
    const [partial, full] = [await fake(75), await fake(76)];
    partial.answer = (c) => (c.method === 'eth_getBlockByNumber' ? { error: { code: -32000, message: 'header not found' } } : undefined);
    await start({ upstreams: [{ name: 'partial', url: url(partial) }, { name: 'full', url: url(full) }], maxFails: 100 });
    const methods = ['eth_blockNumber', 'eth_getBlockByNumber', 'eth_chainId', 'eth_gasPrice'];
    const results = await load(pool!.port, 40, (i) => methods.map((m, j) => call(m, i * 10 + j, ['0x1', false])), 2);
    expect(results.filter((r) => !isOk(r))).toEqual([]);
    for (const r of results) {
      const ids = (r.json as Array<{ id: number }>).map((e) => e.id % 10);
      expect(ids).toEqual([0, 1, 2, 3]);
    }
    const received = (m: string): number => partial.total(m) + full.total(m);
    console.log(`[rpc-njs] 40 batches of 4, header not found on partial: partial got ${partial.total('eth_getBlockByNumber')} getBlockByNumber; calls received per method ${methods.map((m) => received(m)).join('/')}`);
    // Only the failed call was resent: the others reached a provider exactly once per batch.
    for (const m of ['eth_blockNumber', 'eth_chainId', 'eth_gasPrice']) expect(received(m)).toBe(40);
    expect(full.total('eth_getBlockByNumber')).toBe(40);
    expect(partial.total('eth_getBlockByNumber')).toBeGreaterThan(0);
    expect(received('eth_getBlockByNumber')).toBe(40 + partial.total('eth_getBlockByNumber'));
  }, 30_000);
});

describe('RpcPool njs engine: lagging upstreams', () => {
  it('gives an upstream 50 blocks behind no eth_blockNumber or eth_call traffic, and readmits it once it catches up', async () => {
    const [a, b, slow] = [await fake(31, { head: 20_000 }), await fake(32, { head: 20_000 }), await fake(33, { head: 19_950 })];
    await start({
      upstreams: [{ name: 'a', url: url(a) }, { name: 'b', url: url(b) }, { name: 'slow', url: url(slow) }],
      headPollIntervalSeconds: 1,
    });
    await waitFor(async () => (await poolState()).upstreams.slow?.lagging === true, 5000, () => 'the poller never saw the lag');
    const state = await poolState();
    expect(state.best).toBe(20_000);
    expect(state.upstreams.slow.lag).toBe(50);
    for (const f of [a, b, slow]) f.reset();
    const lagged = await load(pool!.port, 400, (i) => call(i % 2 ? 'eth_call' : 'eth_blockNumber', i, [{ to: '0x0' }, 'latest']));
    expect(lagged.filter((r) => !isOk(r))).toEqual([]);
    console.log(`[rpc-njs] lagging 50 blocks: slow got ${slow.total()} of 400 calls (a ${a.total()}, b ${b.total()}), polls ${slow.polls}`);
    expect(slow.total('eth_blockNumber')).toBe(0);
    expect(slow.total('eth_call')).toBe(0);

    // Caught up: back in the rotation.
    slow.head = 20_001;
    await waitFor(async () => (await poolState()).upstreams.slow?.lagging === false, 5000, () => 'the poller never saw the catch-up');
    // Only the poller's eth_blockNumber reached it meanwhile.
    expect(slow.polls).toBeGreaterThan(0);
    expect(slow.total()).toBe(0);
    for (const f of [a, b, slow]) f.reset();
    const back = await load(pool!.port, 300, (i) => call('eth_blockNumber', i));
    expect(back.filter((r) => !isOk(r))).toEqual([]);
    console.log(`[rpc-njs] caught up: slow got ${slow.total()} of 300 calls`);
    expect(slow.total()).toBeGreaterThan(60);
  }, 60_000);
});

describe('RpcPool njs engine: writes', () => {
  it('sends each eth_sendRawTransaction once (counted at the fakes), moving on only when the provider never got it', async () => {
    const [flaky, ok, readOnly] = [await fake(41), await fake(42), await fake(43)];
    // A provider that receives the transaction and then fails: resending it elsewhere would broadcast it twice.
    flaky.answer = (c) => (c.method === 'eth_sendRawTransaction' ? { error: { code: -32603, message: 'internal error' } } : undefined);
    const refused = await freePort();
    await start({
      upstreams: [
        { name: 'flaky', url: url(flaky) },
        { name: 'ok', url: url(ok) },
        { name: 'down', url: `http://127.0.19.44:${refused}/` },
        { name: 'readonly', url: url(readOnly), writes: false },
      ],
      // Keep every upstream in the rotation: this test is about resends, not bans.
      maxFails: 100,
    });
    const results = await load(pool!.port, 200, (i) => call('eth_sendRawTransaction', i, [`0x02f8${i.toString(16).padStart(6, '0')}`]), 4);
    const received = [...flaky.rawTxs, ...ok.rawTxs, ...readOnly.rawTxs];
    const perTx = new Map<string, number>();
    for (const tx of received) perTx.set(tx, (perTx.get(tx) ?? 0) + 1);
    const ok200 = results.filter(isOk).length;
    const internal = results.filter((r) => (r.json as { error?: { code: number } })?.error?.code === -32603).length;
    console.log(`[rpc-njs] 200 eth_sendRawTransaction: received flaky ${flaky.rawTxs.length} ok ${ok.rawTxs.length} readonly ${readOnly.rawTxs.length}; client: ${ok200} ok, ${internal} internal error (not resent)`);
    expect(readOnly.rawTxs).toEqual([]);
    expect(Math.max(...perTx.values())).toBe(1);
    expect(perTx.size).toBe(200);
    // The flaky provider's error goes back to the client: it may have broadcast the transaction.
    expect(internal).toBe(flaky.rawTxs.length);
    expect(ok200).toBe(ok.rawTxs.length);
    expect(ok200 + internal).toBe(200);
    // Calls that went first to the refusing provider were moved on (it never got a byte).
    expect(pool!.accessLog()).toMatch(/upstream=\S+\/hop-down\.sock, \S+\/hop-(ok|flaky)\.sock upstream_status=502, /);
    expect(flaky.rawTxs.length).toBeGreaterThan(30);
    expect(ok.rawTxs.length).toBeGreaterThan(60);
    // Reads still go everywhere, the read-only upstream included.
    await load(pool!.port, 60, (i) => call('eth_blockNumber', i));
    expect(readOnly.total('eth_blockNumber')).toBeGreaterThan(0);
  }, 60_000);
});

describe('RpcPool njs engine: WebSocket and TLS', () => {
  it('keeps 6 subscriptions alive when an upstream drops: the dropped clients reconnect and resubscribe on another', async () => {
    const [a, b] = [await fake(51, { ws: true }), await fake(52, { ws: true })];
    await start({ upstreams: [{ name: 'a', url: url(a), wsUrl: `ws://${a.host}:${a.port}/` }, { name: 'b', url: url(b), wsUrl: `ws://${b.host}:${b.port}/` }] });

    interface Sub { socket?: WebSocket; messages: number; reconnects: number; closed: boolean }
    const subs: Sub[] = Array.from({ length: 6 }, () => ({ messages: 0, reconnects: 0, closed: false }));
    const open = (s: Sub): void => {
      const socket = new WebSocket(`ws://127.0.0.1:${pool!.port}/ws`);
      s.socket = socket;
      socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })));
      socket.on('message', (d) => { if (JSON.parse(d.toString()).method === 'eth_subscription') s.messages++; });
      // What any WebSocket JSON-RPC client does: reconnect and resubscribe.
      socket.on('close', () => { if (!s.closed) { s.reconnects++; setTimeout(() => open(s), 50); } });
      socket.on('error', () => undefined);
    };
    subs.forEach(open);
    await waitFor(async () => subs.every((s) => s.messages >= 3), 5000, () => 'subscriptions got no messages');
    expect(a.sockets.size).toBeGreaterThan(0);
    expect(b.sockets.size).toBeGreaterThan(0);

    await a.close(); // upstream a drops every connection and refuses new ones
    for (const s of subs) s.messages = 0;
    await waitFor(async () => subs.every((s) => s.messages >= 5), 10_000, () => `not every subscription recovered: ${JSON.stringify(subs.map((s) => s.messages))}`);
    const dropped = subs.filter((s) => s.reconnects > 0).length;
    console.log(`[rpc-njs] WebSocket: ${dropped} of 6 subscriptions dropped with upstream a and resubscribed through the pool; b now holds ${b.sockets.size}`);
    expect(dropped).toBeGreaterThan(0);
    expect(b.sockets.size).toBe(6);
    for (const s of subs) { s.closed = true; s.socket?.close(); }
  }, 30_000);

  it('opens new subscriptions only on upstreams in sync: a WebSocket upstream 50 blocks behind gets none until it catches up', async () => {
    const [a, slow] = [await fake(53, { ws: true, head: 20_000 }), await fake(54, { ws: true, head: 19_950 })];
    await start({
      upstreams: [{ name: 'a', url: url(a), wsUrl: `ws://${a.host}:${a.port}/` }, { name: 'slow', url: url(slow), wsUrl: `ws://${slow.host}:${slow.port}/` }],
      headPollIntervalSeconds: 1,
    });
    await waitFor(async () => (await poolState()).upstreams.slow?.lagging === true, 5000, () => 'the poller never saw the lag');
    const subscribe = async (): Promise<WebSocket> => {
      const socket = new WebSocket(`ws://127.0.0.1:${pool!.port}/ws`);
      await new Promise<void>((resolve, reject) => {
        socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })));
        socket.on('message', (d) => { if (JSON.parse(d.toString()).method === 'eth_subscription') resolve(); });
        socket.on('error', reject);
      });
      return socket;
    };
    const first = await Promise.all(Array.from({ length: 6 }, subscribe));
    expect([a.sockets.size, slow.wsConnections]).toEqual([6, 0]);
    slow.head = 20_001;
    await waitFor(async () => (await poolState()).upstreams.slow?.lagging === false, 5000, () => 'the poller never saw the catch-up');
    const second = await Promise.all(Array.from({ length: 6 }, subscribe));
    console.log(`[rpc-njs] WebSocket lag: 6 subscriptions while lagging -> a ${6}, slow 0; 6 after catch-up -> slow ${slow.wsConnections}`);
    expect(slow.wsConnections).toBeGreaterThan(0);
    for (const s of [...first, ...second]) s.close();
  }, 30_000);

  it('TLS per upstream: SNI and the Secret path reach the provider; a certificate for another host is refused, 0 client errors', async () => {
    const dir = makeTempDir('rpc-njs-tls-');
    const good = selfSignedCert(dir, 'localhost');
    const other = selfSignedCert(dir, 'other.example');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, readFileSync(good.certFile, 'utf8') + readFileSync(other.certFile, 'utf8'), { mode: 0o644 });
    // Both listen on 127.0.0.1 here: `localhost` must resolve to it.
    const tls = await startRpcFake('127.0.0.1', { tls: { key: good.key, cert: good.cert } });
    const wrong = await startRpcFake('127.0.0.1', { tls: { key: other.key, cert: other.cert } });
    fakes.push(tls, wrong);
    await start({
      upstreams: [
        { name: 'keyed', urlSecret: { secretName: 'rpc-urls', key: 'keyed' } },
        { name: 'wrong-cert', urlSecret: { secretName: 'rpc-urls', key: 'wrong' } },
      ],
    }, {
      'rpc-urls/keyed': `https://localhost:${tls.port}/v2/${API_KEY}`,
      'rpc-urls/wrong': `https://localhost:${wrong.port}/v3/${API_KEY}`,
    }, { RPC_CA_FILE: ca });
    const results = await load(pool!.port, 100, (i) => call('eth_blockNumber', i));
    expect(results.filter((r) => !isOk(r))).toEqual([]);
    expect(tls.total()).toBe(100);
    expect(tls.servernames).toEqual(new Set(['localhost']));
    expect(new Set(tls.paths)).toEqual(new Set([`/v2/${API_KEY}`]));
    // The handshake fails before any HTTP request: nothing reached the host with the wrong certificate.
    expect(wrong.total()).toBe(0);
    expect(pool!.accessLog()).not.toContain(API_KEY);
  }, 30_000);
});

describe('RpcPool upstream list as a chart value', () => {
  it('helm template --set-json <pool>.upstreams=[...]: the rendered pod runs against the new list (names, weights, URL, Secret key)', async () => {
    const [old, fresh, keyed] = [await fake(81), await fake(82), await fake(83)];
    const app = Testing.app();
    const chart = new Chart(app, 'chain', { namespace: 'chain' });
    new RpcPool(chart, 'eth-rpc', {
      upstreams: [{ name: 'old', url: url(old) }, { name: 'keyed', urlSecret: { secretName: 'rpc-urls', key: 'first' } }],
    });
    const dir = makeTempDir('rpc-chart-');
    writeHelmChart(app, join(dir, 'chart'));
    const objects = await renderChart(join(dir, 'chart'), 'rel', {
      namespace: 'chain',
      values: { 'ethRpc.upstreams': [{ name: 'fresh', weight: 3, url: url(fresh) }, { name: 'keyed', weight: 1, urlSecret: { secretName: 'other-urls', key: 'second' } }] },
    });
    // The rendered Deployment mounts the other Secret key; the test fills it with the keyed fake's URL.
    await startPoolFrom(objects, { 'other-urls/second': url(keyed, `/v2/${API_KEY}`) });
    const results = await load(pool!.port, 400, (i) => call('eth_blockNumber', i));
    expect(results.filter((r) => !isOk(r))).toEqual([]);
    console.log(`[rpc-njs] chart value: old ${old.total()}, fresh ${fresh.total()}, keyed ${keyed.total()} of 400`);
    expect(old.total()).toBe(0);
    expect(fresh.total()).toBe(300);
    expect(keyed.total()).toBe(100);
    expect(new Set(keyed.paths.filter((p) => p !== '/'))).toEqual(new Set([`/v2/${API_KEY}`]));
    // A plain entry can't be turned into a keyed one (or back) by values: the layout is fixed at synth.
    await expect(renderChart(join(dir, 'chart'), 'rel', {
      namespace: 'chain', values: { 'ethRpc.upstreams': [{ name: 'a', weight: 1, urlSecret: { secretName: 's', key: 'k' } }, { name: 'b', weight: 1, url: 'https://x.example' }] },
    })).rejects.toThrow(/upstreams\[0\]\.url: this entry takes a plain URL/);
  }, 60_000);
});

async function startPoolFrom(objects: K8sObject[], secrets: Record<string, string>): Promise<void> {
  controlPort = await freePort();
  pool = await startPool(objects, secrets, { PATH: busyboxPath(NJS_NGINX), RPC_NJS_MODULE: NJS_MODULE, RPC_CONTROL_PORT: String(controlPort) });
}

describe('RpcPool njs engine: added latency', () => {
  it('adds little to a direct call (p50, p99 over 2,000 eth_blockNumber calls)', async () => {
    const [a, b] = [await fake(61), await fake(62)];
    await start({ upstreams: [{ name: 'a', url: url(a) }, { name: 'b', url: url(b) }] });
    const make = (i: number): unknown => call('eth_blockNumber', i);
    await loadDirect(a, 200); // warm-up, both ways
    await load(pool!.port, 200, make, 4);
    const direct = await loadDirect(a, 2000);
    const proxied = await load(pool!.port, 2000, make, 4);
    expect(proxied.filter((r) => !isOk(r))).toEqual([]);
    const p = (rs: { ms: number }[], q: number): number => percentile(rs.map((r) => r.ms), q);
    console.log(`[rpc-njs] latency, 4 in flight: direct ${summary(direct)}; through the pool ${summary(proxied)}; added p50 ${(p(proxied, 50) - p(direct, 50)).toFixed(2)} ms, p99 ${(p(proxied, 99) - p(direct, 99)).toFixed(2)} ms (shared 2-core machine: noisy)`);
    // Bounds with margin for a loaded machine.
    expect(p(proxied, 50) - p(direct, 50)).toBeLessThan(25);
  }, 60_000);
});

async function loadDirect(f: RpcFake, count: number): ReturnType<typeof load> {
  const results: Awaited<ReturnType<typeof load>> = [];
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < count) {
      const i = next++;
      results.push(await post(f.port, call('eth_blockNumber', i), f.host));
    }
  }));
  return results;
}
