import type { IConstruct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { Problems } from '../core/problems';
import {
  Rule, dns1035Label, dns1123Subdomain, integerRule, isRecord, parseQuantity, prometheusDuration, quantityAtScale,
  quantityRule,
} from '../core/rules';
import { REDIS } from '../defaults';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import type { ResolvedResources } from '../pod';
import type { Preset } from '../presets';
import { GIB } from '../validate';
import { resolveImage, secretKeyRef } from '../workloads/container';
import { resolveWorkloadResources } from '../workloads/scaling';
import { fallbackName, resolvePartOf } from '../workloads/stateless-resolve';
import { checkClientLabels } from './network-policy';
import type { RedisHAProps } from './redis-ha';

/** Eviction policies Redis 7 accepts for `maxmemory-policy`. */
export const MAXMEMORY_POLICIES = [
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'noeviction',
] as const;
export type MaxmemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];

/** `sentinel`: 1 primary + replicas with Sentinel failover; `standalone`: one Redis, no Sentinels (development). */
export const REDIS_MODES = ['sentinel', 'standalone'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];

/** Props that only mean something with Sentinels and replicas. */
const SENTINEL_ONLY_PROPS = [
  'replicas', 'sentinels', 'quorum', 'masterName', 'sentinelPasswordSecret', 'sentinelResources', 'downAfterMilliseconds',
  'failoverTimeoutMilliseconds', 'parallelSyncs', 'minReplicasToWrite', 'coldStartWaitSeconds', 'switchoverTimeoutSeconds',
] as const;

const SENTINEL_COUNTS = [3, 5, 7, 9];
const CLUSTER_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Stands in for a refused Secret reference while resolving goes on (nothing is rendered from it). */
const INVALID_REF: SecretKeyRef = { secretName: 'invalid', key: 'invalid' };

/** A RedisHA after defaults, preset and validation: everything rendering needs, nothing it must check. */
export interface ResolvedRedisHA {
  readonly name: string;
  readonly masterName: string;
  readonly mode: RedisMode;
  readonly standalone: boolean;
  readonly image: string;
  readonly passwordSecret: SecretKeyRef;
  /** The password Secret is ours to generate (no `passwordSecret` given): rendering creates the GeneratedSecret. */
  readonly generatePassword: boolean;
  readonly sentinelPasswordSecret: SecretKeyRef;
  /** Replicas besides the primary (0 in standalone). */
  readonly replicas: number;
  readonly sentinels: number;
  readonly quorum: number;
  readonly downAfterMilliseconds: number;
  readonly failoverTimeoutMilliseconds: number;
  readonly parallelSyncs: number;
  readonly minReplicasToWrite: number;
  readonly maxmemoryPolicy: MaxmemoryPolicy;
  /** Seconds within which a failover that can still happen has happened (detection + two elections + slack). */
  readonly failoverBoundSeconds: number;
  readonly coldStartWaitSeconds: number;
  readonly switchoverTimeoutSeconds: number;
  readonly clusterDomain: string;
  readonly resources: ResolvedResources;
  readonly sentinelResources: ResolvedResources;
  readonly maxmemoryBytes: number;
  /** `maxmemory` was given (the pods get bytes), else they derive it from their limit (percent). */
  readonly explicitMaxmemory: boolean;
  readonly persistence?: { readonly size: string; readonly storageClassName?: string };
  readonly metrics?: { readonly interval?: string; readonly serviceMonitor: boolean; readonly alerts: boolean; readonly exporterImage: string };
  readonly names: { readonly sentinel: string; readonly headless: string; readonly sentinelHeadless: string };
  readonly redisSelector: Record<string, string>;
  readonly sentinelSelector: Record<string, string>;
  readonly redisLabels: Record<string, string>;
  readonly sentinelLabels: Record<string, string>;
  readonly networkPolicy?: { readonly clientLabels?: Record<string, string>; readonly kedaNamespace: string };
  readonly preset: Preset;
}

/** maxmemory for a memory limit: 70 % of it, the same integer arithmetic redis-start.sh does. */
export function defaultMaxmemoryBytes(limitBytes: number): number {
  return Math.floor((Math.floor(limitBytes) * REDIS.maxmemoryPercent) / 100);
}

/** Volume size for a memory limit: 3 x the limit in whole GiB, at least 1Gi. */
export function defaultStorageSize(limitBytes: number): string {
  return `${Math.max(1, Math.ceil((REDIS.storagePerMemory * limitBytes) / GIB))}Gi`;
}

/**
 * The resolve step of RedisHA: props + preset + defaults → a resolved spec, or every problem found. Pure apart from
 * reading the enclosing Chart's id (the default part-of).
 */
