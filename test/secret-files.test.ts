import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, RedisHA, StatelessService, WorkerPool, connectPostgres, connectRedis } from '../lib';
import { expectValidationError } from './harness/errors';
import { checkov, toolPath } from './harness/scanners';
import { K8sObject, build, container, find, synth } from './harness/synth';

const IMAGE = 'ghcr.io/example/api:1.0.0';
const credentials = { superuser: { secretName: 'db-superuser' }, replication: { secretName: 'db-replication' }, app: { secretName: 'db-app' } };

describe('wiring credentials as files (credentials: "files")', () => {
  const objects = synth((chart) => {
    const db = new PostgresCluster(chart, 'db', { credentials });
    const cache = new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'cache-redis', key: 'password' } });
    const api = new StatelessService(chart, 'api', { image: IMAGE, migration: { command: ['/app', 'migrate'] } });
    const jobs = new WorkerPool(chart, 'jobs', { image: IMAGE, queue: 'jobs' });
    connectPostgres(api, db, { credentials: 'files' });
    connectRedis(api, cache, { credentials: 'files' });
    connectPostgres(jobs, db, { credentials: 'files', poolSize: 2 });
  });
  const api = find(objects, 'Deployment', 'api');

  it('mounts each Secret read-only and points <NAME>_FILE at the key; no credential in the environment', () => {
    const app = container(api);
    const env = Object.fromEntries(app.env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      PGPASSWORD_FILE: '/var/run/secrets/scalecharts/db-app/password',
      REDIS_PASSWORD_FILE: '/var/run/secrets/scalecharts/cache-redis/password',
    });
    expect(env.PGPASSWORD).toBeUndefined();
    expect(env.REDIS_PASSWORD).toBeUndefined();
    expect(app.env.some((e: K8sObject) => e.valueFrom?.secretKeyRef)).toBe(false);
    const volumes = api.spec.template.spec.volumes.filter((v: K8sObject) => v.secret);
    expect(volumes).toEqual([
      { name: 'secret-file-0', secret: { secretName: 'db-app', defaultMode: 0o440, items: [{ key: 'password', path: 'password' }] } },
      { name: 'secret-file-1', secret: { secretName: 'cache-redis', defaultMode: 0o440, items: [{ key: 'password', path: 'password' }] } },
    ]);
    expect(app.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'secret-file-0', mountPath: '/var/run/secrets/scalecharts/db-app', readOnly: true },
      { name: 'secret-file-1', mountPath: '/var/run/secrets/scalecharts/cache-redis', readOnly: true },
    ]));
  });

  it('gives the migration Job and WorkerPools the same files', () => {
    const migrate = container(find(objects, 'Job', 'api-migrate'));
    expect(migrate.env).toContainEqual({ name: 'PGPASSWORD_FILE', value: '/var/run/secrets/scalecharts/db-app/password' });
    expect(migrate.volumeMounts).toContainEqual({ name: 'secret-file-0', mountPath: '/var/run/secrets/scalecharts/db-app', readOnly: true });
    const worker = container(find(objects, 'Deployment', 'jobs'));
    expect(worker.env).toContainEqual({ name: 'PGPASSWORD_FILE', value: '/var/run/secrets/scalecharts/db-app/password' });
  });

  it.skipIf(!toolPath('checkov'))('Checkov finds no secret in env (CKV_K8S_35) on the files-wired workloads, but does on env-wired ones', async () => {
    const envWired = synth((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials });
      connectPostgres(new StatelessService(chart, 'api', { image: IMAGE }), db);
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-secret-files-'));
    const workloads = (objs: K8sObject[]) => objs.filter((o) => ['Deployment', 'Job'].includes(o.kind) && o.metadata.labels['app.kubernetes.io/component'] !== 'pooler');
    fs.writeFileSync(path.join(dir, 'files.yaml'), workloads(objects).map((o) => yaml.dump(o)).join('---\n'));
    fs.writeFileSync(path.join(dir, 'env.yaml'), workloads(envWired).map((o) => yaml.dump(o)).join('---\n'));
    const found = await checkov(dir, { 'files.yaml': { source: 'files' }, 'env.yaml': { source: 'env' } });
    const secretsInEnv = found.filter((f) => f.check === 'CKV_K8S_35');
    expect(secretsInEnv.filter((f) => f.source === 'files')).toEqual([]);
    expect(secretsInEnv.filter((f) => f.source === 'env').map((f) => f.name)).toEqual(['api']);
  }, 300_000);

  it('env stays the default; an unknown delivery is refused', () => {
    const env = synth((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials });
      connectPostgres(new StatelessService(chart, 'api', { image: IMAGE }), db);
    });
    expect(container(find(env, 'Deployment', 'api')).env).toContainEqual({ name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'db-app', key: 'password' } } });
    expectValidationError(() => build((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials });
      connectPostgres(new StatelessService(chart, 'api', { image: IMAGE }), db, { credentials: 'vault' as never });
    }), { path: 'test/api', property: 'connectPostgres.credentials', value: 'vault' });
  });
});
