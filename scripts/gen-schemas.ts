/**
 * Generates the strict JSON Schemas the test harness (test/harness/schema.ts) validates every synthesized object
 * against, into .cache/schemas/:
 *
 * - one schema per (apiVersion, kind) of the Kubernetes 1.28 API, from the OpenAPI v2 spec shipped in the Go module
 *   k8s.io/kubernetes (api/openapi-spec/swagger.json);
 * - one schema per version of the KEDA and Prometheus Operator CRDs we emit, from their `openAPIV3Schema`.
 *
 * Sources come from the Go module proxy (`go mod download`), so the only network this needs is the proxy, and only on
 * a cold module cache. Strictness follows kubeconform's strict mode: unknown fields are errors, `apiVersion`/`kind`
 * are pinned; see `strictify` for the rules.
 *
 * Idempotent: when .cache/schemas/manifest.json was written by this exact generator (same source hash) and every
 * schema file is present, it exits immediately. Output is built in a temp directory and renamed into place, so a
 * concurrent run or reader never sees a half-written directory.
 *
 * Usage: npx tsx scripts/gen-schemas.ts [--force]
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import * as yaml from 'js-yaml';

const REPO_ROOT = path.resolve(__dirname, '..');
export const SCHEMA_DIR = path.join(REPO_ROOT, '.cache', 'schemas');
export const MANIFEST_FILE = 'manifest.json';

interface SourceModule {
  module: string;
  version: string;
}

const KUBERNETES: SourceModule = { module: 'k8s.io/kubernetes', version: 'v1.28.15' };
const KUBERNETES_SWAGGER = 'api/openapi-spec/swagger.json';

/** CRD files, relative to their module's root. */
export const CRD_SOURCES: Array<SourceModule & { files: string[] }> = [
  {
    module: 'github.com/kedacore/keda/v2',
    version: 'v2.16.1',
    files: [
      'config/crd/bases/keda.sh_scaledobjects.yaml',
      'config/crd/bases/keda.sh_scaledjobs.yaml',
      'config/crd/bases/keda.sh_triggerauthentications.yaml',
      'config/crd/bases/keda.sh_clustertriggerauthentications.yaml',
    ],
  },
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    files: [
      'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
      'example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml',
      'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml',
    ],
  },
];

const OBJECT_META_REF = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Swagger definitions whose wire format the spec describes too narrowly or too loosely. */
const DEFINITION_OVERRIDES: Record<string, JsonSchema> = {
  // Accepted by the API server as `"500m"` or `2`; the spec says string only.
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: ['string', 'number'] },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: ['integer', 'string'] },
  // `metav1.Time` marshals the zero time as null (e.g. `creationTimestamp: null` in kubectl/cdk8s output).
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: ['string', 'null'] },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: ['string', 'null'] },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonSchema = Record<string, any>;

