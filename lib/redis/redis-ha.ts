import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RedisConnectionInfo, SecretKeyRef } from '../connections';
import { REDIS } from '../defaults';
import { createPdb } from '../disruption';
import { ValidationError } from '../errors';
import { generatedPassword } from '../generated-secret';
import { IMAGE_TAG_REFUSED, KNOB_SCHEMAS, Knobs } from '../knobs';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import { createPrometheusRule, createServiceMonitor, exporterSidecar } from '../monitoring';
import {
  ResolvedResources, ResourceProps, containerSecurityContext, podSecurityContext, presetPlacement, resolveResources,
  spreadScheduling, toResourceRequirements, withRegistry,
} from '../pod';
import { Preset, Presets } from '../presets';
import { prometheusDuration } from '../core/rules';
import { GIB, checkImage, checkInteger, checkObjectName, checkOneOf, checkResourceName, checkRule, parseMemory } from '../validate';
import { withEphemeralStorage } from '../ephemeral-storage';
import { redisAlerts } from './alerts';
import { RedisNetworkPolicyProps, checkClientLabels, createRedisNetworkPolicies, registerRedisAccess } from './network-policy';
import { DatastorePodProps, applyDatastorePodProps } from '../datastore-pod';

/** Eviction policies Redis 7 accepts for `maxmemory-policy`. */
export const MAXMEMORY_POLICIES = [
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'noeviction',
] as const;
export type MaxmemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];

/** Files shipped in `lib/redis/` and mounted from one ConfigMap into every Redis and Sentinel pod. */
export const REDIS_HA_FILES = [
  'redis.conf', 'sentinel.conf', 'common.sh', 'redis-start.sh', 'redis-agent.sh', 'sentinel-start.sh', 'probe.sh', 'prestop.sh',
  'exporter-auth.sh',
] as const;

/** The files of `mode: 'standalone'`: one Redis, nothing to decide. */
export const REDIS_STANDALONE_FILES = ['redis.conf', 'common.sh', 'standalone-start.sh', 'probe.sh', 'exporter-auth.sh'] as const;

/** `sentinel`: 1 primary + replicas with Sentinel failover; `standalone`: one Redis, no Sentinels (development). */
export const REDIS_MODES = ['sentinel', 'standalone'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];

let fileCache: Record<string, string> | undefined;
/** The config templates and scripts, read once per process. */
export function redisHaFiles(): Record<string, string> {
  fileCache ??= Object.fromEntries([...new Set([...REDIS_HA_FILES, ...REDIS_STANDALONE_FILES])]
    .map((f) => [f, readFileSync(join(__dirname, f), 'utf8')]));
  return fileCache;
}

/** Props that only mean something with Sentinels and replicas. */
const SENTINEL_ONLY_PROPS = [
  'replicas', 'sentinels', 'quorum', 'masterName', 'sentinelPasswordSecret', 'sentinelResources', 'downAfterMilliseconds',
  'failoverTimeoutMilliseconds', 'parallelSyncs', 'minReplicasToWrite', 'coldStartWaitSeconds', 'switchoverTimeoutSeconds',
] as const;

/** Where things live inside the pods. */
const PATHS = {
  template: '/etc/redis-ha',
  auth: '/etc/redis-ha-auth',
  config: '/run/redis-ha',
  data: '/data',
} as const;

/** Seconds a starting pod may wait for a master before its script gives up and the kubelet restarts it. */
const DISCOVERY_TIMEOUT_SECONDS = 300;

export interface RedisPersistenceProps {
  /** Volume size per Redis pod. @default 3 x resources.limits.memory, at least 1Gi (AOF base + growth + rewrite) */
  readonly size?: string;
  /** StorageClass of the volumes. @default the cluster's default class */
  readonly storageClassName?: string;
}

export interface RedisMetricsProps {
  /** redis_exporter image, pinned. @default `oliver006/redis_exporter:v1.69.0` */
  readonly exporterImage?: string;
  /** Scrape interval of the ServiceMonitors. @default `30s` */
  readonly interval?: string;
  /** Create ServiceMonitors (Prometheus Operator CRDs). @default true */
  readonly serviceMonitor?: boolean;
  /** Create a PrometheusRule with the RedisHA alerts. @default true */
  readonly alerts?: boolean;
}

