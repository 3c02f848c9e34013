/**
 * Whole-process `cdk8s synth` of the quick-start app in consumer projects (installed offline like the consumer tests),
 * median of N runs per way of running it:
 *
 * - before issue 12: the package shipped TypeScript sources (`main: lib/index.ts`), so the app ran under tsx, which
 *   transpiled the library on every synth (the tarball is packed from git commit BEFORE, default 5681eb1);
 * - compiled: `node main.js` (the app compiled with tsc once), `npx tsx main.ts`, and `npx ts-node main.ts` (what
 *   `cdk8s init typescript-app` writes; it type-checks the app on every synth).
 *
 * Usage: npx tsx scripts/bench-consumer.ts [--runs 5] [--before <git rev>]
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO, cleanEnv, consumerRoot, createProject, pack } from '../test/consumer/project';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(opt('runs', '5'));
const BEFORE = opt('before', '5681eb1');

const QUICKSTART = fs.readFileSync(path.join(REPO, 'examples', 'quickstart.ts'), 'utf8').replace("from '../lib';", "from 'scalecharts';");
const MAIN = "import { App } from 'cdk8s';\nimport { quickstart } from './quickstart';\n\nconst app = new App();\nquickstart(app);\napp.synth();\n";

function synthOnce(dir: string, app: string): number {
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: ${app}\n`);
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const r = spawnSync('npx', ['cdk8s', 'synth', '--no-check-upgrade'], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${app} in ${dir} failed:\n${r.stdout}${r.stderr}`);
  if (!fs.existsSync(path.join(dir, 'dist', 'quickstart.k8s.yaml'))) throw new Error(`${app}: no dist/quickstart.k8s.yaml`);
  return ms;
}

/** Runs the variants in rounds (A B C D, A B C D, …) so load from other processes hits them alike. */
function synthRounds(variants: Array<{ label: string; dir: string; app: string }>): Array<[string, number[]]> {
  for (const v of variants) synthOnce(v.dir, v.app); // warm-up: file cache, npx resolution
  const times = variants.map(() => [] as number[]);
  for (let round = 0; round < RUNS; round++) variants.forEach((v, i) => times[i]!.push(synthOnce(v.dir, v.app)));
  return variants.map((v, i) => [v.label, times[i]!]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const root = consumerRoot();
  try {
    // Today's tarball, and the one before the compiled package.
    const tarball = await pack(REPO, root);
    const beforeDir = path.join(root, 'before-src');
    fs.mkdirSync(beforeDir);
    execFileSync('sh', ['-c', `git -C "${REPO}" archive ${BEFORE} | tar -x -C "${beforeDir}"`]);
    const beforePack = path.join(root, 'before-pack'); // same file name as today's tarball: another folder
    fs.mkdirSync(beforePack);
    const beforeTarball = path.join(beforePack, execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', beforePack], { cwd: beforeDir, encoding: 'utf8', env: cleanEnv() }).trim().split('\n').pop()!);

    const tools = { 'cdk8s-cli': { repoName: 'cdk8s-cli' }, tsx: { repoName: 'tsx' } } as const;
    const files = { 'quickstart.ts': QUICKSTART, 'main.ts': MAIN };
    const before = await createProject(root, 'before', { scalecharts: { tarball: beforeTarball }, ...tools }, files);
    const compiled = await createProject(root, 'compiled', {
      scalecharts: { tarball }, cdk8s: { repoName: 'cdk8s' }, constructs: { repoName: 'constructs' }, 'cdk8s-plus-28': { repoName: 'cdk8s-plus-28' },
      ...tools, 'ts-node': { repoName: 'ts-node' }, typescript: { repoName: 'typescript' }, '@types/node': { repoName: '@types/node' },
    }, {
      ...files,
      'tsconfig.json': fs.readFileSync(path.join(REPO, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app', 'tsconfig.json'), 'utf8'),
    });
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: compiled, env: cleanEnv() });

    const rows = synthRounds([
      { label: 'before: sources under tsx (`npx tsx main.ts`)', dir: before, app: 'npx tsx main.ts' },
      { label: 'compiled: `node main.js`', dir: compiled, app: 'node main.js' },
      { label: 'compiled: `npx tsx main.ts`', dir: compiled, app: 'npx tsx main.ts' },
      { label: 'compiled: `npx ts-node main.ts` (cdk8s init default)', dir: compiled, app: 'npx ts-node main.ts' },
    ]);
    console.log(`whole-process \`cdk8s synth\` of the quick start, ${RUNS} interleaved rounds (after one warm-up), ms:`);
    for (const [label, times] of rows) console.log(`  ${label}: median ${median(times).toFixed(0)} (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`);
  } finally {
    if (!process.env.KEEP_CONSUMERS) fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
