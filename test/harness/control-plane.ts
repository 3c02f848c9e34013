/**
 * A real Kubernetes control plane on loopback for tests: etcd 3.6 and kube-apiserver v1.34, both built by
 * scripts/setup-kube.sh into ~/.cache/scalecharts/bin. `startControlPlane()` gives the API server's URL, a CA, an
 * admin token, kubeconfig files per user, a small HTTPS client and `stop()`. Everything lives in one temp folder that
 * `stop()` removes; the processes die with `stop()`, with the test process's exit, and (through a watchdog) even when
 * the test process is killed with SIGKILL.
 *
 * Used by the API server dry-run judge (test/cluster/apiserver.test.ts) and by the tiers built on top of it (the
 * simulated cluster with controller-manager, scheduler and kwok; Patroni's Kubernetes DCS under RBAC). Keep the API
 * stable: add options, don't change the meaning of existing ones.
 *
 * ```ts
 * const cp = await startControlPlane({ authorization: 'RBAC', users: [{ name: 'system:kube-scheduler' }] });
 * await cp.createNamespace('app', { podSecurity: 'restricted' });
 * const res = await cp.request('POST', '/api/v1/namespaces/app/configmaps', cm, { query: { dryRun: 'All' } });
 * await cp.stop();
 * ```
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { createServer } from 'net';
import * as os from 'os';
import * as path from 'path';

/** Folder the control-plane binaries are built into: $SCALECHARTS_TOOLS, else ~/.cache/scalecharts/bin. */
export function kubeToolsDir(): string {
  return process.env.SCALECHARTS_TOOLS || path.join(os.homedir(), '.cache', 'scalecharts', 'bin');
}

/**
 * Path of a binary scripts/setup-kube.sh builds (`etcd`, `kube-apiserver`, `kube-controller-manager`,
 * `kube-scheduler`, `kwok`). A binary counts once its `<name>.version` stamp exists (the stamp is written after the
 * build completes). Throws a message that says how to build it when it is missing.
 */
export function kubeToolsPath(name: string): string {
  const dir = kubeToolsDir();
  const bin = path.join(dir, name);
  if (!fs.existsSync(bin) || !fs.existsSync(`${bin}.version`)) {
    throw new Error(
      `${name} is not built in ${dir} (no ${name}.version stamp). Build the control plane with ` +
        '`bash scripts/setup-kube.sh cluster` (about 15 min on 2 cores, cold; scripts/test.sh runs it), ' +
        'or point $SCALECHARTS_TOOLS at a folder that has it.',
    );
  }
  return bin;
}

/** The version stamp of a built tool (e.g. `v1.34.4`). */
export function kubeToolVersion(name: string): string {
  kubeToolsPath(name);
  return fs.readFileSync(path.join(kubeToolsDir(), `${name}.version`), 'utf8').trim();
}

/** A user of the static token file. */
export interface TokenUser {
  /** User name, e.g. `system:kube-scheduler`. */
  readonly name: string;
  /** Groups of the user. @default [] */
  readonly groups?: readonly string[];
  /** Token to use. @default random */
  readonly token?: string;
}

export interface ControlPlaneOptions {
  /**
   * Authorization mode: `AlwaysAllow` (every authenticated request allowed), or `RBAC` (the API server runs
   * `--authorization-mode=Node,RBAC`: only the admin, in system:masters, may do everything).
   * @default 'AlwaysAllow'
   */
  readonly authorization?: 'AlwaysAllow' | 'RBAC';
  /**
   * Extra token users besides `admin` (system:masters), e.g. `{ name: 'system:kube-controller-manager' }`. Their
   * tokens are in `tokens[name]`, and `kubeconfig(name)` writes a kubeconfig for them.
   * @default []
   */
  readonly users?: readonly TokenUser[];
  /** `--service-cluster-ip-range`. @default '10.96.0.0/16' */
  readonly serviceClusterIpRange?: string;
  /**
   * Extra or overriding kube-apiserver flags, without the leading `--` (e.g. `{ 'endpoint-reconciler-type': 'lease' }`).
   * A value of `null` removes a default flag.
   * @default {}
   */
  readonly apiserverFlags?: Readonly<Record<string, string | null>>;
  /** Keep the temp folder (certs, data, logs) after stop, for debugging. @default $CONTROL_PLANE_KEEP is set */
  readonly keep?: boolean;
  /** How long to wait for etcd and the API server to be ready. @default 120000 ms */
  readonly readyTimeoutMs?: number;
}

