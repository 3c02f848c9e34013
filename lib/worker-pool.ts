import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ResolvedAutoscaling, createHpa } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { STATELESS, WORKERS } from './defaults';
import { createPdb } from './disruption';
import { ValidationError } from './errors';
import { CompiledTrigger, QueueTrigger, checkQueueName, compileTrigger, createTriggerAuthentication } from './keda';
import { Knobs, declareResourceKnobs } from './knobs';
import { imageVersion, selectorLabels, standardLabels } from './labels';
import { AlertRule, createPrometheusRule, createServiceMonitor } from './monitoring';
import {
  ResolvedResources, ResourceProps, containerSecurityContext, resolveResources, toResourceRequirements, withRegistry,
} from './pod';
import { Presets } from './presets';
import { checkEnvName, checkImage, checkInteger, checkPercent, checkPort, checkResourceName } from './validate';
import { allowRedisClient } from './redis/network-policy';
import { redisClientEnv } from './wiring';
import {
  WorkloadContainerProps, buildEnv, buildEnvFrom, checkNotCredential, declareImageKnobs, secretEnvVar, workloadDeployment,
  workloadPodSpec, workloadVolumes,
} from './workload';

/** How the pool scales. */
export interface WorkerScalingProps {
  /**
   * Queue-depth triggers (one KEDA ScaledObject; KEDA scales to the largest of their counts). Without any, the pool
   * falls back to a CPU HPA.
   * @default none: CPU HPA at 60 % (seed 000)
   */
  readonly triggers?: readonly QueueTrigger[];
  /**
   * Floor while there is work. With `scaleToZero`, a floor ≥ 1 becomes KEDA's `minReplicaCount` with
   * `idleReplicaCount: 0`: the pool sleeps at zero and wakes straight to this floor.
   * @default 1 (0 with `scaleToZero`)
   */
  readonly minReplicas?: number;
  /** @default 20 — the generic HPA ceiling of seed 002 */
  readonly maxReplicas?: number;
  /** Scale to zero when every queue is idle (only with triggers that can wake the pool again). @default false */
  readonly scaleToZero?: boolean;
  /** KEDA polling interval, seconds (`pollingInterval`). @default 30 (KEDA's) */
  readonly pollingIntervalSeconds?: number;
  /** Seconds without activity before scaling to zero (`cooldownPeriod`). @default 300 (KEDA's) */
  readonly cooldownPeriodSeconds?: number;
  /** HPA scale-up/down behaviour, passed through (KEDA: `advanced.horizontalPodAutoscalerConfig.behavior`). @default Kubernetes' */
  readonly behavior?: k8s.HorizontalPodAutoscalerBehaviorV2;
  /** CPU target of the fallback HPA (no triggers only). @default 60 (seed 000) */
  readonly cpuUtilization?: number;
}

/** Alerts on the queue (PrometheusRule; needs the Prometheus Operator, KEDA's metrics and kube-state-metrics). */
export interface WorkerAlertProps {
  /** Minutes the consumer lag (the trigger's metric, or the queue-depth gauge without KEDA) must grow. @default 10 */
  readonly lagGrowingMinutes?: number;
  /** Gauge the application exports per queue with a `queue` label (seed 004: "ingest ... queue depth metrics"). @default `queue_depth` */
  readonly queueDepthMetric?: string;
  /** Dead-letter messages that alert. @default 1: any poison message is worth a look */
  readonly deadLetterThreshold?: number;
  /** Minutes at the replica ceiling before alerting. @default 15 */
  readonly atMaxReplicasMinutes?: number;
}

