/**
 * The Helm chart writer: turns a cdk8s app (or chart) built from scalecharts constructs into a Helm 3 chart whose
 * values are the constructs' declared knobs, whose schema carries the constructs' own validation, and whose object
 * names are release-aware so two releases coexist in one namespace.
 *
 *   const app = new App();
 *   quickstart(app);
 *   writeHelmChart(app, 'out/quickstart', { version: '1.0.0' });
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ApiObject } from 'cdk8s';
import { ChartSource, Collected, CollectedKnob, CollectedObject, CollectedSecret, collect } from './collect';
import { ChartModel, CrdToggleInfo, ExternalSecretInfo, FieldRef, GeneratedSecretInfo, HookInfo, ValueInfo } from './model';
import { secretReferences } from '../secrets-to-create';
import { NameIndex, NamedObject, RELEASE_NAME, RELEASE_NAMESPACE, USER_SECRETS_ROOT, releaseName, userSecretKey, userSecretNameExpr } from './names';
import { autoscaledWorkloads, bindTargets, checkSelectorsStayDistinct, fieldRef, helmLabels, labelSetsOf, templateObject, templateReads } from './templates';
import { JsonSchema, ValueEntry, defaultValues, typeLabel, valuesSchema, valuesYaml } from './values';
import { Node, Templated, emitYaml } from './yaml';
import { conventionalReadme, conventionalValues } from './conventional';
import { hookWaits } from './migration-order';

export * from './model';
export type { ChartSource } from './collect';
export { migrationOrderWarnings } from './migration-order';

export interface HelmChartOptions {
  /** Chart name. @default the id of the (first) cdk8s Chart */
  readonly name?: string;
  /** Chart version (SemVer 2). @default `0.1.0` */
  readonly version?: string;
  /** Version of the application the chart deploys. @default the chart version */
  readonly appVersion?: string;
  /** One-line description. @default a description naming the charts it was generated from */
  readonly description?: string;
  /** Kubernetes versions the chart installs on. @default `>=1.28.0-0` (the API the constructs are validated against) */
  readonly kubeVersion?: string;
}

export interface HelmChart {
  readonly name: string;
  /** Relative path → file content. */
  readonly files: ReadonlyMap<string, string>;
  /** values.yaml as data. */
  readonly values: Record<string, unknown>;
  readonly model: ChartModel;
}

/** Helm's own limit on release names. */
const HELM_RELEASE_NAME_MAX = 53;
/** Longest name per kind that keeps derived names (pods, revision-hash labels, DNS labels) within limits. */
const NAME_LIMITS: Record<string, number> = {
  StatefulSet: 52, CronJob: 52, Service: 63, Deployment: 63, DaemonSet: 63, Job: 63, Ingress: 63,
  HorizontalPodAutoscaler: 63, PodDisruptionBudget: 63, ScaledObject: 63, ServiceMonitor: 63, PodMonitor: 63,
  PrometheusRule: 63, NetworkPolicy: 63,
};

