/**
 * RpcPool for real: Debian's nginx runs the exact files of the synthesized ConfigMap, started by the same entrypoint
 * with the Deployment's env (upstream URLs injected the way the container gets them), in front of fake JSON-RPC
 * upstreams on 127.0.0.1.
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RpcPool, RpcPoolProps } from '../lib';
import { K8sObject, container, find, synth } from './harness/synth';
import {
  FakeUpstream, NGINX_DIR, RunningPool, busyboxPath, containerEnv, httpGet, makeTempDir, parseMetrics, percentile,
  refusedPort, rpcCall, rpcLoad, selfSignedCert, startFakeUpstream, startPool, stopAll, waitFor,
} from './rpc-support';

/** A provider API key as Infura/Alchemy issue them; it must never leave the Secret except into the rendered files. */
const API_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const CALLS = 1000;

const fakes: FakeUpstream[] = [];
let pool: RunningPool | undefined;

async function fake(opts: Parameters<typeof startFakeUpstream>[0] = {}): Promise<FakeUpstream> {
  const f = await startFakeUpstream(opts);
  fakes.push(f);
  return f;
}

/** The nginx engine (HTTP status only), which Debian bookworm's nginx 1.22 runs; test/rpc-njs.test.ts covers njs. */
function poolObjects(props: RpcPoolProps): K8sObject[] {
  return synth((chart) => new RpcPool(chart, 'rpc', { engine: 'nginx', ...props }), { namespace: 'chain' });
}

afterEach(async () => {
  await pool?.stop();
  pool = undefined;
  for (const f of fakes.splice(0)) await f.close();
});
afterAll(stopAll);

function summary(results: { status: number; ms: number }[]): string {
  const ms = results.map((r) => r.ms);
  return `p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`;
}

