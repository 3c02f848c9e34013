import { k8s } from 'cdk8s-plus-28';
import type { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Knobs, Presets, StatelessService, StatelessServiceProps, WorkerPool, WorkerPoolProps } from '../lib';
import { expectValidationError } from './harness/errors';
import { build, container, find, findAll, K8sObject, synth, synthApp } from './harness/synth';
import { workloadPropsApp } from './apps/workload-props';

/** Issue 17, part 1: the pod-level props operators expect, on StatelessService and WorkerPool alike. */

const IMAGE = 'ghcr.io/example/api:1.2.3';

type Kind = 'service' | 'worker';
const KINDS: Kind[] = ['service', 'worker'];

function make(kind: Kind, chart: Chart, extra: Record<string, unknown>): void {
  if (kind === 'service') new StatelessService(chart, 'api', { image: IMAGE, ...extra } as StatelessServiceProps);
  else new WorkerPool(chart, 'api', { image: IMAGE, queue: 'jobs', ...extra } as WorkerPoolProps);
}

function render(kind: Kind, extra: Record<string, unknown>, before?: (chart: Chart) => void): K8sObject[] {
  return synth((chart) => {
    before?.(chart);
    make(kind, chart, extra);
  });
}

const refuse = (kind: Kind, extra: Record<string, unknown>) => () => build((chart) => make(kind, chart, extra));
/** An existing account the pod names: kube-linter (and a real cluster) want it to exist. */
const existingAccount = (name: string) => (chart: Chart) => {
  new k8s.KubeServiceAccount(chart, `sa-${name}`, { metadata: { name }, automountServiceAccountToken: false });
};

describe.each(KINDS)('%s: imagePullSecrets', (kind) => {
  it('renders each Secret on the pod', () => {
    const pod = find(render(kind, { imagePullSecrets: ['regcred', 'mirror-cred'] }), 'Deployment').spec.template.spec;
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'mirror-cred' }]);
  });
  it('renders none by default', () => {
    expect(find(render(kind, {}), 'Deployment').spec.template.spec.imagePullSecrets).toBeUndefined();
  });
  it('refuses invalid and duplicate names', () => {
    expectValidationError(refuse(kind, { imagePullSecrets: ['Reg_Cred'] }), { path: 'test/api', property: 'imagePullSecrets[0]', value: 'Reg_Cred', allowed: /DNS-1123 subdomain/ });
    expectValidationError(refuse(kind, { imagePullSecrets: ['a', 'a'] }), { path: 'test/api', property: 'imagePullSecrets', value: 'a', allowed: /unique/ });
    expectValidationError(refuse(kind, { imagePullSecrets: 'regcred' }), { path: 'test/api', property: 'imagePullSecrets', value: 'regcred' });
  });
});

