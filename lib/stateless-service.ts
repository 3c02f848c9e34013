import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AutoscalingProps, ResolvedAutoscaling, createHpa, resolveAutoscaling } from './autoscaling';
import type { SecretKeyRef } from './connections';
import { APP_MODES, AppMode, STATELESS } from './defaults';
import { createPdb } from './disruption';
import { ValidationError } from './errors';
import { Knobs } from './knobs';
import { imageVersion, selectorLabels, standardLabels } from './labels';
import { createServiceMonitor } from './monitoring';
import {
  DEFAULT_APP_USER, ResolvedResources, ResourceProps, TMP_MOUNT, TMP_VOLUME, containerSecurityContext,
  podSecurityContext, presetPlacement, resolveResources, spreadScheduling, toResourceRequirements, withRegistry,
} from './pod';
import { Presets } from './presets';
import {
  checkEnvName, checkImage, checkInteger, checkObjectName, checkOneOf, checkPort, checkResourceName,
} from './validate';

/** A ConfigMap mounted as files. */
export interface ConfigMount {
  /** Name of the ConfigMap. */
  readonly configMap: string;
  /** Directory the keys appear in, e.g. `/etc/app`. */
  readonly mountPath: string;
}

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

export interface StatelessServiceProps {
  /** Container image, pinned by tag (not `latest`) or digest. */
  readonly image: string;
  /** Name of every object this construct creates. @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /** `app.kubernetes.io/component`. @default `server` */
  readonly component?: string;
  /**
   * Process mode of the image, passed as `APP_MODE` (seed 004: api / worker / combined / serverless-worker).
   * `combined` runs API and queue consumers in one pod when simplicity matters more than fault isolation.
   * @default not set
   */
  readonly appMode?: AppMode;
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
  /** Plain environment variables. Names that look like credentials are refused: use `secretEnv`. @default none */
  readonly env?: Record<string, string>;
  /** Environment variables read from Secret keys. @default none */
  readonly secretEnv?: Record<string, SecretKeyRef>;
  /** Whole Secrets / ConfigMaps exposed as environment variables. @default none */
  readonly envFrom?: { readonly secrets?: readonly string[]; readonly configMaps?: readonly string[] };
  /** ConfigMaps mounted as files (read-only). @default none */
  readonly configMounts?: readonly ConfigMount[];
  /** Container command (entrypoint). @default the image's */
  readonly command?: readonly string[];
  /** Container args. @default the image's */
  readonly args?: readonly string[];
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
  /** ServiceAccount to run as. @default the namespace's default account */
  readonly serviceAccountName?: string;
  /** Mount the ServiceAccount token; only for pods that call the Kubernetes API. @default false */
  readonly automountServiceAccountToken?: boolean;
  /** Set false only for images that must write to their root filesystem. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** Non-root UID the container runs as. @default 65532 */
  readonly runAsUser?: number;
  /** Seconds for in-flight requests to finish on shutdown. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
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
  public readonly pdb: k8s.KubePodDisruptionBudget;
  public readonly ingress?: k8s.KubeIngress;
  public readonly serviceMonitor?: ApiObject;
  /** Autoscaling after defaults and presets, or undefined when fixed. */
  public readonly autoscaling?: ResolvedAutoscaling;
  /** Replica count the workload runs with at most (HPA ceiling or fixed count): what connection budgets use. */
  public readonly maxReplicas: number;
  /** Replica count the workload runs with at least. */
  public readonly minReplicas: number;
  public readonly resources: ResolvedResources;

  private readonly env: k8s.EnvVar[];

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
    if (props.appMode !== undefined) checkOneOf(this, 'appMode', props.appMode, APP_MODES);

