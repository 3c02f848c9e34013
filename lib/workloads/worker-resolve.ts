import { Chart } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import type { ResolvedAutoscaling } from '../autoscaling';
import { Problems } from '../core/problems';
import { dns1035Label, integerRule, isRecord } from '../core/rules';
import { STATELESS, WORKERS } from '../defaults';
import { CompiledTrigger, checkQueueName, compileTrigger } from '../keda';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import type { RedisConnectionInfo } from '../connections';
import type { ResolvedResources } from '../pod';
import type { Preset } from '../presets';
import { redisClientEnv } from '../wiring';
import type { WorkerPoolProps } from '../worker-pool';
import { ResolvedContainerInputs, resolveContainerInputs, resolveImage, secretEnvVar, stringList } from './container';
import { ResolvedWorkerLiveness, resolveWorkerLiveness } from '../worker-liveness';
import { hasCheck, resolveProbe } from './probes';
import { resolveAutoscalingLayers, resolveWorkloadResources, workloadBoolean } from './scaling';
import { fallbackName, resolvePartOf } from './stateless-resolve';

/** How a WorkerPool's replica count is owned: KEDA on queue triggers, a CPU HPA, or a fixed count (development tier). */
export type WorkerScaler =
  | { readonly kind: 'keda'; readonly activeFloor: number; readonly scaleToZero: boolean; readonly pollingInterval: number; readonly cooldownPeriod: number; readonly behavior?: k8s.HorizontalPodAutoscalerBehaviorV2 }
  | { readonly kind: 'hpa'; readonly settings: ResolvedAutoscaling }
  | { readonly kind: 'fixed'; readonly replicas: number };

export interface ResolvedWorkerPool {
  readonly name: string;
  readonly namespace?: string;
  readonly image: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly resources: ResolvedResources;
  readonly container: ResolvedContainerInputs;
  readonly triggers: readonly CompiledTrigger[];
  /** The Redis each queue trigger reads (the pool is let through their NetworkPolicies, KEDA too). */
  readonly queueRedis: readonly RedisConnectionInfo[];
  readonly scaler: WorkerScaler;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metricsPort?: number;
  readonly serviceMonitor: boolean;
  readonly terminationGracePeriodSeconds: number;
  readonly preStop?: string[];
  readonly disruptionBudget: boolean;
  readonly alerts?: { readonly lagMinutes: number; readonly atMaxMinutes: number; readonly threshold: number; readonly depthMetric: string };
  /** The liveness contract's variables and ports (`liveness`); its probes are in `probes`. */
  readonly liveness: Pick<ResolvedWorkerLiveness, 'env' | 'ports'>;
  /** The worker container's probes; undefined: none. */
  readonly probes: { readonly liveness?: k8s.Probe; readonly readiness?: k8s.Probe; readonly startup?: k8s.Probe };
  readonly preset: Preset;
}

