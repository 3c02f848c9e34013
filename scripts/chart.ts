/**
 * Writes a Helm chart from an app file:
 *
 *   npm run chart -- <app file> <out dir> [--name <chart>] [--version <semver>] [--app-version <v>]
 *                    [--description <text>] [--export <function>]
 *
 * The app file is a TypeScript or JavaScript module that exports either a function taking a cdk8s `App` (as
 * examples/*.ts do; with several, the default export, the one named after the file, or the one --export names), or
 * an `App` / `Chart` instance.
 */
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { writeHelmChart, type ChartSource, type HelmChartOptions } from '../lib/helm';

const USAGE = 'usage: npm run chart -- <app file> <out dir> [--name <chart>] [--version <semver>] [--app-version <v>] [--description <text>] [--export <function>]';

function parseArgs(argv: string[]): { appFile: string; outDir: string; exportName?: string; options: HelmChartOptions } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${key} needs a value\n${USAGE}`);
      flags[key] = value;
    } else {
      positional.push(arg);
    }
  }
  const known = new Set(['name', 'version', 'app-version', 'description', 'export']);
  for (const key of Object.keys(flags)) if (!known.has(key)) throw new Error(`unknown option --${key}\n${USAGE}`);
  if (positional.length !== 2) throw new Error(USAGE);
  return {
    appFile: positional[0],
    outDir: positional[1],
    exportName: flags.export,
    options: { name: flags.name, version: flags.version, appVersion: flags['app-version'], description: flags.description },
  };
}

/** The charts an app module describes. */
export function loadApp(appFile: string, exportName?: string): ChartSource {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: Record<string, unknown> = require(path.resolve(appFile));
  const candidates = exportName !== undefined ? [[exportName, mod[exportName]] as const] : Object.entries(mod);
  if (exportName !== undefined && mod[exportName] === undefined) throw new Error(`${appFile} exports no ${exportName}`);
  const instances = candidates.filter(([, v]) => v instanceof App || Chart.isChart(v));
  if (instances.length === 1) return instances[0][1] as App | Chart;
  const builders = candidates.filter(([, v]) => typeof v === 'function');
  // `examples/strata-router.ts` exports `strataRouter` among other things: the function named after the file wins.
  const fileName = path.basename(appFile).replace(/\.[cm]?[jt]s$/, '').replace(/[-_.]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const chosen = builders.find(([k]) => k === 'default') ?? builders.find(([k]) => k === fileName)
    ?? (builders.length === 1 ? builders[0] : undefined);
  if (!chosen) {
    throw new Error(`${appFile}: export one function (app: App) => Chart, or an App / Chart, or pick one with --export (found: ${Object.keys(mod).join(', ') || 'nothing'})`);
  }
  const app = new App();
  (chosen[1] as (app: App) => unknown)(app);
  return app;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const chart = writeHelmChart(loadApp(args.appFile, args.exportName), args.outDir, args.options);
  const templates = [...chart.files.keys()].filter((f) => f.startsWith('templates/')).length;
  console.log(`wrote chart ${chart.name} to ${args.outDir}: ${chart.model.values.length} values, ${templates} template files, ${chart.model.objects.length} objects`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