/** Builds the chart in memory. */
export function buildHelmChart(source: ChartSource, options: HelmChartOptions = {}): HelmChart {
  const collected = collect(source);
  const chartName = options.name ?? collected.charts[0].node.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(chartName) || chartName.length > 53) {
    throw new Error(`helm chart writer: chart name ${JSON.stringify(chartName)} must be lower-case letters, digits and '-', at most 53 characters`);
  }
  const version = options.version ?? '0.1.0';
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error(`helm chart writer: chart version ${JSON.stringify(version)} must be SemVer 2, e.g. 1.2.3`);
  }
  checkSelectorsStayDistinct(collected.objects);
  const conventional = conventionalValues(collected, chartName);
  const c: Collected = { ...collected, knobs: [...collected.knobs, ...conventional.knobs] };

  const secretNames = new Map<CollectedSecret, NamedObject>();
  const named: NamedObject[] = c.objects.map((o) => ({ kind: o.kind, name: o.name, parts: releaseName(o.name) }));
  for (const s of c.secrets) {
    const entry: NamedObject = {
      kind: 'Secret', name: s.secret.name,
      parts: [{ expr: `.Values.${s.root}.existingSecret | default (printf "%s-%s" ${RELEASE_NAME} ${JSON.stringify(s.secret.name)})`, safe: true }],
    };
    secretNames.set(s, entry);
    named.push(entry);
  }
  // Secrets only the user can create (provider URLs, TLS): `<release>-<name>` by default, so releases never share them.
  const generatedNames = new Set(c.secrets.map((s) => s.secret.name));
  // Image pull Secrets are registry credentials shared by a namespace (the `imagePullSecrets` values take them as
  // named), so a Secret used as one keeps its name everywhere.
  const pullSecrets = new Set(c.objects.flatMap((o) => pullSecretNames(o.json)));
  const userSecrets = [...secretReferences(c.objects.map((o) => o.json))].filter(([name]) => !generatedNames.has(name) && !pullSecrets.has(name));
  const userKeys = new Map<string, string>();
  for (const [name] of userSecrets) {
    const key = userSecretKey(name);
    if (userKeys.has(key)) throw new Error(`helm chart writer: Secrets ${userKeys.get(key)} and ${name} would share the value ${USER_SECRETS_ROOT}.${key}`);
    userKeys.set(key, name);
    named.push({ kind: 'Secret', name, parts: [{ expr: userSecretNameExpr(name), safe: true }] });
  }
  const index = new NameIndex(named, c.namespace);

  const objectsByApi = new Map<ApiObject, CollectedObject>(c.objects.map((o) => [o.apiObject, o]));
  for (const k of c.knobs) {
    for (const t of k.spec.targets) {
      if (!objectsByApi.has(t.object)) throw new Error(`helm chart writer: knob ${k.path} targets ${t.object.node.path}, which is not in the chart`);
    }
  }
  const declared = new Map<ApiObject, Map<string, Set<string>>>();
  for (const r of c.references) {
    if (!named.some((n) => n.name === r.name)) {
      throw new Error(`helm chart writer: ${r.object.node.path} declares a reference to ${r.name}, which the chart does not create`);
    }
    const byPath = declared.get(r.object) ?? new Map<string, Set<string>>();
    const key = JSON.stringify(r.path);
    byPath.set(key, new Set([...(byPath.get(key) ?? []), r.name]));
    declared.set(r.object, byPath);
  }
  const hookKeys = new Set(c.objects.filter((o) => o.json.metadata?.annotations?.['argocd.argoproj.io/hook']).map((o) => `${o.kind}/${o.name}`));

  const ctx = { chartName, index, targets: bindTargets(c.knobs), declared, hookKeys, labelSets: labelSetsOf(c.objects), autoscaled: autoscaledWorkloads(c.objects), conventional,
    waits: hookWaits(c.objects, c.namespace) };
  const fileTexts = new Map<string, string[]>();
  const hooks: HookInfo[] = [];
  const toggles = new Map<string, { group: string; objects: string[]; apiVersions: string[] }>();
  for (const o of c.objects) {
    const t = templateObject(o, ctx);
    fileTexts.set(o.file, [...(fileTexts.get(o.file) ?? []), t.text]);
    if (t.hook) hooks.push(t.hook);
    if (t.crdToggle) {
      const entry = toggles.get(t.crdToggle.name) ?? { group: t.crdToggle.group, objects: [], apiVersions: [] };
      entry.objects.push(`${o.kind}/${o.name}`);
      if (!entry.apiVersions.includes(`${o.apiVersion}/${o.kind}`)) entry.apiVersions.push(`${o.apiVersion}/${o.kind}`);
      toggles.set(t.crdToggle.name, entry);
    }
  }
  for (const s of c.secrets) {
    fileTexts.set(s.file, [...(fileTexts.get(s.file) ?? []), generatedSecretTemplate(s, chartName, c.namespace)]);
  }
  for (const [file, text] of conventional.extraTemplates) fileTexts.set(file, [...(fileTexts.get(file) ?? []), text]);

  const entries = [...valueEntries(c.knobs, c.secrets, toggles, conventional.entries), ...conventional.globalEntries, ...userSecretEntries(userSecrets)];
  const values = defaultValues(entries);
  const valueInfos = [...knobInfos(c.knobs, objectsByApi), ...conventional.infos];
  // A migration hook's wait container runs in its database's image: that image's knobs change it too.
  for (const [job, waits] of ctx.waits) {
    waits.forEach((w, i) => {
      const image = (ctx.targets.get(w.workload.apiObject) ?? []).find((b) => JSON.stringify(b.target.path) === JSON.stringify(['spec', 'template', 'spec', 'containers', 0, 'image']));
      for (const read of image ? templateReads(image.knob, image.target) : []) {
        const info = valueInfos.find((v) => v.path === read);
        if (info) (info.alsoRead as FieldRef[]).push({ kind: job.kind, name: job.name, path: ['spec', 'template', 'spec', 'initContainers', i, 'image'], exact: false });
      }
    });
  }
  const crdToggles: CrdToggleInfo[] = [...toggles].map(([name, t]) => ({ path: `crds.${name}`, group: t.group, objects: t.objects, apiVersions: t.apiVersions }));
  const generatedSecrets: GeneratedSecretInfo[] = c.secrets.map((s) => ({ name: s.secret.name, existingSecretPath: `${s.root}.existingSecret`, keys: s.secret.keys }));
  const externalSecrets: ExternalSecretInfo[] = userSecrets
    .map(([name, r]) => ({ name, valuePath: `${USER_SECRETS_ROOT}.${userSecretKey(name)}.name`, keys: r.keys, usedBy: r.usedBy }));
  const { max: maxReleaseNameLength, limitedBy } = releaseNameLimit(c.objects, c.secrets);

  const model: ChartModel = {
    chartName, namespace: c.namespace, values: valueInfos, generatedSecrets, externalSecrets, hooks, crdToggles, switches: conventional.switches,
    objects: c.objects.map((o) => ({ kind: o.kind, name: o.name, file: `templates/${o.file}.yaml` })), maxReleaseNameLength,
  };

  const files = new Map<string, string>();
  const description = options.description ?? `Generated by scalecharts from ${c.charts.map((ch) => ch.node.id).join(', ')}`;
  files.set('Chart.yaml', emitYaml({
    apiVersion: 'v2', name: chartName, description, type: 'application', version,
    appVersion: options.appVersion ?? version, kubeVersion: options.kubeVersion ?? '>=1.28.0-0',
  }, 0, { template: false }));
  files.set('values.yaml', valuesYaml(entries, `Default values of the ${chartName} chart, generated by scalecharts.\nEach value is checked by values.schema.json; see README.md for the table.`));
  files.set('values.schema.json', `${JSON.stringify(patchSchema(valuesSchema(entries), conventional.schemaPatches), null, 2)}\n`);
  files.set('templates/_helpers.tpl', helpersTpl(chartName, valueInfos, c.knobs, maxReleaseNameLength, limitedBy, c.rules) + conventional.helpers(chartName));
  files.set('templates/validate.yaml', `{{- /* Checks values JSON Schema can't express; renders nothing. */ -}}\n{{- include "${chartName}.validate" . -}}\n`);
  for (const [file, texts] of fileTexts) {
    const name = ['validate', 'NOTES'].includes(file) ? `${file}-objects` : file;
    files.set(`templates/${name}.yaml`, texts.join(''));
  }
  files.set('templates/NOTES.txt', notesTxt(model, c.objects, c.knobs, c.secrets, c.ingressOptions, conventional.ingressNotes()));
  files.set('README.md', readme(model, entries, description, c.rules.length > 0));
  return { name: chartName, files, values, model };
}

