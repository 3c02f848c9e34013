/**
 * Strict schema validation of Kubernetes objects against JSON Schemas generated at build time by
 * scripts/gen-schemas.ts (Kubernetes 1.28 API + the KEDA / Prometheus Operator CRDs we emit): unknown fields, wrong
 * types, missing required fields and unknown apiVersion/kind pairs are all errors.
 *
 * Where the schemas come from (first that exists): `$SCALECHARTS_SCHEMAS` (a bundle file or a generator output
 * directory), the bundle shipped in the package (`schemas.json` beside the compiled library), or the generator's
 * output in a source checkout (`.cache/schemas/`). Never fetched at run time.
 *
 * Schemas are read lazily and each is compiled once per process; validating an object is then a function call.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';

/** File name of the generator's manifest in its output directory. */
export const MANIFEST_FILE = 'manifest.json';
/** File name of the shipped bundle, beside the compiled library's index.js. */
export const SCHEMA_BUNDLE_FILE = 'schemas.json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonSchema = Record<string, any>;

/** What scripts/gen-schemas.ts records in manifest.json. */
export interface SchemaManifest {
  readonly generatorHash: string;
  readonly generatedAt: string;
  readonly modules: ReadonlyArray<{ readonly module: string; readonly version: string; readonly sum: string }>;
  /** apiVersion → kind → schema file name (relative to the manifest). */
  readonly schemas: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Places where the sources needed special handling, for the curious. */
  readonly notes: readonly string[];
}

/**
 * The shipped form: every definition once (the per-kind files repeat them), each kind's root schema without its
 * `definitions`; a kind's schema is its root plus the definitions it reaches.
 */
export interface SchemaBundle {
  readonly format: 1;
  readonly generatedAt: string;
  readonly modules: SchemaManifest['modules'];
  readonly definitions: Readonly<Record<string, JsonSchema>>;
  /** apiVersion → kind → root schema. */
  readonly kinds: Readonly<Record<string, Readonly<Record<string, JsonSchema>>>>;
}

/** Where the schemas are and how to read one. */
interface SchemaSource {
  readonly where: string;
  readonly kinds: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  load(apiVersion: string, kind: string): JsonSchema;
}

const GENERATE_HINT = 'in a source checkout run `npx tsx scripts/gen-schemas.ts`; the published package ships them';

function fromDirectory(dir: string): SchemaSource {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as SchemaManifest;
  return {
    where: dir,
    kinds: manifest.schemas,
    load(apiVersion, kind) {
      const file = path.join(dir, manifest.schemas[apiVersion]![kind]!);
      if (!fs.existsSync(file)) throw new Error(`scalecharts check: ${file} is missing; ${GENERATE_HINT}`);
      return JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema;
    },
  };
}

function fromBundle(file: string): SchemaSource {
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as SchemaBundle;
  if (bundle.format !== 1) throw new Error(`scalecharts check: ${file} has unknown format ${String(bundle.format)}`);
  return {
    where: file,
    kinds: bundle.kinds,
    load(apiVersion, kind) {
      const root = bundle.kinds[apiVersion]![kind]!;
      return { ...root, definitions: reachableDefinitions(root, bundle.definitions) };
    },
  };
}

/** The definitions `root` reaches through `#/definitions/…` references, transitively. */
export function reachableDefinitions(root: JsonSchema, all: Readonly<Record<string, JsonSchema>>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const pending = [...refsIn(root)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (name in out) continue;
    const definition = all[name];
    if (!definition) throw new Error(`scalecharts check: schema bundle lacks definition ${name}`);
    out[name] = definition;
    pending.push(...refsIn(definition));
  }
  return out;
}

function refsIn(schema: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) refsIn(item, found);
  } else if (schema && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/definitions/')) {
        found.add(value.slice('#/definitions/'.length));
      } else if (key !== 'definitions') {
        refsIn(value, found);
      }
    }
  }
  return found;
}

/** Candidate locations, in order; see the file comment. */
function candidates(): string[] {
  const fromEnv = process.env.SCALECHARTS_SCHEMAS;
  return [
    ...(fromEnv ? [fromEnv] : []),
    path.join(__dirname, '..', SCHEMA_BUNDLE_FILE), // compiled: build/check/ → build/schemas.json
    path.join(__dirname, '..', '..', '.cache', 'schemas'), // sources: lib/check/ → .cache/schemas/
  ];
}

let source: SchemaSource | undefined;

function schemaSource(): SchemaSource {
  if (source) return source;
  for (const where of candidates()) {
    if (!fs.existsSync(where)) continue;
    if (fs.statSync(where).isDirectory()) {
      if (fs.existsSync(path.join(where, MANIFEST_FILE))) return (source = fromDirectory(where));
    } else {
      return (source = fromBundle(where));
    }
  }
  throw new Error(`scalecharts check: no schemas found (looked in ${candidates().join(', ')}); ${GENERATE_HINT}`);
}

/** Where the schemas in use were read from. */
export function schemaLocation(): string {
  return schemaSource().where;
}

