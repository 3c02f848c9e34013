/**
 * Derived values follow the chart's values by the construct's own formulas (one source each: MEMORY_FORMULAS and
 * POOLER_FORMULAS in lib/postgres/sizing.ts, evaluated in TypeScript and rendered as Go template by
 * lib/core/formula.ts): at several points, `helm template --set` of memory, max_connections, pooler replicas and pool
 * sizes gives the objects the construct synthesizes with the same props (postgresql.conf, pgbouncer.ini, /dev/shm).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { EXAMPLES } from '../examples';
import { sorchaTier } from '../examples/sorcha';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { evaluate, formula, goTemplate, goQuantityBytes } from '../lib/core/formula';
import { writeHelmChart } from '../lib/helm';
import { CONFIG_HASH_ANNOTATION } from '../lib/postgres/layout';
import type { PoolerProps } from '../lib/postgres/props';
import { MAX_CONNECTIONS_RANGE, MEMORY_FORMULAS, POOLER_FORMULAS, memorySettings, poolerSizing } from '../lib/postgres/sizing';
import { workloadPropsApp } from './apps/workload-props';
import { CRD_API_VERSIONS } from './harness/dry-run';
import { changedValues, parseManifests, renderChart, runHelm, startFakeKubeApi, templateArgs, withoutHelmDifferences } from './harness/helm';
import { K8sObject, synthApp } from './harness/synth';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-derived-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Pool sizes a point pins; null is the chart value that unpins one (the construct then leaves the prop out). */
type Pins = { readonly [K in 'defaultPoolSize' | 'reservePoolSize' | 'maxClientConnections']?: number | null };

interface Point {
  readonly memory: string;
  readonly maxConnections: number;
  readonly poolerReplicas?: number;
  readonly pins?: Pins;
  readonly failover?: 'none' | 'patroni';
}

function build(p: Point) {
  return (app: ReturnType<typeof Testing.app>) => {
    const chart = new Chart(app, 'derived', { namespace: 'data' });
    new PostgresCluster(chart, 'db', {
      database: 'app', user: 'app', maxConnections: p.maxConnections, storage: { size: '10Gi' }, failover: p.failover,
      pooler: { replicas: p.poolerReplicas ?? 2, ...Object.fromEntries(Object.entries(p.pins ?? {}).filter(([, v]) => v !== null)) as PoolerProps },
      resources: { requests: { cpu: '500m', memory: p.memory }, limits: { cpu: '2', memory: '64Gi' } },
    });
    return chart;
  };
}

function writeChart(name: string, p: Point): string {
  const app = Testing.app();
  build(p)(app);
  const chartDir = path.join(dir, name);
  writeHelmChart(app, chartDir);
  return chartDir;
}

/** The values that make a chart written from another point render this one. */
function valuesOf(p: Point): Record<string, unknown> {
  return {
    'db.resources.requests.memory': /^\d+$/.test(p.memory) ? Number(p.memory) : p.memory, 'db.maxConnections': p.maxConnections,
    'db.pooler.replicas': p.poolerReplicas ?? 2,
    ...Object.fromEntries(Object.entries(p.pins ?? {}).map(([k, v]) => [`db.pooler.${k}`, v])),
  };
}

const MEMORY_LINES = /^(shared_buffers|effective_cache_size|work_mem|maintenance_work_mem|max_connections) = .*$/gm;
const POOL_LINES = /^(default_pool_size|reserve_pool_size|max_db_connections|max_client_conn) = .*$/gm;
const configMapWith = (objs: K8sObject[], key: string) => objs.find((o) => o.kind === 'ConfigMap' && typeof o.data?.[key] === 'string')!;
const confLines = (objs: K8sObject[]) => (configMapWith(objs, 'postgresql.conf').data['postgresql.conf'] as string).match(MEMORY_LINES);
const poolLines = (objs: K8sObject[]) => (configMapWith(objs, 'pgbouncer.ini').data['pgbouncer.ini'] as string).match(POOL_LINES);
const poolerHash = (objs: K8sObject[]) => objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('db-pooler'))!
  .spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION] as string;
const shmLimits = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'StatefulSet')
  .map((s) => s.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'dshm').emptyDir.sizeLimit as string);

