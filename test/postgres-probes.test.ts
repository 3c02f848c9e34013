/**
 * The postgres container's probes (lib/postgres/probe.sh, from the synthesized ConfigMap and StatefulSets) against
 * real PostgreSQL 17 processes: readiness follows the replication state, and crash recovery of a large WAL backlog
 * after a kill -9 is never failed by liveness (pg_isready says "rejecting connections" the whole time).
 */
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { POSTGRES } from '../lib/defaults';
import { K8sObject, find, synth } from './harness/synth';
import {
  Conn, PG_BIN, Server, freePort, inRoot, isReady, makeServerDir, podEnv, psql, removeDir, runScript, runStatus,
  serverTempDir, sleep, waitFor, writeServerFile,
} from './postgres-processes';
import { spawnSync } from 'child_process';

const PASSWORDS = { superuser: 'su-secret-1', replication: 're-secret-2', app: 'app-secret-3' };
let objects: K8sObject[] = [];
let dir = '';
const servers: Server[] = [];
const ports = { primary: 0, replica: 0 };
const su = (port: number): Conn => ({ port, user: 'postgres', database: 'postgres', password: PASSWORDS.superuser });

type Role = 'primary' | 'replica';
const pod = (role: Role) => find(objects, 'StatefulSet', `db-${role}`).spec.template.spec;

function env(role: Role, container: K8sObject): Record<string, string> {
  const home = join(dir, role);
  const all: Record<string, string> = {
    PGDATA: join(home, 'pgdata'), PG_SOCKET_DIR: join(home, 'run'), PG_CONFIG_DIR: join(dir, 'config'),
    PG_PORT: String(ports[role]), PG_LISTEN_ADDRESSES: '127.0.0.1', PGPASSFILE: join(home, 'run/.pgpass'),
    SUPERUSER_PASSWORD_FILE: join(dir, 'passwords/superuser'), REPLICATION_PASSWORD_FILE: join(dir, 'passwords/replication'),
    APP_PASSWORD_FILE: join(dir, 'passwords/app'), PRIMARY_HOST: '127.0.0.1', PRIMARY_PORT: String(ports.primary),
    REPLICA_NAME: `db-${role}-0`,
  };
  const declared = new Set((container.env ?? []).map((e: K8sObject) => e.name));
  return podEnv(container, Object.fromEntries(Object.entries(all).filter(([k]) => declared.has(k))));
}

/** Runs the probe the synthesized container declares, with the container's environment. */
function probe(role: Role, kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe'): { status: number | null; output: string } {
  const container = pod(role).containers[0];
  const argv = (container[kind].exec.command as string[]).map((a) => a.replace('/etc/postgresql-cluster', join(dir, 'config')));
  return runStatus(argv, env(role, container), join(dir, role));
}

function start(role: Role): Server {
  const server = new Server(role, ['bash', join(dir, 'config/run-postgres.sh')], env(role, pod(role).containers[0]), join(dir, role));
  servers.push(server);
  return server;
}

/** pg_isready's exit: 0 accepting, 1 rejecting (starting, recovering), 2 no response. */
function pgIsReady(port: number): number | null {
  const [cmd, ...args] = inRoot([`${PG_BIN}/pg_isready`, '--quiet', '--host=127.0.0.1', `--port=${port}`, '--timeout=3']);
  return spawnSync(cmd, args, { timeout: 5_000 }).status;
}

