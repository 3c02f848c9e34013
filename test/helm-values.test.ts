/**
 * The conventional values and switches the chart writer adds to every workload (lib/helm/conventional.ts), on real
 * example charts with the real helm: each switch removes exactly its objects, `replicas` against the autoscaler and
 * the live count, the global image values, and the cross-value checks `helm lint --strict` catches.
 * (The per-value `--set` table of the pod values runs in the battery of every example: test/helm.test.ts.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples';
import { HelmChart, writeHelmChart } from '../lib/helm';
import { podTemplatePath } from '../lib/helm/conventional';
import { KUBE_VERSION, describeHelmChart, diffPaths, keyOf, renderChart, runHelm, setFlag, startFakeKubeApi } from './harness/helm';
import { workloadPropsApp } from './apps/workload-props';
import type { K8sObject } from './harness/synth';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-values-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function chartOf(name: string): { chart: HelmChart; chartDir: string; servedApis: string[] } {
  const app = Testing.app();
  EXAMPLES[name](app);
  const chartDir = path.join(dir, name);
  const chart = writeHelmChart(app, chartDir);
  return { chart, chartDir, servedApis: chart.model.crdToggles.flatMap((t) => t.apiVersions.flatMap((a) => ['--api-versions', a])) };
}

const release = 'vrel';
/** Generated Secrets get new random values in every render. */
const stable = (objs: K8sObject[]) => objs.map((o) => (o.kind === 'Secret' ? { ...o, data: '<random>' } : o));
const byKey = (objs: K8sObject[]) => new Map(stable(objs).map((o) => [keyOf(o), o]));
const rendered = (plain: string) => `${plain.split('/')[0]}/${release}-${plain.split('/').slice(1).join('/')}`;
const pods = (objs: K8sObject[]) => objs.flatMap((o) => {
  const p = podTemplatePath(o.kind);
  return p ? [{ o, pod: p.reduce((n, k) => n?.[k], o as K8sObject).spec as K8sObject }] : [];
});

