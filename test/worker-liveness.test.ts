import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../lib';
import { expectValidationError } from './harness/errors';
import { build, container, find, synth } from './harness/synth';

const IMAGE = 'ghcr.io/example/worker:1.0.0';
const workerOf = (props: Partial<ConstructorParameters<typeof WorkerPool>[2]> = {}) =>
  container(find(synth((chart) => new WorkerPool(chart, 'jobs', { image: IMAGE, queue: 'jobs', ...props })), 'Deployment'));

/** Shells the probe may meet: Debian's dash (/bin/sh), bash, and busybox (Alpine images). */
const SHELLS = [['/bin/sh'], ['/bin/bash'], ['/usr/bin/busybox', 'sh']].filter(([bin]) => fs.existsSync(bin));

describe('WorkerPool liveness contract', () => {
  it('by default: a heartbeat file on /tmp, an exec liveness probe and a startup probe, the contract passed as env', () => {
    const w = workerOf();
    const env = Object.fromEntries(w.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ HEARTBEAT_FILE: '/tmp/heartbeat', HEARTBEAT_MAX_AGE_SECONDS: '60' });
    expect(w.livenessProbe).toMatchObject({ exec: { command: ['/bin/sh', '-c', expect.stringContaining('/tmp/heartbeat')] }, periodSeconds: 30, failureThreshold: 2 });
    // 120 s to the first beat, checked every 5 s.
    expect(w.startupProbe).toMatchObject({ exec: w.livenessProbe.exec, periodSeconds: 5, failureThreshold: 24 });
    expect(w.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it.each(SHELLS.map((s) => [s.join(' '), s]))('the generated probe command, run by %s, passes a fresh heartbeat and fails a stale or missing one', (_name, shell) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-heartbeat-'));
    const file = path.join(dir, 'heartbeat');
    const w = workerOf({ liveness: { type: 'heartbeat', file: '/tmp/heartbeat', maxAgeSeconds: 30 } });
    const [, flag, script] = w.livenessProbe.exec.command as string[];
    const probe = () => spawnSync(shell[0], [...shell.slice(1), flag, script.replace('/tmp/heartbeat', file)], { encoding: 'utf8' }).status;
    expect(probe(), 'missing').not.toBe(0);
    fs.writeFileSync(file, '');
    expect(probe(), 'fresh').toBe(0);
    const old = new Date(Date.now() - 31_000);
    fs.utimesSync(file, old, old);
    expect(probe(), 'stale by 31 s').not.toBe(0);
    const recent = new Date(Date.now() - 20_000);
    fs.utimesSync(file, recent, recent);
    expect(probe(), '20 s old').toBe(0);
  });

  it('http: a named health port and httpGet probes; the metrics port when it is the same', () => {
    const w = workerOf({ liveness: { type: 'http', port: 8081 } });
    expect(w.ports).toEqual([{ name: 'health', containerPort: 8081, protocol: 'TCP' }]);
    expect(w.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(w.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(w.env).toContainEqual({ name: 'HEALTH_PORT', value: '8081' });
    const m = workerOf({ metricsPort: 9100, liveness: { type: 'http', port: 9100, path: '/live' } });
    expect(m.ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
    expect(m.livenessProbe.httpGet).toEqual({ path: '/live', port: 'metrics' });
  });

  it('metrics: the former TCP check of metricsPort; false: no probe at all', () => {
    expect(workerOf({ metricsPort: 9100, liveness: { type: 'metrics' } }).livenessProbe.tcpSocket).toEqual({ port: 'metrics' });
    const off = workerOf({ liveness: false });
    expect(off.livenessProbe).toBeUndefined();
    expect(off.startupProbe).toBeUndefined();
    expect(off.env.map((e: { name: string }) => e.name)).not.toContain('HEARTBEAT_FILE');
  });

  it('refuses contracts that cannot work', () => {
    const bad = (liveness: unknown, property: string) => expectValidationError(
      () => build((chart) => new WorkerPool(chart, 'jobs', { image: IMAGE, queue: 'jobs', liveness: liveness as never })), { path: 'test/jobs', property });
    bad({ type: 'heartbeat', file: '/var/run/beat' }, 'liveness.file');
    bad({ type: 'heartbeat', file: '/tmp/$(reboot)' }, 'liveness.file');
    bad({ type: 'heartbeat', maxAgeSeconds: 5 }, 'liveness.maxAgeSeconds');
    bad({ type: 'http', port: 0 }, 'liveness.port');
    bad({ type: 'metrics' }, 'liveness.type');
    bad({ type: 'tcp' }, 'liveness.type');
  });
});
