import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { Problems, recordErrors } from '../core/problems';
import {
  configMapKey, dns1123Subdomain, duplicates, envVarName, integerRule, isRecord, pinnedImage,
} from '../core/rules';
import { APP_MODES } from '../defaults';
import { DEFAULT_APP_USER, TMP_MOUNT, TMP_VOLUME, withRegistry } from '../pod';
import type { WorkloadContainerProps } from '../workload';
import {
  ResolvedPodProps, annotationMap, nameList, podLabelMap, resolveExtraEnv, resolveExtraEnvFrom, resolveServiceAccount,
} from './pod-props';

/**
 * The resolve step of the container inputs StatelessService and WorkerPool share (environment, Secrets by reference,
 * ConfigMap mounts, command, identity): props in, plain resolved values out, every problem recorded.
 */

export interface ResolvedContainerInputs {
  /** Every variable, fixed ones first; names unique. Stays live: wiring adds to it through addEnv. */
  readonly env: k8s.EnvVar[];
  readonly envFrom: k8s.EnvFromSource[];
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly command?: string[];
  readonly args?: string[];
  readonly runAsUser: number;
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken: boolean;
  readonly readOnlyRootFilesystem: boolean;
  /** Pull secrets, pod metadata and the ServiceAccount to create (lib/workloads/pod-props.ts). */
  readonly pod: ResolvedPodProps;
}

/** What the pod-level props are checked against: the workload's name, labels and containers. */
export interface PodContext {
  /** Name of the workload: the created ServiceAccount's default name. */
  readonly name: string;
  /** Labels the construct and preset set on the pods; `podLabels` may not override them. */
  readonly labels: Record<string, string>;
  /** Containers of the pod (`resourceFieldRef.containerName`). */
  readonly containerNames: readonly string[];
}

const CREDENTIAL_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Whether a plain variable name looks like it holds a credential (those go through secretEnv). */
export function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/** A list of non-empty strings (command, args, preStop), or undefined when not given. */
export function stringList(p: Problems, property: string, value: unknown, opts: { nonEmpty?: boolean } = {}): string[] | undefined {
  if (value === undefined) return undefined;
  const ok = Array.isArray(value) && value.every((c) => typeof c === 'string' && (!opts.nonEmpty || c !== ''))
    && (!opts.nonEmpty || value.length > 0);
  if (!ok) {
    p.add(property, value, opts.nonEmpty ? 'must be a non-empty list of non-empty strings' : 'must be a list of strings', !Array.isArray(value));
    return undefined;
  }
  return [...(value as string[])];
}

/** The image after the preset's registry, checked by the reference grammar; `fallback` when refused. */
export function resolveImage(p: Problems, property: string, image: unknown, registry: string | undefined): string {
  if (typeof image !== 'string') {
    p.check(property, image, pinnedImage());
    return 'invalid.invalid/invalid:invalid';
  }
  const full = withRegistry(image, registry);
  return p.value(property, full, pinnedImage(), 'invalid.invalid/invalid:invalid');
}

/** A Secret key reference: a DNS-1123 Secret name and a non-empty key. */
export function secretKeyRef(p: Problems, property: string, ref: unknown): SecretKeyRef | undefined {
  if (!isRecord(ref)) {
    p.add(property, ref, 'must be a Secret key reference { secretName, key }', true);
    return undefined;
  }
  const okName = p.check(`${property}.secretName`, ref.secretName, dns1123Subdomain());
  const okKey = p.check(`${property}.key`, ref.key, configMapKey());
  return okName && okKey ? { secretName: ref.secretName as string, key: ref.key as string } : undefined;
}

export function secretEnvVar(name: string, ref: SecretKeyRef): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } };
}

/**
 * `fixed` are the variables the construct itself sets (APP_MODE, QUEUE_NAME, ...); a prop that sets one of them again
 * is refused, never silently doubled.
 */
