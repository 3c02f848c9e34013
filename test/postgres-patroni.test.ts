/**
 * Automatic failover of a PostgresCluster with `failover: 'patroni'`, on real processes (test/postgres-patroni-cluster.ts):
 * Patroni 4.0.7 + PostgreSQL 17 members at 127.0.15.x, etcd as the DCS, PgBouncer 1.24.1 in front of the "-rw"
 * relay, under a write load through PgBouncer. Planned switchover (the preStop hook), kill -9 of the leader
 * (failover bound, writes resume through the same PgBouncer, loss measured, old leader rejoins with pg_rewind), the
 * leader cut off from the DCS (demotes itself, never two writable primaries), and synchronous mode (no loss).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { PATRONI } from '../lib/defaults';
import { K8sObject, synth } from './harness/synth';
import { psql, sleep, waitFor } from './postgres-processes';
import { Member, PASSWORDS, PatroniCluster, restJson, restStatus } from './postgres-patroni-cluster';

function clusterObjects(synchronous: boolean): K8sObject[] {
  return synth((chart) => new PostgresCluster(chart, 'db', {
    credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } },
    failover: 'patroni', patroni: { synchronous }, maxConnections: 30,
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    storage: { size: '1Gi' },
  }));
}

/** Writers through PgBouncer: each inserts the next id, autocommit; an id is acknowledged when its INSERT returned. */
class WriteLoad {
  public readonly acked: number[] = [];
  public readonly okTimes: number[] = [];
  public errors = 0;
  private running = true;
  private next = 1;
  private loops: Promise<void>[] = [];

  constructor(private readonly port: number, private readonly writers = 4) {}

  start(): this {
    this.loops = Array.from({ length: this.writers }, (_, w) => this.loop(w));
    return this;
  }

  private async loop(writer: number): Promise<void> {
    let client: pg.Client | undefined;
    while (this.running) {
      try {
        if (!client) {
          client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'app', database: 'app', password: PASSWORDS.app, connectionTimeoutMillis: 3000 });
          client.on('error', () => undefined);
          await client.connect();
        }
        const id = this.next++;
        await client.query('INSERT INTO ledger (id, writer) VALUES ($1, $2)', [id, writer]);
        this.acked.push(id);
        this.okTimes.push(performance.now());
      } catch {
        this.errors++;
        await client?.end().catch(() => undefined);
        client = undefined;
        await sleep(50);
      }
    }
    await client?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The longest time without any acknowledged write after `from` (the write-unavailable window). */
  longestGapAfter(from: number): number {
    const times = this.okTimes.filter((t) => t >= from - 1000).sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
    return gap;
  }

  async waitWrites(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(`${n} more acknowledged writes`, () => this.acked.length >= target, timeoutMs, 50);
  }
}

function missingOn(cluster: PatroniCluster, m: Member, acked: number[]): number {
  const present = new Set(psql(cluster.app(m), 'SELECT id FROM ledger').split('\n').filter(Boolean).map(Number));
  return acked.filter((id) => !present.has(id)).length;
}

/**
 * Three members streaming from a leader, the ledger table, PgBouncer in front and a writer through it with 200
 * acknowledged writes: the starting point of every failover scenario. `onStreaming` runs once the replicas stream.
 */
async function bootstrapUnderLoad(cluster: PatroniCluster, onStreaming?: (leader: Member) => void): Promise<{ leader: Member; load: WriteLoad }> {
  await cluster.start(3);
  const leader = await cluster.waitLeader(90_000);
  for (const m of cluster.members.filter((x) => x !== leader)) await waitReplica(cluster, m);
  onStreaming?.(leader);
  psql(cluster.app(leader), 'CREATE TABLE ledger (id bigint PRIMARY KEY, writer int NOT NULL)');
  await cluster.startPooler();
  const load = new WriteLoad(cluster.poolerPort).start();
  await load.waitWrites(200);
  return { leader, load };
}

