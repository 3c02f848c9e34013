import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeneratedSecret, Knobs, PostgresCluster, STATELESS, StatelessService, StatelessServiceProps, connectPostgres } from '../lib';
import { writeHelmChart } from '../lib/helm';
import { expectValidationError } from './harness/errors';
import { describeHelmChart, keyOf, renderChart, startFakeKubeApi } from './harness/helm';
import { build, container, find, findAll, K8sObject, synth } from './harness/synth';

/** Config text full of things YAML 1.1 and Go templates both misread when written carelessly. */
const TRICKY: Record<string, string> = {
  'y': 'no', 'on': 'off', 'null': '~', 'version': '1.0', 'octal': '0755', 'hex': '0x1F', 'empty': '',
  'lead-space': ' lead', 'trail-space': 'trail ', 'colon': 'a: b', 'hash': '#not a comment', 'tab': 'tab\there',
  'newlines': '\n\nafter two newlines\n\n', 'indented': '  indented first line\nsecond\n', 'crlf': 'windows\r\nline',
  'unicode': 'ünïcode ✓ 🚀', 'quotes': 'say "hi" \\ bye', 'go-template': 'alert on {{ $labels.pod }} = {{ $value }}',
  'percent': '100% sure %s %v', 'star': '*', 'dash': '- item', 'braces': '{a: 1}',
};

/** A construct with a config file whose numbers and lists are install-time knobs (fragments and a range template). */
class TunedConfig extends Construct {
  public readonly configMap: k8s.KubeConfigMap;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const upstreams = ['a.example.com:443', 'b.example.com:443'];
    this.configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'api-config', labels: { 'app.kubernetes.io/name': 'api-config', 'app.kubernetes.io/managed-by': 'scalecharts' } },
      data: {
        'app.conf': [
          '# api settings for the catalog service and the api (mode = api)',
          'upstream = http://catalog:80/v1',
          'catalog_host = catalog',
          'mode = api',
          'workers = 8',
          'queue_limit = 250',
          '',
        ].join('\n'),
        'upstreams.conf': `upstream backends {\n${upstreams.map((u) => `  server ${u};`).join('\n')}\n}\n`,
        'reload.sh': '#!/bin/sh\nkubectl rollout restart deployment/api --selector config=api-config\n',
        ...TRICKY,
      },
    });
    Knobs.declare(this, {
      key: 'workers', description: 'Worker threads', schema: { type: 'integer', minimum: 1, maximum: 64 }, default: 8,
      targets: [{ object: this.configMap, path: ['data', 'app.conf'], fragment: 'workers = 8', template: 'workers = {{ $value }}' }],
    });
    Knobs.declare(this, {
      key: 'queueLimit', description: 'Queue limit', schema: { type: 'integer', minimum: 1 }, default: 250,
      targets: [{ object: this.configMap, path: ['data', 'app.conf'], fragment: '250' }],
    });
    Knobs.declare(this, {
      key: 'upstreams', description: 'Upstream servers (host:port)',
      schema: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9.-]+:[0-9]+$' }, minItems: 1 },
      default: upstreams, example: ['c.example.com:8443'],
      targets: [{ object: this.configMap, path: ['data', 'upstreams.conf'], template: 'upstream backends {\n{{- range $values.upstreams }}\n  server {{ . }};\n{{- end }}\n}\n' }],
    });
    Knobs.reference(this, { object: this.configMap, path: ['data', 'reload.sh'], name: 'api-config' });
    Knobs.reference(this, { object: this.configMap, path: ['data', 'reload.sh'], name: 'api' });
  }
}

