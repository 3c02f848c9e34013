import type { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { SecretKeyRef } from './connections';
import type { AppMode } from './defaults';
import { IMAGE_TAG_REFUSED, KNOB_SCHEMAS, Knobs } from './knobs';
import { podSecurityContext, presetPlacement, spreadScheduling } from './pod';
import type { Preset } from './presets';
import type { ResolvedContainerInputs } from './workloads/container';
import { withEphemeralStorage } from './ephemeral-storage';
import type { WorkloadPodProps } from './workloads/pod-props';

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

export interface WorkloadContainerProps extends WorkloadPodProps {
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
  /** ServiceAccount to run as (or `serviceAccount.name`). @default the namespace's default account */
  readonly serviceAccountName?: string;
  /** Mount the ServiceAccount token (or `serviceAccount.automountToken`); only for pods that call the Kubernetes API. @default false */
  readonly automountServiceAccountToken?: boolean;
  /** Set false only for images that must write to their root filesystem. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** Non-root UID the container runs as. @default 65532 */
  readonly runAsUser?: number;
}

/** The hardened, spread pod spec of an application workload around its main container; takes resolved values only. */
export function workloadPodSpec(opts: {
  readonly inputs: ResolvedContainerInputs;
  readonly preset: Preset;
  readonly selector: Record<string, string>;
  readonly container: k8s.Container;
  /** Containers beside the main one (e.g. an exporter); they bring their own resources and securityContext. */
  readonly sidecars?: readonly k8s.Container[];
  readonly terminationGracePeriodSeconds: number;
}): k8s.PodSpec {
  const { inputs } = opts;
  return withEphemeralStorage({
    automountServiceAccountToken: inputs.automountServiceAccountToken,
    ...(inputs.serviceAccountName ? { serviceAccountName: inputs.serviceAccountName } : {}),
    ...(inputs.pod.imagePullSecrets.length ? { imagePullSecrets: inputs.pod.imagePullSecrets.map((name) => ({ name })) } : {}),
    securityContext: podSecurityContext({ runAsUser: inputs.runAsUser }),
    terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds,
    containers: [opts.container, ...(opts.sidecars ?? [])],
    volumes: inputs.volumes,
    ...spreadScheduling({ selector: opts.selector, nodeAntiAffinity: 'preferred' }),
    ...presetPlacement(opts.preset),
  });
}

/** Pod template annotations a preset adds, and over them the workload's own (`podAnnotations`). */
export function presetPodAnnotations(preset: Preset, own: Record<string, string> = {}): { annotations?: Record<string, string> } {
  const annotations = { ...preset.podAnnotations, ...own };
  return Object.keys(annotations).length ? { annotations } : {};
}

/** Pod template metadata of an application workload: its labels plus `podLabels`, annotations of preset and props. */
export function workloadPodMetadata(labels: Record<string, string>, preset: Preset, inputs: ResolvedContainerInputs): k8s.ObjectMeta {
  return { labels: { ...inputs.pod.podLabels, ...labels }, ...presetPodAnnotations(preset, inputs.pod.podAnnotations) };
}

/** The ServiceAccount `serviceAccount.create` asks for; its token is mounted only where the pod spec says so. */
export function workloadServiceAccount(scope: Construct, inputs: ResolvedContainerInputs, labels: Record<string, string>): k8s.KubeServiceAccount | undefined {
  const sa = inputs.pod.createServiceAccount;
  if (!sa) return undefined;
  return new k8s.KubeServiceAccount(scope, 'service-account', {
    metadata: { name: sa.name, labels, ...(Object.keys(sa.annotations).length ? { annotations: sa.annotations } : {}) },
    automountServiceAccountToken: inputs.automountServiceAccountToken,
  });
}

/**
 * A writable root filesystem is an explicit opt-out (`readOnlyRootFilesystem: false`): the object says so where
 * linters look (kube-linter's per-check exemption), instead of failing their checks.
 */
export function writableRootAnnotation(containers: readonly k8s.Container[]): Record<string, string> {
  return containers.some((c) => c.securityContext?.readOnlyRootFilesystem === false)
    ? { 'ignore-check.kube-linter.io/no-read-only-root-fs': 'readOnlyRootFilesystem: false was set: the image writes to its root filesystem' }
    : {};
}

/** The Deployment of an application workload around its pod spec. */
export function workloadDeployment(scope: Construct, opts: {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly preset: Preset;
  readonly podSpec: k8s.PodSpec;
  /** Pod template metadata beyond `labels` (see {@link workloadPodMetadata}). @default labels and the preset's annotations */
  readonly podMetadata?: k8s.ObjectMeta;
  /**
   * The count, or under an autoscaler (HPA or KEDA) its floor: a new Deployment starts there instead of at 1
   * (docs/helm.md, "Replicas under an autoscaler", says how applies and upgrades keep the autoscaler's count).
   */
  readonly replicas?: number;
}): k8s.KubeDeployment {
  const writable = writableRootAnnotation(opts.podSpec.containers);
  return new k8s.KubeDeployment(scope, 'deployment', {
    metadata: { name: opts.name, labels: opts.labels, ...(Object.keys(writable).length ? { annotations: writable } : {}) },
    spec: {
      ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: opts.selector },
      // No pod is taken away before its replacement is ready.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
      template: {
        metadata: opts.podMetadata ?? { labels: opts.labels, ...presetPodAnnotations(opts.preset) },
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
  Knobs.declare(scope, { key: 'image.tag', description: 'Container image tag (pinned; "latest" is refused)', schema: KNOB_SCHEMAS.imageTag, refused: IMAGE_TAG_REFUSED, default: image.slice(at + 1), targets: labelTargets });
}
