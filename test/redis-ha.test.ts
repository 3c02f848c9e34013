import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { throwIfInvalid, validateAll } from '../lib/core/problems';
import { describe, expect, it } from 'vitest';
import { Knobs, Presets, ValidationErrors, REDIS, REDIS_HA_FILES, REDIS_STANDALONE_FILES, RedisHA, StatelessService, TIERS, WorkerPool, connectRedis, RedisHAProps, defaultMaxmemoryBytes, defaultStorageSize } from '../lib';
import { expectValidationError } from './harness/errors';
import { sessions } from '../examples/sessions';
import { K8sObject, build, container, find, findAll, synth, synthApp } from './harness/synth';

const SECRET = { secretName: 'cache-redis', key: 'password' };
const SCRIPTS_DIR = join(__dirname, '..', 'lib', 'redis');

function redisHA(props: Partial<RedisHAProps> = {}, opts: { namespace?: string } = {}): { objects: K8sObject[]; ha: RedisHA } {
  let ha!: RedisHA;
  const objects = synth((chart) => {
    ha = new RedisHA(chart, 'cache', { passwordSecret: SECRET, ...props });
  }, opts);
  return { objects, ha };
}

function envOf(c: K8sObject): Record<string, K8sObject> {
  return Object.fromEntries(c.env.map((e: K8sObject) => [e.name, e]));
}

