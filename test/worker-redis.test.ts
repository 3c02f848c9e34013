import { ChildProcess, execFileSync, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../lib';
import { find, K8sObject, synth } from './harness/synth';

/**
 * The generated redis-streams trigger must address a real stream: start redis-server on loopback, build a stream and
 * consumer group with pending and undelivered entries, and evaluate the figures KEDA's redis-streams scaler reads
 * (XPENDING for pendingEntriesCount, XINFO GROUPS' lag for lagCount) with the trigger's own metadata.
 */

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

let server: ChildProcess | undefined;
let dir = '';
let port = 0;
const cli = (...args: string[]) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '-a', 'test-password', ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'worker-redis-'));
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', 'test-password'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try { if (cli('PING') === 'PONG') break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(() => {
  server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function trigger(objects: K8sObject[]): K8sObject {
  return find(objects, 'ScaledObject', 'media').spec.triggers[0];
}

describe('WorkerPool redis-streams trigger against a real Redis', () => {
  const pending = synth((chart) => new WorkerPool(chart, 'media', {
    image: 'ghcr.io/example/media:4.1.0', queue: 'media-jobs',
    scaling: { maxReplicas: 8, triggers: [{ type: 'redis-streams', address: 'redis:6379', stream: 'media-jobs', consumerGroup: 'media-workers', pendingEntriesCount: 10 }] },
  }));
  const lag = synth((chart) => new WorkerPool(chart, 'media', {
    image: 'ghcr.io/example/media:4.1.0', queue: 'media-jobs',
    scaling: { maxReplicas: 8, scaleToZero: true, triggers: [{ type: 'redis-streams', address: 'redis:6379', stream: 'media-jobs', consumerGroup: 'media-workers', lagCount: 20 }] },
  }));

  it('reads the pending entries and lag KEDA scales on, and the replica count it would target', () => {
    const t = trigger(pending).metadata;
    // 120 jobs queued; consumers have read 45 and acknowledged 10 of them: 35 pending, 75 never delivered.
    for (let i = 0; i < 120; i++) cli('XADD', t.stream, '*', 'job', String(i));
    cli('XGROUP', 'CREATE', t.stream, t.consumerGroup, '0');
    const read = cli('XREADGROUP', 'GROUP', t.consumerGroup, 'worker-a', 'COUNT', '45', 'STREAMS', t.stream, '>');
    const ids = read.split('\n').filter((l) => /^\d+-\d+$/.test(l));
    expect(ids).toHaveLength(45);
    cli('XACK', t.stream, t.consumerGroup, ...ids.slice(0, 10));

    // XPENDING <stream> <group>: first line is the count KEDA compares to pendingEntriesCount.
    const pendingCount = Number(cli('XPENDING', t.stream, t.consumerGroup).split('\n')[0]);
    // XINFO GROUPS: the group's "lag" field (Redis 7+), what lagCount compares against.
    const info = cli('XINFO', 'GROUPS', t.stream).split('\n');
    const groupLag = Number(info[info.indexOf('lag') + 1]);
    expect(info[info.indexOf('name') + 1]).toBe(t.consumerGroup);
    expect(pendingCount).toBe(35);
    expect(groupLag).toBe(75);

    const maxReplicas = find(pending, 'ScaledObject', 'media').spec.maxReplicaCount;
    // The HPA KEDA drives targets ceil(metric / target per replica), capped at the ceiling.
    const pendingReplicas = Math.min(maxReplicas, Math.ceil(pendingCount / Number(t.pendingEntriesCount)));
    const lagTarget = Number(trigger(lag).metadata.lagCount);
    const lagReplicas = Math.min(maxReplicas, Math.ceil(groupLag / lagTarget));
    expect(pendingReplicas).toBe(4);
    expect(lagReplicas).toBe(4);
    console.log(`[workers] stream ${t.stream} group ${t.consumerGroup}: XPENDING ${pendingCount} → ${pendingReplicas} replicas at ${t.pendingEntriesCount}/replica; XINFO GROUPS lag ${groupLag} → ${lagReplicas} replicas at ${lagTarget}/replica`);

    // Drained: every entry delivered and acknowledged → lag 0 and pending 0, so the lag trigger lets KEDA reach zero.
    const rest = cli('XREADGROUP', 'GROUP', t.consumerGroup, 'worker-b', 'COUNT', '1000', 'STREAMS', t.stream, '>').split('\n').filter((l) => /^\d+-\d+$/.test(l));
    cli('XACK', t.stream, t.consumerGroup, ...ids.slice(10), ...rest);
    const after = cli('XINFO', 'GROUPS', t.stream).split('\n');
    expect(Number(after[after.indexOf('lag') + 1])).toBe(0);
    expect(Number(cli('XPENDING', t.stream, t.consumerGroup).split('\n')[0])).toBe(0);
    expect(find(lag, 'ScaledObject', 'media').spec.minReplicaCount).toBe(0);
  });
});
