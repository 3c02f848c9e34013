import type { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { SecretKeyRef } from './connections';
import { APP_MODES, AppMode } from './defaults';
import { ValidationError } from './errors';
import { KNOB_SCHEMAS, Knobs } from './knobs';
import {
  DEFAULT_APP_USER, TMP_MOUNT, TMP_VOLUME, podSecurityContext, presetPlacement, spreadScheduling,
} from './pod';
import type { Preset } from './presets';
import { checkEnvName, checkInteger, checkObjectName, checkOneOf } from './validate';

/**
 * The container inputs every application workload (StatelessService, WorkerPool) shares: environment, Secrets by
 * reference, ConfigMap mounts, process mode and pod identity.
 */

/** A ConfigMap mounted as files. */
export interface ConfigMount {
  /** Name of the ConfigMap. */
  readonly configMap: string;
  /** Directory the keys appear in, e.g. `/etc/app`. */
  readonly mountPath: string;
}

export interface WorkloadContainerProps {
  /** Process mode of the image, passed as `APP_MODE` (seed 004). @default not set */
  readonly appMode?: AppMode;
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
  /** ServiceAccount to run as. @default the namespace's default account */
  readonly serviceAccountName?: string;
  /** Mount the ServiceAccount token; only for pods that call the Kubernetes API. @default false */
  readonly automountServiceAccountToken?: boolean;
  /** Set false only for images that must write to their root filesystem. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** Non-root UID the container runs as. @default 65532 */
  readonly runAsUser?: number;
}

const CREDENTIAL_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Literal values under credential-like names end up in `kubectl get -o yaml` and in Git; refuse them. */
export function checkNotCredential(scope: Construct, name: string): void {
  if (CREDENTIAL_NAME.test(name)) {
    throw new ValidationError(scope, `env.${name}`, '<literal value>', 'looks like a credential; pass it with secretEnv (a Secret key reference), never as a literal');
  }
}

/** `APP_MODE`, plain env and Secret env, validated; the returned array stays live for `addEnv`. */
export function buildEnv(scope: Construct, props: WorkloadContainerProps, fixed: Record<string, string> = {}): k8s.EnvVar[] {
  if (props.appMode !== undefined) checkOneOf(scope, 'appMode', props.appMode, APP_MODES);
  const env: k8s.EnvVar[] = [];
  if (props.appMode) env.push({ name: 'APP_MODE', value: props.appMode });
  for (const [name, value] of Object.entries(fixed)) env.push({ name, value });
  for (const [name, value] of Object.entries(props.env ?? {})) {
    checkEnvName(scope, 'env', name);
    checkNotCredential(scope, name);
    if (env.some((e) => e.name === name)) {
      throw new ValidationError(scope, `env.${name}`, value, `conflicts with ${name === 'APP_MODE' ? 'appMode; set only appMode' : 'a variable the construct sets'}`);
    }
    if (typeof value !== 'string') throw new ValidationError(scope, `env.${name}`, value, 'must be a string');
    env.push({ name, value });
  }
  for (const [name, ref] of Object.entries(props.secretEnv ?? {})) {
    checkEnvName(scope, 'secretEnv', name);
    if (env.some((e) => e.name === name)) throw new ValidationError(scope, `secretEnv.${name}`, name, 'is already set in env');
    env.push(secretEnvVar(scope, name, ref));
  }
  return env;
}

export function secretEnvVar(scope: Construct, name: string, ref: SecretKeyRef): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: checkObjectName(scope, `secretEnv.${name}.secretName`, ref.secretName), key: ref.key } } };
}

export function buildEnvFrom(scope: Construct, props: WorkloadContainerProps): { envFrom?: k8s.EnvFromSource[] } {
  const envFrom: k8s.EnvFromSource[] = [
    ...(props.envFrom?.secrets ?? []).map((name, i) => ({ secretRef: { name: checkObjectName(scope, `envFrom.secrets[${i}]`, name) } })),
    ...(props.envFrom?.configMaps ?? []).map((name, i) => ({ configMapRef: { name: checkObjectName(scope, `envFrom.configMaps[${i}]`, name) } })),
  ];
  return envFrom.length ? { envFrom } : {};
}

function checkMountPath(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value === '/' || value === '/tmp' || value.includes('..')) {
    throw new ValidationError(scope, property, value, 'must be an absolute directory other than "/" and "/tmp", without ".."');
  }
  return value;
}

/** `/tmp` scratch space plus the ConfigMap mounts. */
export function workloadVolumes(scope: Construct, mounts: readonly ConfigMount[] = []): { volumes: k8s.Volume[]; volumeMounts: k8s.VolumeMount[] } {
  const volumes: k8s.Volume[] = [TMP_VOLUME];
  const volumeMounts: k8s.VolumeMount[] = [TMP_MOUNT];
  mounts.forEach((m, i) => {
    checkObjectName(scope, `configMounts[${i}].configMap`, m.configMap);
    checkMountPath(scope, `configMounts[${i}].mountPath`, m.mountPath);
    volumes.push({ name: `config-${i}`, configMap: { name: m.configMap } });
    volumeMounts.push({ name: `config-${i}`, mountPath: m.mountPath, readOnly: true });
  });
  return { volumes, volumeMounts };
}

