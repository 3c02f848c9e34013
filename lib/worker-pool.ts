import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ResolvedAutoscaling, createHpa } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { STATELESS, WORKERS } from './defaults';
import { createPdb } from './disruption';
import { ValidationError } from './errors';
import { CompiledTrigger, QueueTrigger, compileTrigger, createTriggerAuthentication } from './keda';
import { KNOB_SCHEMAS, Knobs, declareResourceKnobs } from './knobs';
import { imageVersion, selectorLabels, standardLabels } from './labels';
import { AlertRule, createPrometheusRule, createServiceMonitor } from './monitoring';
import {
  ResolvedResources, ResourceProps, containerSecurityContext, resolveResources, toResourceRequirements, withRegistry,
} from './pod';
import { Presets } from './presets';
import { checkImage, checkInteger, checkPercent, checkPort, checkResourceName } from './validate';
import {
  WorkloadContainerProps, buildEnv, buildEnvFrom, presetPodAnnotations, pushPlainEnv, pushSecretEnv, workloadPodSpec,
  workloadVolumes,
} from './workload';


/** How the pool scales. */
export interface WorkerScalingProps {
  /**
   * Queue-depth triggers (KEDA ScaledObject). Without any, the pool falls back to a CPU HPA.
   * @default none: CPU HPA at 60 % (seed 000)
   */
  readonly triggers?: readonly QueueTrigger[];
  /** @default 1 (0 only with `scaleToZero`) */
  readonly minReplicas?: number;
  /** @default 20 — the generic HPA ceiling of seed 002 */
  readonly maxReplicas?: number;
  /** Scale to zero when every queue is empty (needs triggers that can report 0). @default false */
  readonly scaleToZero?: boolean;
  /** KEDA polling interval, seconds. @default 30 */
  readonly pollingIntervalSeconds?: number;
  /** Seconds idle before scaling to zero. @default 300 */
  readonly cooldownPeriodSeconds?: number;
  /** HPA scale-up/down behaviour, passed through (KEDA: `advanced.horizontalPodAutoscalerConfig.behavior`). @default Kubernetes' */
  readonly behavior?: k8s.HorizontalPodAutoscalerBehaviorV2;
  /** CPU target of the fallback HPA. @default 60 (seed 000) */
  readonly cpuUtilization?: number;
}

/** Alerts on the queue (PrometheusRule; needs the Prometheus Operator, KEDA metrics and kube-state-metrics). */
export interface WorkerAlertProps {
  /** Minutes the consumer lag (the trigger's metric) must grow before alerting. @default 10 */
  readonly lagGrowingMinutes?: number;
  /** Gauge the application exports per queue (seed 004: "ingest ... queue depth metrics"), label `queue`. @default `queue_depth` */
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
  /** Queue (stream, list, topic) the workers consume; passed as `QUEUE_NAME`. */
  readonly queue: string;
  /** Dead-letter queue for poison messages, passed as `DEAD_LETTER_QUEUE` (seed 004). @default `<queue>-dlq` */
  readonly deadLetterQueue?: string;
  /** Deliveries before a message goes to the DLQ, passed as `MAX_DELIVERY_ATTEMPTS`. @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** @default KEDA-free CPU HPA 1–20 at 60 % */
  readonly scaling?: WorkerScalingProps;
  /** @default requests 500m / 256Mi, limits 2000m / 1Gi (seed 002) */
  readonly resources?: ResourceProps;
  /** Seconds for in-flight jobs to finish after SIGTERM. @default 120 */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Command run before SIGTERM, e.g. one that tells the worker to stop fetching and waits for in-flight jobs.
   * Counts against the grace period. @default none: the worker handles SIGTERM itself
   */
  readonly preStop?: readonly string[];
  /** Port serving `/metrics`; exposed on a `metrics` Service for the ServiceMonitor. @default none */
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
 * shutdown and a CPU HPA fallback when no queue trigger is given.
 */
export class WorkerPool extends Construct {
  public readonly name: string;
  public readonly selector: Record<string, string>;
  public readonly minReplicas: number;
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
  public readonly prometheusRule?: ApiObject;
  /** The triggers as KEDA receives them. */
  public readonly triggers: readonly CompiledTrigger[];

