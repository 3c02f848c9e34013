/**
 * The real helm against the real kube-apiserver (issue 17's proof), for every example chart, each in its own
 * namespace with Pod Security "restricted": `helm install --dry-run=server`; a real `helm install` (no controllers
 * run: the objects are only stored, and hooks are left out since no hook Job would ever complete); `helm upgrade
 * --dry-run=server` with every value changed; a real upgrade that keeps the generated Secrets; a second release in the
 * same namespace with credentials of its own; an upgrade with every switch flipped; the migration hooks' order. Server
 * warnings fail the test.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples';
import { writeHelmChart } from '../../lib/helm';
import { ControlPlane, startControlPlane } from '../harness/control-plane';
import { installCrds } from '../harness/dry-run';
import { alternativeValue, HelmResult, parseManifests, setFlag } from '../harness/helm';
import { runHelmWithKubeconfig } from '../harness/helm-cluster';
import type { K8sObject } from '../harness/synth';

let cp: ControlPlane;
let kubeconfig: string;
const timings: string[] = [];

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrds(cp);
  kubeconfig = cp.kubeconfig();
});

afterAll(async () => {
  await cp?.stop();
  if (timings.length) console.log(`[helm-server] ${timings.join('; ')}`);
});

/** Helm prints the API server's Warning headers on stderr (client-go's warning handler). */
function expectOk(r: HelmResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stderr.trim(), `${what}: stderr`).toBe('');
}

/** The Secrets of a release namespace, name → data. */
async function secrets(namespace: string): Promise<Record<string, Record<string, string>>> {
  const r = await cp.request('GET', `/api/v1/namespaces/${namespace}/secrets`);
  return Object.fromEntries(r.body.items
    .filter((s: K8sObject) => s.type !== 'helm.sh/release.v1')
    .map((s: K8sObject) => [s.metadata.name, s.data]));
}