export interface RedisHAProps extends DatastorePodProps {
  /**
   * Secret key holding the Redis password: `requirepass` and `masterauth` on every Redis, `auth-pass` on the
   * Sentinels.
   * @default a {@link GeneratedSecret} `<name>-password` (key `password`): generated per release by a Helm chart; for
   * plain manifests create it once (`secretsToCreate` lists the command)
   */
  readonly passwordSecret?: SecretKeyRef;
  /** Secret key holding the Sentinels' own password (`requirepass` on Sentinel). @default `passwordSecret` */
  readonly sentinelPasswordSecret?: SecretKeyRef;
  /** Name prefix of every object. @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /** Official Redis image (Debian variant: the scripts need `sh`, `timeout`, `redis-cli`), pinned. @default `redis:7.0.15-bookworm` */
  readonly image?: string;
  /** Replicas besides the primary. @default 2 (seed 000: 1 primary + 2 replicas) */
  readonly replicas?: number;
  /** Sentinels: odd, at least 3. @default 3 (seed 003) */
  readonly sentinels?: number;
  /** Sentinels that must agree the master is down; a majority of `sentinels`. @default 2, or the majority of `sentinels` */
  readonly quorum?: number;
  /**
   * `sentinel`: 1 primary + `replicas` with Sentinel failover. `standalone`: one Redis and no Sentinels (no
   * failover: for development), reached through the Service `<name>`; the Sentinel-only props are refused.
   * Both publish the same {@link RedisConnectionInfo} (with `mode`), which connectRedis and KEDA triggers follow.
   * @default the preset's `redis.mode` (the development tier: `standalone`), else `sentinel`
   */
  readonly mode?: RedisMode;
  /** Sentinel master group name clients ask for. @default the name */
  readonly masterName?: string;
  /**
   * Milliseconds without a valid reply before a Sentinel considers the master down.
   * @default 5000 (failover in ~7 s; ≤ 30 s even when the first election fails)
   */
  readonly downAfterMilliseconds?: number;
  /** Sentinel failover-timeout; a failed election is retried after twice this. @default 10000 */
  readonly failoverTimeoutMilliseconds?: number;
  /** Replicas that resync with a new master at the same time. @default 1 */
  readonly parallelSyncs?: number;
  /** Redis container resources. @default requests 250m / 1Gi, limits 1 CPU / 1Gi */
  readonly resources?: ResourceProps;
  /** Sentinel container resources. @default requests 50m / 64Mi, limits 250m / 128Mi */
  readonly sentinelResources?: ResourceProps;
  /** Explicit `maxmemory` (e.g. `600Mi`), below the memory limit. @default 70 % of resources.limits.memory */
  readonly maxmemory?: string;
  /** @default `allkeys-lru` (seed 000) */
  readonly maxmemoryPolicy?: MaxmemoryPolicy;
  /**
   * `min-replicas-to-write`: a master with fewer replicas in sync (lag ≤ 10 s) refuses writes, so an old master
   * cut off from the others can't collect writes a failover would discard. 0 keeps writes available instead.
   * @default 1
   */
  readonly minReplicasToWrite?: number;
  /** Persistent volumes for the AOF, or `false` for emptyDir (data survives container restarts only). @default on */
  readonly persistence?: RedisPersistenceProps | false;
  /** redis_exporter sidecars, ServiceMonitors and alerts. @default false */
  readonly metrics?: RedisMetricsProps | boolean;
  /** Cluster DNS domain used in the pods' stable host names. @default `cluster.local` */
  readonly clusterDomain?: string;
  /**
   * Cold start (no live master anywhere): seconds the pods that are up wait for the missing ones before a majority
   * of them (or the Sentinels' last master alone) elects the newest among them. With every pod up they agree at once.
   * @default downAfterMilliseconds + 2 × failoverTimeoutMilliseconds + 10 s (35 s): a failover that can still happen comes first
   */
  readonly coldStartWaitSeconds?: number;
  /**
   * Seconds the master's preStop hook waits for a planned switchover (writes paused, a replica promoted by
   * SENTINEL FAILOVER) before it gives up and lets the pod stop the old way.
   * @default 10
   */
  readonly switchoverTimeoutSeconds?: number;
  /**
   * Ingress NetworkPolicies: the data and Sentinel ports only from the members, from workloads wired with
   * connectRedis or a WorkerPool trigger (and then KEDA's operator), and from `clientLabels`; the exporter port from
   * anywhere. `false` leaves the pods open to every pod of the cluster.
   * @default on
   */
  readonly networkPolicy?: boolean | RedisNetworkPolicyProps;
}

/**
 * Redis with automatic failover: a StatefulSet of Redis pods (1 primary + N replicas) and a StatefulSet of
 * Sentinels, all addressed by stable DNS names. Startup scripts (lib/redis/*.sh) decide each pod's role from what
 * the Sentinels know, so a restarted old master never comes back as a second master.
 */
