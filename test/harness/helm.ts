/**
 * Chart tests with the real helm: `describeHelmChart(title, build)` writes the chart of any cdk8s app and runs the
 * whole battery on it — lint, default render vs plain synth, every knob, invalid values, two releases, hooks, CRD
 * toggles and generated secrets. Construct tests call it once per chart as they land.
 *
 * helm calls cost ~100-300 ms each: they run concurrently (HELM_CONCURRENCY, default max(2, CPUs)), and the invalid
 * values are batched (helm's schema check reports every violation of a render at once).
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import type { App } from 'cdk8s';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelmChart, HelmChartOptions, ValueInfo, writeHelmChart } from '../../lib/helm';
import { expectLintClean } from './kubelint';
import { expectValidObjects } from './schema';
import { K8sObject, synthApp } from './synth';

/** Kubernetes version the charts are rendered for: the API the constructs are validated against. */
export const KUBE_VERSION = '1.28.0';
const CONCURRENCY = Number(process.env.HELM_CONCURRENCY) || Math.max(2, os.cpus().length);

let helmPath: string | undefined;
/** The helm binary: $HELM_BIN, else the one scripts/setup-tools.sh builds into $(go env GOPATH)/bin, else PATH. */
export function helmBinary(): string {
  if (helmPath) return helmPath;
  const candidates = [process.env.HELM_BIN];
  try {
    candidates.push(path.join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin', 'helm'));
  } catch {
    // no Go toolchain: fall back to PATH
  }
  helmPath = candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? 'helm';
  return helmPath;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let kubeconfig: string | undefined;
/** An empty kubeconfig only we can read: helm never reaches a real cluster, and doesn't warn about permissions. */
function emptyKubeconfig(): string {
  if (!kubeconfig) {
    kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-kube-')), 'config');
    fs.writeFileSync(kubeconfig, '', { mode: 0o600 });
  }
  return kubeconfig;
}

let running = 0;
const waiting: Array<() => void> = [];

/** Runs helm (at most CONCURRENCY at a time); never rejects: check `code`. */
export async function runHelm(args: readonly string[]): Promise<HelmResult> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  const started = performance.now();
  try {
    return await new Promise<HelmResult>((resolve) => {
      execFile(helmBinary(), [...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: emptyKubeconfig(), HELM_CACHE_HOME: os.tmpdir() } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: performance.now() - started }));
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** A value set with the flag that keeps its type: `--set` for numbers and booleans, `--set-string`, `--set-json`. */
export function setFlag(valuesPath: string, value: unknown): string[] {
  if (typeof value === 'string') return ['--set-string', `${valuesPath}=${value.replace(/[\\,]/g, '\\$&')}`];
  // --set parses integers and booleans only: a fraction would arrive as a string.
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) return ['--set', `${valuesPath}=${value}`];
  return ['--set-json', `${valuesPath}=${JSON.stringify(value)}`];
}

export interface RenderOptions {
  readonly namespace?: string;
  /** Values by dotted path, each passed with the flag that keeps its type. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Raw extra arguments (e.g. `--api-versions`, `--set crds.x=auto`). */
  readonly args?: readonly string[];
}

export function templateArgs(chartDir: string, release: string, opts: RenderOptions = {}): string[] {
  return [
    'template', release, chartDir, '--kube-version', KUBE_VERSION,
    ...(opts.namespace ? ['--namespace', opts.namespace] : []),
    ...Object.entries(opts.values ?? {}).flatMap(([p, v]) => setFlag(p, v)),
    ...(opts.args ?? []),
  ];
}

/** `helm template`, parsed; throws with helm's message when it fails. */
export async function renderChart(chartDir: string, release: string, opts: RenderOptions = {}): Promise<K8sObject[]> {
  const r = await runHelm(templateArgs(chartDir, release, opts));
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return (yaml.loadAll(text) as unknown[]).filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

export function keyOf(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

type Path = Array<string | number>;

/** Paths (in `a` and `b`) where two JSON values differ; an array of another length counts as one change. */
export function diffPaths(a: unknown, b: unknown, at: Path = [], out: Path[] = []): Path[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) out.push(at);
      else a.forEach((x, i) => diffPaths(x, b[i], [...at, i], out));
    } else {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffPaths(a[k], b[k], [...at, k], out);
    }
  } else if (!isDeepStrictEqual(a, b)) {
    out.push(at);
  }
  return out;
}

function getPath(o: unknown, p: readonly (string | number)[]): unknown {
  return p.reduce<unknown>((node, k) => (node as Record<string | number, unknown> | undefined)?.[k], o);
}

const isPrefix = (p: readonly (string | number)[], of: readonly (string | number)[]) => p.length <= of.length && p.every((k, i) => k === of[i]);

const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance'];

/**
 * A rendered or plain object without what Helm adds or changes on purpose: the release-name prefix, Helm's labels
 * (and the instance label it sets), and hook annotations (Argo CD's in plain manifests, Helm's in the chart).
 */
export function withoutHelmDifferences(o: K8sObject, release?: string): K8sObject {
  const strip = (node: unknown, p: string[]): unknown => {
    if (typeof node === 'string') return release ? node.split(`${release}-`).join('') : node;
    if (Array.isArray(node)) {
      // A chart's migration hook waits for its in-chart database (lib/helm/migration-order.ts); plain manifests can't.
      const waitsOnlyInChart = p[p.length - 1] === 'initContainers' && o.metadata?.annotations?.['helm.sh/hook'];
      const kept = node.filter((x) => !(waitsOnlyInChart && typeof x?.name === 'string' && x.name.startsWith('wait-for-')));
      if (waitsOnlyInChart && kept.length === 0) return undefined;
      return kept
        .filter((x) => !(p[p.length - 1] === 'matchExpressions' && x?.key === 'app.kubernetes.io/instance'))
        .map((x, i) => strip(x, [...p, String(i)]));
    }
    if (node === null || typeof node !== 'object') return node;
    const key = p[p.length - 1];
    const labelMap = key === 'labels' || key === 'matchLabels' || (o.kind === 'Service' && p.join('.') === 'spec.selector');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (labelMap && HELM_LABELS.includes(k)) continue;
      if (key === 'annotations' && (k.startsWith('helm.sh/hook') || k.startsWith('argocd.argoproj.io/hook') || k === 'argocd.argoproj.io/sync-wave')) continue;
      out[k] = strip(v, [...p, k]);
    }
    if (key === 'annotations' && Object.keys(out).length === 0) return undefined;
    // An object without labels of its own gets Helm's: nothing is left once they are stripped.
    if (key === 'labels' && p.length === 2 && Object.keys(out).length === 0) return undefined;
    return out;
  };
  return JSON.parse(JSON.stringify(strip(o, [])));
}

