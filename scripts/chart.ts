/**
 * `npm run chart -- <app file> <out dir> [...]`: the `scalecharts chart` command (lib/cli) run on the sources, kept
 * for this repo's scripts. Exits 1 on any failure, as it always did.
 */
import { runCli } from '../lib/cli';

export { loadApp } from '../lib/cli/load-app';

if (require.main === module) {
  const code = runCli(['chart', ...process.argv.slice(2)], {
    out: (t) => console.log(t),
    err: (t) => console.error(t.replace(/usage: scalecharts chart/g, 'usage: npm run chart --')),
  });
  process.exitCode = code === 0 ? 0 : 1;
}
