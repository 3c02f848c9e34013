/**
 * The Secrets a plain-manifest deployment must create before it applies: plain manifests never carry a Secret (a
 * value in Git is a leaked value), so every Secret the objects reference is listed here, with the keys they read
 * and, for generated ones, the command that creates it with random values. A Helm chart creates the generated ones
 * itself, per release (docs/helm.md, "Generated secrets").
 */
import { Chart } from 'cdk8s';
import { GeneratedSecret } from './generated-secret';

export interface SecretToCreate {
  readonly name: string;
  /** Keys the objects read (empty when a whole Secret is mounted or loaded with envFrom). */
  readonly keys: readonly string[];
  /** `Kind/name` of the objects that reference it. */
  readonly usedBy: readonly string[];
  /** Random values the chart (or the command) generates; false: values only you have (API keys, TLS). */
  readonly generated: boolean;
  /** For generated Secrets: the `kubectl create secret` line with random values. */
  readonly command?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Every Secret the chart's objects reference and the chart does not contain, in first-reference order. */
export function secretsToCreate(chart: Chart): SecretToCreate[] {
  const namespace = chart.namespace;
  const generated = new Map(GeneratedSecret.allUnder(chart).map((g) => [g.name, g]));
  return [...secretReferences(chart.toJson())].map(([name, e]) => {
    const g = generated.get(name);
    return {
      name, keys: e.keys, usedBy: e.usedBy, generated: g !== undefined,
      ...(g ? { command: g.createCommand(namespace) } : {}),
    };
  });
}

/**
 * Secrets that synthesized objects reference (env `secretKeyRef`, `envFrom.secretRef`, secret and projected volumes,
 * Ingress TLS, `imagePullSecrets`, KEDA `secretTargetRef`) and do not contain, with the keys read and the readers.
 */
export function secretReferences(objects: readonly Json[]): Map<string, { keys: string[]; usedBy: string[] }> {
  const own = new Set(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata?.name));
  const found = new Map<string, { keys: Set<string>; usedBy: Set<string> }>();
  const add = (name: unknown, key: unknown, owner: string) => {
    if (typeof name !== 'string' || own.has(name)) return;
    const entry = found.get(name) ?? { keys: new Set<string>(), usedBy: new Set<string>() };
    if (typeof key === 'string') entry.keys.add(key);
    entry.usedBy.add(owner);
    found.set(name, entry);
  };
  const visit = (node: Json, parentKey: string | undefined, owner: string, kind: string): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) {
        if (parentKey === 'imagePullSecrets') add(item?.name, undefined, owner);
        else if (parentKey === 'secretTargetRef') add(item?.name, item?.key, owner); // KEDA TriggerAuthentication
        else if (parentKey === 'tls' && kind === 'Ingress') add(item?.secretName, undefined, owner);
        else visit(item, parentKey, owner, kind);
      }
      return;
    }
    if (parentKey === 'secretKeyRef') add(node.name, node.key, owner);
    else if (parentKey === 'secretRef') add(node.name, undefined, owner);
    else if (parentKey === 'secret' && typeof node.secretName === 'string') {
      const items: Json[] = node.items ?? [];
      if (items.length === 0) add(node.secretName, undefined, owner);
      for (const i of items) add(node.secretName, i.key, owner);
    } else if (parentKey === 'secret' && typeof node.name === 'string') { // projected volume source
      const items: Json[] = node.items ?? [];
      if (items.length === 0) add(node.name, undefined, owner);
      for (const i of items) add(node.name, i.key, owner);
    }
    for (const [k, v] of Object.entries(node)) visit(v, k, owner, kind);
  };
  for (const o of objects) visit(o, undefined, `${o.kind}/${o.metadata?.name}`, o.kind);
  return new Map([...found].map(([name, e]) => [name, { keys: [...e.keys].sort(), usedBy: [...e.usedBy] }]));
}

/** Markdown for `dist/<chart>.secrets.md`: what to create before `kubectl apply`, and how. */
export function renderSecretsMarkdown(chartName: string, secrets: readonly SecretToCreate[]): string {
  const lines = [`# Secrets to create before applying ${chartName}`, ''];
  if (secrets.length === 0) return `${lines.join('\n')}None: the manifests reference no Secret they don't contain.\n`;
  lines.push(
    'Plain manifests carry no Secret. Create these in the namespace first (a pod whose Secret is missing stays in',
    'ContainerCreating). The Helm chart of this app generates the random ones per release instead, and reads yours as',
    '`<release>-<name>` (or the name set in its `userSecrets.<key>.name` value), so two releases never share them.', '',
    '| Secret | keys | values | used by |', '|---|---|---|---|',
    ...secrets.map((s) => `| \`${s.name}\` | ${s.keys.map((k) => `\`${k}\``).join(', ') || '(whole Secret)'} | ${s.generated ? 'random (generated)' : 'yours'} | ${s.usedBy.join(', ')} |`),
  );
  const generated = secrets.filter((s) => s.command);
  if (generated.length > 0) lines.push('', 'Random values, created once (keep them: data written with them outlives a redeploy):', '', '```sh', ...generated.map((s) => s.command!), '```');
  return `${lines.join('\n')}\n`;
}
