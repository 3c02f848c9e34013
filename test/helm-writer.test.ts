import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import * as yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { Knobs, StatelessService } from '../lib';
import { buildHelmChart, writeHelmChart } from '../lib/helm';
import { NameIndex, releaseName, rewriteText } from '../lib/helm/names';
import { Part } from '../lib/helm/yaml';
import { renderChart } from './harness/helm';

const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Text of rewritten parts with the release name shown as `<R>` and the namespace as `<NS>`. */
function show(parts: Part[] | undefined): string | undefined {
  return parts?.map((p) => (typeof p === 'string' ? p : p.expr === '.Release.Name' ? '<R>' : p.expr === '.Release.Namespace' ? '<NS>' : `{${p.expr}}`)).join('');
}

describe('host names in free text', () => {
  const named = [
    ['Service', 'api'], ['Service', 'catalog'], ['Service', 'cache-headless'], ['StatefulSet', 'cache'], ['Deployment', 'api'], ['ConfigMap', 'settings'],
  ].map(([kind, name]) => ({ kind, name, parts: releaseName(name) }));
  const index = new NameIndex(named, 'shop');
  const rewrite = (text: string, envName?: string) => show(rewriteText(text, index, { envName }));

  it.each([
    ['http://catalog:80/v1', 'http://<R>-catalog:80/v1'],
    ['catalog:8080', '<R>-catalog:8080'],
    ['catalog.shop.svc.cluster.local:80', '<R>-catalog.<NS>.svc.cluster.local:80'],
    ['catalog.shop', '<R>-catalog.<NS>'],
    ['catalog.svc', '<R>-catalog.svc'],
    ['redis://:secret@catalog', 'redis://:secret@<R>-catalog'],
    ['cache-0.cache-headless:6379,cache-1.cache-headless:6379', '<R>-cache-0.<R>-cache-headless:6379,<R>-cache-1.<R>-cache-headless:6379'],
    ['$(POD_NAME).cache-headless.$(POD_NAMESPACE).svc', '$(POD_NAME).<R>-cache-headless.$(POD_NAMESPACE).svc'],
    ['${HOSTNAME}.cache-headless', '${HOSTNAME}.<R>-cache-headless'],
    ['host=catalog port=5432', 'host=<R>-catalog port=5432'],
    ['upstream_hosts = api, catalog', 'upstream_hosts = <R>-api, <R>-catalog'],
    ['up{job="api", namespace="shop"} == 0', 'up{job="<R>-api", namespace="<NS>"} == 0'],
    ['rate(x{service=~"catalog"}[5m])', 'rate(x{service=~"<R>-catalog"}[5m])'],
  ])('%s is a reference', (text, expected) => {
    expect(rewrite(text)).toBe(expected);
  });

  it.each([
    ['api'], // a bare word outside a host context: could be anything (APP_MODE=api)
    ['catalog-search:80'], // longer name
    ['rapid api-v2 my_api API'], // substrings and other cases
    ['https://api.shop.example.com/'], // a public name that starts with a Service's name
    ['the catalog service is down'], // prose
    ['shop'], // the namespace as a word
    ['database=shop'], // the namespace outside namespace=
    ['settings:80'], // a ConfigMap is not a host
    ['cache-7.elsewhere'], // a pod of our StatefulSet under a Service we don't have
  ])('%s is left alone', (text) => {
    expect(rewrite(text)).toBeUndefined();
  });

  it('takes a whole env value as a host only when the variable is named like one', () => {
    expect(rewrite('catalog', 'CATALOG_HOST')).toBe('<R>-catalog');
    expect(rewrite('catalog', 'UPSTREAM')).toBe('<R>-catalog');
    expect(rewrite('api', 'APP_MODE')).toBeUndefined();
    expect(rewrite('catalog', 'FEATURE')).toBeUndefined();
  });

  it('takes any whole-token occurrence of a declared name', () => {
    expect(show(rewriteText('kubectl get cm settings -o yaml # settings', index, { declared: new Set(['settings']) }))).toBe('kubectl get cm <R>-settings -o yaml # <R>-settings');
  });
});

/** A construct whose knob declarations are whatever a test hands it. */
class Tunable extends Construct {
  public readonly configMap: k8s.KubeConfigMap;
  constructor(scope: Construct, id: string, declare: (self: Tunable) => void, name = 'tunable') {
    super(scope, id);
    this.configMap = new k8s.KubeConfigMap(this, 'cm', { metadata: { name }, data: { 'a.conf': 'size = 10\nsize = 10\nlimit = 5\n' } });
    declare(this);
  }
}

function chartWith(fn: (chart: Chart) => void, namespace: string | undefined = 'ns'): App {
  const app = Testing.app();
  fn(new Chart(app, 'test', { namespace }));
  return app;
}