/** The resolve step of WorkerPool: props + preset + defaults → a resolved spec, or every problem found. */
export function resolveWorkerPool(
  scope: IConstruct, id: string, props: WorkerPoolProps, preset: Preset,
): { spec: ResolvedWorkerPool; errors: Problems['errors'] } {
  const p = new Problems(scope);
  if (!isRecord(props)) p.add('props', props, 'must be an object of WorkerPool props', true);
  const given: WorkerPoolProps = isRecord(props) ? props : ({} as WorkerPoolProps);
  const namespace = Chart.of(scope).namespace;

  const name = p.value('name', given.name ?? id, dns1035Label(52), fallbackName(given.name ?? id));
  const image = resolveImage(p, 'image', given.image, preset.imageRegistry);
  const partOf = resolvePartOf(p, scope, given.partOf);
  const queue = p.run(() => checkQueueName(scope as never, 'queue', given.queue), 'queue');
  const deadLetterQueue = p.run(() => checkQueueName(scope as never, 'deadLetterQueue', given.deadLetterQueue ?? `${queue}-dlq`), `${queue}-dlq`);
  if (deadLetterQueue === queue) p.add('deadLetterQueue', deadLetterQueue, 'must differ from queue: poison messages would be retried forever');
  const maxDeliveryAttempts = p.value('maxDeliveryAttempts', given.maxDeliveryAttempts ?? WORKERS.maxDeliveryAttempts, integerRule({ min: 1, max: 100 }), WORKERS.maxDeliveryAttempts);
  if (given.appMode !== undefined && given.appMode !== 'worker') {
    p.add('appMode', given.appMode, 'must be "worker" for a WorkerPool; use StatelessService for api, combined and serverless-worker', typeof given.appMode !== 'string');
  }
  const resources = resolveWorkloadResources(p, given.resources, preset, WORKERS);

  // ---- scaling
  const scalingGiven: unknown = given.scaling ?? {};
  if (!isRecord(scalingGiven)) p.add('scaling', scalingGiven, 'must be { triggers, minReplicas, maxReplicas, ... }', true);
  const scaling = (isRecord(scalingGiven) ? scalingGiven : {}) as NonNullable<WorkerPoolProps['scaling']>;
  const triggersGiven: unknown = scaling.triggers ?? [];
  if (!Array.isArray(triggersGiven)) p.add('scaling.triggers', triggersGiven, 'must be a list of queue triggers', true);
  const triggerList = Array.isArray(triggersGiven) ? triggersGiven : [];
  const triggers: CompiledTrigger[] = [];
  triggerList.forEach((t, i) => {
    if (!isRecord(t)) {
      p.add(`scaling.triggers[${i}]`, t, 'must be a queue trigger object', true);
      return;
    }
    const compiled = p.run(() => compileTrigger(scope as never, `scaling.triggers[${i}]`, t as never, { queue, namespace }), undefined);
    if (!compiled) return;
    const addressed = compiled.metadata.stream ?? compiled.metadata.listName ?? compiled.metadata.queueName;
    if (addressed === deadLetterQueue) {
      p.add(`scaling.triggers[${i}]`, addressed, 'addresses the dead-letter queue: scaling on poison messages only retries them; scale on the main queue');
    }
    triggers.push(compiled);
  });
  const keda = triggerList.length > 0;
  const scaleToZero = workloadBoolean(p, 'scaling.scaleToZero', scaling.scaleToZero, false);
  if (scaleToZero && !keda) p.add('scaling.scaleToZero', true, 'needs at least one queue trigger: a CPU HPA cannot scale to zero');
  if (keda && scaling.cpuUtilization !== undefined) {
    p.add('scaling.cpuUtilization', scaling.cpuUtilization,
      'applies only to the CPU HPA used without triggers; with queue triggers KEDA scales on queue depth (remove it, or the triggers)');
  }
  const blocker = scaleToZero ? triggers.findIndex((t) => t.zeroBlocker) : -1;
  if (blocker >= 0) p.add('scaling.scaleToZero', true, `scaling.triggers[${blocker}]: ${triggers[blocker].zeroBlocker}`);

  const presetAutoscaling = preset.autoscaling || undefined;
  // The development tier switches autoscaling off: without queue triggers or call-site scaling, a fixed count.
  const fixed = !keda && preset.autoscaling === false
    && scaling.minReplicas === undefined && scaling.maxReplicas === undefined && scaling.cpuUtilization === undefined && scaling.behavior === undefined;
  let scaler: WorkerScaler;
  let minReplicas: number;
  let maxReplicas: number;
  if (fixed) {
    const replicas = p.value('replicas', preset.replicas ?? WORKERS.minReplicas, integerRule({ min: 1 }), 1);
    scaler = { kind: 'fixed', replicas };
    minReplicas = maxReplicas = replicas;
  } else {
    const floorGiven = scaling.minReplicas ?? (scaleToZero ? 0 : (preset.autoscaling === false ? preset.replicas : presetAutoscaling?.minReplicas) ?? WORKERS.minReplicas);
    const activeFloor = p.value('scaling.minReplicas', floorGiven, integerRule({ min: scaleToZero ? 0 : 1 }), 1);
    maxReplicas = p.value('scaling.maxReplicas', scaling.maxReplicas ?? presetAutoscaling?.maxReplicas ?? WORKERS.maxReplicas, integerRule({ min: 1 }), Math.max(activeFloor, 1));
    if (activeFloor > maxReplicas) p.add('scaling.minReplicas', activeFloor, `must not exceed maxReplicas (${maxReplicas})`);
    minReplicas = scaleToZero ? 0 : activeFloor;
    if (scaling.behavior !== undefined && !isRecord(scaling.behavior)) p.add('scaling.behavior', scaling.behavior, 'must be an HPA behavior object { scaleUp, scaleDown }', true);
    if (keda) {
      scaler = {
        kind: 'keda', activeFloor, scaleToZero,
        pollingInterval: p.value('scaling.pollingIntervalSeconds', scaling.pollingIntervalSeconds ?? WORKERS.pollingIntervalSeconds, integerRule({ min: 1, max: 3600 }), WORKERS.pollingIntervalSeconds),
        cooldownPeriod: p.value('scaling.cooldownPeriodSeconds', scaling.cooldownPeriodSeconds ?? WORKERS.cooldownPeriodSeconds, integerRule({ min: 0, max: 86_400 }), WORKERS.cooldownPeriodSeconds),
        ...(isRecord(scaling.behavior) ? { behavior: scaling.behavior } : {}),
      };
    } else {
      const settings = resolveAutoscalingLayers(p, 'scaling', [
        { minReplicas, maxReplicas, cpuUtilization: scaling.cpuUtilization, behavior: isRecord(scaling.behavior) ? scaling.behavior : undefined },
        // Unused memory target (CPU only: a worker's memory follows job size); kept so the settings type is the shared one.
        { cpuUtilization: presetAutoscaling?.cpuUtilization ?? WORKERS.cpuUtilization, memoryUtilization: presetAutoscaling?.memoryUtilization },
        { memoryUtilization: STATELESS.memoryUtilization },
      ]);
      scaler = { kind: 'hpa', settings };
    }
  }

  // ---- pod
  const selector = selectorLabels(name, 'worker');
  const labels = standardLabels(scope, { name, component: 'worker', partOf, version: imageVersion(image) }, preset.labels);
  const consumerGroup = triggerList.find((t) => isRecord(t) && t.type === 'redis-streams' && (t.stream ?? queue) === queue) as { consumerGroup?: string } | undefined;
  const container = resolveContainerInputs(p, given, {
    APP_MODE: 'worker', QUEUE_NAME: queue, DEAD_LETTER_QUEUE: deadLetterQueue, MAX_DELIVERY_ATTEMPTS: String(maxDeliveryAttempts),
    ...(typeof consumerGroup?.consumerGroup === 'string' && consumerGroup.consumerGroup ? { CONSUMER_GROUP: consumerGroup.consumerGroup } : {}),
  }, { name, labels, containerNames: ['worker'] });
  // The Redis the queue lives in is the workers' Redis too: same variables as connectRedis, so calling it as well is harmless.
  const queueRedis: RedisConnectionInfo[] = [];
  for (const t of triggerList) {
    if (!isRecord(t) || (t.type !== 'redis-streams' && t.type !== 'redis-list') || !isRecord(t.redis)) continue;
    queueRedis.push(t.redis as unknown as RedisConnectionInfo);
    const { env, secretEnv } = p.run(() => redisClientEnv(t.redis as never), { env: {}, secretEnv: {} });
    const entries: k8s.EnvVar[] = [
      ...Object.entries(env).map(([n, value]) => ({ name: n, value })),
      ...Object.entries(secretEnv).map(([n, ref]) => secretEnvVar(n, ref)),
    ];
    for (const entry of entries) {
      const existing = container.env.find((e) => e.name === entry.name);
      if (!existing) container.env.push(entry);
      else if (JSON.stringify(existing) !== JSON.stringify(entry)) {
        p.add(`env.${entry.name}`, entry.value ?? entry.valueFrom, `conflicts with ${entry.name} already set on this pool (${JSON.stringify(existing.value ?? existing.valueFrom)})`);
      }
    }
  }
  const metricsPort = given.metricsPort === undefined ? undefined
    : p.value<number | undefined>('metricsPort', given.metricsPort, integerRule({ min: 1, max: 65535 }), undefined);
  const serviceMonitor = workloadBoolean(p, 'serviceMonitor', given.serviceMonitor, false);
  if (serviceMonitor && given.metricsPort === undefined) p.add('serviceMonitor', true, 'needs metricsPort');
  const terminationGracePeriodSeconds = p.value('terminationGracePeriodSeconds',
    given.terminationGracePeriodSeconds ?? WORKERS.terminationGracePeriodSeconds, integerRule({ min: 1, max: 86_400 }), WORKERS.terminationGracePeriodSeconds);
  const preStop = stringList(p, 'preStop', given.preStop, { nonEmpty: true });
  const { liveness, probes } = resolveWorkerProbes(p, scope, given, metricsPort);
  const disruptionBudget = workloadBoolean(p, 'disruptionBudget', given.disruptionBudget, preset.disruptionBudget ?? true);

  let alerts: ResolvedWorkerPool['alerts'];
  if (given.alerts !== undefined && given.alerts !== false) {
    const a: unknown = given.alerts === true ? {} : given.alerts;
    if (!isRecord(a)) p.add('alerts', a, 'must be true, false or { lagGrowingMinutes, queueDepthMetric, deadLetterThreshold, atMaxReplicasMinutes }', true);
    else {
      const depth = a.queueDepthMetric ?? 'queue_depth';
      if (typeof depth !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(depth)) p.add('alerts.queueDepthMetric', depth, 'must be a Prometheus metric name', typeof depth !== 'string');
      alerts = {
        lagMinutes: p.value('alerts.lagGrowingMinutes', a.lagGrowingMinutes ?? WORKERS.lagGrowingMinutes, integerRule({ min: 1, max: 1440 }), WORKERS.lagGrowingMinutes),
        atMaxMinutes: p.value('alerts.atMaxReplicasMinutes', a.atMaxReplicasMinutes ?? WORKERS.atMaxReplicasMinutes, integerRule({ min: 1, max: 1440 }), WORKERS.atMaxReplicasMinutes),
        threshold: p.value('alerts.deadLetterThreshold', a.deadLetterThreshold ?? WORKERS.deadLetterThreshold, integerRule({ min: 1 }), WORKERS.deadLetterThreshold),
        depthMetric: typeof depth === 'string' ? depth : 'queue_depth',
      };
    }
  }

  return {
    spec: {
      name, namespace, image, labels, selector, queue, deadLetterQueue, resources, container, triggers, queueRedis, scaler, minReplicas, maxReplicas,
      metricsPort, serviceMonitor, terminationGracePeriodSeconds, preStop, disruptionBudget, alerts, liveness, probes, preset,
    },
    errors: p.errors,
  };
}