describe('RpcPool on nginx (real processes)', () => {
  it('spreads 1,000 eth_blockNumber calls round-robin over 3 healthy upstreams, each within ±10 % of a third', async () => {
    const [alpha, beta, gamma] = [await fake(), await fake(), await fake()];
    const objects = poolObjects({
      upstreams: [
        { name: 'alpha', urlSecret: { secretName: 'rpc-urls', key: 'alpha' } },
        { name: 'beta', url: `http://127.0.0.1:${beta.port}` },
        { name: 'gamma', url: `http://127.0.0.1:${gamma.port}/` },
      ],
    });
    const secretUrl = `http://127.0.0.1:${alpha.port}/v2/${API_KEY}?tier=archive`;
    pool = await startPool(objects, { 'rpc-urls/alpha': secretUrl });

    const results = await rpcLoad(pool.port, CALLS);
    const failed = results.filter((r) => r.status !== 200 || !r.body.includes('"result":"0x12a05f2"'));
    const counts = { alpha: alpha.stats.requests, beta: beta.stats.requests, gamma: gamma.stats.requests };
    console.log(`[rpc] round-robin over 3 healthy upstreams: ${JSON.stringify(counts)} of ${CALLS}, client errors ${failed.length}, ${summary(results)}`);
    expect(failed).toEqual([]);
    for (const n of Object.values(counts)) expect(Math.abs(n - CALLS / 3)).toBeLessThanOrEqual(0.1 * CALLS / 3);

    // The provider got the Secret's path and query, its own Host header; the key stayed out of the manifests and logs.
    expect(new Set(alpha.stats.paths)).toEqual(new Set([`/v2/${API_KEY}?tier=archive`]));
    expect(alpha.stats.hosts).toEqual(new Set([`127.0.0.1:${alpha.port}`]));
    expect(new Set(beta.stats.paths)).toEqual(new Set(['/']));
    expect(JSON.stringify(objects)).not.toContain(API_KEY);
    const rendered = join(pool.renderDir, 'upstreams.conf');
    expect(readFileSync(rendered, 'utf8')).toContain(API_KEY);
    expect(statSync(rendered).mode & 0o077).toBe(0);
    const log = pool.accessLog();
    expect(log).not.toContain(API_KEY);
    expect(pool.stderr()).not.toContain(API_KEY);
    expect(log).toMatch(/"POST \/ HTTP\/1\.1" 200 .* upstream=unix:\S+\/hop-(alpha|beta|gamma)\.sock upstream_status=200/);
    expect(log).toMatch(/hop=alpha .* 200 upstream=127\.0\.0\.1:\d+ upstream_status=200/);
  }, 30_000);

  it('answers 1,000 calls without a client error while one upstream returns 502 and one refuses connections', async () => {
    const [good, bad] = [await fake(), await fake({ mode: 'http502' })];
    const down = await refusedPort();
    const objects = poolObjects({
      upstreams: [
        { name: 'bad', url: `http://127.0.0.1:${bad.port}` },
        { name: 'down', url: `http://127.0.0.1:${down}` },
        { name: 'good', url: `http://127.0.0.1:${good.port}` },
      ],
      monitoring: true,
    });
    pool = await startPool(objects);

    const results = await rpcLoad(pool.port, CALLS);
    const errors = results.filter((r) => r.status !== 200);
    console.log(`[rpc] failover (502 + refused + healthy): client errors ${errors.length} of ${CALLS}; attempts reaching ` +
      `good ${good.stats.requests}, bad (502) ${bad.stats.requests}; ${summary(results)}`);
    expect(errors).toEqual([]);
    expect(good.stats.requests).toBe(CALLS);
    // Passive health: after max_fails the 502 upstream is skipped instead of costing every call a retry.
    expect(bad.stats.requests).toBeGreaterThan(0);
    expect(bad.stats.requests).toBeLessThan(CALLS / 10);

    // The exporter sidecar counted the same attempts from nginx's access lines.
    let metrics = new Map<string, number>();
    await waitFor(async () => {
      metrics = parseMetrics((await httpGet(pool!.metricsPort!, '/metrics')).body);
      return metrics.get('rpc_requests_total{kind="http",code="200"}') === CALLS;
    }, 3000, () => `exporter counted ${metrics.get('rpc_requests_total{kind="http",code="200"}')} requests`);
    const attempts = (upstream: string, code: string): number => metrics.get(`rpc_upstream_attempts_total{upstream="${upstream}",kind="http",code="${code}"}`) ?? 0;
    console.log(`[rpc] exporter: requests 200 = ${CALLS}, attempts good/200 = ${attempts('good', '200')}, bad/502 = ${attempts('bad', '502')}, down/502 = ${attempts('down', '502')}`);
    expect(attempts('good', '200')).toBe(CALLS);
    expect(attempts('bad', '502')).toBe(bad.stats.requests);
    expect(attempts('down', '502')).toBeGreaterThan(0);
    expect(metrics.get('rpc_request_duration_seconds_count')).toBe(CALLS);
    expect(metrics.get('rpc_metrics_unparsed_lines_total')).toBe(0);
  }, 30_000);

  it('gives a clear 502 quickly when every upstream is down', async () => {
    const bad = await fake({ mode: 'http502' });
    const objects = poolObjects({
      upstreams: [
        { name: 'down-a', url: `http://127.0.0.1:${await refusedPort()}` },
        { name: 'down-b', url: `http://127.0.0.1:${await refusedPort()}` },
        { name: 'bad', url: `http://127.0.0.1:${bad.port}` },
      ],
    });
    pool = await startPool(objects);

    const results = [];
    for (let id = 0; id < 20; id++) results.push(await rpcCall(pool.port, 'eth_blockNumber', id));
    console.log(`[rpc] all upstreams down: statuses ${JSON.stringify([...new Set(results.map((r) => r.status))])}, first call ${results[0].ms.toFixed(1)} ms, ${summary(results)}`);
    expect(results.every((r) => r.status === 502)).toBe(true);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(1000);
    // The first call tried each upstream once (maxTries = 3); later ones find them all marked down.
    const first = pool.accessLog().split('\n').find((l) => l.includes('"POST /'))!;
    expect(first.match(/hop-/g)).toHaveLength(3);
  }, 30_000);

  it('bounds a call to hanging upstreams by the retry timeout: 504, not a hang', async () => {
    const hanging = [await fake({ mode: 'hang' }), await fake({ mode: 'hang' }), await fake({ mode: 'hang' })];
    const objects = poolObjects({
      upstreams: hanging.map((f, i) => ({ name: `slow-${i}`, url: `http://127.0.0.1:${f.port}` })),
      connectTimeoutSeconds: 1,
      readTimeoutSeconds: 1,
      retryTimeoutSeconds: 2,
    });
    pool = await startPool(objects);

    const result = await rpcCall(pool.port, 'eth_blockNumber', 1);
    const attempts = hanging.reduce((n, f) => n + f.stats.requests, 0);
    console.log(`[rpc] all upstreams hanging (read timeout 1 s, retry timeout 2 s, 3 tries): ${result.status} after ${result.ms.toFixed(0)} ms, ${attempts} attempts`);
    expect(result.status).toBe(504);
    // Each attempt waits its read timeout (1 s); no new attempt starts 2 s after the first.
    expect(result.ms).toBeGreaterThan(1900);
    expect(result.ms).toBeLessThan(3500);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(3);
  }, 30_000);

  it('carries WebSocket subscriptions through /ws, failing over when an upstream refuses the connection', async () => {
    const [plain, subscriber] = [await fake(), await fake({ ws: true })];
    const objects = poolObjects({
      upstreams: [
        { name: 'ws-down', url: `http://127.0.0.1:${plain.port}`, wsUrl: `ws://127.0.0.1:${await refusedPort()}` },
        { name: 'ws-up', urlSecret: { secretName: 'rpc-urls', key: 'http' }, wsUrlSecret: { secretName: 'rpc-urls', key: 'ws' } },
      ],
    });
    pool = await startPool(objects, {
      'rpc-urls/http': `http://127.0.0.1:${subscriber.port}/v3/${API_KEY}`,
      'rpc-urls/ws': `ws://127.0.0.1:${subscriber.port}/ws/v3/${API_KEY}`,
    });

    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const messages = await subscribe(`ws://127.0.0.1:${pool.port}/ws`, 4);
      timings.push(performance.now() - started);
      expect(messages[0]).toMatchObject({ id: 1, result: '0xcafe' });
      expect(messages.slice(1).map((m) => m.params?.result?.number)).toEqual(['0x100', '0x101', '0x102']);
    }
    console.log(`[rpc] WebSocket: 5 subscriptions, 3 pushed messages each, subscribe-to-third-push ${timings.map((t) => t.toFixed(0)).join('/')} ms`);
    expect(subscriber.stats.wsConnections).toBe(5);
    // At least one connection went to the refusing upstream first and was retried on the next.
    expect(pool.accessLog()).toMatch(/"GET \/ws HTTP\/1\.1" 101 .*upstream=unix:\S+\/ws-ws-down\.sock, unix:\S+\/ws-ws-up\.sock upstream_status=502, 101/);
    expect(new Set(subscriber.stats.wsPaths)).toEqual(new Set([`/ws/v3/${API_KEY}`]));
    expect(pool.accessLog()).not.toContain(API_KEY);
  }, 30_000);

  it('speaks TLS to each upstream with its own SNI name and refuses a certificate for another name', async () => {
    const dir = makeTempDir('rpc-tls-');
    const good = selfSignedCert(dir, 'localhost');
    const other = selfSignedCert(dir, 'other.test');
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, good.cert + other.cert);
    chmodSync(caFile, 0o644);
    const [tlsGood, tlsWrongName, plain] = [await fake({ tls: good }), await fake({ tls: other }), await fake()];
    const objects = poolObjects({
      upstreams: [
        { name: 'tls-good', urlSecret: { secretName: 'rpc-urls', key: 'tls' } },
        // Reached as "localhost" but presents a certificate for other.test: verification must fail.
        { name: 'tls-wrong-name', url: `https://localhost:${tlsWrongName.port}/` },
        { name: 'plain', url: `http://127.0.0.1:${plain.port}` },
      ],
    });
    pool = await startPool(objects, { 'rpc-urls/tls': `https://localhost:${tlsGood.port}/v3/${API_KEY}` }, { RPC_CA_FILE: caFile });

    const results = await rpcLoad(pool.port, 300);
    const errors = results.filter((r) => r.status !== 200);
    console.log(`[rpc] TLS: ${errors.length} client errors of 300; tls-good ${tlsGood.stats.requests} (SNI ${[...tlsGood.stats.servernames]}), ` +
      `tls-wrong-name ${tlsWrongName.stats.requests} HTTP requests, plain ${plain.stats.requests}; ${summary(results)}`);
    expect(errors).toEqual([]);
    expect(tlsGood.stats.requests).toBeGreaterThan(0);
    expect(tlsGood.stats.servernames).toEqual(new Set(['localhost']));
    expect(tlsGood.stats.hosts).toEqual(new Set([`localhost:${tlsGood.port}`]));
    expect(new Set(tlsGood.stats.paths)).toEqual(new Set([`/v3/${API_KEY}`]));
    // It was tried, and its hop refused the certificate (502) before any HTTP request reached it.
    expect(tlsWrongName.stats.requests).toBe(0);
    expect(pool.accessLog()).toMatch(/hop=tls-wrong-name .* 502 upstream=127\.0\.0\.1:\d+ upstream_status=502/);

    // Each TLS hop carries its own SNI name; `nginx -t` accepts the rendered config.
    const rendered = readFileSync(join(pool.renderDir, 'upstreams.conf'), 'utf8');
    expect(rendered.match(/proxy_ssl_name "localhost";/g)).toHaveLength(2);
    expect(rendered).toContain('proxy_ssl_verify on;');
    const check = spawnSync(join(NGINX_DIR, 'nginx'), ['-t', '-q', '-p', `${pool.renderDir}/`, '-c', join(pool.renderDir, 'nginx.conf'), '-e', 'stderr'],
      { encoding: 'utf8', ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}) });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  }, 30_000);
});

