import { ApiObject, App, Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { GeneratedSecret } from '../generated-secret';
import { throwAll, validateAll } from '../core/problems';
import { IngressOption, Knobs, KnobSpec, NameReference, ValuesRule } from '../knobs';

/** A synthesized object, as plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** One synthesized object with where it came from. */
export interface CollectedObject {
  readonly apiObject: ApiObject;
  /** The object exactly as `cdk8s synth` writes it. */
  readonly json: Json;
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  /** Template file the object goes to: its top-level construct under the chart. */
  readonly file: string;
}

export interface CollectedKnob {
  readonly construct: IConstruct;
  /** Values key of the construct, e.g. `ordersDb`. */
  readonly root: string;
  /** Full dotted values path, e.g. `ordersDb.storage.size`. */
  readonly path: string;
  readonly spec: KnobSpec;
}

export interface CollectedSecret {
  readonly secret: GeneratedSecret;
  readonly root: string;
  readonly file: string;
}

export interface Collected {
  readonly charts: readonly Chart[];
  readonly objects: readonly CollectedObject[];
  readonly knobs: readonly CollectedKnob[];
  readonly secrets: readonly CollectedSecret[];
  readonly references: ReadonlyArray<NameReference>;
  /** Rules across values, each with the values root of the construct that declared it. */
  readonly rules: ReadonlyArray<{ readonly root: string; readonly rule: ValuesRule }>;
  /** The one namespace every object is in, or undefined when the charts set none. */
  readonly namespace?: string;
  /** Services a chart user may put behind an Ingress, each with the values root of its construct. */
  readonly ingressOptions: ReadonlyArray<{ readonly root: string; readonly option: IngressOption }>;
}

export type ChartSource = App | Chart | readonly Chart[];

/** Synthesizes the charts (as `cdk8s synth` would) and gathers what the chart writer needs. */
export function collect(source: ChartSource): Collected {
  const charts: readonly Chart[] = Array.isArray(source) ? source : Chart.isChart(source) ? [source] : (source as App).charts;
  if (charts.length === 0) throw new Error('helm chart writer: the app has no cdk8s Chart');
  const multi = charts.length > 1;

  const objects: CollectedObject[] = [];
  const knobs: CollectedKnob[] = [];
  const secrets: CollectedSecret[] = [];
  const references: NameReference[] = [];
  const rules: Array<{ root: string; rule: ValuesRule }> = [];
  const ingressOptions: Array<{ root: string; option: IngressOption }> = [];
  const roots = new Map<string, string>(); // values root → construct path, to report collisions
  // Every ValidationError of every chart at once, as objects (toJson would report them as one message).
  throwAll(charts.flatMap((chart) => validateAll(chart)));

  for (const chart of charts) {
    // toJson resolves dependencies and runs validations, and fixes the order `cdk8s synth` writes objects in.
    const synthesized: Json[] = chart.toJson();
    const byIdentity = new Map<string, ApiObject>();
    for (const c of chart.node.findAll()) {
      if (c instanceof ApiObject && Chart.of(c) === chart) byIdentity.set(identity(c.toJson()), c);
    }
    for (const json of synthesized) {
      const apiObject = byIdentity.get(identity(json));
      if (!apiObject) throw new Error(`helm chart writer: no construct synthesized ${identity(json)}`);
      objects.push({
        apiObject, json, kind: json.kind, apiVersion: json.apiVersion, name: json.metadata?.name,
        file: fileOf(apiObject, chart, multi),
      });
    }
    for (const c of chart.node.findAll()) {
      if (Chart.of(c) !== chart) continue;
      const specs = Knobs.of(c);
      const isSecret = GeneratedSecret.isGeneratedSecret(c);
      references.push(...Knobs.referencesOf(c));
      const ingressOption = Knobs.ingressOptionOf(c);
      if (specs.length === 0 && !isSecret && !ingressOption) continue;
      const root = valuesRoot(c, chart, multi);
      const owner = roots.get(root);
      if (owner !== undefined && owner !== c.node.path) {
        throw new Error(`helm chart writer: constructs ${owner} and ${c.node.path} both map to values key "${root}"; rename one of them`);
      }
      roots.set(root, c.node.path);
      for (const spec of specs) {
        if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(spec.key)) {
          throw new Error(`helm chart writer: ${c.node.path}: knob key "${spec.key}" must be dotted identifiers (letters and digits)`);
        }
        knobs.push({ construct: c, root, path: `${root}.${spec.key}`, spec });
      }
      for (const rule of Knobs.rulesOf(c)) rules.push({ root, rule });
      if (ingressOption) ingressOptions.push({ root, option: ingressOption });
      if (isSecret) secrets.push({ secret: c, root, file: fileOf(c, chart, multi) });
    }
  }
  return { charts, objects, knobs, secrets, references, rules, namespace: commonNamespace(objects), ingressOptions };
}

function identity(json: Json): string {
  return `${json.apiVersion}/${json.kind}/${json.metadata?.namespace ?? ''}/${json.metadata?.name}`;
}

/** Path components from the chart (exclusive) down to `c` (inclusive). */
function pathFromChart(c: IConstruct, chart: Chart, multi: boolean): string[] {
  const scopes = c.node.scopes;
  const ids = scopes.slice(scopes.indexOf(chart) + 1).map((s) => s.node.id);
  return multi ? [chart.node.id, ...ids] : ids;
}

/** `orders-db` → `ordersDb`; path components joined the same way. */
export function camelCase(parts: readonly string[]): string {
  const words = parts.flatMap((p) => p.split(/[^A-Za-z0-9]+/)).filter((w) => w.length > 0);
  const out = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  return /^[A-Za-z]/.test(out) ? out : `v${out}`;
}

function valuesRoot(c: IConstruct, chart: Chart, multi: boolean): string {
  const parts = pathFromChart(c, chart, multi);
  if (parts.length === 0) throw new Error(`helm chart writer: knobs on the chart itself (${c.node.path}) have no values key; declare them on a construct`);
  return camelCase(parts);
}

function fileOf(c: IConstruct, chart: Chart, multi: boolean): string {
  const parts = pathFromChart(c, chart, multi).slice(0, multi ? 2 : 1);
  return parts.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'objects';
}

function commonNamespace(objects: readonly CollectedObject[]): string | undefined {
  const namespaces = new Set(objects.map((o) => o.json.metadata?.namespace).filter((n): n is string => typeof n === 'string'));
  if (namespaces.size > 1) {
    throw new Error(`helm chart writer: a Helm release installs into one namespace, but the objects use ${[...namespaces].join(', ')}`);
  }
  return [...namespaces][0];
}