describe('RedisHA defaults', () => {
  const { objects, ha } = redisHA({}, { namespace: 'shop' });
  const sts = find(objects, 'StatefulSet', 'cache');
  const sentinelSts = find(objects, 'StatefulSet', 'cache-sentinel');
  const redis = container(sts, 'redis');
  const sentinel = container(sentinelSts, 'sentinel');

  it('emits Redis and Sentinel StatefulSets, their Services, PDBs and one ConfigMap', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/cache-config',
      'NetworkPolicy/cache', 'NetworkPolicy/cache-sentinel',
      'PodDisruptionBudget/cache', 'PodDisruptionBudget/cache-sentinel',
      'Service/cache-headless', 'Service/cache-sentinel', 'Service/cache-sentinel-headless',
      'StatefulSet/cache', 'StatefulSet/cache-sentinel',
    ]);
  });

  it('runs 1 primary + 2 replicas and 3 Sentinels (seeds 000, 003), started in parallel', () => {
    expect(sts.spec.replicas).toBe(3);
    expect(sentinelSts.spec.replicas).toBe(3);
    for (const s of [sts, sentinelSts]) {
      expect(s.spec.podManagementPolicy).toBe('Parallel');
      expect(s.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
    }
    expect(sts.spec.serviceName).toBe('cache-headless');
    expect(sentinelSts.spec.serviceName).toBe('cache-sentinel-headless');
  });

  it('gives every pod a stable DNS name, resolvable before it is ready', () => {
    for (const name of ['cache-headless', 'cache-sentinel-headless']) {
      const svc = find(objects, 'Service', name);
      expect(svc.spec.clusterIP).toBe('None');
      expect(svc.spec.publishNotReadyAddresses).toBe(true);
    }
    const env = envOf(redis);
    expect(env.ANNOUNCE_HOST.value).toBe('$(POD_NAME).cache-headless.$(POD_NAMESPACE).svc.cluster.local');
    expect(env.REDIS_ADDRESSES.value.split(' ')).toEqual([0, 1, 2].map((i) => `cache-${i}.cache-headless.$(POD_NAMESPACE).svc.cluster.local:6379`));
    expect(env.SENTINEL_ADDRESSES.value.split(' ')).toEqual([0, 1, 2].map((i) => `cache-sentinel-${i}.cache-sentinel-headless.$(POD_NAMESPACE).svc.cluster.local:26379`));
    expect(envOf(sentinel).ANNOUNCE_HOST.value).toBe('$(POD_NAME).cache-sentinel-headless.$(POD_NAMESPACE).svc.cluster.local');
    // $(VAR) references only work for variables defined earlier in the list.
    const names = redis.env.map((e: K8sObject) => e.name);
    expect(names.indexOf('POD_NAME')).toBeLessThan(names.indexOf('ANNOUNCE_HOST'));
    expect(names.indexOf('POD_NAMESPACE')).toBeLessThan(names.indexOf('REDIS_ADDRESSES'));
  });

  it('passes the documented Sentinel settings: quorum 2, down-after 5000, failover-timeout 10000, parallel-syncs 1', () => {
    const env = envOf(sentinel);
    expect([env.QUORUM.value, env.DOWN_AFTER_MS.value, env.FAILOVER_TIMEOUT_MS.value, env.PARALLEL_SYNCS.value]).toEqual(['2', '5000', '10000', '1']);
    expect(env.MASTER_NAME.value).toBe('cache');
  });

  it('derives maxmemory from the memory limit at 70 % through the downward API, allkeys-lru', () => {
    const env = envOf(redis);
    expect(env.MEMORY_LIMIT_BYTES.valueFrom).toEqual({ resourceFieldRef: { containerName: 'redis', resource: 'limits.memory', divisor: '1' } });
    expect(env.MAXMEMORY_PERCENT.value).toBe('70');
    expect(env.MAXMEMORY_BYTES).toBeUndefined();
    expect(env.MAXMEMORY_POLICY.value).toBe('allkeys-lru');
    expect(env.MIN_REPLICAS_TO_WRITE.value).toBe('1');
    expect(ha.maxmemoryBytes).toBe(Math.floor(2 ** 30 * 0.7));
  });

  it('sets every variable the scripts require', () => {
    const required = (file: string) => {
      const text = readFileSync(join(SCRIPTS_DIR, file), 'utf8').replace(/\\\n\s*/g, ' ');
      return [...text.matchAll(/^require_env (.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
    };
    const redisVars = required('redis-start.sh');
    const sentinelVars = required('sentinel-start.sh');
    expect(redisVars).toContain('ANNOUNCE_HOST');
    expect(sentinelVars).toContain('QUORUM');
    expect(redisVars.filter((v) => !(v in envOf(redis)))).toEqual([]);
    expect(sentinelVars.filter((v) => !(v in envOf(sentinel)))).toEqual([]);
    expect(['MEMORY_LIMIT_BYTES', 'MAXMEMORY_PERCENT'].filter((v) => !(v in envOf(redis)))).toEqual([]);
  });

  it('ships the config templates and scripts unchanged in the ConfigMap; passwords only from the Secret', () => {
    const cm = find(objects, 'ConfigMap', 'cache-config');
    expect(Object.keys(cm.data).sort()).toEqual([...REDIS_HA_FILES].sort());
    for (const file of REDIS_HA_FILES) expect(cm.data[file]).toBe(readFileSync(join(SCRIPTS_DIR, file), 'utf8'));
    expect(cm.data['redis.conf']).toMatch(/^appendonly yes$/m);
    expect(cm.data['sentinel.conf']).toMatch(/^sentinel resolve-hostnames yes$/m);
    expect(cm.data['sentinel.conf']).toMatch(/^sentinel announce-hostnames yes$/m);
    for (const s of [sts, sentinelSts]) {
      const auth = s.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'auth');
      expect(auth.projected.sources).toEqual([
        { secret: { name: 'cache-redis', items: [{ key: 'password', path: 'redis-password' }] } },
        { secret: { name: 'cache-redis', items: [{ key: 'password', path: 'sentinel-password' }] } },
      ]);
      const run = s.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'run');
      expect(run.emptyDir.medium).toBe('Memory');
      expect(s.spec.template.metadata.annotations['scalecharts.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(JSON.stringify(objects)).not.toMatch(/requirepass\s+"/);
  });

  it('runs hardened as the image user 999 with a read-only root filesystem', () => {
    for (const [s, c] of [[sts, redis], [sentinelSts, sentinel]] as const) {
      const pod = s.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.enableServiceLinks).toBe(false);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.image).toBe('redis:7.0.15-bookworm');
    }
    expect(redis.volumeMounts.map((m: K8sObject) => m.mountPath).sort()).toEqual(['/data', '/etc/redis-ha', '/etc/redis-ha-auth', '/run/redis-ha']);
  });

  it('keeps the AOF on a persistent volume sized 3 x the memory limit', () => {
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data', labels: sts.spec.selector.matchLabels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } },
    }]);
    expect(defaultStorageSize(100 * 2 ** 20)).toBe('1Gi');
    expect(defaultStorageSize(3 * 2 ** 30)).toBe('9Gi');
    expect(defaultMaxmemoryBytes(2 ** 30)).toBe(751619276);
  });

  it('requires distinct nodes and spreads over zones, one pod at a time in disruptions', () => {
    for (const s of [sts, sentinelSts]) {
      const pod = s.spec.template.spec;
      const term = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      expect(term.topologyKey).toBe('kubernetes.io/hostname');
      expect(term.labelSelector.matchLabels).toEqual(s.spec.selector.matchLabels);
      expect(pod.topologySpreadConstraints.map((c: K8sObject) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }
    for (const name of ['cache', 'cache-sentinel']) {
      expect(find(objects, 'PodDisruptionBudget', name).spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    }
  });

  it('probes through probe.sh: replicas are ready only in sync; startup covers discovery and failover waits', () => {
    expect(redis.readinessProbe.exec.command).toEqual(['sh', '/etc/redis-ha/probe.sh', 'redis-ready']);
    expect(redis.livenessProbe.exec.command).toEqual(['sh', '/etc/redis-ha/probe.sh', 'redis-alive']);
    expect(redis.startupProbe.periodSeconds * redis.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300 + 5 + 20 + 10);
    expect(sentinel.readinessProbe.exec.command).toEqual(['sh', '/etc/redis-ha/probe.sh', 'sentinel-ready']);
  });

  it('uses requests = limits for memory (1Gi) and documented Sentinel resources', () => {
    expect(redis.resources).toEqual({ requests: { cpu: '250m', memory: '1Gi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '256Mi' } });
    expect(sentinel.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '250m', memory: '128Mi', 'ephemeral-storage': '256Mi' } });
  });

  it('publishes typed connection info for Sentinel clients', () => {
    expect(ha.connection).toEqual({
      mode: 'sentinel',
      sentinelHost: 'cache-sentinel',
      sentinelPort: 26379,
      sentinelHosts: ['cache-sentinel-0.cache-sentinel-headless', 'cache-sentinel-1.cache-sentinel-headless', 'cache-sentinel-2.cache-sentinel-headless'],
      masterName: 'cache',
      redisPort: 6379,
      passwordSecret: SECRET,
      sentinelPasswordSecret: SECRET,
    });
    const svc = find(objects, 'Service', 'cache-sentinel');
    expect(svc.spec.ports).toEqual([{ name: 'sentinel', port: 26379, targetPort: 'sentinel', protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual(sentinelSts.spec.selector.matchLabels);
  });

  it('declares Helm knobs whose targets hold their defaults', () => {
    const knobs = Knobs.of(ha);
    expect(knobs.map((k) => k.key)).toEqual([
      'image.repository', 'image.tag',
      'resources.requests.cpu', 'resources.requests.memory', 'resources.limits.cpu', 'resources.limits.memory',
      'maxmemoryPolicy', 'persistence.size', 'quorum',
    ]);
    const at = (o: K8sObject, path: ReadonlyArray<string | number>) => path.reduce((v: K8sObject, k) => v?.[k], o);
    for (const knob of knobs) {
      for (const t of knob.targets) {
        const value = at(t.object.toJson(), t.path);
        if (t.fragment) expect(value).toContain(t.fragment);
        else if (t.template) expect(value).toBe(knob.key === 'quorum' ? String(knob.default) : 'redis:7.0.15-bookworm');
        else expect(value).toBe(knob.default);
      }
    }
    expect(knobs.find((k) => k.key === 'maxmemoryPolicy')!.schema.enum).toContain('noeviction');
  });
});

describe('RedisHA options', () => {
  it('takes an explicit maxmemory below the limit, another policy and no persistence', () => {
    const { objects, ha } = redisHA({ maxmemory: '600Mi', maxmemoryPolicy: 'volatile-lru', persistence: false, minReplicasToWrite: 0 });
    const sts = find(objects, 'StatefulSet', 'cache');
    const env = envOf(container(sts, 'redis'));
    expect(env.MAXMEMORY_BYTES.value).toBe(String(600 * 2 ** 20));
    expect(env.MAXMEMORY_PERCENT).toBeUndefined();
    expect(env.MAXMEMORY_POLICY.value).toBe('volatile-lru');
    expect(env.MIN_REPLICAS_TO_WRITE.value).toBe('0');
    expect(ha.maxmemoryBytes).toBe(600 * 2 ** 20);
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(Knobs.of(ha).map((k) => k.key)).not.toContain('persistence.size');
  });

  it('scales to 5 Sentinels with quorum 3 and 3 replicas, with a separate Sentinel password and storage class', () => {
    const { objects, ha } = redisHA({
      sentinels: 5, quorum: 3, replicas: 3, parallelSyncs: 2, masterName: 'sessions',
      sentinelPasswordSecret: { secretName: 'cache-sentinel', key: 'pw' },
      persistence: { size: '20Gi', storageClassName: 'fast-ssd' },
      resources: { requests: { memory: '4Gi' }, limits: { memory: '4Gi' } },
    });
    expect(find(objects, 'StatefulSet', 'cache').spec.replicas).toBe(4);
    expect(find(objects, 'StatefulSet', 'cache-sentinel').spec.replicas).toBe(5);
    const env = envOf(container(find(objects, 'StatefulSet', 'cache-sentinel'), 'sentinel'));
    expect([env.QUORUM.value, env.PARALLEL_SYNCS.value, env.MASTER_NAME.value]).toEqual(['3', '2', 'sessions']);
    expect(env.SENTINEL_ADDRESSES.value.split(' ')).toHaveLength(5);
    expect(envOf(container(find(objects, 'StatefulSet', 'cache'), 'redis')).REDIS_ADDRESSES.value.split(' ')).toHaveLength(4);
    expect(find(objects, 'StatefulSet', 'cache').spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } });
    expect(ha.connection.sentinelPasswordSecret).toEqual({ secretName: 'cache-sentinel', key: 'pw' });
    expect(ha.connection.sentinelHosts).toHaveLength(5);
  });

  it('adds redis_exporter sidecars, ServiceMonitors and the five alerts, scoped to the namespace', () => {
    const { objects } = redisHA({ metrics: { interval: '15s' } }, { namespace: 'shop' });
    for (const [name, c, port] of [['cache', 'redis', 6379], ['cache-sentinel', 'sentinel', 26379]] as const) {
      const sts = find(objects, 'StatefulSet', name);
      const exporter = container(sts, 'metrics');
      expect(exporter.image).toBe('oliver006/redis_exporter:v1.69.0');
      expect(envOf(exporter).REDIS_ADDR.value).toBe(`redis://127.0.0.1:${port}`);
      // The password comes from a file in the memory-backed dir, written by an init container from the Secret.
      expect(envOf(exporter).REDIS_PASSWORD).toBeUndefined();
      expect(envOf(exporter).REDIS_PASSWORD_FILE.value).toBe('/run/redis-ha/exporter-passwords.json');
      expect(exporter.volumeMounts).toEqual([{ name: 'run', mountPath: '/run/redis-ha', readOnly: true }]);
      const init = sts.spec.template.spec.initContainers[0];
      expect(init.command).toEqual(['sh', '/etc/redis-ha/exporter-auth.sh']);
      expect(envOf(init).EXPORTER_ADDR.value).toBe(`redis://127.0.0.1:${port}`);
      expect(envOf(init).EXPORTER_AUTH_FILE.value).toBe(`/etc/redis-ha-auth/${c === 'redis' ? 'redis' : 'sentinel'}-password`);
      expect(exporter.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container(sts, c).name).toBe(c);
      expect(find(objects, 'Service', `${name}-headless`).spec.ports.map((p: K8sObject) => p.name)).toContain('metrics');
      const sm = find(objects, 'ServiceMonitor', name);
      expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s' }]);
      expect(sm.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
    }
    const rules = find(objects, 'PrometheusRule', 'cache').spec.groups[0].rules;
    expect(rules.map((r: K8sObject) => r.alert)).toEqual([
      'RedisMasterMissing', 'RedisMultipleMasters', 'RedisReplicasDisconnected', 'RedisSentinelQuorumLost', 'RedisMemoryNearMaxmemory',
    ]);
    for (const r of rules) expect(r.expr).toContain('namespace="shop"');
    expect(rules[2].expr).toContain('< 2');
    expect(rules[3].expr).toContain('master_name="cache"');
    expect(rules[3].expr).toContain('service="cache-sentinel-headless"');
    expect(rules[4].expr).toContain('> 0.9');
  });

  it('can skip the monitoring objects but keep the exporters', () => {
    const { objects } = redisHA({ metrics: { serviceMonitor: false, alerts: false } });
    expect(findAll(objects, 'ServiceMonitor')).toHaveLength(0);
    expect(findAll(objects, 'PrometheusRule')).toHaveLength(0);
    expect(container(find(objects, 'StatefulSet', 'cache'), 'metrics').name).toBe('metrics');
  });

  it('honours presets: registry, labels, pod annotations and placement; not stateless resources', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, {
        imageRegistry: 'registry.example.com/mirror', labels: { team: 'core' }, podAnnotations: { 'example.com/owner': 'core' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
        resources: { limits: { memory: '256Mi' } },
      });
      new RedisHA(chart, 'cache', { passwordSecret: SECRET, metrics: true });
    });
    const sts = find(objects, 'StatefulSet', 'cache');
    expect(container(sts, 'redis').image).toBe('registry.example.com/mirror/redis:7.0.15-bookworm');
    expect(container(sts, 'metrics').image).toBe('registry.example.com/mirror/oliver006/redis_exporter:v1.69.0');
    expect(container(sts, 'redis').resources.limits.memory).toBe('1Gi');
    expect(sts.metadata.labels.team).toBe('core');
    expect(sts.spec.template.metadata.annotations['example.com/owner']).toBe('core');
    expect(find(objects, 'StatefulSet', 'cache-sentinel').spec.template.spec.tolerations).toHaveLength(1);
  });
});

describe('RedisHA scripts', () => {
  it('pass shellcheck as POSIX sh', () => {
    const scripts = [...new Set([...REDIS_HA_FILES, ...REDIS_STANDALONE_FILES])].filter((f) => f.endsWith('.sh')).map((f) => join(SCRIPTS_DIR, f));
    expect(scripts).toHaveLength(8);
    const result = spawnSync('shellcheck', ['--shell=sh', '--external-sources', `--source-path=${SCRIPTS_DIR}`, ...scripts], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('start with a POSIX shebang and set -eu', () => {
    for (const f of ['redis-start.sh', 'sentinel-start.sh', 'probe.sh', 'prestop.sh', 'standalone-start.sh', 'exporter-auth.sh']) {
      const text = readFileSync(join(SCRIPTS_DIR, f), 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toMatch(/^set -eu$/m);
    }
  });
});

describe('RedisHA validation', () => {
  const make = (props: Partial<RedisHAProps>, id = 'cache') => () => build((chart: Chart) => new RedisHA(chart, id, { passwordSecret: SECRET, ...props }));

  it.each([4, 2, 1, 0, 3.5, 11])('%s Sentinels (even, fewer than 3 or not a supported count)', (sentinels) => {
    expectValidationError(make({ sentinels }), { path: 'test/cache', property: 'sentinels', value: sentinels, allowed: /odd and at least 3/ });
  });
  it('quorum that is not a majority, or above the Sentinel count', () => {
    expectValidationError(make({ quorum: 1 }), { path: 'test/cache', property: 'quorum', value: 1, allowed: /majority of the 3 Sentinels: from 2 to 3/ });
    expectValidationError(make({ sentinels: 5, quorum: 2 }), { path: 'test/cache', property: 'quorum', value: 2, allowed: /from 3 to 5/ });
    expectValidationError(make({ quorum: 4 }), { path: 'test/cache', property: 'quorum', value: 4 });
  });
  it('0 replicas', () => {
    expectValidationError(make({ replicas: 0 }), { path: 'test/cache', property: 'replicas', value: 0, allowed: /from 1 to 9/ });
  });
  it('maxmemory at or above the memory limit', () => {
    expectValidationError(make({ maxmemory: '2Gi' }), { path: 'test/cache', property: 'maxmemory', value: '2Gi', allowed: /below resources\.limits\.memory \(1Gi\)/ });
    expectValidationError(make({ maxmemory: '1Gi' }), { path: 'test/cache', property: 'maxmemory', value: '1Gi' });
    expectValidationError(make({ maxmemory: 'lots' }), { path: 'test/cache', property: 'maxmemory', value: 'lots', allowed: /memory quantity/ });
  });
  it('memory above 100 GiB points to cluster mode', () => {
    const err = expectValidationError(make({ resources: { requests: { memory: '128Gi' }, limits: { memory: '128Gi' } } }),
      { path: 'test/cache', property: 'resources.limits.memory', value: '128Gi', allowed: /Redis Cluster mode/ });
    expect(err.message).toMatch(/at most 100Gi/);
    expect(() => make({ resources: { requests: { memory: '100Gi' }, limits: { memory: '100Gi' } } })()).not.toThrow();
  });
  it('unknown maxmemory-policy', () => {
    expectValidationError(make({ maxmemoryPolicy: 'lru' as never }), { path: 'test/cache', property: 'maxmemoryPolicy', value: 'lru', allowed: /"allkeys-lru"/ });
  });
  it('Sentinel timings and replica settings out of range', () => {
    expectValidationError(make({ downAfterMilliseconds: 500 }), { path: 'test/cache', property: 'downAfterMilliseconds', value: 500 });
    expectValidationError(make({ failoverTimeoutMilliseconds: 1.5 }), { path: 'test/cache', property: 'failoverTimeoutMilliseconds', value: 1.5 });
    expectValidationError(make({ parallelSyncs: 3 }), { path: 'test/cache', property: 'parallelSyncs', value: 3, allowed: /from 1 to 2/ });
    expectValidationError(make({ minReplicasToWrite: 3 }), { path: 'test/cache', property: 'minReplicasToWrite', value: 3, allowed: /from 0 to 2/ });
  });
  it('password Secret missing or malformed', () => {
    expectValidationError(() => build((chart) => new RedisHA(chart, 'cache', { passwordSecret: 'cache-redis' } as never)), { path: 'test/cache', property: 'passwordSecret', allowed: /Secret key reference \{ secretName, key \}/ });
    expectValidationError(make({ passwordSecret: { secretName: 'Bad_Name', key: 'password' } }), { path: 'test/cache', property: 'passwordSecret.secretName', value: 'Bad_Name' });
    expectValidationError(make({ sentinelPasswordSecret: { secretName: 'ok', key: 'a/b' } }), { path: 'test/cache', property: 'sentinelPasswordSecret.key', value: 'a/b' });
  });
  it('names, images and volumes', () => {
    expectValidationError(make({ name: 'a'.repeat(41) }), { path: 'test/cache', property: 'name', allowed: /at most 40/ });
    expectValidationError(make({}, 'Cache'), { path: 'test/Cache', property: 'name', value: 'Cache' });
    expectValidationError(make({ masterName: 'my master' }), { path: 'test/cache', property: 'masterName', value: 'my master' });
    expectValidationError(make({ image: 'redis' }), { path: 'test/cache', property: 'image', value: 'redis', allowed: /pinned/ });
    expectValidationError(make({ metrics: { exporterImage: 'oliver006/redis_exporter:latest' } }), { path: 'test/cache', property: 'metrics.exporterImage', value: 'oliver006/redis_exporter:latest' });
    expectValidationError(make({ persistence: { size: '10 GB' } }), { path: 'test/cache', property: 'persistence.size', value: '10 GB' });
    expectValidationError(make({ clusterDomain: 'Cluster.Local' }), { path: 'test/cache', property: 'clusterDomain', value: 'Cluster.Local' });
  });
  it('reports every mistake at once (one resolve step), each with path, property, value and what is allowed, and renders nothing', () => {
    const chart = new Chart(Testing.app(), 'test');
    new RedisHA(chart, 'cache', { passwordSecret: SECRET, sentinels: 4, maxmemory: '0.5', resources: { requests: { cpu: '2' } } });
    const errors = validateAll(chart);
    expect(errors.map((e) => [e.constructPath, e.property, e.value])).toEqual([
      ['test/cache', 'sentinels', 4], ['test/cache', 'resources.requests.cpu', '2'], ['test/cache', 'maxmemory', '0.5'],
    ]);
    expect(errors[0].allowed).toMatch(/odd and at least 3/);
    expect(errors[1].allowed).toMatch(/must not exceed limits\.cpu \(1\)/);
    expect(errors[2].allowed).toMatch(/whole bytes/);
    for (const e of errors) expect(e.message).toContain('test/cache');
    expect(() => throwIfInvalid(chart)).toThrow(ValidationErrors);
    expect(chart.node.findAll().filter((c) => ['redis', 'sentinel', 'config'].includes(c.node.id))).toEqual([]);
  });
  it('quorum is checked against the Sentinels only when both are valid, and a refused name still gives a connection', () => {
    const chart = new Chart(Testing.app(), 'test');
    const ha = new RedisHA(chart, 'cache', { passwordSecret: SECRET, sentinels: 6, quorum: 2, name: 'Bad_Name' });
    expect(validateAll(chart).map((e) => e.property)).toEqual(['name', 'sentinels']);
    expect(ha.connection.masterName).toBe(ha.name);
  });
});

it('keeps the documented Redis defaults in lib/defaults.ts', () => {
  expect(REDIS).toMatchObject({ replicas: 2, sentinels: 3, quorum: 2, maxmemoryPolicy: 'allkeys-lru', appendonly: true, clusterModeMemoryGiB: 100 });
});

describe('sessions example', () => {
  it('wires the web tier to the RedisHA through its connection info', () => {
    const objects = synthApp((app) => { sessions(app); });
    const web = envOf(container(find(objects, 'Deployment', 'web')));
    expect(web.REDIS_SENTINELS.value).toBe([0, 1, 2].map((i) => `session-store-sentinel-${i}.session-store-sentinel-headless:26379`).join(','));
    expect(web.REDIS_MASTER_NAME.value).toBe('session-store');
    // The generated password Secret (no passwordSecret given): the chart creates it per release.
    expect(web.REDIS_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'session-store-password', key: 'password' });
    expect(web.REDIS_SENTINEL_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'session-store-password', key: 'password' });
    expect(find(objects, 'StatefulSet', 'session-store').metadata.namespace).toBe('sessions');
    expect(findAll(objects, 'PrometheusRule')).toHaveLength(1);
  });
});

describe('RedisHA switchover and cold start settings', () => {
  const { objects } = redisHA();
  const sts = find(objects, 'StatefulSet', 'cache');
  const redis = container(sts, 'redis');

  it('hands the master over in a preStop hook, within a grace period that covers both waits and shutdown', () => {
    expect(redis.lifecycle.preStop.exec.command).toEqual(['sh', '/etc/redis-ha/prestop.sh']);
    expect(envOf(redis).SWITCHOVER_TIMEOUT_SECONDS.value).toBe('10');
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBe(2 * 10 + 20);
  });

  it('waits down-after + 2 x failover-timeout + 10 s for missing pods at a cold start, unless told otherwise', () => {
    expect(envOf(redis).COLD_START_WAIT_SECONDS.value).toBe('35');
    const custom = container(find(redisHA({ coldStartWaitSeconds: 90, switchoverTimeoutSeconds: 5 }).objects, 'StatefulSet', 'cache'), 'redis');
    expect(envOf(custom).COLD_START_WAIT_SECONDS.value).toBe('90');
    expect(envOf(custom).SWITCHOVER_TIMEOUT_SECONDS.value).toBe('5');
  });

  it.each([['coldStartWaitSeconds', 0], ['coldStartWaitSeconds', 1.5], ['switchoverTimeoutSeconds', 61], ['switchoverTimeoutSeconds', -5]])(
    'refuses %s = %s', (property, value) => {
      expectValidationError(() => redisHA({ [property]: value }), { path: 'test/cache', property, value });
    });
});

describe("RedisHA mode: 'standalone'", () => {
  const { objects, ha } = redisHA({ mode: 'standalone', metrics: true }, { namespace: 'dev' });
  const sts = find(objects, 'StatefulSet', 'cache');
  const redis = container(sts, 'redis');

  it('runs one Redis behind a Service, without Sentinels, replicas or a preStop switchover', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/cache-config', 'NetworkPolicy/cache', 'PodDisruptionBudget/cache', 'PrometheusRule/cache',
      'Service/cache', 'Service/cache-headless', 'ServiceMonitor/cache', 'StatefulSet/cache',
    ]);
    expect(sts.spec.replicas).toBe(1);
    expect(redis.command).toEqual(['sh', '/etc/redis-ha/standalone-start.sh']);
    expect(redis.lifecycle).toBeUndefined();
    expect(Object.keys(find(objects, 'ConfigMap', 'cache-config').data).sort()).toEqual([...REDIS_STANDALONE_FILES].sort());
    expect(Object.keys(envOf(redis))).not.toContain('SENTINEL_ADDRESSES');
    expect(find(objects, 'Service', 'cache').spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(find(objects, 'PrometheusRule', 'cache').spec.groups[0].rules.map((r: K8sObject) => r.alert))
      .toEqual(['RedisMasterMissing', 'RedisMemoryNearMaxmemory']);
  });

  it('publishes the same connection contract: connectRedis sets REDIS_HOST / REDIS_PORT / REDIS_PASSWORD', () => {
    expect(ha.connection).toEqual({ mode: 'standalone', host: 'cache', sentinelHosts: [], masterName: 'cache', redisPort: 6379, passwordSecret: SECRET });
    const app = synth((chart) => {
      const cache = new RedisHA(chart, 'cache', { passwordSecret: SECRET, mode: 'standalone' });
      connectRedis(new StatelessService(chart, 'web', { image: 'ghcr.io/example/web:1.0.0' }), cache);
    });
    const env = Object.fromEntries(container(find(app, 'Deployment', 'web')).env.map((e: K8sObject) => [e.name, e]));
    expect(env.REDIS_HOST.value).toBe('cache');
    expect(env.REDIS_PORT.value).toBe('6379');
    expect(env.REDIS_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'cache-redis', key: 'password' });
    expect(env.REDIS_SENTINELS).toBeUndefined();
  });

  it('is what the development tier runs', () => {
    const dev = synth((chart) => {
      Presets.apply(chart, TIERS.development);
      new RedisHA(chart, 'cache', { passwordSecret: SECRET });
    });
    expect(findAll(dev, 'StatefulSet').map((s) => `${s.metadata.name}=${s.spec.replicas}`)).toEqual(['cache=1']);
    const explicit = synth((chart) => {
      Presets.apply(chart, TIERS.development);
      new RedisHA(chart, 'cache', { passwordSecret: SECRET, mode: 'sentinel' });
    });
    expect(findAll(explicit, 'StatefulSet').map((s) => s.metadata.name).sort()).toEqual(['cache', 'cache-sentinel']);
  });

  it.each([['replicas', 2], ['sentinels', 3], ['minReplicasToWrite', 1], ['quorum', 2]])(
    'refuses the Sentinel-only prop %s', (property, value) => {
      expectValidationError(() => redisHA({ mode: 'standalone', [property]: value }), { path: 'test/cache', property, value });
    });

  it('refuses an unknown mode', () => {
    expectValidationError(() => redisHA({ mode: 'cluster' as never }), { path: 'test/cache', property: 'mode', value: 'cluster' });
  });
});

