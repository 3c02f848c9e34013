import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AutoscalingProps, ResolvedAutoscaling, createHpa, resolveAutoscaling } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { STATELESS } from './defaults';
import { createPdb } from './disruption';
import { ValidationError } from './errors';
import { Knobs, declareResourceKnobs } from './knobs';
import { imageVersion, selectorLabels, standardLabels } from './labels';
import { withEphemeralStorage } from './ephemeral-storage';
import { createServiceMonitor } from './monitoring';
import { IngressPolicy, NetworkPolicyProps, createIngressPolicy, networkPolicyEnabled } from './network-policy';
import { SecretFiles } from './secret-files';
import {
  ResolvedResources, ResourceProps, containerSecurityContext,
  presetPlacement, resolveResources, toResourceRequirements, withRegistry,
} from './pod';
import { Presets } from './presets';
import {
  WorkloadContainerProps, buildEnv, buildEnvFrom, declareImageKnobs, pushPlainEnv, pushSecretEnv, workloadDeployment, workloadPodSpec,
  workloadVolumes,
} from './workload';
import {
  checkImage, checkInteger, checkObjectName, checkPort, checkResourceName,
} from './validate';

/** Probe endpoints. */
export interface ProbeProps {
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

/** Ingress in front of the Service. */
export interface IngressProps {
  /** Host name, e.g. `api.example.com`. */
  readonly host: string;
  /** @default `/` */
  readonly path?: string;
  /** IngressClass to use. @default the cluster's default class */
  readonly className?: string;
  /** Secret with the TLS certificate for `host`. @default no TLS section */
  readonly tlsSecretName?: string;
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
  /** @default readiness `/ready`, liveness and startup TCP */
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
  /** @default no Ingress */
  readonly ingress?: IngressProps;
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
   * PreSync hook; the Helm chart as a pre-install/pre-upgrade hook. A failed migration stops the rollout before any
   * new pod starts.
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
  public readonly deployment: k8s.KubeDeployment;
  public readonly service: k8s.KubeService;
  public readonly hpa?: k8s.KubeHorizontalPodAutoscalerV2;
  /** Undefined when `disruptionBudget` is off. */
  public readonly pdb?: k8s.KubePodDisruptionBudget;
  public readonly ingress?: k8s.KubeIngress;
  public readonly serviceMonitor?: ApiObject;
  /** The migration Job, when `migration` is set. */
  public readonly migrationJob?: k8s.KubeJob;
  /** Undefined when `networkPolicy` is false. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  public readonly migrationNetworkPolicy?: k8s.KubeNetworkPolicy;
  /** Autoscaling after defaults and presets, or undefined when fixed. */
  public readonly autoscaling?: ResolvedAutoscaling;
  /** Replica count the workload runs with at most (HPA ceiling or fixed count): what connection budgets use. */
  public readonly maxReplicas: number;
  /** Replica count the workload runs with at least. */
  public readonly minReplicas: number;
  public readonly resources: ResolvedResources;

  private readonly env: k8s.EnvVar[];
  private readonly ingressPolicy?: IngressPolicy;
  private readonly secretFiles: SecretFiles;

