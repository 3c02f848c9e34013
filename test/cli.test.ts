/**
 * The `scalecharts` command in-process (runCli on the sources): exit codes, help, and each command on real input.
 * test/consumer runs the same commands from an installed tarball.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart';
import { EXIT, runCli } from '../lib/cli';
import { ScalechartsValidation, checkObjects } from '../lib/check';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function quickstartObjects(): Obj[] {
  return quickstart(Testing.app() as App).toJson() as Obj[];
}

function writeManifest(name: string, objects: Obj[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'app.k8s.yaml'), objects.map((o) => yaml.dump(o)).join('---\n'));
  return dir;
}

describe('scalecharts', () => {
  it('prints help and uses CI exit codes: 0 ok, 1 problems, 2 usage', () => {
    expect(cli('--help')).toMatchObject({ code: EXIT.ok, out: expect.stringContaining('usage: scalecharts <command>') });
    expect(cli().code).toBe(EXIT.usage);
    expect(cli('deploy')).toMatchObject({ code: EXIT.usage, err: expect.stringContaining('unknown command "deploy"') });
    for (const command of ['chart', 'capacity', 'check']) {
      expect(cli(command, '--help')).toMatchObject({ code: EXIT.ok, out: expect.stringContaining(`usage: scalecharts ${command} `) });
      expect(cli('help', command).out).toContain(`usage: scalecharts ${command} `);
    }
    expect(cli('check', '--bogus', 'x')).toMatchObject({ code: EXIT.usage, err: expect.stringContaining('unknown option --bogus') });
    expect(cli('check', '--format', 'xml', 'x').code).toBe(EXIT.usage);
    expect(cli('chart', 'only-one-arg').code).toBe(EXIT.usage);
    expect(cli('check', path.join(tmp, 'missing'))).toMatchObject({ code: EXIT.problems, err: expect.stringContaining('no such file or directory') });
    expect(cli('--version').out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('check passes clean manifests and reports schema and lint problems with their file, exit 1', () => {
    const clean = writeManifest('clean', quickstartObjects());
    expect(cli('check', clean)).toMatchObject({ code: EXIT.ok, out: expect.stringMatching(/objects in 1 file\(s\) pass/) });

    const objects = quickstartObjects();
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    deployment.spec.replica = 2;
    deployment.spec.template.spec.containers[0].securityContext.runAsNonRoot = 'yes';
    delete deployment.spec.template.spec.containers[0].resources;
    const broken = writeManifest('broken', objects);
    const r = cli('check', broken);
    expect(r.code).toBe(EXIT.problems);
    expect(r.out).toContain(`${path.join(broken, 'app.k8s.yaml')}: Deployment/${deployment.metadata.name} (apps/v1) spec.replica: unknown field (did you mean "replicas"?) [schema]`);
    expect(r.out).toContain('runAsNonRoot: must be boolean, got "yes" [schema]');
    expect(r.out).toContain('[unset-cpu-requirements]');
    expect(cli('check', '--skip-lint', broken).out).not.toContain('[unset-cpu-requirements]');
    const json = JSON.parse(cli('check', '--format', 'json', broken).out) as Obj;
    expect(json.problems.map((p: Obj) => p.rule)).toEqual(expect.arrayContaining(['schema', 'unset-cpu-requirements']));
  });

  it('check reports a file that is not YAML, and a directory without manifests', () => {
    const dir = path.join(tmp, 'bad-yaml');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'x.yaml'), 'a: [unclosed');
    expect(cli('check', dir)).toMatchObject({ code: EXIT.problems, err: expect.stringContaining('not valid YAML') });
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect(cli('check', empty)).toMatchObject({ code: EXIT.problems, err: expect.stringContaining('no .yaml, .yml or .json files') });
  });

  it('capacity reports an app file and the manifests it synthesizes alike', () => {
    const fromApp = cli('capacity', 'examples/quickstart.ts', '--format', 'json');
    expect(fromApp.code).toBe(EXIT.ok);
    const fromManifests = cli('capacity', writeManifest('capacity', quickstartObjects()), '--format', 'json');
    const appReport = (JSON.parse(fromApp.out) as Obj).quickstart;
    expect(appReport.totals).toMatchObject({ minReplicas: 6, maxReplicas: 28 });
    expect((JSON.parse(fromManifests.out) as Obj).app.totals).toEqual(appReport.totals);
    const out = path.join(tmp, 'reports');
    expect(cli('capacity', 'examples/quickstart.ts', '--out', out).out).toMatch(/^quickstart: 2 workloads, 6–28 pods/);
    expect(fs.readFileSync(path.join(out, 'quickstart.capacity.md'), 'utf8')).toContain('# Capacity: quickstart');
  });

  it('chart writes a chart from an app file, and a ValidationError exits 1', () => {
    const r = cli('chart', 'examples/quickstart.ts', path.join(tmp, 'chart'), '--version', '2.0.0');
    expect(r).toMatchObject({ code: EXIT.ok, out: expect.stringMatching(/^wrote chart quickstart to /) });
    expect(yaml.load(fs.readFileSync(path.join(tmp, 'chart', 'Chart.yaml'), 'utf8'))).toMatchObject({ version: '2.0.0' });
    // Inside the repo, so the app file resolves cdk8s from its node_modules.
    const badApp = path.join(fs.mkdtempSync(path.join(__dirname, '..', '.cache', 'cli-')), 'bad-app.ts');
    fs.writeFileSync(badApp, `import { App, Chart } from 'cdk8s';\nimport { StatelessService } from ${JSON.stringify(path.resolve('lib'))};\n`
      + "export default (app: App) => { const c = new Chart(app, 'bad'); new StatelessService(c, 'api', { image: 'web:latest' }); return c; };\n");
    const bad = cli('chart', badApp, path.join(tmp, 'bad-chart'));
    expect(bad.code).toBe(EXIT.problems);
    expect(bad.err).toContain('image');
    fs.rmSync(path.dirname(badApp), { recursive: true, force: true });
  });
});

describe('check as a library and a cdk8s validation plugin', () => {
  it('checkObjects finds nothing in a construct-built chart', () => {
    expect(checkObjects(quickstartObjects()).problems).toEqual([]);
  });

  it('the plugin reports violations grouped by rule and submits failure, or success', async () => {
    const run = async (dir: string) => {
      const violations: Obj[] = [];
      let status = '';
      await new ScalechartsValidation().validate({
        manifests: [path.join(dir, 'app.k8s.yaml')],
        report: { addViolation: (v) => violations.push(v), submit: (s) => (status = s) },
        logger: { log: () => undefined },
      });
      return { violations, status };
    };
    expect(await run(writeManifest('plugin-clean', quickstartObjects()))).toEqual({ violations: [], status: 'success' });
    const objects = quickstartObjects();
    objects.find((o) => o.kind === 'Service')!.spec.typo = true;
    const failed = await run(writeManifest('plugin-broken', objects));
    expect(failed.status).toBe('failure');
    expect(failed.violations).toEqual([expect.objectContaining({
      ruleName: 'schema',
      violatingResources: [expect.objectContaining({ resourceName: expect.stringMatching(/^Service\//), locations: [expect.stringContaining('spec.typo: unknown field')] })],
    })]);
  });
});
