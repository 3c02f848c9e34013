/**
 * The PostgresCluster's generated files, run for real on loopback: PostgreSQL 17 primary + 2 streaming
 * replicas bootstrapped by the generated scripts, and PgBouncer with the generated pgbouncer.ini.
 * Every file comes out of the synthesized ConfigMaps; hosts, ports and paths go in through the environment
 * variables the pods declare.
 */
import { spawn, spawnSync } from 'child_process';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { K8sObject, find, synth } from './harness/synth';
import {
  Conn, PG_BIN, Server, freePort, inRoot, isReady, makeServerDir, podEnv, psql, psqlRaw, removeDir, runScript, serverTempDir,
  sleep, waitFor, writeServerFile,
} from './postgres-processes';

// Passwords with the characters each file format must escape: ':' and '\' (pgpass), '"' (userlist), "'" (SQL).
const PASSWORDS = { superuser: `su:per\\us"er'1`, replication: `re:pl\\ic"a'2`, app: `ap:p\\us"er'3` };
const MAX_CONNECTIONS = 30;
const CLIENTS = 3 * MAX_CONNECTIONS;

let cluster!: PostgresCluster;
let objects: K8sObject[] = [];
let dir = '';
const servers: Server[] = [];
const ports = { primary: 0, replicas: [0, 0], pooler: 0 };

const configMap = (name: string): Record<string, string> => find(objects, 'ConfigMap', name).data;
const initContainer = (kind: string, name: string) => find(objects, kind, name).spec.template.spec.initContainers[0];
const mainContainer = (kind: string, name: string) => find(objects, kind, name).spec.template.spec.containers[0];

const superuser = (port: number): Conn => ({ port, user: 'postgres', database: 'postgres', password: PASSWORDS.superuser });
const app = (port: number): Conn => ({ port, user: 'app', database: 'app', password: PASSWORDS.app });

/** Files and environment of one Postgres pod, mapped into `dir/<pod>`. */
function postgresEnv(kind: 'bootstrap' | 'run', role: 'primary' | 'replica', pod: string, port: number): Record<string, string> {
  const sts = `orders-db-${role}`;
  const container = kind === 'bootstrap' ? initContainer('StatefulSet', sts) : mainContainer('StatefulSet', sts);
  const home = join(dir, pod);
  const all: Record<string, string> = {
    PGDATA: join(home, 'pgdata'),
    PG_CONFIG_DIR: join(dir, 'config'),
    PG_PORT: String(port),
    PG_LISTEN_ADDRESSES: '127.0.0.1',
    PG_SOCKET_DIR: join(home, 'run'),
    SUPERUSER_PASSWORD_FILE: join(dir, 'passwords', 'superuser'),
    REPLICATION_PASSWORD_FILE: join(dir, 'passwords', 'replication'),
    APP_PASSWORD_FILE: join(dir, 'passwords', 'app'),
    PGPASSFILE: join(home, 'run', '.pgpass'),
    PRIMARY_HOST: '127.0.0.1',
    PRIMARY_PORT: String(ports.primary),
    REPLICA_NAME: pod,
  };
  const declared = new Set<string>((container.env ?? []).map((e: K8sObject) => e.name));
  return podEnv(container, Object.fromEntries(Object.entries(all).filter(([k]) => declared.has(k))));
}

function startPostgres(role: 'primary' | 'replica', pod: string, port: number): Server {
  const home = join(dir, pod);
  const server = new Server(pod, ['bash', join(dir, 'config', 'run-postgres.sh')], postgresEnv('run', role, pod, port), home);
  servers.push(server);
  return server;
}

