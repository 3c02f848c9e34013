import * as path from 'path';
import { App, Chart } from 'cdk8s';

/**
 * Makes `require` understand TypeScript app files: nothing to do when a loader is already active (tsx, ts-node,
 * vitest), else the project's own tsx or ts-node (transpile only), resolved from the working directory. The package
 * itself never depends on either.
 */
function registerTypeScript(file: string): void {
  if (!/\.[cm]?tsx?$/.test(file)) return;
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  if (require.extensions['.ts']) return;
  const attempts = ['tsx/cjs', 'ts-node/register/transpile-only'];
  for (const loader of attempts) {
    let resolved: string;
    try {
      resolved = require.resolve(loader, { paths: [process.cwd(), path.dirname(path.resolve(file))] });
    } catch {
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(resolved);
    return;
  }
  throw new Error(`${file} is TypeScript: install tsx or ts-node in your project (npm i -D tsx), or pass the compiled .js file`);
}

/** The file's builder name: `strata-router.ts` → `strataRouter`. */
function builderNameOf(file: string): string {
  return path.basename(file).replace(/\.[cm]?[jt]sx?$/, '').replace(/[-_.]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * The charts an app module describes. The module exports either an `App` / `Chart` instance, or a function taking a
 * cdk8s `App` (with several: the default export, the one named after the file, or the one `exportName` names).
 */
export function loadApp(appFile: string, exportName?: string): App | Chart {
  registerTypeScript(appFile);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.resolve(appFile)) as Record<string, unknown>;
  if (exportName !== undefined && mod[exportName] === undefined) throw new Error(`${appFile} exports no ${exportName}`);
  const candidates: Array<readonly [string, unknown]> = exportName !== undefined ? [[exportName, mod[exportName]]] : Object.entries(mod);
  const instances = candidates.filter(([, v]) => v instanceof App || Chart.isChart(v));
  if (instances.length === 1) return instances[0]![1] as App | Chart;
  const builders = candidates.filter(([, v]) => typeof v === 'function');
  // `examples/strata-router.ts` exports `strataRouter` among other things: the function named after the file wins.
  const fileName = builderNameOf(appFile);
  const chosen = builders.find(([k]) => k === 'default') ?? builders.find(([k]) => k === fileName)
    ?? (builders.length === 1 ? builders[0] : undefined);
  if (!chosen) {
    throw new Error(`${appFile}: export one function (app: App) => Chart, or an App / Chart, or pick one with --export (found: ${Object.keys(mod).join(', ') || 'nothing'})`);
  }
  const app = new App();
  (chosen[1] as (app: App) => unknown)(app);
  return app;
}

/** The cdk8s charts of what `loadApp` returned. */
export function chartsOf(source: App | Chart): Chart[] {
  return source instanceof App ? source.charts : [source];
}
