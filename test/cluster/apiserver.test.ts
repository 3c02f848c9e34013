/**
 * A real kube-apiserver (v1.34, Pod Security "restricted" pinned to v1.28) as the final judge of our output: every
 * example's manifests and every example chart rendered by the real helm are created with server-side dry run
 * (`dryRun=All`, `fieldValidation=Strict`), and every pod template also as a bare Pod. A rejection or a Warning header
 * not listed below with its reason fails the test.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples';
import { sorchaTier } from '../../examples/sorcha';
import { writeHelmChart } from '../../lib/helm';
import { ControlPlane, startControlPlane } from '../harness/control-plane';
import { AllowedWarning, ApiResources, CRD_API_VERSIONS, createObject, installCrds, judgeObjects, podOf } from '../harness/dry-run';
import { changedValues, renderChart } from '../harness/helm';
import { K8sObject, synthApp } from '../harness/synth';
import { workloadPropsApp } from '../apps/workload-props';

/** Warnings that are not our defects. Each needs a reason; keep this list short. */
const ALLOWED_WARNINGS: AllowedWarning[] = [];


/**
 * Every example, plus the seed-003 tiers the sorcha example stands for (the example itself is small-production), plus
 * an app using every pod-level prop of issue 17.
 */
const SOURCES: Record<string, (app: App) => unknown> = {
  ...EXAMPLES,
  sorchaDevelopment: (app) => sorchaTier(app, 'development'),
  sorchaLargeProduction: (app) => sorchaTier(app, 'large-production'),
  workloadProps: workloadPropsApp,
};

let cp: ControlPlane;
let api: ApiResources;
const counts: Array<{ source: string; objects: number; pods: number }> = [];

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

beforeAll(async () => {
  cp = await startControlPlane();
  // The CRDs we emit objects of, installed for real (their own schemas then judge our custom resources).
  const crds = await installCrds(cp);
  api = await ApiResources.discover(cp);
  // The PriorityClass the charts' priorityClassName example names (cluster-scoped objects are yours to create).
  await createObject(cp, api, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high-priority' }, value: 1000 }, 'default', { dryRun: false });
  console.log(`API server ready in ${cp.startupMs} ms; ${crds.length} CRDs installed`);
});

afterAll(async () => {
  await cp?.stop();
  if (counts.length) {
    const sum = (k: 'objects' | 'pods', pre: string) => counts.filter((c) => c.source.startsWith(pre)).reduce((a, c) => a + c[k], 0);
    const renders = counts.filter((c) => c.source.startsWith('chart')).length;
    console.log(`dry run: manifests ${sum('objects', 'manifests')} objects + ${sum('pods', 'manifests')} pods; ` +
      `${renders} chart renders: ${sum('objects', 'chart')} objects + ${sum('pods', 'chart')} pods`);
  }
});

describe('the judge itself (self-check)', () => {
  const pod = (name: string, securityContext: K8sObject, extra: K8sObject = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', image: 'nginx:1.27', securityContext, ...extra }],
    },
  });
  const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 1000 };
  // allowPrivilegeEscalation: false with privileged: true is itself invalid (422): leave it out.
  const privileged = { capabilities: { drop: ['ALL'] }, runAsUser: 1000, privileged: true };
  beforeAll(async () => {
    await cp.createNamespace('self-check', { podSecurity: 'restricted' });
  });

  it('accepts a restricted-compliant Pod without warnings (the positive control)', async () => {
    const r = await createObject(cp, api, pod('good', restricted), 'self-check');
    expect([r.status, r.warnings]).toEqual([201, []]);
  });

  it('refuses a privileged Pod with 403 from PodSecurity', async () => {
    const r = await createObject(cp, api, pod('bad', privileged), 'self-check');
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/violates PodSecurity "restricted:v1\.28": privileged/);
  });

  it('only warns on a privileged Deployment, which is why every pod template is also dry-run as a Pod', async () => {
    const p = pod('x', privileged);
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: p.spec } },
    };
    const r = await createObject(cp, api, deployment, 'self-check');
    expect(r.status).toBe(201);
    expect(r.warnings.join('\n')).toMatch(/would violate PodSecurity "restricted:v1\.28": privileged/);
    const judged = await judgeObjects(cp, api, [deployment], 'self-check');
    expect(judged.pods).toBe(1);
    expect(judged.problems).toEqual([
      expect.stringMatching(/^Deployment\/bad: warning: would violate PodSecurity/),
      expect.stringMatching(/^Pod of Deployment\/bad: HTTP 403 .*violates PodSecurity/),
    ]);
    // An allowed warning moves to `allowed`; the bare Pod's rejection stays a problem.
    const tolerant = await judgeObjects(cp, api, [deployment], 'self-check', [{ pattern: /^would violate PodSecurity/, reason: 'self-check' }]);
    expect(tolerant.problems).toEqual([expect.stringMatching(/^Pod of Deployment\/bad: HTTP 403/)]);
    expect(tolerant.allowed).toEqual([expect.stringMatching(/^Deployment\/bad: would violate PodSecurity/)]);
  });

  it('refuses an unknown field with 400 "strict decoding error"', async () => {
    const r = await createObject(cp, api, { ...pod('unknown', restricted), spek: {} }, 'self-check');
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/strict decoding error: unknown field "spek"/);
  });

  it('refuses a bad label value, an invalid quantity and an image with whitespace around it', async () => {
    const label = await createObject(cp, api, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l', labels: { component: 'API Server' } } }, 'self-check');
    expect(label.status).toBe(422);
    expect(label.body.message).toMatch(/metadata\.labels: Invalid value: "API Server"/);
    const quantity = await createObject(cp, api, pod('q', restricted, { resources: { requests: { memory: '512K' } } }), 'self-check');
    expect(quantity.status).toBe(400);
    expect(quantity.body.message).toMatch(/unable to parse quantity's suffix/);
    const withImage = (image: string) => ({ ...pod('i', restricted), spec: { ...pod('i', restricted).spec, containers: [{ name: 'c', image, securityContext: restricted }] } });
    const image = await createObject(cp, api, withImage(' nginx:1.0'), 'self-check');
    expect(image.status).toBe(422);
    expect(image.body.message).toMatch(/image: Invalid value: " nginx:1\.0": must not have leading or trailing whitespace/);
  });

  it('does NOT check the image reference grammar: our own validators must (issue 13)', async () => {
    const withImage = (image: string) => ({ ...pod('g', restricted), spec: { ...pod('g', restricted).spec, containers: [{ name: 'c', image, securityContext: restricted }] } });
    for (const image of ['ng inx:1.0', 'Nginx:1.0', ':1.0']) {
      expect((await createObject(cp, api, withImage(image), 'self-check')).status, image).toBe(201);
    }
  });

  it('judges custom resources by their CRD schema', async () => {
    const r = await createObject(cp, api, {
      apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'sm' },
      spec: { selector: {}, endpoints: [{ port: 'metrics', interval: 'abc' }] },
    }, 'self-check');
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/interval/);
  });

  it('makes a StatefulSet\'s bare Pod as its controller would: PVC volumes, hostname, subdomain, controller labels', () => {
    const p = podOf({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: { serviceName: 'db-headless', template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } }, volumeClaimTemplates: [{ metadata: { name: 'data' } }] },
    });
    expect(p).toMatchObject({
      metadata: { name: 'db-0', labels: { 'a': 'b', 'statefulset.kubernetes.io/pod-name': 'db-0', 'controller-revision-hash': expect.stringMatching(/^db-[a-z0-9]{10}$/) } },
      spec: { hostname: 'db-0', subdomain: 'db-headless', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }] },
    });
  });

  it('refuses the bare Pod of a StatefulSet whose name is too long for the revision-hash label (the 52-character limit)', async () => {
    const sts = (name: string) => ({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
      spec: { serviceName: 's', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: pod('x', restricted).spec } },
    });
    expect((await createObject(cp, api, podOf(sts('s'.repeat(52)))!, 'self-check')).status).toBe(201);
    const tooLong = await createObject(cp, api, podOf(sts('s'.repeat(53)))!, 'self-check');
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.message).toMatch(/metadata\.labels: Invalid value: "s{53}-[a-z0-9]{10}": must be no more than 63 characters/);
  });
});