// ajv is loaded on the first validation only, so importing the library (every synth) does not pay for it.
type AjvInstance = { compile(schema: JsonSchema): ValidateFunction };
let ajv: AjvInstance | undefined;
const validators = new Map<string, ValidateFunction>();

function compiler(): AjvInstance {
  if (!ajv) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    ajv = new Ajv({
      allErrors: true, // report every problem of an object, not just the first
      verbose: true, // errors carry the offending value and schema, for messages
      strict: true,
      strictRequired: false, // structural schemas may list `required` in anyOf/oneOf branches without their `properties`
      allowUnionTypes: true, // int-or-string, Quantity, nullable
      validateSchema: false, // generated by us and compiled in strict mode anyway; the meta-schema check only costs time
      code: { optimize: false }, // halves compile time of the big pod-bearing schemas; validation speed is unchanged
    });
  }
  return ajv;
}

function validatorFor(apiVersion: string, kind: string): ValidateFunction {
  const key = `${apiVersion} ${kind}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = compiler().compile(schemaSource().load(apiVersion, kind));
    validators.set(key, validate);
  }
  return validate;
}

/** Every (apiVersion, kind) that has a schema. */
export function knownKinds(): Array<{ apiVersion: string; kind: string }> {
  return Object.entries(schemaSource().kinds).flatMap(([apiVersion, kinds]) =>
    Object.keys(kinds).map((kind) => ({ apiVersion, kind })),
  );
}

/** The apiVersions that have a schema for `kind`, for "did you mean" hints. */
function apiVersionsWithKind(kind: string): string[] {
  return Object.entries(schemaSource().kinds)
    .filter(([, kinds]) => kind in kinds)
    .map(([apiVersion]) => apiVersion);
}

/**
 * Schema violations of one object; empty when it is valid. Each message names the object (`Kind/name`), its
 * apiVersion and the JSON path of the problem, e.g.
 * `Deployment/web (apps/v1) spec.template.spec.containers[0].securityContext.foo: unknown field`.
 */
export function validateObject(obj: unknown): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return [`not a Kubernetes object: ${preview(obj)}`];
  }
  const { apiVersion, kind, metadata } = obj as JsonSchema;
  const name = metadata?.name ?? '<no name>';
  const label = `${typeof kind === 'string' ? kind : '<no kind>'}/${name} (${apiVersion ?? 'no apiVersion'})`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [`${label}: apiVersion and kind must be strings, got apiVersion ${preview(apiVersion)}, kind ${preview(kind)}`];
  }
  if (schemaSource().kinds[apiVersion]?.[kind] === undefined) {
    const known = apiVersionsWithKind(kind);
    const hint = known.length > 0 ? `; ${kind} exists in ${known.join(', ')}` : `; no apiVersion knows kind ${kind}`;
    return [`${label}: no schema for apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)}${hint}`];
  }
  const validate = validatorFor(apiVersion, kind);
  if (validate(obj)) return [];
  const messages = (validate.errors ?? []).map((e) => `${label} ${describeError(e)}`);
  return [...new Set(messages)];
}

/** Schema violations of every object, in order. */
export function validateObjects(objs: readonly unknown[]): string[] {
  return objs.flatMap((o) => validateObject(o));
}

/** Throws one Error listing every schema violation of `objs`. */
export function expectValidObjects(objs: readonly unknown[]): void {
  const problems = validateObjects(objs);
  if (problems.length > 0) {
    throw new Error(`${problems.length} schema violation(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------------------------

/** `path: message`, with the path in dotted JSON-path form pointing at the offending field itself. */
function describeError(error: ErrorObject): string {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(error.params.additionalProperty);
      const allowed = Object.keys(error.parentSchema?.properties ?? {});
      const suggestion = closest(field, allowed);
      const hint = suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '';
      return `${jsonPath([...segments, field])}: unknown field${hint}`;
    }
    case 'required':
      return `${jsonPath([...segments, String(error.params.missingProperty)])}: required field is missing`;
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(preview).join(', ');
      return `${jsonPath(segments)}: must be one of ${allowed}, got ${preview(error.data)}`;
    }
    case 'type':
      return `${jsonPath(segments)}: must be ${[error.params.type].flat().join(' or ')}, got ${preview(error.data)}`;
    default:
      return `${jsonPath(segments)}: ${error.message ?? error.keyword}, got ${preview(error.data)}`;
  }
}

/** `spec.containers[0].name`; keys that aren't identifiers are bracketed: `metadata.labels["app.kubernetes.io/name"]`. */
function jsonPath(segments: string[]): string {
  if (segments.length === 0) return '(root)';
  return segments
    .map((s, i) => {
      if (/^\d+$/.test(s)) return `[${s}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(s)) return i === 0 ? s : `.${s}`;
      return `[${JSON.stringify(s)}]`;
    })
    .join('');
}

function preview(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The allowed name within edit distance 2 of `name`, if any (catches typos like `replica`/`replicas`). */
function closest(name: string, allowed: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
