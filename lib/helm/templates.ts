/**
 * Turns each synthesized object into template text: knob targets become `{{ .Values.… }}`, names and references
 * become release-prefixed, Helm's labels join the object's own, Argo CD hooks become Helm hooks, and objects of
 * optional CRDs are wrapped in their toggle.
 */
import type { ApiObject } from 'cdk8s';
import type { KnobTarget } from '../knobs';
import type { CollectedKnob, CollectedObject, Json } from './collect';
import type { FieldRef, HookInfo } from './model';
import { NameIndex, NamedObject, RELEASE_NAME, RELEASE_NAMESPACE, referencedKind, rewriteText } from './names';
import { Node, Part, RawEntry, ScalarType, Templated, emitYaml, parseTemplate } from './yaml';
import type { Conventional } from './conventional';
import { ARGO_HOOK, ARGO_SYNC_WAVE, WaitFor, waitContainer } from './migration-order';

export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

const ARGO_DELETE_POLICY = 'argocd.argoproj.io/hook-delete-policy';
const DELETE_POLICIES: Record<string, string> = {
  BeforeHookCreation: 'before-hook-creation', HookSucceeded: 'hook-succeeded', HookFailed: 'hook-failed',
};

/** API groups every Kubernetes 1.28 cluster serves; objects of any other group need a CRD and get a toggle. */
const BUILTIN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io',
  'scheduling.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'admissionregistration.k8s.io',
  'apiextensions.k8s.io', 'certificates.k8s.io', 'node.k8s.io', 'flowcontrol.apiserver.k8s.io', 'events.k8s.io',
]);
/** Toggle names for the CRD groups our constructs use; other groups get their group name in camelCase. */
const CRD_TOGGLES: Record<string, string> = { 'monitoring.coreos.com': 'prometheusOperator', 'keda.sh': 'keda' };