export function resolveContainerInputs(
  p: Problems, props: WorkloadContainerProps, fixed: Record<string, string>, ctx: PodContext,
): ResolvedContainerInputs {
  const env: k8s.EnvVar[] = [];
  const owner = new Map<string, string>();
  const put = (entry: k8s.EnvVar, property: string, by: string) => {
    const prior = owner.get(entry.name);
    if (prior !== undefined) {
      p.add(property, entry.value ?? entry.name, `conflicts with ${prior}; set the variable once`);
      return;
    }
    owner.set(entry.name, by);
    env.push(entry);
  };

  if (props.appMode !== undefined) {
    if (p.check('appMode', props.appMode, (v) => ((APP_MODES as readonly unknown[]).includes(v) ? undefined
      : { allowed: `must be one of ${APP_MODES.map((a) => JSON.stringify(a)).join(', ')}`, wrongType: typeof v !== 'string' }))) {
      // A construct that fixes APP_MODE itself (WorkerPool) takes appMode as a confirmation, not a second variable.
      if (fixed.APP_MODE === undefined) put({ name: 'APP_MODE', value: props.appMode }, 'appMode', 'appMode');
    }
  }
  for (const [name, value] of Object.entries(fixed)) put({ name, value }, `env.${name}`, `${name}, which the construct sets`);

  if (props.env !== undefined && !isRecord(props.env)) p.add('env', props.env, 'must be an object of variable names to string values', true);
  for (const [name, value] of Object.entries(isRecord(props.env) ? props.env : {})) {
    if (!p.check('env', name, envVarName())) continue;
    if (looksLikeCredential(name)) {
      p.add(`env.${name}`, '<literal value>', 'looks like a credential; pass it with secretEnv (a Secret key reference), never as a literal');
      continue;
    }
    if (typeof value !== 'string') {
      p.add(`env.${name}`, value, 'must be a string', true);
      continue;
    }
    const prior = owner.get(name);
    if (prior !== undefined) {
      p.add(`env.${name}`, value, `conflicts with ${name === 'APP_MODE' && prior === 'appMode' ? 'appMode; set only appMode' : prior}`);
      continue;
    }
    put({ name, value }, `env.${name}`, `env.${name}`);
  }

  if (props.secretEnv !== undefined && !isRecord(props.secretEnv)) p.add('secretEnv', props.secretEnv, 'must be an object of variable names to Secret key references', true);
  for (const [name, ref] of Object.entries(isRecord(props.secretEnv) ? props.secretEnv : {})) {
    if (!p.check('secretEnv', name, envVarName())) continue;
    if (owner.has(name)) {
      p.add(`secretEnv.${name}`, name, `is already set (${owner.get(name)})`);
      continue;
    }
    const resolved = secretKeyRef(p, `secretEnv.${name}`, ref);
    if (resolved) put(secretEnvVar(name, resolved), `secretEnv.${name}`, `secretEnv.${name}`);
  }
  resolveExtraEnv(p, props.extraEnv, put, looksLikeCredential, ctx.containerNames);

  const envFrom: k8s.EnvFromSource[] = [];
  const names = (kind: 'secrets' | 'configMaps'): string[] => {
    const list = (props.envFrom as Record<string, unknown> | undefined)?.[kind];
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      p.add(`envFrom.${kind}`, list, 'must be a list of object names', true);
      return [];
    }
    return list.filter((n, i) => p.check(`envFrom.${kind}[${i}]`, n, dns1123Subdomain()));
  };
  for (const name of names('secrets')) envFrom.push({ secretRef: { name } });
  for (const name of names('configMaps')) envFrom.push({ configMapRef: { name } });
  envFrom.push(...resolveExtraEnvFrom(p, props.extraEnvFrom));

  const volumes: k8s.Volume[] = [TMP_VOLUME];
  const volumeMounts: k8s.VolumeMount[] = [TMP_MOUNT];
  const mounts: unknown = props.configMounts ?? [];
  if (!Array.isArray(mounts)) p.add('configMounts', mounts, 'must be a list of { configMap, mountPath }', true);
  (Array.isArray(mounts) ? mounts : []).forEach((m: unknown, i) => {
    if (!isRecord(m)) {
      p.add(`configMounts[${i}]`, m, 'must be { configMap, mountPath }', true);
      return;
    }
    const okName = p.check(`configMounts[${i}].configMap`, m.configMap, dns1123Subdomain());
    const path = m.mountPath;
    const okPath = typeof path === 'string' && path.startsWith('/') && path !== '/' && !path.split('/').includes('..')
      && !path.includes(':') && path.replace(/\/+$/, '') !== '/tmp';
    if (!okPath) {
      p.add(`configMounts[${i}].mountPath`, path, 'must be an absolute directory other than "/" and "/tmp", without ".." or ":"', typeof path !== 'string');
      return;
    }
    const normalised = path.replace(/\/+$/, '');
    const clash = volumeMounts.findIndex((vm) => vm.mountPath.replace(/\/+$/, '') === normalised);
    if (clash >= 0) {
      p.add(`configMounts[${i}].mountPath`, path, `is already mounted (configMounts[${clash - 1}]); each mount needs its own directory`);
      return;
    }
    if (!okName) return;
    volumes.push({ name: `config-${i}`, configMap: { name: m.configMap as string } });
    volumeMounts.push({ name: `config-${i}`, mountPath: path, readOnly: true });
  });

  const account = resolveServiceAccount(p, props, ctx.name);
  const bool = (property: string, v: unknown, fallback: boolean): boolean => {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      p.add(property, v, 'must be true or false', true);
      return fallback;
    }
    return v;
  };
  const pod: ResolvedPodProps = {
    imagePullSecrets: nameList(p, 'imagePullSecrets', props.imagePullSecrets),
    podAnnotations: annotationMap(p, 'podAnnotations', props.podAnnotations),
    podLabels: podLabelMap(p, 'podLabels', props.podLabels, ctx.labels),
    ...(account.create ? { createServiceAccount: account.create } : {}),
  };

  return {
    env, envFrom, volumes, volumeMounts,
    command: stringList(p, 'command', props.command),
    args: stringList(p, 'args', props.args),
    runAsUser: p.value('runAsUser', props.runAsUser ?? DEFAULT_APP_USER, integerRule({ min: 1 }), DEFAULT_APP_USER),
    ...(account.name ? { serviceAccountName: account.name } : {}),
    automountServiceAccountToken: account.automount,
    readOnlyRootFilesystem: bool('readOnlyRootFilesystem', props.readOnlyRootFilesystem, true),
    pod,
  };
}

