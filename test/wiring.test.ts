import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  PostgresCluster, PostgresClusterProps, RedisHA, StatelessService, checkPostgresBudget, connectPostgres, connectRedis,
  connectRpc, postgresConnectionShares,
} from '../lib';
import { expectValidationError } from './harness/errors';
import { build, container, find, K8sObject, synth } from './harness/synth';

const credentials = {
  superuser: { secretName: 'db-superuser' },
  replication: { secretName: 'db-replication' },
  app: { secretName: 'db-app' },
};

function db(chart: Chart, props: Partial<PostgresClusterProps> = {}): PostgresCluster {
  return new PostgresCluster(chart, 'db', { credentials, ...props });
}

function api(chart: Chart, id: string, maxReplicas = 20): StatelessService {
  return new StatelessService(chart, id, { image: 'ghcr.io/example/api:1.0.0', autoscaling: { maxReplicas, minReplicas: Math.min(3, maxReplicas) } });
}

function envOf(objects: K8sObject[], name: string): Record<string, unknown> {
  return Object.fromEntries(container(find(objects, 'Deployment', name)).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
}

describe('connectPostgres', () => {
  it('injects libpq env, DSNs without passwords, and seed-000 pool sizes through the pooler', () => {
    const objects = synth((chart) => connectPostgres(api(chart, 'api'), db(chart), { reads: 'replicas' }));
    const env = envOf(objects, 'api');
    expect(env).toMatchObject({
      PGHOST: 'db-pooler', PGPORT: '5432', PGDATABASE: 'app', PGUSER: 'app',
      PGPASSWORD: { secretKeyRef: { name: 'db-app', key: 'password' } },
      DATABASE_URL: 'postgresql://app@db-pooler:5432/app',
      DB_READ_HOST: 'db-ro', DATABASE_READ_URL: 'postgresql://app@db-ro:5432/app',
    });
    // Pooler: 2 replicas × max_client_conn 500 = 1000 clients; min(50, 1000 / 20 pods) = 50.
    expect(env.DB_MAX_CONNECTIONS).toBe('50');
    // Replicas: max_connections 100 − 13 headroom = 87; min(50, ⌊87 / 20⌋) = 4.
    expect(env.DB_READ_MAX_CONNECTIONS).toBe('4');
  });

  it('shares the default budget between every workload connected the same way, counted at max replicas', () => {
    let cluster!: PostgresCluster;
    const objects = synth((chart) => {
      cluster = db(chart, { pooler: { maxClientConnections: 300 } });
      connectPostgres(api(chart, 'api', 20), cluster, { reads: 'replicas' });
      connectPostgres(api(chart, 'worker', 10), cluster);
    });
    // Pooler accepts 2 × 300 = 600 clients over 30 pods: 20 per pod for both workloads.
    expect(envOf(objects, 'api').DB_MAX_CONNECTIONS).toBe('20');
    expect(envOf(objects, 'worker').DB_MAX_CONNECTIONS).toBe('20');
    expect(envOf(objects, 'worker').DB_READ_HOST).toBeUndefined();
    expect(postgresConnectionShares(cluster)).toEqual([
      { workload: 'test/api', target: 'pooler', perPod: 20, maxReplicas: 20, total: 400 },
      { workload: 'test/api', target: 'replicas', perPod: 4, maxReplicas: 20, total: 80 },
      { workload: 'test/worker', target: 'pooler', perPod: 20, maxReplicas: 10, total: 200 },
    ]);
  });

  it('accepts a direct budget that fits max_connections minus headroom', () => {
    const objects = synth((chart) => connectPostgres(api(chart, 'api', 20), db(chart, { replicas: 0 }), { via: 'direct', poolSize: 4 }));
    const env = envOf(objects, 'api');
    expect(env).toMatchObject({ PGHOST: 'db-rw', DB_MAX_CONNECTIONS: '4' });
    expect(env.DB_READ_HOST).toBeUndefined();
  });

  it('refuses a direct budget over max_connections, naming each workload and suggesting the pooler', () => {
    const err = expectValidationError(() => build((chart) => {
      const cluster = db(chart);
      connectPostgres(api(chart, 'api', 20), cluster, { via: 'direct', poolSize: 3, readReplicas: false });
      connectPostgres(api(chart, 'reports', 10), cluster, { via: 'direct', poolSize: 5, readReplicas: false });
    }), { path: 'test/db', property: 'connections.primary', value: 110, allowed: /pooler/ });
    expect(err.message).toContain('test/api: 3 × 20 pods = 60');
    expect(err.message).toContain('test/reports: 5 × 10 pods = 50');
    expect(err.message).toContain('max_connections 100 − 13 headroom = 87');
  });

  it('counts the pooler server pool against direct clients when both are used', () => {
    const err = expectValidationError(() => build((chart) => {
      const cluster = db(chart);
      connectPostgres(api(chart, 'api'), cluster);
      connectPostgres(api(chart, 'admin', 2), cluster, { via: 'direct', readReplicas: false });
    }), { path: 'test/db', property: 'connections.primary' });
    expect(err.message).toContain('86 pooler server connections');
    expect(err.message).toMatch(/test\/admin gets less than 1 connection per pod/);
  });

  it('refuses more pooler clients than max_client_conn allows', () => {
    const err = expectValidationError(() => build((chart) => {
      connectPostgres(api(chart, 'api', 30), db(chart), { poolSize: 50, readReplicas: false });
    }), { path: 'test/db', property: 'connections.pooler', value: 1500, allowed: /max_client_conn/ });
    expect(err.message).toContain('test/api: 50 × 30 pods = 1500');
  });

  it('refuses read budgets over a replica\'s max_connections', () => {
    expectValidationError(() => build((chart) => {
      connectPostgres(api(chart, 'api', 20), db(chart), { reads: 'replicas', readPoolSize: 5 });
    }), { path: 'test/db', property: 'connections.replicas', value: 100 });
  });

  it('reads from the primary unless replica reads are asked for (read-after-write)', () => {
    const objects = synth((chart) => { const c = db(chart); connectPostgres(api(chart, 'api'), c); connectPostgres(api(chart, 'legacy'), c, { readReplicas: true }); });
    expect(envOf(objects, 'api').DB_READ_HOST).toBeUndefined();
    expect(envOf(objects, 'api').DATABASE_READ_URL).toBeUndefined();
    expect(envOf(objects, 'legacy').DATABASE_READ_URL).toBe('postgresql://app@db-ro:5432/app');
    expectValidationError(() => build((chart) => connectPostgres(api(chart, 'api'), db(chart), { reads: 'replica' as never })),
      { path: 'test/api', property: 'connectPostgres.reads', value: 'replica' });
    expectValidationError(() => build((chart) => connectPostgres(api(chart, 'api'), db(chart, { replicas: 0 }), { reads: 'replicas' })),
      { path: 'test/api', property: 'connectPostgres.reads', value: 'replicas' });
  });

  it('validates its options', () => {
    expectValidationError(() => build((chart) => connectPostgres(api(chart, 'api'), db(chart), { poolSize: 0 })),
      { path: 'test/api', property: 'connectPostgres.poolSize', value: 0 });
    expectValidationError(() => build((chart) => connectPostgres(api(chart, 'api'), db(chart, { replicas: 0 }), { readReplicas: true })),
      { path: 'test/api', property: 'connectPostgres.readReplicas', value: true });
    expectValidationError(() => build((chart) => { const c = db(chart); const a = api(chart, 'api'); connectPostgres(a, c); connectPostgres(a, c); }),
      { path: 'test/api', property: 'connectPostgres', value: 'test/db' });
  });

  it('adds the workload to the NetworkPolicies when they are on', () => {
    const objects = synth((chart) => {
      const cluster = db(chart, { networkPolicy: { clientLabels: { 'db-client': 'orders' } } });
      connectPostgres(api(chart, 'api'), cluster);
    });
    const apiPeer = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api', 'app.kubernetes.io/component': 'server' } } };
    for (const name of ['db', 'db-pooler']) {
      const from = find(objects, 'NetworkPolicy', name).spec.ingress[0].from;
      expect(from).toContainEqual(apiPeer);
      expect(from).toContainEqual({ podSelector: { matchLabels: { 'db-client': 'orders' } } });
    }
  });

  it('checkPostgresBudget passes a chart that fits', () => {
    const chart = new Chart(Testing.app(), 'x');
    const cluster = db(chart);
    connectPostgres(api(chart, 'api'), cluster);
    expect(() => checkPostgresBudget(cluster)).not.toThrow();
  });
});

describe('connectRedis and connectRpc', () => {
  it('wires Sentinel addresses, master name and Secrets', () => {
    const objects = synth((chart) => {
      const redis = new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'cache-redis', key: 'password' } });
      connectRedis(api(chart, 'api'), redis);
    });
    const env = envOf(objects, 'api');
    expect(env.REDIS_MASTER_NAME).toBeTypeOf('string');
    expect(String(env.REDIS_SENTINELS).split(',')).toHaveLength(3);
    expect(String(env.REDIS_SENTINELS)).toMatch(/^cache-sentinel-0\.[a-z-]+:26379,/);
    expect(env.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'cache-redis', key: 'password' } });
  });

  it('wires RPC URLs', () => {
    const objects = synth((chart) => {
      const pool = Object.assign(new Construct(chart, 'rpc'), { connection: { httpUrl: 'http://rpc:8545/', wsUrl: 'ws://rpc:8546/' } });
      connectRpc(api(chart, 'api'), pool);
    });
    expect(envOf(objects, 'api')).toMatchObject({ RPC_URL: 'http://rpc:8545/', RPC_WS_URL: 'ws://rpc:8546/' });
  });
});
