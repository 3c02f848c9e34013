/**
 * Release-aware names. Every object the chart creates is named `<release>-<name>`, so two releases coexist in one
 * namespace; every place that refers to one of those objects must follow. References come in two shapes:
 *
 * - structural fields whose meaning is "name of a <Kind>" (`secretKeyRef.name`, `scaleTargetRef.name`, Ingress
 *   backends, volumes…): rewritten when the chart itself creates an object of that kind with that name, so
 *   references to Secrets the user creates (`shop-db`) stay as they are;
 * - host names inside free text (env values, args, config files, PromQL): only whole tokens that name a Service (or
 *   a StatefulSet pod), and only where the text around them says "host" — followed by `.<namespace>`/`.svc`/`:port`,
 *   after `//` or `@`, after a `host=`-style key, or as the whole value of an env var named like a host. So
 *   `APP_MODE=api` stays `api` even when a Service is called `api`, and `api-v2` or `rapid` never match.
 *
 * Constructs declare the rare reference these rules miss with `Knobs.reference`.
 */
import type { Part } from './yaml';

export const RELEASE_NAME = '.Release.Name';
export const RELEASE_NAMESPACE = '.Release.Namespace';

export interface NamedObject {
  readonly kind: string;
  readonly name: string;
  /** What the name becomes in the chart. */
  readonly parts: readonly Part[];
}

/** Values root of the Secrets only the user can create (provider URLs, TLS): `userSecrets.<key>.name`. */
export const USER_SECRETS_ROOT = 'userSecrets';

/** The values key of a user-created Secret: its name in camelCase (`rpc-urls` → `rpcUrls`). */
export function userSecretKey(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('') || 'secret';
}

/**
 * Go expression for the name of a Secret only the user can create, in a chart: `userSecrets.<key>.name` when set (an
 * existing Secret), else `<release>-<name>`, so two releases in one namespace never share it by accident.
 */
export function userSecretNameExpr(name: string): string {
  return `($.Values.${USER_SECRETS_ROOT}.${userSecretKey(name)}.name | default (printf "%s-%s" $.Release.Name ${JSON.stringify(name)}))`;
}

/** The prefixed name of an object the chart creates: `<release>-<name>`. */
export function releaseName(name: string): Part[] {
  return [{ expr: RELEASE_NAME, safe: true }, `-${name}`];
}

export class NameIndex {
  private readonly byKind = new Map<string, Map<string, NamedObject>>();
  /** DNS names that resolve in the namespace: Services. */
  public readonly services = new Set<string>();
  public readonly statefulSets = new Set<string>();

  constructor(objects: readonly NamedObject[], public readonly namespace: string | undefined) {
    for (const o of objects) {
      const names = this.byKind.get(o.kind) ?? new Map<string, NamedObject>();
      if (names.has(o.name)) throw new Error(`helm chart writer: two ${o.kind} objects are named ${o.name}`);
      names.set(o.name, o);
      this.byKind.set(o.kind, names);
      if (o.kind === 'Service') this.services.add(o.name);
      if (o.kind === 'StatefulSet') this.statefulSets.add(o.name);
    }
  }

  public lookup(kind: string, name: string): NamedObject | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  /** The object a DNS token names: a Service, or a StatefulSet pod (`<sts>-<ordinal>`, named after its StatefulSet). */
  public hostObject(token: string): { object: NamedObject; suffix: string } | undefined {
    const service = this.lookup('Service', token);
    if (service) return { object: service, suffix: '' };
    const pod = /^(.+)-(\d+)$/.exec(token);
    const sts = pod && this.lookup('StatefulSet', pod[1]);
    return sts ? { object: sts, suffix: `-${pod![2]}` } : undefined;
  }
}