async function waitReplica(_cluster: PatroniCluster, m: Member, timeoutMs = 90_000): Promise<number> {
  return waitFor(`${m.name} streaming as a replica`, () => restStatus(m, '/replica') === 200
    && (restJson(m, '/patroni') as { replication_state?: string } | undefined)?.replication_state === 'streaming', timeoutMs, 200)
    .catch((e) => { throw new Error(`${e.message}\n${m.server?.output.slice(-4000)}`); });
}

describe('Patroni failover (async, the default), etcd DCS', () => {
  const cluster = new PatroniCluster(clusterObjects(false), 'db', 0);
  let load: WriteLoad;
  let pgbouncerPid = 0;

  beforeAll(async () => {
    const t0 = performance.now();
    ({ load } = await bootstrapUnderLoad(cluster, (leader) => console.log(`[patroni] 3 members bootstrapped (initdb on ${leader.name}, 2 clones) and streaming in ${((performance.now() - t0) / 1000).toFixed(1)} s`)));
    pgbouncerPid = cluster.pooler!.process.pid!;
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await cluster.stop();
  });

  it('uses the documented Patroni defaults from the rendered patroni.yml', () => {
    const config = restJson(cluster.leader()!, '/config') as Record<string, unknown>;
    expect(config).toMatchObject({ ttl: PATRONI.ttl, loop_wait: PATRONI.loopWait, retry_timeout: PATRONI.retryTimeout, maximum_lag_on_failover: PATRONI.maximumLagOnFailover, synchronous_mode: false });
    expect((config.postgresql as { use_pg_rewind: boolean }).use_pg_rewind).toBe(true);
    expect(psql(cluster.app(cluster.leader()!), 'SHOW server_version')).toMatch(/^17\./);
  });

  it('planned switchover from the preStop hook: a short write window, nothing lost', async () => {
    const old = cluster.leader()!;
    const t0 = performance.now();
    const res = cluster.preStop(old);
    expect(res.status, res.output).toBe(0);
    expect(res.output).toMatch(/switchover from/);
    const leader = await cluster.waitLeader(60_000, old);
    await load.waitWrites(200);
    const window = load.longestGapAfter(t0);
    const missing = missingOn(cluster, leader, load.acked);
    console.log(`[patroni] switchover ${old.name} → ${leader.name}: preStop returned after ${((performance.now() - t0) / 1000).toFixed(1)} s, write-unavailable window ${(window / 1000).toFixed(2)} s, ${missing} of ${load.acked.length} acknowledged writes missing, ${load.errors} client errors so far`);
    expect(leader).not.toBe(old);
    expect(missing).toBe(0);
    expect(window).toBeLessThan(30_000);
    await waitReplica(cluster, old);
  }, 150_000);

  it('kill -9 of the leader: a replica leads within ttl + margin, writes resume through the same PgBouncer, the old leader rejoins with pg_rewind', async () => {
    const old = cluster.leader()!;
    await load.waitWrites(100);
    const killedAt = performance.now();
    await cluster.killMember(old);
    const leader = await cluster.waitLeader(90_000, old);
    const promotedAfter = performance.now() - killedAt;
    await load.waitWrites(100);
    const window = load.longestGapAfter(killedAt);
    const missing = missingOn(cluster, leader, load.acked);
    console.log(`[patroni] kill -9 of ${old.name}: ${leader.name} leader after ${(promotedAfter / 1000).toFixed(1)} s (ttl ${PATRONI.ttl} s), write-unavailable window through PgBouncer ${(window / 1000).toFixed(1)} s, async loss ${missing} of ${load.acked.length} acknowledged writes`);
    expect(promotedAfter).toBeLessThan((PATRONI.ttl + PATRONI.loopWait) * 1000);
    expect(cluster.pooler!.process.pid).toBe(pgbouncerPid);
    expect(cluster.pooler!.running).toBe(true);

    const restarted = performance.now();
    cluster.startMember(old);
    const rejoin = await waitReplica(cluster, old, 120_000);
    console.log(`[patroni] ${old.name} rejoined as a streaming replica ${(rejoin / 1000).toFixed(1)} s after restart${/pg_rewind|rewind/i.test(old.server!.output) ? ' (pg_rewind ran)' : ''}`);
    expect(old.server!.output).toMatch(/rewind/i);
    expect(performance.now() - restarted).toBeLessThan(120_000);
  }, 300_000);

  it('a leader cut off from the DCS demotes itself; never two writable primaries', async () => {
    const old = cluster.leader()!;
    await load.waitWrites(100);
    const cutAt = performance.now();
    old.dcs.setCut(true);
    let maxWritable = 0;
    let samples = 0;
    let demotedAfter = 0;
    let newLeader: Member | undefined;
    while (performance.now() - cutAt < 90_000) {
      const writable = cluster.members.filter((m) => m.server?.running && cluster.writable(m));
      samples++;
      maxWritable = Math.max(maxWritable, writable.length);
      if (!demotedAfter && !writable.includes(old)) demotedAfter = performance.now() - cutAt;
      newLeader = cluster.members.find((m) => m !== old && restStatus(m, '/primary') === 200);
      if (demotedAfter && newLeader && writable.length === 1 && writable[0] === newLeader) break;
      await sleep(100);
    }
    const electedAfter = performance.now() - cutAt;
    console.log(`[patroni] ${old.name} cut off from etcd: read-only after ${(demotedAfter / 1000).toFixed(1)} s (retry_timeout ${PATRONI.retryTimeout} s), ${newLeader?.name} leader after ${(electedAfter / 1000).toFixed(1)} s; ${samples} polls of all members, at most ${maxWritable} writable at once`);
    expect(maxWritable).toBe(1);
    expect(demotedAfter).toBeGreaterThan(0);
    expect(newLeader).toBeDefined();
    old.dcs.setCut(false);
    await waitReplica(cluster, old, 120_000);
    await load.waitWrites(100);
  }, 240_000);
});

