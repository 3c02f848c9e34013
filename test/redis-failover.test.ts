/**
 * RedisHA for real: 3 redis-server + 3 redis-sentinel processes on 127.0.0.1, each started by the generated
 * startup script with the exact files from the synthesized ConfigMap and the synthesized container environment
 * (only pod-specific values — ports, addresses, directories, the downward-API fields — are replaced).
 */
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHA } from '../lib';
import { K8sObject, container, find, synth } from './harness/synth';
import { chownTree, freePorts, lookupUser, podEnv as harnessPodEnv, sleep } from './redis-harness';

// Quotes, a backslash, a space and a '$': proves the scripts quote the password correctly for both config files.
const PASSWORD = 'r3d1s "pa$$" \\ word';
const SENTINEL_PASSWORD = 'sentinel-s3cret';
const LIMIT_MEMORY = '256Mi';

interface Member {
  readonly kind: 'redis' | 'sentinel';
  readonly index: number;
  readonly port: number;
  readonly dir: string;
  proc?: ChildProcess;
}

let root = '';
let templates = '';
let redisEnv: K8sObject[] = [];
let sentinelEnv: K8sObject[] = [];
let redisCommand: string[] = [];
let sentinelCommand: string[] = [];
let redisProbes: Record<'ready' | 'alive', string[]> = { ready: [], alive: [] };
let sentinelReadyProbe: string[] = [];
let maxmemoryBytes = 0;
let masterName = '';
const redis: Member[] = [];
const sentinels: Member[] = [];
/** Keys whose writes were acknowledged by WAIT 1: they must survive everything below. */
const acknowledged: string[] = [];

/** Run as the unprivileged `redis` user when the tests run as root, as the pods do (uid 999 in the image). */
const runAs = process.getuid?.() === 0 ? lookupUser('redis') : undefined;

beforeAll(async () => {
  const objects = synth((chart) => {
    const ha = new RedisHA(chart, 'cache', {
      passwordSecret: { secretName: 'cache-redis', key: 'password' },
      sentinelPasswordSecret: { secretName: 'cache-sentinel', key: 'password' },
      resources: { requests: { memory: LIMIT_MEMORY }, limits: { memory: LIMIT_MEMORY } },
    });
    maxmemoryBytes = ha.maxmemoryBytes;
    masterName = ha.masterName;
  });
  root = mkdtempSync(join(tmpdir(), 'redis-ha-'));
  templates = join(root, 'templates');
  mkdirSync(templates);
  for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'cache-config').data as Record<string, string>)) {
    writeFileSync(join(templates, file), content, { mode: 0o444 });
  }
  writeFileSync(join(root, 'redis-password'), `${PASSWORD}\n`, { mode: 0o440 });
  writeFileSync(join(root, 'sentinel-password'), SENTINEL_PASSWORD, { mode: 0o440 });
  const redisContainer = container(find(objects, 'StatefulSet', 'cache'), 'redis');
  const sentinelContainer = container(find(objects, 'StatefulSet', 'cache-sentinel'), 'sentinel');
  redisEnv = redisContainer.env;
  sentinelEnv = sentinelContainer.env;
  redisCommand = redisContainer.command;
  sentinelCommand = sentinelContainer.command;
  redisProbes = { ready: redisContainer.readinessProbe.exec.command, alive: redisContainer.livenessProbe.exec.command };
  sentinelReadyProbe = sentinelContainer.readinessProbe.exec.command;

  const ports = await freePorts(6);
  for (let i = 0; i < 3; i++) {
    redis.push({ kind: 'redis', index: i, port: ports[i], dir: join(root, `redis-${i}`) });
    sentinels.push({ kind: 'sentinel', index: i, port: ports[3 + i], dir: join(root, `sentinel-${i}`) });
  }
  for (const m of [...redis, ...sentinels]) mkdirSync(join(m.dir, 'data'), { recursive: true });
  if (runAs) chownTree(root, runAs.uid, runAs.gid);
  chmodSync(root, 0o755);
}, 30_000);

