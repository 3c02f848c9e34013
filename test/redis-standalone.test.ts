/**
 * RedisHA `mode: 'standalone'` and the exporter's password file on real processes: the synthesized ConfigMap
 * files, init container and Redis container commands run with the synthesized environment (pod-specific values
 * replaced), redis-server 7.0 on 127.0.14.50.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHA } from '../lib';
import { K8sObject, container, find, synth } from './harness/synth';
import { SUBNET, chownTree, lookupUser } from './redis-harness';

const PASSWORD = 'standalone "pw" \\ $x\tend';
const HOST = `${SUBNET}50`;
let root = '';
let port = 0;
let proc: ChildProcess | undefined;
let objects: K8sObject[] = [];
const runAs = process.getuid?.() === 0 ? lookupUser('redis') : undefined;

function envOf(c: K8sObject, own: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const e of c.env as K8sObject[]) {
    if (e.name in own) env[e.name] = own[e.name];
    else if (typeof e.value === 'string') env[e.name] = e.value;
    else throw new Error(`env ${e.name} comes from ${JSON.stringify(e.valueFrom)}: the test must supply it`);
  }
  return env;
}

function command(c: K8sObject): string[] {
  const argv = (c.command as string[]).map((a) => a.replace('/etc/redis-ha', join(root, 'templates')));
  return runAs ? ['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', ...argv] : argv;
}

beforeAll(async () => {
  objects = synth((chart) => {
    new RedisHA(chart, 'cache', {
      passwordSecret: { secretName: 'cache-redis', key: 'password' }, mode: 'standalone', metrics: true,
      resources: { requests: { memory: '128Mi' }, limits: { memory: '128Mi' } },
    });
  });
  root = mkdtempSync(join(tmpdir(), 'redis-standalone-'));
  mkdirSync(join(root, 'templates'));
  mkdirSync(join(root, 'auth'));
  mkdirSync(join(root, 'run'));
  mkdirSync(join(root, 'data'));
  for (const [file, content] of Object.entries(find(objects, 'ConfigMap', 'cache-config').data as Record<string, string>)) {
    writeFileSync(join(root, 'templates', file), content, { mode: 0o444 });
  }
  writeFileSync(join(root, 'auth', 'redis-password'), PASSWORD, { mode: 0o440 });
  if (runAs) chownTree(root, runAs.uid, runAs.gid);
  chmodSync(root, 0o755);
  port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as import('net').AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}, 30_000);

afterAll(() => {
  if (proc?.pid) process.kill(proc.pid, 'SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

const paths = () => ({ TEMPLATE_DIR: join(root, 'templates'), CONFIG_DIR: join(root, 'run'), AUTH_FILE: join(root, 'auth', 'redis-password') });

describe("RedisHA mode 'standalone' on a real redis-server", () => {
  it('the exporter-auth init container writes the password file the exporter reads (JSON, escaped, owner-only)', () => {
    const sts = find(objects, 'StatefulSet', 'cache');
    const init = sts.spec.template.spec.initContainers[0];
    const argv = command(init);
    const res = spawnSync(argv[0], argv.slice(1), {
      env: envOf(init, { TEMPLATE_DIR: paths().TEMPLATE_DIR, CONFIG_DIR: paths().CONFIG_DIR, EXPORTER_AUTH_FILE: paths().AUTH_FILE }), encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    const file = join(root, 'run', 'exporter-passwords.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'redis://127.0.0.1:6379': PASSWORD });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const exporter = container(sts, 'metrics');
    expect(exporter.env.find((e: K8sObject) => e.name === 'REDIS_PASSWORD_FILE').value).toBe('/run/redis-ha/exporter-passwords.json');
  });

  it('starts one master that requires the password and takes writes (no replica needed)', async () => {
    const redis = container(find(objects, 'StatefulSet', 'cache'), 'redis');
    const env = envOf(redis, {
      ...paths(), POD_NAME: 'cache-0', POD_NAMESPACE: 'test', DATA_DIR: join(root, 'data'), REDIS_PORT: String(port),
      BIND_ADDRESSES: `${HOST} 127.0.0.1`, MEMORY_LIMIT_BYTES: String(128 * 2 ** 20),
    });
    const argv = command(redis);
    proc = spawn(argv[0], argv.slice(1), { env, stdio: 'ignore' });
    const client = new Redis({ host: HOST, port, password: PASSWORD, lazyConnect: true, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    try {
      const deadline = Date.now() + 15_000;
      const ping = () => spawnSync('redis-cli', ['-h', HOST, '-p', String(port), '--no-auth-warning', 'PING'],
        { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf8' }).stdout.trim();
      while (ping() !== 'PONG') {
        if (Date.now() > deadline) throw new Error('redis-server did not come up');
        await new Promise((r) => setTimeout(r, 100));
      }
      await client.connect();
      expect(((await client.call('ROLE')) as string[])[0]).toBe('master');
      expect(await client.set('k', 'v')).toBe('OK');
      expect(await client.config('GET', 'min-replicas-to-write')).toEqual(['min-replicas-to-write', '0']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      const anonymous = spawnSync('redis-cli', ['-h', HOST, '-p', String(port), 'GET', 'k'], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
      expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
      // The kubelet's readiness probe passes on the master.
      const probe = (redis.readinessProbe.exec.command as string[]).map((a) => a.replace('/etc/redis-ha', join(root, 'templates')));
      expect(spawnSync(probe[0], probe.slice(1), { env, timeout: 10_000 }).status).toBe(0);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