/** A StatelessService with every option, a fixed-size one behind a KEDA ScaledObject, and the objects they use. */
function everyOption(app: App): Chart {
  const chart = new Chart(app, 'everything', { namespace: 'shop' });
  new k8s.KubeServiceAccount(chart, 'service-account', {
    metadata: { name: 'api', labels: { 'app.kubernetes.io/name': 'api' } }, automountServiceAccountToken: false,
  });
  const session = new GeneratedSecret(chart, 'session', { keys: ['signing-key', 'encryption-key'] });
  new TunedConfig(chart, 'tuned');
  const catalog = new StatelessService(chart, 'catalog', { image: 'ghcr.io/example/catalog:2.0.1', autoscaling: false, replicas: 2 });
  new StatelessService(chart, 'api', {
    image: 'ghcr.io/example/api:1.4.2',
    appMode: 'api',
    component: 'frontend',
    partOf: 'shop',
    port: 9000,
    servicePort: 8080,
    metricsPort: 9090,
    metricsPath: '/internal/metrics',
    autoscaling: { minReplicas: 2, maxReplicas: 12, cpuUtilization: 70, memoryUtilization: 80, behavior: { scaleDown: { stabilizationWindowSeconds: 600 } } },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    probes: { readinessPath: '/healthz/ready', livenessPath: '/healthz/live', startupTimeoutSeconds: 60 },
    env: {
      UPSTREAM_URL: `http://${catalog.host}:${catalog.servicePort}/v1`,
      CATALOG_HOST: catalog.host,
      CATALOG_FQDN: 'catalog.shop.svc.cluster.local',
      SEARCH_URL: 'http://catalog-search:80',
      PUBLIC_URL: 'https://api.shop.example.com',
      FEATURE: 'catalog',
    },
    secretEnv: { DATABASE_URL: { secretName: 'shop-db', key: 'url' }, SESSION_KEY: session.ref('signing-key') },
    envFrom: { secrets: [session.name], configMaps: ['api-config'] },
    configMounts: [{ configMap: 'api-config', mountPath: '/etc/api' }],
    command: ['/app/api'],
    args: ['serve', '--listen=:9000'],
    stickySessions: 600,
    ingress: { host: 'api.shop.example.com', className: 'nginx', tlsSecretName: 'api-tls' },
    serviceMonitor: { interval: '15s' },
    serviceAccountName: 'api',
    runAsUser: 10001,
    terminationGracePeriodSeconds: 45,
    migration: { command: ['/app/api', 'migrate'], args: ['--to', 'latest'], timeoutSeconds: 600, backoffLimit: 0 },
  });
  new ApiObject(chart, 'catalog-scaler', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'catalog', labels: { 'app.kubernetes.io/name': 'catalog' } },
    spec: {
      scaleTargetRef: { name: 'catalog' },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      triggers: [{ type: 'prometheus', metadata: { serverAddress: 'http://prometheus.monitoring.svc:9090', query: 'sum(rate(http_requests_total{service="catalog"}[1m]))', threshold: '100' } }],
    },
  });
  return chart;
}

describeHelmChart('StatelessService with every option', everyOption, { chart: { version: '2.3.4', appVersion: '1.4.2' } });

