import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AutoscalingProps, ResolvedAutoscaling, createHpa } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { recordErrors } from './core/problems';
import { createPdb } from './disruption';
import { Knobs, declareResourceKnobs } from './knobs';
import { withEphemeralStorage } from './ephemeral-storage';
import { createServiceMonitor } from './monitoring';
import { IngressPolicy, NetworkPolicyProps, createIngressPolicy, networkPolicyEnabled } from './network-policy';
import { SecretFiles } from './secret-files';
import { selectorLabels } from './labels';
import {
  ResolvedResources, ResourceProps, containerSecurityContext, presetPlacement, toResourceRequirements,
} from './pod';
import { INGRESS } from './defaults';
import { Presets } from './presets';
import {
  WorkloadContainerProps, declareImageKnobs, workloadDeployment, workloadPodMetadata, workloadPodSpec, workloadServiceAccount, writableRootAnnotation,
} from './workload';
import { addWorkloadEnv } from './workloads/container';
import type { WorkloadProbesProps } from './workloads/probes';
import { HTTP_PATH, INGRESS_HOST, IngressProps, createIngress } from './workloads/ingress';
import { ResolvedStatelessService, resolveStatelessService } from './workloads/stateless-resolve';
import { orderMigration } from './workloads/argo-order';

/**
 * Probes of the main container: the typed `liveness` / `readiness` / `startup` (any check, any thresholds), or the
 * shorthand paths below (not both for one probe).
 */
export interface ProbeProps extends WorkloadProbesProps {
  /** HTTP path of the readiness probe. @default `/ready` — the readiness signal of seed 001 */
  readonly readinessPath?: string;
  /**
   * HTTP path of the liveness probe. Without it, liveness is a TCP check on the port, so an outage of a
   * dependency (which `/ready` reports) never restarts healthy pods.
   * @default TCP check on the container port
   */
  readonly livenessPath?: string;
  /** Seconds a starting pod may take before liveness applies. @default 120 */
  readonly startupTimeoutSeconds?: number;
}

/** Prometheus Operator ServiceMonitor settings. */
export interface ServiceMonitorProps {
  /** Scrape interval. @default `30s` */
  readonly interval?: string;
}

/**
 * A schema migration run once per rollout, before new pods take traffic, so all instances run on one schema
 * version (seeds 003: "migrations should only run on one instance", 004: "keep all instances on the same migration
 * version before enabling traffic").
 */
export interface MigrationProps {
  /** Command run in the service's image, with its env and config, e.g. `['/app/server', 'migrate', 'up']`. */
  readonly command: readonly string[];
  /** @default none */
  readonly args?: readonly string[];
  /** Deadline of the migration Job (`activeDeadlineSeconds`). @default 300, Helm's default `--timeout` */
  readonly timeoutSeconds?: number;
  /** Retries of a failed migration pod. @default 1 */
  readonly backoffLimit?: number;
}