/**
 * Objects without the config-hash annotations: the chart hashes the synthesized ConfigMap plus the changed values,
 * the construct hashes its own ConfigMap, so the two differ by design (the pooler hash is checked on its own below).
 */
function comparable(objs: K8sObject[], release?: string): Map<string, K8sObject> {
  return new Map(objs.map((o) => {
    const n = withoutHelmDifferences(o, release);
    const annotations = n.spec?.template?.metadata?.annotations;
    if (annotations) delete annotations[CONFIG_HASH_ANNOTATION];
    return [`${n.kind}/${n.metadata.name}`, n] as const;
  }));
}

/** helm template with the point's values renders every object the construct synthesizes with the same props. */
async function expectSameAsConstruct(chartDir: string, p: Point): Promise<K8sObject[]> {
  const plain = synthApp((a) => { build(p)(a); });
  const rendered = await renderChart(chartDir, 'rel', { namespace: 'data', values: valuesOf(p) });
  const want = comparable(plain);
  const got = comparable(rendered, 'rel');
  for (const [key, o] of want) expect(got.get(key), key).toEqual(o);
  // The lines that differ between points, compared on their own for readable failures.
  expect(confLines(rendered)).toEqual(confLines(plain));
  expect(poolLines(rendered)).toEqual(poolLines(plain));
  expect(shmLimits(rendered)).toEqual(shmLimits(plain));
  return rendered;
}

