import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { GeneratedSecret, PostgresCluster, Presets, ValidationError } from '../lib';
import { validateAll } from '../lib/core/problems';
import { resolvePostgresCluster } from '../lib/postgres/resolve';
import { K8sObject, find, synth } from './harness/synth';

/** Issue 13 for PostgresCluster: one resolve step, every mistake reported at once, nothing rendered from a refused spec. */
describe('PostgresCluster resolve step', () => {
  it('a cluster with three mistakes reports all three, each with path, property, value and what is allowed', () => {
    const app = new App({ outdir: Testing.app().outdir });
    const chart = new Chart(app, 'shop');
    new PostgresCluster(chart, 'orders-db', { maxConnections: 10, database: 'Orders-DB', storage: { size: '512Mi' } });
    const errors = validateAll(chart);
    expect(errors.map((e) => [e.constructPath, e.property, e.value])).toEqual([
      ['shop/orders-db', 'database', 'Orders-DB'],
      ['shop/orders-db', 'maxConnections', 10],
      ['shop/orders-db', 'storage.size', '512Mi'],
    ]);
    expect(errors.every((e) => e instanceof ValidationError)).toBe(true);
    expect(errors.map((e) => e.allowed)).toEqual([
      expect.stringMatching(/SQL identifier/), expect.stringMatching(/from 20 to 10000/), expect.stringMatching(/at least 1Gi/),
    ]);
    for (const e of errors) expect(e.message).toMatch(new RegExp(`shop/orders-db: invalid ${e.property.replace('.', '\\.')} = `));
    // `cdk8s synth` lists the three together.
    expect(() => app.synth()).toThrow(/invalid database[\s\S]*invalid maxConnections[\s\S]*invalid storage\.size/);
    // Nothing is rendered from a refused spec: no StatefulSet, no generated Secret.
    expect(chart.node.findAll().filter((c) => c instanceof ApiObject || c instanceof GeneratedSecret)).toEqual([]);
  });

  it('mistakes found after a first one still surface (Patroni timing, pooler sizes, metrics, client labels)', () => {
    const chart = new Chart(Testing.app(), 'test');
    new PostgresCluster(chart, 'db', {
      failover: 'patroni', patroni: { ttl: 20, loopWait: 10, retryTimeout: 10, synchronous: 'yes' as never },
      pooler: { defaultPoolSize: 0 }, metrics: { interval: '30' }, networkPolicy: { clientLabels: { team: 'a b' } }, image: 'Postgres:17',
    });
    expect(validateAll(chart).map((e) => e.property)).toEqual([
      'patroni.ttl', 'patroni.synchronous', 'image', 'pooler.defaultPoolSize', 'metrics.interval', 'networkPolicy.clientLabels.team',
    ]);
  });

  it('resolves to a plain spec without creating any construct', () => {
    const chart = new Chart(Testing.app(), 'test');
    const scope = new Chart(chart, 'scope');
    const { spec, errors } = resolvePostgresCluster(scope, 'orders-db', { failover: 'patroni', replicas: 2 }, Presets.of(chart));
    expect(errors).toEqual([]);
    expect(scope.node.children).toEqual([]);
    expect(spec.patroni).toMatchObject({ ttl: 30, loopWait: 10, retryTimeout: 10, synchronous: false });
    expect(spec.generatedCredentials).toEqual(['superuser', 'replication', 'app']);
    expect(spec.credentials.app).toEqual({ secretName: 'orders-db-app', key: 'password' });
    expect(spec.settings.pooler.totalServerConnections).toBeLessThanOrEqual(spec.settings.maxConnections - spec.settings.headroom.total);
    // The construct renders from the same spec: the members read exactly the resolved Secrets.
    const objects = synth((c) => new PostgresCluster(c, 'orders-db', { failover: 'patroni', replicas: 2 }));
    const volumes = find(objects, 'StatefulSet', 'orders-db').spec.template.spec.volumes;
    expect(volumes.filter((v: K8sObject) => v.secret).map((v: K8sObject) => v.secret.secretName))
      .toEqual(['orders-db-superuser', 'orders-db-replication', 'orders-db-app']);
  });
});