describe('chart writer refuses what it cannot write correctly', () => {
  const knob = (key: string, extra: object) => (self: Tunable) => Knobs.declare(self, {
    key, description: 'd', schema: { type: 'integer', minimum: 1 }, default: 5, targets: [{ object: self.configMap, path: ['data', 'a.conf'], fragment: 'limit = 5', template: 'limit = {{ $value }}' }], ...extra,
  });

  it('a pattern helm cannot run (lookbehind), naming the knob', () => {
    const app = chartWith((c) => new Tunable(c, 't', knob('limit', { schema: { type: 'string', pattern: '^(?<!x)a$' } })));
    expect(() => buildHelmChart(app)).toThrow(/t\.limit: pattern "\^\(\?<!x\)a\$" uses lookaround.*RE2/);
  });

  it('translates the refuse-a-word lookahead into `not`', () => {
    const app = chartWith((c) => new Tunable(c, 't', knob('tag', { schema: { type: 'string', pattern: '^(?!latest$)[a-z0-9.]+$' }, default: '1.0' })));
    const schema = JSON.parse(buildHelmChart(app).files.get('values.schema.json')!);
    expect(schema.properties.t.properties.tag).toEqual({ description: 'd', type: 'string', pattern: '^[a-z0-9.]+$', not: { enum: ['latest'] } });
  });

  it('a fragment that is missing or not unique', () => {
    const twice = chartWith((c) => new Tunable(c, 't', knob('size', { targets: [] }), 'x'));
    const self = twice.charts[0].node.findChild('t') as Tunable;
    Knobs.declare(self, { key: 'other', description: 'd', schema: { type: 'integer' }, default: 10, targets: [{ object: self.configMap, path: ['data', 'a.conf'], fragment: 'size = 10' }] });
    expect(() => buildHelmChart(twice)).toThrow(/fragment "size = 10" must occur exactly once/);
  });

  it('a target path the object does not have, or an object outside the chart', () => {
    const missing = chartWith((c) => new Tunable(c, 't', (self) => Knobs.declare(self, { key: 'x', description: 'd', schema: { type: 'integer' }, default: 1, targets: [{ object: self.configMap, path: ['data', 'nope'] }] })));
    expect(() => buildHelmChart(missing)).toThrow(/knob t\.x targets ConfigMap\/tunable data\.nope, which the object does not have/);
    const outside = Testing.app();
    const other = new ApiObject(new Chart(outside, 'other'), 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' } });
    const chart = new Chart(outside, 'test');
    new Tunable(chart, 't', (self) => Knobs.declare(self, { key: 'x', description: 'd', schema: { type: 'integer' }, default: 1, targets: [{ object: other, path: ['metadata', 'name'] }] }));
    expect(() => buildHelmChart(chart)).toThrow(/knob t\.x targets other\/cm, which is not in the chart/);
  });

  it('an ordering against a knob that does not exist', () => {
    const app = chartWith((c) => new Tunable(c, 't', knob('limit', { lessOrEqualTo: 'ceiling' })));
    expect(() => buildHelmChart(app)).toThrow(/t\.limit must be <= t\.ceiling, which is not a declared knob/);
  });

  it('two constructs that map to one values key', () => {
    const app = chartWith((c) => {
      new Tunable(c, 'orders-db', knob('limit', {}), 'one');
      new Tunable(c, 'ordersDb', knob('limit', {}), 'two');
    });
    expect(() => buildHelmChart(app)).toThrow(/constructs test\/orders-db and test\/ordersDb both map to values key "ordersDb"/);
  });

  it('objects in two namespaces', () => {
    const app = chartWith((c) => {
      new ApiObject(c, 'a', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
      new ApiObject(c, 'b', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'other' } });
    });
    expect(() => buildHelmChart(app)).toThrow(/one namespace, but the objects use ns, other/);
  });

  it('selectors that would overlap once the instance label is the release name', () => {
    const app = chartWith((c) => {
      const labels = (instance: string) => ({ 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': instance });
      for (const instance of ['blue', 'green']) {
        new k8s.KubeService(c, `svc-${instance}`, { metadata: { name: `web-${instance}` }, spec: { selector: labels(instance), ports: [{ port: 80 }] } });
        new k8s.KubeConfigMap(c, `pod-${instance}`, { metadata: { name: `labels-${instance}`, labels: labels(instance) } });
      }
    });
    expect(() => buildHelmChart(app)).toThrow(/selector of Service\/web-blue would also select ConfigMap\/labels-green/);
  });

  it('a declared reference to an object the chart does not create', () => {
    const app = chartWith((c) => new Tunable(c, 't', (self) => Knobs.reference(self, { object: self.configMap, path: ['data', 'a.conf'], name: 'nowhere' })));
    expect(() => buildHelmChart(app)).toThrow(/test\/t\/cm declares a reference to nowhere, which the chart does not create/);
  });

  it('an Argo CD hook phase Helm has no equivalent for', () => {
    const app = chartWith((c) => new ApiObject(c, 'j', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j', annotations: { 'argocd.argoproj.io/hook': 'SyncFail' } } }));
    expect(() => buildHelmChart(app)).toThrow(/Argo CD hook SyncFail has no Helm equivalent/);
  });

  it('a name that leaves no room for a release prefix, a bad chart name or version', () => {
    const long = chartWith((c) => new ApiObject(c, 's', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's'.repeat(62) }, spec: { ports: [{ port: 80 }] } }));
    expect(() => buildHelmChart(long)).toThrow(/Service\/s+ leaves no room for a release-name prefix/);
    const ok = chartWith((c) => new ApiObject(c, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }));
    expect(() => buildHelmChart(ok, { name: 'My_Chart' })).toThrow(/chart name "My_Chart"/);
    expect(() => buildHelmChart(ok, { version: 'v1' })).toThrow(/chart version "v1" must be SemVer 2/);
  });
});

describe('chart writer output', () => {
  it('gives each chart of a multi-chart app its own values keys; objects of both land in the release', async () => {
    const app = Testing.app();
    new StatelessService(new Chart(app, 'front', { namespace: 'shop' }), 'web', { image: 'ghcr.io/example/web:1.0.0' });
    new StatelessService(new Chart(app, 'back', { namespace: 'shop' }), 'web-api', { image: 'ghcr.io/example/api:1.0.0' });
    const dir = path.join(tmp, 'multi');
    const chart = writeHelmChart(app, dir, { name: 'shop' });
    expect(Object.keys(chart.values)).toEqual(['frontWeb', 'backWebApi', 'global']);
    expect([...chart.files.keys()].filter((f) => f.startsWith('templates/front') || f.startsWith('templates/back'))).toEqual(['templates/front-web.yaml', 'templates/back-web-api.yaml']);
    const objects = await renderChart(dir, 'r1', { namespace: 'shop', values: { 'backWebApi.autoscaling.maxReplicas': 7 } });
    expect(objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'r1-web-api')!.spec.maxReplicas).toBe(7);
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(['r1-web', 'r1-web-api']);
  });

  it('rewrites a chart directory in place, and refuses to write into a directory that holds something else', () => {
    const dir = path.join(tmp, 'rewrite');
    const one = chartWith((c) => new StatelessService(c, 'old', { image: 'ghcr.io/example/a:1.0.0' }));
    writeHelmChart(one, dir);
    expect(fs.existsSync(path.join(dir, 'templates', 'old.yaml'))).toBe(true);
    writeHelmChart(chartWith((c) => new StatelessService(c, 'new', { image: 'ghcr.io/example/a:1.0.0' })), dir);
    expect(fs.readdirSync(path.join(dir, 'templates')).sort()).toEqual(['NOTES.txt', '_helpers.tpl', 'new.yaml', 'validate.yaml']);
    const other = path.join(tmp, 'not-a-chart');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    expect(() => writeHelmChart(one, other)).toThrow(/is not empty and holds no chart/);
  });

  it('documents every value with its type and default in values.yaml comments and the README', () => {
    const chart = buildHelmChart(chartWith((c) => new StatelessService(c, 'api', { image: 'ghcr.io/example/api:1.0.0' })));
    const values = chart.files.get('values.yaml')!;
    expect(values).toContain('# test/api (StatelessService)\napi:\n');
    expect(values).toContain('    # HPA ceiling\n    maxReplicas: 20\n');
    expect(chart.files.get('README.md')).toContain('| `api.autoscaling.maxReplicas` | integer (1–) | `20` | HPA ceiling |');
    expect(chart.files.get('README.md')).toContain('--set-string api.image.tag=1.0.0');
    expect(yaml.load(chart.files.get('Chart.yaml')!)).toEqual({
      apiVersion: 'v2', name: 'test', description: 'Generated by scalecharts from test', type: 'application', version: '0.1.0', appVersion: '0.1.0', kubeVersion: '>=1.28.0-0',
    });
  });
});

describe('npm run chart', () => {
  it('writes the chart of an example app file', async () => {
    const dir = path.join(tmp, 'cli');
    const { stdout } = await run('npm', ['run', '-s', 'chart', '--', 'examples/strata-router.ts', dir, '--version', '1.2.3'], { cwd: path.join(__dirname, '..') });
    expect(stdout).toMatch(/^wrote chart strata-router to .*: \d+ values, \d+ template files, \d+ objects/);
    expect(yaml.load(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'))).toMatchObject({ name: 'strata-router', version: '1.2.3' });
  });

  it('explains its usage when the arguments are wrong', async () => {
    const err = await run('npx', ['tsx', 'scripts/chart.ts', 'examples/quickstart.ts'], { cwd: path.join(__dirname, '..') }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('usage: npm run chart -- <app file> <out dir>');
  });
});
