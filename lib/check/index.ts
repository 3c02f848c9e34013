/**
 * `scalecharts check` as a library: the strict Kubernetes 1.28 / CRD schema checks and the kube-linter default checks
 * the test suite runs on everything it synthesizes, for users' CI. Usable three ways: `npx scalecharts check <dir>`,
 * `checkObjects(objects)` from code, or as a cdk8s CLI validation plugin (`ScalechartsValidation`, see docs/check.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { lintObjects, type Finding } from './kubelint';
import { validateObject } from './schema';

export { CHECK_NAMES, IGNORE_ALL_ANNOTATION, IGNORE_CHECK_PREFIX, UNDOCUMENTED_EXEMPTION, formatFindings, lintObjects } from './kubelint';
export type { Finding } from './kubelint';
export { knownKinds, schemaLocation, validateObject, validateObjects } from './schema';

/** A Kubernetes object read from a manifest file. */
export interface ManifestObject {
  /** The file it was read from. */
  readonly file: string;
  /** Position of the document in its file, from 0. */
  readonly index: number;
  readonly object: unknown;
}

/** One problem `check` found. */
export interface CheckProblem {
  /** `schema`, or the kube-linter check name. */
  readonly rule: string;
  readonly file?: string;
  /** `Kind/name`. */
  readonly resource: string;
  readonly message: string;
  /** How to fix it (lint findings only). */
  readonly remediation?: string;
}

export interface CheckResult {
  /** Objects checked. */
  readonly objects: number;
  readonly problems: readonly CheckProblem[];
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * The manifest files under `paths`: files as given, directories walked recursively for `.yaml`/`.yml`/`.json` (skipping
 * hidden entries and `node_modules`). Sorted, so output is stable. Throws when a path does not exist.
 */
export function manifestFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name))) files.push(full);
    }
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new Error(`no such file or directory: ${p}`);
    if (fs.statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
  return [...new Set(files)].sort();
}

/** Every object of every document in `files` (empty documents skipped; `List` kinds are not expanded). */
export function readManifests(files: readonly string[]): ManifestObject[] {
  return files.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    let documents: unknown[];
    try {
      documents = path.extname(file) === '.json' ? [JSON.parse(text)] : yaml.loadAll(text);
    } catch (e) {
      throw new Error(`${file}: not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
    }
    return documents.flatMap((object, index) => (object === null || object === undefined ? [] : [{ file, index, object }]));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const resourceOf = (o: any): string => `${typeof o?.kind === 'string' ? o.kind : '<no kind>'}/${typeof o?.metadata?.name === 'string' ? o.metadata.name : '<no name>'}`;

/**
 * Runs the schema checks on each object and the kube-linter default checks over the whole set (some look across
 * objects, e.g. a Service selecting no pod). Lint runs on every object, schema-valid or not.
 */
export function checkManifests(manifests: readonly ManifestObject[]): CheckResult {
  const problems: CheckProblem[] = [];
  for (const m of manifests) {
    for (const message of validateObject(m.object)) {
      problems.push({ rule: 'schema', file: m.file, resource: resourceOf(m.object), message });
    }
  }
  const fileOf = new Map<unknown, string>(manifests.map((m) => [m.object, m.file]));
  const objects = manifests.map((m) => m.object);
  const findings = lintObjects(objects);
  for (const f of findings) problems.push(lintProblem(f, objects, fileOf));
  return { objects: manifests.length, problems };
}

function lintProblem(f: Finding, objects: readonly unknown[], fileOf: Map<unknown, string>): CheckProblem {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const object = objects.find((o: any) => o?.kind === f.kind && o?.metadata?.name === f.name);
  const file = object === undefined ? undefined : fileOf.get(object);
  return { rule: f.check, ...(file === undefined ? {} : { file }), resource: `${f.kind}/${f.name}`, message: f.message, remediation: f.remediation };
}

/** Checks in-memory objects (e.g. `chart.toJson()`). */
export function checkObjects(objects: readonly unknown[]): CheckResult {
  return checkManifests(objects.map((object, index) => ({ file: '<memory>', index, object })));
}

/** One line per problem: `file: Kind/name: message [rule]`. */
export function formatProblems(problems: readonly CheckProblem[]): string {
  return problems.map((p) => `${p.file ? `${p.file}: ` : ''}${p.message.startsWith(p.resource) ? '' : `${p.resource}: `}${p.message} [${p.rule}]`).join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// cdk8s CLI validation plugin (`validations:` in cdk8s.yaml). The CLI's types are not imported: a plugin only needs
// the shape, and consumers need not depend on cdk8s-cli's internals.
// ---------------------------------------------------------------------------------------------------------------

/** The part of cdk8s-cli's `ValidationContext` the plugin uses. */
export interface Cdk8sValidationContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: {
      ruleName: string;
      recommendation: string;
      fix: string;
      violatingResources: Array<{ resourceName: string; locations: string[]; manifestPath: string }>;
    }): void;
    submit(status: 'success' | 'failure', metadata?: Record<string, string>): void;
  };
  readonly logger: { log(message: string): void };
}

/** Properties of the plugin, from `validations[].properties` in cdk8s.yaml. */
export interface ScalechartsValidationProps {
  /** Skip the kube-linter checks. @default false */
  readonly skipLint?: boolean;
}

/**
 * The checks as a cdk8s CLI validation plugin: `cdk8s synth` runs them on the manifests it wrote and fails when any
 * is violated. In cdk8s.yaml:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/scalecharts
 *     version: 0.1.0          # informational for local packages; must be exact
 *     class: ScalechartsValidation
 * ```
 */
export class ScalechartsValidation {
  constructor(private readonly props: ScalechartsValidationProps = {}) {}

  public async validate(context: Cdk8sValidationContext): Promise<void> {
    const manifests = readManifests(context.manifests);
    const { problems } = checkManifests(manifests);
    const byRule = new Map<string, CheckProblem[]>();
    for (const p of problems) {
      if (this.props.skipLint && p.rule !== 'schema') continue;
      byRule.set(p.rule, [...(byRule.get(p.rule) ?? []), p]);
    }
    for (const [rule, list] of byRule) {
      context.report.addViolation({
        ruleName: rule,
        recommendation: rule === 'schema' ? 'Objects must match the Kubernetes 1.28 / CRD schema exactly' : list[0]!.message,
        fix: list[0]!.remediation ?? 'Fix the fields named in the messages',
        violatingResources: list.map((p) => ({
          resourceName: p.resource,
          locations: [p.message],
          manifestPath: p.file ?? '',
        })),
      });
    }
    context.report.submit(byRule.size === 0 ? 'success' : 'failure', { objects: String(manifests.length) });
  }
}
