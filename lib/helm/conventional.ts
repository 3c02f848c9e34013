/**
 * The values operators expect of any chart (Bitnami's and `helm create`'s names), added by the chart writer to every
 * workload's values root, so no construct has to declare them one by one:
 *
 * - pod values: `image.pullPolicy`, `imagePullSecrets`, `podAnnotations`, `podLabels`, `nodeSelector`, `tolerations`,
 *   `affinity`, `topologySpreadConstraints`, `priorityClassName`, `extraEnvVars`, `extraEnvVarsSecret`,
 *   `extraEnvVarsCM`, `extraEnvFrom`, `serviceAccount.{create,name,annotations}`, and `global.imageRegistry` /
 *   `global.imagePullSecrets` for every pod of the chart;
 * - switches: `autoscaling.enabled`, `pdb.enabled`, `networkPolicy.enabled`, `ingress.enabled`, `metrics.enabled`,
 *   `metrics.serviceMonitor.enabled`, each around the objects it names (and `replicas`, used when autoscaling is off).
 *
 * Defaults render exactly what the construct synthesized. Values whose synthesized form depends on the release (an
 * affinity's selectors) are overrides: empty keeps the construct's, anything else replaces it.
 */
import { isDeepStrictEqual } from 'util';
import { DNS1123_SUBDOMAIN } from '../core/rules';
import type { IConstruct } from 'constructs';
import type { Collected, CollectedKnob, CollectedObject, Json } from './collect';
import type { FieldRef, SwitchInfo, ValueInfo } from './model';
import type { JsonSchema, ValueEntry } from './values';
import { Node, Templated } from './yaml';
import { appendToList, appendToMap, mapAt, overrideEntry, replaceEntry } from './edit';
import { QUALIFIED_NAME, ingressHelpers, ingressValues } from './ingress';

/** A DNS-1123 subdomain, or empty. */
/** An object name, or empty: a DNS-1123 subdomain (not `a..b`, which the API server refuses). */
const OBJECT_NAME = `^(${DNS1123_SUBDOMAIN})?$`;
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';
/** `host[:port][/path]` of a registry or a mirror. */
const REGISTRY = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)?)?$';