    this.resources = resolveResources(this, 'resources', props.resources, preset.resources, STATELESS);
    if (props.autoscaling === false) {
      this.minReplicas = this.maxReplicas = checkInteger(this, 'replicas', props.replicas ?? preset.autoscaling?.minReplicas ?? STATELESS.minReplicas, { min: 1 });
    } else {
      if (props.replicas !== undefined) {
        throw new ValidationError(this, 'replicas', props.replicas, 'is owned by the HPA when autoscaling is on; set autoscaling.minReplicas, or autoscaling: false');
      }
      this.autoscaling = resolveAutoscaling(this, 'autoscaling', [props.autoscaling, preset.autoscaling, STATELESS]);
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

    const volumes: k8s.Volume[] = [TMP_VOLUME];
    const volumeMounts: k8s.VolumeMount[] = [TMP_MOUNT];
    (props.configMounts ?? []).forEach((m, i) => {
      checkObjectName(this, `configMounts[${i}].configMap`, m.configMap);
      checkMountPath(this, `configMounts[${i}].mountPath`, m.mountPath);
      volumes.push({ name: `config-${i}`, configMap: { name: m.configMap } });
      volumeMounts.push({ name: `config-${i}`, mountPath: m.mountPath, readOnly: true });
    });

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

    const runAsUser = checkInteger(this, 'runAsUser', props.runAsUser ?? DEFAULT_APP_USER, { min: 1 });
    const podAnnotations: Record<string, string> = { ...preset.podAnnotations };
    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: this.name, labels },
      spec: {
        // With autoscaling the HPA owns the count; a replicas field would fight it on every apply.
        ...(this.autoscaling ? {} : { replicas: this.minReplicas }),
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.selector },
        // No pod is taken away before its replacement is ready.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
        template: {
          metadata: { labels, ...(Object.keys(podAnnotations).length ? { annotations: podAnnotations } : {}) },
          spec: {
            automountServiceAccountToken: props.automountServiceAccountToken ?? false,
            ...(props.serviceAccountName ? { serviceAccountName: checkObjectName(this, 'serviceAccountName', props.serviceAccountName) } : {}),
            securityContext: podSecurityContext({ runAsUser }),
            terminationGracePeriodSeconds: checkInteger(this, 'terminationGracePeriodSeconds',
              props.terminationGracePeriodSeconds ?? STATELESS.terminationGracePeriodSeconds, { min: 0, max: 86_400 }),
            containers: [container, ...sidecars],
            volumes,
            ...spreadScheduling({ selector: this.selector, nodeAntiAffinity: 'preferred' }),
            ...presetPlacement(preset),
          },
        },
      },
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
    this.pdb = createPdb(this, 'pdb', { name: this.name, labels, selector: this.selector });

    if (props.ingress) this.ingress = this.createIngress(props.ingress, labels);
    if (props.serviceMonitor) {
      const interval = typeof props.serviceMonitor === 'object' ? props.serviceMonitor.interval : undefined;
      this.serviceMonitor = createServiceMonitor(this, 'service-monitor', {
        name: this.name, labels, selector: this.selector,
        endpoints: [{ port: metricsPort ? 'metrics' : 'http', path: metricsPath, interval }],
      });
    }
    this.declareKnobs(image);
  }

  /** Adds a plain environment variable (credentials must go through {@link addSecretEnv}). */
  public addEnv(name: string, value: string): void {
    checkEnvName(this, 'env', name);
    checkNotCredential(this, name);
    this.env.push({ name, value });
  }

  /** Adds an environment variable read from a Secret key. */
  public addSecretEnv(name: string, ref: SecretKeyRef): void {
    checkEnvName(this, 'secretEnv', name);
    this.env.push({ name, valueFrom: { secretKeyRef: { name: checkObjectName(this, `secretEnv.${name}.secretName`, ref.secretName), key: ref.key } } });
  }

  private createIngress(ing: IngressProps, labels: Record<string, string>): k8s.KubeIngress {
    if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(ing.host)) {
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

  private declareKnobs(image: string): void {
    const containerPath = ['spec', 'template', 'spec', 'containers', 0];
    const at = image.lastIndexOf(':');
    if (!image.includes('@')) {
      const imageTarget = { object: this.deployment, path: [...containerPath, 'image'], template: '{{ $values.image.repository }}:{{ $values.image.tag }}' };
      Knobs.declare(this, { key: 'image.repository', description: 'Container image repository', schema: { type: 'string', pattern: '^[^:@\\s]+$' }, default: image.slice(0, at), targets: [imageTarget] });
      Knobs.declare(this, { key: 'image.tag', description: 'Container image tag (pinned; "latest" is refused)', schema: { type: 'string', pattern: '^(?!latest$)[\\w][\\w.-]{0,127}$' }, default: image.slice(at + 1), targets: [] });
    }
    if (this.autoscaling && this.hpa) {
      const hpa = this.hpa;
      Knobs.declare(this, { key: 'autoscaling.minReplicas', description: 'HPA floor', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.minReplicas, targets: [{ object: hpa, path: ['spec', 'minReplicas'] }], lessOrEqualTo: 'autoscaling.maxReplicas' });
      Knobs.declare(this, { key: 'autoscaling.maxReplicas', description: 'HPA ceiling', schema: { type: 'integer', minimum: 1 }, default: this.autoscaling.maxReplicas, targets: [{ object: hpa, path: ['spec', 'maxReplicas'] }] });
      Knobs.declare(this, { key: 'autoscaling.cpuUtilization', description: 'HPA target CPU utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.cpuUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'] }] });
      Knobs.declare(this, { key: 'autoscaling.memoryUtilization', description: 'HPA target memory utilization (%)', schema: { type: 'integer', minimum: 1, maximum: 100 }, default: this.autoscaling.memoryUtilization, targets: [{ object: hpa, path: ['spec', 'metrics', 1, 'resource', 'target', 'averageUtilization'] }] });
    } else {
      Knobs.declare(this, { key: 'replicas', description: 'Fixed replica count', schema: { type: 'integer', minimum: 1 }, default: this.minReplicas, targets: [{ object: this.deployment, path: ['spec', 'replicas'] }] });
    }
    const res = this.resources;
    const quantity = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$' } as const;
    for (const [kind, field, value] of [
      ['requests', 'cpu', res.requests.cpu], ['requests', 'memory', res.requests.memory],
      ['limits', 'cpu', res.limits.cpu], ['limits', 'memory', res.limits.memory],
    ] as const) {
      Knobs.declare(this, { key: `resources.${kind}.${field}`, description: `Container ${field} ${kind}`, schema: quantity, default: value, targets: [{ object: this.deployment, path: [...containerPath, 'resources', kind, field] }] });
    }
  }
}