/** The hardened, spread pod spec of an application workload around its one container. */
export function workloadPodSpec(scope: Construct, opts: {
  readonly props: WorkloadContainerProps;
  readonly preset: Preset;
  readonly selector: Record<string, string>;
  readonly container: k8s.Container;
  /** Containers beside the main one (e.g. an exporter); they bring their own resources and securityContext. */
  readonly sidecars?: readonly k8s.Container[];
  readonly volumes: k8s.Volume[];
  readonly terminationGracePeriodSeconds: number;
}): k8s.PodSpec {
  const { props } = opts;
  const runAsUser = checkInteger(scope, 'runAsUser', props.runAsUser ?? DEFAULT_APP_USER, { min: 1 });
  return {
    automountServiceAccountToken: props.automountServiceAccountToken ?? false,
    ...(props.serviceAccountName ? { serviceAccountName: checkObjectName(scope, 'serviceAccountName', props.serviceAccountName) } : {}),
    securityContext: podSecurityContext({ runAsUser }),
    terminationGracePeriodSeconds: checkInteger(scope, 'terminationGracePeriodSeconds', opts.terminationGracePeriodSeconds, { min: 0, max: 86_400 }),
    containers: [opts.container, ...(opts.sidecars ?? [])],
    volumes: opts.volumes,
    ...spreadScheduling({ selector: opts.selector, nodeAntiAffinity: 'preferred' }),
    ...presetPlacement(opts.preset),
  };
}

/** Pod template annotations a preset adds. */
export function presetPodAnnotations(preset: Preset): { annotations?: Record<string, string> } {
  const annotations = { ...preset.podAnnotations };
  return Object.keys(annotations).length ? { annotations } : {};
}

/** `addEnv` of a workload: a plain variable, refused under a credential-like name. */
export function pushPlainEnv(scope: Construct, env: k8s.EnvVar[], name: string, value: string): void {
  checkEnvName(scope, 'env', name);
  checkNotCredential(scope, name);
  env.push({ name, value });
}

/** `addSecretEnv` of a workload: a variable read from a Secret key. */
export function pushSecretEnv(scope: Construct, env: k8s.EnvVar[], name: string, ref: SecretKeyRef): void {
  checkEnvName(scope, 'secretEnv', name);
  env.push(secretEnvVar(scope, name, ref));
}

/** The Deployment of an application workload around its pod spec. */
export function workloadDeployment(scope: Construct, opts: {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly preset: Preset;
  readonly podSpec: k8s.PodSpec;
  /**
   * The count, or under an autoscaler (HPA or KEDA) its floor: a new Deployment starts there instead of at 1
   * (docs/helm.md, "Replicas under an autoscaler", says how applies and upgrades keep the autoscaler's count).
   */
  readonly replicas?: number;
}): k8s.KubeDeployment {
  return new k8s.KubeDeployment(scope, 'deployment', {
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: opts.selector },
      // No pod is taken away before its replacement is ready.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
      template: {
        metadata: { labels: opts.labels, ...presetPodAnnotations(opts.preset) },
        spec: opts.podSpec,
      },
    },
  });
}

/**
 * `image.repository` / `image.tag` knobs: the image of the container at `containerPath` in every workload, and the
 * tag in the `app.kubernetes.io/version` label of every object in `labelled` (and of their pod templates). None for
 * an image pinned by digest.
 */
export function declareImageKnobs(
  scope: Construct, image: string, workloads: readonly ApiObject[], labelled: readonly ApiObject[], containerPath: ReadonlyArray<string | number>,
): void {
  if (image.includes('@')) return;
  const at = image.lastIndexOf(':');
  const imageTargets = workloads.map((object) => ({ object, path: [...containerPath, 'image'], template: '{{ $values.image.repository }}:{{ $values.image.tag }}' }));
  // The version label follows the tag, cleaned the way lib/labels.ts cleans it.
  const versionLabel = '{{ regexReplaceAll "^[^A-Za-z0-9]+|[^A-Za-z0-9]+$" (trunc 63 $values.image.tag) "" }}';
  const labelTargets = labelled.flatMap((object) => [
    { object, path: ['metadata', 'labels', 'app.kubernetes.io/version'], template: versionLabel },
    ...(workloads.includes(object) ? [{ object, path: ['spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/version'], template: versionLabel }] : []),
  ]);
  Knobs.declare(scope, { key: 'image.repository', description: 'Container image repository', schema: KNOB_SCHEMAS.imageRepository, default: image.slice(0, at), targets: imageTargets });
  Knobs.declare(scope, { key: 'image.tag', description: 'Container image tag (pinned; "latest" is refused)', schema: KNOB_SCHEMAS.imageTag, default: image.slice(at + 1), targets: labelTargets });
}