/** Label selectors of an object (matchLabels anywhere, a Service's selector), for cross-release checks. */
function selectorsOf(o: K8sObject): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const visit = (node: unknown, p: string[]) => {
    if (node === null || typeof node !== 'object') return;
    if (p[p.length - 1] === 'matchLabels' || (o.kind === 'Service' && p.join('.') === 'spec.selector')) { out.push(node as Record<string, string>); return; }
    for (const [k, v] of Object.entries(node)) visit(v, [...p, k]);
  };
  visit(o, []);
  return out;
}

function podLabelsOf(o: K8sObject): Array<Record<string, string>> {
  const sets = [o.metadata?.labels, o.spec?.template?.metadata?.labels, o.spec?.jobTemplate?.spec?.template?.metadata?.labels];
  return sets.filter((l): l is Record<string, string> => !!l);
}

/**
 * Fields by which one object names another, listed kind by kind (independently of the chart writer's own rules):
 * the chart must point each one at the object of the same release, or leave it alone when it names an object the
 * chart doesn't create.
 */
export function objectReferences(o: K8sObject): Array<{ path: Path; kind: string; name: string }> {
  const out: Array<{ path: Path; kind: string; name: string }> = [];
  const add = (p: Path, kind: string) => {
    const name = getPath(o, p);
    if (typeof name === 'string') out.push({ path: p, kind, name });
  };
  const spec = o.spec ?? {};
  if (spec.scaleTargetRef) add(['spec', 'scaleTargetRef', 'name'], spec.scaleTargetRef.kind ?? 'Deployment');
  if (o.kind === 'StatefulSet') add(['spec', 'serviceName'], 'Service');
  if (o.kind === 'Ingress') {
    if (spec.defaultBackend?.service) add(['spec', 'defaultBackend', 'service', 'name'], 'Service');
    (spec.rules ?? []).forEach((r: K8sObject, i: number) => (r.http?.paths ?? []).forEach((_: unknown, j: number) => add(['spec', 'rules', i, 'http', 'paths', j, 'backend', 'service', 'name'], 'Service')));
    (spec.tls ?? []).forEach((_: unknown, i: number) => add(['spec', 'tls', i, 'secretName'], 'Secret'));
  }
  if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
    add(['roleRef', 'name'], o.roleRef.kind);
    (o.subjects ?? []).forEach((sub: K8sObject, i: number) => add(['subjects', i, 'name'], sub.kind));
  }
  if (o.kind === 'ScaledObject' || o.kind === 'ScaledJob') {
    (spec.triggers ?? []).forEach((t: K8sObject, i: number) => t.authenticationRef && add(['spec', 'triggers', i, 'authenticationRef', 'name'], t.authenticationRef.kind ?? 'TriggerAuthentication'));
  }
  const podPath: Path | undefined = o.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template', 'spec']
    : ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(o.kind) ? ['spec', 'template', 'spec'] : undefined;
  const pod = podPath && (getPath(o, podPath) as K8sObject | undefined);
  if (podPath && pod) {
    add([...podPath, 'serviceAccountName'], 'ServiceAccount');
    (pod.imagePullSecrets ?? []).forEach((_: unknown, i: number) => add([...podPath, 'imagePullSecrets', i, 'name'], 'Secret'));
    (pod.volumes ?? []).forEach((v: K8sObject, i: number) => {
      const at = [...podPath, 'volumes', i];
      if (v.configMap) add([...at, 'configMap', 'name'], 'ConfigMap');
      if (v.secret) add([...at, 'secret', 'secretName'], 'Secret');
      if (v.persistentVolumeClaim) add([...at, 'persistentVolumeClaim', 'claimName'], 'PersistentVolumeClaim');
      (v.projected?.sources ?? []).forEach((src: K8sObject, j: number) => {
        if (src.configMap) add([...at, 'projected', 'sources', j, 'configMap', 'name'], 'ConfigMap');
        if (src.secret) add([...at, 'projected', 'sources', j, 'secret', 'name'], 'Secret');
      });
    });
    for (const list of ['containers', 'initContainers'] as const) {
      (pod[list] ?? []).forEach((c: K8sObject, i: number) => {
        const at = [...podPath, list, i];
        (c.env ?? []).forEach((e: K8sObject, j: number) => {
          if (e.valueFrom?.secretKeyRef) add([...at, 'env', j, 'valueFrom', 'secretKeyRef', 'name'], 'Secret');
          if (e.valueFrom?.configMapKeyRef) add([...at, 'env', j, 'valueFrom', 'configMapKeyRef', 'name'], 'ConfigMap');
        });
        (c.envFrom ?? []).forEach((e: K8sObject, j: number) => {
          if (e.secretRef) add([...at, 'envFrom', j, 'secretRef', 'name'], 'Secret');
          if (e.configMapRef) add([...at, 'envFrom', j, 'configMapRef', 'name'], 'ConfigMap');
        });
      });
    }
  }
  return out;
}