/** Kinds each switch turns on and off, by values key under the construct's root. */
const SWITCHES: ReadonlyArray<{ key: string; kinds: readonly string[]; what: string }> = [
  { key: 'autoscaling.enabled', kinds: ['HorizontalPodAutoscaler', 'ScaledObject'], what: 'the autoscaler; off, the workload runs `replicas` pods' },
  { key: 'pdb.enabled', kinds: ['PodDisruptionBudget'], what: 'the PodDisruptionBudget' },
  { key: 'networkPolicy.enabled', kinds: ['NetworkPolicy'], what: 'the NetworkPolicies' },
  { key: 'ingress.enabled', kinds: ['Ingress'], what: 'the Ingress' },
  { key: 'metrics.enabled', kinds: ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'], what: 'the Prometheus Operator objects (scrape and alert rules)' },
  { key: 'metrics.serviceMonitor.enabled', kinds: ['ServiceMonitor', 'PodMonitor'], what: 'the ServiceMonitor/PodMonitor (with metrics.enabled)' },
];

export interface Conventional {
  /** Knobs on fields every pod already has (e.g. `image.pullPolicy`): the writer handles them like declared knobs. */
  readonly knobs: CollectedKnob[];
  /** values.yaml / schema / README entries of the values handled here (switches, pod values). */
  readonly entries: ValueEntry[];
  /** The pod values a `--set` changes in place (the chart battery renders each). */
  readonly infos: ValueInfo[];
  readonly switches: SwitchInfo[];
  /** Edits the templated tree of an object (after knobs and names). */
  decorate(o: CollectedObject, node: { [key: string]: Node }): void;
  /** Go template condition the object renders under, if any. */
  guard(o: CollectedObject): string | undefined;
  /** Values of the `serviceAccount.*` switch that can give this object's pods a ServiceAccount the chart creates. */
  createdAccountValues(o: CollectedObject): string | undefined;
  /** Values path of the fixed replica count used when `autoscaling.enabled` is false. */
  replicasWhenNotAutoscaled(o: CollectedObject): { replicas: string; enabled: string } | undefined;
  /** Extra template text per file (ServiceAccounts). */
  readonly extraTemplates: ReadonlyMap<string, string>;
  /** Helpers for `_helpers.tpl`. */
  helpers(chartName: string): string;
  /** NOTES.txt lines of the Ingresses that follow `ingress.*` values (lib/helm/ingress.ts). */
  ingressNotes(): string[];
  /** `global.*` entries (kept open to a parent chart's globals). */
  readonly globalEntries: ValueEntry[];
  /**
   * Checks across values that JSON Schema can express (`if`/`then`), merged into the object schema at `path`: they
   * fail at `helm lint` time, not only at render time.
   */
  readonly schemaPatches: ReadonlyArray<{ readonly path: string; readonly patch: JsonSchema }>;
}

interface PodWorkload {
  readonly o: CollectedObject;
  /** Path of the pod template in the object. */
  readonly template: string[];
  readonly pod: Json;
}

export function podTemplatePath(kind: string): string[] | undefined {
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template'];
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(kind) ? ['spec', 'template'] : undefined;
}

function at(json: Json, path: readonly (string | number)[]): Json {
  return path.reduce((n, k) => n?.[k], json);
}

/** The values root of the nearest construct (the object's own or an ancestor) that has knobs. */
function rootFinder(knobs: readonly CollectedKnob[]): (o: CollectedObject) => string | undefined {
  const roots = new Map<IConstruct, string>(knobs.map((k) => [k.construct, k.root]));
  return (o) => {
    const scopes = o.apiObject.node.scopes;
    for (let i = scopes.length - 1; i >= 0; i--) {
      const r = roots.get(scopes[i]);
      if (r !== undefined) return r;
    }
    return undefined;
  };
}

export function conventionalValues(c: Collected, chartName: string): Conventional {
  const rootOf = rootFinder(c.knobs);
  const declared = new Set(c.knobs.map((k) => k.path));
  const byRoot = new Map<string, CollectedObject[]>();
  for (const o of c.objects) {
    const r = rootOf(o);
    if (r !== undefined) byRoot.set(r, [...(byRoot.get(r) ?? []), o]);
  }

  const knobs: CollectedKnob[] = [];
  const entries: ValueEntry[] = [];
  const infos: ValueInfo[] = [];
  const switches: SwitchInfo[] = [];
  const guards = new Map<CollectedObject, string[]>();
  const decorations = new Map<CollectedObject, Array<(node: { [key: string]: Node }) => void>>();
  const replicas = new Map<CollectedObject, { replicas: string; enabled: string }>();
  const accountValues = new Map<CollectedObject, string>();
  const extraTemplates = new Map<string, string>();
  const schemaPatches: Array<{ path: string; patch: JsonSchema }> = [];
  // A workload whose construct offers an Ingress gets the whole `ingress.*` set there (extraTemplates is read after
  // every object is templated, when its Ingress templates are complete).
  const ingress = ingressValues(c, chartName, extraTemplates);
  entries.push(...ingress.entries);
  infos.push(...ingress.infos);
  switches.push(...ingress.switches);
  const decorate = (o: CollectedObject, f: (node: { [key: string]: Node }) => void) => decorations.set(o, [...(decorations.get(o) ?? []), f]);
  const field = (o: CollectedObject, path: readonly (string | number)[], exact: boolean): FieldRef => ({ kind: o.kind, name: o.name, path, exact });
  const add = (root: string, key: string, description: string, schema: JsonSchema, def: unknown, targets?: FieldRef[], example?: unknown) => {
    const path = `${root}.${key}`;
    entries.push({ path, description, schema, default: def });
    if (targets && targets.length > 0) {
      infos.push({ path, description, schema: schema as ValueInfo['schema'], default: def, example, targets, alsoRead: [], lessOrEqualTo: undefined });
    }
  };

  for (const [root, objects] of byRoot) {
    const v = `$.Values.${root}`;
    // Switches: each guards the objects of its kinds.
    for (const s of SWITCHES) {
      const guarded = objects.filter((o) => s.kinds.includes(o.kind));
      if (guarded.length === 0 || declared.has(`${root}.${s.key}`) || (s.key === 'ingress.enabled' && ingress.roots.has(root))) continue;
      const path = `${root}.${s.key}`;
      const description = `Render ${s.what} (${guarded.map((o) => `${o.kind}/${o.name}`).join(', ')})`;
      entries.push({ path, description, schema: { type: 'boolean' }, default: true });
      switches.push({ path, default: true, objects: guarded.map((o) => `${o.kind}/${o.name}`), description });
      for (const o of guarded) guards.set(o, [...(guards.get(o) ?? []), `$.Values.${path}`]);
      if (s.key === 'autoscaling.enabled') {
        const scaled = new Set(guarded.map((o) => `${o.json.spec?.scaleTargetRef?.kind ?? 'Deployment'}/${o.json.spec?.scaleTargetRef?.name}`));
        const targets = objects.filter((o) => scaled.has(`${o.kind}/${o.name}`) && typeof o.json.spec?.replicas === 'number');
        if (targets.length > 0 && !declared.has(`${root}.replicas`)) {
          const floor = targets[0].json.spec.replicas as number;
          entries.push({
            path: `${root}.replicas`, default: floor, schema: { type: 'integer', minimum: 0 },
            description: 'Fixed replica count, used only when autoscaling.enabled is false (with the autoscaler on, the install starts at its floor and an upgrade keeps the live count)',
          });
          for (const t of targets) replicas.set(t, { replicas: `$.Values.${root}.replicas`, enabled: `$.Values.${path}` });
        }
      }
    }

    // The Ingress a construct made: its class and extra annotations (a cert-manager issuer, rewrite rules).
    const ingresses = objects.filter((o) => o.kind === 'Ingress');
    if (ingresses.length > 0 && !ingress.roots.has(root) && !declared.has(`${root}.ingress.className`) && ingresses.every((o) => o.json.spec?.ingressClassName === ingresses[0].json.spec?.ingressClassName)) {
      const current = ingresses[0].json.spec?.ingressClassName ?? '';
      add(root, 'ingress.className', 'IngressClass of the Ingress; empty: the cluster\'s default class', { type: 'string', maxLength: 253, pattern: OBJECT_NAME }, current,
        ingresses.map((o) => field(o, ['spec', 'ingressClassName'], true)), current === 'chart-class' ? 'chart-class-2' : 'chart-class');
      for (const o of ingresses) {
        decorate(o, (node) => replaceEntry(mapAt(node, ['spec']), 'ingressClassName', () => `{{- with ${v}.ingress.className }}\n{{INDENT}}ingressClassName: {{ . | quote }}\n{{INDENT}}{{- end }}`));
      }
      const taken = [...new Set(ingresses.flatMap((o) => Object.keys(o.json.metadata?.annotations ?? {})))].sort();
      add(root, 'ingress.annotations', `Annotations added to the Ingress (e.g. cert-manager.io/cluster-issuer)${taken.length ? `; not ${taken.join(', ')}: the construct sets those` : ''}`,
        { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: QUALIFIED_NAME, ...(taken.length ? { not: { enum: taken } } : {}) } }, {},
        ingresses.map((o) => field(o, ['metadata', 'annotations'], taken.length === 0)), { [unused('example.com/chart-extra', taken)]: 'yes' });
      for (const o of ingresses) decorate(o, (node) => appendToMap(mapAt(node, ['metadata']), 'annotations', `${v}.ingress.annotations`));
    }

    const workloads: PodWorkload[] = objects.flatMap((o) => {
      const template = podTemplatePath(o.kind);
      const pod = template && at(o.json, [...template, 'spec']);
      return template && pod ? [{ o, template, pod }] : [];
    });
    if (workloads.length === 0) continue;

    // image.pullPolicy: every container already carries one (the hardened pod sets it), so it is an ordinary knob.
    const policyTargets = workloads.flatMap((w) => (['initContainers', 'containers'] as const).flatMap((list) =>
      ((w.pod[list] ?? []) as Json[]).flatMap((ct, i) => (typeof ct.imagePullPolicy === 'string' ? [{ object: w.o.apiObject, path: [...w.template, 'spec', list, i, 'imagePullPolicy'] }] : []))));
    if (policyTargets.length > 0 && !declared.has(`${root}.image.pullPolicy`)) {
      const construct = c.knobs.find((k) => k.root === root)!.construct;
      knobs.push({
        construct, root, path: `${root}.image.pullPolicy`,
        spec: {
          key: 'image.pullPolicy', description: 'imagePullPolicy of every container of these pods',
          schema: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'] },
          default: at(workloads[0].pod, ['containers', 0, 'imagePullPolicy']) ?? 'IfNotPresent', targets: policyTargets,
        },
      });
    }

    const podField = (w: PodWorkload, key: string, exact: boolean) => field(w.o, [...w.template, 'spec', key], exact);
    const agreed = (key: string) => {
      const first = workloads[0].pod[key];
      return workloads.every((w) => isDeepStrictEqual(w.pod[key], first)) && !JSON.stringify(first ?? null).includes('app.kubernetes.io/instance') ? first : undefined;
    };

    // imagePullSecrets: names of Secrets you create; global.imagePullSecrets come first.
    const pullSecrets = agreed('imagePullSecrets');
    const pullSecretNames: string[] = Array.isArray(pullSecrets) ? pullSecrets.map((s: { name: string }) => s.name) : [];
    const inChart = pullSecretNames.some((n) => c.objects.some((o) => o.kind === 'Secret' && o.name === n) || c.secrets.some((s) => s.secret.name === n));
    const samePullSecrets = workloads.every((w) => isDeepStrictEqual(w.pod.imagePullSecrets, workloads[0].pod.imagePullSecrets));
    if (!inChart && samePullSecrets) {
      add(root, 'imagePullSecrets', 'Names of Secrets (type kubernetes.io/dockerconfigjson) to pull these images with, after global.imagePullSecrets',
        { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 253, pattern: OBJECT_NAME } }, pullSecretNames,
        workloads.map((w) => podField(w, 'imagePullSecrets', false)), ['registry-credentials']);
      for (const w of workloads) {
        decorate(w.o, (node) => replaceEntry(mapAt(node, [...w.template, 'spec']), 'imagePullSecrets', (indent) =>
          `{{- include "${chartName}.imagePullSecrets" (list $ ${v}.imagePullSecrets) | nindent ${indent} }}`));
      }
    }

    // Scheduling: the synthesized value is the default when every pod of the construct agrees on it and it doesn't
    // name the release; otherwise the value overrides (empty keeps what each pod synthesized).
    const scheduling: ReadonlyArray<{ key: string; valueKey?: string; schema: JsonSchema; empty: unknown; example: unknown; override?: boolean; what: string }> = [
      { key: 'nodeSelector', schema: { type: 'object', additionalProperties: { type: 'string', maxLength: 63, pattern: LABEL_VALUE }, propertyNames: { pattern: QUALIFIED_NAME } }, empty: {}, example: { 'kubernetes.io/os': 'linux' }, what: 'Node labels these pods must run on' },
      { key: 'tolerations', schema: { type: 'array', items: { type: 'object' } }, empty: [], example: [{ key: 'dedicated', operator: 'Equal', value: 'scalecharts', effect: 'NoSchedule' }], what: 'Tolerations of these pods' },
      { key: 'priorityClassName', schema: { type: 'string', maxLength: 253, pattern: OBJECT_NAME }, empty: '', example: 'high-priority', what: 'PriorityClass of these pods' },
      { key: 'affinity', schema: { type: 'object' }, empty: {}, example: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }] } } }, override: true, what: 'Affinity of these pods; empty keeps the construct\'s (anti-affinity across nodes), anything else replaces it' },
      { key: 'topologySpreadConstraints', schema: { type: 'array', items: { type: 'object', required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] } }, empty: [], example: [{ maxSkew: 2, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'example' } } }], override: true, what: 'Topology spread constraints; empty keeps the construct\'s (zones and nodes, soft), anything else replaces them' },
    ];
    for (const s of scheduling) {
      const value = s.override ? undefined : agreed(s.key);
      const replace = !s.override && workloads.every((w) => isDeepStrictEqual(w.pod[s.key], workloads[0].pod[s.key])) && (workloads[0].pod[s.key] === undefined || value !== undefined);
      const def = replace ? (value ?? s.empty) : s.empty;
      add(root, s.key, `${s.what}${replace ? '' : s.override ? '' : ' (empty keeps what each pod synthesized)'}`, s.schema, def,
        // Helm merges a map given with --set into a non-empty default map: exact only from an empty one.
        workloads.map((w) => podField(w, s.key, !(def && typeof def === 'object' && !Array.isArray(def) && Object.keys(def).length > 0))), s.example);
      for (const w of workloads) {
        decorate(w.o, (node) => {
          const spec = mapAt(node, [...w.template, 'spec']);
          if (replace) {
            replaceEntry(spec, s.key, () => `{{- with ${v}.${s.key} }}\n${'{{INDENT}}'}${s.key}: {{ toJson . }}\n${'{{INDENT}}'}{{- end }}`);
          } else {
            overrideEntry(spec, s.key, `${v}.${s.key}`);
          }
        });
      }
    }

    // Pod labels and annotations: added to the construct's (which they may not redefine).
    const meta = (w: PodWorkload) => at(w.o.json, [...w.template, 'metadata']) ?? {};
    const existingLabels = [...new Set(workloads.flatMap((w) => Object.keys(meta(w).labels ?? {})).concat('app.kubernetes.io/instance', 'app.kubernetes.io/managed-by'))].sort();
    const existingAnnotations = [...new Set(workloads.flatMap((w) => Object.keys(meta(w).annotations ?? {})))].sort();
    const mapSchema = (values: JsonSchema, refused: string[]): JsonSchema => ({
      type: 'object', additionalProperties: values,
      propertyNames: { pattern: QUALIFIED_NAME, ...(refused.length ? { not: { enum: refused } } : {}) },
    });
    add(root, 'podLabels', `Labels added to these pods (not ${existingLabels.join(', ')}: the construct sets those)`,
      mapSchema({ type: 'string', maxLength: 63, pattern: LABEL_VALUE }, existingLabels), {},
      workloads.map((w) => field(w.o, [...w.template, 'metadata', 'labels'], false)), { [unused('chart-extra', existingLabels)]: 'yes' });
    add(root, 'podAnnotations', `Annotations added to these pods${existingAnnotations.length ? ` (not ${existingAnnotations.join(', ')}: the construct sets those)` : ''}`,
      mapSchema({ type: 'string' }, existingAnnotations), {},
      workloads.map((w) => field(w.o, [...w.template, 'metadata', 'annotations'], existingAnnotations.length === 0)), { [unused('example.com/chart-extra', existingAnnotations)]: 'yes' });
    for (const w of workloads) {
      decorate(w.o, (node) => {
        const m = mapAt(node, [...w.template, 'metadata']);
        appendToMap(m, 'labels', `${v}.podLabels`);
        appendToMap(m, 'annotations', `${v}.podAnnotations`);
      });
    }

    // Extra env of the main (first) container: sidecars (exporters) don't get the app's settings.
    const mainEnv = [...new Set(workloads.flatMap((w) => ((w.pod.containers?.[0]?.env ?? []) as Array<{ name: string }>).map((e) => e.name)))].sort();
    add(root, 'extraEnvVars', `Env vars added to the main container (${mainEnv.length ? `not ${mainEnv.join(', ')}: the construct sets those; ` : ''}valueFrom takes the downward API, secretKeyRef, configMapKeyRef)`,
      { type: 'array', items: { type: 'object', required: ['name'], additionalProperties: false, not: { required: ['value', 'valueFrom'] }, properties: { name: { type: 'string', pattern: ENV_NAME, ...(mainEnv.length ? { not: { enum: mainEnv } } : {}) }, value: { type: 'string' }, valueFrom: { type: 'object' } } } },
      [], workloads.map((w) => field(w.o, [...w.template, 'spec', 'containers', 0, 'env'], false)),
      [{ name: 'EXTRA_FLAG', value: 'on' }, { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    add(root, 'extraEnvVarsSecret', 'Name of a Secret whose keys become env vars of the main container (envFrom)', { type: 'string', maxLength: 253, pattern: OBJECT_NAME }, '',
      workloads.map((w) => field(w.o, [...w.template, 'spec', 'containers', 0, 'envFrom'], false)), 'app-extra-env');
    add(root, 'extraEnvVarsCM', 'Name of a ConfigMap whose keys become env vars of the main container (envFrom)', { type: 'string', maxLength: 253, pattern: OBJECT_NAME }, '',
      workloads.map((w) => field(w.o, [...w.template, 'spec', 'containers', 0, 'envFrom'], false)), 'app-extra-config');
    add(root, 'extraEnvFrom', 'envFrom sources added to the main container', { type: 'array', items: { type: 'object' } }, [],
      workloads.map((w) => field(w.o, [...w.template, 'spec', 'containers', 0, 'envFrom'], false)), [{ secretRef: { name: 'more-env' } }]);
    for (const w of workloads) {
      decorate(w.o, (node) => {
        const container = mapAt(node, [...w.template, 'spec', 'containers', 0]);
        appendToList(container, 'env', `(${v}.extraEnvVars)`);
        appendToList(container, 'envFrom', `(include "${chartName}.extraEnvFrom" ${v} | fromYamlArray)`);
      });
    }

    // ServiceAccount: only for pods that don't already run as one the construct made (Patroni's, with its RBAC).
    if (workloads.every((w) => w.pod.serviceAccountName === undefined)) {
      const saName = saDefaultName(workloads[0].o, c);
      const path = `${root}.serviceAccount`;
      entries.push({ path: `${path}.create`, description: `Create a ServiceAccount (<release>-${saName} unless serviceAccount.name is set) and run these pods as it`, schema: { type: 'boolean' }, default: false });
      add(root, 'serviceAccount.name', 'ServiceAccount these pods run as (created when serviceAccount.create is true; yours otherwise); empty: the namespace default, or <release>-' + saName + ' when created',
        { type: 'string', maxLength: 253, pattern: OBJECT_NAME }, '', workloads.map((w) => podField(w, 'serviceAccountName', true)), 'app-identity');
      entries.push({ path: `${path}.annotations`, description: 'Annotations of the created ServiceAccount (e.g. eks.amazonaws.com/role-arn); only with serviceAccount.create', schema: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: QUALIFIED_NAME } }, default: {} });
      switches.push({ path: `${path}.create`, default: false, objects: [`ServiceAccount/${saName}`], description: 'ServiceAccount' });
      // Annotations (an IAM role) on a ServiceAccount the chart doesn't create would be silently ignored.
      schemaPatches.push({ path, patch: { if: { properties: { create: { const: false } } }, then: { properties: { annotations: { maxProperties: 0 } } } } });
      const nameExpr = `include "${chartName}.serviceAccountName" (list $ ${v}.serviceAccount ${JSON.stringify(saName)})`;
      for (const w of workloads) {
        accountValues.set(w.o, v);
        decorate(w.o, (node) => replaceEntry(mapAt(node, [...w.template, 'spec']), 'serviceAccountName', () =>
          `{{- with ${nameExpr} }}\n{{INDENT}}serviceAccountName: {{ . | quote }}\n{{INDENT}}{{- end }}`));
      }
      const file = workloads[0].o.file;
      extraTemplates.set(file, (extraTemplates.get(file) ?? '') + serviceAccountTemplate(chartName, v, nameExpr, saName, c.namespace !== undefined));
    }
  }

  // Every container image: global.imageRegistry replaces (or adds) the registry.
  for (const o of c.objects) {
    const template = podTemplatePath(o.kind);
    if (!template) continue;
    decorate(o, (node) => {
      const spec = mapAt(node, [...template, 'spec']);
      for (const list of ['initContainers', 'containers']) {
        for (const ct of (Array.isArray(spec[list]) ? spec[list] : []) as Array<{ [key: string]: Node }>) ct.image = withRegistry(ct.image, chartName);
      }
    });
  }
  const globalEntries: ValueEntry[] = [
    { path: 'global.imageRegistry', description: 'Registry (host[:port][/path]) every image is pulled from instead of its own: a mirror or a proxy cache', schema: { type: 'string', pattern: REGISTRY }, default: '', section: 'Shared with subcharts (a parent chart\'s global values)' },
    { path: 'global.imagePullSecrets', description: 'Secrets (names) every pod pulls its images with, before each workload\'s imagePullSecrets', schema: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253, pattern: OBJECT_NAME } }, default: [] },
  ];

  return {
    knobs, entries, infos, switches, extraTemplates, globalEntries, schemaPatches,
    decorate: (o, node) => {
      for (const f of decorations.get(o) ?? []) f(node);
      ingress.decorate(o, node);
    },
    guard: (o) => {
      const g = [...(guards.get(o) ?? []), ...[ingress.guard(o)].filter((x): x is string => x !== undefined)];
      return g.length ? (g.length === 1 ? g[0] : `and ${g.join(' ')}`) : undefined;
    },
    ingressNotes: () => ingress.notes(),
    replicasWhenNotAutoscaled: (o) => replicas.get(o),
    createdAccountValues: (o) => accountValues.get(o),
    helpers: (name) => helpersText(name) + ingressHelpers(name),
  };
}

