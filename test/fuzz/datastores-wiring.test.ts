import { Chart } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connectPostgres, connectRedis, connectRpc, PostgresCluster, PostgresClusterProps, Presets, RedisHA, RedisHAProps, RpcPool, RpcPoolProps,
  StatelessService, WorkerPool,
} from '../../lib';
import { findAll, K8sObject } from '../harness/synth';
import { check, corrupt, cpu, datastorePodFields, memory, opt, preset, props, sometimes, synthOrRefuse } from './support';

const CREDENTIALS = { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a', key: 'pw' } };
const quantityPair = props({ requests: opt(props({ cpu: opt(cpu), memory: opt(memory) })), limits: opt(props({ cpu: opt(cpu), memory: opt(memory) })) });

const pgFields = {
  credentials: fc.constant(CREDENTIALS),
  replicas: opt(fc.integer({ min: 0, max: 4 })),
  maxConnections: opt(fc.integer({ min: 10, max: 600 })),
  user: opt(fc.constantFrom('app', 'orders', 'replicator', 'Bad')),
  replicationUser: opt(fc.constantFrom('replicator', 'app', 'repl')),
  database: opt(fc.constantFrom('app', 'orders', 'orders-db')),
  pooler: opt(props({ replicas: opt(fc.integer({ min: 0, max: 6 })), defaultPoolSize: opt(fc.integer({ min: 0, max: 80 })), reservePoolSize: opt(fc.integer({ min: 0, max: 20 })) })),
  storage: opt(props({ size: opt(fc.constantFrom('10Gi', '1Gi', '512Mi', '1e10', '100G')) })),
  metrics: opt(fc.oneof(fc.boolean(), props({ interval: opt(fc.constantFrom('30s', 'abc', '1m')) }))),
  ...datastorePodFields,
};
const redisFields = {
  passwordSecret: sometimes(fc.constant({ secretName: 'cache', key: 'password' })),
  replicas: opt(fc.integer({ min: 0, max: 10 })),
  sentinels: opt(fc.integer({ min: 1, max: 10 })),
  quorum: opt(fc.integer({ min: 0, max: 10 })),
  maxmemory: opt(fc.constantFrom('600Mi', '0.5', '512K', '2Gi', '100Mi', '1e8')),
  resources: opt(quantityPair),
  metrics: opt(fc.oneof(fc.boolean(), props({ interval: opt(fc.constantFrom('30s', '30', '2m')) }))),
  persistence: opt(fc.oneof(fc.constant(false), props({ size: opt(fc.constantFrom('10Gi', '1Gi', 'big')) }))),
  ...datastorePodFields,
};
const rpcFields = {
  upstreams: fc.constant([{ name: 'a', url: 'https://a.example.com' }, { name: 'b', url: 'https://b.example.com' }]),
  port: opt(fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(9145, 8545))),
  monitoring: opt(fc.oneof(fc.boolean(), props({ interval: opt(fc.constantFrom('30s', 'x')) }))),
  autoscaling: opt(fc.oneof(fc.constant(false), props({ minReplicas: opt(fc.integer({ min: 1, max: 5 })), maxReplicas: opt(fc.integer({ min: 1, max: 9 })) }))),
  resources: opt(quantityPair),
  ...datastorePodFields,
};
const connectOptions = props({
  via: opt(fc.constantFrom('pooler', 'direct', 'proxy')),
  poolSize: opt(fc.integer({ min: 0, max: 60 })),
  readReplicas: opt(fc.boolean()),
  readPoolSize: opt(fc.integer({ min: 0, max: 60 })),
});
const workload = fc.record({ kind: fc.constantFrom('service', 'worker'), max: fc.integer({ min: 1, max: 40 }), options: corrupt(connectOptions, ['via', 'poolSize', 'readPoolSize', 'readReplicas'], 1) });

const envOf = (o: K8sObject, name: string) => (o.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).find((e) => e.name === name)?.value;

describe('fuzz: datastores and wiring', () => {
  it('PostgresCluster, RedisHA and RpcPool: a ValidationError naming the property, or valid objects', () => {
    const arb = fc.tuple(corrupt(props(pgFields), Object.keys(pgFields), 1), corrupt(props(redisFields), Object.keys(redisFields), 1), corrupt(props(rpcFields), Object.keys(rpcFields), 1), fc.option(preset, { nil: undefined }));
    let rendered = 0;
    check(arb, ([pg, redis, rpc, pr]) => {
      const result = synthOrRefuse((chart) => {
        if (pr) Presets.apply(chart, pr as never);
        new PostgresCluster(chart, 'db', pg as unknown as PostgresClusterProps);
        new RedisHA(chart, 'cache', redis as unknown as RedisHAProps);
        new RpcPool(chart, 'rpc', rpc as unknown as RpcPoolProps);
      });
      if (result.length > 0 && 'kind' in result[0]) rendered++;
    });
    expect(rendered).toBeGreaterThan(0);
  });

  it('connectPostgres / connectRedis / connectRpc: refused, or every pool budget holds at maximum replicas', () => {
    let rendered = 0;
    check(fc.tuple(fc.array(workload, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 60, max: 400 })), ([workloads, replicas, maxConnections]) => {
      let cluster: PostgresCluster | undefined;
      const maxByName = new Map<string, number>();
      const result = synthOrRefuse((chart: Chart) => {
        cluster = new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, replicas, maxConnections });
        const cache = new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'cache', key: 'password' } });
        const rpc = new RpcPool(chart, 'rpc', { upstreams: [{ name: 'a', url: 'https://a.example.com' }, { name: 'b', url: 'https://b.example.com' }] });
        workloads.forEach((w, i) => {
          const name = `w${i}`;
          maxByName.set(name, w.max);
          const target = w.kind === 'service'
            ? new StatelessService(chart, name, { image: 'ghcr.io/example/api:1.0.0', autoscaling: { minReplicas: 1, maxReplicas: w.max } })
            : new WorkerPool(chart, name, { image: 'ghcr.io/example/api:1.0.0', queue: 'jobs', scaling: { maxReplicas: w.max } });
          connectPostgres(target, cluster!, w.options as never);
          connectRedis(target, cache);
          connectRpc(target, rpc);
        });
      });
      if (!(result.length > 0 && 'kind' in result[0])) return;
      rendered++;
      const c = cluster!.connection;
      const sums = { pooler: 0, primary: 0, replicas: 0 };
      for (const d of findAll(result as K8sObject[], 'Deployment').filter((o) => maxByName.has(o.metadata.name))) {
        const max = maxByName.get(d.metadata.name)!;
        const perPod = Number(envOf(d, 'DB_MAX_CONNECTIONS'));
        expect(perPod).toBeGreaterThanOrEqual(1);
        sums[envOf(d, 'PGHOST') === c.poolerHost ? 'pooler' : 'primary'] += perPod * max;
        const reads = envOf(d, 'DB_READ_MAX_CONNECTIONS');
        if (reads !== undefined) sums.replicas += Number(reads) * max;
      }
      const usable = c.maxConnections - c.reservedConnections;
      expect(sums.pooler).toBeLessThanOrEqual(c.poolerMaxClientConnections);
      expect(sums.primary).toBeLessThanOrEqual(usable - (sums.pooler > 0 ? c.poolerServerConnections : 0));
      expect(sums.replicas).toBeLessThanOrEqual(usable);
    });
    expect(rendered).toBeGreaterThan(0);
  });
});