export class RedisHA extends Construct {
  public readonly name: string;
  public readonly masterName: string;
  /** How clients (and other constructs) reach this deployment through Sentinel. */
  public readonly connection: RedisConnectionInfo;
  public readonly resources: ResolvedResources;
  /** `sentinel` or `standalone`. */
  public readonly mode: RedisMode;
  /** Sentinel container resources (mode `sentinel`). */
  public readonly sentinelResources?: ResolvedResources;
  /** The maxmemory the pods run with, in bytes (derived from the memory limit unless set). */
  public readonly maxmemoryBytes: number;
  public readonly configMap: k8s.KubeConfigMap;
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The Sentinels (mode `sentinel`). */
  public readonly sentinelStatefulSet?: k8s.KubeStatefulSet;
  public readonly headlessService: k8s.KubeService;
  public readonly sentinelHeadlessService?: k8s.KubeService;
  /** ClusterIP Service of the Sentinels: the discovery address clients use (mode `sentinel`). */
  public readonly sentinelService?: k8s.KubeService;
  /** ClusterIP Service of the single Redis (mode `standalone`). */
  public readonly service?: k8s.KubeService;
  public readonly pdb: k8s.KubePodDisruptionBudget;
  public readonly sentinelPdb?: k8s.KubePodDisruptionBudget;
  public readonly serviceMonitors: ApiObject[] = [];
  /** Ingress policies of the Redis (and Sentinel) pods, unless `networkPolicy: false`. */
  public readonly networkPolicies: k8s.KubeNetworkPolicy[] = [];
  public readonly prometheusRule?: ApiObject;

  constructor(scope: Construct, id: string, props: RedisHAProps) {
    super(scope, id);
    const preset = Presets.of(this);
    // Suffixes ("-sentinel-headless", StatefulSet ordinals and revision hashes) must still fit 63 characters.
    this.name = checkResourceName(this, 'name', props.name ?? id, 40);
    this.masterName = props.masterName ?? this.name;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(this.masterName)) {
      throw new ValidationError(this, 'masterName', this.masterName, "must be 1-64 letters, digits, '.', '_' or '-'");
    }
    this.mode = checkOneOf(this, 'mode', props.mode ?? preset.redis?.mode ?? REDIS.mode, REDIS_MODES);
    const standalone = this.mode === 'standalone';
    if (standalone) {
      for (const key of SENTINEL_ONLY_PROPS) {
        if (props[key] !== undefined) {
          throw new ValidationError(this, key, props[key], "applies to mode 'sentinel' only: a standalone Redis has no replicas and no Sentinels (set mode: 'sentinel')");
        }
      }
    }
    const image = checkImage(this, 'image', withRegistry(props.image ?? REDIS.image, preset.imageRegistry));
    const passwordSecret = checkSecretRef(this, 'passwordSecret', props.passwordSecret ?? generatedPassword(this, 'password', `${this.name}-password`));
    const sentinelPasswordSecret = checkSecretRef(this, 'sentinelPasswordSecret', props.sentinelPasswordSecret ?? passwordSecret);