/** Writes the chart to `outDir` (replacing a chart written there before) and returns it. */
export function writeHelmChart(source: ChartSource, outDir: string, options: HelmChartOptions = {}): HelmChart {
  const chart = buildHelmChart(source, options);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
    if (!fs.existsSync(path.join(outDir, 'Chart.yaml'))) throw new Error(`helm chart writer: ${outDir} is not empty and holds no chart; refusing to overwrite it`);
    fs.rmSync(path.join(outDir, 'templates'), { recursive: true, force: true });
  }
  for (const [rel, content] of chart.files) {
    const file = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return chart;
}

/** Merges each patch into the object schema of its values path. */
function patchSchema(schema: JsonSchema, patches: ReadonlyArray<{ path: string; patch: JsonSchema }>): JsonSchema {
  for (const { path: p, patch } of patches) {
    const node = p.split('.').reduce<JsonSchema | undefined>((n, k) => n?.properties?.[k], schema);
    if (!node) throw new Error(`helm chart writer: no values object ${p} to add a check to`);
    Object.assign(node, patch);
  }
  return schema;
}

function constructLabel(k: { construct: { node: { path: string }; constructor: { name: string } } }): string {
  return `${k.construct.node.path} (${k.construct.constructor.name})`;
}

function valueEntries(
  knobs: readonly CollectedKnob[], secrets: readonly CollectedSecret[], toggles: ReadonlyMap<string, { group: string; objects: string[] }>,
  conventional: readonly ValueEntry[],
): ValueEntry[] {
  const entries: ValueEntry[] = [];
  const seenRoots = new Set<string>();
  for (const k of knobs) {
    entries.push({ path: k.path, description: k.spec.description, schema: k.spec.schema, default: k.spec.default, section: seenRoots.has(k.root) ? undefined : constructLabel(k) });
    seenRoots.add(k.root);
    // The conventional values of a construct follow its own knobs.
    if (knobs.filter((o) => o.root === k.root).at(-1) === k) entries.push(...conventional.filter((e) => e.path.startsWith(`${k.root}.`)));
  }
  for (const s of secrets) {
    entries.push({
      path: `${s.root}.existingSecret`,
      description: `Existing Secret to use instead of generating ${s.secret.name} (keys: ${Object.keys(s.secret.keys).join(', ')}); empty: the chart generates random values at install and keeps them across upgrades`,
      schema: { type: 'string', maxLength: 253, pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$' },
      default: '',
      section: seenRoots.has(s.root) ? undefined : `${s.secret.node.path} (GeneratedSecret)`,
    });
    seenRoots.add(s.root);
  }
  let first = true;
  for (const [name, t] of toggles) {
    entries.push({
      path: `crds.${name}`,
      description: `Render the ${t.group} objects (${t.objects.join(', ')}): true, false, or "auto" to render them only when the cluster serves the ${t.group} API`,
      schema: { enum: [true, false, 'auto'] },
      // "auto", not true: with true, an install on a cluster without the operator fails with "no matches for kind".
      default: 'auto',
      section: first ? 'Objects whose CustomResourceDefinitions may be missing from the cluster' : undefined,
    });
    first = false;
  }
  return entries;
}

/** `userSecrets.<key>.name` of each Secret only the user can create: empty means `<release>-<name>`. */
function userSecretEntries(secrets: ReadonlyArray<[string, { keys: string[]; usedBy: string[] }]>): ValueEntry[] {
  return secrets.map(([name, r], i) => ({
    path: `${USER_SECRETS_ROOT}.${userSecretKey(name)}.name`,
    description: `Name of your Secret for ${name}${r.keys.length ? ` (keys: ${r.keys.join(', ')})` : ''}, read by ${r.usedBy.join(', ')}; empty: <release>-${name}`,
    schema: { type: 'string', maxLength: 253, pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$' },
    default: '',
    section: i === 0 ? 'Secrets only you can create (provider URLs, TLS): release-prefixed unless named here' : undefined,
  }));
}

function knobInfos(knobs: readonly CollectedKnob[], objects: ReadonlyMap<ApiObject, CollectedObject>): ValueInfo[] {
  const targetsOf = (k: CollectedKnob): FieldRef[] => k.spec.targets.map((t) => fieldRef(objects.get(t.object)!, t));
  return knobs.map((k) => {
    const alsoRead: FieldRef[] = [];
    for (const other of knobs) {
      if (other === k) continue;
      for (const t of other.spec.targets) if (templateReads(other, t).includes(k.path)) alsoRead.push(fieldRef(objects.get(t.object)!, t));
    }
    const lessOrEqualTo = k.spec.lessOrEqualTo === undefined ? undefined : `${k.root}.${k.spec.lessOrEqualTo}`;
    if (lessOrEqualTo && !knobs.some((o) => o.path === lessOrEqualTo)) {
      throw new Error(`helm chart writer: knob ${k.path} must be <= ${lessOrEqualTo}, which is not a declared knob`);
    }
    return {
      path: k.path, description: k.spec.description, schema: k.spec.schema, default: k.spec.default,
      ...(k.spec.example !== undefined ? { example: k.spec.example } : {}), lessOrEqualTo, targets: targetsOf(k), alsoRead,
    };
  });
}

function releaseNameLimit(objects: readonly CollectedObject[], secrets: readonly CollectedSecret[]): { max: number; limitedBy: string } {
  let max = HELM_RELEASE_NAME_MAX;
  let limitedBy = 'helm';
  const consider = (kind: string, name: string) => {
    const room = (NAME_LIMITS[kind] ?? 253) - 1 - name.length;
    if (room < max) { max = room; limitedBy = `${kind}/${name}`; }
  };
  for (const o of objects) consider(o.kind, o.name);
  for (const s of secrets) consider('Secret', s.secret.name);
  if (max < 1) throw new Error(`helm chart writer: ${limitedBy} leaves no room for a release-name prefix; shorten it`);
  return { max, limitedBy };
}

function generatedSecretTemplate(s: CollectedSecret, chartName: string, namespace: string | undefined): string {
  const name = s.secret.name;
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: Templated.text(releaseName(name)),
      ...(namespace !== undefined ? { namespace: Templated.text([{ expr: RELEASE_NAMESPACE, safe: true }]) } : {}),
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': chartName, '$helm-labels': helmLabels(chartName) },
      // The values must outlive an uninstall: data on the volumes a reinstall finds was written with them.
      annotations: { 'helm.sh/resource-policy': 'keep' },
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(s.secret.keys).map(([key, length]) => [
      key, Templated.typed(`dig "data" ${JSON.stringify(key)} (randAlphaNum ${length} | b64enc) $live`, 'string'),
    ])),
  };
  return [
    `{{- if not .Values.${s.root}.existingSecret }}`,
    '{{- /* Generated once: an upgrade reads the live Secret back instead of rolling new values. */}}',
    `{{- $live := lookup "v1" "Secret" ${RELEASE_NAMESPACE} (printf "%s-%s" ${RELEASE_NAME} ${JSON.stringify(name)}) }}`,
    `---\n${emitYaml(node)}{{- end }}\n`,
  ].join('\n');
}