afterAll(() => {
  for (const m of [...redis, ...sentinels]) stop(m, 'SIGKILL');
  if (root && !process.env.KEEP_REDIS_TEST_DIR) rmSync(root, { recursive: true, force: true });
});

describe('RedisHA on real redis-server and redis-sentinel', () => {
  it('first boot: one master, two replicas, the Sentinels agree; config from the construct', async () => {
    // Sentinels first: they must wait for a master instead of guessing one.
    for (const s of sentinels) start(s);
    for (const r of [redis[2], redis[1], redis[0]]) start(r);
    const master = await waitFor('one master and two replicas', 20_000, async () => {
      const roles = await Promise.all(redis.map(role));
      return roles.filter((r) => r === 'master').length === 1 && roles.filter((r) => r === 'slave').length === 2
        ? redis[roles.indexOf('master')] : undefined;
    });
    expect(master.index).toBe(0);
    await waitForSentinelsAgree(master);

    const config = fields(await cli(master, 'CONFIG', 'GET', 'maxmemory*'));
    expect(config).toMatchObject({ maxmemory: String(maxmemoryBytes), 'maxmemory-policy': 'allkeys-lru' });
    expect(maxmemoryBytes).toBe(Math.floor(256 * 2 ** 20 * 0.7));
    expect(await cli(master, 'CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await cli(master, 'CONFIG', 'GET', 'min-replicas-to-write')).toEqual(['min-replicas-to-write', '1']);
    await expect(cli(master, 'PING', { password: '' })).rejects.toThrow(/NOAUTH/);
    const sentinelMaster = fields(await cli(sentinels[0], 'SENTINEL', 'MASTER', masterName));
    expect(sentinelMaster).toMatchObject({ quorum: '2', 'down-after-milliseconds': '5000', 'failover-timeout': '10000', 'parallel-syncs': '1' });
    // The kubelet's probes: ready once serving (replicas: in sync), alive while answering.
    for (const r of redis) expect([probe(r, redisProbes.ready), probe(r, redisProbes.alive)]).toEqual([true, true]);
    for (const s of sentinels) expect(probe(s, sentinelReadyProbe)).toBe(true);
    // The completed configs hold the passwords: readable by the owner only.
    expect(statSync(join(redis[0].dir, 'run', 'redis.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(sentinels[0].dir, 'run', 'sentinel.conf')).mode & 0o777).toBe(0o600);
    console.log(`[redis] first boot: master redis-0, replicas redis-1/2, ${sentinels.length} Sentinels agree; maxmemory ${maxmemoryBytes} B of ${LIMIT_MEMORY}`);
  }, 40_000);

  it('kill -9 of the master: a replica takes over within 30 s with every write acknowledged by WAIT 1', async () => {
    const old = await currentMaster();
    await writeAcknowledged(old, 'before-failover', 500);
    const started = Date.now();
    stop(old, 'SIGKILL');
    const { master, electedMs } = await waitForNewMaster(old, started);
    await waitFor('the new master accepts writes', 30_000, async () => (await tryCli(master, 'SET', 'after-failover', '1')) === 'OK');
    const writableMs = Date.now() - started;
    console.log(`[redis] failover after kill -9: new master elected in ${(electedMs / 1000).toFixed(1)} s, accepting writes after ${(writableMs / 1000).toFixed(1)} s`);
    expect(writableMs).toBeLessThanOrEqual(30_000);
    await expectAcknowledgedKeys(master);
  }, 60_000);

  it('the old master, restarted by its startup script, rejoins as a replica of the new master', async () => {
    const master = await currentMaster();
    const old = redis.find((r) => !r.proc)!;
    const seenRoles = new Set<string>();
    start(old);
    await waitFor('the old master replicates from the new one', 20_000, async () => {
      const r = await role(old);
      if (r) seenRoles.add(r);
      const info = await tryCli(old, 'INFO', 'replication');
      return typeof info === 'string' && info.includes(`master_port:${master.port}`) && info.includes('master_link_status:up');
    });
    expect([...seenRoles]).toEqual(['slave']);
    await expectAcknowledgedKeys(old);
    await waitForSentinelsAgree(master);
    console.log(`[redis] old master redis-${old.index} rejoined as replica of redis-${master.index}`);
  }, 40_000);

  it('a master restarted before the Sentinels noticed waits for the failover instead of coming back as master', async () => {
    const old = await currentMaster();
    await writeAcknowledged(old, 'before-quick-restart', 200);
    const started = Date.now();
    stop(old, 'SIGKILL');
    start(old); // the kubelet restarts a crashed container at once
    let maxMasters = 0;
    let switched: Member | undefined;
    await waitFor('failover, and the restarted pod replicating from the new master', 40_000, async () => {
      const roles = await Promise.all(redis.map(role));
      maxMasters = Math.max(maxMasters, roles.filter((r) => r === 'master').length);
      const info = await tryCli(old, 'INFO', 'replication');
      switched = redis.find((r, i) => r !== old && roles[i] === 'master');
      return switched !== undefined && typeof info === 'string' && info.includes(`master_port:${switched.port}`) && info.includes('master_link_status:up');
    }, 100);
    console.log(`[redis] master killed and restarted at once: failover to redis-${switched!.index} and rejoin after ${((Date.now() - started) / 1000).toFixed(1)} s; most masters seen at once: ${maxMasters}`);
    expect(maxMasters).toBe(1);
    await expectAcknowledgedKeys(switched!);
    await waitForSentinelsAgree(switched!);
  }, 60_000);

  it('a full restart in a different order recovers one master with every acknowledged write (AOF)', async () => {
    const master = await currentMaster();
    await writeAcknowledged(master, 'before-full-restart', 200);
    // Like deleting every pod: SIGTERM, volumes (data dirs) kept, memory-backed config dirs lost.
    for (const m of [...redis, ...sentinels]) stop(m, 'SIGTERM');
    await waitFor('every process to exit', 20_000, async () => [...redis, ...sentinels].every((m) => !m.proc));
    for (const m of [...redis, ...sentinels]) rmSync(join(m.dir, 'run'), { recursive: true, force: true });

    const started = Date.now();
    for (const m of [redis[2], sentinels[1], redis[1], sentinels[0], sentinels[2]]) start(m);
    await sleep(1500);
    // Undecided, waiting for pod 0 (it may hold the newest data): read-only replicas of nobody, not ready.
    expect(await Promise.all([redis[1], redis[2]].map(role))).toEqual(['slave', 'slave']);
    expect(probe(redis[1], redisProbes.alive)).toBe(true);
    expect(probe(redis[1], redisProbes.ready)).toBe(false);
    expect(probe(sentinels[0], sentinelReadyProbe)).toBe(false);
    start(redis[0]);
    const newMaster = await waitFor('one master and two replicas in sync', 30_000, async () => {
      const infos = await Promise.all(redis.map((r) => tryCli(r, 'INFO', 'replication')));
      const masters = infos.filter((i) => typeof i === 'string' && i.includes('role:master'));
      const synced = infos.filter((i) => typeof i === 'string' && i.includes('master_link_status:up'));
      return masters.length === 1 && synced.length === 2 ? redis[infos.indexOf(masters[0])] : undefined;
    });
    console.log(`[redis] full restart (order redis-2, sentinel-1, redis-1, sentinel-0, sentinel-2, redis-0): master redis-${newMaster.index} with replicas in sync after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const r of redis) await expectAcknowledgedKeys(r);
    await waitForSentinelsAgree(newMaster);
    await waitFor('the master accepts writes', 15_000, async () => (await tryCli(newMaster, 'SET', 'after-full-restart', '1')) === 'OK');
  }, 80_000);

  it('a restarted master that no replica could replace resumes as master after the bounded wait', async () => {
    const master = await currentMaster();
    for (const r of redis.filter((x) => x !== master)) stop(r, 'SIGKILL');
    await sleep(1500); // the AOF is fsynced every second
    const started = Date.now();
    stop(master, 'SIGKILL');
    start(master);
    await sleep(3000);
    expect(await role(master)).toBe('slave'); // undecided: waiting for a failover that can't happen, or the others
    // The cold-start wait: down-after 5 s + 2 x failover-timeout 10 s + 10 s; then the Sentinels' last master may go alone.
    await waitFor('the master to resume', 45_000, async () => (await role(master)) === 'master');
    const waitedMs = Date.now() - started;
    console.log(`[redis] master without any replica to fail over to resumed as master after ${(waitedMs / 1000).toFixed(1)} s`);
    expect(waitedMs).toBeGreaterThanOrEqual(30_000);
    await expectAcknowledgedKeys(master);
  }, 60_000);
});

// ---- processes ----

function start(m: Member): void {
  const run = join(m.dir, 'run');
  mkdirSync(run, { recursive: true });
  if (runAs) chownSync(run, runAs.uid, runAs.gid);
  const env = memberEnv(m);
  const command = (m.kind === 'redis' ? redisCommand : sentinelCommand).map((a) => a.replace('/etc/redis-ha', templates));
  const prefix = runAs ? ['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : [];
  const argv = [...prefix, ...command];
  const log = openSync(join(m.dir, 'log'), 'a');
  // setpriv, sh and the script all exec: the child's PID ends up being redis-server / redis-sentinel itself.
  const proc = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', log, log] });
  closeSync(log);
  m.proc = proc;
  proc.on('exit', () => {
    if (m.proc === proc) m.proc = undefined;
  });
}

/** The environment of member `m`'s container, as the kubelet would give it to the script and the probes. */
function memberEnv(m: Member): Record<string, string> {
  const run = join(m.dir, 'run');
  return m.kind === 'redis'
    ? podEnv(redisEnv, {
      POD_NAME: `cache-${m.index}`,
      CONFIG_DIR: run,
      DATA_DIR: join(m.dir, 'data'),
      REDIS_PORT: String(m.port),
      MEMORY_LIMIT_BYTES: String(256 * 2 ** 20),
    })
    : podEnv(sentinelEnv, { POD_NAME: `cache-sentinel-${m.index}`, CONFIG_DIR: run, SENTINEL_PORT: String(m.port) });
}

/** Runs a container probe command (probe.sh) the way the kubelet does; true when it exits 0. */
function probe(m: Member, command: string[]): boolean {
  const argv = command.map((a) => a.replace('/etc/redis-ha', templates));
  return spawnSync(argv[0], argv.slice(1), { env: memberEnv(m), timeout: 10_000 }).status === 0;
}

function stop(m: Member, signal: NodeJS.Signals): void {
  if (m.proc?.pid) {
    try {
      process.kill(m.proc.pid, signal);
    } catch {
      // already gone
    }
  }
  if (signal === 'SIGKILL') m.proc = undefined;
}

/** This suite's pod-specific values over the synthesized env (test/redis-harness.ts checks every name exists). */
function podEnv(synthesized: K8sObject[], own: Record<string, string>): Record<string, string> {
  const overrides: Record<string, string> = {
    ...own,
    POD_NAMESPACE: 'test',
    TEMPLATE_DIR: templates,
    ANNOUNCE_HOST: '127.0.0.1',
    REDIS_ADDRESSES: redis.map((r) => `127.0.0.1:${r.port}`).join(' '),
    SENTINEL_ADDRESSES: sentinels.map((s) => `127.0.0.1:${s.port}`).join(' '),
    AUTH_FILE: join(root, 'redis-password'),
    SENTINEL_AUTH_FILE: join(root, 'sentinel-password'),
    DISCOVERY_TIMEOUT_SECONDS: '60',
  };
  return harnessPodEnv(synthesized, overrides);
}

// ---- redis-cli ----

interface CliOptions { readonly password?: string }

/** Runs one command with redis-cli; resolves the reply lines, rejects on error replies and connection failures. */
function cli(m: Member, ...args: Array<string | CliOptions>): Promise<string[]> {
  const opts = (typeof args[args.length - 1] === 'object' ? args.pop() : {}) as CliOptions;
  const password = opts.password ?? (m.kind === 'redis' ? PASSWORD : SENTINEL_PASSWORD);
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(m.port), '--no-auth-warning', '-e', ...(args as string[])],
      { env: { PATH: process.env.PATH, ...(password ? { REDISCLI_AUTH: password } : {}) }, timeout: 5000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${m.kind}-${m.index} ${args.join(' ')}: ${(stderr || stdout).trim() || err.message}`));
        else resolve(stdout.replace(/\r/g, '').replace(/\n$/, '').split('\n'));
      });
  });
}

async function tryCli(m: Member, ...args: string[]): Promise<string | undefined> {
  try {
    return (await cli(m, ...args)).join('\n');
  } catch {
    return undefined;
  }
}

async function role(m: Member): Promise<string | undefined> {
  if (!m.proc) return undefined;
  return (await tryCli(m, 'ROLE'))?.split('\n')[0];
}

function fields(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]] = lines[i + 1];
  return out;
}

/** Writes `count` keys in one pipeline and waits until a replica acknowledged them (WAIT 1). */
async function writeAcknowledged(master: Member, prefix: string, count: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}:${i}`);
  const script = `${keys.map((k) => `SET ${k} ${k}`).join('\n')}\nWAIT 1 5000\n`;
  const out = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(master.port), '--no-auth-warning'],
    { input: script, env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, timeout: 15_000 }).toString().trim().split('\n');
  expect(out.slice(0, count).every((l) => l === 'OK')).toBe(true);
  expect(Number(out[count])).toBeGreaterThanOrEqual(1);
  acknowledged.push(...keys);
}

async function expectAcknowledgedKeys(m: Member): Promise<void> {
  await waitFor(`redis-${m.index} to hold every acknowledged key`, 15_000, async () => {
    const present = await tryCli(m, 'EVAL', "local n = 0 for _, k in ipairs(KEYS) do n = n + redis.call('EXISTS', k) end return n", String(acknowledged.length), ...acknowledged);
    return present === String(acknowledged.length);
  });
}

async function currentMaster(): Promise<Member> {
  return waitFor('a current master', 10_000, async () => {
    const roles = await Promise.all(redis.map(role));
    return roles.filter((r) => r === 'master').length === 1 ? redis[roles.indexOf('master')] : undefined;
  });
}

/** Every Sentinel names `master`, sees both replicas and the two other Sentinels. */
async function waitForSentinelsAgree(master: Member): Promise<void> {
  // Sentinels refresh a master's replica list every 10 s.
  await waitFor(`the Sentinels to agree on redis-${master.index}`, 25_000, async () => {
    const views = await Promise.all(sentinels.map(async (s) => fields((await tryCli(s, 'SENTINEL', 'MASTER', masterName))?.split('\n') ?? [])));
    return views.every((v) => v.port === String(master.port) && v.flags === 'master' && v['num-slaves'] === '2' && v['num-other-sentinels'] === '2');
  });
  const replicas = (await cli(sentinels[0], 'SENTINEL', 'REPLICAS', masterName)).join('\n');
  for (const r of redis.filter((x) => x !== master)) expect(replicas).toContain(String(r.port));
}

async function waitForNewMaster(old: Member, started: number): Promise<{ master: Member; electedMs: number }> {
  return waitFor('the Sentinels to elect a new master', 30_000, async () => {
    const addr = await tryCli(sentinels[0], 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
    const port = addr?.split('\n')[1];
    const master = redis.find((r) => String(r.port) === port && r !== old);
    return master && (await role(master)) === 'master' ? { master, electedMs: Date.now() - started } : undefined;
  }, 100);
}

// ---- utilities ----

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logTails()}`);
    await sleep(intervalMs);
  }
}

function logTails(): string {
  return [...redis, ...sentinels].map((m) => {
    let text = '';
    try {
      text = readFileSync(join(m.dir, 'log'), 'utf8').split('\n').slice(-8).join('\n');
    } catch {
      text = '(no log)';
    }
    return `--- ${m.kind}-${m.index} (port ${m.port}, ${m.proc ? 'running' : 'stopped'})\n${text}`;
  }).join('\n');
}