/** A valid value other than the default, for the knob table: the declared example, else one derived from the schema. */
export function alternativeValue(v: ValueInfo, all: readonly ValueInfo[]): unknown {
  if (v.example !== undefined) return v.example;
  const s = v.schema;
  const upper = v.lessOrEqualTo ? all.find((o) => o.path === v.lessOrEqualTo)?.default : undefined;
  const lower = all.find((o) => o.lessOrEqualTo === v.path)?.default;
  const withinBounds = (x: number) => (s.minimum === undefined || x >= s.minimum) && (s.maximum === undefined || x <= s.maximum)
    && (typeof upper !== 'number' || x <= upper) && (typeof lower !== 'number' || x >= lower);
  if (Array.isArray(s.enum)) {
    const other = s.enum.find((e) => e !== v.default);
    if (other !== undefined) return other;
  }
  switch (s.type) {
    case 'integer':
    case 'number': {
      const d = v.default as number;
      const candidates = [d + 1, d - 1, d + 2, d - 2, d * 2, d / 2, d + 0.1, d - 0.1].filter((x) => s.type === 'number' || Number.isInteger(x));
      const hit = candidates.find((x) => x !== d && withinBounds(x));
      if (hit === undefined) throw new Error(`${v.path}: no alternative value within its schema; declare an example`);
      return hit;
    }
    case 'boolean': return !v.default;
    case 'string': {
      const d = v.default as string;
      const q = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(d);
      const candidates = q
        ? [`${Number(q[1]) * (upper !== undefined ? 0.5 : 2)}${q[2]}`, `${Number(q[1]) * 2}${q[2]}`]
        : [`alt-${d}`, `${d}-alt`, `${d}alt`, 'alt'];
      const ok = (x: string) => (s.pattern === undefined || new RegExp(s.pattern).test(x)) && !(s.not?.enum ?? []).includes(x)
        && (s.maxLength === undefined || x.length <= s.maxLength) && x !== d;
      const hit = candidates.find(ok);
      if (hit === undefined) throw new Error(`${v.path}: no alternative string matches ${s.pattern}; declare an example`);
      return hit;
    }
    default:
      throw new Error(`${v.path}: ${s.type} values need a declared example for the knob table`);
  }
}