/** Env var names whose whole value is a host name, so a bare `catalog` is a reference there. */
const HOST_ENV_NAME = /(HOST|ADDR|URL|URI|ENDPOINT|SERVICE|SERVER|DSN|UPSTREAM|BROKER|SENTINEL|PEER|NODES|MASTER|PRIMARY|REPLICA)/i;
/** `host=`, `server: `, `upstream "`… just before a token, possibly after a comma-separated list of hosts. */
const HOST_KEY_BEFORE = /(?:^|[^A-Za-z0-9])[A-Za-z0-9_.-]*?(host|hosts|hostname|server|servers|address|addr|endpoint|endpoints|upstream|master|primary|sentinel|sentinels|url|uri|dsn|service|backend|broker|brokers|job)["']?\s*(=~|[:=])\s*["']?(?:[A-Za-z0-9_.:-]+\s*,\s*)*$/i;
/** `namespace="shop"` in PromQL and friends: the release's namespace. */
const NAMESPACE_KEY_BEFORE = /(?:^|[^A-Za-z0-9_])namespace["']?\s*(=~|[:=])\s*["']?$/;
const TOKEN = /(?<![A-Za-z0-9_-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?![A-Za-z0-9_-])/g;

export interface TextContext {
  /** Name of the env var whose value this is. */
  readonly envName?: string;
  /** Names declared as references in this field (`Knobs.reference`): every whole-token occurrence is one. */
  readonly declared?: ReadonlySet<string>;
  /** Receives each object a rewritten token refers to. */
  readonly onReference?: (o: NamedObject) => void;
}

/**
 * Rewrites host names in free text to their release-prefixed form; undefined when nothing in `text` refers to an
 * object of the chart.
 */
export function rewriteText(text: string, index: NameIndex, ctx: TextContext = {}): Part[] | undefined {
  const parts: Part[] = [];
  let last = 0;
  let changed = false;
  const ns = index.namespace;
  for (const m of text.matchAll(TOKEN)) {
    const token = m[0];
    const start = m.index!;
    const end = start + token.length;
    if (ns !== undefined && token === ns && NAMESPACE_KEY_BEFORE.test(text.slice(Math.max(0, start - 40), start))) {
      parts.push(text.slice(last, start), { expr: RELEASE_NAMESPACE, safe: true });
      last = end;
      changed = true;
      continue;
    }
    const declared = ctx.declared?.has(token) ? findDeclared(index, token) : undefined;
    const host = declared ? { object: declared, suffix: '' } : index.hostObject(token);
    if (!host) continue;
    const before = text.slice(Math.max(0, start - 200), start);
    const lineBefore = before.slice(before.lastIndexOf('\n') + 1);
    const after = text.slice(end);
    const nsMatch = ns ? new RegExp(`^\\.(${escapeRegExp(ns)})(?=\\.svc(?![A-Za-z0-9-])|[^A-Za-z0-9.-]|$)`).exec(after) : null;
    const svcMatch = /^\.svc(?![A-Za-z0-9-])/.test(after);
    const podOfService = /^\.([a-z0-9-]+)/.test(after) && index.services.has(/^\.([a-z0-9-]+)/.exec(after)![1]) && /^-\d+$/.test(host.suffix);
    // `api.shop.example.com` is some other, longer DNS name that merely starts with a Service's name.
    const longerName = /^\.[A-Za-z0-9]/.test(after) && nsMatch === null && !svcMatch && !podOfService;
    const isReference = declared !== undefined || (!longerName && (
      nsMatch !== null
      || svcMatch
      || podOfService
      || /^:\d/.test(after)
      || /(\/\/|@)$/.test(before)
      || /(\}|\)|(?<![A-Za-z0-9-])[a-z0-9-]+-\d+)\.$/.test(before)
      || HOST_KEY_BEFORE.test(lineBefore)
      || (ctx.envName !== undefined && HOST_ENV_NAME.test(ctx.envName) && text.trim() === token)));
    if (!isReference) continue;
    parts.push(text.slice(last, start), ...host.object.parts, host.suffix);
    ctx.onReference?.(host.object);
    last = end;
    changed = true;
    if (nsMatch) {
      // `api.shop.svc…`: the namespace is the release's.
      parts.push('.', { expr: RELEASE_NAMESPACE, safe: true });
      last = end + 1 + nsMatch[1].length;
    }
  }
  if (!changed) return undefined;
  parts.push(text.slice(last));
  return parts;
}

function findDeclared(index: NameIndex, token: string): NamedObject | undefined {
  for (const kind of ['Service', 'StatefulSet', 'ConfigMap', 'Secret', 'Deployment', 'Job', 'PersistentVolumeClaim', 'ServiceAccount']) {
    const o = index.lookup(kind, token);
    if (o) return o;
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The kind a structural reference field names, given the field's key, its parent map and the key of that map;
 * undefined when the field is not a reference.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function referencedKind(key: string, parent: Record<string, any>, parentKey: string | number | undefined, grandKey: string | number | undefined): string | undefined {
  switch (key) {
    case 'secretName': return 'Secret';
    case 'claimName': return 'PersistentVolumeClaim';
    case 'serviceName': return 'Service';
    case 'serviceAccountName': return 'ServiceAccount';
    case 'priorityClassName': return 'PriorityClass';
    case 'storageClassName': return 'StorageClass';
    case 'name': break;
    default: return undefined;
  }
  if (typeof parentKey === 'number') {
    // Items of reference lists: `imagePullSecrets: [{name}]`, RBAC `subjects: [{kind, name}]`, KEDA `secretTargetRef`.
    if (grandKey === 'imagePullSecrets' || grandKey === 'secretTargetRef') return 'Secret';
    if (grandKey === 'subjects' && typeof parent.kind === 'string') return parent.kind;
    return undefined;
  }
  switch (parentKey) {
    case 'configMap': case 'configMapRef': case 'configMapKeyRef': return 'ConfigMap';
    case 'secret': case 'secretRef': case 'secretKeyRef': return 'Secret';
    case 'service': return 'Service';
    case 'scaleTargetRef': return typeof parent.kind === 'string' ? parent.kind : 'Deployment';
    case 'authenticationRef': return typeof parent.kind === 'string' ? parent.kind : 'TriggerAuthentication';
    case 'roleRef': return typeof parent.kind === 'string' ? parent.kind : undefined;
    default:
      if (typeof parentKey === 'string' && /Ref$/.test(parentKey) && typeof parent.kind === 'string') return parent.kind;
      if (typeof parentKey === 'string' && /[sS]ecret(Key)?Ref$/.test(parentKey)) return 'Secret';
      return undefined;
  }
}

/**
 * `Kind/name` of every object that `tree` (plain JSON, e.g. a pod spec) names in a structural reference field (the
 * fields {@link referencedKind} knows) and that `has` says exists. Text is not searched: a host name in an env value
 * doesn't stop a pod from starting.
 */
export function structuralReferences(tree: unknown, has: (kind: string, name: string) => boolean): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, path: ReadonlyArray<string | number>, parent: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, i], value));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k], value);
    } else if (typeof value === 'string' && path.length > 0 && parent !== null && typeof parent === 'object' && !Array.isArray(parent)) {
      const key = path[path.length - 1];
      const kind = typeof key === 'string' ? referencedKind(key, parent, path[path.length - 2], path[path.length - 3]) : undefined;
      if (kind && has(kind, value)) found.add(`${kind}/${value}`);
    }
  };
  visit(tree, [], undefined);
  return [...found];
}