function helpersTpl(
  chartName: string, values: readonly ValueInfo[], knobs: readonly CollectedKnob[], maxRelease: number, limitedBy: string,
  rules: Collected['rules'],
): string {
  const checks: string[] = [
    `{{- if gt (len .Release.Name) ${maxRelease} }}`,
    `{{- fail (printf "release name %q is %d characters; ${limitedBy === 'helm' ? `Helm allows at most ${maxRelease}` : `at most ${maxRelease} keep the name of ${limitedBy} within Kubernetes' limits`}" .Release.Name (len .Release.Name)) }}`,
    '{{- end }}',
  ];
  for (const v of values) {
    if (!v.lessOrEqualTo) continue;
    const upper = knobs.find((k) => k.path === v.lessOrEqualTo)!;
    const asNumber = (p: string, type: string) => (type === 'string' ? `(include "${chartName}.quantity" .Values.${p} | float64)` : `(.Values.${p} | float64)`);
    checks.push(
      `{{- if gt ${asNumber(v.path, v.schema.type)} ${asNumber(upper.path, upper.spec.schema.type)} }}`,
      `{{- fail (printf "${v.path} (%v) must be less than or equal to ${upper.path} (%v)" .Values.${v.path} .Values.${upper.path}) }}`,
      '{{- end }}',
    );
  }
  checks.push(...valueRuleChecks(knobs, rules));
  return `{{/* Generated by scalecharts. */}}

{{/* Chart name and version, as the helm.sh/chart label value. */}}
{{- define "${chartName}.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Name of an object of this release: include "${chartName}.fullname" (list $ "api") → <release>-api. */}}
{{- define "${chartName}.fullname" -}}
{{- printf "%s-%s" (index . 0).Release.Name (index . 1) -}}
{{- end }}

{{/*
Replicas of a workload an autoscaler owns: (list $ "<apiVersion>" "<Kind>" "<name>" <floor>). A fresh install starts
at the floor (minReplicas), so \`helm install --wait\` returns with the HPA's minimum Ready; an upgrade writes back the
live count, so it neither resets the autoscaler's choice nor drops the field (which would patch replicas to 1).
*/}}
{{- define "${chartName}.replicas" -}}
{{- $live := lookup (index . 1) (index . 2) (index . 0).Release.Namespace (index . 3) -}}
{{- if and $live (hasKey ($live.spec | default dict) "replicas") -}}{{ int $live.spec.replicas }}{{- else -}}{{ int (index . 4) }}{{- end -}}
{{- end }}

{{/* Labels Helm adds to every object's own labels (selectors get the instance label in place). */}}
{{- define "${chartName}.labels" -}}
helm.sh/chart: {{ include "${chartName}.chart" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/*
Whether to render objects of an optional CRD: (list $ "<toggle>" "<apiVersion>/<Kind>").
true renders them, false doesn't, "auto" renders them when the cluster (or --api-versions) serves the API.
*/}}
{{- define "${chartName}.crdEnabled" -}}
{{- $root := index . 0 -}}
{{- $mode := toString (index $root.Values.crds (index . 1)) -}}
{{- if or (eq $mode "true") (and (eq $mode "auto") ($root.Capabilities.APIVersions.Has (index . 2))) -}}true{{- end -}}
{{- end }}

{{/* A Kubernetes quantity (500m, 2, 1Gi, 5e-7, 1E) as a plain number, to compare requests with limits. Exponents end in a digit and parse as floats. */}}
{{- define "${chartName}.quantity" -}}
{{- $q := toString . -}}
{{- $units := dict "n" 0.000000001 "u" 0.000001 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "P" 1000000000000000.0 "E" 1000000000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- $unit := regexFind "[A-Za-z]+$" $q -}}
{{- mulf (regexReplaceAll "[A-Za-z]+$" $q "" | float64) (ternary 1.0 (get $units $unit) (eq $unit "")) -}}
{{- end }}

{{/* Constraints between values that JSON Schema can't express; included by templates/validate.yaml. */}}
{{- define "${chartName}.validate" -}}
${checks.join('\n')}
{{- end }}
`;
}