export interface StatelessServiceProps extends WorkloadContainerProps {
  /** Container image, pinned by tag (not `latest`) or digest. */
  readonly image: string;
  /** Name of every object this construct creates. @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /** `app.kubernetes.io/component`. @default `server` */
  readonly component?: string;
  /** Port the container listens on. @default 8080 */
  readonly port?: number;
  /** Port the Service exposes. @default 80 (seed 002) */
  readonly servicePort?: number;
  /**
   * Port serving `/metrics` if not the main port; exposed as a `metrics` port. When a sidecar declares this port
   * (named `metrics`), the sidecar serves it.
   * @default the main port
   */
  readonly metricsPort?: number;
  /** Path of the metrics endpoint. @default `/metrics` (seed 004) */
  readonly metricsPath?: string;
  /**
   * HPA settings, or `false` for a fixed replica count.
   * @default minReplicas 3, maxReplicas 20, CPU 60 %, memory 75 % (seeds 000, 002)
   */
  readonly autoscaling?: AutoscalingProps | false;
  /** Replica count when `autoscaling` is `false`. @default 3 (seeds 000, 002) */
  readonly replicas?: number;
  /** @default requests 500m / 256Mi, limits 2000m / 1Gi (seed 002) */
  readonly resources?: ResourceProps;
  /**
   * @default readiness GET `/ready` every 5 s (timeout 2 s, 3 failures); liveness TCP on `http` every 10 s (2 s, 3);
   * startup TCP on `http` every 2 s for 120 s
   */
  readonly probes?: ProbeProps;
  /**
   * Containers run next to the main one, e.g. a metrics exporter. Each must set its own resources and
   * securityContext (see `containerSecurityContext`). They may mount the pod's volumes: `tmp` (the /tmp emptyDir)
   * and `config-<i>` (configMounts[i]).
   * @default none
   */
  readonly sidecars?: readonly k8s.Container[];
  /**
   * Sticky sessions by client IP (seed 004: "only if you intentionally rely on them").
   * `true` uses Kubernetes' 3 h timeout; a number sets the timeout in seconds.
   * @default false
   */
  readonly stickySessions?: boolean | number;
  /**
   * A networking.k8s.io/v1 Ingress to the Service's `http` port: hosts with paths, TLS, class and annotations. The
   * NetworkPolicy then admits `networkPolicy.ingressController`. A Helm chart of the service offers
   * `ingress.enabled` (default: whether this is set) with `className`, `annotations`, `hosts` and `tls` values;
   * `false` means never behind an Ingress: no Ingress, and no such values in a chart (an internal service).
   * @default no Ingress (a chart user may turn one on)
   */
  readonly ingress?: IngressProps | false;
  /** Create a ServiceMonitor (needs the Prometheus Operator CRDs). @default false */
  readonly serviceMonitor?: boolean | ServiceMonitorProps;
  /**
   * PodDisruptionBudget (maxUnavailable 1, never blocks a drain). Turn off only for single-replica development setups.
   * @default true
   */
  readonly disruptionBudget?: boolean;
  /** Seconds for in-flight requests to finish on shutdown. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * A migration Job (`<name>-migrate`) from the same image, env and config. Plain manifests carry it as an Argo CD
   * PreSync hook, or, when it connects to a database of the same chart, as a Sync hook in wave 1 with the Deployment,
   * HPA and Ingress in wave 2 (docs/helm.md, "Migrations"); the Helm chart as a pre-install/pre-upgrade hook
   * (post-install,pre-upgrade after an in-chart database). A failed migration stops the rollout before any new pod starts.
   * @default no migration
   */
  readonly migration?: MigrationProps;
  /**
   * NetworkPolicy: ingress only from the service's own pods, clients wired with `connectService` (or `allowFrom`),
   * the ingress controller when `ingress` is set, and metrics scrapers on the metrics port; egress optional. A
   * migration Job gets a deny-all-ingress policy. `false` turns both off.
   * @default true: scrapers from the `monitoring` namespace, the controller from `ingress-nginx`, egress open
   */
  readonly networkPolicy?: boolean | NetworkPolicyProps;
}

/**
 * A stateless HTTP service: Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget carrying the
 * documented defaults, hardened and spread over nodes and zones.
 */
export class StatelessService extends Construct {
  /** Name shared by the Deployment, Service, HPA and PDB. */
  public readonly name: string;
  /** In-cluster DNS name of the Service. */
  public readonly host: string;
  /** Port of the Service. */
  public readonly servicePort: number;
  /** Labels selecting this service's pods. */
  public readonly selector: Record<string, string>;
  public readonly deployment!: k8s.KubeDeployment;
  public readonly service!: k8s.KubeService;
  public readonly hpa?: k8s.KubeHorizontalPodAutoscalerV2;
  /** Undefined when `disruptionBudget` is off. */
  public readonly pdb?: k8s.KubePodDisruptionBudget;
  public readonly ingress?: k8s.KubeIngress;
  public readonly serviceMonitor?: ApiObject;
  /** The migration Job, when `migration` is set. */
  public readonly migrationJob?: k8s.KubeJob;
  /** Undefined when `networkPolicy` is false. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  /** The ServiceAccount created by `serviceAccount.create`. */
  public readonly serviceAccount?: k8s.KubeServiceAccount;
  public readonly migrationNetworkPolicy?: k8s.KubeNetworkPolicy;
  /** Autoscaling after defaults and presets, or undefined when fixed. */
  public readonly autoscaling?: ResolvedAutoscaling;
  /** Replica count the workload runs with at most (HPA ceiling or fixed count): what connection budgets use. */
  public readonly maxReplicas: number;
  /** Replica count the workload runs with at least. */
  public readonly minReplicas: number;
  public readonly resources: ResolvedResources;

