/**
 * Third-party manifest scanners (kube-score, Checkov, Trivy) over plain YAML files, their findings in one shape,
 * and the committed exemption list (test/scanners/exemptions.yaml) they are checked against.
 *
 * The binaries come from scripts/setup.d/scanners.sh: $SCALECHARTS_TOOLS (default ~/.cache/scalecharts/bin).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';

export const TOOLS = process.env.SCALECHARTS_TOOLS ?? path.join(os.homedir(), '.cache', 'scalecharts', 'bin');

export type Scanner = 'kube-score' | 'checkov' | 'trivy';

/** One finding, whatever the scanner. */
export interface Finding {
  readonly scanner: Scanner;
  readonly check: string;
  /** The file scanned, e.g. `example/ida.yaml` or `chart/ida.yaml`. */
  readonly source: string;
  readonly kind: string;
  readonly name: string;
  /** Container the finding is about, when the scanner says. */
  readonly container?: string;
  readonly message: string;
  /** The object's `app.kubernetes.io/component` label (filled in by {@link withComponents}). */
  readonly component?: string;
}

export interface Exemption {
  readonly scanner: Scanner;
  /** Check id, or several. */
  readonly check: string | readonly string[];
  /** Globs (`*` only) over the object name; chart renders are matched without their release prefix. @default `*` */
  readonly name?: string | readonly string[];
  /** Globs over the object's `app.kubernetes.io/component` label (server, worker, migration, primary, …). @default `*` */
  readonly component?: string | readonly string[];
  /** Glob over the scanner's message, when one check id reports several things. @default `*` */
  readonly message?: string;
  /** Glob over the object kind. @default `*` */
  readonly kind?: string;
  /** Glob over the container, for findings that name one. @default `*` */
  readonly container?: string;
  /** Why the finding is accepted: a reviewer must be able to agree or refuse. */
  readonly reason: string;
  /** `style` (a practice we deliberately do not follow), `justified` (a real gap we accept, and why), or
   * `pending` (fixed by the named open issue; reported when it no longer matches, instead of failing). */
  readonly class: 'style' | 'justified' | 'pending';
  readonly issue?: number;
}

/** Scanners whose exemptions have been reviewed (the list's `gated:`); the others run report-only. */
export function gatedScanners(file: string): Set<Scanner> {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { gated?: Scanner[] };
  return new Set(doc.gated ?? []);
}

export function loadExemptions(file: string): Exemption[] {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { exemptions: Exemption[] };
  for (const [i, e] of doc.exemptions.entries()) {
    for (const key of ['scanner', 'reason', 'class'] as const) {
      if (typeof e[key] !== 'string' || e[key] === '') throw new Error(`${file}: exemptions[${i}] needs a ${key}`);
    }
    if (!(typeof e.check === 'string' ? [e.check] : e.check ?? []).every((c) => typeof c === 'string' && c !== '') || !e.check?.length) throw new Error(`${file}: exemptions[${i}] needs a check`);
    if (!['style', 'justified', 'pending'].includes(e.class)) throw new Error(`${file}: exemptions[${i}].class must be style, justified or pending`);
    if (e.class === 'pending' && typeof e.issue !== 'number') throw new Error(`${file}: exemptions[${i}] is pending: name its issue`);
  }
  return doc.exemptions;
}

const glob = (pattern: string, value: string | undefined): boolean =>
  new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value ?? '');

const anyGlob = (patterns: string | readonly string[] | undefined, value: string | undefined): boolean =>
  patterns === undefined || (typeof patterns === 'string' ? [patterns] : patterns).some((p) => glob(p, value));

export function exempts(e: Exemption, f: Finding): boolean {
  return e.scanner === f.scanner && (typeof e.check === 'string' ? e.check === f.check : e.check.includes(f.check)) && anyGlob(e.name, f.name) && anyGlob(e.kind, f.kind)
    && anyGlob(e.component, f.component) && anyGlob(e.message, f.message)
    && (e.container === undefined || e.container === '*' || glob(e.container, f.container));
}

