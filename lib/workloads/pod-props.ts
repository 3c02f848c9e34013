import { k8s } from 'cdk8s-plus-28';
import type { Problems } from '../core/problems';
import {
  annotationMapProblems, configMapKey, dns1123Subdomain, duplicates, envVarName, isRecord, labelMapProblems, quantityRule,
} from '../core/rules';

/**
 * The pod-level props an operator expects on every application workload (issue 17): pull secrets, a ServiceAccount,
 * pod annotations and labels, and Kubernetes-shaped extra env (downward API included). Types and resolve helpers;
 * rendering stays in lib/workload.ts.
 */

/** A ServiceAccount to create, or an existing one to run as. */
export interface ServiceAccountProps {
  /** Create the account (named `name`, or after the workload). @default false */
  readonly create?: boolean;
  /** The account to create, or the existing one to use. @default the workload's name when `create`; else the namespace's default account */
  readonly name?: string;
  /** Annotations of the created account (e.g. a cloud IAM role). Only with `create`. @default none */
  readonly annotations?: Record<string, string>;
  /** Mount the account's token into the pods; only for pods that call the Kubernetes API. @default false */
  readonly automountToken?: boolean;
}

/**
 * Pod fields the downward API exposes as env (Kubernetes 1.28 `validEnvDownwardAPIFieldPathExpressions`;
 * `status.hostIPs` needs PodHostIPs, off by default in 1.28).
 */
export const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.podIP', 'status.podIPs',
] as const;
const LABEL_OR_ANNOTATION_PATH = /^metadata\.(labels|annotations)\['([^']+)'\]$/;
/** Container resources the downward API exposes (`requests.hugepages-<size>` too). */
const RESOURCE_FIELDS = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-[0-9A-Za-z]+)$/;
/** Divisors the API server accepts (validateContainerResourceDivisor). */
const CPU_DIVISORS = ['1m', '1'];
const MEMORY_DIVISORS = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

/**
 * One extra environment variable in Kubernetes' own shape: a literal, a pod field or container resource (downward
 * API: e.g. `metadata.name` for per-instance ids, seed 003), or a key of a Secret or ConfigMap.
 */
export type ExtraEnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly fieldRef: { readonly fieldPath: string; readonly apiVersion?: 'v1' } }
  | { readonly name: string; readonly resourceFieldRef: { readonly resource: string; readonly containerName?: string; readonly divisor?: string } }
  | { readonly name: string; readonly secretKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } }
  | { readonly name: string; readonly configMapKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } };

/** A whole Secret or ConfigMap as environment variables, optionally prefixed. */
export type ExtraEnvFromSource =
  | { readonly secretRef: { readonly name: string; readonly optional?: boolean }; readonly prefix?: string }
  | { readonly configMapRef: { readonly name: string; readonly optional?: boolean }; readonly prefix?: string };

/** Pod-level props of StatelessService and WorkerPool (and, in part, the datastores). */
export interface WorkloadPodProps {
  /** Secrets holding registry credentials (`kubernetes.io/dockerconfigjson`) to pull the images with. @default none */
  readonly imagePullSecrets?: readonly string[];
  /**
   * Create a ServiceAccount or run as a named one; the token stays unmounted unless `automountToken`.
   * @default no account created: the namespace's default account, token not mounted
   */
  readonly serviceAccount?: ServiceAccountProps;
  /** Annotations of the pod template (over the preset's `podAnnotations`). @default the preset's */
  readonly podAnnotations?: Record<string, string>;
  /** Labels of the pod template only; may not set a label the construct or the preset sets. @default none */
  readonly podLabels?: Record<string, string>;
  /** More environment variables in Kubernetes' shape, after `env` and `secretEnv`; names stay unique. @default none */
  readonly extraEnv?: readonly ExtraEnvVar[];
  /** More `envFrom` sources in Kubernetes' shape, after `envFrom`. @default none */
  readonly extraEnvFrom?: readonly ExtraEnvFromSource[];
}