describe('StatelessService chart: references, config text and hooks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-every-'));
  const chartDir = path.join(dir, 'chart');
  const app = Testing.app();
  everyOption(app);
  const chart = writeHelmChart(app, chartDir, { version: '2.3.4' });
  let objects: K8sObject[] = [];
  const get = (key: string) => objects.find((o) => keyOf(o) === key)!;
  const env = (o: K8sObject) => Object.fromEntries(container(o).env.filter((e: K8sObject) => 'value' in e).map((e: K8sObject) => [e.name, e.value]));

  beforeAll(async () => {
    // crds.* default to "auto": render as on a cluster that serves KEDA and the Prometheus Operator.
    const served = chart.model.crdToggles.flatMap((t) => t.apiVersions.flatMap((a) => ['--api-versions', a]));
    objects = await renderChart(chartDir, 'blue', { namespace: 'team-a', args: served });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prefixes host names in env values only where they name a Service', () => {
    expect(env(get('Deployment/blue-api'))).toEqual({
      APP_MODE: 'api', // a Service is called api too: a mode is not a host
      UPSTREAM_URL: 'http://blue-catalog:80/v1',
      CATALOG_HOST: 'blue-catalog',
      CATALOG_FQDN: 'blue-catalog.team-a.svc.cluster.local',
      SEARCH_URL: 'http://catalog-search:80', // no Service of that name: not a substring match
      PUBLIC_URL: 'https://api.shop.example.com', // a public name that merely starts with a Service's
      FEATURE: 'catalog',
    });
  });

  it('prefixes host names inside config files and declared references in scripts, and leaves prose alone', () => {
    const data = get('ConfigMap/blue-api-config').data;
    expect(data['app.conf']).toBe([
      '# api settings for the catalog service and the api (mode = api)',
      'upstream = http://blue-catalog:80/v1',
      'catalog_host = blue-catalog',
      'mode = api',
      'workers = 8',
      'queue_limit = 250',
      '',
    ].join('\n'));
    expect(data['reload.sh']).toBe('#!/bin/sh\nkubectl rollout restart deployment/blue-api --selector config=blue-api-config\n');
  });

  it('keeps YAML-1.1-ambiguous and template-looking config text byte for byte', () => {
    const data = get('ConfigMap/blue-api-config').data;
    for (const [k, v] of Object.entries(TRICKY)) expect(data[k], k).toBe(v);
  });

  it('points the KEDA ScaledObject and its query at the release', () => {
    const so = get('ScaledObject/blue-catalog');
    expect(so.spec.scaleTargetRef).toEqual({ name: 'blue-catalog' });
    expect(so.spec.triggers[0].metadata).toEqual({
      serverAddress: 'http://prometheus.monitoring.svc:9090',
      query: 'sum(rate(http_requests_total{service="blue-catalog"}[1m]))',
      threshold: '100',
    });
  });

  it('fills config-file fragments and range templates from values', async () => {
    const tuned = await renderChart(chartDir, 'blue', { namespace: 'team-a', values: { 'tuned.workers': 16, 'tuned.queueLimit': 900, 'tuned.upstreams': ['x.example.com:1', 'y.example.com:2', 'z.example.com:3'] } });
    const data = tuned.find((o) => keyOf(o) === 'ConfigMap/blue-api-config')!.data;
    expect(data['app.conf']).toContain('workers = 16\nqueue_limit = 900\n');
    expect(data['upstreams.conf']).toBe('upstream backends {\n  server x.example.com:1;\n  server y.example.com:2;\n  server z.example.com:3;\n}\n');
  });

  it('runs the migration after install when its pod needs objects of the chart, before every upgrade', () => {
    const job = get('Job/blue-api-migrate');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('post-install,pre-upgrade');
    expect(chart.model.hooks).toEqual([expect.objectContaining({
      name: 'api-migrate', dependsOn: expect.arrayContaining(['ConfigMap/api-config', 'ServiceAccount/api', 'Secret/session']),
    })]);
    expect(job.spec).toMatchObject({ activeDeadlineSeconds: 600, backoffLimit: 0 });
    expect(container(job).command).toEqual(['/app/api', 'migrate']);
    expect(container(job).args).toEqual(['--to', 'latest']);
    expect(container(job).envFrom).toEqual([{ secretRef: { name: 'blue-session' } }, { configMapRef: { name: 'blue-api-config' } }]);
  });

  it('starts autoscaled Deployments at the floor on install and keeps the live count on upgrade', async () => {
    // Install (nothing live): the HPA's and the ScaledObject's floors. api: minReplicas 2; catalog: its fixed 2.
    expect(get('Deployment/blue-api').spec.replicas).toBe(2);
    expect(get('Deployment/blue-catalog').spec.replicas).toBe(2);
    const floor = await renderChart(chartDir, 'blue', { namespace: 'team-a', values: { 'api.autoscaling.minReplicas': 4 } });
    expect(floor.find((o) => keyOf(o) === 'Deployment/blue-api')!.spec.replicas).toBe(4);
    // Upgrade: the autoscaler scaled api to 7 and catalog to 5; the chart writes those back instead of the floor.
    const api = await startFakeKubeApi({}, { 'blue-api': 7, 'blue-catalog': 5 });
    try {
      const upgrade = await renderChart(chartDir, 'blue', { namespace: 'team-a', values: { 'api.autoscaling.minReplicas': 4 }, args: ['--dry-run=server', '--kube-apiserver', api.url] });
      expect(upgrade.find((o) => keyOf(o) === 'Deployment/blue-api')!.spec.replicas).toBe(7);
      expect(upgrade.find((o) => keyOf(o) === 'Deployment/blue-catalog')!.spec.replicas).toBe(5);
      expect(api.requests).toContain('GET /apis/apps/v1/namespaces/team-a/deployments/blue-api');
    } finally {
      await api.close();
    }
  });

  it('refuses a release name that would push an object name past 63 characters', async () => {
    const long = 'r'.repeat(chart.model.maxReleaseNameLength + 1);
    await expect(renderChart(chartDir, long, { namespace: 'team-a' })).rejects.toThrow(/release name "r+" is \d+ characters; at most \d+ keep the name of/);
    await expect(renderChart(chartDir, 'r'.repeat(chart.model.maxReleaseNameLength), { namespace: 'team-a' })).resolves.toBeDefined();
  });
});

