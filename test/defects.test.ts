import { App, Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  PostgresCluster, PostgresClusterProps, Presets, RedisHA, RpcPool, RpcPoolProps, StatelessService, StatelessServiceProps, TIERS,
  ValidationErrors, WorkerPool, WorkerPoolProps, connectPostgres,
} from '../lib';
import { throwIfInvalid, validateAll } from '../lib/core/problems';
import { buildHelmChart } from '../lib/helm';
import { expectValidationError } from './harness/errors';
import { build, container, find, findAll, synth } from './harness/synth';

/**
 * Issue 13: every defect the fuzzing found is a regression test here, one `it` each, named after the defect. The
 * chart defects (registry ports, 5e-7, integer CPU, requests ≤ limits, pool budget, "latest") are in
 * test/chart-rules.test.ts, where they run through the real helm.
 */

const IMAGE = 'ghcr.io/example/api:1.0.0';
const path = 'test/api';
const svc = (props: Partial<StatelessServiceProps>, setup?: (chart: Chart) => void) => () => build((chart) => {
  setup?.(chart);
  new StatelessService(chart, 'api', { image: IMAGE, ...props } as StatelessServiceProps);
});
const worker = (props: Partial<WorkerPoolProps>, setup?: (chart: Chart) => void) => () => build((chart) => {
  setup?.(chart);
  new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs', ...props } as WorkerPoolProps);
});
const CREDENTIALS: PostgresClusterProps['credentials'] = {
  superuser: { secretName: 'db-superuser' }, replication: { secretName: 'db-replication' }, app: { secretName: 'db-app', key: 'pw' },
};
const UPSTREAMS: RpcPoolProps['upstreams'] = [
  { name: 'a', url: 'https://a.example.com' }, { name: 'b', url: 'https://b.example.com' },
];

