/**
 * The four client libraries of issue 15, each with its default settings (named prepared statements), through the
 * generated pgbouncer.ini on PgBouncer 1.24.1 (the shipped image's release) in transaction mode, in front of a
 * PostgreSQL 17 primary bootstrapped by the generated script: 50 concurrent clients × 200 transactions each, every
 * transaction an INSERT and a read-back by key. Each library must see 0 failures and find all 10,000 rows.
 * With max_prepared_statements = 0 (PgBouncer's default before 1.25) the same run fails or silently loses rows.
 */
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import { homedir } from 'os';
import { join } from 'path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { K8sObject, find, synth } from './harness/synth';
import {
  Conn, Server, freePort, isReady, makeServerDir, podEnv, psql, psqlRaw, removeDir, runScript, serverTempDir, waitFor,
  writeServerFile,
} from './postgres-processes';

const PASSWORDS = { superuser: 'su-secret-1', replication: 're-secret-2', app: `ap:p\\us"er'3` };
const WORKERS = 50;
const PER_WORKER = 200;
const VENV = process.env.SCALECHARTS_PYCLIENTS ?? join(homedir(), '.cache/scalecharts/pyclients');

let objects: K8sObject[] = [];
let cluster!: PostgresCluster;
let dir = '';
const servers: Server[] = [];
const ports = { primary: 0, pooler: 0 };
const app = (port: number): Conn => ({ port, user: 'app', database: 'app', password: PASSWORDS.app });
const clientEnd = (port: number) => ({ host: '127.0.0.1', port, user: 'app', database: 'app', password: PASSWORDS.app });

interface Outcome { ok: number; failed: number; errors: string[] }

async function loop(worker: number, tx: (seq: number, value: string) => Promise<string | undefined>, out: Outcome, lib: string) {
  for (let seq = 0; seq < PER_WORKER; seq++) {
    const value = `${lib}-${worker}-${seq}`;
    try {
      const got = await tx(seq, value);
      if (got !== value) throw new Error(`read back ${got}, expected ${value}`);
      out.ok++;
    } catch (e) {
      out.failed++;
      if (out.errors.length < 5) out.errors.push(String((e as Error).message ?? e));
    }
  }
}