/** Pod-level props after validation. */
export interface ResolvedPodProps {
  readonly imagePullSecrets: readonly string[];
  readonly podAnnotations: Record<string, string>;
  readonly podLabels: Record<string, string>;
  /** The account to create, when `serviceAccount.create`. */
  readonly createServiceAccount?: { readonly name: string; readonly annotations: Record<string, string> };
}

/** An optional boolean: undefined when absent or refused (the refusal recorded). */
const optionalBoolean = (p: Problems, property: string, v: unknown): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') {
    p.add(property, v, 'must be true or false', true);
    return undefined;
  }
  return v;
};

/** A list of unique DNS-1123 subdomain names (pull secrets). */
export function nameList(p: Problems, property: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.add(property, value, 'must be a list of Secret names', true);
    return [];
  }
  const ok = value.filter((n, i) => p.check(`${property}[${i}]`, n, dns1123Subdomain())) as string[];
  for (const dup of duplicates(ok)) p.add(property, dup, 'names must be unique');
  return [...new Set(ok)];
}

/** A label map checked by the API server's rules; `reserved` keys (set by the construct or preset) are refused. */
export function podLabelMap(p: Problems, property: string, value: unknown, reserved: Record<string, string>): Record<string, string> {
  if (value === undefined) return {};
  const problems = labelMapProblems(value);
  for (const [key, v, r] of problems) p.refusal(key === undefined ? property : `${property}.${key}`, v, r);
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (problems.some(([key]) => key === k)) continue;
    if (k in reserved || k === 'pod-template-hash') {
      p.add(`${property}.${k}`, v, `sets a label the construct${k in reserved ? ` (or the preset) sets to ${JSON.stringify(reserved[k] ?? '')}` : ''} uses to select or describe its pods; pick another key`);
      continue;
    }
    out[k] = v as string;
  }
  return out;
}

/** An annotation map checked by the API server's rules. */
export function annotationMap(p: Problems, property: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const problems = annotationMapProblems(value);
  for (const [key, v, r] of problems) p.refusal(key === undefined ? property : `${property}.${key}`, v, r);
  if (!isRecord(value) || problems.length > 0) return {};
  return { ...(value as Record<string, string>) };
}

/**
 * `serviceAccount` with the older `serviceAccountName` / `automountServiceAccountToken`: each setting given once.
 * Returns the account the pod runs as, whether its token is mounted, and the account to create.
 */
export function resolveServiceAccount(
  p: Problems, props: { serviceAccount?: unknown; serviceAccountName?: unknown; automountServiceAccountToken?: unknown }, workloadName: string,
): { name?: string; automount: boolean; create?: { name: string; annotations: Record<string, string> } } {
  let automount = false;
  if (props.automountServiceAccountToken !== undefined) automount = optionalBoolean(p, 'automountServiceAccountToken', props.automountServiceAccountToken) ?? false;
  let name: string | undefined;
  if (props.serviceAccountName !== undefined) name = p.value<string | undefined>('serviceAccountName', props.serviceAccountName, dns1123Subdomain(), undefined);
  const sa = props.serviceAccount;
  if (sa === undefined) return { ...(name ? { name } : {}), automount };
  if (!isRecord(sa)) {
    p.add('serviceAccount', sa, 'must be { create, name, annotations, automountToken }', true);
    return { automount };
  }
  const create = optionalBoolean(p, 'serviceAccount.create', sa.create) ?? false;
  if (sa.name !== undefined) {
    if (props.serviceAccountName !== undefined && props.serviceAccountName !== sa.name) {
      p.add('serviceAccount.name', sa.name, `contradicts serviceAccountName (${JSON.stringify(props.serviceAccountName)}); set only serviceAccount.name`);
    }
    name = p.value<string | undefined>('serviceAccount.name', sa.name, dns1123Subdomain(), undefined);
  }
  const token = optionalBoolean(p, 'serviceAccount.automountToken', sa.automountToken);
  if (token !== undefined) {
    if (props.automountServiceAccountToken !== undefined && props.automountServiceAccountToken !== token) {
      p.add('serviceAccount.automountToken', token, `contradicts automountServiceAccountToken (${String(props.automountServiceAccountToken)}); set only serviceAccount.automountToken`);
    }
    automount = token;
  }
  const annotations = annotationMap(p, 'serviceAccount.annotations', sa.annotations);
  if (sa.annotations !== undefined && !create) {
    p.add('serviceAccount.annotations', sa.annotations, 'apply only to an account this construct creates: set serviceAccount.create, or annotate the existing account');
  }
  if (!create) return { ...(name ? { name } : {}), automount };
  const created = name ?? workloadName;
  return { name: created, automount, create: { name: created, annotations } };
}

