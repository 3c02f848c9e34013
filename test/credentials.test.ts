import { App, Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { GeneratedSecret, PostgresCluster, RedisHA, StatelessService, buildHelmChart, connectPostgres, connectRedis, secretsToCreate } from '../lib';
import { EXAMPLES } from '../examples';
import { findAll, synth } from './harness/synth';

/** Secret names every pod-spec reference of `objects` uses. */
function referencedSecrets(objects: Array<Record<string, unknown>>): Set<string> {
  const out = new Set<string>();
  const visit = (n: unknown, key?: string) => {
    if (n === null || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if ((key === 'secretKeyRef' || key === 'secretRef') && typeof o.name === 'string') out.add(o.name);
    if (key === 'secret' && typeof o.secretName === 'string') out.add(o.secretName);
    for (const [k, v] of Object.entries(o)) visit(v, Array.isArray(o) ? key : k);
  };
  objects.forEach((o) => visit(o));
  return out;
}

describe('default credentials', () => {
  it('PostgresCluster and RedisHA without Secrets use generated ones, which the plain synth does not contain', () => {
    let db!: PostgresCluster;
    let redis!: RedisHA;
    const objects = synth((chart) => {
      db = new PostgresCluster(chart, 'shop-db', {});
      redis = new RedisHA(chart, 'cache', {});
      const api = new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0' });
      connectPostgres(api, db);
      connectRedis(api, redis);
    }, { namespace: 'shop' });
    expect(findAll(objects, 'Secret')).toEqual([]);
    expect([...referencedSecrets(objects)].sort()).toEqual(['cache-password', 'shop-db-app', 'shop-db-replication', 'shop-db-superuser']);
    expect(GeneratedSecret.allUnder(db).map((g) => [g.name, g.keys])).toEqual([
      ['shop-db-superuser', { password: 32 }], ['shop-db-replication', { password: 32 }], ['shop-db-app', { password: 32 }],
    ]);
    expect(redis.connection.passwordSecret).toEqual({ secretName: 'cache-password', key: 'password' });
    expect(db.connection.passwordSecret).toEqual({ secretName: 'shop-db-app', key: 'password' });
  });

  it('a Secret you name is used as is and not generated', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'shop' });
    const db = new PostgresCluster(chart, 'shop-db', { credentials: { app: { secretName: 'team-db', key: 'pw' } } });
    expect(GeneratedSecret.allUnder(db).map((g) => g.name)).toEqual(['shop-db-superuser', 'shop-db-replication']);
    expect(db.connection.passwordSecret).toEqual({ secretName: 'team-db', key: 'pw' });
  });
});

describe('secretsToCreate (plain manifests)', () => {
  it('lists every referenced Secret with its keys, users and, for generated ones, the create command', () => {
    const app = Testing.app();
    const chart = EXAMPLES.ida(app);
    const list = secretsToCreate(chart);
    expect(list.map((s) => s.name)).toEqual(['ida-db-superuser', 'ida-db-replication', 'ida-db-app', 'ida-redis-password', 'ida-rpc-urls']);
    const urls = list.find((s) => s.name === 'ida-rpc-urls')!;
    expect(urls).toMatchObject({ generated: false, keys: ['primary', 'primary-ws', 'provider-a', 'provider-b'], usedBy: ['Deployment/ida-rpc'] });
    expect(urls.command).toBeUndefined();
    const app2 = list.find((s) => s.name === 'ida-db-app')!;
    expect(app2.generated).toBe(true);
    expect(app2.usedBy).toEqual(expect.arrayContaining(['StatefulSet/ida-db', 'Deployment/ida-db-pooler', 'Deployment/ida-api']));
    expect(app2.command).toMatch(/^kubectl create secret generic ida-db-app -n ida --from-literal=password="\$\(head -c 512 \/dev\/urandom .* head -c 32\)"$/);
  });

  it('covers every Secret the objects of every example reference', () => {
    for (const [name, build] of Object.entries(EXAMPLES)) {
      const app = Testing.app();
      const chart = build(app);
      const objects = chart.toJson();
      const own = new Set(objects.filter((o: { kind: string }) => o.kind === 'Secret').map((o: { metadata: { name: string } }) => o.metadata.name));
      const listed = new Set(secretsToCreate(chart).map((s) => s.name));
      for (const s of referencedSecrets(objects)) if (!own.has(s)) expect(listed, `${name}: ${s}`).toContain(s);
    }
  });
});

describe('release-scoped credentials in the chart', () => {
  it.each(Object.keys(EXAMPLES))('%s: every random credential is a generated Secret of the release', (name) => {
    const app = new App();
    const chart = buildHelmChart(EXAMPLES[name](app) as Chart);
    const generated = new Set(chart.model.generatedSecrets.map((s) => s.name));
    const plain = secretsToCreate(app.charts[0]);
    // What a chart user must still bring: only values nobody can generate (provider URLs with API keys, TLS).
    const external = plain.filter((s) => !generated.has(s.name));
    for (const s of external) expect(s.generated, s.name).toBe(false);
    for (const s of plain.filter((x) => x.generated)) expect(generated, s.name).toContain(s.name);
  });
});
