/**
 * The package as a user gets it: `npm pack` once, then fresh projects in a temp folder outside the repo install the
 * tarball offline (test/consumer/project.ts) and use it the six ways issue 12 lists.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickstart } from '../../examples/quickstart';
import { helmBinary } from '../harness/helm';
import { REPO, cleanEnv, consumerRoot, createProject, pack, run, type Dependency } from './project';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

let root: string;
let tarball: string;
let presetsTarball: string;
const timings: Record<string, number> = {};

/** Peers at the versions this repo develops against (the newest published). */
const HIGHEST: Record<string, Dependency> = { cdk8s: { repoName: 'cdk8s' }, constructs: { repoName: 'constructs' }, 'cdk8s-plus-28': { repoName: 'cdk8s-plus-28' } };
/** Peers at the lowest versions the peer ranges allow. */
const LOWEST: Record<string, Dependency> = {
  cdk8s: { repoName: 'cdk8s-lowest' }, constructs: { repoName: 'constructs-lowest' }, 'cdk8s-plus-28': { repoName: 'cdk8s-plus-28-lowest' },
};

/** The quick-start app as a consumer writes it, in CommonJS. */
const QUICKSTART_JS = fs.readFileSync(path.join(REPO, 'examples', 'quickstart.ts'), 'utf8')
  .replace(/^import \{ App, Chart \} from 'cdk8s';\nimport \{ StatelessService \} from '..\/lib';\n/, "const { App, Chart } = require('cdk8s');\nconst { StatelessService } = require('scalecharts');\n")
  .replace('export function quickstart(app: App): Chart {', 'function quickstart(app) {')
  + "\nmodule.exports = { quickstart };\nif (require.main === module) {\n  const app = new App({ outdir: 'dist' });\n  quickstart(app);\n  app.synth();\n}\n";

/** The same app in TypeScript, importing the package by name. */
const QUICKSTART_TS = fs.readFileSync(path.join(REPO, 'examples', 'quickstart.ts'), 'utf8').replace("from '../lib';", "from 'scalecharts';");

/** What the repo synthesizes for the quick start from its sources: the reference every consumer must reproduce. */
function expectedQuickstart(): Obj[] {
  const app = Testing.app();
  return quickstart(app as App).toJson() as Obj[];
}

function readYaml(file: string): Obj[] {
  return (yaml.loadAll(fs.readFileSync(file, 'utf8')) as Obj[]).filter((o) => o);
}

/** Every installed copy of `name` under `dir`/node_modules (nested ones included), as path → version. */
function copiesOf(dir: string, name: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (nm: string): void => {
    if (!fs.existsSync(nm)) return;
    for (const entry of fs.readdirSync(nm)) {
      const scoped = entry.startsWith('@') ? fs.readdirSync(path.join(nm, entry)).map((e) => `${entry}/${e}`) : [entry];
      for (const pkg of scoped) {
        const pkgDir = path.join(nm, pkg);
        if (pkg === name) found[path.relative(dir, pkgDir)] = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as Obj).version;
        walk(path.join(pkgDir, 'node_modules'));
      }
    }
  };
  walk(path.join(dir, 'node_modules'));
  return found;
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings[label] = Date.now() - started;
  }
}

beforeAll(async () => {
  root = consumerRoot();
  tarball = await timed('pack scalecharts (build included)', () => pack(REPO, root));
  presetsTarball = await timed('pack presets', () => pack(path.join(REPO, 'examples', 'acme-presets'), root));
}, 600_000);

