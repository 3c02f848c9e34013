/**
 * Support for the RpcPool real-process tests: fake JSON-RPC upstreams on 127.0.0.1, and the proxy started the way
 * its container starts it (the entrypoint from the synthesized ConfigMap, env from the synthesized Deployment).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import http from 'http';
import https from 'https';
import { AddressInfo, createServer as createNetServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { WebSocketServer } from 'ws';
import { K8sObject, container, find } from './harness/synth';

export const NGINX_DIR = '/usr/sbin';

/**
 * A PATH directory with only BusyBox applets (the proxy image is Alpine: BusyBox sh, awk, grep, sed) and `nginx`,
 * so the entrypoint runs here with the same tools as in the container.
 */
export function busyboxPath(nginx = join(NGINX_DIR, 'nginx')): string {
  const dir = makeTempDir('rpc-busybox-');
  for (const applet of ['sh', 'awk', 'grep', 'sed', 'tr', 'date', 'mkdir', 'rm', 'cat', 'dirname', 'cp']) symlinkSync('/usr/bin/busybox', join(dir, applet));
  symlinkSync(nginx, join(dir, 'nginx'));
  return dir;
}

/** nginx refuses to run its workers as root; when the suite runs as root, run the proxy as `nobody`, like the pod. */
const RUN_AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

export interface FakeStats {
  requests: number;
  paths: string[];
  hosts: Set<string>;
  /** TLS SNI names seen. */
  servernames: Set<string>;
  wsConnections: number;
  wsPaths: string[];
}

export interface FakeUpstream {
  readonly port: number;
  readonly stats: FakeStats;
  close(): Promise<void>;
}

export type FakeMode = 'ok' | 'http502' | 'hang';

/**
 * A fake JSON-RPC node: answers `eth_blockNumber` (mode ok), always 502 (http502) or never answers (hang). With
 * `ws`, it also accepts WebSocket connections and pushes three `eth_subscription` messages after `eth_subscribe`.
 */
export async function startFakeUpstream(opts: { mode?: FakeMode; ws?: boolean; tls?: { key: string; cert: string } } = {}): Promise<FakeUpstream> {
  const mode = opts.mode ?? 'ok';
  const stats: FakeStats = { requests: 0, paths: [], hosts: new Set(), servernames: new Set(), wsConnections: 0, wsPaths: [] };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      stats.paths.push(req.url ?? '');
      stats.hosts.add(req.headers.host ?? '');
      const servername = (req.socket as { servername?: string | false }).servername;
      if (servername) stats.servernames.add(servername);
      if (mode === 'hang') return;
      if (mode === 'http502') {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway (fake)');
        return;
      }
      const call = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { id?: number };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: call.id ?? null, result: '0x12a05f2' }));
    });
  };
  const servers: (http.Server | https.Server)[] = [];
  const make = (): http.Server | https.Server => {
    const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
    if (opts.ws) attachWebSocket(server, stats);
    servers.push(server);
    return server;
  };
  const first = make();
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
  const port = (first.address() as AddressInfo).port;
  if (opts.tls) {
    // `localhost` may also resolve to ::1 (it does on CI runners); answer there too, when the host has IPv6.
    const v6 = make();
    await new Promise<void>((resolve) => v6.once('error', () => resolve()).listen(port, '::1', resolve));
  }
  return {
    port,
    stats,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections?.();
        await new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
      }
    },
  };
}

