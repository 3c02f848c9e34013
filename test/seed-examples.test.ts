import { describe, expect, it } from 'vitest';
import { ciel } from '../examples/ciel';
import { ida } from '../examples/ida';
import { CARACAL_DEFAULT_REPLICAS, CARACAL_SERVICES, caracal } from '../examples/caracal';
import { SORCHA_STATELESS, sorchaTier } from '../examples/sorcha';
import { strataRouter } from '../examples/strata-router';
import { TIERS } from '../lib';
import { container, find, findAll, K8sObject, synthApp } from './harness/synth';

const targets = (hpa: K8sObject) => Object.fromEntries(hpa.spec.metrics.map((m: K8sObject) => [m.resource.name, m.resource.target.averageUtilization]));

describe('Caracal (seed 001)', () => {
  const objects = synthApp((app) => { caracal(app); });

  it.each([
    ['api', 3000, 8], ['sts', 8080, 8], ['gateway', 8081, 16], ['audit', 9090, 8], ['coordinator', 4000, 8],
  ])('%s listens on %i with HPA ceiling %i and 2 replicas by default', (name, port, max) => {
    expect(container(find(objects, 'Deployment', name)).ports[0].containerPort).toBe(port);
    expect(find(objects, 'HorizontalPodAutoscaler', name).spec).toMatchObject({ minReplicas: 2, maxReplicas: max });
  });

  it('covers exactly the five services of the note', () => {
    expect(CARACAL_SERVICES.map((s) => s.id)).toEqual(['api', 'sts', 'gateway', 'audit', 'coordinator']);
    expect(CARACAL_DEFAULT_REPLICAS).toBe(2);
  });

  it('alerts at Postgres pool ratio 0.9', () => {
    const rules = findAll(objects, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: K8sObject) => g.rules));
    expect(rules.some((r: K8sObject) => /0\.9\b/.test(r.expr))).toBe(true);
  });
});

describe('StrataRouter (seed 002)', () => {
  const objects = synthApp((app) => { strataRouter(app); });

  it('runs 3–20 replicas at CPU 70 % / memory 80 % with the note\'s requests and limits', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'stratarouter');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 20 });
    expect(targets(hpa)).toEqual({ cpu: 70, memory: 80 });
    const app = container(find(objects, 'Deployment', 'stratarouter'));
    expect(app.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '2000m', memory: '1Gi', 'ephemeral-storage': '512Mi' } });
    expect(app.ports[0].containerPort).toBe(8000);
    expect(find(objects, 'Service', 'stratarouter').spec.ports[0].port).toBe(80);
  });

  it('has a shared Redis and two Postgres read replicas', () => {
    // Patroni members: the leader and 2 streaming replicas.
    expect(find(objects, 'StatefulSet', 'stratarouter-db').spec.replicas).toBe(3);
    expect(find(objects, 'StatefulSet', 'redis').spec.replicas).toBe(3);
  });
});

describe('Sorcha (seed 003)', () => {
  const tiers = Object.fromEntries((Object.keys(TIERS) as Array<keyof typeof TIERS>).map((t) => [t, synthApp((app) => { sorchaTier(app, t); })]));

  it('scales the stateless services 1 / 2 / 3+ by tier', () => {
    for (const id of SORCHA_STATELESS) {
      expect(find(tiers.development, 'Deployment', id).spec.replicas).toBe(1);
      expect(find(tiers['small-production'], 'HorizontalPodAutoscaler', id).spec.minReplicas).toBe(2);
      expect(find(tiers['large-production'], 'HorizontalPodAutoscaler', id).spec.minReplicas).toBe(3);
    }
  });

  it('runs Postgres single / primary + replica / primary + 2 replicas with the note\'s replication settings', () => {
    // Patroni members (leader + replicas) in every tier; development runs a single member.
    expect(find(tiers.development, 'StatefulSet', 'sorcha-db').spec.replicas).toBe(1);
    expect(find(tiers['small-production'], 'StatefulSet', 'sorcha-db').spec.replicas).toBe(2);
    expect(find(tiers['large-production'], 'StatefulSet', 'sorcha-db').spec.replicas).toBe(3);
    const conf = find(tiers['small-production'], 'ConfigMap', 'sorcha-db-config').data['postgresql.conf'];
    expect(conf).toMatch(/^wal_level = replica$/m);
    expect(conf).toMatch(/^max_wal_senders = 3$/m);
    expect(conf).toMatch(/^max_replication_slots = 3$/m);
    expect(find(tiers['small-production'], 'ConfigMap', 'sorcha-db-config').data['bootstrap-replica.sh']).toContain('pg_basebackup');
  });

  it('runs Redis with AOF and password auth from a Secret', () => {
    const cm = findAll(tiers['small-production'], 'ConfigMap').find((c) => c.metadata.name.startsWith('sorcha-redis'));
    expect(cm?.data['redis.conf']).toMatch(/^appendonly yes$/m);
    // requirepass / masterauth are written at start from the mounted Secret, never from the ConfigMap.
    const scripts = Object.values(cm?.data ?? {}).join('\n');
    expect(scripts).toMatch(/requirepass/);
    expect(scripts).toMatch(/masterauth/);
    const volumes = JSON.stringify(find(tiers['small-production'], 'StatefulSet', 'sorcha-redis').spec.template.spec.volumes);
    expect(volumes).toContain('"secret":{"items":[{"key":"password","path":"redis-password"}],"name":"sorcha-redis-password"}');
  });
});

