/**
 * Runs the PostgresCluster's real scripts and configs on loopback: PostgreSQL 17, PgBouncer 1.24.1, Patroni and
 * etcd from Debian 13 (trixie) packages, the versions the shipped images carry, inside the root that
 * scripts/setup.d/postgres.sh builds (`chroot`, loopback shared with the host), as the root's `postgres` user
 * (Postgres and PgBouncer refuse root). Inside the root its own host path links back to "/", so a host path
 * under ROOT names the same file inside and outside.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { homedir } from 'os';
import { dirname, join } from 'path';
import type { K8sObject } from './harness/synth';

/** The Debian 13 root (scripts/setup.d/postgres.sh). */
export const ROOT = process.env.SCALECHARTS_TRIXIE ?? join(homedir(), '.cache/scalecharts/trixie');
/** PostgreSQL binaries inside ROOT. */
export const PG_BIN = '/usr/lib/postgresql/17/bin';
const PATH = `${PG_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`;

if (process.getuid?.() !== 0) throw new Error('the Postgres real-process tests chroot into the Debian 13 root: run them as root');
if (!existsSync(join(ROOT, ROOT))) throw new Error(`${ROOT} is not set up: run scripts/setup.d/postgres.sh`);

/** The user servers run as: the root's `postgres` user (from Debian's package inside ROOT). */
const runAs = lookupUser('postgres');

function lookupUser(name: string): { uid: number; gid: number } {
  const line = readFileSync(join(ROOT, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`user ${name} not found in ${ROOT}: run scripts/setup.d/postgres.sh`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A temp directory the server user owns, under ROOT/tmp (so the same path works inside the chroot). */
export function serverTempDir(prefix: string): string {
  const dir = mkdtempSync(join(ROOT, 'tmp', prefix));
  chownSync(dir, runAs.uid, runAs.gid);
  return dir;
}

/** Writes a file owned by the server user (parents too), with `mode`. */
export function writeServerFile(path: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  chownSync(path, runAs.uid, runAs.gid);
  chownSync(dirname(path), runAs.uid, runAs.gid);
}

/** Creates `path` (and missing parents), all owned by the server user. */
export function makeServerDir(path: string): string {
  const first = mkdirSync(path, { recursive: true, mode: 0o700 });
  if (first) {
    for (let d = path; d.length >= first.length; d = dirname(d)) chownSync(d, runAs.uid, runAs.gid);
  }
  return path;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// One free-port helper for every real-process harness.
export { freePort } from './harness/control-plane';

/**
 * The environment a container of a synthesized pod declares, with the values a loopback test must change
 * (paths, hosts, ports, Secret-derived values) substituted. Fails when an override names a variable the
 * container doesn't declare, or a non-literal variable (fieldRef, secretKeyRef) has no override: the scripts
 * get exactly the variables the pod gives them.
 */
export function podEnv(container: K8sObject, overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const declared = new Set<string>();
  for (const e of container.env ?? []) {
    declared.add(e.name);
    if (e.name in overrides) env[e.name] = overrides[e.name];
    else if (typeof e.value === 'string') env[e.name] = e.value;
    else throw new Error(`container ${container.name}: ${e.name} comes from ${JSON.stringify(e.valueFrom)}; give the test a value`);
  }
  const unknown = Object.keys(overrides).filter((k) => !declared.has(k));
  if (unknown.length) throw new Error(`container ${container.name} declares no ${unknown.join(', ')}`);
  return env;
}

/** argv run inside ROOT as the server user. */
export function command(argv: string[]): string[] {
  return ['chroot', ROOT, 'setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--init-groups', '--', ...argv];
}

/** argv run inside ROOT as root (clients that need no privileges drop none: psql, pg_isready). */
export function inRoot(argv: string[]): string[] {
  return ['chroot', ROOT, ...argv];
}

function fullEnv(env: Record<string, string>, home: string): Record<string, string> {
  return { PATH, HOME: home, LANG: 'C.UTF-8', ...env };
}

/** Runs a script to completion as the server user; throws with its output when it fails. */
export function runScript(script: string, env: Record<string, string>, home: string, timeoutMs = 60_000): string {
  const [cmd, ...args] = command(['bash', script]);
  const res = spawnSync(cmd, args, { env: fullEnv(env, home), encoding: 'utf8', timeout: timeoutMs, cwd: home });
  const output = `${res.stdout}${res.stderr}`;
  if (res.status !== 0) throw new Error(`${script} exited ${res.status ?? res.signal}:\n${output}`);
  return output;
}

/** Runs argv to completion as the server user inside ROOT; returns its exit status and output (never throws). */
export function runStatus(argv: string[], env: Record<string, string>, home: string, timeoutMs = 15_000): { status: number | null; output: string } {
  const [cmd, ...args] = command(argv);
  const res = spawnSync(cmd, args, { env: fullEnv(env, home), encoding: 'utf8', timeout: timeoutMs, cwd: home });
  return { status: res.status, output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

/** A long-running server process started as the server user, with its output kept for failure messages. */
export class Server {
  public readonly process: ChildProcess;
  public output = '';
  private exited: Promise<number | null>;

  constructor(public readonly name: string, argv: string[], env: Record<string, string>, home: string) {
    const [cmd, ...args] = command(argv);
    this.process = spawn(cmd, args, { env: fullEnv(env, home), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stdout?.on('data', (d) => { this.output += d; });
    this.process.stderr?.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Stops with `signal` (SIGINT: Postgres' fast shutdown) and waits, escalating to SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface Conn {
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password: string;
  /** @default 127.0.0.1 */
  readonly host?: string;
}

/** Runs SQL through psql over TCP on loopback; returns unaligned rows, or throws with psql's error. */
export function psql(conn: Conn, sql: string, timeoutMs = 15_000): string {
  const res = psqlRaw(conn, sql, timeoutMs);
  if (res.status !== 0) throw new Error(`psql on port ${conn.port} failed: ${res.stderr}`);
  return res.stdout.trim();
}

export function psqlRaw(conn: Conn, sql: string, timeoutMs = 15_000): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = inRoot([`${PG_BIN}/psql`,
    '--no-psqlrc', `--host=${conn.host ?? '127.0.0.1'}`, `--port=${conn.port}`, `--username=${conn.user}`, `--dbname=${conn.database}`,
    '--tuples-only', '--no-align', '--quiet', '--set=ON_ERROR_STOP=1', '--command', sql]);
  const res = spawnSync(cmd, args, { env: { PATH, PGPASSWORD: conn.password, PGCONNECT_TIMEOUT: '5' }, encoding: 'utf8', timeout: timeoutMs });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? String(res.error ?? '') };
}

export function isReady(port: number): boolean {
  const [cmd, ...args] = inRoot([`${PG_BIN}/pg_isready`, '--quiet', '--host=127.0.0.1', `--port=${port}`]);
  return spawnSync(cmd, args, { timeout: 5_000 }).status === 0;
}

/** Polls `check` every `intervalMs` until it returns true; returns the elapsed milliseconds, or throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000, intervalMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