export function apiGroup(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

export function crdToggleName(group: string): string | undefined {
  if (BUILTIN_GROUPS.has(group)) return undefined;
  return CRD_TOGGLES[group] ?? group.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
}

export function schemaScalarType(type: string): ScalarType {
  return type === 'array' || type === 'object' ? 'json' : (type as ScalarType);
}

/** A knob target resolved to the knob it belongs to. */
interface BoundTarget {
  readonly knob: CollectedKnob;
  readonly target: KnobTarget;
}

export interface TemplateContext {
  readonly chartName: string;
  readonly index: NameIndex;
  readonly targets: ReadonlyMap<ApiObject, readonly BoundTarget[]>;
  /** Declared references per object: JSON path (joined) → names. */
  readonly declared: ReadonlyMap<ApiObject, ReadonlyMap<string, ReadonlySet<string>>>;
  /** Objects that are hooks (`Kind/name`), so that a hook's dependency on them doesn't count. */
  readonly hookKeys: ReadonlySet<string>;
  /** Every label set of the chart's objects and pod templates, as synthesized. */
  readonly labelSets: ReadonlyArray<Record<string, string>>;
  /** Workloads (`Kind/name`) whose replica count an HPA or a KEDA ScaledObject of the chart owns. */
  readonly autoscaled: ReadonlySet<string>;
  /** The conventional values (pod values, switches) the writer adds to every workload. */
  readonly conventional?: Conventional;
  /** Migration hooks whose database is in the chart: the Services each waits for (lib/helm/migration-order.ts). */
  readonly waits?: ReadonlyMap<CollectedObject, readonly WaitFor[]>;
}

export interface ObjectTemplate {
  readonly text: string;
  readonly hook?: HookInfo;
  readonly crdToggle?: { readonly name: string; readonly group: string };
}

export function bindTargets(knobs: readonly CollectedKnob[]): Map<ApiObject, BoundTarget[]> {
  const out = new Map<ApiObject, BoundTarget[]>();
  for (const knob of knobs) {
    for (const target of knob.spec.targets) {
      const list = out.get(target.object) ?? [];
      list.push({ knob, target });
      out.set(target.object, list);
    }
  }
  return out;
}

/**
 * `$.Values.<root>` for `$values`, `$.Values.<path>` for `$value`: rooted at `$`, so they still work inside a
 * `range` or `with` of the knob's own template.
 */
function substituteValues(knob: CollectedKnob): (expr: string) => string {
  return (expr) => expr.replace(/\$values\b/g, `$.Values.${knob.root}`).replace(/\$value\b/g, `$.Values.${knob.path}`);
}

/** Values (other knobs of the same construct) a target's template reads. */
export function templateReads(knob: CollectedKnob, target: KnobTarget): string[] {
  if (!target.template) return [knob.path];
  const reads = new Set<string>();
  for (const m of target.template.matchAll(/\$values\.([A-Za-z0-9.]+[A-Za-z0-9])/g)) reads.add(`${knob.root}.${m[1]}`);
  if (/\$value\b/.test(target.template)) reads.add(knob.path);
  return [...reads];
}

export function fieldRef(o: { kind: string; name: string }, target: KnobTarget): FieldRef {
  return { kind: o.kind, name: o.name, path: target.path, exact: !target.template && !target.fragment };
}

/** The template text of one object (a YAML document starting with `---`, inside its guard when it has one). */
export function templateObject(o: CollectedObject, ctx: TemplateContext): ObjectTemplate {
  const tree: Json = structuredClone(o.json);
  applyKnobs(o, tree, ctx.targets.get(o.apiObject) ?? []);
  const waits = ctx.waits?.get(o) ?? [];
  if (waits.length > 0) {
    const pod = tree.spec.template.spec;
    pod.initContainers = [...waits.map((w) => waitContainer(w, o.json.spec.template.spec)), ...(pod.initContainers ?? [])];
    waits.forEach((w, i) => {
      // The wait runs in the database's image: follow that image's knobs too.
      const image = (ctx.targets.get(w.workload.apiObject) ?? []).find((b) => JSON.stringify(b.target.path) === JSON.stringify(['spec', 'template', 'spec', 'containers', 0, 'image']));
      if (image) pod.initContainers[i].image = wholeField(image, pod.initContainers[i].image);
    });
  }
  if (ctx.autoscaled.has(`${o.kind}/${o.name}`) && tree.spec?.replicas !== undefined) {
    tree.spec.replicas = replicasUnderAutoscaler(o, tree.spec.replicas, ctx);
  }

  const refs = new Map<string, NamedObject>();
  const self = ctx.index.lookup(o.kind, o.name);
  if (!self) throw new Error(`helm chart writer: ${o.kind}/${o.name} is missing from the name index`);
  const state: WalkState = {
    kind: o.kind, index: ctx.index, self,
    declared: ctx.declared.get(o.apiObject) ?? new Map(),
    onReference: (r) => { if (r !== self) refs.set(`${r.kind}/${r.name}`, r); },
    chartName: ctx.chartName,
    labelSets: ctx.labelSets,
  };
  const node = walk(tree, [], undefined, state) as { [key: string]: Node };
  ctx.conventional?.decorate(o, node);

  let hook: HookInfo | undefined;
  const annotations = (node.metadata as Record<string, Node> | undefined)?.annotations as Record<string, Node> | undefined;
  if (annotations && typeof annotations[ARGO_HOOK] === 'string') {
    const dependsOn = [...refs.keys(), ...waits.map((w) => `Service/${w.service.name}`)].filter((k, i, all) => !ctx.hookKeys.has(k) && all.indexOf(k) === i);
    hook = helmHook(o, annotations, dependsOn, ctx.conventional?.createdAccountValues(o));
  }
  const group = apiGroup(o.apiVersion);
  const toggle = crdToggleName(group);
  let text = `---\n${emitYaml(node)}`;
  if (toggle) {
    text = `{{- if include "${ctx.chartName}.crdEnabled" (list . ${JSON.stringify(toggle)} ${JSON.stringify(`${o.apiVersion}/${o.kind}`)}) }}\n${text}{{- end }}\n`;
  }
  const guard = ctx.conventional?.guard(o);
  if (guard) text = `{{- if ${guard} }}\n${text}{{- end }}\n`;
  return { text, hook, crdToggle: toggle ? { name: toggle, group } : undefined };
}

/**
 * Workloads an autoscaler of the chart scales: `HorizontalPodAutoscaler.spec.scaleTargetRef` and KEDA's
 * `ScaledObject.spec.scaleTargetRef` (whose kind defaults to Deployment).
 */
export function autoscaledWorkloads(objects: readonly CollectedObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    const ref = o.json.spec?.scaleTargetRef;
    if ((o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') && typeof ref?.name === 'string') {
      out.add(`${ref.kind ?? 'Deployment'}/${ref.name}`);
    }
  }
  return out;
}

/** The synthesized count (a number or its knob) at install; the live count on upgrade (see `<chart>.replicas`). */
function replicasUnderAutoscaler(o: CollectedObject, current: unknown, ctx: TemplateContext): Templated {
  let floor: string;
  if (typeof current === 'number') floor = String(current);
  else if (current instanceof Templated && current.type && current.actions.length === 1) floor = `(${current.actions[0].expr})`;
  else throw new Error(`helm chart writer: ${o.kind}/${o.name} spec.replicas must be a number or one knob's value`);
  const name = `(printf "%s-%s" ${RELEASE_NAME} ${JSON.stringify(o.name)})`;
  const scaled = `include "${ctx.chartName}.replicas" (list $ ${JSON.stringify(o.apiVersion)} ${JSON.stringify(o.kind)} ${name} ${floor})`;
  // With autoscaling switched off, the fixed count of `replicas`.
  const fixed = ctx.conventional?.replicasWhenNotAutoscaled(o);
  return Templated.typed(fixed ? `ternary (${scaled}) ${fixed.replicas} ${fixed.enabled}` : scaled, 'integer');
}

/** Replaces every knob target of `o` with its template. */
function applyKnobs(o: CollectedObject, tree: Json, bound: readonly BoundTarget[]): void {
  const byPath = new Map<string, BoundTarget[]>();
  for (const b of bound) {
    const key = JSON.stringify(b.target.path);
    byPath.set(key, [...(byPath.get(key) ?? []), b]);
  }
  for (const group of byPath.values()) {
    const path = group[0].target.path;
    const where = `knob ${group.map((g) => g.knob.path).join(', ')} targets ${o.kind}/${o.name} ${path.join('.')}`;
    const { parent, key } = locate(tree, path, where);
    const current = parent[key];
    const whole = group.filter((g) => !g.target.fragment);
    if (whole.length > 0) {
      if (group.length > 1) throw new Error(`helm chart writer: ${where}, which more than one knob sets`);
      parent[key] = wholeField(whole[0], current);
      continue;
    }
    if (typeof current !== 'string') throw new Error(`helm chart writer: ${where} with a fragment, but the field is not a string`);
    const spans = group.map((g) => {
      const fragment = g.target.fragment!;
      const at = current.indexOf(fragment);
      if (at < 0 || current.indexOf(fragment, at + 1) >= 0) {
        throw new Error(`helm chart writer: ${where}: fragment ${JSON.stringify(fragment)} must occur exactly once in the field`);
      }
      return { at, end: at + fragment.length, g };
    }).sort((a, b) => a.at - b.at);
    const parts: Part[] = [];
    let last = 0;
    for (const s of spans) {
      if (s.at < last) throw new Error(`helm chart writer: ${where}: fragments overlap`);
      parts.push(current.slice(last, s.at), ...fragmentParts(s.g));
      last = s.end;
    }
    parts.push(current.slice(last));
    parent[key] = Templated.text(parts);
  }
}

function locate(tree: Json, path: ReadonlyArray<string | number>, where: string): { parent: Json; key: string | number } {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    node = node?.[path[i]];
    if (node === undefined || node === null || typeof node !== 'object') break;
  }
  const key = path[path.length - 1];
  if (path.length === 0 || node === null || typeof node !== 'object' || !(key in node)) {
    throw new Error(`helm chart writer: ${where}, which the object does not have`);
  }
  return { parent: node, key };
}

