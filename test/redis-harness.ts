/**
 * A RedisHA on real processes for the chaos tests: redis-server and redis-sentinel started by the synthesized
 * scripts with the exact ConfigMap files and container environment. Pod-specific values (addresses, ports,
 * directories, downward-API fields) are the only substitutions. Every "pod" has its own loopback address in
 * 127.0.14.0/24 (plus 127.0.0.1 on the same port for the kubelet-style probes), so a pod can come back at a new
 * address while its old one stops answering.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import Redis from 'ioredis';
import { RedisHA, RedisHAProps } from '../lib';
import { K8sObject, container, find, synth } from './harness/synth';

export const PASSWORD = 'chaos "pa$$" word';
export const SENTINEL_PASSWORD = 'sentinel-chaos';
// Overridable so engineers sharing a machine each keep to their own /24 (e.g. REDIS_TEST_SUBNET=127.0.13.).
export const SUBNET = process.env.REDIS_TEST_SUBNET ?? '127.0.14.';

export interface Pod {
  readonly kind: 'redis' | 'sentinel';
  readonly index: number;
  host: string;
  readonly port: number;
  readonly dir: string;
  proc?: ChildProcess;
}

export class Cluster {
  readonly redis: Pod[] = [];
  readonly sentinels: Pod[] = [];
  masterName = '';
  private root = '';
  private templates = '';
  private redisEnv: K8sObject[] = [];
  private sentinelEnv: K8sObject[] = [];
  private redisCommand: string[] = [];
  private sentinelCommand: string[] = [];
  preStop: string[] = [];
  readyProbe: string[] = [];
  private nextHost = 100;
  private readonly runAs = process.getuid?.() === 0 ? lookupUser('redis') : undefined;

  constructor(private readonly name: string, private readonly props: Partial<RedisHAProps>) {}

  async setup(): Promise<void> {
    const objects = synth((chart) => {
      const ha = new RedisHA(chart, 'cache', {
        passwordSecret: { secretName: 'cache-redis', key: 'password' },
        sentinelPasswordSecret: { secretName: 'cache-sentinel', key: 'password' },
        resources: { requests: { memory: '128Mi' }, limits: { memory: '128Mi' } },
        ...this.props,
      });
      this.masterName = ha.masterName;
    });
    this.root = mkdtempSync(join(tmpdir(), `redis-chaos-${this.name}-`));
    this.templates = join(this.root, 'templates');
    mkdirSync(this.templates);
    for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'cache-config').data as Record<string, string>)) {
      writeFileSync(join(this.templates, file), content, { mode: 0o444 });
    }
    writeFileSync(join(this.root, 'redis-password'), `${PASSWORD}\n`, { mode: 0o440 });
    writeFileSync(join(this.root, 'sentinel-password'), SENTINEL_PASSWORD, { mode: 0o440 });
    const rc = container(find(objects, 'StatefulSet', 'cache'), 'redis');
    const sc = container(find(objects, 'StatefulSet', 'cache-sentinel'), 'sentinel');
    this.redisEnv = rc.env;
    this.sentinelEnv = sc.env;
    this.redisCommand = rc.command;
    this.sentinelCommand = sc.command;
    this.preStop = rc.lifecycle.preStop.exec.command;
    this.readyProbe = rc.readinessProbe.exec.command;
    const ports = await freePorts(6);
    for (let i = 0; i < 3; i++) {
      this.redis.push({ kind: 'redis', index: i, host: `${SUBNET}${10 + i}`, port: ports[i], dir: join(this.root, `redis-${i}`) });
      this.sentinels.push({ kind: 'sentinel', index: i, host: `${SUBNET}${20 + i}`, port: ports[3 + i], dir: join(this.root, `sentinel-${i}`) });
    }
    for (const m of this.all()) mkdirSync(join(m.dir, 'data'), { recursive: true });
    if (this.runAs) chownTree(this.root, this.runAs.uid, this.runAs.gid);
    chmodSync(this.root, 0o755);
  }

  all(): Pod[] {
    return [...this.redis, ...this.sentinels];
  }

  teardown(): void {
    for (const m of this.all()) this.stop(m, 'SIGKILL');
    if (this.root && !process.env.KEEP_REDIS_TEST_DIR) rmSync(this.root, { recursive: true, force: true });
  }

  /** A fresh address for a pod that comes back elsewhere. */
  newHost(): string {
    return `${SUBNET}${this.nextHost++}`;
  }

  start(m: Pod): void {
    const run = join(m.dir, 'run');
    mkdirSync(run, { recursive: true });
    if (this.runAs) chownSync(run, this.runAs.uid, this.runAs.gid);
    const argv = this.asPodUser(m.kind === 'redis' ? this.redisCommand : this.sentinelCommand);
    const log = openSync(join(m.dir, 'log'), 'a');
    // Its own process group, like a container: SIGKILL of the pod reaches every process in it.
    const proc = spawn(argv[0], argv.slice(1), { env: this.env(m), stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    m.proc = proc;
    proc.on('exit', () => {
      if (m.proc === proc) m.proc = undefined;
    });
  }

  /**
   * SIGTERM goes to the container's main process only, as the kubelet sends it. SIGKILL is the container's death:
   * every process of the pod (redis-server and its agent, with their redis-cli calls) dies, and this returns once the
   * main process is gone, so a pod restarted on the same port never races its predecessor's socket or agent.
   */
  stop(m: Pod, signal: NodeJS.Signals): void {
    const pid = m.proc?.pid;
    if (pid) {
      try {
        process.kill(signal === 'SIGKILL' ? -pid : pid, signal);
      } catch {
        // already gone
      }
      if (signal === 'SIGKILL') waitUntilDead(pid, 5000);
    }
    if (signal === 'SIGKILL') m.proc = undefined;
  }

  /** Waits until the process exited (after SIGTERM). */
  async exited(m: Pod, timeoutMs = 20_000): Promise<void> {
    await waitFor(`${m.kind}-${m.index} to exit`, timeoutMs, async () => !m.proc, 50, () => this.logTails());
  }

  /** Gives a folder to the user the pods run as (root runs them as redis). */
  chown(path: string): void {
    if (this.runAs) chownTree(path, this.runAs.uid, this.runAs.gid);
  }

  /** Memory-backed config dirs are lost with the pod. */
  wipeRun(m: Pod): void {
    rmSync(join(m.dir, 'run'), { recursive: true, force: true });
  }

  /** Runs a command of the container (preStop hook, probe) the way the kubelet does; true when it exits 0. */
  exec(m: Pod, command: string[], timeoutMs = 30_000): boolean {
    const all = this.asPodUser(command);
    const res = spawnSync(all[0], all.slice(1), { env: this.env(m), timeout: timeoutMs, encoding: 'utf8' });
    writeFileSync(join(m.dir, 'log'), res.stderr ?? '', { flag: 'a' });
    return res.status === 0;
  }

  /** Like exec, without blocking the event loop (the pollers and clients keep running). */
  execAsync(m: Pod, command: string[], timeoutMs = 30_000): Promise<boolean> {
    const all = this.asPodUser(command);
    return new Promise((resolve) => {
      const log = openSync(join(m.dir, 'log'), 'a');
      const p = spawn(all[0], all.slice(1), { env: this.env(m), stdio: ['ignore', log, log], timeout: timeoutMs });
      closeSync(log);
      p.on('exit', (code) => resolve(code === 0));
    });
  }

  /** Runs a POSIX sh script with the pod's environment (as the pod's user); resolves to its stdout. */
  shell(m: Pod, script: string, timeoutMs = 10_000): Promise<string> {
    const all = this.asPodUser(['sh', '-c', script]);
    return new Promise((resolve, reject) => {
      const p = spawn(all[0], all.slice(1), { env: this.env(m), stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sh exited ${code}: ${err}`))));
    });
  }

  /** A container command as the kubelet runs it: templates at their test path, as the pod's user when root. */
  private asPodUser(command: string[]): string[] {
    const argv = command.map((a) => a.replace('/etc/redis-ha', this.templates));
    return this.runAs ? ['setpriv', `--reuid=${this.runAs.uid}`, `--regid=${this.runAs.gid}`, '--clear-groups', ...argv] : argv;
  }

  private env(m: Pod): Record<string, string> {
    const run = join(m.dir, 'run');
    const common: Record<string, string> = {
      POD_NAMESPACE: 'test',
      TEMPLATE_DIR: this.templates,
      CONFIG_DIR: run,
      ANNOUNCE_HOST: m.host,
      BIND_ADDRESSES: `${m.host} 127.0.0.1`,
      REDIS_ADDRESSES: this.redis.map((r) => `${r.host}:${r.port}`).join(' '),
      SENTINEL_ADDRESSES: this.sentinels.map((s) => `${s.host}:${s.port}`).join(' '),
      AUTH_FILE: join(this.root, 'redis-password'),
      SENTINEL_AUTH_FILE: join(this.root, 'sentinel-password'),
      DISCOVERY_TIMEOUT_SECONDS: '60',
    };
    return m.kind === 'redis'
      ? podEnv(this.redisEnv, {
        ...common, POD_NAME: `cache-${m.index}`, DATA_DIR: join(m.dir, 'data'), REDIS_PORT: String(m.port), MEMORY_LIMIT_BYTES: String(128 * 2 ** 20),
      })
      : podEnv(this.sentinelEnv, { ...common, POD_NAME: `cache-sentinel-${m.index}`, SENTINEL_PORT: String(m.port) });
  }

  logTails(lines = 12): string {
    return this.all().map((m) => {
      let text = '';
      try {
        text = readFileSync(join(m.dir, 'log'), 'utf8').split('\n')
          .filter((l) => !/Connecting to MASTER 127.0.0.1:1|sync started|Error condition on socket for SYNC/.test(l)).slice(-lines).join('\n');
      } catch {
        text = '(no log)';
      }
      return `--- ${m.kind}-${m.index} (${m.host}:${m.port}, ${m.proc ? 'running' : 'stopped'})\n${text}`;
    }).join('\n');
  }

  /** A direct connection to one pod (no Sentinel), for polling. */
  direct(m: Pod): Redis {
    return new Redis({
      host: m.host, port: m.port, password: m.kind === 'redis' ? PASSWORD : SENTINEL_PASSWORD,
      lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300,
      retryStrategy: () => 100, enableReadyCheck: false,
    });
  }

  /** The application's client: ioredis through the Sentinels. */
  client(): Redis {
    return new Redis({
      sentinels: this.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: this.masterName,
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      // ioredis' advice for Sentinel failover: reconnect (and resend) when a demoted master answers READONLY.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    });
  }
}

/** Blocks until `pid` has exited (gone, or a zombie: its sockets are released), at most `timeoutMs`. */
function waitUntilDead(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let state: string | undefined;
    try {
      // "pid (comm) S ...": the state follows the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    Atomics.wait(tick, 0, 0, 5);
  }
}

/** The synthesized container env with the pod-specific values replaced; every replaced name must exist. */
export function podEnv(synthesized: K8sObject[], overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const e of synthesized) {
    if (e.name in overrides) env[e.name] = overrides[e.name];
    else if (typeof e.value === 'string') env[e.name] = e.value;
    else throw new Error(`env ${e.name} comes from ${JSON.stringify(e.valueFrom)}: the test must supply it`);
  }
  const unknown = Object.keys(overrides).filter((k) => !synthesized.some((e) => e.name === k));
  if (unknown.length) throw new Error(`the construct no longer sets ${unknown.join(', ')}`);
  return env;
}

export async function waitFor<T>(
  what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 100, context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context?.() ?? ''}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('net').Server>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as import('net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, name]).toString().trim()));
    return { uid, gid };
  } catch {
    return undefined;
  }
}

export function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}