describe('self-check', () => {
  it('a real install prints the server\'s Pod Security warning on stderr (what expectOk refuses); a server dry run does not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-helm-server-'));
    try {
      fs.mkdirSync(path.join(dir, 'templates'));
      fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: privileged\nversion: 0.1.0\n');
      fs.writeFileSync(path.join(dir, 'templates', 'deployment.yaml'), JSON.stringify({
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' },
        spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'nginx:1.27', securityContext: { privileged: true } }] } } },
      }));
      await cp.createNamespace('self-check', { podSecurity: 'restricted' });
      const helm = (args: string[]) => runHelmWithKubeconfig(kubeconfig, [...args, '--namespace', 'self-check']);
      expect((await helm(['install', 'bad', dir, '--dry-run=server'])).stderr).toBe('');
      const real = await helm(['install', 'bad', dir]);
      expect(real.code).toBe(0);
      expect(real.stderr).toMatch(/would violate PodSecurity "restricted:v1\.28": privileged/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every example chart with the real helm against the real API server', () => {
  it.each(Object.keys(EXAMPLES))('%s: install (server dry run, then real), upgrade with changed values, second release', async (name) => {
    const app = Testing.app();
    EXAMPLES[name](app);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-helm-server-'));
    const t0 = performance.now();
    try {
      const chart = writeHelmChart(app, dir);
      const namespace = `h-${kebab(name)}`;
      await cp.createNamespace(namespace, { podSecurity: 'restricted' });
      const helm = (args: string[]) => runHelmWithKubeconfig(kubeconfig, [...args, '--namespace', namespace]);

      const dry = await helm(['install', 'r1', dir, '--dry-run=server', '-o', 'json']);
      expectOk(dry, 'install --dry-run=server');
      const planned = parseManifests(JSON.parse(dry.stdout).manifest);
      expect(planned.length).toBeGreaterThan(0);
      // The dry run stored nothing.
      expect((await helm(['list', '-o', 'json'])).stdout.trim()).toBe('[]');

      // Helm hooks (migration Jobs) are in the plan; they are not run for real: with no controller a hook Job never
      // completes and helm would wait for it (the simulated-cluster tier runs them). The bare-Pod dry run of
      // test/cluster/apiserver.test.ts judges their pods.
      expect(JSON.parse(dry.stdout).hooks?.length ?? 0).toBe(chart.model.hooks.length);
      // Hook order: a migration whose database is in the chart runs after install (all objects created) and before
      // an upgrade's new pods, behind an init container waiting for the database Service.
      for (const h of JSON.parse(dry.stdout).hooks ?? []) {
        const info = chart.model.hooks.find((x) => `${x.kind}/r1-${x.name}` === `${h.kind}/${h.name}`)!;
        expect(h.events.join(','), h.name).toBe(info.hook);
        const waits = info.dependsOn.filter((d) => d.startsWith('Service/'));
        for (const w of waits) expect(h.manifest, h.name).toContain(`name: wait-for-${w.slice('Service/'.length)}`);
        if (waits.length > 0) expect(h.events).toEqual(['post-install', 'pre-upgrade']);
      }
      expectOk(await helm(['install', 'r1', dir, '--no-hooks', '--timeout', '60s']), 'install');
      const manifest = parseManifests((await helm(['get', 'manifest', 'r1'])).stdout);
      expect(manifest.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(planned.map((o) => `${o.kind}/${o.metadata.name}`).sort());
      // Every object of the release is stored in the release namespace (no controllers: nothing more happens).
      for (const o of manifest.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
        const r = await cp.request('GET', `/apis/apps/v1/namespaces/${namespace}/${o.kind.toLowerCase()}s/${o.metadata.name}`);
        expect(r.status, `${o.kind}/${o.metadata.name}`).toBe(200);
        expect(r.body.metadata.annotations['meta.helm.sh/release-name']).toBe('r1');
      }
      const secretsBefore = await secrets(namespace);
      const generated = chart.model.generatedSecrets.map((g) => g.name);
      for (const g of generated) expect(secretsBefore[`r1-${g}`], `generated Secret r1-${g}`).toBeDefined();

      // Every value changed at once: the upgrade the server would accept.
      const changed = chart.model.values.flatMap((v) => setFlag(v.path, alternativeValue(v, chart.model.values)));
      const upgradeDry = await helm(['upgrade', 'r1', dir, '--dry-run=server', '-o', 'json', ...changed]);
      expectOk(upgradeDry, 'upgrade --dry-run=server');
      const upgraded = JSON.parse(upgradeDry.stdout);
      expect(upgraded.version).toBe(2);
      expect(upgraded.manifest).not.toBe(JSON.parse(dry.stdout).manifest);

      // Every switch flipped (autoscaling, PDB, NetworkPolicy, Ingress, metrics off; ServiceAccounts created) and the
      // global image values set: the server accepts that release too, and the switched objects are gone or there.
      const flipped = [
        ...chart.model.switches.flatMap((sw) => setFlag(sw.path, !sw.default)),
        ...setFlag('global.imageRegistry', 'mirror.example.internal:5000'), ...setFlag('global.imagePullSecrets', ['mirror-pull']),
      ];
      const switchedDry = await helm(['upgrade', 'r1', dir, '--dry-run=server', '-o', 'json', ...flipped]);
      expectOk(switchedDry, 'upgrade --dry-run=server with every switch flipped');
      const switched = new Set(parseManifests(JSON.parse(switchedDry.stdout).manifest).map((o) => `${o.kind}/${o.metadata.name}`));
      for (const sw of chart.model.switches) {
        for (const o of sw.objects) expect(switched.has(`${o.split('/')[0]}/r1-${o.split('/').slice(1).join('/')}`), `${o} with ${sw.path}=${!sw.default}`).toBe(!sw.default);
      }

      // A real upgrade (same values): generated credentials are looked up and kept, not regenerated.
      expectOk(await helm(['upgrade', 'r1', dir, '--no-hooks', '--timeout', '60s']), 'upgrade');
      expect(await secrets(namespace)).toEqual(secretsBefore);

      // A second release beside the first: nothing it renders collides with r1's objects.
      expectOk(await helm(['install', 'r2', dir, '--dry-run=server']), 'second release --dry-run=server');
      expectOk(await helm(['install', 'r2', dir, '--no-hooks', '--timeout', '60s']), 'second release');
      // Each release has its own generated credentials.
      const both = await secrets(namespace);
      for (const g of generated) expect(both[`r2-${g}`], `r2-${g}`).toBeDefined();
      for (const g of generated) expect(both[`r2-${g}`], `r2-${g} equals r1-${g}`).not.toEqual(both[`r1-${g}`]);
      const releases = JSON.parse((await helm(['list', '-o', 'json'])).stdout) as Array<{ name: string; revision: string; status: string }>;
      expect(releases.map((r) => [r.name, r.revision, r.status]).sort()).toEqual([['r1', '2', 'deployed'], ['r2', '1', 'deployed']]);
      timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Patroni keeps max_connections in its DCS', () => {
  it('an upgrade changing maxConnections of a running Patroni cluster fails naming the value; the same value passes', async () => {
    const app = Testing.app();
    EXAMPLES.orders(app);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-helm-server-'));
    try {
      const chart = writeHelmChart(app, dir);
      const maxConnections = chart.model.values.find((v) => v.path.endsWith('.maxConnections'))!;
      const root = maxConnections.path.slice(0, -'.maxConnections'.length);
      const scope = chart.model.values.find((v) => v.path === `${root}.patroni.scope`)!;
      expect(scope, 'the orders database runs Patroni (the default)').toBeDefined();
      const namespace = 'h-patroni-guard';
      await cp.createNamespace(namespace, { podSecurity: 'restricted' });
      const helm = (args: string[]) => runHelmWithKubeconfig(kubeconfig, [...args, '--namespace', namespace]);
      expectOk(await helm(['install', 'r1', dir, '--no-hooks', '--timeout', '60s']), 'install');
      // What Patroni writes once it has bootstrapped: its dynamic config in the `<scope>-config` ConfigMap.
      const live = maxConnections.default as number;
      const created = await cp.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: `r1-${scope.default}-config`, annotations: { config: JSON.stringify({ ttl: 30, postgresql: { parameters: { max_connections: live } } }) } },
      });
      expect(created.status).toBe(201);
      const changed = await helm(['upgrade', 'r1', dir, '--dry-run=server', ...setFlag(maxConnections.path, live + 10)]);
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toContain(`maxConnections differs from the running Patroni cluster's max_connections`);
      expect(changed.stderr).toContain(`${maxConnections.path} = ${live + 10}`);
      expectOk(await helm(['upgrade', 'r1', dir, '--dry-run=server', ...setFlag(maxConnections.path, live)]), 'upgrade with the live value');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