describe.each(['orders', 'media'])('conventional values of the %s chart', (name) => {
  const { chart, chartDir, servedApis } = chartOf(name);
  const namespace = chart.model.namespace ?? 'default';
  const switches = chart.model.switches;
  let defaults: K8sObject[] = [];
  beforeAll(async () => {
    defaults = await renderChart(chartDir, release, { namespace, args: servedApis });
  });

  it('has a switch for every PDB, NetworkPolicy, autoscaler, Ingress and monitoring object of its constructs', () => {
    const switched = new Set(switches.filter((s) => s.default).flatMap((s) => s.objects));
    for (const o of chart.model.objects) {
      if (['PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'ScaledObject', 'Ingress', 'ServiceMonitor', 'PrometheusRule'].includes(o.kind)) {
        expect(switched.has(`${o.kind}/${o.name}`), `${o.kind}/${o.name}`).toBe(true);
      }
    }
    expect(switches.length).toBeGreaterThan(0);
  });

  it.each(switches.map((s) => [s.path, s] as const))('%s toggled: exactly its objects appear or disappear', async (_p, s) => {
    const toggled = await renderChart(chartDir, release, { namespace, values: { [s.path]: !s.default }, args: servedApis });
    const before = byKey(defaults);
    const after = byKey(toggled);
    const objects = new Set(s.objects.map(rendered));
    const [on, off] = s.default ? [before, after] : [after, before];
    for (const k of objects) {
      expect(on.has(k), `${k} with ${s.path} on`).toBe(true);
      expect(off.has(k), `${k} with ${s.path} off`).toBe(false);
    }
    const root = s.path.split('.')[0];
    // Fields of other objects the switch changes on purpose (ingress.enabled: the controller's NetworkPolicy peer).
    const also = (s.alsoChanges ?? []).map((f) => ({ key: rendered(`${f.kind}/${f.name}`), path: f.path }));
    const at = (o: K8sObject | undefined, p: readonly (string | number)[]) => p.reduce<K8sObject | undefined>((n, k) => n?.[k], o);
    for (const [k, o] of before) {
      if (objects.has(k)) continue;
      if (s.path.endsWith('serviceAccount.create') || s.path.endsWith('autoscaling.enabled')) continue; // checked below
      const changed = diffPaths(o, after.get(k)).filter((p) => !also.some((a) => a.key === k && a.path.every((x, i) => p[i] === x)));
      expect(changed, `${s.path} changed ${k}`).toEqual([]);
    }
    for (const a of also) expect(diffPaths(at(before.get(a.key), a.path), at(after.get(a.key), a.path)), `${s.path} left ${a.key} ${a.path.join('.')}`).not.toEqual([]);
    expect([...after.keys()].filter((k) => !before.has(k) && !objects.has(k)), root).toEqual([]);
  });

  it('serviceAccount.create makes a ServiceAccount with its annotations and runs the pods as it; name alone names yours', async () => {
    const sa = switches.find((s) => s.path.endsWith('.serviceAccount.create'))!;
    const root = sa.path.split('.')[0];
    const [created, named] = await Promise.all([
      renderChart(chartDir, release, { namespace, values: { [sa.path]: true, [`${root}.serviceAccount.annotations`]: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } }, args: servedApis }),
      renderChart(chartDir, release, { namespace, values: { [`${root}.serviceAccount.name`]: 'my-identity' }, args: servedApis }),
    ]);
    // Other ServiceAccounts (Patroni's, for its Kubernetes DCS) are there in every render; the switch adds this one.
    const account = created.find((o) => o.kind === 'ServiceAccount' && keyOf(o) === rendered(sa.objects[0]))!;
    expect(account).toBeDefined();
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' });
    expect(account.automountServiceAccountToken).toBe(false);
    expect(account.metadata.labels['app.kubernetes.io/instance']).toBe(release);
    const names = (objs: K8sObject[]) => pods(objs).filter(({ pod }) => pod.serviceAccountName !== undefined).map(({ o, pod }) => `${keyOf(o)}=${pod.serviceAccountName}`);
    expect(names(defaults).filter((n) => n.endsWith(account.metadata.name))).toEqual([]);
    const runAs = names(created).filter((n) => n.endsWith(`=${account.metadata.name}`));
    expect(runAs.length).toBeGreaterThan(0);
    expect(names(named).filter((n) => n.endsWith('=my-identity')).length).toBe(runAs.length);
    const accounts = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'ServiceAccount').map(keyOf).sort();
    expect(accounts(named)).toEqual(accounts(defaults));
    expect(accounts(created)).toEqual([...accounts(defaults), keyOf(account)].sort());
  });

  it('global.imageRegistry moves every image to the mirror; global.imagePullSecrets come first in every pod', async () => {
    const registry = 'mirror.example.internal:5000/cache';
    const objs = await renderChart(chartDir, release, { namespace, values: { 'global.imageRegistry': registry, 'global.imagePullSecrets': ['mirror-pull'] }, args: servedApis });
    const before = new Map(pods(defaults).map(({ o, pod }) => [keyOf(o), pod]));
    let images = 0;
    for (const { o, pod } of pods(objs)) {
      expect(pod.imagePullSecrets?.[0], keyOf(o)).toEqual({ name: 'mirror-pull' });
      const was = before.get(keyOf(o))!;
      for (const list of ['initContainers', 'containers']) {
        (pod[list] ?? []).forEach((c: K8sObject, i: number) => {
          const original: string = was[list][i].image;
          const first = original.split('/')[0];
          const path = original.includes('/') && /[.:]|^localhost$/.test(first) ? original.slice(first.length + 1) : original;
          expect(c.image, `${keyOf(o)} ${c.name}`).toBe(`${registry}/${path}`);
          images++;
        });
      }
    }
    expect(images).toBeGreaterThan(1);
  });
});