afterAll(() => {
  console.log(`consumer tests (${root}):\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${(v / 1000).toFixed(1)} s`).join('\n')}`);
  if (root && !process.env.KEEP_CONSUMERS) fs.rmSync(root, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the compiled library, its assets and the schema bundle, and no sources, tests or examples', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('build/index.js');
    expect(files).toContain('build/index.d.ts');
    expect(files).toContain('build/cli/index.js');
    expect(files).toContain('build/schemas.json');
    // Every non-TS file under lib/ ships beside its compiled module (the constructs read them at synth).
    const { assetFiles } = await import('../../scripts/build');
    for (const asset of assetFiles()) expect(files).toContain(`build/${asset}`);
    expect(files.filter((f) => /^(test|examples|scripts|lib|\.ci)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });
});

describe('consumers', () => {
  it('1. a project laid out like `cdk8s init typescript-app` (ts-node, its tsconfig) runs `cdk8s synth` with the check plugin', async () => {
    const template = path.join(REPO, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app');
    const dir = await timed('install: cdk8s init layout', () => createProject(root, 'init-ts', {
      scalecharts: { tarball }, ...HIGHEST,
      'cdk8s-cli': { repoName: 'cdk8s-cli' }, 'ts-node': { repoName: 'ts-node' }, typescript: { repoName: 'typescript' }, '@types/node': { repoName: '@types/node' },
    }, {
      'tsconfig.json': fs.readFileSync(path.join(template, 'tsconfig.json'), 'utf8'),
      'cdk8s.yaml': 'language: typescript\napp: npx ts-node main.ts\nvalidations:\n  - package: ./node_modules/scalecharts\n    version: 0.1.0\n    class: ScalechartsValidation\n',
      'quickstart.ts': QUICKSTART_TS,
      'main.ts': "import { App } from 'cdk8s';\nimport { quickstart } from './quickstart';\n\nconst app = new App();\nquickstart(app);\napp.synth();\n",
    }, { scripts: { synth: 'cdk8s synth' } }));
    const { stdout } = await timed('cdk8s synth (ts-node)', () => run('npx', ['cdk8s', 'synth', '--no-check-upgrade'], { cwd: dir, env: cleanEnv() }));
    expect(stdout).toMatch(/Validation Report \(.*scalecharts/);
    expect(readYaml(path.join(dir, 'dist', 'quickstart.k8s.yaml'))).toEqual(expectedQuickstart());
  });

  it('2. plain JavaScript (require) and ESM (import) projects synthesize', async () => {
    const dir = await timed('install: js', () => createProject(root, 'js', { scalecharts: { tarball }, ...HIGHEST }, {
      'main.js': QUICKSTART_JS,
      'main.mjs': "import { App } from 'cdk8s';\nimport { StatelessService, ValidationError } from 'scalecharts';\nimport { createRequire } from 'module';\n"
        + "const { quickstart } = createRequire(import.meta.url)('./main.js');\n"
        + "if (typeof StatelessService !== 'function' || typeof ValidationError !== 'function') throw new Error('named ESM imports missing');\n"
        + "const app = new App({ outdir: 'dist-esm' });\nquickstart(app);\napp.synth();\n",
    }));
    await run('node', ['main.js'], { cwd: dir, env: cleanEnv() });
    await run('node', ['main.mjs'], { cwd: dir, env: cleanEnv() });
    expect(readYaml(path.join(dir, 'dist', 'quickstart.k8s.yaml'))).toEqual(expectedQuickstart());
    expect(readYaml(path.join(dir, 'dist-esm', 'quickstart.k8s.yaml'))).toEqual(expectedQuickstart());
  });

  it('3. a strict TypeScript consumer (noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false) compiles against the .d.ts', async () => {
    // Our example apps, importing the package by name, are the consumer code: they use most of the public API.
    const examples = fs.readdirSync(path.join(REPO, 'examples')).filter((f) => f.endsWith('.ts') && !['index.ts', 'main.ts', 'acme.ts'].includes(f));
    const files: Record<string, string> = Object.fromEntries(examples.map((f) => [
      `src/${f}`, fs.readFileSync(path.join(REPO, 'examples', f), 'utf8').replace(/from '\.\.\/lib';/g, "from 'scalecharts';"),
    ]));
    for (const [file, text] of Object.entries(files)) expect(text, file).not.toMatch(/from '\.\.\/lib/);
    files['main.ts'] = `import { App } from 'cdk8s';
import { ScalechartsValidation, ValidationError, checkObjects, type CheckResult } from 'scalecharts';
${examples.map((f) => `import * as ${f.replace(/\W/g, '_')} from './src/${f.replace(/\.ts$/, '')}';`).join('\n')}

const app = new App({ outdir: 'dist' });
${examples.map((f) => `${f.replace(/\W/g, '_')}.${f.replace(/\.ts$/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}(app);`).join('\n')}
const result: CheckResult = checkObjects(app.charts.flatMap((c) => c.toJson()));
const unused: ValidationError | ScalechartsValidation | undefined = undefined;
console.log(result.problems.length, unused);
`;
    files['tsconfig.json'] = JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true, skipLibCheck: false, noImplicitOverride: true, noPropertyAccessFromIndexSignature: true,
        outDir: 'out', types: ['node'],
      },
      include: ['main.ts', 'src/*.ts'],
    });
    const dir = await timed('install: strict ts', () => createProject(root, 'strict-ts', {
      scalecharts: { tarball }, ...HIGHEST, typescript: { repoName: 'typescript' }, '@types/node': { repoName: '@types/node' },
    }, files));
    await timed('tsc (strict)', () => run('npx', ['tsc', '-p', '.'], { cwd: dir, env: cleanEnv() }).catch((e: Obj) => {
      throw new Error(`tsc failed:\n${e.stdout}${e.stderr}`);
    }));
    const { stdout } = await run('node', ['out/main.js'], { cwd: dir, env: cleanEnv() });
    expect(stdout.trim()).toBe('0 undefined');
  });

  it('4. a consumer on the lowest supported cdk8s / constructs / cdk8s-plus-28 gets one copy of each and synthesizes', async () => {
    const dir = await timed('install: lowest peers', () => createProject(root, 'lowest', { scalecharts: { tarball }, ...LOWEST }, { 'main.js': QUICKSTART_JS }));
    const lowest = (repoName: string) => (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', repoName, 'package.json'), 'utf8')) as Obj).version;
    expect(copiesOf(dir, 'cdk8s')).toEqual({ 'node_modules/cdk8s': lowest('cdk8s-lowest') });
    expect(copiesOf(dir, 'constructs')).toEqual({ 'node_modules/constructs': lowest('constructs-lowest') });
    expect(copiesOf(dir, 'cdk8s-plus-28')).toEqual({ 'node_modules/cdk8s-plus-28': lowest('cdk8s-plus-28-lowest') });
    await run('node', ['main.js'], { cwd: dir, env: cleanEnv() });
    expect(readYaml(path.join(dir, 'dist', 'quickstart.k8s.yaml'))).toEqual(expectedQuickstart());
  });

  it('5. the presets package, packed, installs next to scalecharts and its preset shows in the output', async () => {
    const dir = await timed('install: presets', () => createProject(root, 'presets', {
      scalecharts: { tarball }, '@acme/scalecharts-presets': { tarball: presetsTarball }, ...HIGHEST,
    }, {
      'main.js': `const { App, Chart } = require('cdk8s');
const { Presets, StatelessService } = require('scalecharts');
const acme = require('@acme/scalecharts-presets');
const app = new App({ outdir: 'dist' });
const chart = new Chart(app, 'store', { namespace: 'store' });
Presets.apply(chart, acme.platform);
Presets.apply(chart, acme.production);
new StatelessService(chart, 'storefront', { image: 'acme/storefront:5.2.0' });
app.synth();
`,
    }));
    await run('node', ['main.js'], { cwd: dir, env: cleanEnv() });
    const objects = readYaml(path.join(dir, 'dist', 'store.k8s.yaml'));
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.acme.internal/mirror/acme/storefront:5.2.0');
    expect(deployment.metadata.labels['acme.io/cost-centre']).toBe('platform');
    expect(objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!.spec.maxReplicas).toBe(12);
  });

  it('6. `npx scalecharts check` fails on a broken manifest and passes on our examples; `npx scalecharts chart` writes a chart helm lint --strict accepts', async () => {
    const dir = path.join(root, 'js'); // test 2's project
    const examples = path.join(root, 'examples-dist');
    await run('npx', ['tsx', 'examples/main.ts'], { cwd: REPO, env: { ...process.env, CDK8S_OUTDIR: examples } });
    const npx = (...args: string[]) => run('npx', ['scalecharts', ...args], { cwd: dir, env: cleanEnv() });

    const pass = await timed('scalecharts check (every example)', () => npx('check', examples));
    expect(pass.stdout).toMatch(/^scalecharts check: \d+ objects in \d+ file\(s\) pass/);

    fs.mkdirSync(path.join(dir, 'broken'));
    const deployment = readYaml(path.join(dir, 'dist', 'quickstart.k8s.yaml')).find((o) => o.kind === 'Deployment')!;
    deployment.spec.replica = 3; // typo: unknown field
    delete deployment.spec.template.spec.containers[0].resources; // kube-linter: unset-cpu-requirements
    fs.writeFileSync(path.join(dir, 'broken', 'app.yaml'), yaml.dump(deployment));
    const fail: Obj = await npx('check', 'broken').then(() => ({}), (e: Obj) => e);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain('spec.replica: unknown field (did you mean "replicas"?) [schema]');
    expect(fail.stdout).toContain('[unset-cpu-requirements]');

    const usage = await npx('check').then(() => undefined, (e: Obj) => e);
    expect(usage?.code).toBe(2);
    expect((await npx('chart', '--help')).stdout).toContain('usage: scalecharts chart <app file> <out dir>');

    const chart = await npx('chart', 'main.js', 'chart', '--version', '1.2.3');
    expect(chart.stdout).toMatch(/^wrote chart quickstart to chart:/);
    const lint = await run(helmBinary(), ['lint', '--strict', path.join(dir, 'chart')]);
    expect(lint.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');

    const capacity = await npx('capacity', 'dist');
    expect(capacity.stdout).toMatch(/^quickstart: 2 workloads, 6–28 pods/);
  });
});