function wholeField(b: BoundTarget, current: unknown): Templated {
  const subst = substituteValues(b.knob);
  if (!b.target.template) return Templated.typed(`.Values.${b.knob.path}`, schemaScalarType(b.knob.spec.schema.type));
  const parts = parseTemplate(b.target.template, subst);
  if (parts.length === 1 && typeof parts[0] !== 'string') {
    const type: ScalarType = typeof current === 'number' ? (Number.isInteger(current) ? 'integer' : 'number')
      : typeof current === 'boolean' ? 'boolean' : typeof current === 'string' ? 'string' : 'json';
    return Templated.typed(parts[0].expr, type);
  }
  return Templated.text(parts);
}

function fragmentParts(b: BoundTarget): Part[] {
  const type = b.knob.spec.schema.type;
  if (b.target.template) {
    const numeric = type === 'integer' || type === 'number' || type === 'boolean';
    return parseTemplate(b.target.template, substituteValues(b.knob)).map((p) => (typeof p === 'string' ? p : { ...p, safe: numeric }));
  }
  const value = `.Values.${b.knob.path}`;
  switch (type) {
    case 'integer': return [{ expr: `int ${value}`, safe: true }];
    case 'number': case 'boolean': return [{ expr: value, safe: true }];
    case 'string': return [{ expr: value, safe: false }];
    default: return [{ expr: `toJson ${value}`, safe: false }];
  }
}

