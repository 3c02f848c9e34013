import { ChildProcess, execFileSync, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnectionInfo, WorkerPool, kedaDesiredReplicas } from '../lib';
import { find, K8sObject, synth } from './harness/synth';

/**
 * The generated Redis triggers must address real data: redis-server and redis-sentinel (Debian's) run on loopback
 * with passwords; a stream gets a consumer group with delivered-but-unacknowledged and undelivered entries, a list
 * gets jobs. Each trigger is then evaluated the way KEDA's scaler does, using only what the synthesized objects say:
 * the address (or the Sentinels and master name), the password the TriggerAuthentication points at, and the stream,
 * group and list names; then XPENDING (pendingEntriesCount), XINFO GROUPS `lag` (lagCount, Redis 7+) or LLEN
 * (listLength), and the replica count KEDA's HPA would aim for from the trigger's target.
 */

const NAMESPACE = 'media';
const PASSWORD = 'worker-test-redis-password';
const SENTINEL_PASSWORD = 'worker-test-sentinel-password';
/** The Secrets a user creates (docs/workers.md), as KEDA reads them through a TriggerAuthentication. */
const SECRETS: Record<string, Record<string, string>> = {
  'queue-redis': { password: PASSWORD },
  'queue-sentinel': { password: SENTINEL_PASSWORD },
};
/** Cluster DNS, as far as this test is concerned: the one Sentinel's in-cluster name is this loopback process. */
const CLUSTER_DNS: Record<string, string> = { [`sentinel.${NAMESPACE}.svc`]: '127.0.0.1' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const processes: ChildProcess[] = [];
let dir = '';
let redisPort = 0;
let sentinelPort = 0;

/** One command through redis-cli, JSON-decoded; the password goes through REDISCLI_AUTH, not argv. */
function redis(host: string, port: number, password: string | undefined, ...args: string[]): unknown {
  const out = execFileSync('redis-cli', ['-h', host, '-p', String(port), '--json', ...args], {
    encoding: 'utf8', env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) }, timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // redis-cli exits 0 on error replies; with --json it prints them as `error:"..."`.
  if (/^(\(error\)|error:)/i.test(out)) throw new Error(out.trim());
  try {
    return JSON.parse(out);
  } catch {
    return out; // verbatim replies (INFO) are not JSON
  }
}
const local = (...args: string[]) => redis('127.0.0.1', redisPort, PASSWORD, ...args);

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try { if (check()) return; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`${what} did not come up within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'worker-redis-'));
  [redisPort, sentinelPort] = [await freePort(), await freePort()];
  processes.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD], { stdio: 'ignore' }));
  await until(() => local('PING') === 'PONG', 'redis-server');
  const sentinelConf = join(dir, 'sentinel.conf');
  writeFileSync(sentinelConf, [
    `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `requirepass ${SENTINEL_PASSWORD}`,
    `sentinel monitor media-queue 127.0.0.1 ${redisPort} 1`, `sentinel auth-pass media-queue ${PASSWORD}`, '',
  ].join('\n'));
  processes.push(spawn('redis-sentinel', [sentinelConf], { stdio: 'ignore' }));
  await until(() => Array.isArray(redis('127.0.0.1', sentinelPort, SENTINEL_PASSWORD, 'SENTINEL', 'get-master-addr-by-name', 'media-queue')), 'redis-sentinel');
});

