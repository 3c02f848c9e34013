/**
 * PostgresCluster backups and point-in-time recovery (issue 16), proven by restoring, on real processes: Patroni +
 * PostgreSQL 17 members (test/postgres-patroni-cluster.ts, "pods" at 127.0.16.x), pgBackRest 2.55.1 with the
 * generated pgbackrest.conf and the generated scripts (backup-init.sh, the backup-loop.sh sidecar, archive_command
 * and the backup-restore.sh bootstrap from patroni.yml), and versitygw, a real S3 server, over TLS on loopback
 * (scripts/setup.d/backups.sh builds both).
 *  1. a first full backup by the sidecar and continuous WAL archiving while a workload writes;
 *  2. restore into a fresh cluster to a time between two known commits: the rows before are there, after are not;
 *  3. the store stopped: pg_stat_archiver.failed_count (the alert's metric) rises; restarted: archiving resumes;
 *  4. restore to the latest point: every committed row, including those written while the store was down, is
 *     there, and every WAL segment is in the store; restore seconds per GiB measured (a small dataset, scaled).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import { homedir, tmpdir } from 'os';
import { join } from 'path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import type { PostgresRestoreProps } from '../lib/postgres/backup';
import { K8sObject, find, synth } from './harness/synth';
import { PASSWORDS, PatroniCluster, type Member } from './postgres-patroni-cluster';
import { Server, freePort, podEnv, psql, runScript, runStatus, sleep, waitFor, writeServerFile } from './postgres-processes';

const NET = '127.0.16';
const S3_HOST = `${NET}.100`;
const BIN = process.env.SCALECHARTS_TOOLS ?? join(homedir(), '.cache/scalecharts/bin');
const S3_KEYS = { accessKeyId: 'scalecharts-test', secretAccessKey: 'secret/with+odd=chars' };
const BUCKET = 'backups';

/** versitygw over a directory, TLS with a throwaway CA-less self-signed certificate; stoppable and restartable. */
class S3Server {
  public readonly dir = mkdtempSync(join(tmpdir(), 'scalecharts-s3-'));
  public port = 0;
  private child?: ChildProcess;
  public output = '';

  async start(): Promise<void> {
    if (!this.port) {
      this.port = await freePort();
      mkdirSync(join(this.dir, 'data', BUCKET), { recursive: true });
      mkdirSync(join(this.dir, 'meta'), { recursive: true });
      const res = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${S3_HOST}`,
        '-addext', `subjectAltName=IP:${S3_HOST}`, '-keyout', join(this.dir, 'key.pem'), '-out', join(this.dir, 'cert.pem')], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`openssl: ${res.stderr}`);
    }
    this.child = spawn(join(BIN, 'versitygw'), ['--port', `${S3_HOST}:${this.port}`, '--cert', join(this.dir, 'cert.pem'), '--key', join(this.dir, 'key.pem'),
      '--quiet', 'posix', '--sidecar', join(this.dir, 'meta'), join(this.dir, 'data')],
    // The root credentials from the environment, not argv.
    { env: { ...process.env, ROOT_ACCESS_KEY_ID: S3_KEYS.accessKeyId, ROOT_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d) => { this.output += d; });
    this.child.stderr?.on('data', (d) => { this.output += d; });
    await waitFor('versitygw', () => spawnSync('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://${S3_HOST}:${this.port}/`], { encoding: 'utf8' }).stdout === '403', 20_000, 100)
      .catch((e) => { throw new Error(`${e.message}\n${this.output}`); });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Object keys under `prefix` in the bucket (the posix backend stores them as files). */
  keys(prefix: string): string[] {
    const root = join(this.dir, 'data', BUCKET, prefix);
    const out: string[] = [];
    const walk = (d: string, rel: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
        else out.push(`${rel}${e.name}`);
      }
    };
    try { walk(root, ''); } catch { /* nothing yet */ }
    return out;
  }
}

const s3 = new S3Server();

function clusterObjects(name: string, pathPrefix: string, restore?: PostgresRestoreProps): K8sObject[] {
  return synth((chart) => new PostgresCluster(chart, name, {
    credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } },
    failover: 'patroni', replicas: 0, maxConnections: 30,
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    storage: { size: '1Gi' },
    backup: {
      bucket: BUCKET, endpoint: `https://${S3_HOST}:${s3.port}`, credentialsSecret: 's3-keys', pathPrefix, uriStyle: 'path', caConfigMap: 's3-ca',
    },
    ...(restore ? { restore } : {}),
  }));
}