/** An API response: status, body (parsed JSON when it is JSON), and the texts of its `Warning` headers. */
export interface ApiResponse {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  /** Each `Warning` header's text (the quoted part of `299 - "..."`). */
  readonly warnings: string[];
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  /** Bearer token. @default the admin token */
  readonly token?: string;
  /** Query parameters, e.g. `{ dryRun: 'All', fieldValidation: 'Strict' }`. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Content type of the body. @default 'application/json' (bodies that are not strings are JSON-encoded) */
  readonly contentType?: string;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface NamespaceOptions {
  /**
   * Pod Security level: sets the `enforce`, `warn` and `audit` labels to it, with `enforce-version: v1.28` (the API
   * the constructs target). `undefined` sets no Pod Security label.
   */
  readonly podSecurity?: 'restricted' | 'baseline' | 'privileged';
  /** Further labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** CA that signed the serving certificate (also the client CA: `caKeyFile` can sign client certificates). */
  readonly caFile: string;
  readonly caKeyFile: string;
  /** Bearer token of `admin` (group system:masters). */
  readonly adminToken: string;
  /** Token of each user: `admin` and the `users` option. */
  readonly tokens: Readonly<Record<string, string>>;
  /** Service-account signing key pair (the controller-manager's `--service-account-private-key-file` needs it). */
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
  /** etcd client URL. */
  readonly etcdUrl: string;
  /** The temp folder: certs, data, logs (`etcd.log`, `kube-apiserver.log`). Callers may put their files here. */
  readonly dir: string;
  /** Milliseconds from the call to `/readyz` ok. */
  readonly startupMs: number;
  /** Path of a kubeconfig file (mode 0600) for `user` (`admin`, or a `users` name), namespace optional. */
  kubeconfig(user?: string, namespace?: string): string;
  /** An HTTPS request to the API server; never rejects on an HTTP status, only on transport errors. */
  request(method: string, apiPath: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse>;
  /**
   * Creates a namespace (labelled for Pod Security when asked) and its `default` ServiceAccount (no
   * controller-manager may be running to create it; an existing one is fine). Throws on failure.
   */
  createNamespace(name: string, opts?: NamespaceOptions): Promise<void>;
  /** A token for a ServiceAccount, by the TokenRequest API (no controller needed). */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
  /**
   * Starts another component (kube-controller-manager, kube-scheduler, kwok, ...) that lives and dies with this
   * control plane: its output goes to `<dir>/<name>.log`; `stop()` stops it first (SIGTERM, then SIGKILL after 5 s),
   * and the exit hook and the watchdog kill it like etcd and the API server. The binary is `kubeToolsPath(name)`
   * unless `bin` is given.
   */
  startComponent(name: string, args: readonly string[], bin?: string): ChildProcess;
  /** Stops the components, the API server and etcd, removes the temp folder (unless kept). Idempotent. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (another process may take it before use: callers retry on bind failure). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a serving certificate for 127.0.0.1/localhost signed by it, and the service-account key pair. */
function makeCerts(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=scalecharts-test-ca',
    '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', 'apiserver.key',
    '-out', 'apiserver.csr'], dir);
  fs.writeFileSync(path.join(dir, 'apiserver.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'apiserver.ext', '-out', 'apiserver.crt'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

// Every live control plane's processes and folder: killed and removed synchronously when the test process exits.
const live = new Set<{ procs: ChildProcess[]; dir: string; keep: boolean }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of live) {
      for (const p of l.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      if (!l.keep) fs.rmSync(l.dir, { recursive: true, force: true });
    }
  });
}

/**
 * A detached shell that kills the processes listed in `pidFile` and removes `dir` once this process is gone: covers a
 * test worker killed with SIGKILL (timeouts, the session's end), when no exit hook runs.
 */
function watchdog(pidFile: string, dir: string, keep: boolean): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -9 $(cat '${pidFile}') 2>/dev/null; ` +
    (keep ? 'true' : `rm -rf '${dir}'`);
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
  return w;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const p = spawn(bin, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return p;
}

function alive(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

async function stopProcess(p: ChildProcess, graceMs = 5000): Promise<void> {
  if (!alive(p)) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => alive(p) && p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Polls `check` until it returns true, the process dies (error with its log) or the deadline passes. */
async function waitReady(name: string, p: ChildProcess, logFile: string, deadline: number,
  check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (!alive(p)) throw new Error(`${name} exited (${p.exitCode ?? p.signalCode}) before it was ready:\n${tail(logFile)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready in time:\n${tail(logFile)}`);
    await sleep(150);
  }
}

function httpGet(url: string, opts: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ...opts, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const ADDRESS_IN_USE = /address already in use/i;

/** The text of a `Warning` header value: `299 - "text"` → `text`. */
export function warningText(header: string): string {
  const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(header);
  return m ? m[1].replace(/\\(.)/g, '$1') : header;
}

/** Starts etcd and kube-apiserver on 127.0.0.1 (free ports) and waits until `/readyz` answers 200. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const deadline = started + (opts.readyTimeoutMs ?? 120000);
  const etcdBin = kubeToolsPath('etcd');
  const apiserverBin = kubeToolsPath('kube-apiserver');
  const keep = opts.keep ?? !!process.env.CONTROL_PLANE_KEEP;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-cp-'));
  const entry = { procs: [] as ChildProcess[], dir, keep };
  installExitHook();
  live.add(entry);
  const watchdogs: ChildProcess[] = [];
  let agent: https.Agent | undefined;

  const stop = async (): Promise<void> => {
    if (!live.has(entry)) return;
    live.delete(entry);
    agent?.destroy();
    // API server first: it would otherwise spend its grace period retrying a stopped etcd.
    for (const p of [...entry.procs].reverse()) await stopProcess(p);
    for (const w of watchdogs) if (alive(w)) w.kill('SIGKILL');
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    fs.chmodSync(dir, 0o700);
    makeCerts(dir);
    const adminToken = randomBytes(24).toString('hex');
    const tokens: Record<string, string> = { admin: adminToken };
    const lines = [`${adminToken},admin,admin-uid,"system:masters"`];
    for (const [i, u] of (opts.users ?? []).entries()) {
      if (u.name in tokens) throw new Error(`control plane: token user ${u.name} given twice`);
      const token = u.token ?? randomBytes(24).toString('hex');
      tokens[u.name] = token;
      lines.push(`${token},${u.name},uid-${i}${u.groups?.length ? `,"${u.groups.join(',')}"` : ''}`);
    }
    fs.writeFileSync(path.join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });

    // etcd: free ports are picked then bound by etcd, so another process may win the race: retry.
    const etcdLog = path.join(dir, 'etcd.log');
    let etcdUrl = '';
    for (let attempt = 1; ; attempt++) {
      const [client, peer] = [await freePort(), await freePort()];
      etcdUrl = `http://127.0.0.1:${client}`;
      const peerUrl = `http://127.0.0.1:${peer}`;
      fs.rmSync(path.join(dir, 'etcd'), { recursive: true, force: true });
      const p = startProcess(etcdBin, [
        '--name=default', `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`, '--initial-cluster-state=new',
        // Test data only: fsync would make every write wait for a disk shared by eight engineers.
        '--unsafe-no-fsync', '--log-level=warn', '--quota-backend-bytes=2147483648',
      ], etcdLog);
      entry.procs.push(p);
      try {
        await waitReady('etcd', p, etcdLog, deadline, async () => (await httpGet(`${etcdUrl}/health`)) === 200);
        break;
      } catch (e) {
        await stopProcess(p, 1000);
        entry.procs.pop();
        if (attempt < 3 && ADDRESS_IN_USE.test(tail(etcdLog))) continue;
        throw e;
      }
    }