export interface WorkerPoolProps extends WorkloadContainerProps {
  /** Container image, pinned by tag (not `latest`) or digest. */
  readonly image: string;
  /** Name of every object. @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /** Queue (stream, list, queue) the workers consume; passed as `QUEUE_NAME`, and the triggers' default. */
  readonly queue: string;
  /** Dead-letter queue for poison messages, passed as `DEAD_LETTER_QUEUE` (seed 004). @default `<queue>-dlq` */
  readonly deadLetterQueue?: string;
  /** Deliveries before a message goes to the DLQ, passed as `MAX_DELIVERY_ATTEMPTS`. @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** @default CPU HPA 1–20 at 60 % (no KEDA) */
  readonly scaling?: WorkerScalingProps;
  /** @default requests 500m / 256Mi, limits 2000m / 1Gi (seed 002) */
  readonly resources?: ResourceProps;
  /** Seconds for in-flight jobs to finish after SIGTERM. @default 120 (see WORKERS in lib/defaults.ts) */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Command run before SIGTERM, e.g. one that tells the worker to stop fetching and waits for in-flight jobs.
   * Counts against the grace period. @default none: the worker handles SIGTERM itself
   */
  readonly preStop?: readonly string[];
  /** Port serving `/metrics`; exposed on a `<name>-metrics` Service for the ServiceMonitor. @default none */
  readonly metricsPort?: number;
  /** ServiceMonitor on `metricsPort`. @default false */
  readonly serviceMonitor?: boolean;
  /** Queue alerts. @default false */
  readonly alerts?: boolean | WorkerAlertProps;
  /** PodDisruptionBudget (maxUnavailable 1). @default true */
  readonly disruptionBudget?: boolean;
}

/**
 * Queue consumers (`APP_MODE=worker`, seed 004) scaled on queue depth with KEDA, with a dead-letter queue, graceful
 * shutdown and a CPU HPA fallback when no queue trigger is given. Never both: KEDA creates and owns its own HPA.
 */
export class WorkerPool extends Construct {
  public readonly name: string;
  public readonly selector: Record<string, string>;
  /** Fewest pods the pool runs: 0 with scale-to-zero. */
  public readonly minReplicas: number;
  /** Most pods the pool runs: what connection budgets count. */
  public readonly maxReplicas: number;
  public readonly resources: ResolvedResources;
  public readonly deployment: k8s.KubeDeployment;
  /** The KEDA ScaledObject, when triggers are given. */
  public readonly scaledObject?: ApiObject;
  public readonly triggerAuthentications: ApiObject[] = [];
  /** The fallback HPA, when no trigger is given. */
  public readonly hpa?: k8s.KubeHorizontalPodAutoscalerV2;
  public readonly pdb?: k8s.KubePodDisruptionBudget;
  public readonly metricsService?: k8s.KubeService;
  public readonly serviceMonitor?: ApiObject;
  public readonly prometheusRule?: ApiObject;
  /** The triggers as KEDA receives them. */
  public readonly triggers: readonly CompiledTrigger[];
  /** KEDA's floor while there is work (`minReplicaCount`), when KEDA scales the pool. */
  public readonly activeMinReplicas?: number;

  private readonly env: k8s.EnvVar[];

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const preset = Presets.of(this);
    const namespace = Chart.of(this).namespace;
    this.name = checkResourceName(this, 'name', props.name ?? id);
    const image = checkImage(this, 'image', withRegistry(props.image, preset.imageRegistry));
    const queue = checkQueueName(this, 'queue', props.queue);
    const deadLetterQueue = checkQueueName(this, 'deadLetterQueue', props.deadLetterQueue ?? `${queue}-dlq`);
    if (deadLetterQueue === queue) {
      throw new ValidationError(this, 'deadLetterQueue', deadLetterQueue, 'must differ from queue: poison messages would be retried forever');
    }
    const maxDeliveryAttempts = checkInteger(this, 'maxDeliveryAttempts', props.maxDeliveryAttempts ?? WORKERS.maxDeliveryAttempts, { min: 1, max: 100 });
    if (props.appMode !== undefined && props.appMode !== 'worker') {
      throw new ValidationError(this, 'appMode', props.appMode, 'must be "worker" for a WorkerPool; use StatelessService for api, combined and serverless-worker');
    }
    this.resources = resolveResources(this, 'resources', props.resources, preset.resources, WORKERS);