describe('replicas beside autoscaling.enabled (orders-api)', () => {
  const { chart, chartDir, servedApis } = chartOf('orders');
  const namespace = chart.model.namespace ?? 'default';
  const deployment = (objs: K8sObject[]) => objs.find((o) => keyOf(o) === `Deployment/${release}-orders-api`)!;
  const floor = (chart.values.ordersApi as { autoscaling: { minReplicas: number } }).autoscaling.minReplicas;

  it('install starts at the floor and ignores replicas; switched off, the HPA is gone and replicas is the count', async () => {
    const [on, onWithReplicas, off] = await Promise.all([
      renderChart(chartDir, release, { namespace, args: servedApis }),
      renderChart(chartDir, release, { namespace, values: { 'ordersApi.replicas': 7 }, args: servedApis }),
      renderChart(chartDir, release, { namespace, values: { 'ordersApi.replicas': 7, 'ordersApi.autoscaling.enabled': false }, args: servedApis }),
    ]);
    expect(deployment(on).spec.replicas).toBe(floor);
    expect(deployment(onWithReplicas).spec.replicas).toBe(floor);
    expect(on.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(true);
    expect(deployment(off).spec.replicas).toBe(7);
    expect(off.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('upgrade keeps the live count under the autoscaler, and sets replicas once it is off', async () => {
    const api = await startFakeKubeApi({}, { [`${release}-orders-api`]: 11 });
    try {
      const server = ['--dry-run=server', '--kube-apiserver', api.url];
      const [on, off] = await Promise.all([
        renderChart(chartDir, release, { namespace, values: { 'ordersApi.replicas': 7 }, args: server }),
        renderChart(chartDir, release, { namespace, values: { 'ordersApi.replicas': 7, 'ordersApi.autoscaling.enabled': false }, args: server }),
      ]);
      expect(deployment(on).spec.replicas).toBe(11);
      expect(deployment(off).spec.replicas).toBe(7);
    } finally {
      await api.close();
    }
  });
});

describe('checks across values that helm lint --strict catches (values.schema.json)', () => {
  const { chartDir } = chartOf('orders');
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['annotations on a ServiceAccount the chart does not create', { 'ordersApi.serviceAccount.annotations': { 'eks.amazonaws.com/role-arn': 'x' } }, /- ordersApi\.serviceAccount\.annotations: Must have at most 0 properties/],
    ['an env var with both value and valueFrom', { 'ordersApi.extraEnvVars': [{ name: 'X', value: '1', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }, /- ordersApi\.extraEnvVars\.0: Must not validate the schema \(not\)/],
    ['an env var the construct already sets', { 'ordersApi.extraEnvVars': [{ name: 'APP_MODE', value: 'worker' }] }, /- ordersApi\.extraEnvVars\.0\.name: Must not validate the schema \(not\)/],
    ['a pod label the construct sets (selectors depend on it)', { 'ordersApi.podLabels': { 'app.kubernetes.io/name': 'x' } }, /- ordersApi\.podLabels: Property name of "app\.kubernetes\.io\/name" does not match/],
    ['an invalid label value', { 'ordersDb.podLabels': { team: 'not valid!' } }, /- ordersDb\.podLabels\.team: Does not match pattern/],
    ['an unknown pull policy', { 'ordersDb.image.pullPolicy': 'Sometimes' }, /- ordersDb\.image\.pullPolicy: ordersDb\.image\.pullPolicy must be one of the following/],
    ['a pull secret twice', { 'ordersApi.imagePullSecrets': ['a', 'a'] }, /- ordersApi\.imagePullSecrets: array items\[0,1\] must be unique/],
    // A DNS-1123 subdomain, as the API server checks it: dots only between labels.
    ['a pull secret name with an empty label', { 'ordersApi.imagePullSecrets': ['a..b'] }, /- ordersApi\.imagePullSecrets\.0: Does not match pattern/],
    ['a ServiceAccount name ending in a dot', { 'ordersApi.serviceAccount.name': 'migrator.' }, /- ordersApi\.serviceAccount\.name: Does not match pattern/],
    ['a registry with a scheme', { 'global.imageRegistry': 'https://mirror' }, /- global\.imageRegistry: Does not match pattern/],
    ['a switch that is not a boolean', { 'ordersApi.pdb.enabled': 'maybe' }, /- ordersApi\.pdb\.enabled: Invalid type\. Expected: boolean, given: string/],
    ['a negative replica count', { 'ordersApi.replicas': -1 }, /- ordersApi\.replicas: Must be greater than or equal to 0/],
  ];
  const lint = (values: Record<string, unknown>) => runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, chartDir, ...Object.entries(values).flatMap(([p, v]) => setFlag(p, v))]);

  it.each(cases)('refuses %s, naming the values path', async (_what, values, message) => {
    const r = await lint(values);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(message);
  });

  it('passes with every switch off, and with every pod value set', async () => {
    const r = await lint({
      'ordersApi.autoscaling.enabled': false, 'ordersApi.pdb.enabled': false, 'ordersApi.networkPolicy.enabled': false,
      'ordersApi.ingress.enabled': false, 'ordersApi.metrics.enabled': false, 'ordersDb.pdb.enabled': false,
      'ordersApi.serviceAccount.create': true, 'ordersApi.serviceAccount.annotations': { 'example.com/role': 'x' },
      'ordersApi.extraEnvVars': [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      'ordersApi.extraEnvVarsSecret': 'extra', 'ordersApi.podLabels': { team: 'orders' }, 'ordersDb.tolerations': [{ key: 'db', operator: 'Exists' }],
      'global.imageRegistry': 'mirror.example.internal', 'global.imagePullSecrets': ['pull'],
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

// Defaults come from the constructs' own pod props (pull secrets, labels, annotations, extra env, ServiceAccounts):
// the full chart battery on the app that sets every one of them.
describeHelmChart('every pod prop (test/apps/workload-props.ts)', (app) => workloadPropsApp(app));