/** Every value at another valid value at once (a value whose schema allows only its default keeps it). */
export function changedValues(values: readonly ValueInfo[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    try {
      out[v.path] = alternativeValue(v, values);
    } catch {
      // e.g. the development tier's single pooler: the pool budget allows exactly one
    }
    // A ServiceAccount name of your own must exist: let the chart create it (serviceAccount.create).
    if (v.path.endsWith('.serviceAccount.name')) out[v.path.replace(/name$/, 'create')] = true;
  }
  return out;
}

export interface InvalidCase {
  readonly path: string;
  readonly value: unknown;
  /** What helm's schema check says, e.g. "Must be greater than or equal to 1". */
  readonly message: RegExp;
}

/** Values helm must reject through values.schema.json, several per knob. */
export function invalidCases(v: ValueInfo): InvalidCase[] {
  const s = v.schema;
  const out: InvalidCase[] = [];
  if (s.type === 'integer' || s.type === 'number') {
    if (s.minimum !== undefined) out.push({ path: v.path, value: s.minimum - 1, message: /greater than or equal to/ });
    if (s.maximum !== undefined) out.push({ path: v.path, value: s.maximum + 1, message: /less than or equal to/ });
    // A nullable value's type is listed as [integer,null].
    out.push({ path: v.path, value: 'lots', message: /Invalid type\. Expected: \[?(integer|number)(,null\])?, given: string/ });
    if (s.type === 'integer') out.push({ path: v.path, value: 2.5, message: /Invalid type\. Expected: \[?integer(,null\])?, given: number/ });
  } else if (s.type === 'string') {
    // Strings that also take numbers (quantities, KEDA targets) refuse a non-positive one instead.
    if (s.numbers) out.push({ path: v.path, value: -1, message: /greater than (or equal to )?[01]/ });
    else out.push({ path: v.path, value: 12345, message: /Invalid type\. Expected: string, given: integer/ });
    if (s.pattern) {
      const bad = [' has space', 'UPPER CASE!', '::@@', '-', 'a'.repeat(300)].find((x) => !new RegExp(s.pattern!).test(x));
      if (bad) out.push({ path: v.path, value: bad, message: /Does not match pattern/ });
    }
    for (const refused of s.not?.enum ?? []) out.push({ path: v.path, value: refused, message: /Must not validate the schema \(not\)/ });
  } else if (s.type === 'boolean') {
    out.push({ path: v.path, value: 'maybe', message: /Invalid type\. Expected: boolean, given: string/ });
  }
  if (Array.isArray(s.enum) && s.type !== 'boolean') out.push({ path: v.path, value: 'not-a-member', message: /must be one of the following/ });
  return out;
}

/**
 * A loopback stand-in for the Kubernetes API that answers Secret, Deployment and ConfigMap lookups (Deployments by
 * name with their live replica count, ConfigMaps by name with their annotations), for `helm template --dry-run=server`.
 */