describe('issue 13 defects: output the API server rejects while our checks passed', () => {
  it('label value component "API Server"', () => {
    expectValidationError(svc({ component: 'API Server' }), { path, property: 'component', value: 'API Server', allowed: /label value/ });
  });
  it('label value partOf "x/y"', () => {
    expectValidationError(svc({ partOf: 'x/y' }), { path, property: 'partOf', value: 'x/y', allowed: /label value/ });
  });
  it('partOf defaulting to a Chart id that is no label value', () => {
    expectValidationError(() => build((chart) => {
      const bad = new Chart(chart, 'My Chart');
      new StatelessService(bad, 'api', { image: IMAGE });
    }), { path: 'test/My Chart/api', property: 'partOf', value: 'My Chart', allowed: /Chart's id/ });
  });
  it('preset labels with spaces', () => {
    expectValidationError(svc({}, (c) => Presets.apply(c, { labels: { team: 'platform team' } })), { path: 'test', property: 'preset.labels.team', value: 'platform team' });
  });
  it('preset tolerations [{}]', () => {
    expectValidationError(svc({}, (c) => Presets.apply(c, { tolerations: [{}] })), { path: 'test', property: 'preset.tolerations[0].key', allowed: /unless operator is "Exists"/ });
  });
  it('preset toleration with a value under Exists, or tolerationSeconds without NoExecute', () => {
    expectValidationError(svc({}, (c) => Presets.apply(c, { tolerations: [{ key: 'gpu', operator: 'Exists', value: 'yes' }] })), { path: 'test', property: 'preset.tolerations[0].value' });
    expectValidationError(svc({}, (c) => Presets.apply(c, { tolerations: [{ key: 'gpu', tolerationSeconds: 5 }] })), { path: 'test', property: 'preset.tolerations[0].tolerationSeconds' });
  });
  it('preset nodeSelector key that is no qualified name', () => {
    expectValidationError(svc({}, (c) => Presets.apply(c, { nodeSelector: { 'node pool': 'a' } })), { path: 'test', property: 'preset.nodeSelector.node pool', value: 'node pool', allowed: /qualified name/ });
  });
  it('preset annotation key that is no qualified name', () => {
    expectValidationError(svc({}, (c) => Presets.apply(c, { podAnnotations: { 'a/b/c': 'x' } })), { path: 'test', property: 'preset.podAnnotations.a/b/c', value: 'a/b/c' });
  });
  it('memory "512K" (K is not a Kubernetes suffix)', () => {
    expectValidationError(svc({ resources: { limits: { memory: '512K' } } }), { path, property: 'resources.limits.memory', value: '512K', allowed: /"K" is not a suffix/ });
  });
  it('int32 overflow: maxReplicas 1e10', () => {
    expectValidationError(svc({ autoscaling: { maxReplicas: 1e10 } }), { path, property: 'autoscaling.maxReplicas', value: 1e10, allowed: /2147483647/ });
    expectValidationError(worker({ scaling: { maxReplicas: 1e10 } }), { path: 'test/media', property: 'scaling.maxReplicas', value: 1e10 });
  });
  it('int32 overflow: replicas 2**31', () => {
    expectValidationError(svc({ autoscaling: false, replicas: 2 ** 31 }), { path, property: 'replicas', value: 2 ** 31 });
  });
  it('int32 overflow: runAsUser 2**31', () => {
    expectValidationError(svc({ runAsUser: 2 ** 31 }), { path, property: 'runAsUser', value: 2 ** 31 });
  });
  it('an empty or missing secretEnv key', () => {
    expectValidationError(svc({ secretEnv: { DB_PASSWORD: { secretName: 'db', key: '' } } }), { path, property: 'secretEnv.DB_PASSWORD.key', value: '' });
    expectValidationError(svc({ secretEnv: { DB_PASSWORD: { secretName: 'db' } as never } }), { path, property: 'secretEnv.DB_PASSWORD.key', value: undefined });
  });
  it('two configMounts on one mountPath', () => {
    expectValidationError(svc({ configMounts: [{ configMap: 'a', mountPath: '/etc/app' }, { configMap: 'b', mountPath: '/etc/app/' }] }),
      { path, property: 'configMounts[1].mountPath', value: '/etc/app/', allowed: /already mounted \(configMounts\[0\]\)/ });
  });
  it('a Service with port 80 twice (metricsPort: 80)', () => {
    expectValidationError(svc({ metricsPort: 80 }), { path, property: 'metricsPort', value: 80, allowed: /servicePort \(80\)/ });
  });
  it.each(['Nginx:1.0', ':1.0', 'ng inx:1.0'])('image reference %j', (image) => {
    expectValidationError(svc({ image }), { path, property: 'image', value: image, allowed: /lower-case repository/ });
  });
  it.each(['abc', '30'])('ServiceMonitor interval %j', (interval) => {
    expectValidationError(svc({ serviceMonitor: { interval } }), { path, property: 'serviceMonitor.interval', value: interval, allowed: /Prometheus duration/ });
    expectValidationError(() => build((chart) => new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'c', key: 'p' }, metrics: { interval } })),
      { path: 'test/cache', property: 'metrics.interval', value: interval });
  });
});

describe('issue 13 defects: input silently altered or dropped', () => {
  it('RedisHA maxmemory "0.5" became 0 (no limit)', () => {
    expectValidationError(() => build((chart) => new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'c', key: 'p' }, maxmemory: '0.5' })),
      { path: 'test/cache', property: 'maxmemory', value: '0.5', allowed: /whole bytes/ });
  });
  it.each([0, NaN, 1.5])('stickySessions %s silently dropped affinity', (v) => {
    expectValidationError(svc({ stickySessions: v }), { path, property: 'stickySessions', value: v, allowed: /from 1 to 86400/ });
  });
  it('connectPostgres while env.DATABASE_URL is set gave the variable twice', () => {
    expectValidationError(() => build((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, replicas: 0 });
      const api = new StatelessService(chart, 'api', { image: IMAGE, env: { DATABASE_URL: 'postgres://elsewhere/db' } });
      connectPostgres(api, db);
    }), { path, property: 'env.DATABASE_URL', allowed: /conflicts with DATABASE_URL already set/ });
  });
  it('WorkerPool appMode "worker" wrote APP_MODE twice', () => {
    const objects = synth((chart) => new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs', appMode: 'worker' }));
    const env = container(find(objects, 'Deployment', 'media')).env as Array<{ name: string }>;
    expect(env.filter((e) => e.name === 'APP_MODE')).toEqual([{ name: 'APP_MODE', value: 'worker' }]);
  });
  it('the development tier still gave WorkerPool an HPA', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, TIERS.development);
      new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs' });
    });
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(find(objects, 'Deployment', 'media').spec.replicas).toBe(1);
    expect(findAll(objects, 'PodDisruptionBudget')).toEqual([]);
  });
});