/**
 * A PatroniCluster whose members carry the backup pieces of the pod: the backup-init init container, the PGBACKREST_*
 * environment (this member's data directory and port instead of the pod's), and the backup sidecar.
 */
class BackupCluster extends PatroniCluster {
  private readonly spec: K8sObject;
  public readonly sidecars = new Map<string, Server>();

  constructor(objects: K8sObject[], clusterName: string, subnet: number) {
    super(objects, clusterName, subnet, undefined, NET);
    this.spec = find(objects, 'StatefulSet', clusterName).spec.template.spec;
  }

  /** This suite's own copy of the ConfigMap (the shared path under /etc may hold another suite's patroni.yml). */
  private get config(): string { return join(this.dir, 'config'); }

  override memberEnv(m: Member, which: 'init' | 'main'): Record<string, string> {
    const env = super.memberEnv(m, which);
    if (which === 'init') return { ...env, PATRONI_CONFIG_DIR: this.config };
    return { ...env, ...this.pgbackrestEnv(m) };
  }

  pgbackrestEnv(m: Member): Record<string, string> {
    return { PGBACKREST_CONFIG: join(this.config, 'pgbackrest.conf'), PGBACKREST_PG1_PATH: join(this.dir, m.name, 'pgdata'), PGBACKREST_PG1_PORT: String(m.pgPort) };
  }

  override startMember(m: Member): Server {
    const init = this.spec.initContainers.find((c: K8sObject) => c.name === 'backup-init');
    expect(init.command).toEqual(['bash', '/etc/postgresql-cluster/backup-init.sh']);
    const secrets = join(this.dir, 'backup-secret');
    writeServerFile(join(secrets, 'accessKeyId'), `${S3_KEYS.accessKeyId}\n`, 0o400);
    writeServerFile(join(secrets, 'secretAccessKey'), S3_KEYS.secretAccessKey, 0o400);
    writeServerFile(join(secrets, 'ca.crt'), spawnSync('cat', [join(s3.dir, 'cert.pem')], { encoding: 'utf8' }).stdout, 0o444);
    runScript(join(this.config, 'backup-init.sh'), podEnv(init, {
      S3_KEY_ID_FILE: join(secrets, 'accessKeyId'), S3_KEY_FILE: join(secrets, 'secretAccessKey'), BACKUP_CA_FILE: join(secrets, 'ca.crt'),
    }), join(this.dir));
    return super.startMember(m);
  }

  /** The backup sidecar (backup-loop.sh) next to member `m`, looking every second instead of every 20. */
  startSidecar(m: Member): Server {
    const c = this.spec.containers.find((x: K8sObject) => x.name === 'backup');
    expect(c.command).toEqual(['bash', '/etc/postgresql-cluster/backup-loop.sh']);
    const server = new Server(`${m.name}-backup`, ['bash', join(this.config, 'backup-loop.sh')],
      podEnv(c, { ...this.pgbackrestEnv(m), BACKUP_CHECK_SECONDS: '1' }), join(this.dir, m.name));
    this.sidecars.set(m.name, server);
    return server;
  }

  /** `pgbackrest info` of this cluster's repository (or `repoPath`), parsed. */
  info(m: Member, repoPath?: string): Array<{ backup: Array<{ label: string; timestamp: { stop: number } }>; archive: Array<{ min: string; max: string }> }> {
    const res = runStatus(['pgbackrest', '--stanza=db', '--output=json', ...(repoPath ? [`--repo1-path=${repoPath}`] : []), 'info'], this.memberEnv(m, 'main'), join(this.dir, m.name), 60_000);
    if (res.status !== 0) throw new Error(`pgbackrest info: ${res.output}`);
    return JSON.parse(res.output);
  }

  override async stop(): Promise<void> {
    await Promise.all([...this.sidecars.values()].map((s) => s.stop('SIGTERM', 5_000)));
    await super.stop();
  }
}

/** Inserts ids from `next` on, one autocommit INSERT each, until stopped; the acknowledged ids are kept. */
class Writer {
  public readonly acked: number[] = [];
  private running = true;
  private done?: Promise<void>;
  constructor(private readonly conn: { host: string; port: number }, public next: number) {}