describe('Postgres memory settings: chart values vs the construct', () => {
  const chartDir = writeChart('memory', { memory: '16Gi', maxConnections: 200 });

  const points: Array<[string, number]> = [['16Gi', 200], ['4Gi', 200], ['1000Mi', 100], ['3G', 50], ['64Gi', 1000], ['257Mi', 20], ['12884901888', 300]];
  it.each(points)('memory %s, max_connections %i: helm template renders what the construct synthesizes', async (memory, maxConnections) => {
    const plain = synthApp((a) => { build({ memory, maxConnections })(a); });
    // The pool sizes are left derived: they follow max_connections in the chart as in the construct.
    const rendered = await renderChart(chartDir, 'rel', { namespace: 'data', values: valuesOf({ memory, maxConnections }) });
    const want = confLines(plain);
    expect(want?.length).toBe(5);
    expect(confLines(rendered)).toEqual(want);
    expect(poolLines(rendered)).toEqual(poolLines(plain));
  });

  // /dev/shm = min(1024, floor(memory MiB / 8)) Mi: at the cap, just under it, and where the floor cuts.
  const shm: Array<[string, string]> = [['8Gi', '1024Mi'], ['64Gi', '1024Mi'], ['8191Mi', '1023Mi'], ['1025Mi', '128Mi'], ['3G', '357Mi'], ['257Mi', '32Mi']];
  it.each(shm)('/dev/shm follows resources.requests.memory %s (%s), as the construct sizes it', async (memory, limit) => {
    const plain = synthApp((a) => { build({ memory, maxConnections: 50 })(a); });
    const rendered = await renderChart(chartDir, 'rel', { namespace: 'data', values: valuesOf({ memory, maxConnections: 50 }) });
    expect(shmLimits(plain)).toEqual([limit]);
    expect(shmLimits(rendered)).toEqual([limit]);
  });

  it('refuses, at render, a max_connections the memory request cannot give 1MB of work_mem, as the construct does', async () => {
    expect(() => synthApp((a) => { build({ memory: '1Gi', maxConnections: 400 })(a); })).toThrow(/work_mem/);
    const r = await runHelm(['template', 'rel', chartDir, '--namespace', 'data', '--set', 'db.maxConnections=400', '--set-string', 'db.resources.requests.memory=1Gi']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('db: maxConnections is too high for resources.requests.memory');
    expect(r.stderr).toContain('db.maxConnections = 400, db.resources.requests.memory = 1Gi');
  });
});

describe('PgBouncer pool sizes: chart values vs the construct', () => {
  const derivedChart = writeChart('pools-derived', { memory: '16Gi', maxConnections: 200 });
  const noneChart = writeChart('pools-none', { memory: '16Gi', maxConnections: 200, failover: 'none' });
  const pinnedChart = writeChart('pools-pinned', { memory: '16Gi', maxConnections: 200, pins: { defaultPoolSize: 20 } });

  // Points where floor and ceil matter: 51 and 59 connections round the admin headroom up (6, not 5.1 or 5.9),
  // 51 / 4 and 59 / 3 replicas split the budget unevenly, max_client_conn rounds 127.5 and 196.7 up, and 20 / 12
  // leaves one server connection per replica with no reserve.
  const points: Array<[string, Point]> = [
    ['the synthesized values', { memory: '16Gi', maxConnections: 200 }],
    ['100 connections, 3 replicas, 4Gi', { memory: '4Gi', maxConnections: 100, poolerReplicas: 3 }],
    ['51 connections, 4 replicas (ceil, floor)', { memory: '1Gi', maxConnections: 51, poolerReplicas: 4 }],
    ['59 connections, 3 replicas (ceil, floor)', { memory: '3G', maxConnections: 59, poolerReplicas: 3 }],
    ['20 connections, 12 replicas (1 each, no reserve)', { memory: '257Mi', maxConnections: 20, poolerReplicas: 12 }],
    ['1000 connections, 7 replicas, 64Gi', { memory: '64Gi', maxConnections: 1000, poolerReplicas: 7 }],
    ['300 connections, 1 replica, bytes', { memory: '12884901888', maxConnections: 300, poolerReplicas: 1 }],
    ['a pinned default pool', { memory: '16Gi', maxConnections: 150, poolerReplicas: 3, pins: { defaultPoolSize: 30 } }],
    ['a pinned reserve', { memory: '16Gi', maxConnections: 120, poolerReplicas: 2, pins: { reservePoolSize: 0 } }],
    ['a pinned max_client_conn', { memory: '16Gi', maxConnections: 80, poolerReplicas: 2, pins: { maxClientConnections: 5000 } }],
    ['all three pinned', { memory: '16Gi', maxConnections: 200, poolerReplicas: 4, pins: { defaultPoolSize: 30, reservePoolSize: 5, maxClientConnections: 700 } }],
  ];
  it.each(points)('Patroni: %s', async (_title, p) => {
    await expectSameAsConstruct(derivedChart, p);
  });
  it.each(points.filter((_, i) => i % 3 === 1))('failover none: %s', async (_title, p) => {
    await expectSameAsConstruct(noneChart, { ...p, failover: 'none' });
  });

  it('keeps a pool size the construct pins when max_connections and the replicas change; the others follow', async () => {
    const moved = { memory: '16Gi', maxConnections: 150, poolerReplicas: 3 };
    const rendered = await expectSameAsConstruct(pinnedChart, { ...moved, pins: { defaultPoolSize: 20 } });
    // 150 − 3 − 15 = 132 → 44 per replica: the reserve takes its 10 % (4), the default stays 20.
    expect(poolLines(rendered)).toEqual(['default_pool_size = 20', 'reserve_pool_size = 4', 'max_db_connections = 24', 'max_client_conn = 500']);
    // null unpins it: the pool is derived again, as a construct without the prop derives it.
    await expectSameAsConstruct(pinnedChart, { ...moved, pins: { defaultPoolSize: null } });
  });

  it('restarts the poolers when the effective pool sizes change, and only then', async () => {
    const at = (values: Record<string, unknown>) => renderChart(derivedChart, 'rel', { namespace: 'data', values });
    const [defaults, samePinned, moreConnections, moreReplicas] = await Promise.all([
      at({}),
      // Pinning exactly the derived values changes nothing in pgbouncer.ini, so nothing restarts.
      at({ 'db.pooler.defaultPoolSize': 80, 'db.pooler.reservePoolSize': 8, 'db.pooler.maxClientConnections': 1000 }),
      at({ 'db.maxConnections': 220 }),
      at({ 'db.pooler.replicas': 3 }),
    ]);
    expect(poolLines(samePinned)).toEqual(poolLines(defaults));
    expect(poolerHash(samePinned)).toBe(poolerHash(defaults));
    for (const changed of [moreConnections, moreReplicas]) {
      expect(poolLines(changed)).not.toEqual(poolLines(defaults));
      expect(poolerHash(changed)).not.toBe(poolerHash(defaults));
    }
  });

  it('fails, naming the values, when pinned pools exceed the budget the other values leave, as the construct does', async () => {
    const over: Point = { memory: '16Gi', maxConnections: 100, poolerReplicas: 2, pins: { defaultPoolSize: 40 } };
    // 100 − 3 − 10 = 87 → 43 per replica: 2 × (40 + 3 derived reserve) = 86 fits; 2 × 44 does not.
    expect(poolerSizing({ maxConnections: 100, poolerReplicas: 2, defaultPoolSize: 40 }).totalServerConnections).toBe(86);
    await expectSameAsConstruct(derivedChart, over);
    const tooBig: Pins = { defaultPoolSize: 40, reservePoolSize: 4 };
    expect(() => synthApp((a) => { build({ ...over, pins: tooBig })(a); })).toThrow(/above maxConnections 100 − headroom 13 = 87/);
    const [pinned, tooManyReplicas, lowered] = await Promise.all([
      runHelm(['template', 'rel', derivedChart, '--namespace', 'data', '--set', 'db.maxConnections=100', '--set', 'db.pooler.defaultPoolSize=40', '--set', 'db.pooler.reservePoolSize=4']),
      // Derived pools fit any replica count up to the budget; past it a replica would get no connection at all.
      runHelm(['template', 'rel', derivedChart, '--namespace', 'data', '--set', 'db.maxConnections=20', '--set', 'db.pooler.replicas=13']),
      // The pinned pool of the pinned chart stays pinned when max_connections drops under it.
      runHelm(['template', 'rel', pinnedChart, '--namespace', 'data', '--set', 'db.maxConnections=40']),
    ]);
    const rule = 'pooler.replicas × (pooler.defaultPoolSize + pooler.reservePoolSize) server connections must stay ≤ maxConnections − headroom';
    for (const r of [pinned, tooManyReplicas, lowered]) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`db: ${rule}`);
    }
    expect(pinned.stderr).toContain('(db.pooler.replicas = 2, db.pooler.defaultPoolSize = 40, db.pooler.reservePoolSize = 4, db.maxConnections = 100)');
    expect(tooManyReplicas.stderr).toContain('(db.pooler.replicas = 13, db.pooler.defaultPoolSize = null, db.pooler.reservePoolSize = null, db.maxConnections = 20)');
    expect(lowered.stderr).toContain('(db.pooler.replicas = 2, db.pooler.defaultPoolSize = 20, db.pooler.reservePoolSize = null, db.maxConnections = 40)');
    expect(() => synthApp((a) => { build({ memory: '16Gi', maxConnections: 40, pins: { defaultPoolSize: 20 } })(a); })).toThrow(/pooler\.defaultPoolSize/);
  });

  it('accepts a lower max_connections alone (derived pools follow it), or with pinned pools lowered to fit', async () => {
    const [alone, lowered] = await Promise.all([
      renderChart(derivedChart, 'rel', { namespace: 'data', values: { 'db.maxConnections': 40 } }),
      renderChart(pinnedChart, 'rel', { namespace: 'data', values: { 'db.maxConnections': 40, 'db.pooler.defaultPoolSize': 10, 'db.pooler.reservePoolSize': 1 } }),
    ]);
    // 40 − 3 − 5 = 32 → 16 per replica: 15 + 1.
    expect(poolLines(alone)).toEqual(['default_pool_size = 15', 'reserve_pool_size = 1', 'max_db_connections = 16', 'max_client_conn = 200']);
    expect(poolLines(lowered)).toEqual(['default_pool_size = 10', 'reserve_pool_size = 1', 'max_db_connections = 11', 'max_client_conn = 200']);
  });

  it('Patroni upgrade guard: a changed maxConnections is still refused against the running cluster; the pools follow the live value', async () => {
    // What Patroni keeps once bootstrapped: max_connections in the `<release>-<scope>-config` ConfigMap's annotation.
    const live = (maxConnections: number) => ({ 'rel-db-patroni-config': { config: JSON.stringify({ ttl: 30, postgresql: { parameters: { max_connections: maxConnections } } }) } });
    const upgrade = async (liveMax: number, values: Record<string, unknown>) => {
      const api = await startFakeKubeApi({}, {}, live(liveMax));
      try {
        const r = await runHelm(templateArgs(derivedChart, 'rel', { namespace: 'data', values, args: ['--dry-run=server', '--kube-apiserver', api.url] }));
        expect(api.requests).toContain('GET /api/v1/namespaces/data/configmaps/rel-db-patroni-config');
        return r;
      } finally {
        await api.close();
      }
    };
    const [changed, replicas, raised] = await Promise.all([
      upgrade(200, { 'db.maxConnections': 300 }),
      upgrade(200, { 'db.pooler.replicas': 3 }),
      // After `patronictl edit-config` raised it to 300: the same value passes and the pools use the new budget.
      upgrade(300, { 'db.maxConnections': 300 }),
    ]);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('maxConnections differs from the running Patroni cluster\'s max_connections');
    expect(replicas.code, replicas.stderr).toBe(0);
    expect(poolLines(parseManifests(replicas.stdout))).toEqual(poolLines(synthApp((a) => { build({ memory: '16Gi', maxConnections: 200, poolerReplicas: 3 })(a); })));
    expect(raised.code, raised.stderr).toBe(0);
    expect(poolLines(parseManifests(raised.stdout))).toEqual(poolLines(synthApp((a) => { build({ memory: '16Gi', maxConnections: 300 })(a); })));
  });

  it('describes the derived defaults in values.yaml, the schema and the README; passes helm lint --strict, with a pool unpinned too', async () => {
    const values = fs.readFileSync(path.join(derivedChart, 'values.yaml'), 'utf8');
    expect(values).toMatch(/# PgBouncer default_pool_size per replica; null: derived, floor\(\(maxConnections − headroom\) \/ pooler\.replicas\) − reservePoolSize, where headroom = 3 \+ max\(5, ceil\(10 % of maxConnections\)\) \(now 80\)\n\s+defaultPoolSize: null\n/);
    expect(values).toMatch(/reservePoolSize: null\n/);
    expect(values).toMatch(/maxClientConnections: null\n/);
    expect(fs.readFileSync(path.join(pinnedChart, 'values.yaml'), 'utf8')).toMatch(/the construct pins it\n\s+defaultPoolSize: 20\n/);
    const schema = JSON.parse(fs.readFileSync(path.join(derivedChart, 'values.schema.json'), 'utf8'));
    const pooler = schema.properties.db.properties.pooler;
    expect(pooler.properties.defaultPoolSize).toMatchObject({ type: ['integer', 'null'], minimum: 1 });
    expect(pooler.required).toEqual(['replicas']);
    expect(fs.readFileSync(path.join(derivedChart, 'README.md'), 'utf8')).toContain('| `db.pooler.defaultPoolSize` | integer (1–10000) or null | `null` |');
    const results = await Promise.all([
      runHelm(['lint', '--strict', derivedChart]), runHelm(['lint', '--strict', pinnedChart]),
      runHelm(['lint', '--strict', pinnedChart, '--set', 'db.pooler.defaultPoolSize=null']),
    ]);
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('every example chart with a PostgresCluster, every value at its example at once', () => {
  // The values of test/cluster/apiserver.test.ts "every value changed": the pool size examples must fit the pooler
  // replicas example and the rest; this catches a misfit without the control plane.
  const sources: Record<string, (app: App) => unknown> = {
    ...EXAMPLES, sorchaDevelopment: (app) => sorchaTier(app, 'development'), sorchaLargeProduction: (app) => sorchaTier(app, 'large-production'),
    workloadProps: workloadPropsApp,
  };
  it.each(Object.keys(sources))('%s renders', async (name) => {
    const app = Testing.app();
    sources[name](app);
    const chart = writeHelmChart(app, path.join(dir, `changed-${name}`));
    const pooled = chart.model.values.filter((v) => v.path.endsWith('.pooler.replicas'));
    if (pooled.length === 0) return;
    const values = changedValues(chart.model.values);
    for (const v of pooled) expect(values[v.path], v.path).not.toBe(v.default);
    await renderChart(path.join(dir, `changed-${name}`), 'r1', { namespace: 'x', values, args: CRD_API_VERSIONS.flatMap((a) => ['--api-versions', a]) });
  });
});

describe('formulas evaluate the same in TypeScript and in Go templates', () => {
  /** Renders `expr` (a Go template of `.Values`) with helm and returns its output. */
  async function helmEval(name: string, body: string, args: string[] = []): Promise<string> {
    const tpl = path.join(dir, `formula-${name}`);
    fs.mkdirSync(path.join(tpl, 'templates'), { recursive: true });
    fs.writeFileSync(path.join(tpl, 'Chart.yaml'), 'apiVersion: v2\nname: formula\nversion: 0.1.0\n');
    fs.writeFileSync(path.join(tpl, 'templates', 'f.yaml'), body);
    const r = await runHelm(['template', 'x', tpl, '--show-only', 'templates/f.yaml', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  }

  const f = formula.min(formula.floor(formula.div(formula.sub('a', 0.5), formula.mul(3, 'b'))), formula.max('a', 7.25));
  it.each([[10, 1], [1000.75, 3], [3, 9], [1e6, 7]])('a=%d b=%d', async (a, b) => {
    const out = await helmEval(`${a}-${b}`, `v: {{ ${goTemplate(f, { a: '.Values.a', b: '.Values.b' })} }}\nq: {{ ${goQuantityBytes('.Values.q')} | int64 }}\n`,
      ['--set-json', `a=${a}`, '--set', `b=${b}`, '--set-string', 'q=3Gi']);
    expect(Number(/v: (\S+)/.exec(out)![1])).toBe(evaluate(f, { a, b }));
    expect(Number(/q: (\S+)/.exec(out)![1])).toBe(3 * 2 ** 30);
  });

  it('ceil, and given: the variable when set, else the fallback (null and an absent key alike)', async () => {
    const g = formula.given('p', formula.ceil(formula.div('a', 4)));
    const body = ['.Values.p', '.Values.none'].map((p, i) => `v${i}: {{ ${goTemplate(g, { a: '.Values.a', p })} }}`).join('\n');
    const [set, unset] = await Promise.all([helmEval('given-set', `${body}\n`, ['--set', 'a=9', '--set', 'p=0']), helmEval('given-null', `${body}\n`, ['--set', 'a=9', '--set', 'p=null'])]);
    expect([/v0: (\S+)/.exec(set)![1], /v1: (\S+)/.exec(set)![1]]).toEqual(['0', '3']);
    expect(/v0: (\S+)/.exec(unset)![1]).toBe('3');
    expect(evaluate(g, { a: 9, p: 0 })).toBe(0);
    expect(evaluate(g, { a: 9, p: null })).toBe(3);
    expect(evaluate(g, { a: 9 })).toBe(3);
  });

  const replicaCounts = [1, 2, 3, 4, 7, 12];
  const pinned = { defaultPoolSize: 9, reservePoolSize: 2, maxClientConn: 50 };
  const variants: Array<[string, Partial<typeof pinned>]> = [['derived', {}], ['default', { defaultPoolSize: 9 }], ['reserve', { reservePoolSize: 2 }], ['client', { maxClientConn: 50 }]];
  const poolerKeys = Object.keys(POOLER_FORMULAS) as Array<keyof typeof POOLER_FORMULAS>;

  it('POOLER_FORMULAS in TypeScript are the exact integer rule at every max_connections the constructs accept', () => {
    // The exact rule in integer arithmetic: floor/ceil of a float product such as 0.1 × n must not land one off.
    for (let maxConnections = MAX_CONNECTIONS_RANGE.min; maxConnections <= MAX_CONNECTIONS_RANGE.max; maxConnections++) {
      const headroom = 3 + Math.max(5, Math.floor((maxConnections + 9) / 10));
      for (const poolerReplicas of replicaCounts) {
        const perReplica = Math.floor((maxConnections - headroom) / poolerReplicas);
        const reserve = Math.floor(perReplica / 10);
        const s = poolerSizing({ maxConnections, poolerReplicas });
        const exact = [maxConnections - headroom, perReplica, perReplica - reserve, reserve, Math.floor((10 * maxConnections + poolerReplicas - 1) / poolerReplicas)];
        if (![s.serverConnectionBudget, s.perReplicaBudget, s.defaultPoolSize, s.reservePoolSize, s.maxClientConn].every((v, i) => v === exact[i])) {
          expect([maxConnections, poolerReplicas, s]).toEqual([maxConnections, poolerReplicas, exact]);
        }
      }
    }
  });

  it('POOLER_FORMULAS in Go templates agree with TypeScript: every max_connections to 1000, then a sweep to 10000; derived and pinned', async () => {
    const line = (pins: Partial<typeof pinned>) => {
      const vars: Record<string, string> = {
        maxConnections: '$mc', poolerReplicas: '$r',
        ...Object.fromEntries(Object.keys(pinned).map((k) => [k, k in pins ? `$.Values.pin.${k}` : '$.Values.none'])),
      };
      return poolerKeys.map((k) => `{{ ${goTemplate(POOLER_FORMULAS[k], vars)} }}`).join(' ');
    };
    // One YAML comment line per point, so helm's manifest parsing accepts the output.
    const loop = (mcs: string, replicas: number[], names: string[]) => [
      `{{- range $mc := ${mcs} }}{{ range $r := list ${replicas.join(' ')} }}`,
      ...variants.filter(([name]) => names.includes(name)).map(([name, pins]) => `# ${name} {{ $mc }} {{ $r }} ${line(pins)}`),
      '{{- end }}{{ end }}',
    ].join('\n');
    const all = variants.map(([n]) => n);
    const body = [
      loop(`untilStep ${MAX_CONNECTIONS_RANGE.min} 1001 1`, [1, 3, 7], ['derived']),
      loop(`untilStep ${MAX_CONNECTIONS_RANGE.min} 1001 7`, replicaCounts, all),
      loop(`untilStep 1001 ${MAX_CONNECTIONS_RANGE.max + 1} 97`, replicaCounts, all),
      loop(`list ${MAX_CONNECTIONS_RANGE.max}`, replicaCounts, all),
    ].join('\n');
    const started = performance.now();
    const out = await helmEval('pooler', `${body}\n`, Object.entries(pinned).flatMap(([k, v]) => ['--set', `pin.${k}=${v}`]));
    const ms = performance.now() - started;
    const lines = out.split('\n').filter((l) => /^# [a-z]+ \d/.test(l)).map((l) => l.slice(2));
    expect(lines.length).toBeGreaterThan(5000);
    for (const l of lines) {
      const [name, mc, r, ...got] = l.split(' ');
      const pins = variants.find(([n]) => n === name)![1];
      const want = poolerKeys.map((k) => evaluate(POOLER_FORMULAS[k], { maxConnections: Number(mc), poolerReplicas: Number(r), ...pins }));
      if (got.map(Number).some((g, i) => g !== want[i])) expect(l).toBe(`${name} ${mc} ${r} ${want.join(' ')}`);
    }
    console.log(`[derived] ${lines.length} pooler sizings compared with helm in ${Math.round(ms)} ms`);
  });

  it('memorySettings is MEMORY_FORMULAS evaluated', () => {
    const s = memorySettings(16 * 2 ** 30, 200);
    expect(s.sharedBuffersBytes / 2 ** 20).toBe(evaluate(MEMORY_FORMULAS.sharedBuffersMiB, { memoryMiB: 16384, maxConnections: 200 }));
    expect(s.workMemBytes / 2 ** 20).toBe(20);
    expect(s.maintenanceWorkMemBytes).toBe(2 ** 30);
  });

  it('poolerSizing is POOLER_FORMULAS evaluated, with the documented rule', () => {
    for (const [maxConnections, poolerReplicas] of [[100, 2], [51, 4], [59, 3], [20, 12], [10_000, 7]]) {
      const s = poolerSizing({ maxConnections, poolerReplicas });
      const headroom = 3 + Math.max(5, Math.ceil(maxConnections / 10));
      const perReplica = Math.floor((maxConnections - headroom) / poolerReplicas);
      const reserve = Math.floor(perReplica / 10);
      expect([s.perReplicaBudget, s.reservePoolSize, s.defaultPoolSize, s.maxClientConn])
        .toEqual([perReplica, reserve, perReplica - reserve, Math.ceil((10 * maxConnections) / poolerReplicas)]);
    }
  });
});