function subscribe(url: string, count: number): Promise<Array<{ id?: number; result?: string; params?: { result?: { number?: string } } }>> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const messages: Array<Record<string, never>> = [];
    const timer = setTimeout(() => { socket.terminate(); reject(new Error(`only ${messages.length} messages from ${url}`)); }, 5000);
    socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })));
    socket.on('message', (data) => {
      messages.push(JSON.parse(data.toString()));
      if (messages.length === count) {
        clearTimeout(timer);
        socket.close();
        resolve(messages);
      }
    });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Debian's dash, and BusyBox as in the Alpine-based proxy image. */
const SHELLS = ['sh', 'busybox'] as const;

function makeNginxDir(nginx: string): string {
  const dir = makeTempDir('rpc-nginx-bin-');
  symlinkSync(nginx, join(dir, 'nginx'));
  return dir;
}

describe('RpcPool entrypoint (render only)', () => {
  const objects = poolObjects({
    upstreams: [
      { name: 'alchemy', urlSecret: { secretName: 'rpc-urls', key: 'alchemy' } },
      { name: 'infura', urlSecret: { secretName: 'rpc-urls', key: 'infura' } },
    ],
    selfHostedNode: { image: 'ethereum/client-go:v1.14.12', storage: '2Ti', resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '8', memory: '32Gi' } } },
  });
  const secrets = {
    'rpc-urls/alchemy': `https://eth-mainnet.g.alchemy.com/v2/${API_KEY}`,
    'rpc-urls/infura': `https://mainnet.infura.io/v3/${API_KEY}`,
  };

  /** Renders with Debian's dash and coreutils (`sh`) or with BusyBox as in the image (`busybox`). */
  function render(overrides: Record<string, string | undefined>, shell: 'sh' | 'busybox', nginx = join(NGINX_DIR, 'nginx')): { status: number | null; stderr: string; config: string; nginxConf: string } {
    const path = shell === 'busybox' ? busyboxPath(nginx) : `${makeNginxDir(nginx)}:/usr/bin:/bin`;
    const configMap = find(objects, 'ConfigMap');
    const dir = makeTempDir('rpc-render-');
    for (const [file, content] of Object.entries(configMap.data as Record<string, string>)) writeFileSync(join(dir, file), content);
    const env: Record<string, string> = { ...containerEnv(container(find(objects, 'Deployment'), 'app'), secrets, find(objects, 'Deployment')), RPC_RENDER_DIR: join(dir, 'run'), PATH: path };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const run = spawnSync(shell === 'busybox' ? join(path, 'sh') : 'sh', [join(dir, 'entrypoint.sh'), 'render'], { env, encoding: 'utf8' });
    const read = (file: string): string => (existsSync(join(dir, 'run', file)) ? readFileSync(join(dir, 'run', file), 'utf8') : '');
    return { status: run.status, stderr: run.stderr, config: read('upstreams.conf'), nginxConf: read('nginx.conf') };
  }

  it.each(SHELLS)('gives each provider its own Host, SNI name and certificate check, and resolves names at run time on nginx >= 1.27.3 (%s)', (shell) => {
    const dir = makeTempDir('rpc-resolv-');
    writeFileSync(join(dir, 'resolv.conf'), 'search chain.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    // A stand-in `nginx -v` of the shipped image's version: RPC_RESOLVE=auto must pick run-time resolution.
    writeFileSync(join(dir, 'nginx'), '#!/bin/sh\necho "nginx version: nginx/1.28.0" >&2\n', { mode: 0o755 });
    const { status, stderr, config } = render({ RPC_RESOLV_CONF: join(dir, 'resolv.conf') }, shell, join(dir, 'nginx'));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(config).toContain('resolver 10.96.0.10 valid=30s ipv6=off;');
    expect(config).toMatch(/upstream remote_alchemy \{\n    zone remote_alchemy 64k;\n    server eth-mainnet\.g\.alchemy\.com:443 resolve;/);
    expect(config).toContain('proxy_ssl_name "eth-mainnet.g.alchemy.com";');
    expect(config).toContain('proxy_set_header Host "eth-mainnet.g.alchemy.com";');
    expect(config).toContain(`proxy_pass "https://remote_alchemy/v2/${API_KEY}";`);
    expect(config).toContain('proxy_ssl_name "mainnet.infura.io";');
    // nginx's resolver ignores the search list: the node's short Service name is completed.
    expect(config).toContain('server rpc-node.chain.svc.cluster.local:8545 resolve;');
    expect(config).toMatch(/server unix:\S+\/hop-self-hosted\.sock weight=5 max_fails=2 fail_timeout=15s;/);
  });

  it.each(SHELLS)('resolves names once at start on older nginx (the Debian 1.22 the tests run) (%s)', (shell) => {
    const { status, config, nginxConf } = render({}, shell);
    expect(status).toBe(0);
    // The Deployment's bare port also listens on IPv6 where the host has it.
    expect(nginxConf).toContain('listen 8545;');
    expect(nginxConf).not.toMatch(/\$\{RPC_[A-Z0-9_]+\}/);
    expect(nginxConf.includes('listen [::]:8545;')).toBe(existsSync('/proc/net/if_inet6'));
    expect(config).not.toContain('resolve;');
    expect(config).not.toContain('resolver ');
    expect(config).toContain('server rpc-node:8545;');
  });

  it.each(SHELLS)('refuses bad env with a message that names the variable but never shows a URL (%s)', (shell) => {
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ RPC_UPSTREAM_1_URL: `https://eth-mainnet.g.alchemy.com/v2/${API_KEY} x` }, /RPC_UPSTREAM_1_URL \(upstream 'alchemy'\) must be a URL without spaces/],
      [{ RPC_UPSTREAM_1_URL: `https://eth-mainnet.g.alchemy.com/v2/$${API_KEY}` }, /RPC_UPSTREAM_1_URL .* must be a URL without/],
      [{ RPC_UPSTREAM_1_URL: `ftp://eth-mainnet.g.alchemy.com/v2/${API_KEY}` }, /must be an http:\/\/ or https:\/\/ URL, not ftp:\/\//],
      [{ RPC_UPSTREAM_2_URL: `https://user:${API_KEY}@mainnet.infura.io/` }, /RPC_UPSTREAM_2_URL .*user:password@ is not supported/],
      [{ RPC_UPSTREAM_2_URL: `https://mainnet_infura.io/v3/${API_KEY}` }, /RPC_UPSTREAM_2_URL .* has an invalid host/],
      [{ RPC_UPSTREAM_2_URL: `https://mainnet.infura.io:99999/v3/${API_KEY}` }, /RPC_UPSTREAM_2_URL .* has an invalid port/],
      [{ RPC_UPSTREAM_2_URL: '' }, /RPC_UPSTREAM_2_URL is empty/],
      [{ RPC_TRIES: undefined }, /RPC_TRIES must be an integer from 1 to 32/],
      [{ RPC_UPSTREAM_2_NAME: 'alchemy' }, /RPC_UPSTREAM_2_NAME 'alchemy' is used twice/],
      [{ RPC_LISTEN: '0.0.0.0:80; evil' }, /RPC_LISTEN must be a port or IPv4:port/],
      [{ RPC_RESOLVE: 'maybe' }, /RPC_RESOLVE must be auto, on or off/],
      [{ RPC_ENGINE: 'erpc' }, /RPC_ENGINE must be njs or nginx, got 'erpc'/],
      [{ RPC_ENGINE: 'njs' }, /RPC_MAX_LAG must be an integer/],
      [{ RPC_UPSTREAM_1_URL: `https://eth-mainnet.g.alchemy.com/v2/${API_KEY}`, RPC_UPSTREAM_1_URL_FILE: '/etc/rpc-urls/upstream-1-http' }, /give RPC_UPSTREAM_1_URL or RPC_UPSTREAM_1_URL_FILE, not both/],
      [{ RPC_UPSTREAM_1_URL_FILE: '/nonexistent/upstream-1-http' }, /RPC_UPSTREAM_1_URL_FILE: cannot read/],
      [{ RPC_UPSTREAM_2_WRITES: 'maybe' }, /RPC_UPSTREAM_2_WRITES must be true or false/],
    ];
    for (const [given, message] of cases) {
      // A case that sets a URL as a value replaces the Secret file the construct mounts for it.
      const env = { ...given };
      for (const k of Object.keys(given)) if (/^RPC_UPSTREAM_\d+_URL$/.test(k) && !(`${k}_FILE` in given)) env[`${k}_FILE`] = undefined;
      const { status, stderr } = render(env, shell);
      expect(status, JSON.stringify(env)).toBe(64);
      expect(stderr).toMatch(message);
      expect(stderr).not.toContain(API_KEY);
    }
  });

  it('passes shellcheck', () => {
    const script = join(__dirname, '..', 'lib', 'rpc', 'entrypoint.sh');
    expect(() => execFileSync('shellcheck', ['-s', 'sh', script], { encoding: 'utf8' })).not.toThrow();
  });
});