describe('StatelessService migration in plain manifests', () => {
  const IMAGE = 'ghcr.io/example/api:1.2.3';
  const service = (props: Partial<StatelessServiceProps> = {}) => synth((chart) => new StatelessService(chart, 'api', { image: IMAGE, ...props }));

  it('is a hardened Job from the same image, env and config, run as an Argo CD PreSync hook', () => {
    const objects = service({
      env: { LOG_LEVEL: 'debug' }, secretEnv: { DATABASE_URL: { secretName: 'db', key: 'url' } },
      configMounts: [{ configMap: 'settings', mountPath: '/etc/app' }],
      migration: { command: ['/app/migrate', 'up'] },
    });
    const job = find(objects, 'Job', 'api-migrate');
    const deployment = find(objects, 'Deployment', 'api');
    expect(job.metadata.annotations).toEqual({
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
    });
    expect(job.spec).toMatchObject({
      activeDeadlineSeconds: STATELESS.migrationTimeoutSeconds, backoffLimit: STATELESS.migrationBackoffLimit, ttlSecondsAfterFinished: 86400,
    });
    const pod = job.spec.template.spec;
    const app = container(deployment);
    const migrate = container(job);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toEqual(deployment.spec.template.spec.securityContext);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(migrate).toMatchObject({ name: 'migrate', image: IMAGE, command: ['/app/migrate', 'up'], env: app.env, resources: app.resources, securityContext: app.securityContext, volumeMounts: app.volumeMounts });
    expect(pod.volumes).toEqual(deployment.spec.template.spec.volumes);
    expect(migrate.readinessProbe).toBeUndefined();
  });

  it("labels the Job's pods so that no Service, PDB or HPA of the service selects them", () => {
    const objects = service({ migration: { command: ['/app/migrate'] } });
    const podLabels = find(objects, 'Job').spec.template.metadata.labels;
    expect(podLabels['app.kubernetes.io/component']).toBe('migration');
    for (const selector of [find(objects, 'Service').spec.selector, find(objects, 'PodDisruptionBudget').spec.selector.matchLabels]) {
      expect(Object.entries(selector).every(([k, v]) => podLabels[k] === v)).toBe(false);
    }
  });

  it('after a database of the same chart: a Sync hook in wave 1, the new pods and what scales or exposes them in wave 2 (Argo CD)', () => {
    const WAVE = 'argocd.argoproj.io/sync-wave';
    const app = (wire: boolean) => synth((chart) => {
      const db = new PostgresCluster(chart, 'db', {});
      const api = new StatelessService(chart, 'api', { image: IMAGE, ingress: { host: 'api.example.com' }, migration: { command: ['/app/migrate'] } });
      // Wired after both exist, as apps do: the order is decided at synth, not at construction.
      if (wire) connectPostgres(api, db);
    });
    const wired = app(true);
    expect(find(wired, 'Job', 'api-migrate').metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', [WAVE]: '1' });
    for (const kind of ['Deployment', 'HorizontalPodAutoscaler', 'Ingress']) expect(find(wired, kind, 'api').metadata.annotations?.[WAVE], kind).toBe('2');
    // Everything else, the database first, stays in wave 0: Argo CD waits for it to be healthy before wave 1.
    const waved = wired.filter((o) => o.metadata.annotations?.[WAVE] !== undefined).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(waved).toEqual(['Deployment/api', 'HorizontalPodAutoscaler/api', 'Ingress/api', 'Job/api-migrate']);
    // Not connected to it: a PreSync hook (nothing of a failed upgrade applied), and no waves at all.
    const alone = app(false);
    expect(find(alone, 'Job', 'api-migrate').metadata.annotations['argocd.argoproj.io/hook']).toBe('PreSync');
    expect(alone.filter((o) => o.metadata.annotations?.[WAVE] !== undefined)).toEqual([]);
  });

  it('needing a ServiceAccount, ConfigMap or Secret of the chart: a Sync hook in wave 1 too, since a PreSync pod could not start on the first sync', () => {
    const WAVE = 'argocd.argoproj.io/sync-wave';
    const hookOf = (build: (chart: Chart) => void) => {
      const objects = synth(build);
      const job = find(objects, 'Job', 'api-migrate');
      return [job.metadata.annotations['argocd.argoproj.io/hook'], job.metadata.annotations[WAVE], find(objects, 'Deployment', 'api').metadata.annotations?.[WAVE]];
    };
    const migration = { command: ['/app/migrate'] };
    // The account `serviceAccount.create` makes is applied with the chart: before it exists the Job's pod is refused.
    expect(hookOf((chart) => new StatelessService(chart, 'api', { image: IMAGE, serviceAccount: { create: true }, migration }))).toEqual(['Sync', '1', '2']);
    // A ConfigMap and a Secret the chart itself creates, mounted and read as env.
    expect(hookOf((chart) => {
      new k8s.KubeConfigMap(chart, 'settings', { metadata: { name: 'settings' }, data: { 'app.yaml': 'a: 1' } });
      new StatelessService(chart, 'api', { image: IMAGE, configMounts: [{ configMap: 'settings', mountPath: '/etc/app' }], migration });
    })).toEqual(['Sync', '1', '2']);
    expect(hookOf((chart) => {
      new k8s.KubeSecret(chart, 'tokens', { metadata: { name: 'tokens' }, stringData: { key: 'x' } });
      new StatelessService(chart, 'api', { image: IMAGE, secretEnv: { TOKEN: { secretName: 'tokens', key: 'key' } }, migration });
    })).toEqual(['Sync', '1', '2']);
    // The same names created by the user outside the chart: PreSync, no waves.
    expect(hookOf((chart) => new StatelessService(chart, 'api', {
      image: IMAGE, configMounts: [{ configMap: 'settings', mountPath: '/etc/app' }],
      secretEnv: { TOKEN: { secretName: 'tokens', key: 'key' } }, migration,
    }))).toEqual(['PreSync', undefined, undefined]);
  });

  it('is absent when no migration is declared', () => {
    expect(findAll(service(), 'Job')).toHaveLength(0);
  });

  it('refuses an empty command, an out-of-range deadline or retry count', () => {
    const make = (migration: StatelessServiceProps['migration']) => () => build((chart) => new StatelessService(chart, 'api', { image: IMAGE, migration }));
    expectValidationError(make({ command: [] }), { path: 'test/api', property: 'migration.command', value: [] });
    expectValidationError(make({ command: ['/app/migrate', ''] }), { path: 'test/api', property: 'migration.command' });
    expectValidationError(make({ command: ['/m'], timeoutSeconds: 10 }), { path: 'test/api', property: 'migration.timeoutSeconds', value: 10, allowed: /from 30 to 86400/ });
    expectValidationError(make({ command: ['/m'], backoffLimit: -1 }), { path: 'test/api', property: 'migration.backoffLimit', value: -1 });
  });
});