/** Names (and container ports) that must be unique across a pod's containers. */
export function checkPodPorts(p: Problems, property: string, containers: ReadonlyArray<{ name: string; ports?: k8s.ContainerPort[] }>): void {
  const ports = containers.flatMap((c) => (c.ports ?? []).map((x) => ({ c: c.name, port: x.containerPort, name: x.name })));
  for (const dup of duplicates(ports.map((x) => x.port))) {
    p.add(property, dup, `container port ${dup} is declared twice in the pod (${ports.filter((x) => x.port === dup).map((x) => x.c).join(', ')}); each port once`);
  }
  for (const dup of duplicates(ports.map((x) => x.name).filter((n): n is string => !!n))) {
    p.add(property, dup, `port name "${dup}" is used twice in the pod; each name once`);
  }
}

/** Duplicate mount paths inside one container are refused by the API server. */
export function mountPathsUnique(mounts: readonly k8s.VolumeMount[]): boolean {
  return duplicates(mounts.map((m) => m.mountPath)).length === 0;
}

/**
 * `addEnv` / `addSecretEnv` of a workload, called by wiring after the construct is built. Checked by the same rules;
 * setting a variable again to the same value is a no-op (wiring a queue's Redis twice composes), a different value is
 * refused: the variable would otherwise appear twice and the last one silently win. Problems are reported at synth.
 */
export function addWorkloadEnv(
  construct: IConstruct, env: k8s.EnvVar[], name: string, value: string | SecretKeyRef, kind: 'env' | 'secretEnv',
): void {
  const p = new Problems(construct);
  let entry: k8s.EnvVar | undefined;
  if (p.check(kind, name, envVarName())) {
    if (kind === 'env') {
      if (looksLikeCredential(name)) p.add(`env.${name}`, '<literal value>', 'looks like a credential; pass it with secretEnv (a Secret key reference), never as a literal');
      else if (typeof value !== 'string' && !(value instanceof Lazy)) p.add(`env.${name}`, value, 'must be a string', true);
      else entry = { name, value: value as string };
    } else {
      const ref = secretKeyRef(p, `secretEnv.${name}`, value);
      if (ref) entry = secretEnvVar(name, ref);
    }
  }
  if (entry) {
    const existing = env.find((e) => e.name === name);
    if (!existing) env.push(entry);
    else if (JSON.stringify(existing) !== JSON.stringify(entry)) {
      p.add(`${kind}.${name}`, entry.value ?? entry.valueFrom, `conflicts with ${name} already set on this workload (${JSON.stringify(existing.value ?? existing.valueFrom)}); set it in one place`);
    }
  }
  recordErrors(construct, p.errors);
}