function notesTxt(
  model: ChartModel, objects: readonly CollectedObject[], knobs: readonly CollectedKnob[], secrets: readonly CollectedSecret[],
  ingressOptions: Collected['ingressOptions'], ingressNotes: readonly string[],
): string {
  const lines: string[] = [
    '{{ .Chart.Name }} {{ .Chart.Version }} is installed as release "{{ .Release.Name }}" in namespace "{{ .Release.Namespace }}".',
  ];
  const services = objects.filter((o) => o.kind === 'Service');
  if (services.length > 0) {
    lines.push('', 'Services (in-cluster addresses):');
    for (const s of services) {
      const ports = (s.json.spec?.ports ?? []).map((p: { port: number }) => p.port).join(', ');
      lines.push(`  {{ .Release.Name }}-${s.name}.{{ .Release.Namespace }}.svc${ports ? ` (port ${ports})` : ''}`);
    }
  }
  // Ingresses that follow `ingress.*` values print their hosts from the values (ingressNotes).
  const optioned = new Set(ingressOptions.flatMap((x) => (x.option.ingress ? [x.option.ingress] : [])));
  const ingresses = objects.filter((o) => o.kind === 'Ingress' && !optioned.has(o.apiObject));
  if (ingresses.length > 0) {
    lines.push('', 'Ingress:');
    for (const ing of ingresses) {
      (ing.json.spec?.rules ?? []).forEach((rule: { host?: string }, i: number) => {
        if (!rule.host) return;
        const knob = knobs.find((k) => k.spec.targets.some((t) => t.object === ing.apiObject && !t.template && !t.fragment && JSON.stringify(t.path) === JSON.stringify(['spec', 'rules', i, 'host'])));
        const scheme = ing.json.spec?.tls ? 'https' : 'http';
        lines.push(`  ${scheme}://${knob ? `{{ .Values.${knob.path} }}` : rule.host}/`);
      });
    }
  }
  lines.push(...ingressNotes);
  if (secrets.length > 0) {
    lines.push('', 'Generated secrets (random at first install, kept across upgrades, never in values):');
    for (const s of secrets) {
      const key = Object.keys(s.secret.keys)[0];
      lines.push(
        `{{- if .Values.${s.root}.existingSecret }}`,
        `  ${s.secret.name}: using your Secret {{ .Values.${s.root}.existingSecret }}`,
        '{{- else }}',
        `  kubectl get secret -n {{ .Release.Namespace }} {{ .Release.Name }}-${s.secret.name} -o jsonpath='{.data.${key}}' | base64 -d`,
        '{{- end }}',
      );
    }
  }
  if (model.externalSecrets.length > 0) {
    lines.push('', 'Secrets this chart reads but cannot generate (create them in {{ .Release.Namespace }} if you have not):',
      ...model.externalSecrets.map((s) => `  {{ ${userSecretNameExpr(s.name)} }}${s.keys.length ? ` (keys: ${s.keys.join(', ')})` : ''}: ${s.name} of the constructs; set ${s.valuePath} to use an existing Secret`));
  }
  for (const h of model.hooks) {
    lines.push('', `${h.kind} ${h.name} runs as a Helm hook (${h.hook}): when it fails, the install or upgrade fails before new pods start.`,
      `  kubectl logs -n {{ .Release.Namespace }} job/{{ .Release.Name }}-${h.name}`);
  }
  for (const t of model.crdToggles) {
    lines.push('', `${t.objects.join(', ')}: rendered when ${t.path} is true, or "auto" (the default) and the cluster serves ${t.group} (now: {{ .Values.${t.path} }}).`);
  }
  return `${lines.join('\n')}\n`;
}

