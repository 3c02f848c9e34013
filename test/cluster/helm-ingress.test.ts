/**
 * The chart's `ingress.*` values (issue 17) before the real kube-apiserver (server-side dry run, strict field
 * validation, Pod Security "restricted"): the Ingress and NetworkPolicy every setting renders — defaults, every
 * Ingress on with hosts, paths, TLS, class and annotations of the operator's, every Ingress off — and, for every
 * example chart, each StatelessService's Ingress switched on at its default (example) host.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples';
import { writeHelmChart } from '../../lib/helm';
import { ingressApp } from '../apps/ingress';
import { ControlPlane, startControlPlane } from '../harness/control-plane';
import { ApiResources, judgeObjects } from '../harness/dry-run';
import { keyOf, renderChart } from '../harness/helm';

let cp: ControlPlane;
let api: ApiResources;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-ingress-server-'));

beforeAll(async () => {
  cp = await startControlPlane();
  api = await ApiResources.discover(cp);
});

afterAll(async () => {
  await cp?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ingress values judged by the API server', () => {
  const app = Testing.app();
  ingressApp(app);
  const chartDir = path.join(dir, 'shop');
  const chart = writeHelmChart(app, chartDir);
  const roots = chart.model.switches.filter((s) => s.path.endsWith('.ingress.enabled')).map((s) => s.path.split('.')[0]);
  const everyOn: Record<string, unknown> = Object.fromEntries(roots.flatMap((r, i) => [
    [`${r}.ingress.enabled`, true],
    [`${r}.ingress.className`, 'nginx'],
    [`${r}.ingress.annotations`, { 'cert-manager.io/cluster-issuer': 'letsencrypt' }],
    [`${r}.ingress.hosts`, [
      { host: `${r}.shop.example.com`, paths: [{ path: '/v1', pathType: 'Prefix' }, { path: '/healthz', pathType: 'Exact' }] },
      { host: `*.${r}.example.org`, paths: [{ path: '/.well-known/(.*)', pathType: 'ImplementationSpecific' }] },
    ]],
    [`${r}.ingress.tls`, [{ secretName: `cert-${i}`, hosts: [`${r}.shop.example.com`, `*.${r}.example.org`] }]],
  ]));
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['defaults', {}, 1],
    ['every Ingress on, with hosts, paths, TLS, class and annotations', everyOn, roots.length],
    ['every Ingress off', Object.fromEntries(roots.map((r) => [`${r}.ingress.enabled`, false])), 0],
  ];
  it.each(cases)('%s', async (what, values, ingresses) => {
    const namespace = `ingress-${cases.findIndex((c) => c[0] === what)}`;
    const objects = await renderChart(chartDir, 'r1', { namespace, values });
    expect(objects.filter((o) => o.kind === 'Ingress').length).toBe(ingresses);
    await cp.createNamespace(namespace, { podSecurity: 'restricted' });
    const result = await judgeObjects(cp, api, objects, namespace);
    expect(result.problems).toEqual([]);
  });

  it.each(Object.keys(EXAMPLES))('example %s: every StatelessService\'s Ingress switched on at its default host', async (name) => {
    const exampleApp = Testing.app();
    EXAMPLES[name](exampleApp);
    const exampleDir = path.join(dir, name);
    const exampleChart = writeHelmChart(exampleApp, exampleDir);
    const off = exampleChart.model.switches.filter((s) => s.path.endsWith('.ingress.enabled') && !s.default);
    const namespace = `ingress-${name.toLowerCase()}`;
    const objects = await renderChart(exampleDir, 'r1', { namespace, values: Object.fromEntries(off.map((s) => [s.path, true])) });
    const judged = objects.filter((o) => o.kind === 'Ingress' || o.kind === 'NetworkPolicy');
    for (const s of off) expect(judged.map(keyOf), s.path).toContain(`Ingress/r1-${s.objects[0].split('/')[1]}`);
    await cp.createNamespace(namespace, { podSecurity: 'restricted' });
    const result = await judgeObjects(cp, api, judged, namespace);
    expect(result.problems).toEqual([]);
  });
});
