import { ApiObject, Chart } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RedisConnectionInfo, SecretKeyRef } from '../connections';
import { recordErrors } from '../core/problems';
import { DatastorePodProps, applyDatastorePodProps } from '../datastore-pod';
import { REDIS } from '../defaults';
import { generatedPassword } from '../generated-secret';
import { createPrometheusRule, createServiceMonitor } from '../monitoring';
import type { ResolvedResources, ResourceProps } from '../pod';
import { Presets } from '../presets';
import { redisAlerts } from './alerts';
import { declareRedisKnobs } from './knobs';
import { RedisNetworkPolicyProps, createRedisNetworkPolicies, registerRedisAccess } from './network-policy';
import { renderRedisWorkload } from './render';
import { MaxmemoryPolicy, RedisMode, ResolvedRedisHA, resolveRedisHA } from './resolve';

export { REDIS_HA_FILES, REDIS_STANDALONE_FILES, redisHaFiles } from './render';
export { MAXMEMORY_POLICIES, REDIS_MODES, defaultMaxmemoryBytes, defaultStorageSize } from './resolve';
export type { MaxmemoryPolicy, RedisMode, ResolvedRedisHA } from './resolve';

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
  public readonly configMap!: k8s.KubeConfigMap;
  public readonly statefulSet!: k8s.KubeStatefulSet;
  /** The Sentinels (mode `sentinel`). */
  public readonly sentinelStatefulSet?: k8s.KubeStatefulSet;
  public readonly headlessService!: k8s.KubeService;
  public readonly sentinelHeadlessService?: k8s.KubeService;
  /** ClusterIP Service of the Sentinels: the discovery address clients use (mode `sentinel`). */
  public readonly sentinelService?: k8s.KubeService;
  /** ClusterIP Service of the single Redis (mode `standalone`). */
  public readonly service?: k8s.KubeService;
  public readonly pdb!: k8s.KubePodDisruptionBudget;
  public readonly sentinelPdb?: k8s.KubePodDisruptionBudget;
  public readonly serviceMonitors: ApiObject[] = [];
  /** Ingress policies of the Redis (and Sentinel) pods, unless `networkPolicy: false`. */
  public readonly networkPolicies: k8s.KubeNetworkPolicy[] = [];
  public readonly prometheusRule?: ApiObject;

  constructor(scope: Construct, id: string, props: RedisHAProps) {
    super(scope, id);
    // One resolve step (props + preset + defaults, every problem found), then rendering from the resolved spec only.
    const { spec, errors } = resolveRedisHA(this, id, props, Presets.of(this));
    this.name = spec.name;
    this.masterName = spec.masterName;
    this.mode = spec.mode;
    this.resources = spec.resources;
    if (!spec.standalone) this.sentinelResources = spec.sentinelResources;
    this.maxmemoryBytes = spec.maxmemoryBytes;
    this.connection = connectionOf(spec);
    if (errors.length > 0) {
      // Reported by `cdk8s synth` with every other construct's errors; nothing is rendered from a refused spec.
      recordErrors(this, errors);
      return;
    }
    if (spec.generatePassword) generatedPassword(this, 'password', spec.passwordSecret.secretName);
    const w = renderRedisWorkload(this, spec);
    Object.assign(this, {
      configMap: w.configMap, statefulSet: w.statefulSet, headlessService: w.headlessService, pdb: w.pdb, service: w.service,
      sentinelStatefulSet: w.sentinelStatefulSet, sentinelHeadlessService: w.sentinelHeadlessService,
      sentinelService: w.sentinelService, sentinelPdb: w.sentinelPdb,
    });
    this.renderMonitoring(spec);
    if (spec.networkPolicy) {
      const { policies, access } = createRedisNetworkPolicies(this, {
        name: spec.name, labels: spec.redisLabels, sentinelLabels: spec.standalone ? undefined : spec.sentinelLabels,
        redisSelector: spec.redisSelector, sentinelSelector: spec.standalone ? undefined : spec.sentinelSelector,
        metrics: spec.metrics !== undefined, clientLabels: spec.networkPolicy.clientLabels, kedaNamespace: spec.networkPolicy.kedaNamespace,
      });
      this.networkPolicies.push(...policies);
      registerRedisAccess(this.connection, access);
    }
    declareRedisKnobs(this, spec, w, this.prometheusRule);
    applyDatastorePodProps(this, props);
  }

  private renderMonitoring(spec: ResolvedRedisHA): void {
    const { metrics, standalone, names } = spec;
    if (!metrics) return;
    const monitor = (id: string, name: string, labels: Record<string, string>, selector: Record<string, string>) =>
      createServiceMonitor(this, id, { name, labels, selector, endpoints: [{ port: 'metrics', interval: metrics.interval }] });
    if (metrics.serviceMonitor) {
      this.serviceMonitors.push(monitor('service-monitor', spec.name, spec.redisLabels, spec.redisSelector));
      if (!standalone) this.serviceMonitors.push(monitor('sentinel-service-monitor', names.sentinel, spec.sentinelLabels, spec.sentinelSelector));
    }
    if (metrics.alerts) {
      (this as { prometheusRule?: ApiObject }).prometheusRule = createPrometheusRule(this, 'alerts', {
        name: spec.name, labels: spec.redisLabels, groupName: `${spec.name}.redis-ha`,
        // Standalone: no replicas, Sentinels or second master to watch.
        rules: redisAlerts({
          redisService: names.headless, sentinelService: names.sentinelHeadless, namespace: Chart.of(this).namespace,
          masterName: spec.masterName, replicas: spec.replicas, quorum: spec.quorum,
        }).filter((r) => !standalone || ['RedisMasterMissing', 'RedisMemoryNearMaxmemory'].includes(r.alert)),
      });
    }
  }
}

/** What clients connect to: the single Redis by its Service, or the Sentinels by theirs and by each pod's name. */
function connectionOf(spec: ResolvedRedisHA): RedisConnectionInfo {
  const { names, passwordSecret } = spec;
  return spec.standalone
    ? { mode: 'standalone', host: spec.name, sentinelHosts: [], masterName: spec.masterName, redisPort: REDIS.port, passwordSecret }
    : {
      mode: 'sentinel',
      sentinelHost: names.sentinel,
      sentinelPort: REDIS.sentinelPort,
      sentinelHosts: Array.from({ length: spec.sentinels }, (_, i) => `${names.sentinel}-${i}.${names.sentinelHeadless}`),
      masterName: spec.masterName,
      redisPort: REDIS.port,
      passwordSecret,
      sentinelPasswordSecret: spec.sentinelPasswordSecret,
    };
}
