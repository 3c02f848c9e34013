/**
 * Migrations against a database in the same chart (lib/helm/migration-order.ts): the chart's hook runs
 * post-install,pre-upgrade with an init container that waits for the database; plain manifests get a synth-time
 * warning. The wait script runs for real on loopback, under busybox sh (nc) and under bash (/dev/tcp).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples';
import { StatelessService } from '../lib';
import { migrationOrderWarnings, writeHelmChart } from '../lib/helm';
import { waitForScript } from '../lib/helm/migration-order';
import { renderChart } from './harness/helm';
import { freePort } from './harness/control-plane';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-migration-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('migration hook of ciel (PostgresCluster and the migrating service in one chart)', () => {
  const app = Testing.app();
  const built = EXAMPLES.ciel(app);
  const chart = writeHelmChart(app, path.join(dir, 'ciel'));

  it('runs after install and before upgrades, needing the database Service, and waits for it', async () => {
    const hook = chart.model.hooks.find((h) => h.name === 'ciel-api-migrate')!;
    expect(hook.hook).toBe('post-install,pre-upgrade');
    expect(hook.dependsOn).toContain('Service/ciel-db-pooler');
    const objs = await renderChart(path.join(dir, 'ciel'), 'rel', { namespace: chart.model.namespace ?? 'default' });
    const job = objs.find((o) => o.kind === 'Job' && o.metadata.name === 'rel-ciel-api-migrate')!;
    const wait = job.spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'wait-for-ciel-db-pooler');
    expect(wait).toBeDefined();
    // Redis is reached through its Sentinels' headless Service: waited for as well.
    expect(job.spec.template.spec.initContainers.map((c: { name: string }) => c.name)).toContain('wait-for-ciel-redis-sentinel-headless');
    expect(wait.env).toEqual([{ name: 'WAIT_HOST', value: 'rel-ciel-db-pooler' }, { name: 'WAIT_PORT', value: '5432' }]);
    const pooler = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'rel-ciel-db-pooler')!;
    expect(wait.image).toBe(pooler.spec.template.spec.containers[0].image);
    expect(wait.command).toEqual(['sh', '-c', waitForScript()]);
    expect(chart.files.get('README.md')).toMatch(/ciel-api-migrate`: `post-install,pre-upgrade`.*needs .*Service\/ciel-db-pooler/);
  });

  it('warns at synth that only Argo CD (sync waves) and the chart order the first install', () => {
    const warnings = migrationOrderWarnings(built);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Job ciel-api-migrate connects to Service ciel-db-pooler, .* of the same chart\. Argo CD orders it by sync waves .*kubectl apply, Flux\) does not/);
    const other = Testing.app();
    expect(migrationOrderWarnings(EXAMPLES.storefront(other))).toEqual([]); // its database is outside the chart
  });
});

describe('a migration that needs nothing of its chart', () => {
  const app = Testing.app();
  new StatelessService(new Chart(app, 'shop', { namespace: 'shop' }), 'api', { image: 'ghcr.io/example/api:1.0.0', migration: { command: ['/app/api', 'migrate'] } });
  const chart = writeHelmChart(app, path.join(dir, 'shop'));
  const jobOf = (objs: Awaited<ReturnType<typeof renderChart>>) => objs.find((o) => o.kind === 'Job' && o.metadata.name === 'rel-api-migrate')!;

  it('runs before install; with serviceAccount.create (its pod then runs as an account the install creates) right after it', async () => {
    const info = chart.model.hooks.find((h) => h.name === 'api-migrate')!;
    expect(info.hook).toBe('pre-install,pre-upgrade');
    const plain = await renderChart(path.join(dir, 'shop'), 'rel', { namespace: 'shop' });
    expect(jobOf(plain).metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const created = await renderChart(path.join(dir, 'shop'), 'rel', { namespace: 'shop', values: { 'api.serviceAccount.create': true } });
    expect(jobOf(created).metadata.annotations['helm.sh/hook']).toBe('post-install,pre-upgrade');
    const account = created.find((o) => o.kind === 'ServiceAccount')!;
    expect(jobOf(created).spec.template.spec.serviceAccountName).toBe(account.metadata.name);
    // An account you name exists before the install: the hook stays before it.
    const named = await renderChart(path.join(dir, 'shop'), 'rel', { namespace: 'shop', values: { 'api.serviceAccount.name': 'migrator' } });
    expect(jobOf(named).metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
  });
});

/** Runs the wait script with only `tools` on PATH; resolves with its exit code and output. */
function runWait(shell: string, tools: Record<string, string>, port: number, timeoutMs: number): Promise<{ code: number | null; out: string; ms: number }> {
  const bin = fs.mkdtempSync(path.join(dir, 'bin-'));
  for (const [name, target] of Object.entries(tools)) fs.symlinkSync(target, path.join(bin, name));
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(shell, [...(shell.endsWith('busybox') ? ['sh'] : []), '-c', waitForScript()], {
      env: { PATH: bin, WAIT_HOST: '127.0.0.1', WAIT_PORT: String(port) },
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, ms: performance.now() - started }); });
  });
}

const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p));
const bash = ['/usr/bin/bash', '/bin/bash'].find((p) => fs.existsSync(p))!;

describe.each([
  ...(busybox ? [['busybox sh with nc (Alpine images: PgBouncer)', busybox, { nc: busybox, sleep: busybox, true: busybox }] as const] : []),
  ['bash with /dev/tcp (Debian images: postgres, redis)', bash, { bash, sleep: busybox ?? '/usr/bin/sleep' }] as const,
])('wait-for.sh under %s', (_what, shell, tools) => {
  it('keeps waiting while nothing listens, and returns once the port accepts connections', async () => {
    const port = await freePort();
    const pending = runWait(shell, tools, port, 20_000);
    await new Promise((r) => setTimeout(r, 2500));
    const server = net.createServer((s) => s.end()).listen(port, '127.0.0.1');
    try {
      const r = await pending;
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/waiting for 127\.0\.0\.1:\d+/);
      expect(r.out).toContain('accepts connections');
      expect(r.ms).toBeGreaterThan(2000);
    } finally {
      server.close();
    }
  });
});