interface WalkState {
  readonly kind: string;
  readonly index: NameIndex;
  readonly self: NamedObject;
  readonly declared: ReadonlyMap<string, ReadonlySet<string>>;
  readonly onReference: (o: NamedObject) => void;
  readonly chartName: string;
  readonly labelSets: ReadonlyArray<Record<string, string>>;
}

type Path = ReadonlyArray<string | number>;

function isPlainMap(v: unknown): v is Record<string, Node> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Templated) && !(v instanceof RawEntry);
}

function releaseNameValue(): Templated {
  return Templated.typed(RELEASE_NAME, 'string');
}

function walk(value: Node, path: Path, parent: Record<string, Node> | Node[] | undefined, st: WalkState): Node {
  if (value instanceof Templated) return value.type ? value : rewriteTemplated(value, path, parent, st);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], value, st));
  if (isPlainMap(value)) {
    if (isLabelMap(path, st.kind)) return rewriteLabels(value, path, st);
    const out: Record<string, Node> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, [...path, k], value, st);
    // `matchExpressions: [{ key: app.kubernetes.io/instance, operator: In, values: [...] }]`
    if (path[path.length - 2] === 'matchExpressions' && value.key === INSTANCE_LABEL && Array.isArray(value.values)) {
      out.values = value.values.map(() => releaseNameValue());
    }
    if (path.length === 1 && path[0] === 'metadata' && !('labels' in out)) out.labels = rewriteLabels({}, ['metadata', 'labels'], st);
    return out;
  }
  if (typeof value === 'string') return rewriteString(value, path, parent, st);
  return value;
}

/** Label maps: object labels, pod template labels, selectors (of pods and Services; not of namespaces). */
function isLabelMap(path: Path, kind: string): boolean {
  const key = path[path.length - 1];
  if (key === 'labels' && path[path.length - 2] === 'metadata') return true;
  return isSelector(path, kind);
}

function isSelector(path: Path, kind: string): boolean {
  if (path.includes('namespaceSelector')) return false;
  const key = path[path.length - 1];
  if (key === 'matchLabels') return true;
  return kind === 'Service' && path.length === 2 && path[0] === 'spec' && key === 'selector';
}