function checkHttpPath(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value)) {
    throw new ValidationError(scope, property, value, 'must be an absolute HTTP path starting with "/"');
  }
  return value;
}

function checkMountPath(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value === '/' || value === '/tmp' || value.includes('..')) {
    throw new ValidationError(scope, property, value, 'must be an absolute directory other than "/" and "/tmp", without ".."');
  }
  return value;
}

const CREDENTIAL_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Literal values under credential-like names end up in `kubectl get -o yaml` and in Git; refuse them. */
function checkNotCredential(scope: Construct, name: string): void {
  if (CREDENTIAL_NAME.test(name)) {
    throw new ValidationError(scope, `env.${name}`, '<literal value>', 'looks like a credential; pass it with secretEnv (a Secret key reference), never as a literal');
  }
}

function buildEnv(scope: Construct, props: StatelessServiceProps): k8s.EnvVar[] {
  const env: k8s.EnvVar[] = [];
  if (props.appMode) env.push({ name: 'APP_MODE', value: props.appMode });
  for (const [name, value] of Object.entries(props.env ?? {})) {
    checkEnvName(scope, 'env', name);
    checkNotCredential(scope, name);
    if (name === 'APP_MODE' && props.appMode) {
      throw new ValidationError(scope, 'env.APP_MODE', value, 'conflicts with appMode; set only appMode');
    }
    if (typeof value !== 'string') throw new ValidationError(scope, `env.${name}`, value, 'must be a string');
    env.push({ name, value });
  }
  for (const [name, ref] of Object.entries(props.secretEnv ?? {})) {
    checkEnvName(scope, 'secretEnv', name);
    if (env.some((e) => e.name === name)) throw new ValidationError(scope, `secretEnv.${name}`, name, 'is already set in env');
    env.push({ name, valueFrom: { secretKeyRef: { name: checkObjectName(scope, `secretEnv.${name}.secretName`, ref.secretName), key: ref.key } } });
  }
  return env;
}

function buildEnvFrom(scope: Construct, props: StatelessServiceProps): { envFrom?: k8s.EnvFromSource[] } {
  const envFrom: k8s.EnvFromSource[] = [
    ...(props.envFrom?.secrets ?? []).map((name, i) => ({ secretRef: { name: checkObjectName(scope, `envFrom.secrets[${i}]`, name) } })),
    ...(props.envFrom?.configMaps ?? []).map((name, i) => ({ configMapRef: { name: checkObjectName(scope, `envFrom.configMaps[${i}]`, name) } })),
  ];
  return envFrom.length ? { envFrom } : {};
}
