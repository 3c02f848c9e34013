/**
 * `<workload>.ingress.*` in a chart (issue 17): `enabled`, `className`, `annotations`, `hosts`, `tls` for every
 * StatelessService, whether or not its props declared an Ingress, with the real helm. Toggling renders or removes the
 * Ingress and the NetworkPolicy's ingress-controller peer and nothing else; switched on, the chart renders what the
 * construct synthesizes with the same Ingress props; hosts and TLS values land in the Ingress (strict 1.28 schema);
 * bad values fail `helm lint --strict` naming their values path.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGRESS_APP_TRAEFIK, ingressApp } from './apps/ingress';
import { writeHelmChart } from '../lib/helm';
import { KUBE_VERSION, describeHelmChart, diffPaths, keyOf, renderChart, runHelm, setFlag, withoutHelmDifferences } from './harness/helm';
import { expectValidObjects } from './harness/schema';
import { K8sObject, synthApp } from './harness/synth';
import { KUBE_RULE_CASES } from './harness/kube-rules-table';
import Ajv from 'ajv';

const TRAEFIK = INGRESS_APP_TRAEFIK;
const CONTROLLER = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };
const release = 'irel';
const namespace = 'shop';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-ingress-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const app = Testing.app();
ingressApp(app);
const chartDir = path.join(dir, 'shop');
const chart = writeHelmChart(app, chartDir);
/** NOTES.txt as `helm install` prints it (`helm template` skips it): rendered with `tpl` in a copy of the chart. */
async function renderNotes(values: Record<string, unknown>): Promise<string> {
  const copy = path.join(dir, 'notes-chart');
  fs.rmSync(copy, { recursive: true, force: true });
  fs.cpSync(chartDir, copy, { recursive: true });
  fs.renameSync(path.join(copy, 'templates', 'NOTES.txt'), path.join(copy, 'notes.tpl'));
  fs.writeFileSync(path.join(copy, 'templates', 'zz-notes.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "notes.tpl") . | toJson }}\n');
  const objs = await renderChart(copy, release, { namespace, values, args: ['--show-only', 'templates/zz-notes.yaml'] });
  return objs[0].data.notes as string;
}
const byKey = (objs: K8sObject[]) => new Map(objs.map((o) => [keyOf(o), o]));
const from = (objs: K8sObject[], name: string) => objs.find((o) => keyOf(o) === `NetworkPolicy/${release}-${name}`)?.spec.ingress[0].from as K8sObject[];
const ingressOf = (objs: K8sObject[], name: string) => objs.find((o) => keyOf(o) === `Ingress/${release}-${name}`);

describe('ingress values of a chart of StatelessServices', () => {
  let defaults: K8sObject[] = [];
  beforeAll(async () => {
    defaults = await renderChart(chartDir, release, { namespace });
  });

  it('offers ingress.enabled for every StatelessService except one that says ingress: false, on when its props declared an Ingress', () => {
    const switches = Object.fromEntries(chart.model.switches.filter((s) => s.path.endsWith('.ingress.enabled')).map((s) => [s.path, s.default]));
    expect(switches).toEqual({ 'web.ingress.enabled': true, 'api.ingress.enabled': false, 'admin.ingress.enabled': false, 'edge.ingress.enabled': false });
    const values = chart.values as Record<string, Record<string, unknown>>;
    expect(values.internal.ingress).toBeUndefined();
    expect(values.api.ingress).toEqual({
      enabled: false, className: '', annotations: {},
      hosts: [{ host: 'api.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [],
    });
    expect(values.web.ingress).toEqual({
      enabled: true, className: 'nginx', annotations: {},
      hosts: [
        { host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix' }, { path: '/static', pathType: 'Prefix' }] },
        { host: '*.shop.example.com', paths: [{ path: '/', pathType: 'Prefix' }] },
      ],
      tls: [{ secretName: 'web-tls', hosts: ['shop.example.com'] }],
    });
    const readme = chart.files.get('README.md')!;
    for (const key of ['enabled', 'className', 'annotations', 'hosts', 'tls']) expect(readme).toContain(`| \`api.ingress.${key}\` |`);
  });

  // [workload, default on, controller peer, its index in the first rule's `from` (members first, then allowFrom)]
  const table: Array<[string, boolean, K8sObject | undefined, number]> = [
    ['web', true, CONTROLLER, 1],
    ['api', false, CONTROLLER, 2],
    ['admin', false, undefined, 0],
    ['edge', false, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } }, podSelector: { matchLabels: TRAEFIK.podLabels } }, 1],
  ];
  it.each(table)('%s: toggling ingress.enabled adds or removes the Ingress and the controller peer, and nothing else', async (name, on, peer, index) => {
    const toggled = await renderChart(chartDir, release, { namespace, values: { [`${name}.ingress.enabled`]: !on } });
    const [withIt, without] = on ? [defaults, toggled] : [toggled, defaults];
    const ingress = ingressOf(withIt, name);
    expect(ingress).toBeDefined();
    expect(ingressOf(without, name)).toBeUndefined();
    expect(ingress!.spec.rules.every((r: K8sObject) => r.http.paths.every((p: K8sObject) => p.backend.service.name === `${release}-${name}` && p.backend.service.port.name === 'http'))).toBe(true);
    expectValidObjects([ingress!]);
    if (peer) {
      const a = from(withIt, name);
      const b = from(without, name);
      expect(a[index]).toEqual(peer);
      expect(a.filter((_, i) => i !== index)).toEqual(b);
      expect(b.length).toBeGreaterThan(0); // an empty `from` would admit everyone
    } else {
      expect(withIt.some((o) => keyOf(o) === `NetworkPolicy/${release}-${name}`)).toBe(false);
    }
    // Every other object is the same, and the NetworkPolicy differs only in that rule.
    const w = byKey(withIt);
    const wo = byKey(without);
    expect([...w.keys()].filter((k) => !wo.has(k))).toEqual([`Ingress/${release}-${name}`]);
    expect([...wo.keys()].filter((k) => !w.has(k))).toEqual([]);
    for (const [k, o] of wo) {
      const changed = diffPaths(o, w.get(k));
      expect(changed, k).toEqual(peer && k === `NetworkPolicy/${release}-${name}` ? [['spec', 'ingress', 0, 'from']] : []);
    }
  });

  it('switched on, renders what the construct synthesizes with the same Ingress (Ingress and NetworkPolicy)', async () => {
    const plain = synthApp((a) => { ingressApp(a, { hosts: [{ host: 'api.example.com' }] }); });
    const rendered = await renderChart(chartDir, release, { namespace, values: { 'api.ingress.enabled': true, 'edge.ingress.enabled': true, 'edge.ingress.hosts': [{ host: 'edge.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }] } });
    for (const key of ['Ingress/api', 'NetworkPolicy/api', 'Ingress/edge', 'NetworkPolicy/edge']) {
      const want = plain.find((o) => keyOf(o) === key)!;
      const got = rendered.find((o) => keyOf(o) === `${key.split('/')[0]}/${release}-${key.split('/')[1]}`)!;
      expect(want, key).toBeDefined();
      expect(withoutHelmDifferences(got, release), key).toEqual(withoutHelmDifferences(want));
    }
  });

  it('renders hosts, paths, TLS, class and annotations from values; a construct\'s TLS Secret name is the release\'s, others as written', async () => {
    const hosts = [
      { host: 'api.shop.example.com', paths: [{ path: '/v1', pathType: 'Prefix' }, { path: '/health', pathType: 'Exact' }] },
      { host: '*.api.example.org', paths: [{ path: '/.well-known/(.*)', pathType: 'ImplementationSpecific' }] },
    ];
    const tls = [{ secretName: 'api-cert', hosts: ['api.shop.example.com', '*.api.example.org'] }];
    const webTls = [{ secretName: 'web-tls', hosts: ['shop.example.com'] }, { secretName: 'wildcard-cert', hosts: ['*.shop.example.com'] }];
    const objs = await renderChart(chartDir, release, {
      namespace,
      values: {
        'api.ingress.enabled': true, 'api.ingress.hosts': hosts, 'api.ingress.tls': tls, 'api.ingress.className': 'traefik',
        'api.ingress.annotations': { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, 'web.ingress.tls': webTls,
        'web.ingress.annotations': { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      },
    });
    const api = ingressOf(objs, 'api')!;
    const backend = { service: { name: `${release}-api`, port: { name: 'http' } } };
    expect(api.spec).toEqual({
      ingressClassName: 'traefik',
      tls,
      rules: hosts.map((h) => ({ host: h.host, http: { paths: h.paths.map((p) => ({ ...p, backend })) } })),
    });
    expect(api.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(api.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': release });
    const web = ingressOf(objs, 'web')!;
    expect(web.spec.tls).toEqual([{ secretName: `${release}-web-tls`, hosts: ['shop.example.com'] }, { secretName: 'wildcard-cert', hosts: ['*.shop.example.com'] }]);
    expect(web.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/proxy-body-size': '8m', 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expectValidObjects(objs.filter((o) => o.kind === 'Ingress'));
    // No TLS: no tls section; the NOTES show the URLs with their scheme.
    const noTls = await renderChart(chartDir, release, { namespace, values: { 'web.ingress.tls': [] } });
    expect(ingressOf(noTls, 'web')!.spec.tls).toBeUndefined();
    const text = await renderNotes({ 'api.ingress.enabled': true, 'api.ingress.hosts': hosts, 'api.ingress.tls': tls });
    expect(text).toContain('https://api.shop.example.com/v1');
    expect(text).toContain('https://shop.example.com/');
    expect(text).toContain('http://*.shop.example.com/');
    expect(text).not.toContain('edge.example.com');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['api.ingress.hosts', [{ host: 'Not_A_Host', paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.host: Does not match pattern/],
    ['api.ingress.hosts', [{ host: 'api', paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.host: Does not match pattern/],
    ['api.ingress.hosts', [{ host: 'a.*.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.host: Does not match pattern/],
    ['api.ingress.hosts', [{ host: '10.0.0.1', paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.host: Must not validate the schema \(not\)/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [{ path: 'v1', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.paths\.0\.path: Does not match pattern/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [{ path: '/a//b', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.paths\.0\.path: Must not validate the schema \(not\)/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [{ path: '/', pathType: 'Regex' }] }], /- api\.ingress\.hosts\.0\.paths\.0\.pathType: api\.ingress\.hosts\.0\.paths\.0\.pathType must be one of the following/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [] }], /- api\.ingress\.hosts\.0\.paths: Array must have at least 1 items/],
    ['api.ingress.hosts', [{ host: 'api.example.com', port: 80, paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0: Additional property port is not allowed/],
    ['api.ingress.hosts', [], /- api\.ingress\.hosts: Array must have at least 1 items/],
    ['api.ingress.hosts', [{ paths: [{ path: '/', pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0: host is required/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [{ pathType: 'Prefix' }] }], /- api\.ingress\.hosts\.0\.paths\.0: path is required/],
    ['api.ingress.hosts', [{ host: 'api.example.com', paths: [{ path: '/a/../b' }] }], /- api\.ingress\.hosts\.0\.paths\.0\.path: Must not validate the schema \(not\)/],
    ['web.ingress.tls', [{ secretName: 'Bad_Name', hosts: ['shop.example.com'] }], /- web\.ingress\.tls\.0\.secretName: Does not match pattern/],
    ['web.ingress.tls', [{ secretName: 'web-tls', hosts: ['not a host'] }], /- web\.ingress\.tls\.0\.hosts\.0: Does not match pattern/],
    ['web.ingress.tls', [{ hosts: ['shop.example.com'] }], /- web\.ingress\.tls\.0: secretName is required/],
    ['web.ingress.className', 'Nginx!', /- web\.ingress\.className: Does not match pattern/],
    ['api.ingress.annotations', { 'not a key': 'x' }, /- api\.ingress\.annotations: Property name of "not a key" does not match/],
    ['web.ingress.annotations', { 'nginx.ingress.kubernetes.io/proxy-body-size': '1m' }, /- web\.ingress\.annotations: Property name of "nginx\.ingress\.kubernetes\.io\/proxy-body-size" does not match/],
    ['api.ingress.enabled', 'yes', /- api\.ingress\.enabled: Invalid type\. Expected: boolean, given: string/],
  ];
  it.each(bad)('helm lint --strict refuses %s = %j, naming the path', async (p, value, message) => {
    const r = await runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, chartDir, ...setFlag(p, value)]);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(message);
  });

  const rendered: Array<[string, Record<string, unknown>, string | undefined]> = [
    ['a TLS host outside the hosts', { 'web.ingress.tls': [{ secretName: 'x', hosts: ['nope.example.com'] }] },
      'web.ingress.tls[0].hosts[0] (nope.example.com) must be one of web.ingress.hosts (shop.example.com, *.shop.example.com)'],
    ['a host listed twice', { 'api.ingress.enabled': true, 'api.ingress.hosts': [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }, { host: 'a.example.com', paths: [{ path: '/x', pathType: 'Prefix' }] }] },
      'api.ingress.hosts[1].host (a.example.com) is listed twice'],
    ['either, with the Ingress off', { 'api.ingress.hosts': [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }, { host: 'a.example.com', paths: [{ path: '/x', pathType: 'Prefix' }] }], 'web.ingress.enabled': false, 'web.ingress.tls': [{ secretName: 'x', hosts: ['nope.example.com'] }] }, undefined],
  ];
  it.each(rendered)('helm template refuses %s (what JSON Schema cannot say), naming the path', async (_what, values, message) => {
    const r = await runHelm(['template', release, chartDir, '--namespace', namespace, ...Object.entries(values).flatMap(([p, v]) => setFlag(p, v))]);
    if (message === undefined) expect(r.code, r.stderr).toBe(0);
    else {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
  });

  it('--set <workload>.ingress.hosts[0].host alone gives that host with the construct\'s default path (/, Prefix)', async () => {
    const objs = await renderChart(chartDir, release, { namespace, args: ['--set', 'api.ingress.enabled=true', '--set', 'api.ingress.hosts[0].host=api.shop.example.com'] });
    expect(ingressOf(objs, 'api')!.spec.rules).toEqual([
      { host: 'api.shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `${release}-api`, port: { name: 'http' } } } }] } },
    ]);
    const text = await renderNotes({ 'api.ingress.enabled': true, 'api.ingress.hosts': [{ host: 'api.shop.example.com' }] });
    expect(text).toContain('http://api.shop.example.com/');
  });

  it('helm lint --strict passes the hosts, paths and TLS Kubernetes allows', async () => {
    const r = await runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, chartDir,
      ...setFlag('api.ingress.enabled', true),
      ...setFlag('api.ingress.hosts', [{ host: '*.example.com', paths: [{ path: '/', pathType: 'Prefix' }, { path: '/a/b.c', pathType: 'Exact' }, { path: '/x//y', pathType: 'ImplementationSpecific' }] }]),
      ...setFlag('api.ingress.tls', [{ secretName: 'wild.cert', hosts: ['*.example.com'] }])]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('values.schema.json against the API server\'s verdicts (test/harness/kube-rules-table.ts)', () => {
  const schema = JSON.parse(chart.files.get('values.schema.json')!);
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const withValue = (p: string, value: unknown) => {
    const values = structuredClone(chart.values) as Record<string, Record<string, Record<string, unknown>>>;
    const [root, , key] = p.split('.');
    values[root].ingress[key] = value;
    return validate(values);
  };
  const cases = KUBE_RULE_CASES.filter((c) => ['ingressHost', 'ingressPrefixPath', 'dns1123Subdomain'].includes(c.rule) && (c.accepted128 ?? c.accepted) === c.accepted);
  it.each(cases.map((c) => [c.rule, c.value, c.accepted, c.note] as const))('%s %j: the server accepts it: %s', (rule, value, accepted, note) => {
    const ours = rule === 'ingressHost' ? withValue('api.ingress.hosts', [{ host: value, paths: [{ path: '/', pathType: 'Prefix' }] }])
      : rule === 'ingressPrefixPath' ? withValue('api.ingress.hosts', [{ host: 'api.example.com', paths: [{ path: value, pathType: 'Prefix' }] }])
        : withValue('web.ingress.tls', [{ secretName: value, hosts: ['shop.example.com'] }]);
    // Never looser than the server; as loose except where the table notes why our validators refuse more.
    if (!accepted) expect(ours).toBe(false);
    else if (!note) expect(ours).toBe(true);
  });
  it('accepts the default values', () => expect(validate(chart.values), JSON.stringify(validate.errors)).toBe(true));
});

// The whole chart battery on this app: defaults equal the synth, every `--set` of web's Ingress values changes
// exactly the Ingress fields it targets, two releases, invalid values.
describeHelmChart('ingress values (test/helm-ingress.test.ts)', (a) => ingressApp(a));
