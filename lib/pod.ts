import { k8s } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import { ValidationError } from './errors';
import type { Preset, ResourceDefaults, Toleration } from './presets';
import { parseCpu, parseMemory } from './validate';

/** CPU and memory requests and limits of one container. */
export interface ResourceProps {
  /**
   * `ephemeralStorage` (every container of the construct without its own): see EPHEMERAL_STORAGE in lib/defaults.ts.
   * @default the construct's documented requests; ephemeral storage 64Mi
   */
  readonly requests?: { readonly cpu?: string; readonly memory?: string; readonly ephemeralStorage?: string };
  /** @default the construct's documented limits; ephemeral storage 256Mi + the disk emptyDirs the container mounts */
  readonly limits?: { readonly cpu?: string; readonly memory?: string; readonly ephemeralStorage?: string };
}

/** Requests and limits after defaults and validation, with their parsed sizes for derived settings. */
export interface ResolvedResources {
  readonly requests: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage?: string };
  readonly limits: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage?: string };
  readonly requestMillicores: number;
  readonly limitMillicores: number;
  readonly requestBytes: number;
  readonly limitBytes: number;
}

/**
 * Merges call-site resources over preset resources over the construct's defaults, then checks that every
 * quantity is positive and no request exceeds its limit.
 */
export function resolveResources(
  scope: IConstruct, property: string, given: ResourceProps | undefined,
  preset: ResourceDefaults | undefined, defaults: Required<{ [K in keyof ResourceProps]-?: { cpu: string; memory: string } }>,
): ResolvedResources {
  const requests = { ...defaults.requests, ...stripUndefined(preset?.requests), ...stripUndefined(given?.requests) };
  const limits = { ...defaults.limits, ...stripUndefined(preset?.limits), ...stripUndefined(given?.limits) };
  const requestMillicores = parseCpu(scope, `${property}.requests.cpu`, requests.cpu);
  const limitMillicores = parseCpu(scope, `${property}.limits.cpu`, limits.cpu);
  const requestBytes = parseMemory(scope, `${property}.requests.memory`, requests.memory);
  const limitBytes = parseMemory(scope, `${property}.limits.memory`, limits.memory);
  if (requestMillicores > limitMillicores) {
    throw new ValidationError(scope, `${property}.requests.cpu`, requests.cpu, `must not exceed limits.cpu (${limits.cpu})`);
  }
  if (requestBytes > limitBytes) {
    throw new ValidationError(scope, `${property}.requests.memory`, requests.memory, `must not exceed limits.memory (${limits.memory})`);
  }
  checkEphemeralStorage(scope, property, requests.ephemeralStorage, limits.ephemeralStorage);
  return { requests, limits, requestMillicores, limitMillicores, requestBytes, limitBytes };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toResourceRequirements(r: ResolvedResources): k8s.ResourceRequirements {
  // Ephemeral storage given here is kept as is; otherwise withEphemeralStorage (lib/ephemeral-storage.ts) sizes it.
  const ephemeral = (v: string | undefined): Record<string, k8s.Quantity> => (v === undefined ? {} : { 'ephemeral-storage': k8s.Quantity.fromString(v) });
  return {
    requests: { cpu: k8s.Quantity.fromString(r.requests.cpu), memory: k8s.Quantity.fromString(r.requests.memory), ...ephemeral(r.requests.ephemeralStorage) },
    limits: { cpu: k8s.Quantity.fromString(r.limits.cpu), memory: k8s.Quantity.fromString(r.limits.memory), ...ephemeral(r.limits.ephemeralStorage) },
  };
}

function checkEphemeralStorage(scope: IConstruct, property: string, request: string | undefined, limit: string | undefined): void {
  const req = request === undefined ? undefined : parseMemory(scope, `${property}.requests.ephemeralStorage`, request);
  const lim = limit === undefined ? undefined : parseMemory(scope, `${property}.limits.ephemeralStorage`, limit);
  if (req !== undefined && lim !== undefined && req > lim) {
    throw new ValidationError(scope, `${property}.requests.ephemeralStorage`, request, `must not exceed limits.ephemeralStorage (${limit})`);
  }
}

/** The container-level half of the hardening every scalecharts pod gets. */
export function containerSecurityContext(readOnlyRootFilesystem = true): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Non-root user and group the pod runs as. Images that ship their own user (postgres, redis: 999) pass theirs. */
export interface PodIdentity {
  readonly runAsUser: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
}

/** UID/GID of distroless' `nonroot` user: a safe default for application images. */
export const DEFAULT_APP_USER = 65532;

export function podSecurityContext(identity: PodIdentity): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: identity.runAsUser,
    runAsGroup: identity.runAsGroup ?? identity.runAsUser,
    fsGroup: identity.fsGroup ?? identity.runAsGroup ?? identity.runAsUser,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Writable scratch space for a read-only root filesystem. */
export const TMP_VOLUME: k8s.Volume = { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } };
export const TMP_MOUNT: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

export interface SpreadOptions {
  /** Labels selecting this workload's pods. */
  readonly selector: Record<string, string>;
  /**
   * `required`: never two pods on one node (datastores: losing a node must not take out primary and replica).
   * `preferred`: spread when possible (stateless: keep scheduling when nodes are short).
   */
  readonly nodeAntiAffinity: 'required' | 'preferred';
}

/** Labels the spread counts pods by, besides the selector: the ReplicaSet's hash, set on every Deployment pod. */
export const SPREAD_MATCH_LABEL_KEYS = ['pod-template-hash'] as const;

/** Zone and node spread plus node anti-affinity, so one node or zone failure takes out as few pods as possible. */
export function spreadScheduling(opts: SpreadOptions): Pick<k8s.PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  const labelSelector = { matchLabels: opts.selector };
  const term = { labelSelector, topologyKey: 'kubernetes.io/hostname' };
  return {
    affinity: {
      podAntiAffinity: opts.nodeAntiAffinity === 'required'
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    },
    // matchLabelKeys (K8s >= 1.27): count only pods of the same ReplicaSet, so the old ReplicaSet's pods that a
    // rollout is about to delete don't skew where the new ones go (StatefulSet pods have no such label: ignored).
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector, matchLabelKeys: [...SPREAD_MATCH_LABEL_KEYS] },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector, matchLabelKeys: [...SPREAD_MATCH_LABEL_KEYS] },
    ],
  };
}

/** Tolerations and node selector a preset adds to every pod. */
export function presetPlacement(preset: Preset): Pick<k8s.PodSpec, 'tolerations' | 'nodeSelector'> {
  const tolerations = (preset.tolerations ?? []).map((t: Toleration) => ({ ...t }));
  const nodeSelector = preset.nodeSelector ?? {};
  return {
    ...(tolerations.length ? { tolerations } : {}),
    ...(Object.keys(nodeSelector).length ? { nodeSelector: { ...nodeSelector } } : {}),
  };
}

/** Prefixes a preset's registry to an image that names none (`redis:7.2` → `registry.example.com/redis:7.2`). */
export function withRegistry(image: string, registry: string | undefined): string {
  if (!registry) return image;
  const first = image.split('/')[0];
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasRegistry ? image : `${registry.replace(/\/+$/, '')}/${image}`;
}