    // ---- scaling: validated before anything is built
    const scaling = props.scaling ?? {};
    const triggers = scaling.triggers ?? [];
    this.triggers = triggers.map((t, i) => compileTrigger(this, `scaling.triggers[${i}]`, t, { queue, namespace }));
    this.triggers.forEach((t, i) => {
      const addressed = t.metadata.stream ?? t.metadata.listName ?? t.metadata.queueName;
      if (addressed === deadLetterQueue) {
        throw new ValidationError(this, `scaling.triggers[${i}]`, addressed, 'addresses the dead-letter queue: scaling on poison messages only retries them; scale on the main queue');
      }
    });
    const keda = this.triggers.length > 0;
    const scaleToZero = scaling.scaleToZero ?? false;
    if (scaleToZero && !keda) {
      throw new ValidationError(this, 'scaling.scaleToZero', true, 'needs at least one queue trigger: a CPU HPA cannot scale to zero');
    }
    if (keda && scaling.cpuUtilization !== undefined) {
      throw new ValidationError(this, 'scaling.cpuUtilization', scaling.cpuUtilization,
        'applies only to the CPU HPA used without triggers; with queue triggers KEDA scales on queue depth (remove it, or the triggers)');
    }
    const blocker = scaleToZero ? this.triggers.findIndex((t) => t.zeroBlocker) : -1;
    if (blocker >= 0) {
      throw new ValidationError(this, 'scaling.scaleToZero', true, `scaling.triggers[${blocker}]: ${this.triggers[blocker].zeroBlocker}`);
    }
    const presetAutoscaling = preset.autoscaling || undefined;
    const floor = scaling.minReplicas ?? (scaleToZero ? 0 : (preset.autoscaling === false ? preset.replicas : presetAutoscaling?.minReplicas) ?? WORKERS.minReplicas);
    const activeFloor = checkInteger(this, 'scaling.minReplicas', floor, { min: scaleToZero ? 0 : 1 });
    this.minReplicas = scaleToZero ? 0 : activeFloor;
    if (keda) this.activeMinReplicas = activeFloor;
    this.maxReplicas = checkInteger(this, 'scaling.maxReplicas', scaling.maxReplicas ?? presetAutoscaling?.maxReplicas ?? WORKERS.maxReplicas, { min: 1 });
    if (activeFloor > this.maxReplicas) {
      throw new ValidationError(this, 'scaling.minReplicas', activeFloor, `must not exceed maxReplicas (${this.maxReplicas})`);
    }

    // ---- pod
    this.selector = selectorLabels(this.name, 'worker');
    const labels = standardLabels(this, { name: this.name, component: 'worker', partOf: props.partOf, version: imageVersion(image) }, preset.labels);
    const consumerGroup = triggers.find((t) => t.type === 'redis-streams' && (t.stream ?? queue) === queue) as { consumerGroup?: string } | undefined;
    this.env = buildEnv(this, props, {
      APP_MODE: 'worker', QUEUE_NAME: queue, DEAD_LETTER_QUEUE: deadLetterQueue, MAX_DELIVERY_ATTEMPTS: String(maxDeliveryAttempts),
      ...(consumerGroup?.consumerGroup ? { CONSUMER_GROUP: consumerGroup.consumerGroup } : {}),
    });
    // The Redis the queue lives in is the workers' Redis too: same variables as connectRedis, so calling it as well is harmless.
    for (const t of triggers) {
      if ((t.type === 'redis-streams' || t.type === 'redis-list') && t.redis) {
        const { env, secretEnv } = redisClientEnv(t.redis);
        allowRedisClient(t.redis, this.selector, { keda: true });
        for (const [name, value] of Object.entries(env)) this.addEnv(name, value);
        for (const [name, ref] of Object.entries(secretEnv)) this.addSecretEnv(name, ref);
      }
    }
    const metricsPort = props.metricsPort === undefined ? undefined : checkPort(this, 'metricsPort', props.metricsPort);
    const { volumes, volumeMounts } = workloadVolumes(this, props.configMounts);
    const grace = checkInteger(this, 'terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? WORKERS.terminationGracePeriodSeconds, { min: 1, max: 86_400 });
    if (props.preStop !== undefined && (!Array.isArray(props.preStop) || props.preStop.length === 0 || props.preStop.some((c) => typeof c !== 'string' || c === ''))) {
      throw new ValidationError(this, 'preStop', props.preStop, 'must be a non-empty list of non-empty strings (an exec command)');
    }
    const container: k8s.Container = {
      name: 'worker',
      image,
      imagePullPolicy: 'IfNotPresent',
      ...(props.command ? { command: [...props.command] } : {}),
      ...(props.args ? { args: [...props.args] } : {}),
      ...(metricsPort ? {
        ports: [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }],
        // A worker that stops serving its metrics port is wedged; there is no request path to probe.
        livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      } : {}),
      env: this.env,
      ...buildEnvFrom(this, props),
      resources: toResourceRequirements(this.resources),
      securityContext: containerSecurityContext(props.readOnlyRootFilesystem ?? true),
      ...(props.preStop ? { lifecycle: { preStop: { exec: { command: [...props.preStop] } } } } : {}),
      volumeMounts,
    };
    // No replicas field: KEDA's HPA (or ours) owns the count.
    this.deployment = workloadDeployment(this, {
      name: this.name, labels, selector: this.selector, preset,
      podSpec: workloadPodSpec(this, { props, preset, selector: this.selector, container, volumes, terminationGracePeriodSeconds: grace }),
    });