describe.each(KINDS)('%s: serviceAccount', (kind) => {
  it('keeps today\'s default: no account created, the namespace default, no token', () => {
    const objects = render(kind, {});
    expect(findAll(objects, 'ServiceAccount')).toEqual([]);
    const pod = find(objects, 'Deployment').spec.template.spec;
    expect(pod.serviceAccountName).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('creates one named after the workload, with annotations, token unmounted', () => {
    const objects = render(kind, { serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/api' } } });
    const sa = find(objects, 'ServiceAccount', 'api');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/api' });
    expect(sa.metadata.labels['app.kubernetes.io/name']).toBe('api');
    expect(sa.automountServiceAccountToken).toBe(false);
    const pod = find(objects, 'Deployment').spec.template.spec;
    expect(pod.serviceAccountName).toBe('api');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('creates one under a given name, and mounts the token only with automountToken: true', () => {
    const objects = render(kind, { serviceAccount: { create: true, name: 'api-runner', automountToken: true } });
    expect(find(objects, 'ServiceAccount', 'api-runner').automountServiceAccountToken).toBe(true);
    const pod = find(objects, 'Deployment').spec.template.spec;
    expect(pod.serviceAccountName).toBe('api-runner');
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('runs as a named existing account without creating one', () => {
    const objects = render(kind, { serviceAccount: { name: 'shared' } }, existingAccount('shared'));
    expect(findAll(objects, 'ServiceAccount').map((o) => o.metadata.name)).toEqual(['shared']);
    expect(find(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('shared');
  });

  it('refuses contradictions and bad values, naming the property', () => {
    expectValidationError(refuse(kind, { serviceAccount: { name: 'a' }, serviceAccountName: 'b' }), { path: 'test/api', property: 'serviceAccount.name', value: 'a', allowed: /contradicts/ });
    expectValidationError(refuse(kind, { serviceAccount: { automountToken: true }, automountServiceAccountToken: false }), { path: 'test/api', property: 'serviceAccount.automountToken', value: true, allowed: /contradicts/ });
    expectValidationError(refuse(kind, { serviceAccount: { name: 'x', annotations: { a: 'b' } } }), { path: 'test/api', property: 'serviceAccount.annotations', allowed: /create/ });
    expectValidationError(refuse(kind, { serviceAccount: { create: 'yes' } }), { path: 'test/api', property: 'serviceAccount.create', value: 'yes' });
    expectValidationError(refuse(kind, { serviceAccount: { create: true, name: 'Runner' } }), { path: 'test/api', property: 'serviceAccount.name', value: 'Runner' });
    expectValidationError(refuse(kind, { serviceAccount: { create: true, annotations: { 'bad key!': 'x' } } }), { path: 'test/api', property: 'serviceAccount.annotations.bad key!', value: 'bad key!' });
    expectValidationError(refuse(kind, { serviceAccount: 'api' }), { path: 'test/api', property: 'serviceAccount', value: 'api' });
  });
});

describe.each(KINDS)('%s: podAnnotations and podLabels', (kind) => {
  it('puts them on the pod template only, annotations over the preset\'s', () => {
    const objects = render(kind, { podAnnotations: { 'prometheus.io/scrape': 'false', team: 'own' }, podLabels: { 'example.com/team': 'payments', tier: '' } },
      (chart) => Presets.apply(chart, { podAnnotations: { team: 'preset', 'example.com/cost-center': '42' } }));
    const deployment = find(objects, 'Deployment');
    const meta = deployment.spec.template.metadata;
    expect(meta.annotations).toEqual({ 'prometheus.io/scrape': 'false', team: 'own', 'example.com/cost-center': '42' });
    expect(meta.labels).toMatchObject({ 'example.com/team': 'payments', tier: '', 'app.kubernetes.io/name': 'api' });
    // Pod labels stay off the other objects and out of the selector.
    expect(deployment.metadata.labels['example.com/team']).toBeUndefined();
    expect(deployment.spec.selector.matchLabels['example.com/team']).toBeUndefined();
  });

  it('refuses overriding the selector, standard and preset labels', () => {
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by', 'pod-template-hash']) {
      expectValidationError(refuse(kind, { podLabels: { [key]: 'other' } }), { path: 'test/api', property: `podLabels.${key}`, value: 'other', allowed: /pick another key/ });
    }
    expectValidationError(() => build((chart) => {
      Presets.apply(chart, { labels: { team: 'platform' } });
      make(kind, chart, { podLabels: { team: 'me' } });
    }), { path: 'test/api', property: 'podLabels.team', value: 'me', allowed: /preset/ });
  });

  it('refuses invalid label keys and values and annotation keys', () => {
    expectValidationError(refuse(kind, { podLabels: { team: 'a b' } }), { path: 'test/api', property: 'podLabels.team', value: 'a b', allowed: /label value/ });
    expectValidationError(refuse(kind, { podLabels: { 'a/b/c': 'x' } }), { path: 'test/api', property: 'podLabels.a/b/c', value: 'a/b/c' });
    expectValidationError(refuse(kind, { podAnnotations: { 'x/y/z': 'x' } }), { path: 'test/api', property: 'podAnnotations.x/y/z', value: 'x/y/z' });
    expectValidationError(refuse(kind, { podAnnotations: { ok: 5 } }), { path: 'test/api', property: 'podAnnotations.ok', value: 5 });
    expectValidationError(refuse(kind, { podLabels: ['team'] }), { path: 'test/api', property: 'podLabels' });
  });
});

describe.each(KINDS)('%s: extraEnv and extraEnvFrom', (kind) => {
  const main = (objects: K8sObject[]) => container(find(objects, 'Deployment'));
  it('renders every kind of source, downward API included, after env', () => {
    const app = main(render(kind, {
      env: { LOG_LEVEL: 'info' },
      extraEnv: [
        { name: 'REGION', value: 'eu-west-1' },
        { name: 'INSTANCE_ID', fieldRef: { fieldPath: 'metadata.name' } },
        { name: 'POD_IP', fieldRef: { fieldPath: 'status.podIP', apiVersion: 'v1' } },
        { name: 'TEAM', fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/name']" } },
        { name: 'MEMORY_LIMIT_MI', resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
        { name: 'CPU_REQUEST', resourceFieldRef: { resource: 'requests.cpu', divisor: '1m', containerName: kind === 'service' ? 'app' : 'worker' } },
        { name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } },
        { name: 'FEATURE_FLAGS', configMapKeyRef: { name: 'flags', key: 'all', optional: true } },
      ],
      extraEnvFrom: [{ secretRef: { name: 'vendor-keys' }, prefix: 'VENDOR_' }, { configMapRef: { name: 'defaults', optional: true } }],
    }));
    const env = Object.fromEntries(app.env.map((e: K8sObject) => [e.name, e]));
    expect(app.env.findIndex((e: K8sObject) => e.name === 'LOG_LEVEL')).toBeLessThan(app.env.findIndex((e: K8sObject) => e.name === 'REGION'));
    expect(env.REGION).toEqual({ name: 'REGION', value: 'eu-west-1' });
    expect(env.INSTANCE_ID.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env.POD_IP.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP', apiVersion: 'v1' } });
    expect(env.TEAM.valueFrom.fieldRef.fieldPath).toBe("metadata.labels['app.kubernetes.io/name']");
    expect(env.MEMORY_LIMIT_MI.valueFrom).toEqual({ resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } });
    expect(env.CPU_REQUEST.valueFrom.resourceFieldRef.divisor).toBe('1m');
    expect(env.DB_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'db', key: 'password' } });
    expect(env.FEATURE_FLAGS.valueFrom).toEqual({ configMapKeyRef: { name: 'flags', key: 'all', optional: true } });
    expect(app.envFrom).toEqual([{ prefix: 'VENDOR_', secretRef: { name: 'vendor-keys' } }, { configMapRef: { name: 'defaults', optional: true } }]);
  });

  it('keeps names unique against env, secretEnv, the construct\'s own variables and later wiring', () => {
    expectValidationError(refuse(kind, { env: { REGION: 'a' }, extraEnv: [{ name: 'REGION', value: 'b' }] }), { path: 'test/api', property: 'extraEnv[0]', allowed: /conflicts with env.REGION/ });
    expectValidationError(refuse(kind, { extraEnv: [{ name: 'X', value: 'a' }, { name: 'X', fieldRef: { fieldPath: 'metadata.name' } }] }), { path: 'test/api', property: 'extraEnv[1]', allowed: /conflicts with extraEnv\[0\]/ });
    if (kind === 'worker') expectValidationError(refuse(kind, { extraEnv: [{ name: 'QUEUE_NAME', value: 'x' }] }), { path: 'test/api', property: 'extraEnv[0]', allowed: /construct sets/ });
    // Wiring after construction (addEnv) meets the same rule.
    expectValidationError(() => build((chart) => {
      if (kind === 'service') new StatelessService(chart, 'api', { image: IMAGE, extraEnv: [{ name: 'DB_HOST', value: 'a' }] }).addEnv('DB_HOST', 'b');
      else new WorkerPool(chart, 'api', { image: IMAGE, queue: 'jobs', extraEnv: [{ name: 'DB_HOST', value: 'a' }] }).addEnv('DB_HOST', 'b');
    }), { path: 'test/api', property: 'env.DB_HOST', allowed: /conflicts/ });
  });

  it('refuses each bad entry with its property path', () => {
    const bad: Array<[unknown, string, RegExp?]> = [
      [[{ name: '1X', value: 'a' }], 'extraEnv[0].name'],
      [[{ name: 'X' }], 'extraEnv[0]', /exactly one/],
      [[{ name: 'X', value: 'a', fieldRef: { fieldPath: 'metadata.name' } }], 'extraEnv[0]', /exactly one/],
      [[{ name: 'X', value: 5 }], 'extraEnv[0].value'],
      [[{ name: 'API_TOKEN', value: 'abc' }], 'extraEnv[0].value', /credential/],
      [[{ name: 'X', fieldRef: { fieldPath: 'metadata.labels' } }], 'extraEnv[0].fieldRef.fieldPath'],
      [[{ name: 'X', fieldRef: { fieldPath: 'status.phase' } }], 'extraEnv[0].fieldRef.fieldPath'],
      [[{ name: 'X', fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v2' } }], 'extraEnv[0].fieldRef.apiVersion'],
      [[{ name: 'X', resourceFieldRef: { resource: 'limits.gpu' } }], 'extraEnv[0].resourceFieldRef.resource'],
      [[{ name: 'X', resourceFieldRef: { resource: 'limits.cpu', divisor: '1Mi' } }], 'extraEnv[0].resourceFieldRef.divisor'],
      [[{ name: 'X', resourceFieldRef: { resource: 'limits.memory', divisor: '2Mi' } }], 'extraEnv[0].resourceFieldRef.divisor'],
      [[{ name: 'X', resourceFieldRef: { resource: 'limits.memory', containerName: 'nope' } }], 'extraEnv[0].resourceFieldRef.containerName'],
      [[{ name: 'X', secretKeyRef: { name: 'Db', key: 'password' } }], 'extraEnv[0].secretKeyRef.name'],
      [[{ name: 'X', configMapKeyRef: { name: 'cm', key: 'a/b' } }], 'extraEnv[0].configMapKeyRef.key'],
      [[{ name: 'X', secretKeyRef: { name: 'db', key: 'k', optional: 'no' } }], 'extraEnv[0].secretKeyRef.optional'],
      [{ X: 'a' }, 'extraEnv'],
    ];
    for (const [extraEnv, property, allowed] of bad) {
      expectValidationError(refuse(kind, { extraEnv }), { path: 'test/api', property, ...(allowed ? { allowed } : {}) });
    }
    const badFrom: Array<[unknown, string]> = [
      [[{ secretRef: { name: 'Keys' } }], 'extraEnvFrom[0].secretRef.name'],
      [[{ secretRef: { name: 'a' }, configMapRef: { name: 'b' } }], 'extraEnvFrom[0]'],
      [[{ configMapRef: { name: 'a' }, prefix: '1_' }], 'extraEnvFrom[0].prefix'],
      [[{ configMapRef: 'a' }], 'extraEnvFrom[0].configMapRef'],
      ['a', 'extraEnvFrom'],
    ];
    for (const [extraEnvFrom, property] of badFrom) expectValidationError(refuse(kind, { extraEnvFrom }), { path: 'test/api', property });
  });
});

describe('StatelessService: the migration Job shares the pod-level props', () => {
  it('pulls with the same secrets, runs as the same account, carries the pod annotations and labels', () => {
    const objects = render('service', {
      migration: { command: ['/app', 'migrate'] }, imagePullSecrets: ['regcred'], serviceAccount: { create: true },
      podAnnotations: { 'example.com/a': 'b' }, podLabels: { team: 'payments' }, extraEnv: [{ name: 'INSTANCE_ID', fieldRef: { fieldPath: 'metadata.name' } }],
    });
    const job = find(objects, 'Job', 'api-migrate');
    const pod = job.spec.template.spec;
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.serviceAccountName).toBe('api');
    expect(job.spec.template.metadata.annotations).toEqual({ 'example.com/a': 'b' });
    expect(job.spec.template.metadata.labels).toMatchObject({ team: 'payments', 'app.kubernetes.io/component': 'migration' });
    expect(job.metadata.labels.team).toBeUndefined();
    expect(pod.containers[0].env).toContainEqual({ name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });
});

describe('StatelessService: probes of every kind', () => {
  const app = (probes: unknown, extra: Record<string, unknown> = {}) => container(find(render('service', { probes, ...extra }), 'Deployment'));

  it('keeps today\'s probes by default', () => {
    const c = app(undefined);
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 });
    expect(c.livenessProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
    expect(c.startupProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 60 });
  });

  it('tunes the default check with thresholds alone', () => {
    const c = app({ readiness: { periodSeconds: 10, successThreshold: 2, initialDelaySeconds: 3 }, startup: { timeoutSeconds: 5 } });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 2, initialDelaySeconds: 3 });
    expect(c.startupProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 60, timeoutSeconds: 5 });
  });

  it('renders HTTP, gRPC, exec and TCP checks with their thresholds', () => {
    const c = app({
      readiness: { http: { path: '/healthz', port: 8080, scheme: 'HTTPS' }, failureThreshold: 6 },
      liveness: { grpc: { port: 8080, service: 'liveness' }, periodSeconds: 20, timeoutSeconds: 3 },
      startup: { exec: { command: ['/bin/check', '--startup'] }, periodSeconds: 5, failureThreshold: 30 },
    });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8080, scheme: 'HTTPS' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 6 });
    expect(c.livenessProbe).toEqual({ grpc: { port: 8080, service: 'liveness' }, periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 3 });
    expect(c.startupProbe).toEqual({ exec: { command: ['/bin/check', '--startup'] }, periodSeconds: 5, failureThreshold: 30 });
    const tcp = app({ liveness: { tcp: { port: 'metrics' } } }, { metricsPort: 9090 });
    expect(tcp.livenessProbe.tcpSocket).toEqual({ port: 'metrics' });
  });

  it('turns a probe off with false', () => {
    const c = app({ startup: false, liveness: false });
    expect(c.startupProbe).toBeUndefined();
    expect(c.livenessProbe).toBeUndefined();
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
  });

  it('refuses bad checks and thresholds, naming the property', () => {
    const cases: Array<[unknown, string, RegExp?]> = [
      [{ liveness: { http: { path: '/a', port: 1 }, tcp: { port: 1 } } }, 'probes.liveness', /at most one/],
      [{ liveness: { successThreshold: 2 } }, 'probes.liveness.successThreshold', /must be 1/],
      [{ startup: { successThreshold: 3 } }, 'probes.startup.successThreshold', /must be 1/],
      [{ readiness: { periodSeconds: 0 } }, 'probes.readiness.periodSeconds'],
      [{ readiness: { timeoutSeconds: NaN } }, 'probes.readiness.timeoutSeconds'],
      [{ readiness: { initialDelaySeconds: -1 } }, 'probes.readiness.initialDelaySeconds'],
      [{ readiness: { failureThreshold: 1.5 } }, 'probes.readiness.failureThreshold'],
      [{ readiness: { http: { path: 'ready', port: 'http' } } }, 'probes.readiness.http.path'],
      [{ readiness: { http: { path: '/ready', port: 'admin' } } }, 'probes.readiness.http.port', /declares, by number or name \(http 8080\)/],
      [{ readiness: { http: { path: '/ready', port: 70000 } } }, 'probes.readiness.http.port'],
      [{ readiness: { http: { path: '/ready', port: 9999 } } }, 'probes.readiness.http.port', /declares/],
      [{ liveness: { grpc: { port: 9000 } } }, 'probes.liveness.grpc.port', /declares/],
      [{ readiness: { http: { path: '/ready', port: 'http', scheme: 'FTP' } } }, 'probes.readiness.http.scheme'],
      [{ liveness: { grpc: { port: 'grpc' } } }, 'probes.liveness.grpc.port'],
      [{ liveness: { exec: { command: [] } } }, 'probes.liveness.exec.command'],
      [{ liveness: { exec: {} } }, 'probes.liveness.exec.command'],
      [{ liveness: { tcp: 'http' } }, 'probes.liveness.tcp'],
      [{ liveness: 'tcp' }, 'probes.liveness'],
      [{ readinessPath: '/r', readiness: { http: { path: '/s', port: 'http' } } }, 'probes.readiness', /readinessPath/],
      [{ livenessPath: '/l', liveness: false }, 'probes.liveness', /livenessPath/],
      [{ startupTimeoutSeconds: 60, startup: { failureThreshold: 10 } }, 'probes.startup', /startupTimeoutSeconds/],
    ];
    for (const [probes, property, allowed] of cases) {
      expectValidationError(refuse('service', { probes }), { path: 'test/api', property, ...(allowed ? { allowed } : {}) });
    }
  });
});

describe('WorkerPool: probes over the liveness contract', () => {
  const worker = (extra: Record<string, unknown>) => container(find(render('worker', extra), 'Deployment'));

  it('keeps the heartbeat contract by default, without readiness', () => {
    const c = worker({});
    expect(c.livenessProbe.exec.command.join(' ')).toContain('/tmp/heartbeat');
    expect(c.startupProbe.exec).toBeDefined();
    expect(c.readinessProbe).toBeUndefined();
    expect(c.env).toContainEqual({ name: 'HEARTBEAT_FILE', value: '/tmp/heartbeat' });
  });

  it('tunes the contract\'s probes with thresholds, adds a readiness probe', () => {
    const c = worker({ metricsPort: 9090, probes: { liveness: { failureThreshold: 5 }, readiness: { http: { path: '/ready', port: 'metrics' } } } });
    expect(c.livenessProbe.failureThreshold).toBe(5);
    expect(c.livenessProbe.exec.command.join(' ')).toContain('/tmp/heartbeat');
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 'metrics' } });
  });

  it('replaces the contract with a check of its own: no heartbeat variables or probes left', () => {
    const c = worker({ metricsPort: 9000, probes: { liveness: { grpc: { port: 9000 }, periodSeconds: 15 }, startup: { grpc: { port: 9000 }, failureThreshold: 30, periodSeconds: 2 } } });
    expect(c.livenessProbe).toEqual({ grpc: { port: 9000 }, periodSeconds: 15 });
    expect(c.startupProbe).toEqual({ grpc: { port: 9000 }, failureThreshold: 30, periodSeconds: 2 });
    expect(c.env.map((e: K8sObject) => e.name)).not.toContain('HEARTBEAT_FILE');
    expect(worker({ probes: { liveness: false } }).livenessProbe).toBeUndefined();
  });

  it('refuses a contract and a replacing check together, and tuning a probe that does not exist', () => {
    expectValidationError(refuse('worker', { liveness: { type: 'metrics' }, metricsPort: 9090, probes: { liveness: { tcp: { port: 9090 } } } }), { path: 'test/api', property: 'probes.liveness', allowed: /only one/ });
    expectValidationError(refuse('worker', { probes: { readiness: { periodSeconds: 5 } } }), { path: 'test/api', property: 'probes.readiness', allowed: /no default readiness probe/ });
    expectValidationError(refuse('worker', { liveness: false, probes: { startup: { periodSeconds: 5 } } }), { path: 'test/api', property: 'probes.startup', allowed: /no default startup/ });
    expectValidationError(refuse('worker', { probes: { readiness: { http: { path: '/r', port: 'http' } } } }), { path: 'test/api', property: 'probes.readiness.http.port' });
    expectValidationError(refuse('worker', { probes: [] }), { path: 'test/api', property: 'probes' });
  });
});

describe('StatelessService: Ingress with several hosts, paths, TLS and annotations', () => {
  const full = {
    className: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' },
    hosts: [
      { host: 'api.example.com', paths: [{ path: '/v1', pathType: 'Prefix' }, { path: '/healthz', pathType: 'Exact' }] },
      { host: '*.tenants.example.com' },
      { host: 'api.example.org', paths: [{ path: '/(.*)', pathType: 'ImplementationSpecific' }] },
    ],
    tls: [{ hosts: ['api.example.com', 'api.example.org'], secretName: 'api-tls' }, { hosts: ['*.tenants.example.com'], secretName: 'tenants-tls' }],
  };

  it('renders every host, path, certificate and annotation to the http port', () => {
    const objects = render('service', { ingress: full });
    const ing = find(objects, 'Ingress', 'api');
    const backend = { service: { name: 'api', port: { name: 'http' } } };
    expect(ing.apiVersion).toBe('networking.k8s.io/v1');
    expect(ing.metadata.annotations).toEqual(full.annotations);
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toEqual(full.tls);
    expect(ing.spec.rules).toEqual([
      { host: 'api.example.com', http: { paths: [{ path: '/v1', pathType: 'Prefix', backend }, { path: '/healthz', pathType: 'Exact', backend }] } },
      { host: '*.tenants.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } },
      { host: 'api.example.org', http: { paths: [{ path: '/(.*)', pathType: 'ImplementationSpecific', backend }] } },
    ]);
  });

  it('keeps the single-host shorthand', () => {
    const ing = find(render('service', { ingress: { host: 'api.example.com', path: '/api', tlsSecretName: 'api-tls' } }), 'Ingress');
    expect(ing.spec.rules).toEqual([{ host: 'api.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } }] } }]);
    expect(ing.spec.tls).toEqual([{ hosts: ['api.example.com'], secretName: 'api-tls' }]);
    expect(ing.metadata.annotations).toBeUndefined();
  });

  it('admits the ingress controller through the NetworkPolicy: the default namespace, or the one configured', () => {
    const fromOf = (objects: K8sObject[]) => find(objects, 'NetworkPolicy', 'api').spec.ingress[0].from;
    expect(fromOf(render('service', { ingress: full }))).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } });
    const custom = render('service', { ingress: full, networkPolicy: { ingressController: { namespace: 'traefik', podLabels: { 'app.kubernetes.io/name': 'traefik' } } } });
    expect(fromOf(custom)).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
    });
    expect(JSON.stringify(fromOf(render('service', {})))).not.toContain('ingress-nginx');
  });

  it('declares the Ingress a chart may turn on: its own, or an example host and the controller\'s place in the policy; none with ingress: false', () => {
    const option = (extra: Record<string, unknown>) => {
      let service: StatelessService | undefined;
      const objects = synth((chart) => { service = new StatelessService(chart, 'api', { image: IMAGE, ...extra } as StatelessServiceProps); });
      return { objects, service: service!, option: Knobs.ingressOptionOf(service!) };
    };
    const controller = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };
    const none = option({ networkPolicy: { allowFrom: [{ namespace: 'partners' }] } });
    expect(none.objects.some((o) => o.kind === 'Ingress')).toBe(false);
    expect(none.option).toMatchObject({ portName: 'http', hosts: [{ host: 'api.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [] });
    expect(none.option!.ingress).toBeUndefined();
    // Where the controller stands once an Ingress exists: after the members and allowFrom.
    expect(none.option!.networkPolicy).toMatchObject({ object: none.service.networkPolicy, rule: 0, index: 2, peer: controller });
    const own = option({ ingress: full, networkPolicy: { allowFrom: [{ namespace: 'partners' }] } });
    expect(own.option!.ingress).toBe(own.service.ingress);
    expect(own.option!.hosts.map((h) => h.host)).toEqual(full.hosts.map((h) => h.host));
    expect(find(own.objects, 'NetworkPolicy', 'api').spec.ingress[0].from[2]).toEqual(controller);
    expect(option({ networkPolicy: false }).option!.networkPolicy).toBeUndefined();
    const internal = option({ ingress: false });
    expect(internal.option).toBeUndefined();
    expect(internal.objects.some((o) => o.kind === 'Ingress')).toBe(false);
    expect(JSON.stringify(find(internal.objects, 'NetworkPolicy', 'api'))).not.toContain('ingress-nginx');
    // The controller peer is checked without an Ingress too: a chart may turn one on.
    expectValidationError(refuse('service', { networkPolicy: { ingressController: { namespace: 'Not A Namespace' } } }), { path: 'test/api', property: 'networkPolicy.ingressController.namespace' });
  });

  it('refuses bad hosts, paths, TLS hosts outside the rules and mixed forms, naming the property', () => {
    const cases: Array<[unknown, string, RegExp?]> = [
      [{ hosts: [{ host: 'Api.Example.com' }] }, 'ingress.hosts[0].host'],
      [{ hosts: [{ host: 'localhost' }] }, 'ingress.hosts[0].host'],
      [{ hosts: [{ host: '10.0.0.1' }] }, 'ingress.hosts[0].host', /not an IP/],
      [{ hosts: [{ host: 'a.*.example.com' }] }, 'ingress.hosts[0].host'],
      [{ hosts: [{ host: 'a.example.com' }, { host: 'a.example.com' }] }, 'ingress.hosts', /unique/],
      [{ hosts: [] }, 'ingress.hosts'],
      [{ hosts: 'a.example.com' }, 'ingress.hosts'],
      [{ hosts: [{ host: 'a.example.com', paths: [{ path: 'v1' }] }] }, 'ingress.hosts[0].paths[0].path'],
      [{ hosts: [{ host: 'a.example.com', paths: [{ path: '/a//b' }] }] }, 'ingress.hosts[0].paths[0].path', /"\/\/"/],
      [{ hosts: [{ host: 'a.example.com', paths: [{ path: '/a/..' }] }] }, 'ingress.hosts[0].paths[0].path'],
      [{ hosts: [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Regex' }] }] }, 'ingress.hosts[0].paths[0].pathType'],
      [{ hosts: [{ host: 'a.example.com', paths: [{ path: '/' }, { path: '/', pathType: 'Prefix' }] }] }, 'ingress.hosts[0].paths', /once/],
      [{ hosts: [{ host: 'a.example.com', paths: [] }] }, 'ingress.hosts[0].paths'],
      [{ hosts: [{ host: 'a.example.com' }], tls: [{ hosts: ['b.example.com'], secretName: 'tls' }] }, 'ingress.tls[0].hosts[0]', /one of the Ingress hosts/],
      [{ hosts: [{ host: 'a.example.com' }], tls: [{ hosts: ['a.example.com'], secretName: 'TLS' }] }, 'ingress.tls[0].secretName'],
      [{ hosts: [{ host: 'a.example.com' }], tls: [{ hosts: [], secretName: 'tls' }] }, 'ingress.tls[0].hosts'],
      [{ hosts: [{ host: 'a.example.com' }], tls: [{ hosts: ['a.example.com'], secretName: 'x' }, { hosts: ['a.example.com'], secretName: 'y' }] }, 'ingress.tls', /two certificates/],
      [{ hosts: [{ host: 'a.example.com' }], tls: { hosts: ['a.example.com'] } }, 'ingress.tls'],
      [{ host: 'a.example.com', hosts: [{ host: 'b.example.com' }] }, 'ingress.hosts', /shorthand/],
      [{ hosts: [{ host: 'a.example.com' }], tlsSecretName: 'tls' }, 'ingress.tlsSecretName', /shorthand/],
      [{ hosts: [{ host: 'a.example.com' }], className: 'Nginx' }, 'ingress.className'],
      [{ hosts: [{ host: 'a.example.com' }], annotations: { 'a/b/c': 'x' } }, 'ingress.annotations.a/b/c'],
      [{}, 'ingress.host'],
      ['api.example.com', 'ingress'],
    ];
    for (const [ingress, property, allowed] of cases) {
      expectValidationError(refuse('service', { ingress }), { path: 'test/api', property, ...(allowed ? { allowed } : {}) });
    }
  });
});

describe('the app using every new prop (test/apps/workload-props.ts, judged by the API server in test/cluster/)', () => {
  it('synthesizes through the strict schema and the lint', () => {
    const objects = synthApp((app) => { workloadPropsApp(app); });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(expect.arrayContaining(['ServiceAccount/api', 'Ingress/api', 'Job/api-migrate', 'Deployment/jobs']));
  });
});