describe('RedisHA NetworkPolicies (on by default)', () => {
  const app = (opts: { networkPolicy?: RedisHAProps['networkPolicy']; mode?: RedisHAProps['mode'] } = {}) => synth((chart) => {
    const cache = new RedisHA(chart, 'cache', { passwordSecret: SECRET, metrics: { serviceMonitor: false, alerts: false }, ...opts });
    connectRedis(new StatelessService(chart, 'web', { image: 'ghcr.io/example/web:1.0.0' }), cache);
  }, { namespace: 'shop' });
  const peersOf = (policy: K8sObject) => policy.spec.ingress[0].from;

  it('admits members, Sentinels and wired clients to the data and Sentinel ports; the exporter port to anyone', () => {
    const objects = app();
    const web = find(objects, 'Deployment', 'web').spec.selector.matchLabels;
    const redisSel = find(objects, 'StatefulSet', 'cache').spec.selector.matchLabels;
    const sentinelSel = find(objects, 'StatefulSet', 'cache-sentinel').spec.selector.matchLabels;
    for (const [name, selector, port] of [['cache', redisSel, 6379], ['cache-sentinel', sentinelSel, 26379]] as const) {
      const np = find(objects, 'NetworkPolicy', name);
      expect(np.spec.podSelector.matchLabels).toEqual(selector);
      expect(np.spec.policyTypes).toEqual(['Ingress']);
      expect(peersOf(np)).toEqual([{ podSelector: { matchLabels: redisSel } }, { podSelector: { matchLabels: sentinelSel } }, { podSelector: { matchLabels: web } }]);
      expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port }]);
      expect(np.spec.ingress[1]).toEqual({ ports: [{ protocol: 'TCP', port: 9121 }] });
    }
  });

  it('adds clientLabels, and KEDA\'s namespace once a WorkerPool scales on the Redis', () => {
    const objects = synth((chart) => {
      const cache = new RedisHA(chart, 'cache', { passwordSecret: SECRET, networkPolicy: { clientLabels: { team: 'ops' }, kedaNamespace: 'autoscaling' } });
      new WorkerPool(chart, 'jobs', {
        image: 'ghcr.io/example/worker:1.0.0', queue: 'jobs',
        scaling: { triggers: [{ type: 'redis-streams', redis: cache.connection, consumerGroup: 'jobs', lagCount: 5 }] },
      });
    }, { namespace: 'shop' });
    const peers = peersOf(find(objects, 'NetworkPolicy', 'cache'));
    expect(peers).toContainEqual({ podSelector: { matchLabels: { team: 'ops' } } });
    expect(peers).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'autoscaling' } } });
    expect(peers).toContainEqual({ podSelector: { matchLabels: find(objects, 'Deployment', 'jobs').spec.selector.matchLabels } });
  });

  it('standalone: one policy, clients only; networkPolicy: false leaves none', () => {
    // The wired StatelessService 'web' has a policy of its own (on by default, issue 18); only Redis's are counted.
    const redisPolicies = (objects: K8sObject[]) => findAll(objects, 'NetworkPolicy').map((p) => p.metadata.name).filter((n) => n !== 'web');
    expect(redisPolicies(app({ mode: 'standalone' }))).toEqual(['cache']);
    expect(redisPolicies(app({ networkPolicy: false }))).toHaveLength(0);
  });

  it('refuses empty or invalid client labels', () => {
    expectValidationError(() => redisHA({ networkPolicy: { clientLabels: {} } }), { path: 'test/cache', property: 'networkPolicy.clientLabels' });
  });
});
