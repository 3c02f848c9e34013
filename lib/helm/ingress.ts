/**
 * `<root>.ingress.*` of a workload whose construct declared an ingress option (`Knobs.ingressOption`, issue 17):
 * `enabled`, `className`, `annotations`, `hosts` and `tls` in `helm create`'s shapes. The chart renders the Ingress
 * from them — the construct's own Ingress when it made one (`enabled` defaults to true), otherwise one of its own
 * beside the Service (same name and labels; `enabled` defaults to false) — and the workload's NetworkPolicy admits
 * the ingress controller exactly while `enabled` is true. Defaults render what the construct synthesized.
 */
import { isDeepStrictEqual } from 'util';
import { DNS1123_SUBDOMAIN } from '../core/rules';
import type { IngressOption } from '../knobs';
import type { Collected, CollectedObject } from './collect';
import { NodeMap, appendToMap, mapAt, replaceEntry } from './edit';
import type { FieldRef, SwitchInfo, ValueInfo } from './model';
import type { JsonSchema, ValueEntry } from './values';
import { Node, Templated, emitYaml } from './yaml';

/** A DNS-1123 subdomain (a Kubernetes object name): dot-separated labels, none empty. */
const SUBDOMAIN = DNS1123_SUBDOMAIN;
const OBJECT_NAME = `^${SUBDOMAIN}$`;
const OPTIONAL_NAME = `^(${SUBDOMAIN})?$`;
/** A label or annotation key: `[prefix/]name`. */
export const QUALIFIED_NAME = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** The API server refuses an IP address as an Ingress host. */
const IPV4 = '^[0-9]+(\\.[0-9]+){3}$';
/** What the API server refuses in a Prefix or Exact path (validateIngressHTTPPath). */
const UNSAFE_PATH = '//|/\\./|/\\.\\./|%2[fF]|/\\.\\.?$';
const PATH_TYPES = ['Prefix', 'Exact', 'ImplementationSpecific'];

export interface IngressValues {
  readonly entries: ValueEntry[];
  /** Values a `--set` changes in the default render (only where the construct made an Ingress). */
  readonly infos: ValueInfo[];
  readonly switches: SwitchInfo[];
  /** Values roots handled here: the generic ingress handling of lib/helm/conventional.ts skips them. */
  readonly roots: ReadonlySet<string>;
  guard(o: CollectedObject): string | undefined;
  decorate(o: CollectedObject, node: NodeMap): void;
  /** NOTES.txt lines: the URLs of each Ingress, while it is enabled. */
  notes(): string[];
}

export function hostSchema(option: IngressOption): JsonSchema {
  return { type: 'string', maxLength: 253, pattern: option.hostPattern, not: { pattern: IPV4 } };
}

/** `ingress.hosts`: `helm create`'s list of `{ host, paths: [{ path, pathType }] }` (paths default to `/` Prefix). */
export function hostsSchema(option: IngressOption): JsonSchema {
  return {
    type: 'array', minItems: 1,
    items: {
      // `paths` and `pathType` default as in the construct (`/`, Prefix): `--set x.ingress.hosts[0].host=…` replaces the
      // whole list with one entry holding only a host.
      type: 'object', required: ['host'],
      properties: {
        host: hostSchema(option),
        paths: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', required: ['path'],
            properties: { path: { type: 'string', pattern: option.pathPattern }, pathType: { type: 'string', enum: PATH_TYPES } },
            // The API server refuses `//`, `/./`, `/../` and `%2f` in Prefix (the default) and Exact paths.
            if: { properties: { pathType: { enum: ['Prefix', 'Exact'] } } },
            then: { properties: { path: { not: { pattern: UNSAFE_PATH } } } },
          },
        },
      },
    },
  };
}

/** `ingress.tls`: `helm create`'s list of `{ secretName, hosts }`. */
export function tlsSchema(option: IngressOption): JsonSchema {
  return {
    type: 'array',
    items: {
      type: 'object', required: ['secretName', 'hosts'],
      properties: {
        secretName: { type: 'string', maxLength: 253, pattern: OBJECT_NAME },
        hosts: { type: 'array', minItems: 1, items: hostSchema(option) },
      },
    },
  };
}