const selects = (selector: Record<string, Node>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The instance label becomes the release name and managed-by becomes Helm, wherever they appear. Pod templates
 * without an instance label get one, and so does every selector that selects pods of the chart without naming
 * an instance (`app.kubernetes.io/part-of: shop` in a NetworkPolicy): a release selects only its own pods. The
 * object's own labels also get `helm.sh/chart`, through the chart's labels helper.
 */
function rewriteLabels(labels: Record<string, Node>, path: Path, st: WalkState): Record<string, Node> {
  const topLevel = path.length === 2 && path[0] === 'metadata';
  const selector = isSelector(path, st.kind);
  const out: Record<string, Node> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (topLevel && (k === INSTANCE_LABEL || k === MANAGED_BY_LABEL)) continue;
    if (k === INSTANCE_LABEL) out[k] = releaseNameValue();
    else if (k === MANAGED_BY_LABEL) out[k] = Templated.typed('.Release.Service', 'string');
    else out[k] = v;
  }
  if (!(INSTANCE_LABEL in labels) && !topLevel && (!selector || st.labelSets.some((l) => selects(labels, l)))) {
    out[INSTANCE_LABEL] = releaseNameValue();
  }
  if (topLevel) out['$helm-labels'] = helmLabels(st.chartName);
  return out;
}

export function helmLabels(chartName: string): RawEntry {
  return new RawEntry((indent) => `{{- include "${chartName}.labels" . | nindent ${indent} }}`);
}

/** Keys whose string values are never names of other objects nor free text with host names. */
const NOT_TEXT = new Set(['name', 'kind', 'apiVersion', 'image', 'imagePullPolicy', 'mountPath', 'subPath', 'key', 'type', 'operator', 'protocol', 'topologyKey', 'fieldPath', 'resource', 'restartPolicy', 'pathType', 'scheme', 'whenUnsatisfiable']);

function rewriteString(value: string, path: Path, parent: Record<string, Node> | Node[] | undefined, st: WalkState): Node {
  const key = path[path.length - 1];
  const parentKey = path[path.length - 2];
  const grandKey = path[path.length - 3];
  const ns = st.index.namespace;
  if (path.length === 2 && path[0] === 'metadata' && key === 'name') return Templated.text(st.self.parts);
  if (ns !== undefined && value === ns && (key === 'namespace' || parentKey === 'matchNames')) {
    return Templated.text([{ expr: RELEASE_NAMESPACE, safe: true }]);
  }
  if (typeof key === 'string' && isPlainMap(parent)) {
    const kind = referencedKind(key, parent, parentKey, grandKey);
    if (kind) {
      const target = st.index.lookup(kind, value);
      if (!target) return value; // an object the user creates (a Secret they name): left as it is
      st.onReference(target);
      return Templated.text(target.parts);
    }
  }
  if (typeof key === 'string' && NOT_TEXT.has(key)) return value;
  if (st.kind === 'Ingress' && (key === 'host' || parentKey === 'hosts')) return value; // public DNS names
  const parts = rewriteText(value, st.index, textContext(path, parent, st));
  return parts ? Templated.text(parts) : value;
}

function rewriteTemplated(t: Templated, path: Path, parent: Record<string, Node> | Node[] | undefined, st: WalkState): Templated {
  const ctx = textContext(path, parent, st);
  const parts = t.parts.flatMap((p) => (typeof p === 'string' ? rewriteText(p, st.index, ctx) ?? [p] : [p]));
  return Templated.text(parts);
}

function textContext(path: Path, parent: Record<string, Node> | Node[] | undefined, st: WalkState) {
  const envName = path[path.length - 1] === 'value' && path[path.length - 3] === 'env' && isPlainMap(parent) && typeof parent.name === 'string'
    ? parent.name : undefined;
  // Host names in text don't stop a pod from starting, so they don't decide when a hook can run.
  return { envName, declared: st.declared.get(JSON.stringify(path)) };
}