export function resolveRedisHA(
  scope: IConstruct, id: string, props: RedisHAProps, preset: Preset,
): { spec: ResolvedRedisHA; errors: Problems['errors'] } {
  const p = new Problems(scope);
  if (!isRecord(props)) p.add('props', props, 'must be an object of RedisHA props', true);
  const given: RedisHAProps = isRecord(props) ? props : ({} as RedisHAProps);

  // Suffixes ("-sentinel-headless", StatefulSet ordinals and revision hashes) must still fit 63 characters.
  const name = p.value('name', given.name ?? id, dns1035Label(40), fallbackName(given.name ?? id).slice(0, 40));
  const mode = oneOf(p, 'mode', given.mode ?? preset.redis?.mode ?? REDIS.mode, REDIS_MODES, REDIS.mode as RedisMode);
  const standalone = mode === 'standalone';
  if (standalone) {
    for (const key of SENTINEL_ONLY_PROPS) {
      if (given[key] !== undefined) {
        p.add(key, given[key], "applies to mode 'sentinel' only: a standalone Redis has no replicas and no Sentinels (set mode: 'sentinel')");
      }
    }
  }
  const masterName = p.value('masterName', given.masterName ?? name, stringMatching(MASTER_NAME, "must be 1-64 letters, digits, '.', '_' or '-'"), name);
  const image = resolveImage(p, 'image', given.image ?? REDIS.image, preset.imageRegistry);
  const generatePassword = given.passwordSecret === undefined;
  const passwordSecret = generatePassword
    ? { secretName: `${name}-password`, key: 'password' }
    : secretKeyRef(p, 'passwordSecret', given.passwordSecret) ?? INVALID_REF;
  const sentinelPasswordSecret = given.sentinelPasswordSecret === undefined
    ? passwordSecret : secretKeyRef(p, 'sentinelPasswordSecret', given.sentinelPasswordSecret) ?? INVALID_REF;

  const int = (property: keyof RedisHAProps, fallback: number, range: { min?: number; max?: number }): number =>
    p.value(property, given[property] ?? fallback, integerRule(range), fallback);
  const replicas = standalone ? 0 : int('replicas', REDIS.replicas, { min: 1, max: 9 });
  const sentinelsGiven = given.sentinels ?? REDIS.sentinels;
  const sentinelsOk = SENTINEL_COUNTS.includes(sentinelsGiven);
  if (!sentinelsOk) {
    p.add('sentinels', sentinelsGiven,
      'must be odd and at least 3 (3, 5, 7 or 9): Sentinels act by majority, and an even group survives no more failures than the odd group below it');
  }
  const sentinels = sentinelsOk ? sentinelsGiven : REDIS.sentinels;
  const majority = Math.floor(sentinels / 2) + 1;
  // Without a quorum prop, the majority of the Sentinels asked for (2 of 3, 3 of 5): never an error on a value not set.
  const defaultQuorum = Math.max(REDIS.quorum, majority);
  let quorum = int('quorum', defaultQuorum, { min: 1 });
  if (sentinelsOk && given.quorum !== undefined && quorum === given.quorum && (quorum < majority || quorum > sentinels)) {
    p.add('quorum', quorum, `must be a majority of the ${sentinels} Sentinels: from ${majority} to ${sentinels}`);
    quorum = defaultQuorum;
  }
  const downAfterMilliseconds = int('downAfterMilliseconds', REDIS.downAfterMilliseconds, { min: 1000, max: 600_000 });
  const failoverTimeoutMilliseconds = int('failoverTimeoutMilliseconds', REDIS.failoverTimeoutMilliseconds, { min: 1000, max: 3_600_000 });
  const parallelSyncs = standalone ? 1 : int('parallelSyncs', REDIS.parallelSyncs, { min: 1, max: replicas });
  const minReplicasToWrite = standalone ? 0 : int('minReplicasToWrite', REDIS.minReplicasToWrite, { min: 0, max: replicas });
  const maxmemoryPolicy = oneOf(p, 'maxmemoryPolicy', given.maxmemoryPolicy ?? REDIS.maxmemoryPolicy, MAXMEMORY_POLICIES, REDIS.maxmemoryPolicy as MaxmemoryPolicy);
  const failoverBoundSeconds = Math.ceil(downAfterMilliseconds / 1000 + (2 * failoverTimeoutMilliseconds) / 1000 + 10);
  const coldStartWaitSeconds = int('coldStartWaitSeconds', failoverBoundSeconds, { min: 1, max: 3600 });
  const switchoverTimeoutSeconds = int('switchoverTimeoutSeconds', REDIS.switchoverTimeoutSeconds, { min: 1, max: 60 });
  const clusterDomain = p.value('clusterDomain', given.clusterDomain ?? 'cluster.local',
    stringMatching(CLUSTER_DOMAIN, 'must be a DNS domain such as cluster.local'), 'cluster.local');

  // Presets' resources are sized for stateless workloads; Redis memory sets maxmemory, so only props apply here.
  const noPresetResources: Preset = { ...preset, resources: undefined };
  const resources = resolveWorkloadResources(p, given.resources, noPresetResources, REDIS);
  const sentinelResources = resolveWorkloadResources(p, given.sentinelResources, noPresetResources,
    { requests: REDIS.sentinelRequests, limits: REDIS.sentinelLimits }, 'sentinelResources');
  if (resources.limitBytes > REDIS.clusterModeMemoryGiB * GIB) {
    p.add('resources.limits.memory', resources.limits.memory,
      `must be at most ${REDIS.clusterModeMemoryGiB}Gi: RedisHA keeps the whole data set on every pod; past ~${REDIS.clusterModeMemoryGiB} GB (or ~50k RPS) shard with Redis Cluster mode, which RedisHA does not provide (seed 000)`);
  }
  let maxmemoryBytes = defaultMaxmemoryBytes(resources.limitBytes);
  let explicitMaxmemory = false;
  if (given.maxmemory !== undefined && p.check('maxmemory', given.maxmemory, quantityRule('memory'))) {
    const bytes = quantityAtScale(parseQuantity(given.maxmemory)!, 0);
    if (bytes >= resources.limitBytes) {
      p.add('maxmemory', given.maxmemory,
        `must be below resources.limits.memory (${resources.limits.memory}) to leave headroom for the AOF-rewrite fork, buffers and fragmentation; the default is ${REDIS.maxmemoryPercent} % of the limit`);
    } else {
      maxmemoryBytes = Math.floor(bytes);
      explicitMaxmemory = true;
    }
  }

  let persistence: ResolvedRedisHA['persistence'];
  if (given.persistence !== false) {
    const gp: unknown = given.persistence ?? {};
    if (!isRecord(gp)) p.add('persistence', gp, 'must be false or { size, storageClassName }', true);
    const pr = isRecord(gp) ? gp : {};
    const fallbackSize = defaultStorageSize(resources.limitBytes);
    const size = p.value('persistence.size', pr.size ?? fallbackSize, quantityRule('memory'), fallbackSize);
    const storageClassName = pr.storageClassName === undefined ? undefined
      : p.value<string | undefined>('persistence.storageClassName', pr.storageClassName, dns1123Subdomain(), undefined);
    persistence = { size, ...(storageClassName ? { storageClassName } : {}) };
  }

  let metrics: ResolvedRedisHA['metrics'];
  const gm: unknown = given.metrics;
  if (gm !== undefined && gm !== false) {
    if (gm !== true && !isRecord(gm)) p.add('metrics', gm, 'must be true, false or { exporterImage, interval, serviceMonitor, alerts }', true);
    const m = isRecord(gm) ? gm : {};
    const interval = m.interval === undefined ? undefined : p.value<string | undefined>('metrics.interval', m.interval, prometheusDuration(), undefined);
    const exporterImage = resolveImage(p, 'metrics.exporterImage', m.exporterImage ?? REDIS.exporterImage, preset.imageRegistry);
    metrics = { ...(interval ? { interval } : {}), serviceMonitor: m.serviceMonitor !== false, alerts: m.alerts !== false, exporterImage };
  }

  const names = { sentinel: `${name}-sentinel`, headless: `${name}-headless`, sentinelHeadless: `${name}-sentinel-headless` };
  const partOf = resolvePartOf(p, scope, given.partOf);
  const version = imageVersion(image);
  const redisLabels = standardLabels(scope, { name, component: 'redis', partOf, version }, preset.labels);
  const sentinelLabels = standardLabels(scope, { name: names.sentinel, component: 'sentinel', partOf, version }, preset.labels);

  let networkPolicy: ResolvedRedisHA['networkPolicy'];
  if (given.networkPolicy !== false) {
    const gn: unknown = given.networkPolicy ?? {};
    if (gn !== true && !isRecord(gn)) p.add('networkPolicy', gn, 'must be true, false or { clientLabels, kedaNamespace }', true);
    const np = isRecord(gn) ? gn : {};
    const clientLabels = np.clientLabels === undefined ? undefined
      : p.run(() => checkClientLabels(scope, 'networkPolicy.clientLabels', np.clientLabels as Record<string, string>), undefined);
    const kedaNamespace = p.value('networkPolicy.kedaNamespace', np.kedaNamespace ?? 'keda', dns1123Subdomain(), 'keda');
    networkPolicy = { ...(clientLabels ? { clientLabels } : {}), kedaNamespace };
  }

  return {
    spec: {
      name, masterName, mode, standalone, image, passwordSecret, generatePassword, sentinelPasswordSecret, replicas, sentinels, quorum,
      downAfterMilliseconds, failoverTimeoutMilliseconds, parallelSyncs, minReplicasToWrite, maxmemoryPolicy, failoverBoundSeconds,
      coldStartWaitSeconds, switchoverTimeoutSeconds, clusterDomain, resources, sentinelResources, maxmemoryBytes, explicitMaxmemory,
      persistence, metrics, names,
      redisSelector: selectorLabels(name, 'redis'), sentinelSelector: selectorLabels(names.sentinel, 'sentinel'),
      redisLabels, sentinelLabels, networkPolicy, preset,
    },
    errors: p.errors,
  };
}

function oneOf<T extends string>(p: Problems, property: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  p.add(property, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, typeof value !== 'string');
  return fallback;
}

function stringMatching(re: RegExp, allowed: string): Rule {
  return (v) => (typeof v === 'string' && re.test(v) ? undefined : { allowed, wrongType: typeof v !== 'string' });
}