/** A Go template expression for a name the tree holds (a literal, or a release-aware text). */
function nameExpr(node: Node): string {
  if (typeof node === 'string') return JSON.stringify(node);
  if (node instanceof Templated) {
    const parts = node.parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : `(${p.expr})`));
    return parts.length === 1 && node.type === undefined && typeof node.parts[0] !== 'string' ? parts[0] : `(print ${parts.join(' ')})`;
  }
  throw new Error('helm chart writer: an Ingress backend or TLS Secret name must be a string');
}

export function ingressValues(c: Collected, chartName: string, extraTemplates: Map<string, string>): IngressValues {
  const entries: ValueEntry[] = [];
  const infos: ValueInfo[] = [];
  const switches: SwitchInfo[] = [];
  const guards = new Map<CollectedObject, string>();
  const decorations = new Map<CollectedObject, Array<(node: NodeMap) => void>>();
  const notes: string[] = [];
  const decorate = (o: CollectedObject, f: (node: NodeMap) => void) => decorations.set(o, [...(decorations.get(o) ?? []), f]);
  const byApi = new Map(c.objects.map((o) => [o.apiObject, o]));
  const find = (api: unknown, what: string) => {
    const o = byApi.get(api as CollectedObject['apiObject']);
    if (!o) throw new Error(`helm chart writer: the ${what} of an ingress option is not in the chart`);
    return o;
  };

  for (const { root, option } of c.ingressOptions) {
    const v = `$.Values.${root}.ingress`;
    const service = find(option.service, 'Service');
    const ingress = option.ingress ? find(option.ingress, 'Ingress') : undefined;
    const name = ingress?.name ?? service.name;
    const add = (key: string, description: string, schema: JsonSchema, def: unknown, targets?: FieldRef[], example?: unknown) => {
      entries.push({ path: `${v.slice('$.Values.'.length)}.${key}`, description, schema, default: def });
      if (targets) infos.push({ path: `${root}.ingress.${key}`, description, schema: schema as ValueInfo['schema'], default: def, example, targets, alsoRead: [] });
    };
    const field = (path: Array<string | number>, exact: boolean): FieldRef[] | undefined => (ingress ? [{ kind: 'Ingress', name, path, exact }] : undefined);

    const policy = option.networkPolicy && find(option.networkPolicy.object, 'NetworkPolicy');
    const rulePath = option.networkPolicy ? ['spec', 'ingress', option.networkPolicy.rule] : [];
    const description = `Render an Ingress to the Service ${service.name}${policy ? ` and let the ingress controller through NetworkPolicy/${policy.name}` : ''}`;
    entries.push({ path: `${root}.ingress.enabled`, description, schema: { type: 'boolean' }, default: ingress !== undefined });
    switches.push({
      path: `${root}.ingress.enabled`, default: ingress !== undefined, objects: [`Ingress/${name}`], description,
      alsoChanges: policy ? [{ kind: 'NetworkPolicy', name: policy.name, path: [...rulePath, 'from'], exact: false }] : [],
    });

    const className: string = ingress?.json.spec?.ingressClassName ?? '';
    add('className', 'IngressClass of the Ingress; empty: the cluster\'s default class', { type: 'string', maxLength: 253, pattern: OPTIONAL_NAME },
      className, field(['spec', 'ingressClassName'], true), className === 'chart-class' ? 'chart-class-2' : 'chart-class');
    const taken = Object.keys(ingress?.json.metadata?.annotations ?? {}).sort();
    add('annotations', `Annotations added to the Ingress (e.g. cert-manager.io/cluster-issuer)${taken.length ? `; not ${taken.join(', ')}: the construct sets those` : ''}`,
      { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: QUALIFIED_NAME, ...(taken.length ? { not: { enum: taken } } : {}) } }, {},
      field(['metadata', 'annotations'], taken.length === 0), { 'example.com/chart-extra': 'yes' });
    const hosts = option.hosts.map((h) => ({ host: h.host, paths: h.paths.map((p) => ({ path: p.path, pathType: p.pathType })) }));
    const tls = option.tls.map((t) => ({ secretName: t.secretName, hosts: [...t.hosts] }));
    add('hosts', `Hosts of the Ingress and their paths, each routed to port ${option.portName} of the Service${ingress ? '' : ` (the default is an example: set your own)`}`,
      hostsSchema(option), hosts, field(['spec', 'rules'], false),
      // One more host: the TLS entries still name hosts of the rules.
      [...hosts, { host: `alt-${hosts[0].host.replace(/^\*\./, '')}`, paths: [{ path: '/alt', pathType: 'Exact' }] }]);
    add('tls', 'Certificates: kubernetes.io/tls Secrets and the hosts each covers (a name listed under "Secrets to create" is read as the release\'s; others as written)',
      tlsSchema(option), tls, field(['spec', 'tls'], false), [{ secretName: 'chart-example-tls', hosts: [hosts[0].host] }]);

    // The Ingress: the construct's object with its spec from values, or a template of its own.
    const renderSpec = (spec: NodeMap, serviceName: string, tlsNames: string) => {
      replaceEntry(spec, 'ingressClassName', () => `{{- with ${v}.className }}\n{{INDENT}}ingressClassName: {{ . | quote }}\n{{INDENT}}{{- end }}`);
      replaceEntry(spec, 'tls', (indent) => `{{- if ${v}.tls }}\n{{INDENT}}tls: {{- include "${chartName}.ingressTls" (list ${v}.tls ${tlsNames}) | trim | nindent ${indent + 2} }}\n{{INDENT}}{{- end }}`);
      replaceEntry(spec, 'rules', (indent) => `rules: {{- include "${chartName}.ingressRules" (list ${v}.hosts ${serviceName} ${JSON.stringify(option.portName)}) | trim | nindent ${indent + 2} }}`);
      // What the schema can't say (a TLS host among the hosts, each host once), checked while the Ingress renders.
      replaceEntry(spec, '$ingress-checks', () => `{{- include "${chartName}.ingressChecks" (list ${JSON.stringify(`${root}.ingress`)} ${v}) }}`);
    };
    if (ingress) {
      guards.set(ingress, `${v}.enabled`);
      decorate(ingress, (node) => {
        const spec = mapAt(node, ['spec']);
        const rules = spec.rules as NodeMap[];
        const backend = ((rules[0].http as NodeMap).paths as NodeMap[])[0].backend as NodeMap;
        const serviceName = nameExpr((backend.service as NodeMap).name);
        // The construct's Secret names (`<release>-<name>` or userSecrets.*) as the walk rendered them.
        const names = ((spec.tls ?? []) as NodeMap[]).map((t, i) => `${JSON.stringify(option.tls[i].secretName)} ${nameExpr(t.secretName)}`);
        renderSpec(spec, serviceName, `(dict ${names.join(' ')})`);
        appendToMap(mapAt(node, ['metadata']), 'annotations', `${v}.annotations`);
      });
    } else {
      decorate(service, (node) => {
        // The Service's own name, namespace and labels (release-aware, version label and all) name the Ingress too.
        const meta = node.metadata as NodeMap;
        const metadata: NodeMap = { name: meta.name, ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}), labels: meta.labels };
        appendToMap(metadata, 'annotations', `${v}.annotations`);
        const spec: NodeMap = { rules: [] };
        renderSpec(spec, nameExpr(meta.name), '(dict)');
        const doc = `---\n${emitYaml({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec })}`;
        // Read by the writer after every object is templated (lib/helm/index.ts).
        extraTemplates.set(service.file, `${extraTemplates.get(service.file) ?? ''}{{- if ${v}.enabled }}\n${doc}{{- end }}\n`);
      });
    }

    // The NetworkPolicy admits the controller while the Ingress is on.
    if (policy && option.networkPolicy) {
      const { index, peer } = option.networkPolicy;
      const from = (policy.json.spec?.ingress?.[option.networkPolicy.rule]?.from ?? []) as unknown[];
      const present = ingress !== undefined;
      if (present && !isDeepStrictEqual(from[index], peer)) {
        throw new Error(`helm chart writer: NetworkPolicy/${policy.name} does not admit the ingress controller where its construct says`);
      }
      if (from.length - (present ? 1 : 0) === 0) {
        // An empty `from` admits everyone: switching the Ingress off must not open the policy.
        throw new Error(`helm chart writer: NetworkPolicy/${policy.name} would admit every client with the Ingress off`);
      }
      decorate(policy, (node) => {
        const rule = mapAt(node, rulePath);
        const items = rule.from as Node[];
        const before = items.slice(0, index);
        const after = items.slice(present ? index + 1 : index);
        const controller = present ? items[index] : (peer as Node);
        replaceEntry(rule, 'from', (indent) => {
          const pad = ' '.repeat(indent + 2);
          const list = (l: Node[]) => (l.length ? emitYaml(l, indent + 2) : '');
          return `from:\n${list(before)}${pad}{{- if ${v}.enabled }}\n${list([controller])}${pad}{{- end }}\n${list(after)}`.replace(/\n$/, '');
        });
      });
    }

    notes.push(
      `{{- if ${v}.enabled }}`,
      '',
      `Ingress ${name}:`,
      `{{- $tlsHosts := list }}{{- range ${v}.tls }}{{- $tlsHosts = concat $tlsHosts .hosts }}{{- end }}`,
      `{{- range ${v}.hosts }}`,
      '  {{ ternary "https" "http" (has .host $tlsHosts) }}://{{ .host }}{{ (index (.paths | default (list (dict "path" "/"))) 0).path }}',
      '{{- end }}',
      '{{- end }}',
    );
  }

  return {
    entries, infos, switches, roots: new Set(c.ingressOptions.map((x) => x.root)),
    guard: (o) => guards.get(o),
    decorate: (o, node) => { for (const f of decorations.get(o) ?? []) f(node); },
    notes: () => notes,
  };
}