    const replicas = standalone ? 0 : checkInteger(this, 'replicas', props.replicas ?? REDIS.replicas, { min: 1, max: 9 });
    const sentinels = props.sentinels ?? REDIS.sentinels;
    if (![3, 5, 7, 9].includes(sentinels)) {
      throw new ValidationError(this, 'sentinels', sentinels,
        'must be odd and at least 3 (3, 5, 7 or 9): Sentinels act by majority, and an even group survives no more failures than the odd group below it');
    }
    const majority = Math.floor(sentinels / 2) + 1;
    // Without a quorum prop, the majority of the Sentinels asked for (2 of 3, 3 of 5): never an error on a value not set.
    const quorum = checkInteger(this, 'quorum', props.quorum ?? Math.max(REDIS.quorum, majority), { min: 1 });
    if (quorum < majority || quorum > sentinels) {
      throw new ValidationError(this, 'quorum', quorum, `must be a majority of the ${sentinels} Sentinels: from ${majority} to ${sentinels}`);
    }
    const downAfter = checkInteger(this, 'downAfterMilliseconds', props.downAfterMilliseconds ?? REDIS.downAfterMilliseconds, { min: 1000, max: 600_000 });
    const failoverTimeout = checkInteger(this, 'failoverTimeoutMilliseconds', props.failoverTimeoutMilliseconds ?? REDIS.failoverTimeoutMilliseconds, { min: 1000, max: 3_600_000 });
    const parallelSyncs = standalone ? 1 : checkInteger(this, 'parallelSyncs', props.parallelSyncs ?? REDIS.parallelSyncs, { min: 1, max: replicas });
    const minReplicasToWrite = standalone ? 0 : checkInteger(this, 'minReplicasToWrite', props.minReplicasToWrite ?? REDIS.minReplicasToWrite, { min: 0, max: replicas });
    const maxmemoryPolicy = checkOneOf(this, 'maxmemoryPolicy', props.maxmemoryPolicy ?? REDIS.maxmemoryPolicy, MAXMEMORY_POLICIES);
    const failoverBoundSeconds = Math.ceil(downAfter / 1000 + (2 * failoverTimeout) / 1000 + 10);
    const coldStartWait = checkInteger(this, 'coldStartWaitSeconds', props.coldStartWaitSeconds ?? failoverBoundSeconds, { min: 1, max: 3600 });
    const switchoverTimeout = checkInteger(this, 'switchoverTimeoutSeconds', props.switchoverTimeoutSeconds ?? REDIS.switchoverTimeoutSeconds, { min: 1, max: 60 });
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain)) {
      throw new ValidationError(this, 'clusterDomain', clusterDomain, 'must be a DNS domain such as cluster.local');
    }

    // Presets' resources are sized for stateless workloads; Redis memory sets maxmemory, so only props apply here.
    this.resources = resolveResources(this, 'resources', props.resources, undefined, REDIS);
    const sentinelResources = resolveResources(this, 'sentinelResources', props.sentinelResources, undefined,
      { requests: REDIS.sentinelRequests, limits: REDIS.sentinelLimits });
    if (!standalone) this.sentinelResources = sentinelResources;
    if (this.resources.limitBytes > REDIS.clusterModeMemoryGiB * GIB) {
      throw new ValidationError(this, 'resources.limits.memory', this.resources.limits.memory,
        `must be at most ${REDIS.clusterModeMemoryGiB}Gi: RedisHA keeps the whole data set on every pod; past ~${REDIS.clusterModeMemoryGiB} GB (or ~50k RPS) shard with Redis Cluster mode, which RedisHA does not provide (seed 000)`);
    }
    const explicitMaxmemory = props.maxmemory === undefined ? undefined : parseMemory(this, 'maxmemory', props.maxmemory);
    if (explicitMaxmemory !== undefined && explicitMaxmemory >= this.resources.limitBytes) {
      throw new ValidationError(this, 'maxmemory', props.maxmemory,
        `must be below resources.limits.memory (${this.resources.limits.memory}) to leave headroom for the AOF-rewrite fork, buffers and fragmentation; the default is ${REDIS.maxmemoryPercent} % of the limit`);
    }
    this.maxmemoryBytes = explicitMaxmemory === undefined
      ? defaultMaxmemoryBytes(this.resources.limitBytes) : Math.floor(explicitMaxmemory);

    const persistence = props.persistence === false ? undefined : {
      size: props.persistence?.size ?? defaultStorageSize(this.resources.limitBytes),
      storageClassName: props.persistence?.storageClassName,
    };
    if (persistence) {
      parseMemory(this, 'persistence.size', persistence.size);
      if (persistence.storageClassName !== undefined) checkObjectName(this, 'persistence.storageClassName', persistence.storageClassName);
    }
    const metrics = props.metrics === true ? {} : props.metrics || undefined;
    if (metrics?.interval !== undefined) checkRule(this, 'metrics.interval', metrics.interval, prometheusDuration());
    const exporterImage = metrics
      ? checkImage(this, 'metrics.exporterImage', withRegistry(metrics.exporterImage ?? REDIS.exporterImage, preset.imageRegistry))
      : undefined;

    // Names and stable DNS names.
    const sentinelName = `${this.name}-sentinel`;
    const headless = `${this.name}-headless`;
    const sentinelHeadless = `${sentinelName}-headless`;
    const fqdn = (pod: string, service: string) => `${pod}.${service}.$(POD_NAMESPACE).svc.${clusterDomain}`;
    const redisAddresses = range(replicas + 1).map((i) => `${fqdn(`${this.name}-${i}`, headless)}:${REDIS.port}`);
    const sentinelAddresses = range(sentinels).map((i) => `${fqdn(`${sentinelName}-${i}`, sentinelHeadless)}:${REDIS.sentinelPort}`);

    const redisSelector = selectorLabels(this.name, 'redis');
    const sentinelSelector = selectorLabels(sentinelName, 'sentinel');
    const version = imageVersion(image);
    const redisLabels = standardLabels(this, { name: this.name, component: 'redis', partOf: props.partOf, version }, preset.labels);
    const sentinelLabels = standardLabels(this, { name: sentinelName, component: 'sentinel', partOf: props.partOf, version }, preset.labels);

    const allFiles = redisHaFiles();
    const files = Object.fromEntries((standalone ? REDIS_STANDALONE_FILES : REDIS_HA_FILES).map((f) => [f, allFiles[f]]));
    this.configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${this.name}-config`, labels: redisLabels },
      data: { ...files },
    });
    const configHash = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 16);

    // Volumes shared by both pod kinds: the templates/scripts, both passwords as files, a memory-backed config dir.
    const authVolume: k8s.Volume = {
      name: 'auth',
      projected: {
        defaultMode: 0o440,
        sources: [
          { secret: { name: passwordSecret.secretName, items: [{ key: passwordSecret.key, path: 'redis-password' }] } },
          ...(standalone ? [] : [
            { secret: { name: sentinelPasswordSecret.secretName, items: [{ key: sentinelPasswordSecret.key, path: 'sentinel-password' }] } },
          ]),
        ],
      },
    };
    const commonVolumes: k8s.Volume[] = [
      { name: 'templates', configMap: { name: this.configMap.name, defaultMode: 0o444 } },
      authVolume,
      // Memory-backed: the completed config files hold the passwords and must not reach the node's disk.
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
    ];
    const commonMounts: k8s.VolumeMount[] = [
      { name: 'templates', mountPath: PATHS.template, readOnly: true },
      { name: 'auth', mountPath: PATHS.auth, readOnly: true },
      { name: 'run', mountPath: PATHS.config },
    ];
    const commonEnv: k8s.EnvVar[] = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'TEMPLATE_DIR', value: PATHS.template },
      { name: 'CONFIG_DIR', value: PATHS.config },
      // Every interface of the pod (IPv4 and, where present, IPv6); the tests bind loopback addresses instead.
      { name: 'BIND_ADDRESSES', value: '* -::*' },
      { name: 'AUTH_FILE', value: `${PATHS.auth}/redis-password` },
      ...(standalone ? [] : [
        { name: 'MASTER_NAME', value: this.masterName },
        { name: 'REDIS_ADDRESSES', value: redisAddresses.join(' ') },
        { name: 'SENTINEL_ADDRESSES', value: sentinelAddresses.join(' ') },
        { name: 'SENTINEL_AUTH_FILE', value: `${PATHS.auth}/sentinel-password` },
        { name: 'DOWN_AFTER_MS', value: String(downAfter) },
        { name: 'FAILOVER_TIMEOUT_MS', value: String(failoverTimeout) },
        { name: 'DISCOVERY_TIMEOUT_SECONDS', value: String(DISCOVERY_TIMEOUT_SECONDS) },
        { name: 'QUORUM', value: String(quorum) },
        { name: 'PARALLEL_SYNCS', value: String(parallelSyncs) },
      ]),
    ];
    const probe = (mode: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
      exec: { command: ['sh', `${PATHS.template}/probe.sh`, mode] }, periodSeconds, timeoutSeconds: 5, failureThreshold,
    });
    // A Redis pod listens at once (undecided, see redis-agent.sh); the startup probe covers loading a large AOF.
    const startupFailures = Math.ceil((DISCOVERY_TIMEOUT_SECONDS + failoverBoundSeconds + 30) / 5);
    const podAnnotations = { ...preset.podAnnotations, 'scalecharts.io/config-hash': configHash };

    // Redis pods.
    const redisEnv: k8s.EnvVar[] = [
      ...commonEnv,
      { name: 'DATA_DIR', value: PATHS.data },
      { name: 'REDIS_PORT', value: String(REDIS.port) },
      ...(standalone ? [] : [{ name: 'ANNOUNCE_HOST', value: fqdn('$(POD_NAME)', headless) }]),
      { name: 'MEMORY_LIMIT_BYTES', valueFrom: { resourceFieldRef: { containerName: 'redis', resource: 'limits.memory', divisor: k8s.Quantity.fromString('1') } } },
      explicitMaxmemory === undefined
        ? { name: 'MAXMEMORY_PERCENT', value: String(REDIS.maxmemoryPercent) }
        : { name: 'MAXMEMORY_BYTES', value: String(this.maxmemoryBytes) },
      { name: 'MAXMEMORY_POLICY', value: maxmemoryPolicy },
      ...(standalone ? [] : [
        { name: 'MIN_REPLICAS_TO_WRITE', value: String(minReplicasToWrite) },
        { name: 'COLD_START_WAIT_SECONDS', value: String(coldStartWait) },
        { name: 'SWITCHOVER_TIMEOUT_SECONDS', value: String(switchoverTimeout) },
      ]),
    ];
    const redisContainers: k8s.Container[] = [{
      name: 'redis',
      image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', `${PATHS.template}/${standalone ? 'standalone-start.sh' : 'redis-start.sh'}`],
      ports: [{ name: 'redis', containerPort: REDIS.port, protocol: 'TCP' }],
      env: redisEnv,
      resources: toResourceRequirements(this.resources),
      securityContext: containerSecurityContext(true),
      startupProbe: probe('redis-alive', 5, startupFailures),
      livenessProbe: probe('redis-alive', 10, 6),
      readinessProbe: probe('redis-ready', 5, 2),
      // A planned stop of the master hands over to an in-sync replica first (prestop.sh).
      ...(standalone ? {} : { lifecycle: { preStop: { exec: { command: ['sh', `${PATHS.template}/prestop.sh`] } } } }),
      volumeMounts: [...commonMounts, { name: 'data', mountPath: PATHS.data }],
    }];
    const exporterInit = (port: number, authFile: string): k8s.Container[] => (exporterImage ? [{
      name: 'exporter-auth',
      image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', `${PATHS.template}/exporter-auth.sh`],
      env: [
        { name: 'TEMPLATE_DIR', value: PATHS.template },
        { name: 'CONFIG_DIR', value: PATHS.config },
        { name: 'EXPORTER_ADDR', value: `redis://127.0.0.1:${port}` },
        { name: 'EXPORTER_AUTH_FILE', value: `${PATHS.auth}/${authFile}` },
      ],
      resources: {
        requests: { cpu: k8s.Quantity.fromString(REDIS.exporterRequests.cpu), memory: k8s.Quantity.fromString(REDIS.exporterRequests.memory) },
        limits: { cpu: k8s.Quantity.fromString(REDIS.exporterLimits.cpu), memory: k8s.Quantity.fromString(REDIS.exporterLimits.memory) },
      },
      securityContext: containerSecurityContext(true),
      volumeMounts: commonMounts,
    }] : []);
    if (exporterImage) redisContainers.push(exporterContainer(exporterImage, REDIS.port));

    const redisVolumes = [...commonVolumes];
    if (!persistence) redisVolumes.push({ name: 'data', emptyDir: {} });
    this.headlessService = headlessService(this, 'headless', headless, redisLabels, redisSelector,
      [{ name: 'redis', port: REDIS.port }, ...(exporterImage ? [{ name: 'metrics', port: REDIS.exporterPort }] : [])]);
    this.statefulSet = new k8s.KubeStatefulSet(this, 'redis', {
      metadata: { name: this.name, labels: redisLabels },
      spec: {
        serviceName: headless,
        replicas: replicas + 1,
        // The scripts order the start-up; Parallel lets a lost pod 0 not block re-creating the others.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        revisionHistoryLimit: 5,
        selector: { matchLabels: redisSelector },
        template: {
          metadata: { labels: redisLabels, annotations: podAnnotations },
          // The preStop switchover (two waits of switchoverTimeoutSeconds), Redis' shutdown-timeout (10 s waiting
          // for replicas) and the final fsync.
          spec: podSpec(redisSelector, preset, redisContainers, redisVolumes, 2 * switchoverTimeout + 20, exporterInit(REDIS.port, 'redis-password')),
        },
        ...(persistence ? {
          volumeClaimTemplates: [{
            metadata: { name: 'data', labels: redisSelector },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(persistence.storageClassName ? { storageClassName: persistence.storageClassName } : {}),
              resources: { requests: { storage: k8s.Quantity.fromString(persistence.size) } },
            },
          }],
        } : {}),
      },
    });
    this.pdb = createPdb(this, 'pdb', { name: this.name, labels: redisLabels, selector: redisSelector });

    if (standalone) {
      // What clients connect to: the single Redis, by a stable Service name.
      this.service = new k8s.KubeService(this, 'service', {
        metadata: { name: this.name, labels: redisLabels },
        spec: {
          type: 'ClusterIP',
          selector: redisSelector,
          ports: [{ name: 'redis', port: REDIS.port, targetPort: k8s.IntOrString.fromString('redis'), protocol: 'TCP' }],
        },
      });
    } else {
      // Sentinel pods: their own StatefulSet, so a Redis rollout or crash never takes a Sentinel with it.
      const sentinelEnv: k8s.EnvVar[] = [
        ...commonEnv,
        { name: 'SENTINEL_PORT', value: String(REDIS.sentinelPort) },
        { name: 'ANNOUNCE_HOST', value: fqdn('$(POD_NAME)', sentinelHeadless) },
      ];
      const sentinelContainers: k8s.Container[] = [{
        name: 'sentinel',
        image,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', `${PATHS.template}/sentinel-start.sh`],
        ports: [{ name: 'sentinel', containerPort: REDIS.sentinelPort, protocol: 'TCP' }],
        env: sentinelEnv,
        resources: toResourceRequirements(sentinelResources),
        securityContext: containerSecurityContext(true),
        startupProbe: probe('sentinel-ready', 5, Math.ceil((DISCOVERY_TIMEOUT_SECONDS + 30) / 5)),
        livenessProbe: probe('sentinel-ready', 10, 6),
        readinessProbe: probe('sentinel-ready', 5, 2),
        volumeMounts: commonMounts,
      }];
      if (exporterImage) sentinelContainers.push(exporterContainer(exporterImage, REDIS.sentinelPort));
      this.sentinelHeadlessService = headlessService(this, 'sentinel-headless', sentinelHeadless, sentinelLabels, sentinelSelector,
        [{ name: 'sentinel', port: REDIS.sentinelPort }, ...(exporterImage ? [{ name: 'metrics', port: REDIS.exporterPort }] : [])]);
      this.sentinelService = new k8s.KubeService(this, 'sentinel-service', {
        metadata: { name: sentinelName, labels: sentinelLabels },
        spec: {
          type: 'ClusterIP',
          selector: sentinelSelector,
          ports: [{ name: 'sentinel', port: REDIS.sentinelPort, targetPort: k8s.IntOrString.fromString('sentinel'), protocol: 'TCP' }],
        },
      });
      this.sentinelStatefulSet = new k8s.KubeStatefulSet(this, 'sentinel', {
        metadata: { name: sentinelName, labels: sentinelLabels },
        spec: {
          serviceName: sentinelHeadless,
          replicas: sentinels,
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate' },
          revisionHistoryLimit: 5,
          selector: { matchLabels: sentinelSelector },
          template: {
            metadata: { labels: sentinelLabels, annotations: podAnnotations },
            spec: podSpec(sentinelSelector, preset, sentinelContainers, commonVolumes, 30, exporterInit(REDIS.sentinelPort, 'sentinel-password')),
          },
        },
      });
      // One Sentinel at a time: the others keep a majority for any failover during a drain.
      this.sentinelPdb = createPdb(this, 'sentinel-pdb', { name: sentinelName, labels: sentinelLabels, selector: sentinelSelector });
    }

    if (metrics && metrics.serviceMonitor !== false) {
      this.serviceMonitors.push(
        createServiceMonitor(this, 'service-monitor', { name: this.name, labels: redisLabels, selector: redisSelector, endpoints: [{ port: 'metrics', interval: metrics.interval }] }),
      );
      if (!standalone) {
        this.serviceMonitors.push(
          createServiceMonitor(this, 'sentinel-service-monitor', { name: sentinelName, labels: sentinelLabels, selector: sentinelSelector, endpoints: [{ port: 'metrics', interval: metrics.interval }] }),
        );
      }
    }
    if (metrics && metrics.alerts !== false) {
      this.prometheusRule = createPrometheusRule(this, 'alerts', {
        name: this.name, labels: redisLabels, groupName: `${this.name}.redis-ha`,
        // Standalone: no replicas, Sentinels or second master to watch.
        rules: redisAlerts({
          redisService: headless, sentinelService: sentinelHeadless, namespace: Chart.of(this).namespace,
          masterName: this.masterName, replicas, quorum,
        }).filter((r) => !standalone || ['RedisMasterMissing', 'RedisMemoryNearMaxmemory'].includes(r.alert)),
      });
    }

    this.connection = standalone
      ? { mode: 'standalone', host: this.name, sentinelHosts: [], masterName: this.masterName, redisPort: REDIS.port, passwordSecret }
      : {
        mode: 'sentinel',
        sentinelHost: sentinelName,
        sentinelPort: REDIS.sentinelPort,
        sentinelHosts: range(sentinels).map((i) => `${sentinelName}-${i}.${sentinelHeadless}`),
        masterName: this.masterName,
        redisPort: REDIS.port,
        passwordSecret,
        sentinelPasswordSecret,
      };
    if (props.networkPolicy !== false) {
      const np = typeof props.networkPolicy === 'object' ? props.networkPolicy : {};
      const { policies, access } = createRedisNetworkPolicies(this, {
        name: this.name, labels: redisLabels, sentinelLabels: standalone ? undefined : sentinelLabels,
        redisSelector, sentinelSelector: standalone ? undefined : sentinelSelector, metrics: exporterImage !== undefined,
        clientLabels: np.clientLabels === undefined ? undefined : checkClientLabels(this, 'networkPolicy.clientLabels', np.clientLabels),
        kedaNamespace: checkObjectName(this, 'networkPolicy.kedaNamespace', np.kedaNamespace ?? 'keda'),
      });
      this.networkPolicies.push(...policies);
      registerRedisAccess(this.connection, access);
    }
    this.declareKnobs(image, maxmemoryPolicy, redisEnv.findIndex((e) => e.name === 'MAXMEMORY_POLICY'), persistence?.size, exporterImage !== undefined);
    applyDatastorePodProps(this, props);
  }

  private declareKnobs(image: string, maxmemoryPolicy: string, policyEnvIndex: number, storageSize: string | undefined, exporterInit: boolean): void {
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    if (!image.includes('@')) {
      const at = image.lastIndexOf(':');
      const template = '{{ $values.image.repository }}:{{ $values.image.tag }}';
      Knobs.declare(this, {
        key: 'image.repository', description: 'Redis image repository (official image, Debian variant)',
        schema: KNOB_SCHEMAS.imageRepository, default: image.slice(0, at),
        // The Redis image also runs the exporter-auth init container.
        targets: [this.statefulSet, ...(this.sentinelStatefulSet ? [this.sentinelStatefulSet] : [])].flatMap((object) => [
          { object, path: [...containerPath, 'image'], template },
          ...(exporterInit ? [{ object, path: ['spec', 'template', 'spec', 'initContainers', 0, 'image'], template }] : []),
        ]),
      });
      Knobs.declare(this, {
        key: 'image.tag', description: 'Redis image tag (pinned 7.x; "latest" is refused)',
        schema: KNOB_SCHEMAS.imageTag, refused: IMAGE_TAG_REFUSED, default: image.slice(at + 1), targets: [],
      });
    }
    const quantity = KNOB_SCHEMAS.byteQuantity;
    const res = this.resources;
    for (const [kind, field, value] of [
      ['requests', 'cpu', res.requests.cpu], ['requests', 'memory', res.requests.memory],
      ['limits', 'cpu', res.limits.cpu], ['limits', 'memory', res.limits.memory],
    ] as const) {
      Knobs.declare(this, {
        key: `resources.${kind}.${field}`,
        description: field === 'memory' && kind === 'limits'
          ? `Redis memory limit; maxmemory follows it at ${REDIS.maxmemoryPercent} % unless maxmemory is set explicitly`
          : `Redis container ${field} ${kind}`,
        schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : quantity, default: value,
        targets: [{ object: this.statefulSet, path: [...containerPath, 'resources', kind, field] }],
        ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
      });
    }
    Knobs.declare(this, {
      key: 'maxmemoryPolicy', description: 'Redis maxmemory-policy (eviction when maxmemory is reached)',
      schema: { type: 'string', enum: MAXMEMORY_POLICIES }, default: maxmemoryPolicy,
      targets: [{ object: this.statefulSet, path: [...containerPath, 'env', policyEnvIndex, 'value'] }],
    });
    if (storageSize) {
      Knobs.declare(this, {
        key: 'persistence.size', description: 'Volume size per Redis pod (fixed once the StatefulSet exists)',
        schema: quantity, default: storageSize,
        targets: [{ object: this.statefulSet, path: ['spec', 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage'] }],
      });
    }
  }
}

/** maxmemory for a memory limit: 70 % of it, the same integer arithmetic redis-start.sh does. */
export function defaultMaxmemoryBytes(limitBytes: number): number {
  return Math.floor((Math.floor(limitBytes) * REDIS.maxmemoryPercent) / 100);
}

/** Volume size for a memory limit: 3 x the limit in whole GiB, at least 1Gi. */
export function defaultStorageSize(limitBytes: number): string {
  return `${Math.max(1, Math.ceil((REDIS.storagePerMemory * limitBytes) / GIB))}Gi`;
}

function checkSecretRef(scope: Construct, property: string, ref: SecretKeyRef | undefined): SecretKeyRef {
  if (!ref || typeof ref !== 'object') {
    throw new ValidationError(scope, property, ref, 'must name a Secret and key: { secretName, key }; the password never goes into a ConfigMap');
  }
  checkObjectName(scope, `${property}.secretName`, ref.secretName);
  if (typeof ref.key !== 'string' || !/^[-._a-zA-Z0-9]{1,253}$/.test(ref.key)) {
    throw new ValidationError(scope, `${property}.key`, ref.key, "must be a Secret key: letters, digits, '-', '_' or '.'");
  }
  return { secretName: ref.secretName, key: ref.key };
}

/** The exporter reads its password from the JSON file exporter-auth.sh wrote into the memory-backed config dir. */
function exporterContainer(image: string, port: number): k8s.Container {
  const health: k8s.Probe = { httpGet: { path: '/health', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 };
  return exporterSidecar({
    image,
    port: REDIS.exporterPort,
    env: [
      { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${port}` },
      { name: 'REDIS_PASSWORD_FILE', value: `${PATHS.config}/exporter-passwords.json` },
      { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${REDIS.exporterPort}` },
    ],
    requests: REDIS.exporterRequests,
    limits: REDIS.exporterLimits,
    readinessProbe: health,
    livenessProbe: health,
    volumeMounts: [{ name: 'run', mountPath: PATHS.config, readOnly: true }],
  });
}

function headlessService(
  scope: Construct, id: string, name: string, labels: Record<string, string>, selector: Record<string, string>,
  ports: ReadonlyArray<{ name: string; port: number }>,
): k8s.KubeService {
  return new k8s.KubeService(scope, id, {
    metadata: { name, labels },
    spec: {
      clusterIp: 'None',
      // Pods must resolve each other while they start (before they are Ready) to find the master.
      publishNotReadyAddresses: true,
      selector,
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: 'TCP' })),
    },
  });
}

function podSpec(
  selector: Record<string, string>, preset: Preset, containers: k8s.Container[], volumes: k8s.Volume[], graceSeconds: number,
  initContainers: k8s.Container[],
): k8s.PodSpec {
  return withEphemeralStorage({
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext({ runAsUser: REDIS.user }),
    terminationGracePeriodSeconds: graceSeconds,
    ...(initContainers.length ? { initContainers } : {}),
    containers,
    volumes,
    ...spreadScheduling({ selector, nodeAntiAffinity: 'required' }),
    ...presetPlacement(preset),
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