describe('issue 13 defects: wrong or unhelpful errors', () => {
  it('NaN and Infinity were shown as null', () => {
    const err = expectValidationError(svc({ autoscaling: { maxReplicas: Infinity, minReplicas: NaN } }), { path, property: 'autoscaling.maxReplicas' });
    expect(err.message).toContain('= Infinity;');
    expectValidationError(svc({ autoscaling: { minReplicas: NaN } }), { path, property: 'autoscaling.minReplicas', value: NaN });
    expect(() => svc({ autoscaling: { minReplicas: NaN } })()).toThrow(/invalid autoscaling\.minReplicas = NaN;/);
  });
  it('a number as image gave "TypeError: image.split is not a function"', () => {
    const err = expectValidationError(svc({ image: 5 as never }), { path, property: 'image', value: 5 });
    expect(err.message).toContain('= 5 (number);');
    expectValidationError(svc({ image: 5 as never }, (c) => Presets.apply(c, { imageRegistry: 'registry.example.com' })), { path, property: 'image', value: 5 });
  });
  it('RpcPool blamed metricsPort, a prop it does not have, instead of port', () => {
    expectValidationError(() => build((chart) => new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, monitoring: true, port: 9145 })),
      { path: 'test/rpc', property: 'port', value: 9145, allowed: /metrics exporter/ });
  });
  it('sentinels: 5 failed on a quorum the user never set', () => {
    const objects = synth((chart) => new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'c', key: 'p' }, sentinels: 5 }));
    const sentinel = find(objects, 'StatefulSet', 'cache-sentinel');
    expect(sentinel.spec.replicas).toBe(5);
    expect(container(sentinel).env).toContainEqual({ name: 'QUORUM', value: '3' });
  });
  it('replicationUser was blamed on user', () => {
    expectValidationError(() => build((chart) => new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, replicationUser: 'app' })),
      { path: 'test/db', property: 'replicationUser', value: 'app', allowed: /default application role/ });
  });
});

describe('issue 13: every error at once', () => {
  it('a cdk8s synth of an app with three mistakes lists all three', () => {
    const app = new App({ outdir: Testing.app().outdir });
    const chart = new Chart(app, 'shop');
    new StatelessService(chart, 'api', { image: 'Nginx:1.0' });
    new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs', scaling: { maxReplicas: 0 } });
    new StatelessService(chart, 'web', { image: IMAGE, stickySessions: 0 });
    expect(() => app.synth()).toThrow(/shop\/api: invalid image[\s\S]*shop\/media: invalid scaling\.maxReplicas[\s\S]*shop\/web: invalid stickySessions/);
    expect(validateAll(chart).map((e) => `${e.constructPath} ${e.property}`)).toEqual(['shop/api image', 'shop/media scaling.maxReplicas', 'shop/web stickySessions']);
  });
  it('the chart writer reports every mistake of every chart together', () => {
    const app = new App({ outdir: Testing.app().outdir });
    new StatelessService(new Chart(app, 'one'), 'api', { image: 'Nginx:1.0' });
    new StatelessService(new Chart(app, 'two'), 'web', { image: IMAGE, metricsPort: 80 });
    let thrown: unknown;
    try {
      buildHelmChart(app);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ValidationErrors);
    expect((thrown as ValidationErrors).errors.map((e) => `${e.constructPath} ${e.property}`)).toEqual(['one/api image', 'two/web metricsPort']);
  });
  it('one construct with several mistakes reports each, and renders nothing', () => {
    const chart = new Chart(Testing.app(), 'test');
    new StatelessService(chart, 'api', { image: ':1', port: 0, resources: { requests: { cpu: '3' } }, env: { '1X': 'a' } });
    expect(validateAll(chart).map((e) => e.property)).toEqual(['image', 'port', 'resources.requests.cpu', 'env']);
    expect(() => throwIfInvalid(chart)).toThrow(ValidationErrors);
    expect(chart.node.findAll().filter((c) => c.node.id === 'deployment')).toEqual([]);
  });
});