/** Argo CD hook annotations (how plain manifests order a migration) → the Helm hook that does the same. */
function helmHook(o: CollectedObject, annotations: Record<string, Node>, dependsOn: string[], accountValues?: string): HookInfo {
  const phase = annotations[ARGO_HOOK];
  let hook: string;
  if (phase === 'PreSync' || phase === 'Sync') {
    // A migration: PreSync, or Sync in a wave after an in-chart database (lib/workloads/argo-order.ts). Before install the chart's own Secrets, ConfigMaps and Services don't exist yet: a hook that needs them
    // would wait forever (or, for a database Service, fail), so it runs right after install instead (and still
    // before every upgrade); a database it connects to is waited for by an init container.
    hook = dependsOn.length > 0 ? 'post-install,pre-upgrade' : 'pre-install,pre-upgrade';
  } else if (phase === 'PostSync') {
    hook = 'post-install,post-upgrade';
  } else {
    throw new Error(`helm chart writer: ${o.kind}/${o.name}: Argo CD hook ${String(phase)} has no Helm equivalent (PreSync, Sync and PostSync do)`);
  }
  const wave = annotations[ARGO_SYNC_WAVE];
  const weight = typeof wave === 'string' ? wave : '0';
  const policies = typeof annotations[ARGO_DELETE_POLICY] === 'string' ? (annotations[ARGO_DELETE_POLICY] as string).split(',').map((p) => p.trim()) : ['BeforeHookCreation'];
  const deletePolicy = policies.map((p) => {
    const mapped = DELETE_POLICIES[p];
    if (!mapped) throw new Error(`helm chart writer: ${o.kind}/${o.name}: unknown Argo CD hook-delete-policy ${p}`);
    return mapped;
  }).join(',');
  for (const k of [ARGO_HOOK, ARGO_SYNC_WAVE, ARGO_DELETE_POLICY]) delete annotations[k];
  annotations['helm.sh/hook'] = hook;
  if (accountValues && hook === 'pre-install,pre-upgrade') {
    // With `serviceAccount.create` the hook's pod runs as a ServiceAccount the install creates: before install it
    // doesn't exist and the Job's pod could never be created, so the hook then runs right after install.
    annotations['helm.sh/hook'] = Templated.text([{ expr: `ternary "post-install" "pre-install" ${accountValues}.serviceAccount.create`, safe: true }, ',pre-upgrade']);
  }
  annotations['helm.sh/hook-weight'] = weight;
  annotations['helm.sh/hook-delete-policy'] = deletePolicy;
  return { kind: o.kind, name: o.name, hook, weight, deletePolicy, dependsOn };
}

/** Every label set of the chart's objects and pod templates. */
export function labelSetsOf(objects: readonly CollectedObject[]): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const visit = (node: Json, path: string[]) => {
    if (node === null || typeof node !== 'object') return;
    if (path[path.length - 1] === 'labels' && path[path.length - 2] === 'metadata') { out.push(node); return; }
    for (const [k, v] of Object.entries(node)) visit(v, [...path, k]);
  };
  for (const o of objects) visit(o.json, []);
  return out;
}

/** Every label selector of the chart and every label set it could select, to prove the instance rewrite safe. */
export function checkSelectorsStayDistinct(objects: readonly CollectedObject[]): void {
  const selectors: Array<{ owner: string; labels: Record<string, string> }> = [];
  const labelSets: Array<{ owner: string; labels: Record<string, string> }> = [];
  const visit = (node: Json, path: string[], owner: string, kind: string) => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach((n, i) => visit(n, [...path, String(i)], owner, kind)); return; }
    const key = path[path.length - 1];
    if (isSelector(path, kind)) selectors.push({ owner, labels: node });
    else if (key === 'labels' && path[path.length - 2] === 'metadata') labelSets.push({ owner, labels: node });
    else for (const [k, v] of Object.entries(node)) visit(v, [...path, k], owner, kind);
  };
  for (const o of objects) visit(o.json, [], `${o.kind}/${o.name}`, o.kind);
  const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  const flatten = (labels: Record<string, string>) => (INSTANCE_LABEL in labels ? { ...labels, [INSTANCE_LABEL]: '<release>' } : labels);
  for (const s of selectors) {
    for (const l of labelSets) {
      if (!matches(s.labels, l.labels) && matches(flatten(s.labels), flatten(l.labels))) {
        throw new Error(`helm chart writer: once ${INSTANCE_LABEL} is the release name, the selector of ${s.owner} would also select ${l.owner}; give them distinct app.kubernetes.io/name or component labels`);
      }
    }
  }
}