afterAll(() => {
  for (const p of processes) p.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What KEDA resolves for one trigger: its metadata and its TriggerAuthentication's parameters, Secrets read. */
function resolved(objects: K8sObject[]): { type: string; metadata: Record<string, string>; auth: Record<string, string>; spec: K8sObject } {
  const so = find(objects, 'ScaledObject');
  const [trigger] = so.spec.triggers;
  const auth: Record<string, string> = {};
  if (trigger.authenticationRef) {
    for (const ref of find(objects, 'TriggerAuthentication', trigger.authenticationRef.name).spec.secretTargetRef) {
      auth[ref.parameter] = SECRETS[ref.name][ref.key];
    }
  }
  return { type: trigger.type, metadata: trigger.metadata, auth, spec: so.spec };
}

const hostPort = (address: string): [string, number] => {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
};

describe('WorkerPool Redis triggers against real redis-server and redis-sentinel', () => {
  const secret = (secretName: string) => ({ secretName, key: 'password' });
  const image = 'ghcr.io/example/media:4.1.0';
  const pendingPool = () => synth((chart) => new WorkerPool(chart, 'media', {
    image, queue: 'media-jobs',
    scaling: { maxReplicas: 8, triggers: [{ type: 'redis-streams', address: `127.0.0.1:${redisPort}`, passwordSecret: secret('queue-redis'), consumerGroup: 'media-workers', pendingEntriesCount: 10 }] },
  }), { namespace: NAMESPACE });
  // A RedisHA-shaped connection whose one Sentinel is the loopback process (sentinelHosts are namespace-relative names).
  const connection = (): RedisConnectionInfo => ({
    sentinelHost: 'sentinel', sentinelPort, sentinelHosts: ['sentinel'], masterName: 'media-queue', redisPort,
    passwordSecret: secret('queue-redis'), sentinelPasswordSecret: secret('queue-sentinel'),
  });
  const lagPool = () => synth((chart) => new WorkerPool(chart, 'media', {
    image, queue: 'media-jobs',
    scaling: { maxReplicas: 8, scaleToZero: true, triggers: [{ type: 'redis-streams', redis: connection(), consumerGroup: 'media-workers', lagCount: 20 }] },
  }), { namespace: NAMESPACE });
  const listPool = () => synth((chart) => new WorkerPool(chart, 'thumbs', {
    image, queue: 'thumbnails',
    scaling: { maxReplicas: 8, triggers: [{ type: 'redis-list', redis: connection(), listLength: 25 }] },
  }), { namespace: NAMESPACE });

  /** KEDA's Sentinel client: ask the Sentinels (by their in-cluster names) for the master, with the Sentinel password. */
  function masterVia(metadata: Record<string, string>, auth: Record<string, string>): [string, number] {
    for (const address of metadata.addresses.split(',')) {
      const [host, port] = hostPort(address);
      expect(host.endsWith(`.${NAMESPACE}.svc`)).toBe(true);
      const reply = redis(CLUSTER_DNS[host], port, auth.sentinelPassword, 'SENTINEL', 'get-master-addr-by-name', metadata.sentinelMaster) as [string, string];
      return [reply[0], Number(reply[1])];
    }
    throw new Error('no Sentinel address in the trigger');
  }

  it('reads the pending entries and lag KEDA scales on, direct and through Sentinel, and the replicas it would target', () => {
    const direct = resolved(pendingPool());
    expect(direct.type).toBe('redis-streams');
    const { stream, consumerGroup } = direct.metadata;
    // 120 jobs queued; consumers have read 45 and acknowledged 10 of them: 35 pending, 75 never delivered.
    for (let i = 0; i < 120; i++) local('XADD', stream, '*', 'job', String(i));
    local('XGROUP', 'CREATE', stream, consumerGroup, '0');
    const read = local('XREADGROUP', 'GROUP', consumerGroup, 'worker-a', 'COUNT', '45', 'STREAMS', stream, '>') as Record<string, [string, string[]][]>;
    const ids = read[stream].map(([id]) => id);
    expect(ids).toHaveLength(45);
    local('XACK', stream, consumerGroup, ...ids.slice(0, 10));

    // pendingEntriesCount: XPENDING <stream> <group> on the trigger's own address, with the Secret's password.
    const [host, port] = hostPort(direct.metadata.address);
    const pending = () => (redis(host, port, direct.auth.password, 'XPENDING', stream, consumerGroup) as [number])[0];
    const pendingTarget = Number(direct.metadata.pendingEntriesCount);
    const pendingBounds = { minReplicaCount: direct.spec.minReplicaCount, maxReplicaCount: direct.spec.maxReplicaCount };
    expect(pending()).toBe(35);
    expect(kedaDesiredReplicas(pending(), pendingTarget, pendingBounds)).toBe(4);

    // lagCount through Sentinel: the master Sentinel names, then XINFO GROUPS' lag of our group (Redis 7+, as KEDA checks).
    const viaSentinel = resolved(lagPool());
    expect(viaSentinel.type).toBe('redis-sentinel-streams');
    expect(viaSentinel.metadata).toMatchObject({ stream, consumerGroup, lagCount: '20', activationLagCount: '0' });
    const [masterHost, masterPort] = masterVia(viaSentinel.metadata, viaSentinel.auth);
    expect([masterHost, masterPort]).toEqual(['127.0.0.1', redisPort]);
    const version = /redis_version:(\d+)/.exec(redis(masterHost, masterPort, viaSentinel.auth.password, 'INFO', 'server') as string)![1];
    expect(Number(version)).toBeGreaterThanOrEqual(7);
    const lag = () => (redis(masterHost, masterPort, viaSentinel.auth.password, 'XINFO', 'GROUPS', stream) as Array<{ name: string; lag: number }>)
      .find((g) => g.name === consumerGroup)!.lag;
    const lagTarget = Number(viaSentinel.metadata.lagCount);
    const lagOpts = { minReplicaCount: viaSentinel.spec.minReplicaCount, maxReplicaCount: viaSentinel.spec.maxReplicaCount, scaleToZero: true, activation: Number(viaSentinel.metadata.activationLagCount) };
    expect(lag()).toBe(75);
    expect(kedaDesiredReplicas(lag(), lagTarget, lagOpts)).toBe(4);
    console.log(`[workers] stream ${stream} group ${consumerGroup}: XPENDING ${pending()} → ${kedaDesiredReplicas(pending(), pendingTarget, pendingBounds)} replicas at ${pendingTarget}/replica (direct ${direct.metadata.address}); `
      + `XINFO GROUPS lag ${lag()} → ${kedaDesiredReplicas(lag(), lagTarget, lagOpts)} replicas at ${lagTarget}/replica (Sentinel master ${viaSentinel.metadata.sentinelMaster} at ${masterHost}:${masterPort})`);

    // Drained: everything delivered and acknowledged. The lag pool may sleep at zero; the pending pool keeps its floor.
    const rest = (local('XREADGROUP', 'GROUP', consumerGroup, 'worker-b', 'COUNT', '1000', 'STREAMS', stream, '>') as Record<string, [string, string[]][]>)[stream].map(([id]) => id);
    local('XACK', stream, consumerGroup, ...ids.slice(10), ...rest);
    expect([pending(), lag()]).toEqual([0, 0]);
    expect(kedaDesiredReplicas(lag(), lagTarget, lagOpts)).toBe(0);
    expect(kedaDesiredReplicas(pending(), pendingTarget, pendingBounds)).toBe(1);
    expect(viaSentinel.spec.minReplicaCount).toBe(0);
    // One new job wakes the lag pool: lag 1 > activationLagCount 0. Pending entries would stay 0 with no consumer.
    local('XADD', stream, '*', 'job', 'late');
    expect([pending(), lag()]).toEqual([0, 1]);
    expect(kedaDesiredReplicas(lag(), lagTarget, lagOpts)).toBe(1);
    console.log(`[workers] drained: XPENDING ${pending()}, lag ${lag() - 1} → lag pool 0 replicas; one new entry → lag 1 → ${kedaDesiredReplicas(lag(), lagTarget, lagOpts)} replica (pending stays ${pending()})`);
  });

  it('reads the list length KEDA scales on through Sentinel', () => {
    const list = resolved(listPool());
    expect(list.type).toBe('redis-sentinel');
    expect(list.metadata.listName).toBe('thumbnails');
    const [masterHost, masterPort] = masterVia(list.metadata, list.auth);
    for (let i = 0; i < 60; i++) local('LPUSH', 'thumbnails', `job-${i}`);
    const length = redis(masterHost, masterPort, list.auth.password, 'LLEN', list.metadata.listName) as number;
    const target = Number(list.metadata.listLength);
    const replicas = kedaDesiredReplicas(length, target, { minReplicaCount: list.spec.minReplicaCount, maxReplicaCount: list.spec.maxReplicaCount });
    expect(length).toBe(60);
    expect(replicas).toBe(3);
    console.log(`[workers] list ${list.metadata.listName}: LLEN ${length} → ${replicas} replicas at ${target}/replica (Sentinel master ${masterHost}:${masterPort})`);
  });

  it('is refused by Redis without the password the TriggerAuthentication points at', () => {
    const { metadata } = resolved(pendingPool());
    const [host, port] = hostPort(metadata.address);
    expect(() => redis(host, port, 'wrong-password', 'XPENDING', metadata.stream, metadata.consumerGroup)).toThrow(/NOAUTH/);
    expect(redis(host, port, PASSWORD, 'PING')).toBe('PONG');
  });
});