    const apiLog = path.join(dir, 'kube-apiserver.log');
    let url = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      url = `https://127.0.0.1:${port}`;
      const flags: Record<string, string | null> = {
        'etcd-servers': etcdUrl,
        'bind-address': '127.0.0.1',
        'advertise-address': '127.0.0.1',
        'secure-port': String(port),
        'cert-dir': path.join(dir, 'cert-dir'),
        'tls-cert-file': path.join(dir, 'apiserver.crt'),
        'tls-private-key-file': path.join(dir, 'apiserver.key'),
        'client-ca-file': path.join(dir, 'ca.crt'),
        'token-auth-file': path.join(dir, 'tokens.csv'),
        'authorization-mode': opts.authorization === 'RBAC' ? 'Node,RBAC' : 'AlwaysAllow',
        // Like kubeadm: Pod Security, not the privileged flag, is what refuses a privileged pod.
        'allow-privileged': 'true',
        'service-account-issuer': 'https://kubernetes.default.svc',
        'service-account-key-file': path.join(dir, 'sa.pub'),
        'service-account-signing-key-file': path.join(dir, 'sa.key'),
        'service-cluster-ip-range': opts.serviceClusterIpRange ?? '10.96.0.0/16',
        // One API server with no kubelet to reach: no endpoint reconciling of the `kubernetes` Service.
        'endpoint-reconciler-type': 'none',
        'profiling': 'false',
        'v': '1',
        ...opts.apiserverFlags,
      };
      const args = Object.entries(flags).filter(([, v]) => v !== null).map(([k, v]) => `--${k}=${v}`);
      const p = startProcess(apiserverBin, args, apiLog);
      entry.procs.push(p);
      const ca = fs.readFileSync(path.join(dir, 'ca.crt'));
      try {
        await waitReady('kube-apiserver', p, apiLog, deadline, async () =>
          (await httpGet(`${url}/readyz`, { ca, headers: { authorization: `Bearer ${adminToken}` } })) === 200);
        break;
      } catch (e) {
        await stopProcess(p, 1000);
        entry.procs.pop();
        if (attempt < 3 && ADDRESS_IN_USE.test(tail(apiLog))) continue;
        throw e;
      }
    }
    const pidFile = path.join(dir, 'pids');
    const recordPids = () => fs.writeFileSync(pidFile, entry.procs.map((p) => p.pid).filter(Boolean).join(' '));
    recordPids();
    watchdogs.push(watchdog(pidFile, dir, keep));

    const startComponent = (name: string, args: readonly string[], bin = kubeToolsPath(name)): ChildProcess => {
      if (!live.has(entry)) throw new Error(`control plane: stopped, cannot start ${name}`);
      const p = startProcess(bin, [...args], path.join(dir, `${name}.log`));
      entry.procs.push(p);
      recordPids();
      return p;
    };

    const caFile = path.join(dir, 'ca.crt');
    const ca = fs.readFileSync(caFile);
    agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca });
    const httpsAgent = agent;

    const request = (method: string, apiPath: string, body?: unknown, ro: RequestOptions = {}): Promise<ApiResponse> => {
      const q = Object.entries(ro.query ?? {}).filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = {
        authorization: `Bearer ${ro.token ?? adminToken}`,
        accept: 'application/json',
        ...(payload !== undefined ? { 'content-type': ro.contentType ?? 'application/json' } : {}),
        ...ro.headers,
      };
      return new Promise<ApiResponse>((resolve, reject) => {
        const req = https.request(`${url}${apiPath}${q ? `${apiPath.includes('?') ? '&' : '?'}${q}` : ''}`,
          { method, headers, agent: httpsAgent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = text;
              if (/json/.test(String(res.headers['content-type'])) && text) {
                try {
                  parsed = JSON.parse(text);
                } catch {
                  // keep the text
                }
              }
              // rawHeaders keeps each Warning header apart (headers['warning'] joins them with ", ").
              const warnings: string[] = [];
              for (let i = 0; i < res.rawHeaders.length; i += 2) {
                if (res.rawHeaders[i].toLowerCase() === 'warning') warnings.push(warningText(res.rawHeaders[i + 1]));
              }
              resolve({ status: res.statusCode ?? 0, body: parsed, warnings, headers: res.headers });
            });
            res.on('error', reject);
          });
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    };

    const kubeconfig = (user = 'admin', namespace?: string): string => {
      const token = tokens[user];
      if (!token) throw new Error(`control plane: no token user ${user} (known: ${Object.keys(tokens).join(', ')})`);
      const file = path.join(dir, `kubeconfig-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}${namespace ? `-${namespace}` : ''}`);
      const cfg = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'scalecharts', cluster: { server: url, 'certificate-authority': caFile } }],
        users: [{ name: user, user: { token } }],
        contexts: [{ name: 'scalecharts', context: { cluster: 'scalecharts', user, ...(namespace ? { namespace } : {}) } }],
        'current-context': 'scalecharts',
      };
      // JSON is YAML: every kubeconfig reader takes it.
      fs.writeFileSync(file, JSON.stringify(cfg, null, 2), { mode: 0o600 });
      return file;
    };

    const must = async (what: string, res: Promise<ApiResponse>, ok: (s: number) => boolean): Promise<ApiResponse> => {
      const r = await res;
      if (!ok(r.status)) throw new Error(`control plane: ${what}: HTTP ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
      return r;
    };

    const createNamespace = async (name: string, no: NamespaceOptions = {}): Promise<void> => {
      const labels: Record<string, string> = { ...no.labels };
      if (no.podSecurity) {
        for (const mode of ['enforce', 'warn', 'audit']) {
          labels[`pod-security.kubernetes.io/${mode}`] = no.podSecurity;
          labels[`pod-security.kubernetes.io/${mode}-version`] = 'v1.28';
        }
      }
      await must(`create namespace ${name}`, request('POST', '/api/v1/namespaces',
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }), (s) => s === 201);
      await must(`create ServiceAccount ${name}/default`, request('POST', `/api/v1/namespaces/${name}/serviceaccounts`,
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }), (s) => s === 201 || s === 409);
    };

    const serviceAccountToken = async (namespace: string, name: string, expirationSeconds = 3600): Promise<string> => {
      const r = await must(`token for ${namespace}/${name}`, request('POST',
        `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } }), (s) => s === 201);
      return r.body.status.token;
    };

    return {
      url, caFile, caKeyFile: path.join(dir, 'ca.key'), adminToken, tokens, etcdUrl, dir,
      serviceAccountKeyFile: path.join(dir, 'sa.key'), serviceAccountPublicKeyFile: path.join(dir, 'sa.pub'),
      startupMs: Date.now() - started,
      kubeconfig, request, createNamespace, serviceAccountToken, startComponent, stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
