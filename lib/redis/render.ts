import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { REDIS } from '../defaults';
import { createPdb } from '../disruption';
import { withEphemeralStorage } from '../ephemeral-storage';
import { exporterSidecar } from '../monitoring';
import { containerSecurityContext, podSecurityContext, presetPlacement, spreadScheduling, toResourceRequirements } from '../pod';
import type { Preset } from '../presets';
import type { ResolvedRedisHA } from './resolve';

/** Files shipped in `lib/redis/` and mounted from one ConfigMap into every Redis and Sentinel pod. */
export const REDIS_HA_FILES = [
  'redis.conf', 'sentinel.conf', 'common.sh', 'redis-start.sh', 'redis-agent.sh', 'sentinel-start.sh', 'probe.sh', 'prestop.sh',
  'exporter-auth.sh',
] as const;

/** The files of `mode: 'standalone'`: one Redis, nothing to decide. */
export const REDIS_STANDALONE_FILES = ['redis.conf', 'common.sh', 'standalone-start.sh', 'probe.sh', 'exporter-auth.sh'] as const;

let fileCache: Record<string, string> | undefined;
/** The config templates and scripts, read once per process. */
export function redisHaFiles(): Record<string, string> {
  fileCache ??= Object.fromEntries([...new Set([...REDIS_HA_FILES, ...REDIS_STANDALONE_FILES])]
    .map((f) => [f, readFileSync(join(__dirname, f), 'utf8')]));
  return fileCache;
}

/** Where things live inside the pods. */
const PATHS = {
  template: '/etc/redis-ha',
  auth: '/etc/redis-ha-auth',
  config: '/run/redis-ha',
  data: '/data',
} as const;

/** Seconds a starting pod may wait for a master before its script gives up and the kubelet restarts it. */
const DISCOVERY_TIMEOUT_SECONDS = 300;

/** The workload objects of a RedisHA (mode `sentinel` adds the Sentinel ones). */
export interface RedisHAWorkload {
  configMap: k8s.KubeConfigMap;
  statefulSet: k8s.KubeStatefulSet;
  headlessService: k8s.KubeService;
  pdb: k8s.KubePodDisruptionBudget;
  service?: k8s.KubeService;
  sentinelStatefulSet?: k8s.KubeStatefulSet;
  sentinelHeadlessService?: k8s.KubeService;
  sentinelService?: k8s.KubeService;
  sentinelPdb?: k8s.KubePodDisruptionBudget;
  /** Index of MAXMEMORY_POLICY in the Redis container's env (a chart value targets it). */
  policyEnvIndex: number;
}

