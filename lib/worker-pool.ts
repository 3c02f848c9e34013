import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { createHpa } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { recordErrors } from './core/problems';
import { createPdb } from './disruption';
import { CompiledTrigger, QueueTrigger, createTriggerAuthentication } from './keda';
import { KNOB_SCHEMAS, Knobs, declareResourceKnobs } from './knobs';
import { NetworkPolicyProps, createIngressPolicy, networkPolicyEnabled } from './network-policy';
import type { WorkerLivenessProps } from './worker-liveness';
import type { WorkloadProbesProps } from './workloads/probes';
import { SecretFiles } from './secret-files';
import { AlertRule, createPrometheusRule, createServiceMonitor } from './monitoring';
import { ResolvedResources, ResourceProps, containerSecurityContext, toResourceRequirements } from './pod';
import { Presets } from './presets';
import {
  WorkloadContainerProps, declareImageKnobs, workloadDeployment, workloadPodMetadata, workloadPodSpec, workloadServiceAccount,
} from './workload';
import { addWorkloadEnv } from './workloads/container';
import { ResolvedWorkerPool, WorkerScaler, resolveWorkerPool } from './workloads/worker-resolve';
import { allowRedisClient } from './redis/network-policy';

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
  /**
   * How the kubelet tells a wedged worker (docs/workers.md): a heartbeat file the worker touches (`HEARTBEAT_FILE`,
   * checked by an exec probe that needs `sh`, `date` and `stat` in the image), an HTTP health port (`HEALTH_PORT`),
   * or a TCP check of `metricsPort`. `false` turns liveness off.
   * @default heartbeat: /tmp/heartbeat, at most 60 s old, 120 s to the first beat
   */
  readonly liveness?: WorkerLivenessProps | false;
  /**
   * Typed probes over the `liveness` contract's: thresholds alone tune its probes; a check of its own (`http`, `grpc`,
   * `exec`, `tcp`) or `false` replaces them (then without `liveness`). `readiness` adds a readiness probe.
   * @default the `liveness` contract's liveness and startup probes, no readiness probe
   */
  readonly probes?: WorkloadProbesProps;
  /**
   * NetworkPolicy: workers serve nothing, so ingress is denied except scrapers on `metricsPort`; egress optional.
   * @default true: scrapers from the `monitoring` namespace
   */
  readonly networkPolicy?: boolean | NetworkPolicyProps;
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
  public readonly deployment!: k8s.KubeDeployment;
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
  /** Undefined when `networkPolicy` is false. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  /** The ServiceAccount created by `serviceAccount.create`. */
  public readonly serviceAccount?: k8s.KubeServiceAccount;

  private readonly env: k8s.EnvVar[];
  /** Undefined only when the props were refused (nothing is rendered then). */
  private secretFiles?: SecretFiles;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    // One resolve step (props + preset + defaults, every problem found), then rendering from the resolved spec only.
    const { spec, errors } = resolveWorkerPool(this, id, props, Presets.of(this));
    this.name = spec.name;
    this.selector = spec.selector;
    this.minReplicas = spec.minReplicas;
    this.maxReplicas = spec.maxReplicas;
    this.resources = spec.resources;
    this.triggers = spec.triggers;
    this.env = spec.container.env;
    if (spec.scaler.kind === 'keda') this.activeMinReplicas = spec.scaler.activeFloor;
    if (errors.length > 0) {
      // Reported by `cdk8s synth` with every other construct's errors; nothing is rendered from a refused spec.
      recordErrors(this, errors);
      return;
    }
    this.render(spec, networkPolicyEnabled(props.networkPolicy));
  }

  /** Mounts a Secret key as a read-only file in the worker container; `<name>_FILE` holds its path (again: a no-op). */
  public addSecretFileEnv(name: string, ref: SecretKeyRef): void {
    this.secretFiles?.add(name, ref);
  }

  /**
   * Adds a plain environment variable (credentials must go through {@link addSecretEnv}). Setting a variable again to
   * the same value is a no-op, so wiring the queue's Redis here and with connectRedis composes.
   */
  public addEnv(name: string, value: string): void {
    addWorkloadEnv(this, this.env, name, value, 'env');
  }

  /** Adds an environment variable read from a Secret key (again with the same key: a no-op). */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    addWorkloadEnv(this, this.env, name, ref, 'secretEnv');
  }

  private render(spec: ResolvedWorkerPool, policy: NetworkPolicyProps | undefined): void {
    const { name, labels, selector, container: inputs, scaler } = spec;
    // Wiring may add Secret files after construction; they land in these same arrays before synth.
    this.secretFiles = new SecretFiles(this, inputs.volumes, inputs.volumeMounts, this.env);
    for (const redis of spec.queueRedis) allowRedisClient(redis, selector, { keda: true });
    const { liveness } = spec;
    for (const [envName, value] of Object.entries(liveness.env)) this.addEnv(envName, value);
    const ports: k8s.ContainerPort[] = [
      ...(spec.metricsPort ? [{ name: 'metrics', containerPort: spec.metricsPort, protocol: 'TCP' }] : []),
      ...liveness.ports,
    ];
    const container: k8s.Container = {
      name: 'worker',
      image: spec.image,
      imagePullPolicy: 'IfNotPresent',
      ...(inputs.command ? { command: inputs.command } : {}),
      ...(inputs.args ? { args: inputs.args } : {}),
      ...(ports.length ? { ports } : {}),
      ...(spec.probes.liveness ? { livenessProbe: spec.probes.liveness } : {}),
      ...(spec.probes.readiness ? { readinessProbe: spec.probes.readiness } : {}),
      ...(spec.probes.startup ? { startupProbe: spec.probes.startup } : {}),
      env: this.env,
      ...(inputs.envFrom.length ? { envFrom: inputs.envFrom } : {}),
      resources: toResourceRequirements(spec.resources),
      securityContext: containerSecurityContext(inputs.readOnlyRootFilesystem),
      ...(spec.preStop ? { lifecycle: { preStop: { exec: { command: spec.preStop } } } } : {}),
      volumeMounts: inputs.volumeMounts,
    };
    // Starts at the floor (or the fixed count); KEDA's HPA (or ours) owns the count from then on (docs/helm.md).
    this.set('deployment', workloadDeployment(this, {
      name, labels, selector, preset: spec.preset,
      podSpec: workloadPodSpec({ inputs, preset: spec.preset, selector, container, terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds }),
      replicas: scaler.kind === 'fixed' ? scaler.replicas : this.minReplicas,
      podMetadata: workloadPodMetadata(labels, spec.preset, inputs),
    }));
    this.set('serviceAccount', workloadServiceAccount(this, inputs, labels));

    if (scaler.kind === 'keda') this.set('scaledObject', this.createScaledObject(labels, scaler));
    else if (scaler.kind === 'hpa') {
      this.set('hpa', createHpa(this, 'hpa', { name, labels, target: { apiVersion: 'apps/v1', kind: 'Deployment', name }, settings: scaler.settings, cpuOnly: true }));
    }
    if (spec.disruptionBudget) this.set('pdb', createPdb(this, 'pdb', { name, labels, selector }));
    if (spec.metricsPort) {
      this.set('metricsService', new k8s.KubeService(this, 'metrics-service', {
        metadata: { name: `${name}-metrics`, labels },
        spec: { type: 'ClusterIP', selector, ports: [{ name: 'metrics', port: spec.metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] },
      }));
      if (spec.serviceMonitor) {
        this.set('serviceMonitor', createServiceMonitor(this, 'service-monitor', { name, labels, selector, endpoints: [{ port: 'metrics' }] }));
      }
    }
    if (policy) {
      this.set('networkPolicy', createIngressPolicy(this, 'network-policy', {
        name, labels, selector, property: 'networkPolicy', props: policy,
        ports: [], members: false, metricsPorts: spec.metricsPort ? ['metrics'] : [],
      }).policy);
    }
    if (spec.alerts) this.set('prometheusRule', this.createAlerts(labels, spec, spec.alerts));
    this.declareKnobs(spec.image, scaler);
  }

  /** Sets a rendered object on its public field (readonly to callers; rendering is the one writer). */
  private set<K extends 'deployment' | 'scaledObject' | 'hpa' | 'pdb' | 'metricsService' | 'serviceMonitor' | 'prometheusRule' | 'networkPolicy' | 'serviceAccount'>(key: K, value: this[K]): void {
    (this as { [P in K]: this[K] })[key] = value;
  }

  private createScaledObject(labels: Record<string, string>, scaler: Extract<WorkerScaler, { kind: 'keda' }>): ApiObject {
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
    const idle = scaler.scaleToZero && scaler.activeFloor > 0;
    return new ApiObject(this, 'scaled-object', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: this.name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        pollingInterval: scaler.pollingInterval,
        cooldownPeriod: scaler.cooldownPeriod,
        ...(idle ? { idleReplicaCount: 0 } : {}),
        minReplicaCount: scaler.activeFloor,
        maxReplicaCount: this.maxReplicas,
        ...(scaler.behavior ? { advanced: { horizontalPodAutoscalerConfig: { behavior: scaler.behavior } } } : {}),
        triggers,
      },
    });
  }

  private createAlerts(labels: Record<string, string>, q: { queue: string; deadLetterQueue: string; namespace?: string }, a: NonNullable<ResolvedWorkerPool['alerts']>): ApiObject {
    const { lagMinutes, atMaxMinutes, threshold, depthMetric: depth } = a;
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

  private declareKnobs(image: string, scaler: WorkerScaler): void {
    const labelled = [this.deployment, this.serviceAccount, this.scaledObject, ...this.triggerAuthentications, this.hpa, this.pdb, this.metricsService, this.serviceMonitor, this.prometheusRule, this.networkPolicy]
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
        default: this.activeMinReplicas,
        targets: [{ object: so, path: ['spec', 'minReplicaCount'] }, ...(idle ? [] : [{ object: this.deployment, path: ['spec', 'replicas'] }])],
        lessOrEqualTo: 'scaling.maxReplicas',
      });
      Knobs.declare(this, { key: 'scaling.maxReplicas', description: 'Replica ceiling', schema: { type: 'integer', minimum: 1 }, default: this.maxReplicas, targets: [{ object: so, path: ['spec', 'maxReplicaCount'] }] });
      this.triggers.forEach((t, i) => {
        // KEDA parses the Redis and SQS targets as integers, the others as positive decimals; metadata values are strings.
        const integer = ['pendingEntriesCount', 'lagCount', 'listLength', 'queueLength'].includes(t.targetField);
        Knobs.declare(this, {
          key: `scaling.triggers.t${i}.${t.targetField}`, description: `Target ${t.targetField} per replica of trigger ${i} (${t.type})`,
          // `5e-7` and `--set ...=2` are as valid as the synthesized "2".
          schema: integer ? KNOB_SCHEMAS.positiveIntegerString : KNOB_SCHEMAS.positiveDecimal,
          default: t.metadata[t.targetField], example: String(Number(t.metadata[t.targetField]) * 2),
          targets: [{ object: so, path: ['spec', 'triggers', i, 'metadata', t.targetField] }],
        });
      });
    } else if (this.hpa && scaler.kind === 'hpa') {
      const { cpuUtilization } = scaler.settings;
      const hpa = this.hpa;
      Knobs.declare(this, { key: 'scaling.minReplicas', description: 'Replica floor', schema: { type: 'integer', minimum: 1 }, default: this.minReplicas, targets: [{ object: hpa, path: ['spec', 'minReplicas'] }, { object: this.deployment, path: ['spec', 'replicas'] }], lessOrEqualTo: 'scaling.maxReplicas' });
      Knobs.declare(this, { key: 'scaling.maxReplicas', description: 'Replica ceiling', schema: { type: 'integer', minimum: 1 }, default: this.maxReplicas, targets: [{ object: hpa, path: ['spec', 'maxReplicas'] }] });
      Knobs.declare(this, { key: 'scaling.cpuUtilization', description: 'Target CPU utilization of the fallback HPA (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: cpuUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'] }] });
    }
    if (scaler.kind === 'fixed') {
      Knobs.declare(this, { key: 'replicas', description: 'Fixed replica count', schema: { type: 'integer', minimum: 1 }, default: scaler.replicas, targets: [{ object: this.deployment, path: ['spec', 'replicas'] }] });
    }
    declareResourceKnobs(this, this.resources, [this.deployment], containerPath);
  }
}