    // ---- scaler: KEDA, or the CPU HPA fallback
    let cpuUtilization: number | undefined;
    if (keda) {
      this.scaledObject = this.createScaledObject(labels, scaling, { scaleToZero, activeFloor });
    } else {
      cpuUtilization = checkPercent(this, 'scaling.cpuUtilization', scaling.cpuUtilization ?? presetAutoscaling?.cpuUtilization ?? WORKERS.cpuUtilization);
      const settings: ResolvedAutoscaling = {
        minReplicas: this.minReplicas, maxReplicas: this.maxReplicas,
        cpuUtilization,
        // Unused (CPU only: a worker's memory follows job size, not load); kept so the settings type stays the shared one.
        memoryUtilization: presetAutoscaling?.memoryUtilization ?? STATELESS.memoryUtilization,
        behavior: scaling.behavior,
      };
      this.hpa = createHpa(this, 'hpa', { name: this.name, labels, target: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name }, settings, cpuOnly: true });
    }
    if (props.disruptionBudget ?? preset.disruptionBudget ?? true) {
      this.pdb = createPdb(this, 'pdb', { name: this.name, labels, selector: this.selector });
    }
    if (metricsPort) {
      this.metricsService = new k8s.KubeService(this, 'metrics-service', {
        metadata: { name: `${this.name}-metrics`, labels },
        spec: { type: 'ClusterIP', selector: this.selector, ports: [{ name: 'metrics', port: metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] },
      });
      if (props.serviceMonitor) {
        this.serviceMonitor = createServiceMonitor(this, 'service-monitor', { name: this.name, labels, selector: this.selector, endpoints: [{ port: 'metrics' }] });
      }
    } else if (props.serviceMonitor) {
      throw new ValidationError(this, 'serviceMonitor', true, 'needs metricsPort');
    }
    if (props.alerts) {
      this.prometheusRule = this.createAlerts(labels, { queue, deadLetterQueue, namespace }, props.alerts === true ? {} : props.alerts);
    }
    this.declareKnobs(image, cpuUtilization);
  }

  /**
   * Adds a plain environment variable (credentials must go through {@link addSecretEnv}). Setting a variable again to
   * the same value is a no-op, so wiring the queue's Redis here and with connectRedis composes.
   */
  public addEnv(name: string, value: string): void {
    checkEnvName(this, 'env', name);
    checkNotCredential(this, name);
    this.setEnv({ name, value }, `env.${name}`);
  }

  /** Adds an environment variable read from a Secret key (again with the same key: a no-op). */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    checkEnvName(this, 'secretEnv', name);
    this.setEnv(secretEnvVar(this, name, ref), `secretEnv.${name}`);
  }

  private setEnv(entry: k8s.EnvVar, property: string): void {
    const existing = this.env.find((e) => e.name === entry.name);
    if (!existing) {
      this.env.push(entry);
      return;
    }
    if (JSON.stringify(existing) !== JSON.stringify(entry)) {
      throw new ValidationError(this, property, entry.value ?? entry.valueFrom, `conflicts with ${entry.name} already set on this pool (${JSON.stringify(existing.value ?? existing.valueFrom)})`);
    }
  }

  private createScaledObject(labels: Record<string, string>, scaling: WorkerScalingProps, opts: { scaleToZero: boolean; activeFloor: number }): ApiObject {
    const triggers = this.triggers.map((t, i) => {
      let authenticationRef: { name: string } | undefined;
      if (t.secretTargetRef.length > 0 || t.podIdentity) {
        const authName = `${this.name}-trigger-${i}`;
        this.triggerAuthentications.push(createTriggerAuthentication(this, `trigger-auth-${i}`, authName, labels, t));
        authenticationRef = { name: authName };
      }
      return { type: t.type, metadata: { ...t.metadata }, ...(authenticationRef ? { authenticationRef } : {}) };
    });
    // Scale-to-zero (keda.sh/docs/2.16/reference/scaledobject-spec): minReplicaCount 0, or — to wake straight to a
    // floor ≥ 1 — idleReplicaCount 0 (the only value KEDA supports) below a minReplicaCount of that floor.
    const idle = opts.scaleToZero && opts.activeFloor > 0;
    return new ApiObject(this, 'scaled-object', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: this.name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        pollingInterval: checkInteger(this, 'scaling.pollingIntervalSeconds', scaling.pollingIntervalSeconds ?? WORKERS.pollingIntervalSeconds, { min: 1, max: 3600 }),
        cooldownPeriod: checkInteger(this, 'scaling.cooldownPeriodSeconds', scaling.cooldownPeriodSeconds ?? WORKERS.cooldownPeriodSeconds, { min: 0, max: 86_400 }),
        ...(idle ? { idleReplicaCount: 0 } : {}),
        minReplicaCount: opts.activeFloor,
        maxReplicaCount: this.maxReplicas,
        ...(scaling.behavior ? { advanced: { horizontalPodAutoscalerConfig: { behavior: scaling.behavior } } } : {}),
        triggers,
      },
    });
  }

  private createAlerts(labels: Record<string, string>, q: { queue: string; deadLetterQueue: string; namespace?: string }, a: WorkerAlertProps): ApiObject {
    const lagMinutes = checkInteger(this, 'alerts.lagGrowingMinutes', a.lagGrowingMinutes ?? WORKERS.lagGrowingMinutes, { min: 1, max: 1440 });
    const atMaxMinutes = checkInteger(this, 'alerts.atMaxReplicasMinutes', a.atMaxReplicasMinutes ?? WORKERS.atMaxReplicasMinutes, { min: 1, max: 1440 });
    const threshold = checkInteger(this, 'alerts.deadLetterThreshold', a.deadLetterThreshold ?? WORKERS.deadLetterThreshold, { min: 1 });
    const depth = a.queueDepthMetric ?? 'queue_depth';
    if (typeof depth !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(depth)) {
      throw new ValidationError(this, 'alerts.queueDepthMetric', depth, 'must be a Prometheus metric name');
    }
    const ns = q.namespace ? `,namespace="${q.namespace}"` : '';
    const lagExpr = this.scaledObject
      // KEDA operator metric: the value each trigger reports (keda.sh/docs/2.16/integrations/prometheus). Its
      // namespace label depends on how the operator is scraped (honorLabels), so only the ScaledObject name selects.
      ? `sum(deriv(keda_scaler_metrics_value{scaledObject="${this.name}"}[5m])) > 0`
      : `sum(deriv(${depth}{queue="${q.queue}"${ns}}[5m])) > 0`;
    const rules: AlertRule[] = [
      {
        alert: 'WorkerConsumerLagGrowing',
        expr: lagExpr,
        for: `${lagMinutes}m`, severity: 'warning',
        summary: `The queue of ${this.name} (${q.queue}) has grown for ${lagMinutes} minutes`,
        description: 'Consumers cannot keep up (seed 001: consumer lag); check datastore write capacity and the replica ceiling.',
      },
      {
        alert: 'WorkerDeadLetterQueueNotEmpty',
        expr: `max(${depth}{queue="${q.deadLetterQueue}"${ns}}) >= ${threshold}`,
        for: '5m', severity: 'warning',
        summary: `${q.deadLetterQueue} holds poison messages for ${this.name}`,
        description: 'Inspect and replay or drop them; separate permanent failures from transient ones to avoid retry storms (seed 004).',
      },
      {
        alert: 'WorkerPoolAtMaxReplicas',
        // kube-state-metrics; the HPA is found by its target (KEDA names its own keda-hpa-<ScaledObject>).
        expr: `(kube_horizontalpodautoscaler_status_current_replicas{${ns.slice(1)}} >= kube_horizontalpodautoscaler_spec_max_replicas{${ns.slice(1)}})`
          + ` and on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_info{scaletargetref_kind="Deployment",scaletargetref_name="${this.name}"${ns}}`,
        for: `${atMaxMinutes}m`, severity: 'warning',
        summary: `${this.name} has run at its replica ceiling for ${atMaxMinutes} minutes`,
        description: 'The queue grows faster than the ceiling drains it; check the datastore first, then raise maxReplicas (seed 001).',
      },
    ];
    const rule = createPrometheusRule(this, 'prometheus-rule', { name: this.name, labels, groupName: `${this.name}.workers`, rules });
    // Our own name inside PromQL label values (scaledObject=, scaletargetref_name=): the chart writer must prefix it
    // with the release name there too.
    const naming = [...(this.scaledObject ? [0] : []), 2];
    for (const i of naming) Knobs.reference(this, { object: rule, path: ['spec', 'groups', 0, 'rules', i, 'expr'], name: this.name });
    return rule;
  }

  private declareKnobs(image: string, cpuUtilization: number | undefined): void {
    const labelled = [this.deployment, this.scaledObject, ...this.triggerAuthentications, this.hpa, this.pdb, this.metricsService, this.serviceMonitor, this.prometheusRule]
      .filter((o): o is ApiObject => o !== undefined);
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    declareImageKnobs(this, image, [this.deployment], labelled, containerPath);
    if (this.scaledObject && this.activeMinReplicas !== undefined) {
      const so = this.scaledObject;
      const idle = this.minReplicas === 0 && this.activeMinReplicas > 0;
      Knobs.declare(this, {
        key: 'scaling.minReplicas', description: idle ? 'Replica floor while there is work (idle: 0)' : 'Replica floor',
        // 0 only when the pool was built to scale to zero; KEDA requires idleReplicaCount < minReplicaCount.
        schema: { type: 'integer', minimum: idle || this.minReplicas > 0 ? 1 : 0 },
        default: this.activeMinReplicas, targets: [{ object: so, path: ['spec', 'minReplicaCount'] }], lessOrEqualTo: 'scaling.maxReplicas',
      });
      Knobs.declare(this, { key: 'scaling.maxReplicas', description: 'Replica ceiling', schema: { type: 'integer', minimum: 1 }, default: this.maxReplicas, targets: [{ object: so, path: ['spec', 'maxReplicaCount'] }] });
      this.triggers.forEach((t, i) => {
        // KEDA parses the Redis and SQS targets as integers, the others as positive decimals; metadata values are strings.
        const integer = ['pendingEntriesCount', 'lagCount', 'listLength', 'queueLength'].includes(t.targetField);
        Knobs.declare(this, {
          key: `scaling.triggers.t${i}.${t.targetField}`, description: `Target ${t.targetField} per replica of trigger ${i} (${t.type})`,
          schema: { type: 'string', pattern: integer ? '^[1-9][0-9]*$' : '^([0-9]*[1-9][0-9]*(\\.[0-9]+)?|0?\\.[0-9]*[1-9][0-9]*)$' },
          default: t.metadata[t.targetField],
          targets: [{ object: so, path: ['spec', 'triggers', i, 'metadata', t.targetField] }],
        });
      });
    } else if (this.hpa && cpuUtilization !== undefined) {
      const hpa = this.hpa;
      Knobs.declare(this, { key: 'scaling.minReplicas', description: 'Replica floor', schema: { type: 'integer', minimum: 1 }, default: this.minReplicas, targets: [{ object: hpa, path: ['spec', 'minReplicas'] }], lessOrEqualTo: 'scaling.maxReplicas' });
      Knobs.declare(this, { key: 'scaling.maxReplicas', description: 'Replica ceiling', schema: { type: 'integer', minimum: 1 }, default: this.maxReplicas, targets: [{ object: hpa, path: ['spec', 'maxReplicas'] }] });
      Knobs.declare(this, { key: 'scaling.cpuUtilization', description: 'Target CPU utilization of the fallback HPA (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: cpuUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'] }] });
    }
    declareResourceKnobs(this, this.resources, [this.deployment], containerPath);
  }
}