describe('Ciel (seed 004)', () => {
  const objects = synthApp((app) => { ciel(app); });
  const env = (kind: string, name: string) => Object.fromEntries(container(find(objects, kind, name)).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));

  it('runs one image as APP_MODE=api and APP_MODE=worker', () => {
    expect(env('Deployment', 'ciel-api').APP_MODE).toBe('api');
    expect(env('Deployment', 'ciel-media-worker')).toMatchObject({ APP_MODE: 'worker', QUEUE_NAME: 'media-jobs', DEAD_LETTER_QUEUE: 'media-jobs-dlq', MAX_DELIVERY_ATTEMPTS: '5' });
  });

  it('budgets the pools of api and workers together under the pooler: min(50, 1000 / (20 + 12))', () => {
    expect(env('Deployment', 'ciel-api').DB_MAX_CONNECTIONS).toBe('31');
    expect(env('Deployment', 'ciel-media-worker').DB_MAX_CONNECTIONS).toBe('31');
  });

  it('scales workers on the queue with a DLQ alert, and migrates before the rollout', () => {
    const so = find(objects, 'ScaledObject', 'ciel-media-worker');
    expect(so.spec.triggers[0]).toMatchObject({ type: 'redis-sentinel-streams', metadata: { stream: 'media-jobs', consumerGroup: 'media-workers' } });
    const rules = find(objects, 'PrometheusRule', 'ciel-media-worker').spec.groups[0].rules.map((r: K8sObject) => r.alert);
    expect(rules).toContain('WorkerDeadLetterQueueNotEmpty');
    // Its database is in the chart: a Sync hook in wave 1, after the database (wave 0), before the new pods (wave 2).
    expect(find(objects, 'Job', 'ciel-api-migrate').metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/sync-wave': '1' });
    for (const kind of ['Deployment', 'HorizontalPodAutoscaler']) expect(find(objects, kind, 'ciel-api').metadata.annotations?.['argocd.argoproj.io/sync-wave'], kind).toBe('2');
    expect(find(objects, 'ConfigMap', 'ciel-redis-config').data['redis.conf']).toMatch(/^appendonly yes$/m);
  });
});

describe('IDA (seed 000)', () => {
  const objects = synthApp((app) => { ida(app); });
  const env = Object.fromEntries(container(find(objects, 'Deployment', 'ida-api')).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));

  it('runs the API at 3+ replicas, CPU 60 % / memory 75 %, within the steady-state sizes', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'ida-api');
    expect(hpa.spec.minReplicas).toBe(3);
    expect(targets(hpa)).toEqual({ cpu: 60, memory: 75 });
    expect(container(find(objects, 'Deployment', 'ida-api')).resources.requests).toEqual({ cpu: '250m', memory: '256Mi', 'ephemeral-storage': '64Mi' });
  });

  it('sizes Postgres vertically first with 2 read replicas, PgBouncer in transaction mode and autovacuum 0.05', () => {
    const members = find(objects, 'StatefulSet', 'ida-db');
    expect(container(members, 'postgres').resources.requests).toEqual({ cpu: '4', memory: '16Gi', 'ephemeral-storage': '64Mi' });
    // Patroni: the leader and 2 streaming replicas.
    expect(members.spec.replicas).toBe(3);
    const conf = find(objects, 'ConfigMap', 'ida-db-config').data['postgresql.conf'];
    expect(conf).toMatch(/^autovacuum_vacuum_scale_factor = 0\.05$/m);
    expect(find(objects, 'ConfigMap', 'ida-db-pooler-config').data['pgbouncer.ini']).toMatch(/^pool_mode = transaction$/m);
    // Per-pod pool min(50, 1000 pooler clients / 20 pods) = 50.
    expect(env).toMatchObject({ PGHOST: 'ida-db-pooler', DB_MAX_CONNECTIONS: '50', DB_READ_HOST: 'ida-db-ro' });
  });

  it('runs Redis 1 + 2 with 3 Sentinels and allkeys-lru', () => {
    expect(find(objects, 'StatefulSet', 'ida-redis').spec.replicas).toBe(3);
    expect(find(objects, 'StatefulSet', 'ida-redis-sentinel').spec.replicas).toBe(3);
    expect(String(env.REDIS_SENTINELS).split(',')).toHaveLength(3);
    expect(JSON.stringify(container(find(objects, 'StatefulSet', 'ida-redis')).env)).toContain('"allkeys-lru"');
  });

  it('pools 3 RPC URLs with WebSocket and a gas-price alert at 2× baseline', () => {
    expect(env.RPC_URL).toBe('http://ida-rpc:8545/');
    expect(env.RPC_WS_URL).toMatch(/^ws:\/\/ida-rpc:8545\//);
    const rules = findAll(objects, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: K8sObject) => g.rules));
    expect(rules.some((r: K8sObject) => r.expr.includes('eth_gas_price_wei') && /2 \*|\* 2/.test(r.expr))).toBe(true);
  });
});
