import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresCluster, Presets, RedisHA, RpcPool, StatelessService, WorkerPool } from '../lib';
import { PATRONI } from '../lib/defaults';
import { HelmChart, writeHelmChart } from '../lib/helm';
import { connectionHeadroom } from '../lib/postgres/sizing';
import { KUBE_VERSION, renderChart, runHelm, templateArgs } from './harness/helm';
import { container, find, K8sObject } from './harness/synth';

/**
 * Issue 13, "charts broken by valid input": the chart follows the construct's rules. Each case runs the real helm
 * (schema check, template `fail`s) on a chart written from a construct.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function chartOf(build: (chart: Chart) => void): { dir: string; chart: HelmChart } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-rules-'));
  dirs.push(dir);
  const app = new App({ outdir: path.join(dir, 'out') });
  build(new Chart(app, 'shop', { namespace: 'shop' }));
  return { dir: path.join(dir, 'chart'), chart: writeHelmChart(app, path.join(dir, 'chart')) };
}

async function fails(dir: string, args: string[]): Promise<string> {
  const r = await runHelm([...templateArgs(dir, 'rel', { namespace: 'shop' }), ...args]);
  expect(r.code, `helm should refuse ${args.join(' ')}`).not.toBe(0);
  expect(r.stderr).not.toMatch(/Must not validate the schema/);
  return r.stderr;
}

const CREDENTIALS = { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a', key: 'pw' } };
const IMAGE = 'ghcr.io/example/api:1.0.0';

describe('issue 13 chart defects (real helm)', () => {
  it('an image from a registry with a port gave a chart whose own defaults failed its schema', async () => {
    const { dir } = chartOf((c) => { new StatelessService(c, 'api', { image: 'registry.internal:5000/team/api:1.2.3' }); });
    const objects = await renderChart(dir, 'rel', { namespace: 'shop' });
    expect(container(find(objects, 'Deployment', 'rel-api')).image).toBe('registry.internal:5000/team/api:1.2.3');
    const other = await renderChart(dir, 'rel', { namespace: 'shop', values: { 'api.image.repository': 'localhost:5000/mirror/api' } });
    expect(container(find(other, 'Deployment', 'rel-api')).image).toBe('localhost:5000/mirror/api:1.2.3');
    expect(await fails(dir, ['--set-string', 'api.image.repository=Team/API'])).toMatch(/api\.image\.repository/);
  });

  it('a preset imageRegistry with a port, on every construct', async () => {
    const { dir } = chartOf((c) => {
      Presets.apply(c, { imageRegistry: 'registry.internal:5000/mirror' });
      new StatelessService(c, 'api', { image: 'api:1.0' });
      new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } });
      new PostgresCluster(c, 'db', { credentials: CREDENTIALS, replicas: 0 });
    });
    const objects = await renderChart(dir, 'rel', { namespace: 'shop' });
    const images = objects.flatMap((o: K8sObject) => o.spec?.template?.spec?.containers?.map((x: K8sObject) => x.image) ?? []);
    expect(images.length).toBeGreaterThan(3);
    // Images that name no registry get the mirror; one that names its own (Patroni's Spilo on ghcr.io) keeps it (withRegistry).
    for (const image of images.filter((i: string) => i !== PATRONI.image)) expect(image).toMatch(/^registry\.internal:5000\/mirror\//);
    expect(images).toContain(PATRONI.image);
  });

  it('a trigger target like 5e-7 gave a chart whose own defaults failed its schema', async () => {
    const { dir } = chartOf((c) => {
      new WorkerPool(c, 'media', {
        image: IMAGE, queue: 'jobs',
        scaling: { triggers: [{ type: 'prometheus', serverAddress: 'http://prometheus.monitoring.svc:9090', query: 'sum(q)', threshold: 5e-7 }] },
      });
    });
    // crds.keda defaults to auto (issue 20): helm template has no cluster to ask, so the KEDA objects are switched on.
    const keda = ['--set', 'crds.keda=true'];
    const so = find(await renderChart(dir, 'rel', { namespace: 'shop', args: keda }), 'ScaledObject', 'rel-media');
    expect(so.spec.triggers[0].metadata.threshold).toBe('5e-7');
    const set = find(await renderChart(dir, 'rel', { namespace: 'shop', args: [...keda, '--set', 'media.scaling.triggers.t0.threshold=2'] }), 'ScaledObject', 'rel-media');
    expect(set.spec.triggers[0].metadata.threshold).toBe('2');
    expect(await fails(dir, ['--set-string', 'media.scaling.triggers.t0.threshold=0'])).toMatch(/threshold/);
  });

  it('--set …cpu=1 was refused as an integer; unit-less and exponent quantities are quantities too', async () => {
    const { dir } = chartOf((c) => { new StatelessService(c, 'api', { image: IMAGE }); });
    const objects = await renderChart(dir, 'rel', { namespace: 'shop', args: ['--set', 'api.resources.limits.cpu=1', '--set', 'api.resources.limits.memory=2147483648', '--set-string', 'api.resources.requests.memory=1e8'] });
    const { requests, limits } = container(find(objects, 'Deployment', 'rel-api')).resources;
    expect({ cpu: requests.cpu, memory: requests.memory }).toEqual({ cpu: '500m', memory: '1e8' });
    expect({ cpu: limits.cpu, memory: limits.memory }).toEqual({ cpu: '1', memory: '2147483648' });
    expect(await fails(dir, ['--set-string', 'api.resources.limits.memory=512K'])).toMatch(/api\.resources\.limits\.memory/);
    expect(await fails(dir, ['--set', 'api.resources.limits.cpu=0'])).toMatch(/api\.resources\.limits\.cpu/);
  });

  it('a "latest" tag got "Must not validate the schema (not)"', async () => {
    const { dir } = chartOf((c) => {
      new StatelessService(c, 'api', { image: IMAGE });
      new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } });
    });
    expect(await fails(dir, ['--set-string', 'api.image.tag=latest'])).toMatch(/api\.image\.tag = "latest" is refused: not pinned/);
    expect(await fails(dir, ['--set-string', 'cache.image.tag=latest'])).toMatch(/cache\.image\.tag = "latest" is refused/);
  });

  it('PostgresCluster and RedisHA resource values lacked the requests ≤ limits check', async () => {
    const { dir } = chartOf((c) => {
      new StatelessService(c, 'api', { image: IMAGE });
      new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } });
      new PostgresCluster(c, 'db', { credentials: CREDENTIALS, replicas: 0 });
    });
    expect(await fails(dir, ['--set-string', 'db.resources.requests.memory=64Gi'])).toMatch(/db\.resources\.requests\.memory \(64Gi\) must be less than or equal to db\.resources\.limits\.memory/);
    expect(await fails(dir, ['--set-string', 'cache.resources.requests.cpu=64'])).toMatch(/cache\.resources\.requests\.cpu \(64\) must be less than or equal to cache\.resources\.limits\.cpu/);
    expect(await fails(dir, ['--set-string', 'api.resources.requests.memory=2Gi'])).toMatch(/api\.resources\.requests\.memory \(2Gi\) must be less than or equal to/);
  });

  it('the PgBouncer budget was not enforced across pooler values', async () => {
    const { dir, chart } = chartOf((c) => { new PostgresCluster(c, 'db', { credentials: CREDENTIALS, replicas: 0, pooler: { replicas: 1, defaultPoolSize: 10, reservePoolSize: 1 } }); });
    const info = (p: string) => chart.model.values.find((v) => v.path === p)!;
    // The pool bounds follow maxConnections (lib/postgres/sizing.ts), so the schema leaves them to this rule.
    const maxConnections = info('db.maxConnections').default as number;
    const edge = Math.floor((maxConnections - connectionHeadroom(maxConnections).total) / (10 + 1));
    expect(edge).toBeGreaterThan(1);
    expect(info('db.pooler.replicas').schema.maximum!).toBeGreaterThan(edge);
    // Each value alone passes its schema; together they exceed max_connections − headroom.
    const stderr = await fails(dir, ['--set', `db.pooler.replicas=${edge + 1}`]);
    expect(stderr).toMatch(new RegExp(`db: pooler\\.replicas × \\(pooler\\.defaultPoolSize \\+ pooler\\.reservePoolSize\\) server connections must stay ≤ maxConnections − headroom .*db\\.pooler\\.replicas = ${edge + 1}, db\\.pooler\\.defaultPoolSize = 10`));
    // At the edge of the budget it renders.
    await renderChart(dir, 'rel', { namespace: 'shop', values: { 'db.pooler.replicas': edge } });
  });

  it('maxConnections set at install reaches Patroni (its bootstrap config), not only postgresql.conf', async () => {
    const { dir } = chartOf((c) => { new PostgresCluster(c, 'db', { credentials: CREDENTIALS }); });
    const objects = await renderChart(dir, 'rel', { namespace: 'shop', values: { 'db.maxConnections': 123 } });
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
    expect(config.data['patroni.yml']).toMatch(/^\s+max_connections: 123$/m);
    expect(config.data['postgresql.conf']).toMatch(/^max_connections = 123$/m);
  });

  it('min ≤ max is a template fail naming both values', async () => {
    const { dir } = chartOf((c) => { new StatelessService(c, 'api', { image: IMAGE }); });
    expect(await fails(dir, ['--set', 'api.autoscaling.minReplicas=30'])).toMatch(/api\.autoscaling\.minReplicas \(30\) must be less than or equal to api\.autoscaling\.maxReplicas \(20\)/);
  });

  it('passes helm lint --strict with the rules in place', async () => {
    const { dir } = chartOf((c) => {
      new StatelessService(c, 'api', { image: IMAGE });
      new PostgresCluster(c, 'db', { credentials: CREDENTIALS, replicas: 0 });
    });
    const r = await runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('issue 13 chart rules of RedisHA and RpcPool (real helm)', () => {
  const UPSTREAMS = [{ name: 'a', url: 'https://a.example' }, { name: 'b', url: 'https://b.example' }];

  it('quorum ≤ sentinels (a majority) is a template fail naming both values; a valid quorum reaches both StatefulSets and the alert', async () => {
    const { dir } = chartOf((c) => { new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' }, metrics: true }); });
    expect(await fails(dir, ['--set', 'cache.quorum=4'])).toMatch(/cache: quorum must be a majority of sentinels = 3 .*from 2 to 3 \(cache\.quorum = 4\)/);
    expect(await fails(dir, ['--set', 'cache.quorum=1'])).toMatch(/cache\.quorum = 1/);
    const objects = await renderChart(dir, 'rel', { namespace: 'shop', values: { 'cache.quorum': 3, 'crds.prometheusOperator': true } });
    const quorumOf = (kind: string, name: string) => (container(find(objects, kind, name)).env as K8sObject[]).find((e) => e.name === 'QUORUM')!.value;
    expect(quorumOf('StatefulSet', 'rel-cache')).toBe('3');
    expect(quorumOf('StatefulSet', 'rel-cache-sentinel')).toBe('3');
    const rule = find(objects, 'PrometheusRule', 'rel-cache').spec.groups[0].rules.find((r: K8sObject) => r.alert === 'RedisSentinelQuorumLost');
    expect(rule.expr).toMatch(/< 3$/);
    expect(rule.annotations.summary).toMatch(/quorum 3$/);
  });

  it('values.schema.json refuses sub-millicore CPU as the constructs do, and takes whole millicores in every form', async () => {
    const { dir } = chartOf((c) => {
      new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } });
      new RpcPool(c, 'rpc', { upstreams: UPSTREAMS });
    });
    for (const bad of ['0.0001', '0.1m', '1e-4', '500u']) {
      expect(await fails(dir, ['--set-string', `cache.resources.requests.cpu=${bad}`])).toMatch(/cache\.resources\.requests\.cpu/);
    }
    expect(await fails(dir, ['--set', 'rpcProxy.resources.limits.cpu=0.0005'])).toMatch(/rpcProxy\.resources\.limits\.cpu/);
    const objects = await renderChart(dir, 'rel', {
      namespace: 'shop', args: ['--set-string', 'cache.resources.requests.cpu=1e-1', '--set', 'rpcProxy.resources.requests.cpu=0.25'],
    });
    expect(container(find(objects, 'StatefulSet', 'rel-cache')).resources.requests.cpu).toBe('1e-1');
    expect(container(find(objects, 'Deployment', 'rel-rpc')).resources.requests.cpu).toBe('0.25');
  });

  it('values.schema.json refuses fractional bytes for memory and storage ("maxmemory 0.5 became 0"), takes 1.5Gi', async () => {
    const { dir } = chartOf((c) => { new RedisHA(c, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } }); });
    expect(await fails(dir, ['--set-string', 'cache.resources.requests.memory=0.5'])).toMatch(/cache\.resources\.requests\.memory/);
    expect(await fails(dir, ['--set-string', 'cache.persistence.size=1.1Ki'])).toMatch(/cache\.persistence\.size/);
    const objects = await renderChart(dir, 'rel', { namespace: 'shop', args: ['--set-string', 'cache.resources.limits.memory=1.5Gi', '--set-string', 'cache.resources.requests.memory=1.5Gi'] });
    expect(container(find(objects, 'StatefulSet', 'rel-cache')).resources.limits.memory).toBe('1.5Gi');
  });

  it('RpcPool resource values check requests ≤ limits', async () => {
    const { dir } = chartOf((c) => { new RpcPool(c, 'rpc', { upstreams: UPSTREAMS }); });
    expect(await fails(dir, ['--set-string', 'rpcProxy.resources.requests.cpu=4'])).toMatch(/rpcProxy\.resources\.requests\.cpu \(4\) must be less than or equal to rpcProxy\.resources\.limits\.cpu/);
    expect(await fails(dir, ['--set-string', 'rpcProxy.resources.requests.memory=2Gi'])).toMatch(/rpcProxy\.resources\.requests\.memory \(2Gi\) must be less than or equal to rpcProxy\.resources\.limits\.memory/);
  });
});