/** `base`, or `base-2`, `base-3`… whichever `taken` doesn't hold: an example key the construct doesn't set. */
function unused(base: string, taken: readonly string[]): string {
  let key = base;
  for (let i = 2; taken.includes(key); i++) key = `${base}-${i}`;
  return key;
}

function saDefaultName(o: CollectedObject, c: Collected): string {
  const label = o.json.metadata?.labels?.['app.kubernetes.io/name'];
  const base = typeof label === 'string' ? label : o.name;
  return c.objects.some((x) => x.kind === 'ServiceAccount' && x.name === base) ? `${base}-sa` : base;
}

function serviceAccountTemplate(chartName: string, v: string, nameExpr: string, name: string, namespaced: boolean): string {
  return [
    `{{- if ${v}.serviceAccount.create }}`,
    '---',
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata:',
    `  name: {{ ${nameExpr} | quote }}`,
    ...(namespaced ? ['  namespace: "{{ .Release.Namespace }}"'] : []),
    '  labels:',
    `    app.kubernetes.io/name: ${name}`,
    `    app.kubernetes.io/part-of: ${chartName}`,
    `    {{- include "${chartName}.labels" . | nindent 4 }}`,
    `  {{- with ${v}.serviceAccount.annotations }}`,
    '  annotations: {{- toYaml . | nindent 4 }}',
    '  {{- end }}',
    '# The pods mount no token unless the construct asked for one; a workload identity webhook adds its own.',
    'automountServiceAccountToken: false',
    '{{- end }}',
    '',
  ].join('\n');
}

