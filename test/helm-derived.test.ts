/**
 * Derived values follow the chart's values by the construct's own formulas (one source: MEMORY_FORMULAS in
 * lib/postgres/sizing.ts, evaluated in TypeScript and rendered as Go template by lib/core/formula.ts): at several
 * points, `helm template --set` of memory and max_connections gives the postgresql.conf the construct synthesizes
 * with the same props.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../lib';
import { evaluate, formula, goTemplate, goQuantityBytes } from '../lib/core/formula';
import { writeHelmChart } from '../lib/helm';
import { MEMORY_FORMULAS, memorySettings, poolerSizing } from '../lib/postgres/sizing';
import { renderChart, runHelm } from './harness/helm';
import { K8sObject, synthApp } from './harness/synth';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-derived-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function build(memory: string, maxConnections: number) {
  return (app: ReturnType<typeof Testing.app>) => {
    const chart = new Chart(app, 'derived', { namespace: 'data' });
    new PostgresCluster(chart, 'db', {
      database: 'app', user: 'app', maxConnections, storage: { size: '10Gi' },
      resources: { requests: { cpu: '500m', memory }, limits: { cpu: '2', memory: '64Gi' } },
    });
    return chart;
  };
}

const MEMORY_LINES = /^(shared_buffers|effective_cache_size|work_mem|maintenance_work_mem|max_connections) = .*$/gm;
const confLines = (objs: K8sObject[]) => {
  const cm = objs.find((o) => o.kind === 'ConfigMap' && typeof o.data?.['postgresql.conf'] === 'string')!;
  return (cm.data['postgresql.conf'] as string).match(MEMORY_LINES);
};

describe('Postgres memory settings: chart values vs the construct', () => {
  const app = Testing.app();
  build('16Gi', 200)(app);
  const chartDir = path.join(dir, 'chart');
  writeHelmChart(app, chartDir);

  const points: Array<[string, number]> = [['16Gi', 200], ['4Gi', 200], ['1000Mi', 100], ['3G', 50], ['64Gi', 1000], ['257Mi', 20], ['12884901888', 300]];
  it.each(points)('memory %s, max_connections %i: helm template renders what the construct synthesizes', async (memory, maxConnections) => {
    const plain = synthApp((a) => { build(memory, maxConnections)(a); });
    // Pool sizes are values of their own: set them as the construct derives them for this max_connections.
    const pool = poolerSizing({ maxConnections, poolerReplicas: 2 });
    const rendered = await renderChart(chartDir, 'rel', {
      namespace: 'data',
      values: {
        'db.resources.requests.memory': /^\d+$/.test(memory) ? Number(memory) : memory, 'db.maxConnections': maxConnections,
        'db.pooler.defaultPoolSize': pool.defaultPoolSize, 'db.pooler.reservePoolSize': pool.reservePoolSize, 'db.pooler.maxClientConnections': pool.maxClientConn,
      },
    });
    const want = confLines(plain);
    expect(want?.length).toBe(5);
    expect(confLines(rendered)).toEqual(want);
  });

  it('refuses, at render, a max_connections the memory request cannot give 1MB of work_mem, as the construct does', async () => {
    expect(() => synthApp((a) => { build('1Gi', 400)(a); })).toThrow(/work_mem/);
    const r = await runHelm(['template', 'rel', chartDir, '--namespace', 'data', '--set', 'db.maxConnections=400', '--set-string', 'db.resources.requests.memory=1Gi']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('db: maxConnections is too high for resources.requests.memory');
    expect(r.stderr).toContain('db.maxConnections = 400, db.resources.requests.memory = 1Gi');
  });

  it('accepts a lower max_connections once the pools are lowered with it (the minimum follows the pool values)', async () => {
    const [lowered, alone] = await Promise.all([
      runHelm(['template', 'rel', chartDir, '--namespace', 'data', '--set', 'db.maxConnections=40', '--set', 'db.pooler.defaultPoolSize=10', '--set', 'db.pooler.reservePoolSize=1', '--set', 'db.pooler.replicas=2']),
      runHelm(['template', 'rel', chartDir, '--namespace', 'data', '--set', 'db.maxConnections=40']),
    ]);
    expect(lowered.code, lowered.stderr).toBe(0);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/pooler\.replicas × \(pooler\.defaultPoolSize \+ pooler\.reservePoolSize\)/);
  });
});

describe('formulas evaluate the same in TypeScript and in Go templates', () => {
  const f = formula.min(formula.floor(formula.div(formula.sub('a', 0.5), formula.mul(3, 'b'))), formula.max('a', 7.25));
  it.each([[10, 1], [1000.75, 3], [3, 9], [1e6, 7]])('a=%d b=%d', async (a, b) => {
    const tpl = path.join(dir, 'formula');
    fs.mkdirSync(path.join(tpl, 'templates'), { recursive: true });
    fs.writeFileSync(path.join(tpl, 'Chart.yaml'), 'apiVersion: v2\nname: formula\nversion: 0.1.0\n');
    fs.writeFileSync(path.join(tpl, 'templates', `f-${a}-${b}.yaml`), `v: {{ ${goTemplate(f, { a: '.Values.a', b: '.Values.b' })} }}\nq: {{ ${goQuantityBytes('.Values.q')} | int64 }}\n`);
    const r = await runHelm(['template', 'x', tpl, '--show-only', `templates/f-${a}-${b}.yaml`, '--set-json', `a=${a}`, '--set', `b=${b}`, '--set-string', 'q=3Gi']);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(/v: (\S+)/.exec(r.stdout)![1])).toBe(evaluate(f, { a, b }));
    expect(Number(/q: (\S+)/.exec(r.stdout)![1])).toBe(3 * 2 ** 30);
  });

  it('memorySettings is MEMORY_FORMULAS evaluated', () => {
    const s = memorySettings(16 * 2 ** 30, 200);
    expect(s.sharedBuffersBytes / 2 ** 20).toBe(evaluate(MEMORY_FORMULAS.sharedBuffersMiB, { memoryMiB: 16384, maxConnections: 200 }));
    expect(s.workMemBytes / 2 ** 20).toBe(20);
    expect(s.maintenanceWorkMemBytes).toBe(2 ** 30);
  });
});