  private readonly env: k8s.EnvVar[];

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const preset = Presets.of(this);
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

    const scaling = props.scaling ?? {};
    const triggers = scaling.triggers ?? [];
    this.triggers = triggers.map((t, i) => compileTrigger(this, `scaling.triggers[${i}]`, t));
    const presetAutoscaling = preset.autoscaling || undefined;
    const scaleToZero = scaling.scaleToZero ?? false;
    if (scaleToZero && this.triggers.length === 0) {
      throw new ValidationError(this, 'scaling.scaleToZero', true, 'needs at least one queue trigger: a CPU HPA cannot scale to zero');
    }
    const zeroBlocker = this.triggers.find((t) => !t.canScaleToZero);
    if (scaleToZero && zeroBlocker) {
      throw new ValidationError(this, 'scaling.scaleToZero', true,
        `a ${zeroBlocker.type} trigger on pending entries never reports 0 for an idle group; use lagCount (Redis 7+) to scale to zero`);
    }
    const minFallback = scaleToZero ? 0 : (preset.autoscaling === false ? preset.replicas : presetAutoscaling?.minReplicas) ?? WORKERS.minReplicas;
    this.minReplicas = checkInteger(this, 'scaling.minReplicas', scaling.minReplicas ?? minFallback, { min: scaleToZero ? 0 : 1 });
    this.maxReplicas = checkInteger(this, 'scaling.maxReplicas', scaling.maxReplicas ?? presetAutoscaling?.maxReplicas ?? WORKERS.maxReplicas, { min: 1 });
    if (this.minReplicas > this.maxReplicas) {
      throw new ValidationError(this, 'scaling.minReplicas', this.minReplicas, `must not exceed maxReplicas (${this.maxReplicas})`);
    }
    if (scaleToZero && scaling.minReplicas !== undefined && scaling.minReplicas !== 0) {
      throw new ValidationError(this, 'scaling.minReplicas', scaling.minReplicas, 'must be 0 (or unset) with scaleToZero');
    }

    this.selector = selectorLabels(this.name, 'worker');
    const labels = standardLabels(this, { name: this.name, component: 'worker', partOf: props.partOf, version: imageVersion(image) }, preset.labels);
    this.env = buildEnv(this, props, {
      APP_MODE: 'worker', QUEUE_NAME: queue, DEAD_LETTER_QUEUE: deadLetterQueue, MAX_DELIVERY_ATTEMPTS: String(maxDeliveryAttempts),
    });
    const metricsPort = props.metricsPort === undefined ? undefined : checkPort(this, 'metricsPort', props.metricsPort);
    const { volumes, volumeMounts } = workloadVolumes(this, props.configMounts);
    const grace = checkInteger(this, 'terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? WORKERS.terminationGracePeriodSeconds, { min: 1, max: 86_400 });
    if (props.preStop !== undefined && (props.preStop.length === 0 || props.preStop.some((c) => typeof c !== 'string' || c === ''))) {
      throw new ValidationError(this, 'preStop', props.preStop, 'must be a non-empty list of non-empty strings');
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
    const keda = this.triggers.length > 0;
    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: this.name, labels },
      spec: {
        // KEDA's HPA (or ours) owns the count.
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
        template: {
          metadata: { labels, ...presetPodAnnotations(preset) },
          spec: workloadPodSpec(this, { props, preset, selector: this.selector, container, volumes, terminationGracePeriodSeconds: grace }),
        },
      },
    });