describe('Patroni failover in synchronous mode', () => {
  const cluster = new PatroniCluster(clusterObjects(true), 'db', 30);
  let load: WriteLoad;

  beforeAll(async () => {
    ({ load } = await bootstrapUnderLoad(cluster));
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await cluster.stop();
  });

  it('kill -9 of the leader loses no acknowledged write', async () => {
    const old = cluster.leader()!;
    // Patroni names a synchronous standby a loop or two after the replicas stream. PostgreSQL's setting comes first;
    // a replica may only take over once the DCS records it in the quorum too (what /cluster reports as its role), so
    // wait for both: a kill in between leaves no member allowed to promote.
    await waitFor('a synchronous standby', () => psql(cluster.su(old), 'SHOW synchronous_standby_names') !== '', 60_000, 200);
    // Both replicas must be in the final set: a kill while Patroni widens it ("1 of 1" → "1 of 2") once left both
    // replicas deferring to each other ("not the healthiest node") with no leader for over 90 s (docs/postgres.md).
    const replicas = cluster.members.length - 1;
    await waitFor('every replica a quorum standby in the DCS', () => {
      const members = (restJson(old, '/cluster') as { members?: Array<{ name: string; role?: string; state?: string }> } | undefined)?.members ?? [];
      return members.filter((m) => (m.role === 'quorum_standby' || m.role === 'sync_standby') && m.state === 'streaming').length === replicas;
    }, 60_000, 200);
    await sleep(2_000);
    await load.waitWrites(100);
    const killedAt = performance.now();
    await cluster.killMember(old);
    const leader = await cluster.waitLeader(90_000, old);
    const promotedAfter = performance.now() - killedAt;
    await load.waitWrites(100);
    const missing = missingOn(cluster, leader, load.acked);
    console.log(`[patroni] synchronous: kill -9 of ${old.name}, ${leader.name} leader after ${(promotedAfter / 1000).toFixed(1)} s, ${missing} of ${load.acked.length} acknowledged writes missing`);
    expect(missing).toBe(0);
  }, 240_000);
});