function attachWebSocket(server: http.Server | https.Server, stats: FakeStats): void {
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    stats.wsConnections++;
    stats.wsPaths.push(req.url ?? '');
    socket.on('message', (data) => {
      const call = JSON.parse(data.toString()) as { id: number; method: string };
      if (call.method !== 'eth_subscribe') return;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: '0xcafe' }));
      let block = 0x100;
      const timer = setInterval(() => {
        if (socket.readyState !== socket.OPEN || block > 0x102) {
          clearInterval(timer);
          return;
        }
        socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: '0xcafe', result: { number: `0x${(block++).toString(16)}` } } }));
      }, 20);
    });
  });
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function refusedPort(): Promise<number> {
  return freePort();
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A self-signed certificate for `name`, made with the openssl CLI. */
export function selfSignedCert(dir: string, name: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  chmodSync(certFile, 0o644);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

const tempDirs: string[] = [];

/** A temp dir the proxy's user can read; removed by {@link stopAll}. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

/**
 * The proxy container's env, with Secret references filled from `secrets` (`"<secretName>/<key>"` → value). With the
 * `deployment`, Secret keys the container mounts from projected volumes are written to files in a temp dir (mode
 * 0644: the test's nobody must read them, as the pod's fsGroup does) and env values pointing into such a mount are
 * redirected there.
 */
export function containerEnv(c: K8sObject, secrets: Record<string, string>, deployment?: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  const files = new Map<string, string>(); // path in the pod → path here
  if (deployment) {
    const volumes = (deployment.spec.template.spec.volumes ?? []) as K8sObject[];
    for (const m of (c.volumeMounts ?? []) as K8sObject[]) {
      const projected = volumes.find((v) => v.name === m.name)?.projected;
      if (!projected) continue;
      const dir = makeTempDir('rpc-secret-files-');
      for (const source of projected.sources as K8sObject[]) {
        for (const item of source.secret?.items ?? []) {
          const value = secrets[`${source.secret.name}/${item.key}`];
          if (value === undefined) throw new Error(`test has no value for Secret ${source.secret.name} key ${item.key}`);
          writeFileSync(join(dir, item.path), `${value}\n`, { mode: 0o644 });
          files.set(`${m.mountPath}/${item.path}`, join(dir, item.path));
        }
      }
    }
  }
  for (const e of c.env as K8sObject[]) {
    if (e.value !== undefined) {
      env[e.name] = files.get(e.value) ?? e.value;
    } else {
      const ref = e.valueFrom?.secretKeyRef;
      const value = ref && secrets[`${ref.name}/${ref.key}`];
      if (value === undefined) throw new Error(`test has no value for ${e.name} (${JSON.stringify(e.valueFrom)})`);
      env[e.name] = value;
    }
  }
  return env;
}

export interface RunningPool {
  readonly port: number;
  /** Where the ConfigMap files were written (the container's /etc/rpc). */
  readonly configDir: string;
  /** The rendered config (the container's /tmp/rpc). */
  readonly renderDir: string;
  readonly metricsPort?: number;
  stderr(): string;
  accessLog(): string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

/**
 * Starts the proxy from synthesized objects: the ConfigMap's files on disk, the Deployment's env (upstream Secrets
 * from `secrets`), the entrypoint as the command. Only the listen address and the paths the pod has on its emptyDir
 * are changed for the test; `extraEnv` adds what a test needs (e.g. RPC_CA_FILE for a test CA).
 */
export async function startPool(objects: K8sObject[], secrets: Record<string, string> = {}, extraEnv: Record<string, string> = {}): Promise<RunningPool> {
  const deployment = find(objects, 'Deployment');
  const configMap = find(objects, 'ConfigMap');
  const app = container(deployment, 'app');
  const root = makeTempDir('rpc-pool-');
  const configDir = join(root, 'etc');
  const renderDir = join(root, 'run');
  mkdirSync(configDir);
  mkdirSync(renderDir);
  for (const [file, content] of Object.entries(configMap.data as Record<string, string>)) writeFileSync(join(configDir, file), content, { mode: 0o644 });
  if (RUN_AS) chownSync(renderDir, RUN_AS.uid, RUN_AS.gid);

  const port = await freePort();
  const env = containerEnv(app, secrets, deployment);
  const withMetrics = env.RPC_METRICS_SYSLOG !== undefined;
  Object.assign(env, {
    RPC_LISTEN: `127.0.0.1:${port}`,
    RPC_RENDER_DIR: renderDir,
    RPC_ACCESS_LOG: join(renderDir, 'access.log'),
    ...(withMetrics ? { RPC_METRICS_SYSLOG: `127.0.0.1:${await freePort()}` } : {}),
    PATH: busyboxPath(),
    ...extraEnv,
  });

  let stderr = '';
  const mine: ChildProcess[] = [];
  const onStderr = (s: string): void => { stderr += s; };
  let metricsPort: number | undefined;
  if (withMetrics) {
    // The sidecar: the exporter script from the same ConfigMap, as the Deployment runs it.
    const sidecar = container(deployment, 'metrics');
    metricsPort = await freePort();
    const exporter = spawn('python3', [join(configDir, 'metrics-exporter.py')], {
      env: {
        PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', RPC_METRICS_SYSLOG: env.RPC_METRICS_SYSLOG, RPC_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
        // The njs engine's state URL, on the control port this test gave the proxy.
        ...(stateUrl(sidecar, env.RPC_CONTROL_PORT)),
      },
      stdio: ['ignore', 'ignore', 'pipe'], ...RUN_AS,
    });
    expectCommand(sidecar.command, ['python3', '/etc/rpc/metrics-exporter.py']);
    mine.push(track(exporter, onStderr));
    await waitFor(async () => (await httpGet(metricsPort!, '/metrics')).status === 200, 5000, () => `exporter did not start: ${stderr}`);
  }
  const proxy = spawn(join(env.PATH, 'sh'), [join(configDir, 'entrypoint.sh')], { env, stdio: ['ignore', 'ignore', 'pipe'], ...RUN_AS });
  expectCommand(app.command, ['/bin/sh', '/etc/rpc/entrypoint.sh']);
  mine.push(track(proxy, onStderr));
  await waitFor(async () => {
    if (proxy.exitCode !== null) throw new Error(`proxy exited with ${proxy.exitCode}: ${stderr}`);
    return (await httpGet(port, '/healthz')).status === 200;
  }, 5000, () => `proxy did not become healthy: ${stderr}`);

  return {
    port, configDir, renderDir, metricsPort,
    stderr: () => stderr,
    accessLog: () => readFileSync(join(renderDir, 'access.log'), 'utf8'),
    stop: async () => {
      for (const child of mine) await stopChild(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function stateUrl(sidecar: K8sObject, controlPort: string | undefined): Record<string, string> {
  const url = (sidecar.env as K8sObject[]).find((e) => e.name === 'RPC_METRICS_STATE_URL')?.value as string | undefined;
  if (!url) return {};
  return { RPC_METRICS_STATE_URL: controlPort ? url.replace(/:\d+\//, `:${controlPort}/`) : url };
}

function expectCommand(actual: unknown, expected: string[]): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`container command is ${JSON.stringify(actual)}, the test runs ${JSON.stringify(expected)}`);
}

function track(child: ChildProcess, onStderr: (s: string) => void): ChildProcess {
  children.add(child);
  child.stderr?.on('data', (d: Buffer) => onStderr(d.toString()));
  child.on('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Stops every process a test started and removes the temp dirs (afterAll). */
export async function stopAll(): Promise<void> {
  for (const child of [...children]) await stopChild(child);
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      if (e instanceof Error && /exited/.test(e.message)) throw e;
    }
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 50));
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export interface RpcResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

/** One JSON-RPC call over HTTP POST. Connection errors resolve with status 0. */
export function rpcCall(port: number, method: string, id: number, timeoutMs = 30_000): Promise<RpcResult> {
  const started = performance.now();
  const payload = JSON.stringify({ jsonrpc: '2.0', id, method, params: [] });
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e), ms: performance.now() - started }));
    req.end(payload);
  });
}

export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Runs `count` calls with `concurrency` in flight; returns results in completion order. */
export async function rpcLoad(port: number, count: number, concurrency = 8): Promise<RpcResult[]> {
  const results: RpcResult[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const id = next++;
      results.push(await rpcCall(port, 'eth_blockNumber', id));
    }
  }));
  return results;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Parses a Prometheus text exposition into `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