/** `_helpers.tpl` definitions the Ingress templates include. */
export function ingressHelpers(name: string): string {
  return `
{{/* Ingress rules from hosts values: (list <hosts> "<Service name>" "<port name>"). */}}
{{- define "${name}.ingressRules" -}}
{{- $service := index . 1 -}}
{{- $port := index . 2 -}}
{{- range (index . 0) }}
- host: {{ toJson .host }}
  http:
    paths:
    {{- range (.paths | default (list (dict "path" "/"))) }}
      - path: {{ toJson .path }}
        pathType: {{ toJson (.pathType | default "Prefix") }}
        backend:
          service:
            name: {{ toJson $service }}
            port:
              name: {{ toJson $port }}
    {{- end }}
{{- end }}
{{- end }}

{{/* Checks of an Ingress's values JSON Schema can't express: (list "<values path>" <ingress values>). */}}
{{- define "${name}.ingressChecks" -}}
{{- $path := index . 0 -}}
{{- $hosts := list -}}
{{- range $i, $h := (index . 1).hosts }}
{{- if has $h.host $hosts }}{{- fail (printf "%s.hosts[%d].host (%s) is listed twice: list every path of a host under one entry" $path $i $h.host) }}{{- end }}
{{- $hosts = append $hosts $h.host -}}
{{- end }}
{{- range $i, $t := (index . 1).tls }}
{{- range $j, $h := $t.hosts }}
{{- if not (has $h $hosts) }}{{- fail (printf "%s.tls[%d].hosts[%d] (%s) must be one of %s.hosts (%s): a certificate for a host without a rule serves nothing" $path $i $j $h $path (join ", " $hosts)) }}{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Ingress TLS from tls values: (list <tls> (dict "<construct's Secret name>" "<the release's>")). */}}
{{- define "${name}.ingressTls" -}}
{{- $names := index . 1 -}}
{{- range (index . 0) }}
- hosts: {{ toJson .hosts }}
  secretName: {{ toJson (get $names .secretName | default .secretName) }}
{{- end }}
{{- end }}
`;
}