/**
 * `extraEnv` entries as Kubernetes EnvVars; `put` enforces unique names against every other variable. Literal values
 * whose name looks like a credential are refused (`looksLikeCredential`): they go through `secretKeyRef`.
 */
export function resolveExtraEnv(
  p: Problems, value: unknown, put: (entry: k8s.EnvVar, property: string, by: string) => void,
  looksLikeCredential: (name: string) => boolean, containerNames: readonly string[],
): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    p.add('extraEnv', value, 'must be a list of { name, value | fieldRef | resourceFieldRef | secretKeyRef | configMapKeyRef }', true);
    return;
  }
  value.forEach((e: unknown, i) => {
    const at = `extraEnv[${i}]`;
    if (!isRecord(e)) {
      p.add(at, e, 'must be { name, value | fieldRef | resourceFieldRef | secretKeyRef | configMapKeyRef }', true);
      return;
    }
    if (!p.check(`${at}.name`, e.name, envVarName())) return;
    const name = e.name as string;
    const sources = (['value', 'fieldRef', 'resourceFieldRef', 'secretKeyRef', 'configMapKeyRef'] as const).filter((k) => e[k] !== undefined);
    if (sources.length !== 1) {
      p.add(at, sources.length ? sources.join(' + ') : e, 'must set exactly one of value, fieldRef, resourceFieldRef, secretKeyRef, configMapKeyRef');
      return;
    }
    const entry = extraEnvVar(p, at, name, sources[0], e[sources[0]], looksLikeCredential, containerNames);
    if (entry) put(entry, at, at);
  });
}

