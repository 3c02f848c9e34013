#!/usr/bin/env node
/**
 * The `scalecharts` command: `chart` (Helm chart writer), `capacity` (capacity report of any app or manifests) and
 * `check` (strict schema + kube-linter checks). Exit codes, for CI: 0 success, 1 the command ran and found problems
 * or failed, 2 usage error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { capacityReport, chartCapacityReport, renderCapacityMarkdown, renderCapacitySummary, type CapacityReport } from '../capacity-report';
import { checkManifests, formatProblems, manifestFiles, readManifests } from '../check';
import { writeHelmChart } from '../helm';
import { chartsOf, loadApp } from './load-app';

/** Exit codes. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

/** Thrown for bad arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

interface Command {
  readonly usage: string;
  readonly help: string;
  /** Option name → takes a value. */
  readonly options: Readonly<Record<string, boolean>>;
  run(positional: string[], flags: Record<string, string | true>, io: CommandIo): number;
}

const COMMANDS: Record<string, Command> = {
  chart: {
    usage: 'scalecharts chart <app file> <out dir> [--name <chart>] [--version <semver>] [--app-version <v>] [--description <text>] [--export <function>]',
    help: `Writes a Helm chart from a cdk8s app file.

The app file (.js, or .ts with tsx or ts-node installed in your project) exports a function taking a cdk8s App
(with several: the default export, the one named after the file, or --export <name>), or an App / Chart instance.

Options:
  --name <chart>          chart name (default: the id of the first cdk8s Chart)
  --version <semver>      chart version (default 0.1.0)
  --app-version <v>       appVersion (default: the chart version)
  --description <text>    one-line description
  --export <function>     which export of the app file to use`,
    options: { name: true, version: true, 'app-version': true, description: true, export: true },
    run(positional, flags, io) {
      if (positional.length !== 2) throw new UsageError('expected <app file> and <out dir>');
      const [appFile, outDir] = positional as [string, string];
      const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
      const options = Object.fromEntries(
        Object.entries({ name: str('name'), version: str('version'), appVersion: str('app-version'), description: str('description') })
          .filter(([, v]) => v !== undefined),
      );
      const chart = writeHelmChart(loadApp(appFile, str('export')), outDir, options);
      const templates = [...chart.files.keys()].filter((f) => f.startsWith('templates/')).length;
      io.out(`wrote chart ${chart.name} to ${outDir}: ${chart.model.values.length} values, ${templates} template files, ${chart.model.objects.length} objects`);
      return EXIT.ok;
    },
  },

  capacity: {
    usage: 'scalecharts capacity <app file | manifest dirs/files...> [--format summary|markdown|json] [--out <dir>] [--export <function>]',
    help: `Prints the capacity report (replicas, CPU and memory at min and max scale, storage, database connections):
of each chart of a cdk8s app file (.js/.ts, as for \`scalecharts chart\`), or of each manifest file (e.g. the dist/ that
\`cdk8s synth\` wrote, whichever tool produced them).

Options:
  --format <f>            summary (default: one line each), markdown, or json
  --out <dir>             also write <name>.capacity.md per chart/file into <dir>
  --export <function>     which export of the app file to use`,
    options: { format: true, out: true, export: true },
    run(positional, flags, io) {
      if (positional.length === 0) throw new UsageError('expected an app file or manifest files/directories');
      const format = flags.format ?? 'summary';
      if (format !== 'summary' && format !== 'markdown' && format !== 'json') {
        throw new UsageError(`--format must be summary, markdown or json, got ${JSON.stringify(format)}`);
      }
      const reports = capacityReports(positional, typeof flags.export === 'string' ? flags.export : undefined);
      if (reports.length === 0) throw new Error(`no workloads found in ${positional.join(', ')}`);
      if (format === 'json') io.out(JSON.stringify(Object.fromEntries(reports.map(({ title, report }) => [title, report])), null, 2));
      else io.out(reports.map(({ title, report }) => (format === 'markdown' ? renderCapacityMarkdown(title, report) : renderCapacitySummary(title, report))).join('\n'));
      if (typeof flags.out === 'string') {
        fs.mkdirSync(flags.out, { recursive: true });
        for (const { title, report } of reports) fs.writeFileSync(path.join(flags.out, `${title}.capacity.md`), renderCapacityMarkdown(title, report));
      }
      return EXIT.ok;
    },
  },

  check: {
    usage: 'scalecharts check <dir | files...> [--format text|json] [--skip-lint]',
    help: `Checks Kubernetes manifests (.yaml/.yml/.json; directories are walked) against the strict Kubernetes 1.28 schema
and the KEDA / Prometheus Operator CRD schemas (unknown fields are errors), and runs kube-linter's default checks.
Exempt an object from a lint check with the annotation ignore-check.kube-linter.io/<check>: <reason>.
Exits 1 when anything is found, so it can gate CI.

Options:
  --format <f>            text (default) or json
  --skip-lint             schema checks only`,
    options: { format: true, 'skip-lint': false },
    run(positional, flags, io) {
      if (positional.length === 0) throw new UsageError('expected manifest files or directories');
      const format = flags.format ?? 'text';
      if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got ${JSON.stringify(format)}`);
      const files = manifestFiles(positional);
      if (files.length === 0) throw new Error(`no .yaml, .yml or .json files in ${positional.join(', ')}`);
      const result = checkManifests(readManifests(files));
      const problems = flags['skip-lint'] ? result.problems.filter((p) => p.rule === 'schema') : result.problems;
      if (format === 'json') {
        io.out(JSON.stringify({ files: files.length, objects: result.objects, problems }, null, 2));
      } else if (problems.length > 0) {
        io.out(formatProblems(problems));
        io.err(`scalecharts check: ${problems.length} problem(s) in ${result.objects} objects from ${files.length} file(s)`);
      } else {
        io.out(`scalecharts check: ${result.objects} objects in ${files.length} file(s) pass`);
      }
      return problems.length > 0 ? EXIT.problems : EXIT.ok;
    },
  },
};

function capacityReports(inputs: string[], exportName: string | undefined): Array<{ title: string; report: CapacityReport }> {
  if (inputs.length === 1 && /\.[cm]?[jt]sx?$/.test(inputs[0]!)) {
    return chartsOf(loadApp(inputs[0]!, exportName)).map((chart) => ({ title: chart.node.id, report: chartCapacityReport(chart) }));
  }
  const byFile = new Map<string, unknown[]>();
  for (const m of readManifests(manifestFiles(inputs))) byFile.set(m.file, [...(byFile.get(m.file) ?? []), m.object]);
  return [...byFile].map(([file, objects]) => ({
    title: path.basename(file).replace(/\.(ya?ml|json)$/, '').replace(/\.k8s$/, ''),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    report: capacityReport(objects.filter((o): o is Record<string, any> => !!o && typeof o === 'object')),
  })).filter(({ report }) => report.workloads.length > 0);
}

const MAIN_HELP = `usage: scalecharts <command> [options]

Commands:
  chart       write a Helm chart from a cdk8s app file
  capacity    capacity report of an app file or of synthesized manifests
  check       strict Kubernetes 1.28 / CRD schema and kube-linter checks of manifests

Run \`scalecharts <command> --help\` for a command's options.
Exit codes: 0 success, 1 problems found or the command failed, 2 usage error.`;

function parse(command: Command, argv: string[]): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = arg.slice(2, eq < 0 ? undefined : eq);
    if (!(key in command.options)) throw new UsageError(`unknown option --${key}`);
    if (!command.options[key]) {
      if (eq >= 0) throw new UsageError(`--${key} takes no value`);
      flags[key] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${key} needs a value`);
    flags[key] = value;
  }
  return { positional, flags };
}

/** Runs the CLI with `argv` (without node and the script); returns the exit code. Never calls process.exit. */
export function runCli(argv: readonly string[], io: CommandIo = { out: (t) => console.log(t), err: (t) => console.error(t) }): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    if (command) io.out(`usage: ${command.usage}\n\n${command.help}`);
    else io[name === undefined ? 'err' : 'out'](MAIN_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    io.out((require('../../package.json') as { version: string }).version);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`scalecharts: unknown command ${JSON.stringify(name)}\n\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: ${command.usage}\n\n${command.help}`);
    return EXIT.ok;
  }
  try {
    const { positional, flags } = parse(command, rest);
    return command.run(positional, flags, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`scalecharts ${name}: ${e.message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    io.err(`scalecharts ${name}: ${(e as Error).message}`);
    return EXIT.problems;
  }
}

if (require.main === module) {
  process.exitCode = runCli(process.argv.slice(2));
}