  private readonly env: k8s.EnvVar[];
  private ingressPolicy?: IngressPolicy;
  /** Undefined only when the props were refused (nothing is rendered then). */
  private secretFiles?: SecretFiles;

  constructor(scope: Construct, id: string, props: StatelessServiceProps) {
    super(scope, id);
    // One resolve step (props + preset + defaults, every problem found), then rendering from the resolved spec only.
    const { spec, errors } = resolveStatelessService(this, id, props, Presets.of(this));
    this.name = spec.name;
    this.host = spec.name;
    this.servicePort = spec.servicePort;
    this.selector = spec.selector;
    this.autoscaling = spec.autoscaling;
    this.minReplicas = spec.minReplicas;
    this.maxReplicas = spec.maxReplicas;
    this.resources = spec.resources;
    this.env = spec.container.env;
    if (errors.length > 0) {
      // Reported by `cdk8s synth` with every other construct's errors; nothing is rendered from a refused spec.
      recordErrors(this, errors);
      return;
    }
    this.render(spec, networkPolicyEnabled(props.networkPolicy));
  }

  /** Mounts a Secret key as a read-only file in the app (and migration) container; `<name>_FILE` holds its path. */
  public addSecretFileEnv(name: string, ref: SecretKeyRef): void {
    this.secretFiles?.add(name, ref);
  }

  /** Lets pods matching `selector` call this service through its NetworkPolicy (a no-op when it is off). */
  public allowClient(selector: Record<string, string>): void {
    this.ingressPolicy?.allowClient(selector);
  }

  /** Adds a plain environment variable (credentials must go through {@link addSecretEnv}). */
  public addEnv(name: string, value: string): void {
    addWorkloadEnv(this, this.env, name, value, 'env');
  }