/** Adds each finding's object `app.kubernetes.io/component` label, looked up in the scanned objects by source. */
export function withComponents(findings: Finding[], objects: Record<string, Array<Record<string, any>>>, releases: Record<string, string | undefined>): Finding[] {
  const index = new Map<string, string>();
  for (const [source, objs] of Object.entries(objects)) {
    for (const o of objs) {
      const component = o.metadata?.labels?.['app.kubernetes.io/component'];
      // Checkov reports pods of a workload as kind Pod: index the workload under both.
      const name = baseName(o.metadata?.name ?? '', releases[source]);
      if (component) for (const kind of [o.kind, 'Pod']) index.set(`${source}|${kind}/${name}`, component);
    }
  }
  return findings.map((f) => {
    const component = index.get(`${f.source}|${f.kind}/${f.name}`);
    return component ? { ...f, component } : f;
  });
}

export function describeFinding(f: Finding): string {
  return `${f.scanner} ${f.check} ${f.source} ${f.kind}/${f.name}${f.component ? ` [${f.component}]` : ''}${f.container ? ` (${f.container})` : ''}: ${f.message}`;
}

interface RunResult { readonly code: number; readonly stdout: string; readonly stderr: string }

function run(bin: string, args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

export function toolPath(name: string): string | undefined {
  const p = path.join(TOOLS, name);
  return fs.existsSync(p) ? p : undefined;
}

/** Strips a chart render's release prefix so one exemption covers the example and its chart. */
function baseName(name: string, release?: string): string {
  return release && name.startsWith(`${release}-`) ? name.slice(release.length + 1) : name;
}

/** kube-score `score` on one file: every check graded below OK (10), one finding per check, object and container. */
export async function kubeScore(file: string, source: string, release?: string): Promise<Finding[]> {
  const r = await run(toolPath('kube-score') ?? 'kube-score', ['score', '-o', 'json', file]);
  if (r.stdout.trim() === '') throw new Error(`kube-score failed on ${file}: ${r.stderr}`);
  const objects = JSON.parse(r.stdout) as Array<{
    type_meta: { kind: string }; object_meta: { name: string };
    checks: Array<{ check: { id: string }; grade: number; skipped: boolean; comments: Array<{ path: string; summary: string }> | null }>;
  }>;
  const out = new Map<string, Finding>();
  for (const o of objects) {
    for (const c of o.checks) {
      if (c.skipped || c.grade >= 10) continue;
      for (const comment of c.comments ?? [{ path: '', summary: '' }]) {
        const f: Finding = {
          scanner: 'kube-score', check: c.check.id, source, kind: o.type_meta.kind, name: baseName(o.object_meta.name, release),
          ...(comment.path ? { container: comment.path } : {}), message: comment.summary,
        };
        const key = `${f.check}|${f.kind}/${f.name}|${f.container ?? ''}`;
        if (!out.has(key)) out.set(key, f);
      }
    }
  }
  return [...out.values()];
}

/** Checkov's kubernetes framework over a directory of YAML files (offline: no guideline download, no SCA). */
export async function checkov(dir: string, sources: Record<string, { source: string; release?: string }>): Promise<Finding[]> {
  const r = await run(toolPath('checkov') ?? 'checkov',
    ['-d', dir, '--framework', 'kubernetes', '-o', 'json', '--quiet', '--compact', '--skip-download'],
    { BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false', LOG_LEVEL: 'ERROR' });
  if (r.stdout.trim() === '') throw new Error(`checkov failed on ${dir}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as unknown;
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ results?: { failed_checks?: Array<{ check_id: string; check_name: string; resource: string; file_path: string }> } }>;
  const out: Finding[] = [];
  for (const report of reports) {
    for (const f of report.results?.failed_checks ?? []) {
      // `Kind.namespace.name[.labels…]` (graph checks add the pod labels).
      const [kind, , name] = f.resource.split('.');
      const src = sources[path.basename(f.file_path)];
      out.push({ scanner: 'checkov', check: f.check_id, source: src?.source ?? f.file_path, kind, name: baseName(name, src?.release), message: f.check_name });
    }
  }
  return out;
}

const KINDS: Record<string, string> = {
  deployment: 'Deployment', statefulset: 'StatefulSet', job: 'Job', cronjob: 'CronJob', daemonset: 'DaemonSet', pod: 'Pod', replicaset: 'ReplicaSet',
};

/** `trivy config` over a directory, with the checks built into the binary (no download). */
export async function trivy(dir: string, sources: Record<string, { source: string; release?: string }>): Promise<Finding[]> {
  const r = await run(toolPath('trivy') ?? 'trivy',
    ['config', '--quiet', '--format', 'json', '--skip-check-update', '--cache-dir', path.join(os.tmpdir(), 'scalecharts-trivy-cache'), dir]);
  if (r.code !== 0 || r.stdout.trim() === '') throw new Error(`trivy failed on ${dir}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as {
    Results?: Array<{ Target: string; Misconfigurations?: Array<{ ID: string; AVDID?: string; Title: string; Message: string; Status: string; CauseMetadata?: { Resource?: string } }> }>;
  };
  const out: Finding[] = [];
  for (const res of report.Results ?? []) {
    const src = sources[path.basename(res.Target)];
    for (const m of res.Misconfigurations ?? []) {
      if (m.Status !== 'FAIL') continue;
      // Trivy 0.6x says `KSV017`, newer releases `KSV-0017`: one spelling for the exemption list.
      const short = /^KSV(\d+)$/.exec(m.ID);
      const id = short ? `KSV-${short[1].padStart(4, '0')}` : m.ID;
      // Messages read "Container 'app' of Deployment 'api' should …"; the resource is `Kind/name` when given.
      // …or "Container app in deployment api (namespace: shop) uses …" (KSV-0125).
      const about = /(?:Container '([^']+)' of )?(\w+) '([^']+)'/.exec(m.Message);
      const lower = /^Container (\S+) in (\w+) (\S+) \(namespace/.exec(m.Message);
      const [container, kind, name] = about ? [about[1], about[2], about[3]]
        : lower ? [lower[1], KINDS[lower[2]] ?? lower[2], lower[3]]
          : [undefined, ...(m.CauseMetadata?.Resource ?? '/').split('/')];
      out.push({
        scanner: 'trivy', check: id, source: src?.source ?? res.Target, kind, name: baseName(name, src?.release),
        ...(container ? { container } : {}), message: m.Title,
      });
    }
  }
  return out;
}

/**
 * Trivy builds in the background (scripts/setup.d/scanners.sh): waits for its done-marker, at most `maxSeconds`.
 * Returns the binary, or why there is none.
 */
export async function waitForTrivy(maxSeconds: number): Promise<{ bin?: string; why: string }> {
  const marker = path.join(TOOLS, 'trivy.done');
  const building = path.join(TOOLS, 'trivy.building');
  const deadline = Date.now() + maxSeconds * 1000;
  const alive = () => {
    try {
      process.kill(Number(fs.readFileSync(building, 'utf8').trim()), 0);
      return true;
    } catch {
      return false; // no marker file, or its build died with the machine
    }
  };
  while (!fs.existsSync(marker) && alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5000));
  const bin = toolPath('trivy');
  if (bin && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').includes(' ok')) return { bin, why: fs.readFileSync(marker, 'utf8').trim() };
  if (fs.existsSync(marker)) return { why: `trivy build: ${fs.readFileSync(marker, 'utf8').trim()} (see ${path.dirname(TOOLS)}/trivy-build.log)` };
  if (fs.existsSync(building)) return { why: `trivy still building after ${maxSeconds} s (SCALECHARTS_TRIVY_WAIT)` };
  return { why: 'trivy not installed (scripts/setup.d/scanners.sh, SCALECHARTS_TRIVY=0?)' };
}

/** Per-workload counts: findings grouped by the workload (pod-owning kind) they are about. */
export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'ReplicaSet']);