/** Renders the ConfigMap, Services, StatefulSets and PDBs of a resolved RedisHA; checks nothing. */
export function renderRedisWorkload(scope: Construct, spec: ResolvedRedisHA): RedisHAWorkload {
  const {
    name, masterName, standalone, image, passwordSecret, sentinelPasswordSecret, replicas, sentinels, quorum, parallelSyncs,
    minReplicasToWrite, maxmemoryPolicy, failoverBoundSeconds, clusterDomain, resources, sentinelResources, persistence,
    redisSelector, sentinelSelector, redisLabels, sentinelLabels,
  } = spec;
  const downAfter = spec.downAfterMilliseconds;
  const failoverTimeout = spec.failoverTimeoutMilliseconds;
  const coldStartWait = spec.coldStartWaitSeconds;
  const switchoverTimeout = spec.switchoverTimeoutSeconds;
  const exporterImage = spec.metrics?.exporterImage;
  const out = {} as RedisHAWorkload;

  // Names and stable DNS names.
  const { sentinel: sentinelName, headless, sentinelHeadless } = spec.names;
  const fqdn = (pod: string, service: string) => `${pod}.${service}.$(POD_NAMESPACE).svc.${clusterDomain}`;
  const redisAddresses = range(replicas + 1).map((i) => `${fqdn(`${name}-${i}`, headless)}:${REDIS.port}`);
  const sentinelAddresses = range(sentinels).map((i) => `${fqdn(`${sentinelName}-${i}`, sentinelHeadless)}:${REDIS.sentinelPort}`);

  const allFiles = redisHaFiles();
  const files = Object.fromEntries((standalone ? REDIS_STANDALONE_FILES : REDIS_HA_FILES).map((f) => [f, allFiles[f]]));
  out.configMap = new k8s.KubeConfigMap(scope, 'config', {
    metadata: { name: `${name}-config`, labels: redisLabels },
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
    { name: 'templates', configMap: { name: out.configMap.name, defaultMode: 0o444 } },
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
      { name: 'MASTER_NAME', value: masterName },
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
  const podAnnotations = { ...spec.preset.podAnnotations, 'scalecharts.io/config-hash': configHash };

  // Redis pods.
  const redisEnv: k8s.EnvVar[] = [
    ...commonEnv,
    { name: 'DATA_DIR', value: PATHS.data },
    { name: 'REDIS_PORT', value: String(REDIS.port) },
    ...(standalone ? [] : [{ name: 'ANNOUNCE_HOST', value: fqdn('$(POD_NAME)', headless) }]),
    { name: 'MEMORY_LIMIT_BYTES', valueFrom: { resourceFieldRef: { containerName: 'redis', resource: 'limits.memory', divisor: k8s.Quantity.fromString('1') } } },
    !spec.explicitMaxmemory
      ? { name: 'MAXMEMORY_PERCENT', value: String(REDIS.maxmemoryPercent) }
      : { name: 'MAXMEMORY_BYTES', value: String(spec.maxmemoryBytes) },
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
    resources: toResourceRequirements(resources),
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
  out.headlessService = headlessService(scope, 'headless', headless, redisLabels, redisSelector,
    [{ name: 'redis', port: REDIS.port }, ...(exporterImage ? [{ name: 'metrics', port: REDIS.exporterPort }] : [])]);
  out.statefulSet = memberStatefulSet(scope, 'redis', {
    name, labels: redisLabels, selector: redisSelector, serviceName: headless, replicas: replicas + 1, podAnnotations,
    // The preStop switchover (two waits of switchoverTimeoutSeconds), Redis' shutdown-timeout (10 s waiting
    // for replicas) and the final fsync.
    podSpec: podSpec(redisSelector, spec.preset, redisContainers, redisVolumes, 2 * switchoverTimeout + 20, exporterInit(REDIS.port, 'redis-password')),
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
  });
  out.pdb = createPdb(scope, 'pdb', { name: name, labels: redisLabels, selector: redisSelector });

  if (standalone) {
    // What clients connect to: the single Redis, by a stable Service name.
    out.service = clusterIpService(scope, 'service', name, redisLabels, redisSelector, 'redis', REDIS.port);
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
    out.sentinelHeadlessService = headlessService(scope, 'sentinel-headless', sentinelHeadless, sentinelLabels, sentinelSelector,
      [{ name: 'sentinel', port: REDIS.sentinelPort }, ...(exporterImage ? [{ name: 'metrics', port: REDIS.exporterPort }] : [])]);
    out.sentinelService = clusterIpService(scope, 'sentinel-service', sentinelName, sentinelLabels, sentinelSelector, 'sentinel', REDIS.sentinelPort);
    out.sentinelStatefulSet = memberStatefulSet(scope, 'sentinel', {
      name: sentinelName, labels: sentinelLabels, selector: sentinelSelector, serviceName: sentinelHeadless, replicas: sentinels, podAnnotations,
      podSpec: podSpec(sentinelSelector, spec.preset, sentinelContainers, commonVolumes, 30, exporterInit(REDIS.sentinelPort, 'sentinel-password')),
    });
    // One Sentinel at a time: the others keep a majority for any failover during a drain.
    out.sentinelPdb = createPdb(scope, 'sentinel-pdb', { name: sentinelName, labels: sentinelLabels, selector: sentinelSelector });
  }
  out.policyEnvIndex = redisEnv.findIndex((e) => e.name === 'MAXMEMORY_POLICY');
  return out;
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

/**
 * A StatefulSet of Redis or Sentinel pods. Parallel pod management: start order does not matter (every pod starts
 * undecided and the pods agree on the newest, redis-agent.sh), and a lost pod 0 never blocks re-creating the others.
 */
function memberStatefulSet(scope: Construct, id: string, o: {
  name: string; labels: Record<string, string>; selector: Record<string, string>; serviceName: string; replicas: number;
  podAnnotations: Record<string, string>; podSpec: k8s.PodSpec; volumeClaimTemplates?: k8s.KubePersistentVolumeClaimProps[];
}): k8s.KubeStatefulSet {
  return new k8s.KubeStatefulSet(scope, id, {
    metadata: { name: o.name, labels: o.labels },
    spec: {
      serviceName: o.serviceName,
      replicas: o.replicas,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      revisionHistoryLimit: 5,
      selector: { matchLabels: o.selector },
      template: { metadata: { labels: o.labels, annotations: o.podAnnotations }, spec: o.podSpec },
      ...(o.volumeClaimTemplates ? { volumeClaimTemplates: o.volumeClaimTemplates } : {}),
    },
  });
}

/** The stable address clients use: one named port to the container port of the same name. */
function clusterIpService(
  scope: Construct, id: string, name: string, labels: Record<string, string>, selector: Record<string, string>, portName: string, port: number,
): k8s.KubeService {
  return new k8s.KubeService(scope, id, {
    metadata: { name, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: portName, port, targetPort: k8s.IntOrString.fromString(portName), protocol: 'TCP' }],
    },
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