/** What manifest.json records; the harness reads `schemas`. */
export interface SchemaManifest {
  generatorHash: string;
  generatedAt: string;
  modules: Array<SourceModule & { sum: string }>;
  /** apiVersion → kind → schema file name (relative to the manifest). */
  schemas: Record<string, Record<string, string>>;
  /** Places where the sources needed special handling, for the curious. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Strictness transform
// ---------------------------------------------------------------------------------------------------------------

/** JSON Schema keywords copied through unchanged (after recursing where they hold schemas). */
const PASSTHROUGH_KEYWORDS = new Set([
  'type', 'required', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf',
]);

/** Documentation-only keywords: dropped to keep the schemas small (ajv never looks at them). */
const DOC_KEYWORDS = new Set(['description', 'title', 'default', 'example', 'externalDocs']);

/**
 * Kubernetes extensions that change what is valid. All other `x-kubernetes-*` / `x-*` keys (list-type, patch
 * strategy, CEL validations, …) are server-side behaviour and are dropped.
 */
const HANDLED_EXTENSIONS = new Set([
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
]);

const INT32_RANGE = { minimum: -2147483648, maximum: 2147483647 };

interface StrictifyContext {
  /** JSON-pointer-ish location in the source, for error messages. */
  where: string;
  /**
   * True inside anyOf/oneOf/allOf/not: such branches only add constraints to the structural schema around them (a
   * branch's `properties` list a subset), so they must not close the object with `additionalProperties: false`.
   */
  inLogicalBranch: boolean;
  /** Collects `#/definitions/<name>` targets (swagger only). */
  refs: Set<string>;
  notes: string[];
}

/**
 * Returns a strict draft-07 JSON Schema (as ajv's strict mode accepts it) for an OpenAPI v2 / v3 (structural) schema:
 *
 * - objects with `properties` get `additionalProperties: false` unless they set `additionalProperties` themselves or
 *   carry `x-kubernetes-preserve-unknown-fields: true`;
 * - `format: int-or-string` / `x-kubernetes-int-or-string` → integer or string; `format: int32` → int32 range; other
 *   formats (int64, double, byte, date-time) are dropped, as kubeconform does;
 * - `nullable: true` adds `null` to the type (and enum);
 * - OpenAPI 3.0 boolean `exclusiveMinimum/Maximum` become draft-07 numbers;
 * - Go regexps ajv can't compile as JS unicode regexps are translated (leading `(?i)`) or dropped, with a note;
 * - descriptions and other docs are dropped; any keyword not understood here is an error, so a new upstream
 *   keyword is noticed rather than silently ignored.
 */
function strictify(source: JsonSchema | boolean, ctx: StrictifyContext): JsonSchema | boolean {
  if (typeof source === 'boolean') return source;
  const out: JsonSchema = {};
  const preserveUnknownFields = source['x-kubernetes-preserve-unknown-fields'] === true;

  for (const [keyword, value] of Object.entries(source)) {
    const at = `${ctx.where}/${keyword}`;
    if (PASSTHROUGH_KEYWORDS.has(keyword)) {
      out[keyword] = value;
    } else if (DOC_KEYWORDS.has(keyword) || keyword === 'nullable' || keyword === 'format') {
      // handled below / dropped
    } else if (keyword === '$ref') {
      const name = String(value).replace(/^#\/definitions\//, '');
      if (name === value) throw new Error(`${at}: unsupported $ref ${JSON.stringify(value)}`);
      ctx.refs.add(name);
      out.$ref = value;
    } else if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, schema]) => [
          name,
          strictify(schema, { ...ctx, where: `${at}/${name}`, inLogicalBranch: false }),
        ]),
      );
    } else if (keyword === 'items' || keyword === 'additionalProperties') {
      out[keyword] = strictify(value, { ...ctx, where: at, inLogicalBranch: false });
    } else if (keyword === 'anyOf' || keyword === 'oneOf' || keyword === 'allOf') {
      out[keyword] = (value as JsonSchema[]).map((branch, i) =>
        strictify(branch, { ...ctx, where: `${at}/${i}`, inLogicalBranch: true }),
      );
    } else if (keyword === 'not') {
      out.not = strictify(value, { ...ctx, where: at, inLogicalBranch: true });
    } else if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') {
      const bound = keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (typeof value === 'number') out[keyword] = value;
      else if (value === true) out[keyword] = source[bound];
    } else if (keyword === 'pattern') {
      const pattern = toJsPattern(String(value));
      if (pattern !== undefined) out.pattern = pattern;
      else ctx.notes.push(`${at}: dropped Go regexp ${JSON.stringify(value)} (not valid as a JS regexp)`);
    } else if (HANDLED_EXTENSIONS.has(keyword) || keyword.startsWith('x-')) {
      // handled below / server-side behaviour only
    } else {
      throw new Error(`${at}: unsupported schema keyword ${JSON.stringify(keyword)}; teach scripts/gen-schemas.ts about it`);
    }
  }
  // An exclusive bound replaces its inclusive twin (OpenAPI 3.0 expresses "> 0" as minimum: 0 + exclusiveMinimum: true).
  if (source.exclusiveMinimum === true) delete out.minimum;
  if (source.exclusiveMaximum === true) delete out.maximum;

  const format = source.format as string | undefined;
  if (format === 'int-or-string' || source['x-kubernetes-int-or-string'] === true) {
    out.type = ['integer', 'string'];
    // CRDs spell int-or-string as anyOf [integer, string] as well; the type union says the same with clearer errors.
    if (Array.isArray(out.anyOf) && out.anyOf.every((b: JsonSchema) => ['integer', 'string'].includes(b.type))) {
      delete out.anyOf;
    }
  } else if (format === 'int32' && out.type === 'integer') {
    out.minimum ??= INT32_RANGE.minimum;
    out.maximum ??= INT32_RANGE.maximum;
  }

  if (source['x-kubernetes-embedded-resource'] === true && out.properties) {
    // An embedded object always may carry apiVersion/kind/metadata, listed or not.
    out.properties.apiVersion ??= { type: 'string' };
    out.properties.kind ??= { type: 'string' };
    out.properties.metadata ??= { type: 'object' };
  }

  if (out.properties && !ctx.inLogicalBranch) {
    out.type ??= 'object';
    if (out.additionalProperties === undefined && !preserveUnknownFields) out.additionalProperties = false;
  }

  if (source.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

/**
 * Go (RE2) regexps are mostly valid JS; the exception seen in practice is a leading `(?i)` flag (possibly after `^`),
 * which JS lacks: it is rewritten by spelling each letter as a two-case class. Returns undefined when the result still
 * doesn't compile as a unicode JS regexp (ajv's mode).
 */
function toJsPattern(goPattern: string): string | undefined {
  let pattern = goPattern;
  const caseInsensitive = /^(\^?)\(\?i\)/.exec(pattern);
  if (caseInsensitive) {
    const body = pattern.slice(caseInsensitive[0].length);
    if (/\[[^\]]*[a-zA-Z]/.test(body) || /\\[a-zA-Z]/.test(body)) return undefined; // classes/escapes: not worth it
    pattern = caseInsensitive[1] + body.replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
  }
  try {
    new RegExp(pattern, 'u');
    return pattern;
  } catch {
    return undefined;
  }
}

/** Pins apiVersion/kind of a top-level schema and makes them required. */
function pinGroupVersionKind(schema: JsonSchema, apiVersion: string, kind: string): JsonSchema {
  return {
    ...schema,
    type: 'object',
    properties: {
      ...schema.properties,
      apiVersion: { type: 'string', enum: [apiVersion] },
      kind: { type: 'string', enum: [kind] },
    },
    required: [...new Set(['apiVersion', 'kind', ...(schema.required ?? [])])],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes (swagger) schemas
// ---------------------------------------------------------------------------------------------------------------

interface GeneratedSchema {
  apiVersion: string;
  kind: string;
  schema: JsonSchema;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const apiVersionOf = (gvk: GroupVersionKind) => (gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version);

/** Strict versions of every swagger definition, plus the definition → referenced definitions graph. */
function strictSwaggerDefinitions(swagger: JsonSchema, notes: string[]) {
  const definitions = new Map<string, JsonSchema>();
  const refsOf = new Map<string, Set<string>>();
  for (const [name, source] of Object.entries(swagger.definitions as Record<string, JsonSchema>)) {
    const refs = new Set<string>();
    const where = `#/definitions/${name}`;
    const schema = DEFINITION_OVERRIDES[name] ?? strictify(source, { where, inLogicalBranch: false, refs, notes });
    definitions.set(name, schema as JsonSchema);
    refsOf.set(name, refs);
  }
  for (const [name, refs] of refsOf) {
    const missing = [...refs].filter((ref) => !definitions.has(ref));
    if (missing.length > 0) throw new Error(`swagger: ${name} references missing definitions ${missing.join(', ')}`);
  }
  return { definitions, refsOf };
}

/** The names reachable from `roots` through $refs (roots included). */
function referenceClosure(roots: Iterable<string>, refsOf: Map<string, Set<string>>): string[] {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    pending.push(...(refsOf.get(name) ?? []));
  }
  return [...seen].sort();
}

function definitionsFor(names: Iterable<string>, strict: ReturnType<typeof strictSwaggerDefinitions>): JsonSchema {
  return Object.fromEntries(referenceClosure(names, strict.refsOf).map((n) => [n, strict.definitions.get(n)]));
}

function kubernetesSchemas(swagger: JsonSchema, strict: ReturnType<typeof strictSwaggerDefinitions>): GeneratedSchema[] {
  const schemas: GeneratedSchema[] = [];
  for (const [name, source] of Object.entries(swagger.definitions as Record<string, JsonSchema>)) {
    const gvks = source['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
    if (!gvks) continue;
    // Self-contained: the kind's own (strict) schema at the root, everything it references under `definitions`.
    const definitions = definitionsFor(strict.refsOf.get(name)!, strict);
    for (const gvk of gvks) {
      const apiVersion = apiVersionOf(gvk);
      const root = pinGroupVersionKind(strict.definitions.get(name)!, apiVersion, gvk.kind);
      const title = `${apiVersion} ${gvk.kind} (${name})`;
      schemas.push({ apiVersion, kind: gvk.kind, schema: { title, ...root, definitions } });
    }
  }
  return schemas;
}

// ---------------------------------------------------------------------------------------------------------------
// CRD schemas
// ---------------------------------------------------------------------------------------------------------------

function crdSchemas(file: string, strict: ReturnType<typeof strictSwaggerDefinitions>, notes: string[]): GeneratedSchema[] {
  const schemas: GeneratedSchema[] = [];
  const documents = yaml.loadAll(fs.readFileSync(file, 'utf8')) as JsonSchema[];
  for (const crd of documents) {
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const version of versions as JsonSchema[]) {
      const source = version.schema?.openAPIV3Schema;
      if (!source) throw new Error(`${file}: ${names.kind} ${version.name} has no openAPIV3Schema`);
      const apiVersion = `${group}/${version.name}`;
      const refs = new Set<string>();
      const where = `${path.basename(file)}#${version.name}`;
      const root = strictify(source, { where, inLogicalBranch: false, refs, notes }) as JsonSchema;
      // CRDs leave metadata as a bare `type: object`; the API server validates it as ObjectMeta, and so do we.
      root.properties = { ...root.properties, metadata: { $ref: `#/definitions/${OBJECT_META_REF}` } };
      schemas.push({
        apiVersion,
        kind: names.kind,
        schema: {
          title: `${apiVersion} ${names.kind} (CRD ${crd.metadata.name})`,
          ...pinGroupVersionKind(root, apiVersion, names.kind),
          definitions: definitionsFor([OBJECT_META_REF], strict),
        },
      });
    }
  }
  if (schemas.length === 0) throw new Error(`${file}: no CustomResourceDefinition found`);
  return schemas;
}

// ---------------------------------------------------------------------------------------------------------------
// Go module download
// ---------------------------------------------------------------------------------------------------------------

interface DownloadedModule extends SourceModule {
  dir: string;
  sum: string;
}

/** `go mod download -json`, run in an empty temp dir so no go.mod/go.work around us interferes. */
async function downloadModule(source: SourceModule, workDir: string): Promise<DownloadedModule> {
  const target = `${source.module}@${source.version}`;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', target], {
      cwd: workDir,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off' },
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new Error('gen-schemas: the `go` command is required (it downloads the spec sources)');
    const reported = err.stdout ? tryParse(err.stdout)?.Error : undefined;
    throw new Error(`gen-schemas: go mod download ${target} failed: ${reported ?? err.stderr ?? err.message}`);
  }
  const info = JSON.parse(stdout) as { Dir?: string; Sum?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`gen-schemas: go mod download ${target}: ${info.Error ?? 'no Dir reported'}`);
  return { ...source, dir: info.Dir, sum: info.Sum ?? '' };
}

function tryParse(text: string): JsonSchema | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sourceFile(mod: DownloadedModule, relative: string): string {
  const file = path.join(mod.dir, relative);
  if (!fs.existsSync(file)) {
    const parent = path.dirname(file);
    const siblings = fs.existsSync(parent) ? fs.readdirSync(parent).join(', ') : '(directory missing)';
    throw new Error(
      `gen-schemas: ${relative} not found in ${mod.module}@${mod.version} (${parent}: ${siblings}); update CRD_SOURCES`,
    );
  }
  return file;
}

/** Absolute paths of the CRD files we emit objects of (downloaded into the Go module cache when missing). */
export async function crdFiles(): Promise<string[]> {
  const goWorkDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-schemas-go-'));
  try {
    const modules = await Promise.all(CRD_SOURCES.map((m) => downloadModule(m, goWorkDir)));
    return CRD_SOURCES.flatMap((source, i) => source.files.map((f) => sourceFile(modules[i], f)));
  } finally {
    fs.rmSync(goWorkDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

function generatorHash(): string {
  return createHash('sha256').update(fs.readFileSync(__filename)).digest('hex');
}

/** The manifest of SCHEMA_DIR when it holds a complete output of this exact generator, else undefined. */
function currentManifest(): SchemaManifest | undefined {
  const manifestPath = path.join(SCHEMA_DIR, MANIFEST_FILE);
  if (!fs.existsSync(manifestPath)) return undefined;
  const manifest = tryParse(fs.readFileSync(manifestPath, 'utf8')) as SchemaManifest | undefined;
  if (!manifest || manifest.generatorHash !== generatorHash()) return undefined;
  const files = Object.values(manifest.schemas).flatMap((kinds) => Object.values(kinds));
  return files.every((f) => fs.existsSync(path.join(SCHEMA_DIR, f))) ? manifest : undefined;
}

const schemaFileName = (apiVersion: string, kind: string) => `${apiVersion.replace(/\//g, '_')}_${kind}.json`;

/** Generates the schemas unless they are current (or `force`). Returns what it did and the manifest. */
export async function generateSchemas(
  opts: { force?: boolean } = {},
): Promise<{ status: 'up-to-date' | 'generated'; manifest: SchemaManifest }> {
  const current = opts.force ? undefined : currentManifest();
  if (current) return { status: 'up-to-date', manifest: current };

  const goWorkDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-schemas-go-'));
  let modules: DownloadedModule[];
  try {
    modules = await Promise.all([KUBERNETES, ...CRD_SOURCES].map((m) => downloadModule(m, goWorkDir)));
  } finally {
    fs.rmSync(goWorkDir, { recursive: true, force: true });
  }
  const [kubernetes, ...crdModules] = modules;

  const notes: string[] = [];
  const swagger = JSON.parse(fs.readFileSync(sourceFile(kubernetes, KUBERNETES_SWAGGER), 'utf8')) as JsonSchema;
  const strict = strictSwaggerDefinitions(swagger, notes);
  for (const [name, replacement] of Object.entries(DEFINITION_OVERRIDES)) {
    notes.push(`${name}: replaced by ${JSON.stringify(replacement)}`);
  }

  const generated = kubernetesSchemas(swagger, strict);
  CRD_SOURCES.forEach((source, i) => {
    for (const file of source.files) generated.push(...crdSchemas(sourceFile(crdModules[i], file), strict, notes));
  });

  const manifest: SchemaManifest = {
    generatorHash: generatorHash(),
    generatedAt: new Date().toISOString(),
    modules: modules.map(({ module, version, sum }) => ({ module, version, sum })),
    schemas: {},
    notes,
  };
  fs.mkdirSync(path.dirname(SCHEMA_DIR), { recursive: true });
  const staging = fs.mkdtempSync(`${SCHEMA_DIR}.tmp-`);
  try {
    for (const { apiVersion, kind, schema } of generated) {
      const byKind = (manifest.schemas[apiVersion] ??= {});
      if (byKind[kind]) throw new Error(`gen-schemas: two schemas for ${apiVersion} ${kind}`);
      byKind[kind] = schemaFileName(apiVersion, kind);
      fs.writeFileSync(path.join(staging, byKind[kind]), JSON.stringify(schema));
    }
    fs.writeFileSync(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    replaceDirectory(staging, SCHEMA_DIR);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { status: 'generated', manifest };
}

/** Moves `staging` to `target`, replacing an old target; tolerates a concurrent run that got there first. */
function replaceDirectory(staging: string, target: string): void {
  const retired = `${target}.old-${process.pid}`;
  try {
    fs.renameSync(target, retired);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // nothing to replace
  }
  try {
    fs.renameSync(staging, target);
  } catch (e) {
    // Another generator won the race: its output is equivalent, keep it.
    if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    fs.rmSync(retired, { recursive: true, force: true });
  }
}

// Run as a script (`npx tsx scripts/gen-schemas.ts`), not when imported.
if (process.argv[1] && fs.existsSync(process.argv[1]) && fs.realpathSync(process.argv[1]) === fs.realpathSync(__filename)) {
  const started = Date.now();
  generateSchemas({ force: process.argv.includes('--force') }).then(
    ({ status, manifest }) => {
      const count = Object.values(manifest.schemas).reduce((n, kinds) => n + Object.keys(kinds).length, 0);
      const where = path.relative(process.cwd(), SCHEMA_DIR);
      console.log(`gen-schemas: ${status}, ${count} schemas in ${where} (${Date.now() - started} ms)`);
    },
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