function helpersText(name: string): string {
  return `
{{/* An image with global.imageRegistry in place of its registry: (list $ "<image>"). */}}
{{- define "${name}.image" -}}
{{- $image := index . 1 -}}
{{- $registry := ((index . 0).Values.global).imageRegistry -}}
{{- if $registry -}}
{{- $first := regexFind "^[^/]+/" $image -}}
{{- if and $first (regexMatch "^(localhost|[^/]*[.:][^/]*)/$" $first) -}}{{- $image = trimPrefix $first $image -}}{{- end -}}
{{- printf "%s/%s" (trimSuffix "/" $registry) $image -}}
{{- else -}}
{{- $image -}}
{{- end -}}
{{- end }}

{{/* imagePullSecrets of a pod: global.imagePullSecrets, then the workload's (names; duplicates once). */}}
{{- define "${name}.imagePullSecrets" -}}
{{- $names := uniq (concat ((index . 0).Values.global.imagePullSecrets | default list) (index . 1 | default list)) -}}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* envFrom entries of a workload's extraEnvVarsSecret, extraEnvVarsCM and extraEnvFrom (a YAML list). */}}
{{- define "${name}.extraEnvFrom" -}}
{{- $out := list -}}
{{- with .extraEnvVarsSecret }}{{- $out = append $out (dict "secretRef" (dict "name" .)) -}}{{- end }}
{{- with .extraEnvVarsCM }}{{- $out = append $out (dict "configMapRef" (dict "name" .)) -}}{{- end }}
{{- $out = concat $out (.extraEnvFrom | default list) -}}
{{- toYaml $out -}}
{{- end }}

{{/* The ServiceAccount pods run as: (list $ <serviceAccount values> "<default name>"); empty: the namespace default. */}}
{{- define "${name}.serviceAccountName" -}}
{{- $sa := index . 1 -}}
{{- if $sa.name -}}{{- $sa.name -}}{{- else if $sa.create -}}{{- printf "%s-%s" (index . 0).Release.Name (index . 2) -}}{{- end -}}
{{- end }}
`;
}