async function waitReady(server: Server, port: number): Promise<void> {
  try {
    await waitFor(`${server.name} on port ${port}`, () => isReady(port), 30_000, 100);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${server.output}`);
  }
}

async function bootstrapReplica(index: number): Promise<Server> {
  const pod = `orders-db-replica-${index}`;
  makeServerDir(join(dir, pod, 'run'));
  runScript(join(dir, 'config', 'bootstrap-replica.sh'), postgresEnv('bootstrap', 'replica', pod, ports.replicas[index]), join(dir, pod));
  const server = startPostgres('replica', pod, ports.replicas[index]);
  await waitReady(server, ports.replicas[index]);
  return server;
}

const count = (port: number, sql = 'SELECT count(*) FROM orders') => Number(psql(app(port), sql));

describe('PostgresCluster on real PostgreSQL 17 and PgBouncer 1.24.1', () => {
  beforeAll(async () => {
    objects = synth((chart) => {
      cluster = new PostgresCluster(chart, 'orders-db', {
        credentials: { superuser: { secretName: 'orders-db-superuser' }, replication: { secretName: 'orders-db-replication' }, app: { secretName: 'orders-db-app' } },
        // The topology without automatic failover (its scripts); Patroni's real-process proofs: postgres-patroni.test.ts.
        failover: 'none',
        maxConnections: MAX_CONNECTIONS,
        resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        storage: { size: '1Gi' },
      });
    });
    dir = serverTempDir('scalecharts-pg-');
    for (const [file, content] of Object.entries(configMap('orders-db-config'))) writeServerFile(join(dir, 'config', file), content, 0o644);
    for (const [file, content] of Object.entries(configMap('orders-db-pooler-config'))) writeServerFile(join(dir, 'pooler-config', file), content, 0o644);
    for (const [which, password] of Object.entries(PASSWORDS)) writeServerFile(join(dir, 'passwords', which), password, 0o400);
    ports.primary = await freePort();
    ports.replicas = [await freePort(), await freePort()];
    ports.pooler = await freePort();

    const t0 = performance.now();
    makeServerDir(join(dir, 'orders-db-primary-0', 'run'));
    runScript(join(dir, 'config', 'bootstrap-primary.sh'), postgresEnv('bootstrap', 'primary', 'orders-db-primary-0', ports.primary), join(dir, 'orders-db-primary-0'));
    const primary = startPostgres('primary', 'orders-db-primary-0', ports.primary);
    await waitReady(primary, ports.primary);
    console.log(`[postgres] primary bootstrapped (initdb + roles) and ready in ${Math.round(performance.now() - t0)} ms`);
    psql(app(ports.primary), 'CREATE TABLE orders (id bigint PRIMARY KEY, note text)');

    for (const i of [0, 1]) {
      const t = performance.now();
      await bootstrapReplica(i);
      console.log(`[postgres] replica-${i} cloned with pg_basebackup and streaming in ${Math.round(performance.now() - t)} ms`);
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) removeDir(dir);
  });

  it('streams to both replicas through one physical slot each', async () => {
    await waitFor('2 streaming senders', () => psql(superuser(ports.primary), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") === '2', 10_000);
    const senders = psql(superuser(ports.primary), 'SELECT application_name, state FROM pg_stat_replication ORDER BY 1');
    expect(senders.split('\n')).toEqual(['orders_db_replica_0|streaming', 'orders_db_replica_1|streaming']);
    const slots = psql(superuser(ports.primary),
      "SELECT s.slot_name, s.slot_type, s.active, r.application_name FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid ORDER BY 1");
    expect(slots.split('\n')).toEqual(['orders_db_replica_0|physical|t|orders_db_replica_0', 'orders_db_replica_1|physical|t|orders_db_replica_1']);
  });

  it('applies the derived settings from the rendered postgresql.conf', () => {
    const show = (name: string) => psql(superuser(ports.primary), `SHOW ${name}`);
    expect(show('max_connections')).toBe(String(MAX_CONNECTIONS));
    expect(show('shared_buffers')).toBe('128MB');
    expect(show('max_wal_senders')).toBe('3');
    expect(show('max_replication_slots')).toBe('3');
    expect(show('autovacuum_vacuum_scale_factor')).toBe('0.05');
    expect(show('wal_level')).toBe('replica');
    expect(psql(superuser(ports.replicas[0]), 'SHOW hot_standby')).toBe('on');
    expect(psql(superuser(ports.replicas[0]), 'SELECT pg_is_in_recovery()')).toBe('t');
  });

  it('makes a committed row readable on both replicas within 1 s', async () => {
    psql(app(ports.primary), "INSERT INTO orders VALUES (1, 'first order')");
    const committed = performance.now();
    const visibleAfter = await Promise.all([0, 1].map(async (i) => {
      await waitFor(`row on replica-${i}`, () => psql(app(ports.replicas[i]), 'SELECT note FROM orders WHERE id = 1') === 'first order', 5_000, 5);
      return performance.now() - committed;
    }));
    const replayLag = psql(superuser(ports.primary), "SELECT string_agg(application_name || '=' || coalesce(replay_lag::text, '0'), ', ' ORDER BY 1) FROM pg_stat_replication");
    console.log(`[postgres] replication lag: row visible on replica-0 after ${visibleAfter[0].toFixed(0)} ms, replica-1 after ${visibleAfter[1].toFixed(0)} ms (psql polling included); server replay_lag ${replayLag}`);
    for (const ms of visibleAfter) expect(ms).toBeLessThan(1000);
  });

  it('replicas refuse writes', () => {
    for (const port of ports.replicas) {
      const res = psqlRaw(app(port), "INSERT INTO orders VALUES (2, 'must fail')");
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain('cannot execute INSERT in a read-only transaction');
    }
    expect(count(ports.primary, 'SELECT count(*) FROM orders WHERE id = 2')).toBe(0);
  });

  it('a stopped replica keeps its slot and catches up after a restart', async () => {
    const replica = servers.find((s) => s.name === 'orders-db-replica-1')!;
    await replica.stop('SIGINT');
    psql(app(ports.primary), "INSERT INTO orders SELECT g, repeat('x', 200) FROM generate_series(100, 50099) g");
    const expected = count(ports.primary);
    const retained = psql(superuser(ports.primary),
      "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots WHERE slot_name = 'orders_db_replica_1'");
    const [active, retainedBytes] = retained.split('|');
    expect(active).toBe('f');
    expect(Number(retainedBytes)).toBeGreaterThan(5_000_000);

    // A pod restart runs the init container again (no clone this time), then Postgres.
    const restarted = performance.now();
    const out = runScript(join(dir, 'config', 'bootstrap-replica.sh'), postgresEnv('bootstrap', 'replica', 'orders-db-replica-1', ports.replicas[1]), join(dir, 'orders-db-replica-1'));
    expect(out).not.toContain('cloned');
    const server = startPostgres('replica', 'orders-db-replica-1', ports.replicas[1]);
    await waitReady(server, ports.replicas[1]);
    await waitFor('replica-1 to catch up', () => count(ports.replicas[1]) === expected, 30_000, 20);
    const catchUp = performance.now() - restarted;
    console.log(`[postgres] catch-up: replica-1 replayed ${(Number(retainedBytes) / 2 ** 20).toFixed(1)} MiB of WAL kept by its slot (${expected - 1} rows) and matched the primary ${catchUp.toFixed(0)} ms after restart`);
    expect(count(ports.replicas[1])).toBe(expected);
    await waitFor('2 streaming senders again', () => psql(superuser(ports.primary), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") === '2', 10_000);
  });

  it(`PgBouncer serves ${CLIENTS} concurrent clients (3 × max_connections) within its computed pool`, async () => {
    const pool = cluster.settings.pooler;
    const poolerDir = makeServerDir(join(dir, 'pooler'));
    const init = initContainer('Deployment', 'orders-db-pooler');
    runScript(join(dir, 'pooler-config', 'pooler-init.sh'), podEnv(init, {
      PGBOUNCER_CONFIG_DIR: join(dir, 'pooler-config'),
      PGBOUNCER_RUN_DIR: poolerDir,
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(ports.primary),
      PGBOUNCER_LISTEN_ADDR: '127.0.0.1',
      PGBOUNCER_PORT: String(ports.pooler),
      APP_PASSWORD_FILE: join(dir, 'passwords', 'app'),
    }), poolerDir);
    const command = mainContainer('Deployment', 'orders-db-pooler').command as string[];
    expect(command).toEqual(['pgbouncer', '/var/run/pgbouncer/pgbouncer.ini']);
    const pgbouncer = new Server('pgbouncer', ['pgbouncer', join(poolerDir, 'pgbouncer.ini')], {}, poolerDir);
    servers.push(pgbouncer);
    await waitFor('pgbouncer', () => psqlRaw({ ...app(ports.pooler), database: 'pgbouncer' }, 'SHOW VERSION').status === 0, 10_000, 100)
      .catch((e) => { throw new Error(`${e.message}\n${pgbouncer.output}`); });

    // The exporter's password file (PGPASSFILE, no PGPASSWORD) opens the admin console; the password has ':' and '\'.
    const exporter = mainContainer('Deployment', 'orders-db-pooler');
    expect(exporter.name).toBe('pgbouncer');
    const [psqlCmd, ...psqlArgs] = inRoot([`${PG_BIN}/psql`, '--no-psqlrc', '--host=127.0.0.1', `--port=${ports.pooler}`, '--username=app', '--dbname=pgbouncer', '--no-password', '--tuples-only', '--command=SHOW VERSION']);
    const viaFile = spawnSync(psqlCmd, psqlArgs, { env: { PATH: process.env.PATH ?? '', PGPASSFILE: join(poolerDir, 'exporter.pgpass') }, encoding: 'utf8', timeout: 10_000 });
    expect(viaFile.stderr).toBe('');
    expect(viaFile.stdout).toContain('PgBouncer 1.24.1');

    // Each transaction holds a server connection for 20 ms, so the clients must queue in PgBouncer.
    const script = join(poolerDir, 'txn.sql');
    writeServerFile(script, 'SELECT pg_sleep(0.02);\n', 0o644);
    const transactionsPerClient = 20;
    let benchOutput = '';
    const [benchCmd, ...benchArgs] = inRoot([`${PG_BIN}/pgbench`,
      '--no-vacuum', `--client=${CLIENTS}`, '--jobs=2', `--transactions=${transactionsPerClient}`, `--file=${script}`,
      '--host=127.0.0.1', `--port=${ports.pooler}`, '--username=app', 'app']);
    const bench = spawn(benchCmd, benchArgs, { env: { PATH: process.env.PATH ?? '', PGPASSWORD: PASSWORDS.app } });
    bench.stdout.on('data', (d) => { benchOutput += d; });
    bench.stderr.on('data', (d) => { benchOutput += d; });
    const benchExit = new Promise<number | null>((resolve) => bench.once('exit', resolve));
    let done = false;
    void benchExit.then(() => { done = true; });

    // Sample both sides while the benchmark runs: PgBouncer's pools and Postgres' backends of the app role.
    let maxServerPooler = 0;
    let maxServerPostgres = 0;
    let maxClients = 0;
    const started = performance.now();
    while (!done && performance.now() - started < 60_000) {
      const pools = psqlRaw({ ...app(ports.pooler), database: 'pgbouncer' }, 'SHOW POOLS');
      const row = pools.stdout.split('\n').map((l) => l.split('|')).find((c) => c[0] === 'app' && c[1] === 'app');
      if (row) {
        // database|user|cl_active|cl_waiting|cl_active_cancel_req|cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|sv_idle|sv_used|sv_tested|sv_login|...
        const n = row.map(Number);
        maxClients = Math.max(maxClients, n[2] + n[3]);
        maxServerPooler = Math.max(maxServerPooler, n[6] + n[7] + n[8] + n[9] + n[10] + n[11] + n[12]);
      }
      const backends = Number(psql(superuser(ports.primary), "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend'"));
      maxServerPostgres = Math.max(maxServerPostgres, backends);
      await sleep(25);
    }
    const exitCode = await benchExit;
    const elapsed = performance.now() - started;
    const processed = /number of transactions actually processed: (\d+)\/(\d+)/.exec(benchOutput);
    const failed = /number of failed transactions: (\d+)/.exec(benchOutput);
    const tps = /tps = ([\d.]+)/.exec(benchOutput);
    console.log(`[postgres] pgbouncer: ${CLIENTS} concurrent clients (max_connections ${MAX_CONNECTIONS}), ${processed?.[1]} transactions in ${(elapsed / 1000).toFixed(1)} s (${tps?.[1]} tps), `
      + `${failed?.[1] ?? '?'} failed; peak ${maxClients} clients in SHOW POOLS; peak server connections ${maxServerPooler} (SHOW POOLS) / ${maxServerPostgres} (pg_stat_activity); `
      + `computed pool ${pool.defaultPoolSize} + reserve ${pool.reservePoolSize} = max_db_connections ${pool.maxDbConnections}`);

    expect(exitCode, benchOutput).toBe(0);
    expect(processed?.[1]).toBe(String(CLIENTS * transactionsPerClient));
    expect(processed?.[2]).toBe(String(CLIENTS * transactionsPerClient));
    expect(failed?.[1]).toBe('0');
    expect(maxClients).toBeGreaterThanOrEqual(CLIENTS);
    expect(maxServerPooler).toBeGreaterThan(1);
    expect(maxServerPooler).toBeLessThanOrEqual(pool.maxDbConnections);
    expect(maxServerPostgres).toBeLessThanOrEqual(pool.maxDbConnections);
    expect(pool.maxDbConnections * pool.replicas).toBeLessThanOrEqual(MAX_CONNECTIONS - cluster.connection.reservedConnections);
  }, 90_000);
});