  constructor(scope: Construct, id: string, props: StatelessServiceProps) {
    super(scope, id);
    const preset = Presets.of(this);
    this.name = checkResourceName(this, 'name', props.name ?? id);
    const image = checkImage(this, 'image', withRegistry(props.image, preset.imageRegistry));
    const component = props.component ?? 'server';
    const port = checkPort(this, 'port', props.port ?? STATELESS.containerPort);
    this.servicePort = checkPort(this, 'servicePort', props.servicePort ?? STATELESS.servicePort);
    const metricsPort = props.metricsPort === undefined ? undefined : checkPort(this, 'metricsPort', props.metricsPort);
    if (metricsPort === port) {
      throw new ValidationError(this, 'metricsPort', metricsPort, 'must differ from port; omit it when the main port serves /metrics');
    }
    const metricsPath = checkHttpPath(this, 'metricsPath', props.metricsPath ?? STATELESS.metricsPath);

    this.resources = resolveResources(this, 'resources', props.resources, preset.resources, STATELESS);
    // Call-site autoscaling wins; otherwise a preset may switch it off (development tier).
    const autoscalingOff = props.autoscaling === false || (props.autoscaling === undefined && preset.autoscaling === false);
    const presetAutoscaling = preset.autoscaling || undefined;
    if (autoscalingOff) {
      this.minReplicas = this.maxReplicas = checkInteger(this, 'replicas',
        props.replicas ?? preset.replicas ?? presetAutoscaling?.minReplicas ?? STATELESS.minReplicas, { min: 1 });
    } else {
      if (props.replicas !== undefined) {
        throw new ValidationError(this, 'replicas', props.replicas, 'is owned by the HPA when autoscaling is on; set autoscaling.minReplicas, or autoscaling: false');
      }
      this.autoscaling = resolveAutoscaling(this, 'autoscaling', [props.autoscaling || undefined, presetAutoscaling, STATELESS]);
      this.minReplicas = this.autoscaling.minReplicas;
      this.maxReplicas = this.autoscaling.maxReplicas;
    }

    this.selector = selectorLabels(this.name, component);
    const labels = standardLabels(this, { name: this.name, component, partOf: props.partOf, version: imageVersion(image) }, preset.labels);
    this.host = this.name;

    this.env = buildEnv(this, props);
    const ports: k8s.ContainerPort[] = [{ name: 'http', containerPort: port, protocol: 'TCP' }];
    const sidecars = props.sidecars ?? [];
    sidecars.forEach((c, i) => {
      if (c.name === 'app' || sidecars.findIndex((o) => o.name === c.name) !== i) {
        throw new ValidationError(this, `sidecars[${i}].name`, c.name, 'must be unique and not "app" (the main container)');
      }
    });
    const metricsSidecar = sidecars.find((c) => (c.ports ?? []).some((p) => p.containerPort === metricsPort));
    if (metricsSidecar && !(metricsSidecar.ports ?? []).some((p) => p.containerPort === metricsPort && p.name === 'metrics')) {
      throw new ValidationError(this, 'sidecars', metricsSidecar.name, `must name its port ${metricsPort} "metrics": the Service and ServiceMonitor target it by name`);
    }
    if (metricsPort && !metricsSidecar) ports.push({ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' });
    const { volumes, volumeMounts } = workloadVolumes(this, props.configMounts);
    this.secretFiles = new SecretFiles(this, volumes, volumeMounts, this.env);

    const probes = props.probes ?? {};
    const readinessPath = checkHttpPath(this, 'probes.readinessPath', probes.readinessPath ?? STATELESS.readinessPath);
    const startupTimeout = checkInteger(this, 'probes.startupTimeoutSeconds', probes.startupTimeoutSeconds ?? 120, { min: 2, max: 3600 });
    const liveness: k8s.Probe = probes.livenessPath
      ? { httpGet: { path: checkHttpPath(this, 'probes.livenessPath', probes.livenessPath), port: k8s.IntOrString.fromString('http') } }
      : { tcpSocket: { port: k8s.IntOrString.fromString('http') } };

    const container: k8s.Container = {
      name: 'app',
      image,
      imagePullPolicy: 'IfNotPresent',
      ...(props.command ? { command: [...props.command] } : {}),
      ...(props.args ? { args: [...props.args] } : {}),
      ports,
      env: this.env,
      ...(buildEnvFrom(this, props)),
      resources: toResourceRequirements(this.resources),
      securityContext: containerSecurityContext(props.readOnlyRootFilesystem ?? true),
      readinessProbe: {
        httpGet: { path: readinessPath, port: k8s.IntOrString.fromString('http') },
        periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3,
      },
      livenessProbe: { ...liveness, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      startupProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 2, failureThreshold: Math.ceil(startupTimeout / 2) },
      volumeMounts,
    };

    const podSpec = workloadPodSpec(this, {
      props, preset, selector: this.selector, container, sidecars, volumes,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? STATELESS.terminationGracePeriodSeconds,
    });
    this.deployment = workloadDeployment(this, {
      name: this.name, labels, selector: this.selector, preset, podSpec, replicas: this.autoscaling ? undefined : this.minReplicas,
    });

    const servicePorts: k8s.ServicePort[] = [
      { name: 'http', port: this.servicePort, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' },
    ];
    if (metricsPort) servicePorts.push({ name: 'metrics', port: metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' });
    const sticky = props.stickySessions;
    this.service = new k8s.KubeService(this, 'service', {
      metadata: { name: this.name, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: servicePorts,
        ...(sticky ? {
          sessionAffinity: 'ClientIP',
          ...(typeof sticky === 'number'
            ? { sessionAffinityConfig: { clientIp: { timeoutSeconds: checkInteger(this, 'stickySessions', sticky, { min: 1, max: 86_400 }) } } }
            : {}),
        } : {}),
      },
    });

    if (this.autoscaling) {
      this.hpa = createHpa(this, 'hpa', {
        name: this.name, labels,
        target: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        settings: this.autoscaling,
      });
    }
    if (props.disruptionBudget ?? preset.disruptionBudget ?? true) {
      this.pdb = createPdb(this, 'pdb', { name: this.name, labels, selector: this.selector });
    }

    if (props.ingress) this.ingress = this.createIngress(props.ingress, labels);
    if (props.serviceMonitor) {
      const interval = typeof props.serviceMonitor === 'object' ? props.serviceMonitor.interval : undefined;
      this.serviceMonitor = createServiceMonitor(this, 'service-monitor', {
        name: this.name, labels, selector: this.selector,
        endpoints: [{ port: metricsPort ? 'metrics' : 'http', path: metricsPath, interval }],
      });
    }
    let jobLabels: Record<string, string> = {};
    if (props.migration) {
      jobLabels = standardLabels(this, { name: this.name, component: 'migration', partOf: props.partOf, version: imageVersion(image) }, preset.labels);
      this.migrationJob = this.createMigrationJob(props.migration, jobLabels, {
        automountServiceAccountToken: podSpec.automountServiceAccountToken,
        ...(podSpec.serviceAccountName ? { serviceAccountName: podSpec.serviceAccountName } : {}),
        securityContext: podSpec.securityContext,
        restartPolicy: 'Never',
        containers: [{
          name: 'migrate',
          image,
          imagePullPolicy: 'IfNotPresent',
          env: this.env,
          ...(buildEnvFrom(this, props)),
          resources: toResourceRequirements(this.resources),
          securityContext: containerSecurityContext(props.readOnlyRootFilesystem ?? true),
          volumeMounts,
        }],
        volumes,
        ...presetPlacement(preset),
      });
    }
    const policy = networkPolicyEnabled(props.networkPolicy);
    if (policy) {
      this.ingressPolicy = createIngressPolicy(this, 'network-policy', {
        name: this.name, labels, selector: this.selector, property: 'networkPolicy', props: policy,
        ports: ['http'], metricsPorts: [metricsPort ? 'metrics' : 'http'], exposedByIngress: props.ingress !== undefined,
      });
      this.networkPolicy = this.ingressPolicy.policy;
      if (this.migrationJob) {
        // A migration serves nothing: deny all ingress.
        this.migrationNetworkPolicy = createIngressPolicy(this, 'migration-network-policy', {
          name: `${this.name}-migrate`, labels: jobLabels, selector: selectorLabels(this.name, 'migration'),
          property: 'networkPolicy', props: policy, ports: [], members: false,
        }).policy;
      }
    }
    this.declareKnobs(image, props.ingress);
  }

  /** Mounts a Secret key as a read-only file in the app (and migration) container; `<name>_FILE` holds its path. */
  public addSecretFileEnv(name: string, ref: SecretKeyRef): void {
    this.secretFiles.add(name, ref);
  }

  /** Lets pods matching `selector` call this service through its NetworkPolicy (a no-op when it is off). */
  public allowClient(selector: Record<string, string>): void {
    this.ingressPolicy?.allowClient(selector);
  }

  /** Adds a plain environment variable (credentials must go through {@link addSecretEnv}). */
  public addEnv(name: string, value: string): void {
    pushPlainEnv(this, this.env, name, value);
  }

  /** Adds an environment variable read from a Secret key. */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    pushSecretEnv(this, this.env, name, ref);
  }

  private createMigrationJob(m: MigrationProps, labels: Record<string, string>, pod: k8s.PodSpec): k8s.KubeJob {
    if (!Array.isArray(m.command) || m.command.length === 0 || m.command.some((c) => typeof c !== 'string' || c === '')) {
      throw new ValidationError(this, 'migration.command', m.command, 'must be a non-empty list of non-empty strings');
    }
    const timeout = checkInteger(this, 'migration.timeoutSeconds', m.timeoutSeconds ?? STATELESS.migrationTimeoutSeconds, { min: 30, max: 86_400 });
    const backoffLimit = checkInteger(this, 'migration.backoffLimit', m.backoffLimit ?? STATELESS.migrationBackoffLimit, { min: 0, max: 10 });
    const [container] = pod.containers;
    return new k8s.KubeJob(this, 'migration', {
      metadata: {
        name: `${this.name}-migrate`,
        labels,
        annotations: {
          // Argo CD runs PreSync hooks before applying the new Deployment and stops the sync when they fail.
          'argocd.argoproj.io/hook': 'PreSync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
        },
      },
      spec: {
        backoffLimit,
        activeDeadlineSeconds: timeout,
        // The hook delete policies remove a succeeded Job; a failed one stays a day for its logs.
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: { labels },
          spec: withEphemeralStorage({ ...pod, containers: [{ ...container, command: [...m.command], ...(m.args ? { args: [...m.args] } : {}) }] }),
        },
      },
    });
  }

  private createIngress(ing: IngressProps, labels: Record<string, string>): k8s.KubeIngress {
    if (!INGRESS_HOST.test(ing.host)) {
      throw new ValidationError(this, 'ingress.host', ing.host, 'must be a fully qualified DNS name such as api.example.com');
    }
    const path = checkHttpPath(this, 'ingress.path', ing.path ?? '/');
    return new k8s.KubeIngress(this, 'ingress', {
      metadata: { name: this.name, labels },
      spec: {
        ...(ing.className ? { ingressClassName: ing.className } : {}),
        ...(ing.tlsSecretName ? { tls: [{ hosts: [ing.host], secretName: checkObjectName(this, 'ingress.tlsSecretName', ing.tlsSecretName) }] } : {}),
        rules: [{
          host: ing.host,
          http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: this.name, port: { name: 'http' } } } }] },
        }],
      },
    });
  }

  private declareKnobs(image: string, ingress: IngressProps | undefined): void {
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    const workloads: ApiObject[] = [this.deployment, ...(this.migrationJob ? [this.migrationJob] : [])];
    const labelled = [this.deployment, this.service, this.hpa, this.pdb, this.ingress, this.serviceMonitor, this.migrationJob, this.networkPolicy, this.migrationNetworkPolicy]
      .filter((o): o is ApiObject => o !== undefined);
    declareImageKnobs(this, image, workloads, labelled, containerPath);
    if (this.autoscaling && this.hpa) {
      const hpa = this.hpa;
      Knobs.declare(this, { key: 'autoscaling.minReplicas', description: 'HPA floor', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.minReplicas, targets: [{ object: hpa, path: ['spec', 'minReplicas'] }], lessOrEqualTo: 'autoscaling.maxReplicas' });
      Knobs.declare(this, { key: 'autoscaling.maxReplicas', description: 'HPA ceiling', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.maxReplicas, targets: [{ object: hpa, path: ['spec', 'maxReplicas'] }] });
      Knobs.declare(this, { key: 'autoscaling.cpuUtilization', description: 'HPA target CPU utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.cpuUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'] }] });
      Knobs.declare(this, { key: 'autoscaling.memoryUtilization', description: 'HPA target memory utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.memoryUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 1, 'resource', 'target', 'averageUtilization'] }] });
    } else {
      Knobs.declare(this, { key: 'replicas', description: 'Fixed replica count', schema: { type: 'integer', minimum: 1 }, default: this.minReplicas, targets: [{ object: this.deployment, path: ['spec', 'replicas'] }] });
    }
    declareResourceKnobs(this, this.resources, workloads, containerPath);
    if (ingress && this.ingress) {
      const hosts = [{ object: this.ingress, path: ['spec', 'rules', 0, 'host'] }];
      if (ingress.tlsSecretName) hosts.push({ object: this.ingress, path: ['spec', 'tls', 0, 'hosts', 0] });
      Knobs.declare(this, { key: 'ingress.host', description: 'Public host name of the Ingress', schema: { type: 'string', pattern: INGRESS_HOST.source }, default: ingress.host, targets: hosts });
    }
  }
}

function checkHttpPath(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value)) {
    throw new ValidationError(scope, property, value, 'must be an absolute HTTP path starting with "/"');
  }
  return value;
}

const INGRESS_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