/** The image, through `<chart>.image` (global.imageRegistry). */
function withRegistry(image: Node, chartName: string): Node {
  let arg: string;
  if (typeof image === 'string') arg = JSON.stringify(image);
  else if (image instanceof Templated && !image.actions.some((a) => /^(range|if|else|end|with)\b/.test(a.expr))) {
    const parts = image.parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : `(${p.expr})`));
    arg = parts.length === 1 && image.type === undefined ? parts[0] : `(print ${parts.join(' ')})`;
  } else {
    return image;
  }
  return Templated.typed(`include "${chartName}.image" (list $ ${arg})`, 'string');
}

/** README sections on the switches, the pod values and when each check runs. */
export function conventionalReadme(switches: readonly SwitchInfo[], hasRules: boolean): string[] {
  const out: string[] = [];
  if (switches.length > 0) {
    out.push('## Switches', '',
      'Each switch renders or leaves out whole objects (the rest of the release is unchanged):', '',
      '| Key | Default | Objects |', '|---|---|---|',
      ...switches.map((s) => `| \`${s.path}\` | \`${s.default}\` | ${s.objects.join(', ')} |`), '',
      '`autoscaling.enabled: false` removes the autoscaler and runs `replicas` pods. With the autoscaler on, `replicas` is',
      'ignored: a first install starts at the autoscaler\'s floor (`minReplicas`), and an upgrade writes back the live',
      'count (`lookup`), so neither resets what the autoscaler chose. Switching it off in an upgrade sets `replicas`.',
      '`metrics.serviceMonitor.enabled` applies only while `metrics.enabled` (and the `crds.prometheusOperator` toggle) allow.', '');
    if (switches.some((s) => s.alsoChanges !== undefined)) {
      out.push('`ingress.enabled` renders an Ingress from `ingress.hosts` (`[{ host, paths: [{ path, pathType }] }]`, as in',
        '`helm create`; paths default to `/` Prefix, so `--set <workload>.ingress.hosts[0].host=…` is enough), `ingress.tls` (`[{ secretName, hosts }]`), `ingress.className` and `ingress.annotations`, every path to',
        'the Service\'s `http` port, and lets the ingress controller through the workload\'s NetworkPolicy (off: the policy',
        'no longer admits it). Where the construct declared no Ingress, the default host `<name>.example.com` is an example:',
        'set yours. A TLS `secretName` listed under "Secrets to create" is read as the release\'s; any other as written.', '');
    }
  }
  out.push('## Pod values', '',
    'Every workload takes the values operators know from Bitnami charts and `helm create`: `image.pullPolicy`,',
    '`imagePullSecrets` (after `global.imagePullSecrets`), `podLabels` and `podAnnotations` (added to the construct\'s,',
    'which they may not redefine), `nodeSelector`, `tolerations`, `priorityClassName`, `affinity` and',
    '`topologySpreadConstraints` (empty keeps the construct\'s spread and anti-affinity; anything else replaces them),',
    '`extraEnvVars` (downward API included), `extraEnvVarsSecret`, `extraEnvVarsCM`, `extraEnvFrom` (main container only),',
    'and `serviceAccount.create` / `name` / `annotations`. `global.imageRegistry` replaces the registry of every image',
    '(or adds one to Docker Hub names; the path stays as written, e.g. `postgres:17` → `<registry>/postgres:17`).', '',
    '## When invalid values are caught', '',
    '- `helm lint --strict`, `helm template` and `helm install` all check values.schema.json: types, ranges, patterns,',
    '  unknown keys, labels or env vars the construct already sets, `value` together with `valueFrom`, and',
    '  `serviceAccount.annotations` without `serviceAccount.create`.',
    `- Only \`helm template\` and \`helm install\`/\`upgrade\` run the template \`fail\` checks (\`helm lint\` ignores them): min ≤ max`,
    `  pairs, requests ≤ limits, refused image tags, the release-name length${switches.some((s) => s.alsoChanges !== undefined) ? ', an Ingress\'s TLS host outside its `hosts` or a host listed twice' : ''}${hasRules ? ', and the rules across a construct\'s values (pool budget, quorum)' : ''}.`,
    '  Run `helm template` in CI to catch them before an install.', '');
  return out;
}