function readme(model: ChartModel, entries: readonly ValueEntry[], description: string, hasRules: boolean): string {
  const name = model.chartName;
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const intKnob = model.values.find((v) => v.path.endsWith('.maxReplicas')) ?? model.values.find((v) => v.schema.type === 'integer');
  const intExample = intKnob && (intKnob.example ?? (typeof intKnob.default === 'number' && (intKnob.schema.maximum === undefined || intKnob.default * 2 <= intKnob.schema.maximum) ? intKnob.default * 2 : intKnob.default));
  const strKnob = model.values.find((v) => v.schema.type === 'string' && v.path.endsWith('image.tag'));
  const example = [
    `helm install my-${name} ./${name} --namespace ${model.namespace ?? 'my-namespace'} --create-namespace`,
    ...(intKnob ? [`  --set ${intKnob.path}=${String(intExample)}`] : []),
    ...(strKnob ? [`  --set-string ${strKnob.path}=${String(strKnob.example ?? strKnob.default)}`] : []),
  ].join(' \\\n');
  const rows = entries.map((e) => `| \`${e.path}\` | ${cell(typeLabel(e.schema))} | \`${cell(JSON.stringify(e.default))}\` | ${cell(e.description)} |`);
  const out = [
    `# ${name}`, '', description, '',
    'Generated by scalecharts from typed cdk8s constructs: change the constructs and regenerate rather than editing',
    'this chart. Defaults equal what the constructs synthesize for plain manifests.', '',
    '## Install', '', '```sh', example, '```', '',
    'Object names are prefixed with the release name, so several releases coexist in one namespace.',
    'values.schema.json rejects unknown keys, wrong types and out-of-range values; pass numeric-looking strings',
    '(image tags such as `2`) with `--set-string`.', '',
    '## Values', '', '| Key | Type | Default | Description |', '|---|---|---|---|', ...rows, '',
  ];
  out.push(...conventionalReadme(model.switches, hasRules));
  if (model.generatedSecrets.length > 0) {
    out.push('## Generated secrets', '',
      'These Secrets are generated at first install (`randAlphaNum`) and read back on upgrade (`lookup`), so their',
      'values never change and never appear in values.yaml. They are kept on uninstall (`helm.sh/resource-policy: keep`)',
      'because data written with them outlives the release. Set `existingSecret` to manage one yourself.', '',
      ...model.generatedSecrets.map((s) => `- \`${s.name}\` (keys ${Object.keys(s.keys).map((k) => `\`${k}\``).join(', ')}): \`${s.existingSecretPath}\``), '');
  }
  if (model.externalSecrets.length > 0) {
    out.push('## Secrets to create before installing', '',
      'The chart reads these Secrets and cannot generate them (values only you have). Create them in the release',
      'namespace first: a pod whose Secret is missing stays in ContainerCreating. A release reads `<release>-<name>`, so',
      'two releases in one namespace never share one by accident; set the value shown to use an existing Secret instead.',
      'Plain manifests read `<name>` (dist/<chart>.secrets.md).', '',
      ...model.externalSecrets.map((s) => `- \`<release>-${s.name}\`${s.keys.length ? ` (keys ${s.keys.map((k) => `\`${k}\``).join(', ')})` : ''}: read by ${s.usedBy.join(', ')}; \`${s.valuePath}\``), '');
  }
  if (model.hooks.length > 0) {
    out.push('## Migrations', '',
      'Migration Jobs run as Helm hooks: before an upgrade rolls out new pods, so every instance runs against one schema',
      'version; a failing migration fails the upgrade and the old pods keep serving. `helm upgrade --timeout` must exceed',
      "the Job's deadline. A `pre-install` hook whose pods would run as a ServiceAccount the chart creates",
      '(`serviceAccount.create`) runs `post-install` instead: before install that account does not exist yet.', '',
      ...model.hooks.map((h) => `- \`${h.kind}/${h.name}\`: \`${h.hook}\`, weight ${h.weight}, delete policy \`${h.deletePolicy}\`${h.dependsOn.length ? ` (runs after install because it needs ${h.dependsOn.join(', ')})` : ''}`), '');
  }
  if (model.crdToggles.length > 0) {
    out.push('## Optional CRDs', '',
      'Objects of CustomResourceDefinitions render only when their toggle allows, so the chart installs on clusters',
      'without the operator: `false` leaves them out, `"auto"` renders them when the cluster serves the API.', '',
      ...model.crdToggles.map((t) => `- \`${t.path}\`: ${t.objects.join(', ')}`), '');
  }
  return out.join('\n');
}