/**
 * The liveness contract (`liveness`: heartbeat, HTTP or metrics) and the typed `probes` over its probes. A typed
 * liveness check (or `probes.liveness: false`) replaces the contract, so the two are not given together.
 */
function resolveWorkerProbes(
  p: Problems, scope: IConstruct, given: WorkerPoolProps, metricsPort: number | undefined,
): Pick<ResolvedWorkerPool, 'liveness' | 'probes'> {
  const value: unknown = given.probes;
  if (value !== undefined && !isRecord(value)) p.add('probes', value, 'must be { liveness, readiness, startup }', true);
  const probes = isRecord(value) ? value : {};
  const replaced = hasCheck(probes.liveness) || probes.liveness === false;
  if (replaced && given.liveness !== undefined) {
    p.add('probes.liveness', probes.liveness, 'replaces the liveness contract that `liveness` sets; set only one of them');
  }
  const none: ResolvedWorkerLiveness = { env: {}, ports: [], probes: {} };
  const contract = p.run(() => resolveWorkerLiveness(scope as never, replaced ? false : given.liveness, metricsPort), none);
  const ports = [
    ...(metricsPort !== undefined ? [{ name: 'metrics', containerPort: metricsPort }] : []),
    ...contract.ports.map((x) => ({ name: x.name as string, containerPort: x.containerPort })),
  ];
  const out: { liveness?: k8s.Probe; readiness?: k8s.Probe; startup?: k8s.Probe } = {};
  const base = { liveness: contract.probes.livenessProbe, readiness: undefined, startup: contract.probes.startupProbe };
  for (const kind of ['liveness', 'readiness', 'startup'] as const) {
    const probe = resolveProbe(p, `probes.${kind}`, kind, probes[kind], base[kind], ports);
    if (probe) out[kind] = probe;
  }
  return { liveness: { env: contract.env, ports: contract.ports }, probes: out };
}