export async function startFakeKubeApi(
  secrets: Record<string, Record<string, string>>, deployments: Record<string, number> = {}, configMaps: Record<string, Record<string, string>> = {},
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    requests.push(`${req.method} ${url}`);
    const reply = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url === '/version') return reply(200, { major: '1', minor: '28', gitVersion: `v${KUBE_VERSION}` });
    if (url === '/api') return reply(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (url === '/apis') {
      const apps = { groupVersion: 'apps/v1', version: 'v1' };
      return reply(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [apps], preferredVersion: apps }] });
    }
    if (url === '/apis/apps/v1') {
      return reply(200, { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['get', 'list'] }] });
    }
    const d = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url);
    if (d && deployments[d[2]] !== undefined) {
      return reply(200, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: d[2], namespace: d[1] }, spec: { replicas: deployments[d[2]] } });
    }
    if (url === '/api/v1') {
      return reply(200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [
        { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get', 'list'] },
        { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list'] },
      ] });
    }
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(url);
    if (cm && configMaps[cm[2]]) {
      return reply(200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm[2], namespace: cm[1], annotations: configMaps[cm[2]] } });
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(url);
    if (m && secrets[m[2]]) {
      const data = Object.fromEntries(Object.entries(secrets[m[2]]).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      return reply(200, { apiVersion: 'v1', kind: 'Secret', metadata: { name: m[2], namespace: m[1] }, type: 'Opaque', data });
    }
    return reply(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface HelmBatteryOptions {
  /** Chart metadata passed to the writer. */
  readonly chart?: HelmChartOptions;
}

/**
 * Registers the full chart battery for the app `build` makes: call it at the top level of a test file.
 */
export function describeHelmChart(title: string, build: (app: App) => unknown, options: HelmBatteryOptions = {}): void {
  describe(`Helm chart: ${title}`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-helm-'));
    let plain: K8sObject[] = [];
    const chart: HelmChart = writeHelmChart(buildApp(build), path.join(dir, 'chart'), options.chart);
    const chartDir = path.join(dir, 'chart');
    const model = chart.model;
    const namespace = model.namespace ?? 'default';
    const release = 'zrel';
    const other = 'yrel';
    const version = options.chart?.version ?? '0.1.0';
    /** The default `crds.*` is "auto": render as on a cluster that serves every optional API, to compare with the synth. */
    const servedApis = model.crdToggles.flatMap((t) => t.apiVersions.flatMap((a) => ['--api-versions', a]));
    const secretNames = new Set(model.generatedSecrets.map((s) => `Secret/${s.name}`));
    const renderedKey = (kind: string, name: string) => `${kind}/${release}-${name}`;
    const generatedKeys = new Set(model.generatedSecrets.map((s) => renderedKey('Secret', s.name)));
    /** Generated Secrets hold new random values in every render: blank them for comparisons. */
    const stable = (objs: K8sObject[]) => objs.map((o) => (generatedKeys.has(keyOf(o))
      ? { ...o, data: Object.fromEntries(Object.keys(o.data ?? {}).map((k) => [k, '<random>'])) } : o));

    let defaults: K8sObject[] = [];
    let defaultsByKey = new Map<string, K8sObject>();
    const knobRenders = new Map<string, { value: unknown; result: HelmResult }>();
    const timings: string[] = [];

    beforeAll(async () => {
      plain = synthApp((app) => { build(app); });
      const started = performance.now();
      defaults = await renderChart(chartDir, release, { namespace, args: servedApis });
      defaultsByKey = new Map(stable(defaults).map((o) => [keyOf(o), o]));
      const knobStart = performance.now();
      await Promise.all(model.values.map(async (v) => {
        const value = alternativeValue(v, model.values);
        knobRenders.set(v.path, { value, result: await runHelm(templateArgs(chartDir, release, { namespace, values: { [v.path]: value }, args: servedApis })) });
      }));
      const knobMs = performance.now() - knobStart;
      timings.push(`default render ${Math.round(knobStart - started)} ms`, `${model.values.length} knob renders in ${(knobMs / 1000).toFixed(2)} s (concurrency ${CONCURRENCY})`);
    });

    afterAll(() => {
      console.log(`[helm] ${title}: ${timings.join(', ')}`);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('passes helm lint --strict', async () => {
      const r = await runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, chartDir]);
      timings.push(`lint ${Math.round(r.ms)} ms`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    it('writes Chart.yaml, values, schema, helpers, NOTES and a README listing every value', () => {
      const chartYaml = yaml.load(chart.files.get('Chart.yaml')!) as Record<string, string>;
      expect(chartYaml).toMatchObject({ apiVersion: 'v2', name: model.chartName, version, kubeVersion: '>=1.28.0-0' });
      expect(yaml.load(chart.files.get('values.yaml')!)).toEqual(chart.values);
      const schema = JSON.parse(chart.files.get('values.schema.json')!);
      expect(schema.additionalProperties).toBe(false);
      for (const f of ['templates/_helpers.tpl', 'templates/NOTES.txt', 'README.md']) expect(chart.files.has(f), f).toBe(true);
      for (const v of model.values) expect(chart.files.get('README.md')).toContain(`| \`${v.path}\` |`);
    });

    it('renders, with default values, the objects of the plain synth (apart from release prefixes and Helm labels)', () => {
      // Generated Secrets exist only in the chart: plain manifests leave them to the user.
      const rendered = defaults.filter((o) => !secretNames.has(`${o.kind}/${o.metadata.name.slice(release.length + 1)}`));
      const normalize = (objs: K8sObject[], rel?: string) => new Map(objs.map((o) => {
        const n = withoutHelmDifferences(o, rel);
        return [keyOf(n), n] as const;
      }));
      const want = normalize(plain);
      const got = normalize(rendered, release);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [key, o] of want) expect(got.get(key), key).toEqual(o);
    });

    it('names every object <release>-<name> in the release namespace, with Helm labels and the release as instance', () => {
      for (const o of defaults) {
        expect(o.metadata.name.startsWith(`${release}-`), keyOf(o)).toBe(true);
        if (model.namespace) expect(o.metadata.namespace, keyOf(o)).toBe(namespace);
        expect(o.metadata.labels, keyOf(o)).toMatchObject({
          'helm.sh/chart': `${model.chartName}-${version}`, 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': release,
        });
        for (const sel of selectorsOf(o)) if ('app.kubernetes.io/instance' in sel) expect(sel['app.kubernetes.io/instance'], keyOf(o)).toBe(release);
      }
    });

    it('keeps every reference between objects inside the release, Secrets only you create as <release>-<name>, and references to your other objects as they are', () => {
      const inChart = new Set([...plain.map(keyOf), ...secretNames]);
      const userSecrets = new Set(model.externalSecrets.map((s) => s.name));
      const renderedKeys = new Set(defaults.map(keyOf));
      let checked = 0;
      for (const p of plain) {
        const r = defaultsByKey.get(renderedKey(p.kind, p.metadata.name));
        expect(r, keyOf(p)).toBeDefined();
        for (const ref of objectReferences(p)) {
          const where = `${keyOf(p)} ${ref.path.join('.')} → ${ref.kind}/${ref.name}`;
          if (inChart.has(`${ref.kind}/${ref.name}`)) {
            expect(getPath(r, ref.path), where).toBe(`${release}-${ref.name}`);
            expect(renderedKeys.has(renderedKey(ref.kind, ref.name)), `${where}: missing from the render`).toBe(true);
            checked++;
          } else if (ref.kind === 'Secret' && userSecrets.has(ref.name)) {
            // A Secret only the user can create: release-scoped too (`<release>-<name>`, issue 20).
            expect(getPath(r, ref.path), where).toBe(`${release}-${ref.name}`);
          } else {
            expect(getPath(r, ref.path), where).toBe(ref.name);
          }
        }
      }
      timings.push(`${checked} in-release references`);
    });

    it('renders objects that pass the strict schemas and the kube-linter checks', () => {
      expectValidObjects(defaults);
      expectLintClean(defaults);
    });

    it('lets two releases share a namespace: no shared names, no selector reaching the other release', async () => {
      const second = await renderChart(chartDir, other, { namespace, args: servedApis });
      const names = new Set(defaults.map(keyOf));
      for (const o of second) expect(names.has(keyOf(o)), `${keyOf(o)} exists in both releases`).toBe(false);
      for (const [a, b] of [[defaults, second], [second, defaults]]) {
        for (const o of a) {
          for (const sel of selectorsOf(o)) {
            for (const target of b) {
              for (const labels of podLabelsOf(target)) {
                const selects = Object.entries(sel).every(([k, v]) => labels[k] === v);
                expect(selects, `${keyOf(o)} selects ${keyOf(target)} of the other release`).toBe(false);
              }
            }
          }
        }
      }
    });

    const knobTable = model.values.map((v) => [v.path, v] as const);
    if (knobTable.length > 0) it.each(knobTable)('--set %s changes exactly the fields it targets', (_p, v) => {
      const { value, result } = knobRenders.get(v.path)!;
      expect(result.code, `helm rejected ${v.path}=${JSON.stringify(value)}: ${result.stderr}`).toBe(0);
      const changed = stable(parseManifests(result.stdout));
      expect(changed.map(keyOf).sort()).toEqual([...defaultsByKey.keys()].sort());
      const expected = [...v.targets, ...v.alsoRead].map((t) => ({ key: renderedKey(t.kind, t.name), path: t.path, exact: t.exact }));
      expect(expected.length, `${v.path} targets nothing`).toBeGreaterThan(0);
      const changes = changed.flatMap((o) => diffPaths(defaultsByKey.get(keyOf(o)), o).map((p) => ({ key: keyOf(o), path: p })));
      for (const c of changes) {
        const covered = expected.some((e) => e.key === c.key && (isPrefix(e.path, c.path) || isPrefix(c.path, e.path)));
        expect(covered, `${v.path}=${JSON.stringify(value)} also changed ${c.key} ${c.path.join('.')}`).toBe(true);
      }
      for (const e of expected) {
        const hit = changes.some((c) => c.key === e.key && (isPrefix(e.path, c.path) || isPrefix(c.path, e.path)));
        expect(hit, `${v.path}=${JSON.stringify(value)} did not change ${e.key} ${e.path.join('.')}`).toBe(true);
        if (e.exact) {
          const o = changed.find((x) => keyOf(x) === e.key);
          expect(getPath(o, e.path), `${e.key} ${e.path.join('.')}`).toEqual(value);
        }
      }
    });

    it('rejects invalid values through values.schema.json, naming the values path', async () => {
      const cases = model.values.flatMap(invalidCases);
      // Round i sets the i-th invalid value of every knob: each path appears once per render, so each error is its own.
      const rounds: InvalidCase[][] = [];
      for (const v of model.values) invalidCases(v).forEach((c, i) => (rounds[i] ??= []).push(c));
      const roots = [...new Set(model.values.map((v) => v.path.split('.')[0]))];
      const nested = model.values.find((v) => v.path.split('.').length > 2);
      const unknown: Record<string, unknown> = { notAValue: 1, ...Object.fromEntries(roots.map((r) => [`${r}.notAKnob`, 1])) };
      if (nested) unknown[`${nested.path.split('.').slice(0, -1).join('.')}.notAKnob`] = 1;
      const [results, unknownResult] = await Promise.all([
        Promise.all(rounds.map((round) => runHelm(templateArgs(chartDir, release, { namespace, values: Object.fromEntries(round.map((c) => [c.path, c.value])), args: servedApis })))),
        runHelm(templateArgs(chartDir, release, { namespace, values: unknown })),
      ]);
      rounds.forEach((round, i) => {
        expect(results[i].code).not.toBe(0);
        const lines = results[i].stderr.split('\n');
        for (const c of round) {
          const line = lines.find((l) => l.startsWith(`- ${c.path}: `) && c.message.test(l));
          expect(line, `${c.path}=${JSON.stringify(c.value)} should fail with ${c.message}; helm said:\n${results[i].stderr}`).toBeDefined();
        }
      });
      expect(unknownResult.code).not.toBe(0);
      for (const p of Object.keys(unknown)) {
        const parent = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '(root)';
        const key = p.slice(p.lastIndexOf('.') + 1);
        expect(unknownResult.stderr, p).toContain(`- ${parent}: Additional property ${key} is not allowed`);
      }
      expect(cases.length).toBeGreaterThan(0);
    });

    const ordered = model.values.filter((v) => v.lessOrEqualTo).map((v) => [v.path, v] as const);
    if (ordered.length > 0) it.each(ordered)('fails with both paths named when %s exceeds its upper bound', async (_p, v) => {
      const upper = model.values.find((o) => o.path === v.lessOrEqualTo)!;
      const tooBig = typeof upper.default === 'number' ? upper.default + 1 : scaleQuantity(upper.default as string, 2);
      const r = await runHelm(templateArgs(chartDir, release, { namespace, values: { [v.path]: tooBig } }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${v.path} (${tooBig}) must be less than or equal to ${upper.path} (${upper.default})`);
    });

    it('renders migration hooks with Helm hook annotations, or none when no migration is declared', () => {
      const plainHooks = plain.filter((o) => o.metadata?.annotations?.['argocd.argoproj.io/hook']);
      const helmHooks = defaults.filter((o) => o.metadata?.annotations?.['helm.sh/hook']);
      expect(helmHooks.map(keyOf).sort()).toEqual(plainHooks.map((o) => renderedKey(o.kind, o.metadata.name)).sort());
      expect(helmHooks.map(keyOf).sort()).toEqual(model.hooks.map((h) => renderedKey(h.kind, h.name)).sort());
      for (const h of model.hooks) {
        const o = defaultsByKey.get(renderedKey(h.kind, h.name))!;
        const plainHook = plainHooks.find((p) => p.kind === h.kind && p.metadata.name === h.name)!;
        // Argo CD: a hook that needs objects of the plain manifests (a database it waits for, a ServiceAccount,
        // ConfigMap or Secret its pod references) is a Sync hook in wave 1, else PreSync: the judgement that makes the
        // Helm hook post-install, less the Secrets only the user creates (in plain manifests they exist before a sync).
        const afterWaveZero = h.dependsOn.some((d) => plain.some((p) => `${p.kind}/${p.metadata.name}` === d));
        expect(plainHook.metadata.annotations['argocd.argoproj.io/hook']).toBe(afterWaveZero ? 'Sync' : 'PreSync');
        expect(plainHook.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(afterWaveZero ? '1' : undefined);
        expect(o.metadata.annotations).toEqual(expect.objectContaining({
          'helm.sh/hook': h.dependsOn.length ? 'post-install,pre-upgrade' : 'pre-install,pre-upgrade',
          'helm.sh/hook-weight': h.weight,
          'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
        }));
        expect(Object.keys(o.metadata.annotations).filter((k) => k.startsWith('argocd.argoproj.io/'))).toEqual([]);
        if (o.kind === 'Job') {
          expect(o.spec.activeDeadlineSeconds).toBeGreaterThan(0);
          expect(o.spec.backoffLimit).toBeGreaterThanOrEqual(0);
          expect(o.spec.template.spec.restartPolicy).toBe('Never');
        }
      }
    });

    const toggles = model.crdToggles.map((t) => [t.path, t] as const);
    if (toggles.length > 0) it.each(toggles)('%s: false, or "auto" (the default) without the API, leaves the CRD objects out; true or "auto" with it renders them', async (_p, t) => {
      const guarded = new Set(t.objects.map((k) => `${k.split('/')[0]}/${release}-${k.split('/').slice(1).join('/')}`));
      const others = model.crdToggles.filter((o) => o !== t).flatMap((o) => o.apiVersions.flatMap((a) => ['--api-versions', a]));
      expect((chart.values.crds as Record<string, unknown>)[t.path.slice('crds.'.length)]).toBe('auto');
      const [off, autoAbsent, forced] = await Promise.all([
        renderChart(chartDir, release, { namespace, values: { [t.path]: false }, args: servedApis }),
        renderChart(chartDir, release, { namespace, args: others }),
        renderChart(chartDir, release, { namespace, values: { [t.path]: true }, args: others }),
      ]);
      const without = stable(defaults).filter((o) => !guarded.has(keyOf(o)));
      expect(guarded.size).toBeGreaterThan(0);
      expect(defaults.filter((o) => guarded.has(keyOf(o))).length).toBe(guarded.size);
      expect(stable(off)).toEqual(without);
      expect(stable(autoAbsent)).toEqual(without);
      expect(stable(forced)).toEqual(stable(defaults));
    });

    const secrets = model.generatedSecrets.map((s) => [s.name, s] as const);
    if (secrets.length > 0) it.each(secrets)('generates Secret %s at install, keeps it on upgrade (lookup), or uses an existing one', async (_n, s) => {
      const key = renderedKey('Secret', s.name);
      const generated = defaults.find((o) => keyOf(o) === key);
      expect(generated, key).toBeDefined();
      expect(generated!.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      for (const [k, length] of Object.entries(s.keys)) {
        expect(Buffer.from(generated!.data[k], 'base64').toString()).toMatch(new RegExp(`^[A-Za-z0-9]{${length}}$`));
      }
      expect(chart.files.get('values.yaml')).not.toContain(Buffer.from(generated!.data[Object.keys(s.keys)[0]], 'base64').toString());

      const references = JSON.stringify(defaults).split(`"${release}-${s.name}"`).length - 1;
      const kept = Object.fromEntries(Object.keys(s.keys).map((k) => [k, `kept-${k}-from-the-first-install`]));
      const api = await startFakeKubeApi({ [`${release}-${s.name}`]: kept });
      try {
        const [upgrade, existing] = await Promise.all([
          renderChart(chartDir, release, { namespace, args: ['--dry-run=server', '--kube-apiserver', api.url] }),
          renderChart(chartDir, release, { namespace, values: { [s.existingSecretPath]: 'my-own-secret' }, args: servedApis }),
        ]);
        const upgraded = upgrade.find((o) => keyOf(o) === key)!;
        expect(Object.fromEntries(Object.entries(upgraded.data).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString()]))).toEqual(kept);
        expect(api.requests).toContain(`GET /api/v1/namespaces/${namespace}/secrets/${release}-${s.name}`);
        expect(existing.find((o) => keyOf(o) === key)).toBeUndefined();
        const text = JSON.stringify(existing);
        expect(text).not.toContain(`"${release}-${s.name}"`);
        expect(text.split('"my-own-secret"').length - 1).toBe(references - 1); // every reference but the Secret's own name
      } finally {
        await api.close();
      }
    });
  });
}

function buildApp(build: (app: App) => unknown): App {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Testing } = require('cdk8s') as typeof import('cdk8s');
  const app = Testing.app();
  build(app);
  return app;
}

function scaleQuantity(q: string, factor: number): string {
  const m = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  return `${Number(m[1]) * factor}${m[2]}`;
}
