import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, Presets, RedisHA, StatelessService, TIERS, Tier } from '../lib';
import { find, findAll, K8sObject, synth } from './harness/synth';

function tierApp(tier: Tier, apiProps: Record<string, unknown> = {}): K8sObject[] {
  return synth((chart: Chart) => {
    Presets.apply(chart, TIERS[tier]);
    new StatelessService(chart, 'gateway', { image: 'ghcr.io/example/gateway:1.0.0', ...apiProps });
    new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } } });
    new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'cache', key: 'password' } });
  });
}

/** Patroni (the default in every tier): one StatefulSet of members, the leader and `replicas` streaming replicas. */
const readReplicas = (objects: K8sObject[]) => find(objects, 'StatefulSet', 'db').spec.replicas - 1;

describe('tiers (seed 003)', () => {
  it('development: one instance, no HPA or PDB, a single Patroni member and one pooler', () => {
    const objects = tierApp('development');
    expect(find(objects, 'Deployment', 'gateway').spec.replicas).toBe(1);
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(findAll(objects, 'PodDisruptionBudget').map((p) => p.metadata.name)).not.toContain('gateway');
    expect(readReplicas(objects)).toBe(0);
    expect(find(objects, 'Deployment', 'db-pooler').spec.replicas).toBe(1);
  });

  it('small production: 2 instances, Postgres primary + 1 replica, Redis Sentinel', () => {
    const objects = tierApp('small-production');
    expect(find(objects, 'HorizontalPodAutoscaler', 'gateway').spec.minReplicas).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'gateway').spec.maxUnavailable).toBe(1);
    expect(readReplicas(objects)).toBe(1);
    expect(findAll(objects, 'StatefulSet').map((s) => s.metadata.name)).toContain('cache-sentinel');
  });

  it('large production: 3+ instances, Postgres with 2 replicas', () => {
    const objects = tierApp('large-production');
    expect(find(objects, 'HorizontalPodAutoscaler', 'gateway').spec.minReplicas).toBe(3);
    expect(readReplicas(objects)).toBe(2);
  });

  it('call-site props still win over the tier', () => {
    const dev = tierApp('development', { autoscaling: { minReplicas: 2, maxReplicas: 4 } });
    expect(find(dev, 'HorizontalPodAutoscaler', 'gateway').spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    const small = tierApp('small-production', { autoscaling: false, replicas: 5 });
    expect(find(small, 'Deployment', 'gateway').spec.replicas).toBe(5);
  });

  it('a nearer preset overrides the tier', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, TIERS.development);
      Presets.apply(chart, { autoscaling: { minReplicas: 2 } });
      new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0' });
    });
    expect(find(objects, 'HorizontalPodAutoscaler', 'api').spec.minReplicas).toBe(2);
  });
});