  /** Adds an environment variable read from a Secret key. */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    addWorkloadEnv(this, this.env, name, ref, 'secretEnv');
  }

  private render(spec: ResolvedStatelessService, policy: NetworkPolicyProps | undefined): void {
    const { labels, selector, name, container: inputs } = spec;
    // Wiring may add Secret files after construction; they land in these same arrays before synth.
    this.secretFiles = new SecretFiles(this, inputs.volumes, inputs.volumeMounts, this.env);
    const http = k8s.IntOrString.fromString('http');
    const ports: k8s.ContainerPort[] = [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }];
    if (spec.metricsPort && !spec.metricsBySidecar) ports.push({ name: 'metrics', containerPort: spec.metricsPort, protocol: 'TCP' });
    const envFrom = inputs.envFrom.length ? { envFrom: inputs.envFrom } : {};
    const container: k8s.Container = {
      name: 'app',
      image: spec.image,
      imagePullPolicy: 'IfNotPresent',
      ...(inputs.command ? { command: inputs.command } : {}),
      ...(inputs.args ? { args: inputs.args } : {}),
      ports,
      env: this.env,
      ...envFrom,
      resources: toResourceRequirements(spec.resources),
      securityContext: containerSecurityContext(inputs.readOnlyRootFilesystem),
      ...(spec.probes.readiness ? { readinessProbe: spec.probes.readiness } : {}),
      ...(spec.probes.liveness ? { livenessProbe: spec.probes.liveness } : {}),
      ...(spec.probes.startup ? { startupProbe: spec.probes.startup } : {}),
      volumeMounts: inputs.volumeMounts,
    };
    const podSpec = workloadPodSpec({
      inputs, preset: spec.preset, selector, container, sidecars: spec.sidecars, terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    });
    this.set('deployment', workloadDeployment(this, {
      name, labels, selector, preset: spec.preset, podSpec, replicas: spec.minReplicas, podMetadata: workloadPodMetadata(labels, spec.preset, inputs),
    }));
    this.set('serviceAccount', workloadServiceAccount(this, inputs, labels));

    const servicePorts: k8s.ServicePort[] = [{ name: 'http', port: spec.servicePort, targetPort: http, protocol: 'TCP' }];
    if (spec.metricsPort) servicePorts.push({ name: 'metrics', port: spec.metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' });
    const sticky = spec.stickySessions;
    this.set('service', new k8s.KubeService(this, 'service', {
      metadata: { name, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: servicePorts,
        ...(sticky !== false ? {
          sessionAffinity: 'ClientIP',
          ...(typeof sticky === 'number' ? { sessionAffinityConfig: { clientIp: { timeoutSeconds: sticky } } } : {}),
        } : {}),
      },
    }));

    if (spec.autoscaling) {
      this.set('hpa', createHpa(this, 'hpa', {
        name, labels, target: { apiVersion: 'apps/v1', kind: 'Deployment', name }, settings: spec.autoscaling,
      }));
    }
    if (spec.disruptionBudget) this.set('pdb', createPdb(this, 'pdb', { name, labels, selector }));
    if (spec.ingress) this.set('ingress', createIngress(this, name, labels, spec.ingress));
    if (spec.serviceMonitor) {
      this.set('serviceMonitor', createServiceMonitor(this, 'service-monitor', {
        name, labels, selector,
        endpoints: [{ port: spec.metricsPort ? 'metrics' : 'http', path: spec.metricsPath, interval: spec.serviceMonitor.interval }],
      }));
    }
    if (spec.migration) {
      const migrationPod: k8s.PodSpec = {
        automountServiceAccountToken: podSpec.automountServiceAccountToken,
        ...(podSpec.serviceAccountName ? { serviceAccountName: podSpec.serviceAccountName } : {}),
        ...(podSpec.imagePullSecrets ? { imagePullSecrets: podSpec.imagePullSecrets } : {}),
        securityContext: podSpec.securityContext,
        restartPolicy: 'Never',
        containers: [{
          name: 'migrate',
          image: spec.image,
          imagePullPolicy: 'IfNotPresent',
          env: this.env,
          ...envFrom,
          resources: toResourceRequirements(spec.resources),
          securityContext: containerSecurityContext(inputs.readOnlyRootFilesystem),
          volumeMounts: inputs.volumeMounts,
        }],
        volumes: inputs.volumes,
        ...presetPlacement(spec.preset),
      };
      const job = this.createMigrationJob(spec.migration, spec.jobLabels, workloadPodMetadata(spec.jobLabels, spec.preset, inputs), migrationPod);
      this.set('migrationJob', job);
      // Argo CD: a PreSync hook, or after what it needs of the chart (a database, a ServiceAccount, a ConfigMap…) with
      // the new pods in the next wave. Decided at synth:
      // the env (this.env) is the live array wiring such as connectPostgres adds to after construction.
      orderMigration(this, job, migrationPod, [this.deployment, this.hpa, this.ingress]);
    }
    if (policy) {
      this.ingressPolicy = createIngressPolicy(this, 'network-policy', {
        name, labels, selector, property: 'networkPolicy', props: policy,
        ports: ['http'], metricsPorts: [spec.metricsPort ? 'metrics' : 'http'], exposedByIngress: spec.ingress !== undefined,
      });
      this.set('networkPolicy', this.ingressPolicy.policy);
      if (this.migrationJob) {
        // A migration serves nothing: deny all ingress.
        this.set('migrationNetworkPolicy', createIngressPolicy(this, 'migration-network-policy', {
          name: `${name}-migrate`, labels: spec.jobLabels, selector: selectorLabels(name, 'migration'),
          property: 'networkPolicy', props: policy, ports: [], members: false,
        }).policy);
      }
    }
    this.declareKnobs(spec.image, spec.ingress, spec.ingressOption);
  }

  /** Sets a rendered object on its public field (readonly to callers; rendering is the one writer). */
  private set<K extends 'deployment' | 'service' | 'hpa' | 'pdb' | 'ingress' | 'serviceMonitor' | 'migrationJob' | 'networkPolicy' | 'migrationNetworkPolicy' | 'serviceAccount'>(key: K, value: this[K]): void {
    (this as { [P in K]: this[K] })[key] = value;
  }

  private createMigrationJob(
    m: NonNullable<ResolvedStatelessService['migration']>, labels: Record<string, string>, podMetadata: k8s.ObjectMeta, pod: k8s.PodSpec,
  ): k8s.KubeJob {
    const [container] = pod.containers;
    return new k8s.KubeJob(this, 'migration', {
      metadata: {
        name: `${this.name}-migrate`,
        labels,
        annotations: {
          // The hook phase (PreSync, or Sync in a wave after an in-chart database) is set by orderMigration.
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
          ...writableRootAnnotation(pod.containers),
        },
      },
      spec: {
        backoffLimit: m.backoffLimit,
        activeDeadlineSeconds: m.timeoutSeconds,
        // The hook delete policies remove a succeeded Job; a failed one stays a day for its logs.
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: podMetadata,
          spec: withEphemeralStorage({ ...pod, containers: [{ ...container, command: m.command, ...(m.args ? { args: m.args } : {}) }] }),
        },
      },
    });
  }

  private declareKnobs(image: string, ingress: ResolvedStatelessService['ingress'], ingressOption: boolean): void {
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    const workloads: ApiObject[] = [this.deployment, ...(this.migrationJob ? [this.migrationJob] : [])];
    const labelled = [this.deployment, this.service, this.serviceAccount, this.hpa, this.pdb, this.ingress, this.serviceMonitor, this.migrationJob, this.networkPolicy, this.migrationNetworkPolicy]
      .filter((o): o is ApiObject => o !== undefined);
    declareImageKnobs(this, image, workloads, labelled, containerPath);
    if (this.autoscaling && this.hpa) {
      const hpa = this.hpa;
      Knobs.declare(this, { key: 'autoscaling.minReplicas', description: 'HPA floor', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.minReplicas, targets: [{ object: hpa, path: ['spec', 'minReplicas'] }, { object: this.deployment, path: ['spec', 'replicas'] }], lessOrEqualTo: 'autoscaling.maxReplicas' });
      Knobs.declare(this, { key: 'autoscaling.maxReplicas', description: 'HPA ceiling', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.maxReplicas, targets: [{ object: hpa, path: ['spec', 'maxReplicas'] }] });
      Knobs.declare(this, { key: 'autoscaling.cpuUtilization', description: 'HPA target CPU utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.cpuUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'] }] });
      Knobs.declare(this, { key: 'autoscaling.memoryUtilization', description: 'HPA target memory utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.memoryUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 1, 'resource', 'target', 'averageUtilization'] }] });
    } else {
      Knobs.declare(this, { key: 'replicas', description: 'Fixed replica count', schema: { type: 'integer', minimum: 1 }, default: this.minReplicas, targets: [{ object: this.deployment, path: ['spec', 'replicas'] }] });
    }
    declareResourceKnobs(this, this.resources, workloads, containerPath);
    if (ingressOption) {
      // A chart user may turn an Ingress on (or off), with hosts and TLS of their own: `ingress.*` values.
      const controller = this.ingressPolicy?.ingressController;
      Knobs.ingressOption(this, {
        service: this.service, portName: 'http', ...(this.ingress ? { ingress: this.ingress } : {}), hostPattern: INGRESS_HOST.source, pathPattern: HTTP_PATH.source,
        hosts: ingress ? ingress.rules : [{ host: `${this.name}.${INGRESS.exampleDomain}`, paths: [{ path: '/', pathType: 'Prefix' }] }],
        tls: ingress ? ingress.tls : [],
        ...(this.networkPolicy && controller ? { networkPolicy: { object: this.networkPolicy, rule: 0, index: controller.index, peer: controller.peer } } : {}),
      });
    }
  }
}