  start(): this {
    this.done = (async () => {
      const client = new pg.Client({ ...this.conn, user: 'app', database: 'app', password: PASSWORDS.app });
      await client.connect();
      while (this.running) {
        const id = this.next++;
        await client.query('INSERT INTO ledger (id) VALUES ($1)', [id]);
        this.acked.push(id);
        await sleep(5);
      }
      await client.end();
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

const ids = (cluster: PatroniCluster, m: Member): number[] =>
  psql(cluster.app(m), 'SELECT id FROM ledger ORDER BY id').split('\n').filter(Boolean).map(Number);

/** The current WAL segment, switched and archived (waits until pg_stat_archiver reports it). */
async function switchAndArchive(cluster: PatroniCluster, m: Member, timeoutMs = 60_000): Promise<string> {
  const segment = psql(cluster.su(m), 'SELECT pg_walfile_name(pg_current_wal_lsn())');
  psql(cluster.su(m), 'SELECT pg_switch_wal()');
  await waitFor(`segment ${segment} archived`, () => psql(cluster.su(m), 'SELECT coalesce(last_archived_wal, \'\') FROM pg_stat_archiver') >= segment, timeoutMs, 200);
  return segment;
}

async function restoredLeader(cluster: BackupCluster): Promise<{ leader: Member; seconds: number }> {
  const t0 = performance.now();
  await cluster.start(1);
  const leader = await cluster.waitLeader(180_000);
  await waitFor('the restored leader writable', () => cluster.writable(leader), 60_000, 200);
  return { leader, seconds: (performance.now() - t0) / 1000 };
}

describe('PostgresCluster backups with pgBackRest to a real S3 server', () => {
  let a: BackupCluster;
  let aLeader: Member;
  let writer: Writer;
  const extra: BackupCluster[] = [];

  beforeAll(async () => {
    await s3.start();
    a = new BackupCluster(clusterObjects('pga', '/test/a'), 'pga', 0);
    await a.start(1);
    aLeader = await a.waitLeader(90_000);
    psql(a.app(aLeader), 'CREATE TABLE ledger (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
  }, 150_000);

  afterAll(async () => {
    await writer?.stop().catch(() => undefined);
    for (const c of extra) await c.stop();
    await a?.stop();
    await s3.stop();
    rmSync(s3.dir, { recursive: true, force: true });
  });

  it('takes a first full backup and archives WAL continuously while a workload writes', async () => {
    writer = new Writer({ host: aLeader.host, port: aLeader.pgPort }, 1).start();
    const sidecar = a.startSidecar(aLeader);
    // The sidecar logs this after the backup is in the store and recorded for the exporter.
    await waitFor('the first full backup', () => sidecar.output.includes('full backup done'), 120_000, 500)
      .catch((e) => { throw new Error(`${e.message}\n${sidecar.output}\n${aLeader.server?.output.slice(-3000)}`); });
    const during = writer.acked.length;
    await switchAndArchive(a, aLeader);
    const [archived, failed] = psql(a.su(aLeader), 'SELECT archived_count, failed_count FROM pg_stat_archiver').split('|').map(Number);
    expect(archived).toBeGreaterThan(0);
    // The sidecar recorded the backup for the exporter's pg_backup_newest_age_seconds.
    expect(Number(psql(a.su(aLeader), 'SELECT count(*) FROM scalecharts_backup.runs'))).toBe(1);
    expect(a.info(aLeader)[0].backup.length).toBe(1);
    console.log(`[backup] first full backup + archive: ${archived} segments archived (${failed} failed attempts), ${during} rows written meanwhile`);
    expect(during).toBeGreaterThan(0);
  }, 150_000);

  it('restores a fresh cluster to a time between two commits: rows before present, rows after absent', async () => {
    await sleep(500);
    const beforeIds = writer.acked.slice();
    const lastBefore = beforeIds[beforeIds.length - 1];
    // The target: a server time after the last acknowledged row's commit (its INSERT returned) and before the next.
    const target = psql(a.su(aLeader), `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
    await sleep(1000);
    const afterCount = writer.acked.length - beforeIds.length;
    await sleep(1000);
    await switchAndArchive(a, aLeader);
    const b = new BackupCluster(clusterObjects('pgb', '/test/b', { targetTime: target, sourcePathPrefix: '/test/a' }), 'pgb', 30);
    extra.push(b);
    const { leader, seconds } = await restoredLeader(b).catch((e) => { throw new Error(`${e.message}\n${b.members[0]?.server?.output.slice(-4000)}`); });
    const restored = ids(b, leader);
    const present = new Set(restored);
    const writtenBefore = psql(a.app(aLeader), `SELECT count(*) FROM ledger WHERE at < '${target}'`);
    console.log(`[backup] restore to ${target}: ${restored.length} rows (${writtenBefore} committed before the target on the source), leader after ${seconds.toFixed(1)} s`);
    expect(beforeIds.every((id) => present.has(id))).toBe(true);
    expect(Math.max(...restored)).toBeLessThanOrEqual(lastBefore + 1); // at most the INSERT in flight at the target time
    expect(Number(writtenBefore)).toBe(restored.length);
    expect(afterCount).toBeGreaterThan(10);
    // Promoted on a new timeline, writable.
    expect(Number(psql(b.su(leader), 'SELECT timeline_id FROM pg_control_checkpoint()'))).toBeGreaterThan(1);
  }, 240_000);

  it('counts archive failures while the store is down and archives every segment once it is back', async () => {
    const failedBefore = Number(psql(a.su(aLeader), 'SELECT failed_count FROM pg_stat_archiver'));
    await s3.stop();
    const stoppedAt = writer.acked.length;
    const pending = psql(a.su(aLeader), 'SELECT pg_walfile_name(pg_current_wal_lsn())');
    psql(a.su(aLeader), 'SELECT pg_switch_wal()');
    const rose = await waitFor('pg_stat_archiver.failed_count to rise', () => Number(psql(a.su(aLeader), 'SELECT failed_count FROM pg_stat_archiver')) > failedBefore, 150_000, 500);
    const lastFailedNewer = psql(a.su(aLeader), 'SELECT last_failed_time > coalesce(last_archived_time, \'-infinity\') FROM pg_stat_archiver');
    expect(lastFailedNewer).toBe('t');
    console.log(`[backup] store down: failed_count rose after ${(rose / 1000).toFixed(1)} s; last_failed_time newer than last_archived_time`);
    await s3.start();
    const resumed = await waitFor(`segment ${pending} archived after the store returned`, () => psql(a.su(aLeader), 'SELECT coalesce(last_archived_wal, \'\') FROM pg_stat_archiver') >= pending, 120_000, 500);
    console.log(`[backup] store back: archiving resumed, ${pending} archived ${(resumed / 1000).toFixed(1)} s later; ${writer.acked.length - stoppedAt} rows written meanwhile`);
    expect(writer.acked.length).toBeGreaterThan(stoppedAt);
  }, 300_000);

  it('restores the latest state: every committed row, every WAL segment in the store; seconds per GiB', async () => {
    // A larger table, so the restore rate means something (still small: scaled to 1 GiB below).
    psql(a.app(aLeader), "CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 6) AS payload FROM generate_series(1, 300000) g", 120_000);
    await writer.stop();
    const committed = writer.acked.slice();
    const last = await switchAndArchive(a, aLeader, 120_000);
    // Every segment from the backup's start to the last switched one is in the store: no gap from the outage.
    const info = a.info(aLeader)[0];
    const segments = s3.keys('test/a/archive/db').map((k) => k.split('/').pop()!.slice(0, 24)).filter((n) => /^[0-9A-F]{24}$/.test(n));
    const have = new Set(segments);
    const first = info.archive[0].min;
    const toNum = (s: string): number => parseInt(s.slice(8, 16), 16) * 256 + parseInt(s.slice(16), 16);
    const missing: string[] = [];
    for (let n = toNum(first); n <= toNum(last); n++) {
      const name = `${first.slice(0, 8)}${(Math.floor(n / 256)).toString(16).toUpperCase().padStart(8, '0')}${(n % 256).toString(16).toUpperCase().padStart(8, '0')}`;
      if (!have.has(name)) missing.push(name);
    }
    expect(missing).toEqual([]);
    const bytes = Number(psql(a.su(aLeader), 'SELECT sum(pg_database_size(datname)) FROM pg_database'));

    const c = new BackupCluster(clusterObjects('pgc', '/test/c', { sourcePathPrefix: '/test/a' }), 'pgc', 60);
    extra.push(c);
    const { leader, seconds } = await restoredLeader(c).catch((e) => { throw new Error(`${e.message}\n${c.members[0]?.server?.output.slice(-4000)}`); });
    const present = new Set(ids(c, leader));
    const lost = committed.filter((id) => !present.has(id));
    expect(lost).toEqual([]);
    expect(Number(psql(c.app(leader), 'SELECT count(*) FROM bulk'))).toBe(300000);
    const gib = bytes / 2 ** 30;
    console.log(`[backup] restore to latest: ${committed.length} committed rows all present, ${segments.length} segments in the store (none missing from ${first} to ${last}); `
      + `${(bytes / 2 ** 20).toFixed(0)} MiB restored + replayed in ${seconds.toFixed(1)} s (Patroni start to writable leader) = ${(seconds / gib).toFixed(0)} s/GiB scaled from a small dataset`);
  }, 300_000);
});