describe('postgres probes on real PostgreSQL 17', () => {
  beforeAll(async () => {
    objects = synth((chart) => new PostgresCluster(chart, 'db', {
      credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } },
      // probe.sh belongs to the topology without automatic failover; Patroni members probe its REST API.
      failover: 'none', replicas: 1, maxConnections: 30,
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      storage: { size: '4Gi' },
    }));
    dir = serverTempDir('scalecharts-pgprobe-');
    for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'db-config').data as Record<string, string>)) writeServerFile(join(dir, 'config', file), content, 0o644);
    for (const [which, password] of Object.entries(PASSWORDS)) writeServerFile(join(dir, 'passwords', which), password, 0o400);
    ports.primary = await freePort();
    ports.replica = await freePort();
    for (const role of ['primary', 'replica'] as const) {
      makeServerDir(join(dir, role, 'run'));
      const init = pod(role).initContainers[0];
      runScript(join(dir, `config/bootstrap-${role}.sh`), env(role, init), join(dir, role));
      const server = start(role);
      await waitFor(`${role} ready`, () => isReady(ports[role]), 30_000, 100).catch((e) => { throw new Error(`${e.message}\n${server.output}`); });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    if (dir) removeDir(dir);
  });

  it('declares probe.sh for startup, liveness and readiness, with a 30-minute startup allowance', () => {
    const c = pod('primary').containers[0];
    expect(c.livenessProbe.exec.command).toEqual(['bash', '/etc/postgresql-cluster/probe.sh', 'liveness']);
    expect(c.startupProbe.exec.command).toEqual(['bash', '/etc/postgresql-cluster/probe.sh', 'liveness']);
    expect(c.readinessProbe.exec.command).toEqual(['bash', '/etc/postgresql-cluster/probe.sh', 'readiness']);
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(5 * POSTGRES.startupProbeFailures);
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(1800);
  });

  it('readiness follows the replication state: a streaming replica is ready, one that lost its primary is not', async () => {
    await waitFor('replica ready', () => probe('replica', 'readinessProbe').status === 0, 15_000, 100);
    expect(probe('primary', 'readinessProbe').status).toBe(0);
    expect(probe('primary', 'livenessProbe').status).toBe(0);
    const primary = servers.find((s) => s.name === 'primary')!;
    await primary.stop('SIGINT');
    servers.splice(servers.indexOf(primary), 1);
    const notReady = await waitFor('replica not ready without its primary', () => probe('replica', 'readinessProbe').status !== 0, 15_000, 100);
    const res = probe('replica', 'readinessProbe');
    expect(res.output).toMatch(/role replica, in recovery\|WAL receiver = t\|/);
    // Still alive: liveness must not restart a replica because its primary is away.
    expect(probe('replica', 'livenessProbe').status).toBe(0);
    // A stopped postmaster fails both.
    expect(probe('primary', 'livenessProbe').status).toBe(1);
    expect(probe('primary', 'readinessProbe').status).toBe(1);
    const restarted = start('primary');
    await waitFor('primary back', () => isReady(ports.primary), 30_000, 100).catch((e) => { throw new Error(`${e.message}\n${restarted.output}`); });
    await waitFor('replica ready again', () => probe('replica', 'readinessProbe').status === 0, 30_000, 100);
    console.log(`[postgres-probes] replica left readiness ${notReady.toFixed(0)} ms after its primary stopped`);
  }, 90_000);

  it('crash recovery of a large WAL backlog after kill -9 is never failed by liveness', async () => {
    // WAL written after the last checkpoint is what crash recovery replays.
    psql(su(ports.primary), 'CHECKPOINT');
    psql(su(ports.primary), "CREATE TABLE backlog (id bigint, pad text); INSERT INTO backlog SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 1500000) g", 180_000);
    const walBytes = Number(psql(su(ports.primary), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) FROM pg_control_checkpoint()"));
    const primary = servers.find((s) => s.name === 'primary')!;
    await primary.stop('SIGKILL');
    servers.splice(servers.indexOf(primary), 1);
    // Backends notice the dead postmaster and exit; the new postmaster refuses to start while they hold the memory.
    await sleep(500);

    const restarted = start('primary');
    const t0 = performance.now();
    let samples = 0;
    let recovering = 0;
    const livenessFailures: string[] = [];
    let readinessDuringRecovery = 0;
    for (;;) {
      const state = pgIsReady(ports.primary);
      if (state === 0) break;
      if (performance.now() - t0 > 120_000) throw new Error(`no recovery in 120 s\n${restarted.output}`);
      samples++;
      if (state === 1) {
        recovering++;
        const live = probe('primary', 'livenessProbe');
        if (live.status !== 0) livenessFailures.push(live.output);
        // Recovery may end between the two calls: a ready answer counts only if the server is still recovering after it.
        if (probe('primary', 'readinessProbe').status === 0 && pgIsReady(ports.primary) === 1) readinessDuringRecovery++;
      }
      await sleep(50);
    }
    const recoveryMs = performance.now() - t0;
    console.log(`[postgres-probes] crash recovery replayed ${(walBytes / 2 ** 20).toFixed(0)} MiB of WAL in ${(recoveryMs / 1000).toFixed(1)} s; `
      + `${recovering} of ${samples} samples "rejecting connections" (the old pg_isready liveness would fail each), liveness failed ${livenessFailures.length}`);
    expect(walBytes).toBeGreaterThan(100 * 2 ** 20);
    expect(recovering).toBeGreaterThan(0);
    expect(livenessFailures).toEqual([]);
    expect(readinessDuringRecovery).toBe(0);
    expect(restarted.output).toMatch(/database system was interrupted|was not properly shut down/);
    expect(Number(psql(su(ports.primary), 'SELECT count(*) FROM backlog'))).toBe(1_500_000);
    expect(probe('primary', 'readinessProbe').status).toBe(0);
  }, 180_000);
});