    if (keda) {
      this.scaledObject = this.createScaledObject(labels, scaling);
    } else {
      const settings: ResolvedAutoscaling = {
        minReplicas: this.minReplicas, maxReplicas: this.maxReplicas,
        cpuUtilization: checkPercent(this, 'scaling.cpuUtilization', scaling.cpuUtilization ?? presetAutoscaling?.cpuUtilization ?? WORKERS.cpuUtilization),
        // Unused (cpuOnly HPA); kept so the settings type stays the shared one.
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
        createServiceMonitor(this, 'service-monitor', { name: this.name, labels, selector: this.selector, endpoints: [{ port: 'metrics' }] });
      }
    } else if (props.serviceMonitor) {
      throw new ValidationError(this, 'serviceMonitor', true, 'needs metricsPort');
    }
    if (props.alerts) {
      this.prometheusRule = this.createAlerts(labels, deadLetterQueue, props.alerts === true ? {} : props.alerts);
    }
    this.declareKnobs(image);
  }

  /** Adds a plain environment variable (credentials must go through {@link addSecretEnv}). */
  public addEnv(name: string, value: string): void {
    pushPlainEnv(this, this.env, name, value);
  }

  /** Adds an environment variable read from a Secret key. */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    pushSecretEnv(this, this.env, name, ref);
  }

  private createScaledObject(labels: Record<string, string>, scaling: WorkerScalingProps): ApiObject {
    const triggers = this.triggers.map((t, i) => {
      const needsAuth = t.secretTargetRef.length > 0 || t.podIdentity;
      let authenticationRef: { name: string } | undefined;
      if (needsAuth) {
        const authName = `${this.name}-trigger-${i}`;
        this.triggerAuthentications.push(createTriggerAuthentication(this, `trigger-auth-${i}`, authName, labels, t));
        authenticationRef = { name: authName };
      }
      return { type: t.type, metadata: { ...t.metadata }, ...(authenticationRef ? { authenticationRef } : {}) };
    });
    return new ApiObject(this, 'scaled-object', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: this.name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        pollingInterval: checkInteger(this, 'scaling.pollingIntervalSeconds', scaling.pollingIntervalSeconds ?? WORKERS.pollingIntervalSeconds, { min: 1, max: 3600 }),
        cooldownPeriod: checkInteger(this, 'scaling.cooldownPeriodSeconds', scaling.cooldownPeriodSeconds ?? WORKERS.cooldownPeriodSeconds, { min: 0, max: 86_400 }),
        minReplicaCount: this.minReplicas,
        maxReplicaCount: this.maxReplicas,
        ...(scaling.behavior ? { advanced: { horizontalPodAutoscalerConfig: { behavior: scaling.behavior } } } : {}),
        triggers,
      },
    });
  }

  private createAlerts(labels: Record<string, string>, deadLetterQueue: string, a: WorkerAlertProps): ApiObject {
    const lagMinutes = checkInteger(this, 'alerts.lagGrowingMinutes', a.lagGrowingMinutes ?? WORKERS.lagGrowingMinutes, { min: 1, max: 1440 });
    const atMaxMinutes = checkInteger(this, 'alerts.atMaxReplicasMinutes', a.atMaxReplicasMinutes ?? WORKERS.atMaxReplicasMinutes, { min: 1, max: 1440 });
    const threshold = checkInteger(this, 'alerts.deadLetterThreshold', a.deadLetterThreshold ?? WORKERS.deadLetterThreshold, { min: 1 });
    const depth = a.queueDepthMetric ?? 'queue_depth';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(depth)) {
      throw new ValidationError(this, 'alerts.queueDepthMetric', depth, 'must be a Prometheus metric name');
    }
    // KEDA names the HPA it manages keda-hpa-<ScaledObject>; kube-state-metrics exports both replica figures.
    const hpaName = this.scaledObject ? `keda-hpa-${this.name}` : this.name;
    const rules: AlertRule[] = [
      {
        alert: 'WorkerDeadLetterQueueNotEmpty',
        expr: `max(${depth}{queue="${deadLetterQueue}"}) >= ${threshold}`,
        for: '5m', severity: 'warning',
        summary: `${deadLetterQueue} holds poison messages for ${this.name}`,
        description: 'Inspect and replay or drop them; separate permanent failures from transient ones to avoid retry storms (seed 004).',
      },
      {
        alert: 'WorkerPoolAtMaxReplicas',
        expr: `kube_horizontalpodautoscaler_status_current_replicas{horizontalpodautoscaler="${hpaName}"} >= kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler="${hpaName}"}`,
        for: `${atMaxMinutes}m`, severity: 'warning',
        summary: `${this.name} has run at its ${this.maxReplicas}-replica ceiling for ${atMaxMinutes} minutes`,
        description: 'The queue grows faster than the ceiling drains it; check the datastore first, then raise maxReplicas (seed 001).',
      },
    ];
    if (this.scaledObject) {
      rules.unshift({
        alert: 'WorkerConsumerLagGrowing',
        expr: `sum(deriv(keda_scaler_metrics_value{scaledObject="${this.name}"}[5m])) > 0`,
        for: `${lagMinutes}m`, severity: 'warning',
        summary: `Queue depth of ${this.name} has grown for ${lagMinutes} minutes`,
        description: 'Consumers cannot keep up (seed 001: consumer lag); check datastore write capacity and the replica ceiling.',
      });
    }
    return createPrometheusRule(this, 'prometheus-rule', { name: this.name, labels, groupName: `${this.name}.workers`, rules });
  }

  private declareKnobs(image: string): void {
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    if (!image.includes('@')) {
      const at = image.lastIndexOf(':');
      const imageTarget = { object: this.deployment, path: [...containerPath, 'image'], template: '{{ $values.image.repository }}:{{ $values.image.tag }}' };
      Knobs.declare(this, { key: 'image.repository', description: 'Container image repository', schema: KNOB_SCHEMAS.imageRepository, default: image.slice(0, at), targets: [imageTarget] });
      Knobs.declare(this, { key: 'image.tag', description: 'Container image tag (pinned; "latest" is refused)', schema: KNOB_SCHEMAS.imageTag, default: image.slice(at + 1), targets: [] });
    }
    const scaler = this.scaledObject ?? this.hpa;
    if (scaler) {
      const [minPath, maxPath] = this.scaledObject ? [['spec', 'minReplicaCount'], ['spec', 'maxReplicaCount']] : [['spec', 'minReplicas'], ['spec', 'maxReplicas']];
      Knobs.declare(this, { key: 'scaling.minReplicas', description: 'Replica floor', schema: { type: 'integer', minimum: this.minReplicas === 0 ? 0 : 1 }, default: this.minReplicas, targets: [{ object: scaler, path: minPath }], lessOrEqualTo: 'scaling.maxReplicas' });
      Knobs.declare(this, { key: 'scaling.maxReplicas', description: 'Replica ceiling', schema: { type: 'integer', minimum: 1 }, default: this.maxReplicas, targets: [{ object: scaler, path: maxPath }] });
    }
    this.triggers.forEach((t, i) => {
      const field = ['pendingEntriesCount', 'lagCount', 'listLength', 'targetQueryValue', 'value', 'queueLength', 'threshold'].find((f) => f in t.metadata);
      if (!field || !this.scaledObject) return;
      Knobs.declare(this, {
        key: `scaling.triggers.t${i}.${field}`, description: `Target ${field} per replica of trigger ${i} (${t.type})`,
        schema: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' }, default: t.metadata[field],
        targets: [{ object: this.scaledObject, path: ['spec', 'triggers', i, 'metadata', field] }],
      });
    });
    declareResourceKnobs(this, this.resources, [this.deployment], containerPath);
  }
}

function checkQueueName(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$/.test(value)) {
    throw new ValidationError(scope, property, value, 'must be a queue/stream name: letters, digits, ".", "_", ":", "/", "-", at most 255 characters');
  }
  return value;
}