describe('every example (and the sorcha tiers) passes the real API server', () => {
  it.each(Object.keys(SOURCES))('manifests of %s', async (name) => {
    const objects = synthApp((app) => { SOURCES[name](app); });
    const namespace = `m-${kebab(name)}`;
    await cp.createNamespace(namespace, { podSecurity: 'restricted' });
    const result = await judgeObjects(cp, api, objects, namespace, ALLOWED_WARNINGS);
    counts.push({ source: `manifests ${name}`, objects: result.objects, pods: result.pods });
    expect(result.problems).toEqual([]);
    expect(result.objects).toBeGreaterThan(0);
  });

  /**
   * A chart rendered with default values, or (`changed`) every value at once at another valid value, or (`longest`)
   * with the longest release name the chart accepts (names derived from it stay within Kubernetes' limits).
   */
  const chartCase = (mode: 'default' | 'changed' | 'longest') => async (name: string) => {
    const app = Testing.app();
    SOURCES[name](app);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-apiserver-chart-'));
    try {
      const chart = writeHelmChart(app, dir);
      const values = mode === 'changed' ? changedValues(chart.model.values) : {};
      const release = mode === 'longest' ? 'r'.repeat(chart.model.maxReleaseNameLength) : 'r1';
      const namespace = `${mode[0]}-${kebab(name)}`;
      const objects = await renderChart(dir, release, { namespace, values, args: CRD_API_VERSIONS.flatMap((v) => ['--api-versions', v]) });
      await cp.createNamespace(namespace, { podSecurity: 'restricted' });
      const result = await judgeObjects(cp, api, objects, namespace, ALLOWED_WARNINGS);
      counts.push({ source: `chart ${name} (${mode})`, objects: result.objects, pods: result.pods });
      expect(result.problems).toEqual([]);
      expect(result.objects).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  it.each(Object.keys(SOURCES))('chart of %s rendered by helm (default values)', chartCase('default'));
  it.each(Object.keys(SOURCES))('chart of %s rendered by helm with every value changed', chartCase('changed'));
  it.each(Object.keys(SOURCES))('chart of %s rendered by helm with the longest release name it accepts', chartCase('longest'));
});