/** node-postgres with named statements; half the workers give the two names the opposite SQL, as separate apps would. */
async function nodePostgres(): Promise<Outcome> {
  const out: Outcome = { ok: 0, failed: 0, errors: [] };
  const insert = 'INSERT INTO client_rows (lib, worker, seq, v) VALUES ($1, $2, $3, $4)';
  const select = 'SELECT v FROM client_rows WHERE lib = $1 AND worker = $2 AND seq = $3';
  await Promise.all(Array.from({ length: WORKERS }, async (_, worker) => {
    const client = new pg.Client(clientEnd(ports.pooler));
    await client.connect();
    const [insName, selName] = worker % 2 ? ['stmt_a', 'stmt_b'] : ['stmt_b', 'stmt_a'];
    try {
      await loop(worker, async (seq, value) => {
        await client.query('BEGIN');
        try {
          await client.query({ name: insName, text: insert, values: ['pg', worker, seq, value] });
          const res = await client.query({ name: selName, text: select, values: ['pg', worker, seq] });
          await client.query('COMMIT');
          return res.rows[0]?.v;
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }, out, 'pg');
    } finally {
      await client.end();
    }
  }));
  return out;
}

/** postgres.js with its defaults (prepare: true). */
async function postgresJs(): Promise<Outcome> {
  const out: Outcome = { ok: 0, failed: 0, errors: [] };
  const { host, port, user, database, password } = clientEnd(ports.pooler);
  const sql = postgres({ host, port, user, database, pass: password, max: WORKERS, onnotice: () => undefined });
  try {
    await Promise.all(Array.from({ length: WORKERS }, (_, worker) => loop(worker, async (seq, value) => {
      const rows = await sql.begin(async (tx) => {
        await tx`INSERT INTO client_rows (lib, worker, seq, v) VALUES ('postgres.js', ${worker}, ${seq}, ${value})`;
        return tx`SELECT v FROM client_rows WHERE lib = 'postgres.js' AND worker = ${worker} AND seq = ${seq}`;
      });
      return rows[0]?.v as string | undefined;
    }, out, 'postgres.js')));
  } finally {
    await sql.end({ timeout: 5 });
  }
  return out;
}

/** psycopg 3 or asyncpg, defaults, through test/postgres-clients.py in the PyPI venv (scripts/setup.d/postgres.sh). */
async function python(lib: 'psycopg' | 'asyncpg'): Promise<Outcome> {
  const child = spawn(join(VENV, 'bin/python'), [join(__dirname, 'postgres-clients.py'), lib, String(ports.pooler), String(WORKERS), String(PER_WORKER)], {
    env: { PATH: process.env.PATH ?? '', PGUSER: 'app', PGDATABASE: 'app', PGPASSWORD: PASSWORDS.app },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${lib} client exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
}

describe('four client libraries through PgBouncer 1.24.1 in transaction mode (max_prepared_statements explicit)', () => {
  beforeAll(async () => {
    if (!existsSync(join(VENV, 'bin/python'))) throw new Error(`${VENV} missing: run scripts/setup.d/postgres.sh`);
    objects = synth((chart) => {
      cluster = new PostgresCluster(chart, 'orders-db', {
        credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } },
        failover: 'none', replicas: 0, maxConnections: 40,
        resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        storage: { size: '1Gi' },
      });
    });
    dir = serverTempDir('scalecharts-pgclients-');
    for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'orders-db-config').data as Record<string, string>)) writeServerFile(join(dir, 'config', file), content, 0o644);
    for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'orders-db-pooler-config').data as Record<string, string>)) writeServerFile(join(dir, 'pooler-config', file), content, 0o644);
    for (const [which, password] of Object.entries(PASSWORDS)) writeServerFile(join(dir, 'passwords', which), password, 0o400);
    ports.primary = await freePort();
    ports.pooler = await freePort();

    const sts = find(objects, 'StatefulSet', 'orders-db-primary').spec.template.spec;
    const home = join(dir, 'primary');
    const paths = {
      PGDATA: join(home, 'pgdata'), PG_SOCKET_DIR: makeServerDir(join(home, 'run')), PG_CONFIG_DIR: join(dir, 'config'),
      SUPERUSER_PASSWORD_FILE: join(dir, 'passwords/superuser'), REPLICATION_PASSWORD_FILE: join(dir, 'passwords/replication'),
      APP_PASSWORD_FILE: join(dir, 'passwords/app'), PG_PORT: String(ports.primary), PG_LISTEN_ADDRESSES: '127.0.0.1',
    };
    const only = (c: K8sObject) => Object.fromEntries(Object.entries(paths).filter(([k]) => (c.env ?? []).some((e: K8sObject) => e.name === k)));
    runScript(join(dir, 'config/bootstrap-primary.sh'), podEnv(sts.initContainers[0], only(sts.initContainers[0])), home);
    const primary = new Server('primary', ['bash', join(dir, 'config/run-postgres.sh')], podEnv(sts.containers[0], only(sts.containers[0])), home);
    servers.push(primary);
    await waitFor('primary', () => isReady(ports.primary), 30_000, 100).catch((e) => { throw new Error(`${e.message}\n${primary.output}`); });
    psql(app(ports.primary), 'CREATE TABLE client_rows (lib text, worker int, seq int, v text NOT NULL, PRIMARY KEY (lib, worker, seq))');

    const poolerDir = makeServerDir(join(dir, 'pooler'));
    const init = find(objects, 'Deployment', 'orders-db-pooler').spec.template.spec.initContainers[0];
    runScript(join(dir, 'pooler-config/pooler-init.sh'), podEnv(init, {
      PGBOUNCER_CONFIG_DIR: join(dir, 'pooler-config'), PGBOUNCER_RUN_DIR: poolerDir, POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(ports.primary), PGBOUNCER_LISTEN_ADDR: '127.0.0.1', PGBOUNCER_PORT: String(ports.pooler),
      APP_PASSWORD_FILE: join(dir, 'passwords/app'),
    }), poolerDir);
    const pgbouncer = new Server('pgbouncer', ['pgbouncer', join(poolerDir, 'pgbouncer.ini')], {}, poolerDir);
    servers.push(pgbouncer);
    await waitFor('pgbouncer', () => psqlRaw({ ...app(ports.pooler), database: 'pgbouncer' }, 'SHOW VERSION').status === 0, 10_000, 100)
      .catch((e) => { throw new Error(`${e.message}\n${pgbouncer.output}`); });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) removeDir(dir);
  });

  it('runs PgBouncer 1.24.1 with max_prepared_statements from the generated file and a pool smaller than the clients', () => {
    const admin = { ...app(ports.pooler), database: 'pgbouncer' };
    expect(psql(admin, 'SHOW VERSION')).toContain('PgBouncer 1.24.1');
    const config = psql(admin, 'SHOW CONFIG').split('\n').map((l) => l.split('|'));
    const setting = (key: string) => config.find((c) => c[0] === key)?.[1];
    expect(setting('max_prepared_statements')).toBe('200');
    expect(setting('pool_mode')).toBe('transaction');
    expect(cluster.settings.pooler.maxDbConnections).toBeLessThan(WORKERS / 2);
    expect(psql(app(ports.primary), 'SHOW server_version')).toMatch(/^17\./);
  });

  const libraries: [string, () => Promise<Outcome>, string][] = [
    ['node-postgres (named statements)', nodePostgres, 'pg'],
    ['postgres.js (defaults)', postgresJs, 'postgres.js'],
    ['psycopg 3 (defaults)', () => python('psycopg'), 'psycopg'],
    ['asyncpg (defaults)', () => python('asyncpg'), 'asyncpg'],
  ];
  for (const [title, run, lib] of libraries) {
    it(`${title}: ${WORKERS} × ${PER_WORKER} transactions, 0 failures, 0 lost rows`, async () => {
      const t0 = performance.now();
      const out = await run();
      const seconds = (performance.now() - t0) / 1000;
      const rows = Number(psql(app(ports.primary), `SELECT count(*) FROM client_rows WHERE lib = '${lib}'`));
      console.log(`[postgres-clients] ${title}: ${out.ok} ok, ${out.failed} failed, ${rows} rows in Postgres, ${seconds.toFixed(1)} s (${Math.round(out.ok / seconds)} tx/s)${out.errors.length ? `; first errors: ${out.errors.join(' | ')}` : ''}`);
      expect(out.errors).toEqual([]);
      expect(out.failed).toBe(0);
      expect(out.ok).toBe(WORKERS * PER_WORKER);
      expect(rows).toBe(WORKERS * PER_WORKER);
    }, 180_000);
  }
});