function extraEnvVar(
  p: Problems, at: string, name: string, kind: 'value' | 'fieldRef' | 'resourceFieldRef' | 'secretKeyRef' | 'configMapKeyRef', v: unknown,
  looksLikeCredential: (name: string) => boolean, containerNames: readonly string[],
): k8s.EnvVar | undefined {
  if (kind === 'value') {
    if (typeof v !== 'string') return (p.add(`${at}.value`, v, 'must be a string', true), undefined);
    if (looksLikeCredential(name)) return (p.add(`${at}.value`, '<literal value>', 'looks like a credential; use secretKeyRef, never a literal'), undefined);
    return { name, value: v };
  }
  if (!isRecord(v)) return (p.add(`${at}.${kind}`, v, `must be a ${kind} object`, true), undefined);
  if (kind === 'fieldRef') {
    const path = v.fieldPath;
    const label = typeof path === 'string' ? LABEL_OR_ANNOTATION_PATH.exec(path) : null;
    const ok = typeof path === 'string' && ((ENV_FIELD_PATHS as readonly string[]).includes(path) || label !== null);
    if (!ok) {
      p.add(`${at}.fieldRef.fieldPath`, path, `must be one of ${ENV_FIELD_PATHS.join(', ')}, metadata.labels['<key>'] or metadata.annotations['<key>']`, typeof path !== 'string');
      return undefined;
    }
    if (v.apiVersion !== undefined && v.apiVersion !== 'v1') return (p.add(`${at}.fieldRef.apiVersion`, v.apiVersion, 'must be "v1"'), undefined);
    return { name, valueFrom: { fieldRef: { fieldPath: path as string, ...(v.apiVersion ? { apiVersion: 'v1' } : {}) } } };
  }
  if (kind === 'resourceFieldRef') {
    const resource = v.resource;
    if (typeof resource !== 'string' || !RESOURCE_FIELDS.test(resource)) {
      p.add(`${at}.resourceFieldRef.resource`, resource, 'must be limits.<r> or requests.<r> for r in cpu, memory, ephemeral-storage, hugepages-<size>', typeof resource !== 'string');
      return undefined;
    }
    if (v.containerName !== undefined && !containerNames.includes(v.containerName as string)) {
      p.add(`${at}.resourceFieldRef.containerName`, v.containerName, `must name a container of the pod (${containerNames.join(', ')})`, typeof v.containerName !== 'string');
      return undefined;
    }
    let divisor: string | undefined;
    if (v.divisor !== undefined) {
      const allowed = resource.endsWith('.cpu') ? CPU_DIVISORS : MEMORY_DIVISORS;
      if (!p.check(`${at}.resourceFieldRef.divisor`, v.divisor, quantityRule('any'))) return undefined;
      if (!allowed.includes(v.divisor as string)) return (p.add(`${at}.resourceFieldRef.divisor`, v.divisor, `must be one of ${allowed.join(', ')} for ${resource}`), undefined);
      divisor = v.divisor as string;
    }
    return {
      name,
      valueFrom: {
        resourceFieldRef: {
          resource, ...(v.containerName !== undefined ? { containerName: v.containerName as string } : {}),
          ...(divisor !== undefined ? { divisor: k8s.Quantity.fromString(divisor) } : {}),
        },
      },
    };
  }
  const okName = p.check(`${at}.${kind}.name`, v.name, dns1123Subdomain());
  const okKey = p.check(`${at}.${kind}.key`, v.key, configMapKey());
  const optional = optionalBoolean(p, `${at}.${kind}.optional`, v.optional);
  if (!okName || !okKey) return undefined;
  const ref = { name: v.name as string, key: v.key as string, ...(optional !== undefined ? { optional } : {}) };
  return { name, valueFrom: kind === 'secretKeyRef' ? { secretKeyRef: ref } : { configMapKeyRef: ref } };
}

/** `extraEnvFrom` entries as Kubernetes EnvFromSources. */
export function resolveExtraEnvFrom(p: Problems, value: unknown): k8s.EnvFromSource[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.add('extraEnvFrom', value, 'must be a list of { secretRef | configMapRef, prefix }', true);
    return [];
  }
  const out: k8s.EnvFromSource[] = [];
  value.forEach((e: unknown, i) => {
    const at = `extraEnvFrom[${i}]`;
    if (!isRecord(e)) return p.add(at, e, 'must be { secretRef: { name } } or { configMapRef: { name } }, with an optional prefix', true);
    const kinds = (['secretRef', 'configMapRef'] as const).filter((k) => e[k] !== undefined);
    if (kinds.length !== 1) return p.add(at, e, 'must set exactly one of secretRef, configMapRef');
    const kind = kinds[0];
    const ref = e[kind];
    if (!isRecord(ref)) return p.add(`${at}.${kind}`, ref, 'must be { name, optional }', true);
    const okName = p.check(`${at}.${kind}.name`, ref.name, dns1123Subdomain());
    const optional = optionalBoolean(p, `${at}.${kind}.optional`, ref.optional);
    // The API server checks the prefix as an env var name (ValidateEnvFrom, Kubernetes 1.28).
    const okPrefix = e.prefix === undefined || p.check(`${at}.prefix`, e.prefix, envVarName());
    if (!okName || !okPrefix) return undefined;
    const target = { name: ref.name as string, ...(optional !== undefined ? { optional } : {}) };
    out.push({ ...(e.prefix !== undefined ? { prefix: e.prefix as string } : {}), ...(kind === 'secretRef' ? { secretRef: target } : { configMapRef: target }) });
    return undefined;
  });
  return out;
}