/** Template checks of knobs' refused values and of the constructs' rules across values. */
function valueRuleChecks(knobs: readonly CollectedKnob[], rules: Collected['rules']): string[] {
  const text = (s: string) => JSON.stringify(s).slice(1, -1).replace(/%/g, '%%');
  const out: string[] = [];
  for (const k of knobs) {
    const refused = k.spec.refused;
    if (!refused) continue;
    out.push(
      `{{- if has (toString .Values.${k.path}) (list ${refused.values.map((v) => JSON.stringify(String(v))).join(' ')}) }}`,
      `{{- fail (printf "${k.path} = %q is refused: ${text(refused.reason)}" (toString .Values.${k.path})) }}`,
      '{{- end }}',
    );
  }
  for (const { root, rule } of rules) {
    const shown = rule.shows.map((key) => `${root}.${key} = %v`).join(', ');
    out.push(
      `{{- $values := .Values.${root} }}`,
      `{{- if ${rule.failWhen} }}`,
      // A null value (derived) shows as null, not Go's <nil>.
      `{{- fail (printf "${text(`${root}: ${rule.message}`)} (${shown})"${rule.shows.map((key) => ` (ternary "null" $values.${key} (kindIs "invalid" $values.${key}))`).join('')}) }}`,
      '{{- end }}',
    );
  }
  return out;
}

/** Names in every `imagePullSecrets` list of an object (pod templates at any depth). */
function pullSecretNames(node: unknown): string[] {
  if (node === null || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap(pullSecretNames);
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => (k === 'imagePullSecrets' && Array.isArray(v)
    ? v.flatMap((r) => (r && typeof (r as { name?: unknown }).name === 'string' ? [(r as { name: string }).name] : []))
    : pullSecretNames(v)));
}
