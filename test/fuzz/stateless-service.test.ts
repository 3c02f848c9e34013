import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Presets, StatelessService, StatelessServiceProps } from '../../lib';
import { find, K8sObject } from '../harness/synth';
import {
  check, configMounts, corrupt, mostly, dnsName, env, image, opt, podFields, port, preset, probes, props, referencedAccounts, resources, secretEnv, sometimes, synthOrRefuse,
} from './support';

const autoscaling = fc.oneof(fc.constant(false), props({
  minReplicas: opt(fc.integer({ min: 1, max: 10 })), maxReplicas: opt(fc.integer({ min: 1, max: 40 })),
  cpuUtilization: opt(fc.integer({ min: 1, max: 100 })), memoryUtilization: opt(fc.integer({ min: 1, max: 100 })),
}));

const fields = {
  image,
  name: opt(dnsName),
  partOf: opt(mostly(fc.constantFrom('shop', 'platform'), fc.constant('x/y'))),
  component: opt(mostly(fc.constantFrom('server', 'api'), fc.constant('API Server'))),
  port: opt(port),
  servicePort: opt(port),
  metricsPort: opt(port),
  metricsPath: opt(mostly(fc.constantFrom('/metrics', '/stats'), fc.constant('metrics'))),
  resources: opt(resources),
  probes: opt(fc.oneof(
    props({ readinessPath: opt(mostly(fc.constantFrom('/ready', '/healthz'), fc.constant('ready'))), livenessPath: opt(fc.constantFrom('/live', '/')), startupTimeoutSeconds: opt(mostly(fc.integer({ min: 2, max: 600 }), fc.constantFrom(0, 4000))) }),
    probes,
  )),
  stickySessions: opt(fc.oneof(fc.boolean(), mostly(fc.integer({ min: 1, max: 86_400 }), fc.constantFrom(0, 100_000)))),
  ingress: opt(fc.oneof(
    props({ host: mostly(fc.constantFrom('api.example.com', '*.example.com'), fc.constantFrom('localhost', 'Api.Example.com')), path: opt(fc.constantFrom('/', '/api')), tlsSecretName: opt(dnsName) }),
    props({
      hosts: fc.array(props({
        host: mostly(fc.constantFrom('api.example.com', 'www.example.com', '*.example.com'), fc.constantFrom('10.0.0.1', 'Api.Example.com')),
        paths: opt(fc.array(props({ path: opt(mostly(fc.constantFrom('/', '/v1', '/(.*)'), fc.constantFrom('v1', '/a//b'))), pathType: opt(mostly(fc.constantFrom('Prefix', 'Exact', 'ImplementationSpecific'), fc.constant('Regex'))) }), { maxLength: 2 })),
      }), { minLength: 1, maxLength: 3 }),
      tls: opt(fc.array(props({ hosts: fc.array(fc.constantFrom('api.example.com', 'www.example.com', 'other.example.com'), { minLength: 1, maxLength: 2 }), secretName: sometimes(dnsName) }), { maxLength: 2 })),
      className: opt(mostly(fc.constantFrom('nginx', 'traefik'), fc.constant('Nginx'))),
      annotations: opt(fc.dictionary(fc.constantFrom('cert-manager.io/cluster-issuer', 'nginx.ingress.kubernetes.io/rewrite-target'), fc.constantFrom('letsencrypt', '/$1'), { maxKeys: 2 })),
    }),
  )),
  serviceMonitor: opt(fc.oneof(fc.boolean(), props({ interval: opt(mostly(fc.constantFrom('30s', '1m30s'), fc.constantFrom('abc', '30', '0s'))) }))),
  disruptionBudget: opt(fc.boolean()),
  terminationGracePeriodSeconds: opt(mostly(fc.integer({ min: 0, max: 600 }), fc.constantFrom(-1, 100_000))),
  migration: opt(props({ command: mostly<readonly string[]>(fc.constant(['/app', 'migrate']), fc.constantFrom([], [''])), timeoutSeconds: opt(mostly(fc.integer({ min: 30, max: 3600 }), fc.constantFrom(0, 100_000))), backoffLimit: opt(mostly(fc.integer({ min: 0, max: 10 }), fc.constantFrom(-1, 12))) })),
  appMode: opt(mostly(fc.constantFrom('api', 'worker', 'combined', 'serverless-worker'), fc.constant('batch'))),
  env: opt(env),
  secretEnv: opt(secretEnv),
  envFrom: opt(props({ secrets: opt(fc.array(sometimes(dnsName), { maxLength: 2 })), configMaps: opt(fc.array(sometimes(dnsName), { maxLength: 2 })) })),
  configMounts: opt(configMounts),
  command: opt(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 })),
  runAsUser: opt(mostly(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(-5, 0, 2 ** 31, 2 ** 32))),
  // Rare: beside serviceAccount.name it is mostly a contradiction.
  serviceAccountName: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: dnsName }),
  automountServiceAccountToken: opt(fc.boolean()),
  readOnlyRootFilesystem: opt(fc.boolean()),
  ...podFields,
};
// replicas only beside autoscaling: false, mostly: the HPA owns the count otherwise (a refusal of its own).
const scaling = mostly(
  fc.oneof(props({ autoscaling: opt(autoscaling) }), props({ autoscaling: fc.constant(false), replicas: opt(fc.integer({ min: 1, max: 10 })) })),
  props({ replicas: fc.integer({ min: 1, max: 10 }) }),
);
export const statelessProps = corrupt(fc.tuple(props(fields), scaling).map(([a, b]) => ({ ...a, ...b })), [...Object.keys(fields), 'autoscaling', 'replicas']);

describe('fuzz: StatelessService', () => {
  it('gives a ValidationError naming the property, or valid objects that keep every invariant', () => {
    let rendered = 0;
    let refused = 0;
    const why = new Map<string, number>();
    check(fc.tuple(statelessProps, fc.option(preset, { nil: undefined })), ([p, pr]) => {
      const result = synthOrRefuse((chart) => {
        if (pr) Presets.apply(chart, pr as never);
        // An account the pod names must exist (kube-linter's non-existent-service-account), as in a real chart.
        referencedAccounts(chart, p);
        new StatelessService(chart, 'api', p as unknown as StatelessServiceProps);
      });
      if (result.length > 0 && 'kind' in result[0]) {
        rendered++;
        const objects = result as K8sObject[];
        const deployment = find(objects, 'Deployment', (p.name as string | undefined) ?? 'api');
        // The image rendered is the one given (or the preset's registry in front of it): never altered otherwise.
        expect(deployment.spec.template.spec.containers[0].image.endsWith(p.image as string)).toBe(true);
        if (typeof p.stickySessions === 'number') expect(find(objects, 'Service').spec.sessionAffinityConfig.clientIP.timeoutSeconds).toBe(p.stickySessions);
      } else {
        refused++;
        // FUZZ_DEBUG=1 prints which properties refuse most, to keep the generators balanced.
        if (process.env.FUZZ_DEBUG) for (const e of result as Array<{ property: string }>) why.set(e.property, (why.get(e.property) ?? 0) + 1);
      }
    });
    if (process.env.FUZZ_DEBUG) console.log([...why].sort((a, b) => b[1] - a[1]).slice(0, 8));
    // The generators must reach both outcomes, or the property proves little.
    if (process.env.FUZZ_DEBUG) console.log({ rendered, refused });
    expect(rendered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

/** Only valid props (by the documented rules): each must render, with the values as given. */
const validProps = fc.record({
  image: fc.constantFrom('ghcr.io/example/api:1.0.0', 'registry.internal:5000/team/api:1.2.3', 'nginx:1.25', `app@sha256:${'b'.repeat(64)}`),
  ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 3, maxLength: 3 }),
  withMetrics: fc.boolean(),
  cpu: fc.tuple(fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 0, max: 4000 })),
  memoryMi: fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 4096 })),
  hpa: fc.option(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 100 })), { nil: undefined }),
  sticky: fc.oneof(fc.boolean(), fc.integer({ min: 1, max: 86_400 })),
  env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/).filter((n) => !/(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/.test(n) && n !== 'APP_MODE'), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
  mounts: fc.uniqueArray(fc.constantFrom('/etc/a', '/etc/b', '/config', '/data/x'), { maxLength: 3 }),
  interval: fc.constantFrom('30s', '1m', '1m30s', '15s', '500ms'),
  runAsUser: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  // Issue 17's pod-level props, valid by the documented rules.
  pullSecrets: fc.uniqueArray(dnsName, { maxLength: 2 }),
  podLabels: fc.dictionary(fc.constantFrom('team', 'example.com/tier', 'cost'), fc.stringMatching(/^([a-z0-9]([a-z0-9._-]{0,8}[a-z0-9])?)?$/), { maxKeys: 3 }),
  fieldPaths: fc.uniqueArray(fc.constantFrom('metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'status.podIP', 'status.hostIP'), { maxLength: 3 }),
  account: fc.option(fc.tuple(fc.option(dnsName, { nil: undefined }), fc.boolean()), { nil: undefined }),
  readiness: fc.record({ periodSeconds: fc.integer({ min: 1, max: 300 }), failureThreshold: fc.integer({ min: 1, max: 30 }), successThreshold: fc.integer({ min: 1, max: 5 }) }),
  hosts: fc.uniqueArray(fc.constantFrom('api.example.com', 'www.example.com', '*.example.org', 'a-b.c.example.net'), { minLength: 1, maxLength: 3 }),
  tlsHosts: fc.integer({ min: 0, max: 3 }),
});

describe('fuzz: StatelessService, valid input', () => {
  it('renders every valid input, never refusing it, with the values as given', () => {
    check(validProps, (v) => {
      const [port, servicePort, metricsPort] = v.ports;
      const props: StatelessServiceProps = {
        image: v.image, port, servicePort, ...(v.withMetrics ? { metricsPort } : {}),
        resources: { requests: { cpu: `${v.cpu[0]}m`, memory: `${v.memoryMi[0]}Mi` }, limits: { cpu: `${v.cpu[0] + v.cpu[1]}m`, memory: `${v.memoryMi[0] + v.memoryMi[1]}Mi` } },
        ...(v.hpa ? { autoscaling: { minReplicas: v.hpa[0], maxReplicas: v.hpa[0] + v.hpa[1], cpuUtilization: v.hpa[2] } } : { autoscaling: false, replicas: 2 }),
        stickySessions: v.sticky, env: v.env, configMounts: v.mounts.map((mountPath, i) => ({ configMap: `cm-${i}`, mountPath })),
        serviceMonitor: { interval: v.interval }, runAsUser: v.runAsUser,
        imagePullSecrets: v.pullSecrets, podLabels: v.podLabels,
        extraEnv: v.fieldPaths.map((fieldPath, i) => ({ name: `FIELD_${i}`, fieldRef: { fieldPath } })),
        ...(v.account ? { serviceAccount: { create: true, ...(v.account[0] ? { name: v.account[0] } : {}), automountToken: v.account[1] } } : {}),
        probes: { readiness: v.readiness },
        ingress: {
          hosts: v.hosts.map((host) => ({ host, paths: [{ path: '/', pathType: 'Prefix' as const }] })),
          ...(v.tlsHosts > 0 ? { tls: [{ hosts: v.hosts.slice(0, v.tlsHosts), secretName: 'tls' }] } : {}),
        },
      };
      const result = synthOrRefuse((chart) => { new StatelessService(chart, 'api', props); });
      expect('kind' in result[0], `refused valid props: ${(result as Array<{ message?: string }>).map((e) => e.message).join('; ')}`).toBe(true);
      const objects = result as K8sObject[];
      const app = find(objects, 'Deployment', 'api').spec.template.spec.containers[0];
      expect(app.image).toBe(v.image);
      expect(app.resources.limits.cpu).toBe(props.resources!.limits!.cpu);
      expect(find(objects, 'Service', 'api').spec.ports.map((p: K8sObject) => p.port)).toEqual(v.withMetrics ? [servicePort, metricsPort] : [servicePort]);
      for (const [name, value] of Object.entries(v.env)) expect(app.env).toContainEqual({ name, value });
      const pod = find(objects, 'Deployment', 'api').spec.template;
      expect(pod.spec.imagePullSecrets ?? []).toEqual(v.pullSecrets.map((name) => ({ name })));
      for (const [k, value] of Object.entries(v.podLabels)) expect(pod.metadata.labels[k]).toBe(value);
      v.fieldPaths.forEach((fieldPath, i) => expect(app.env).toContainEqual({ name: `FIELD_${i}`, valueFrom: { fieldRef: { fieldPath } } }));
      expect(app.readinessProbe).toMatchObject({ httpGet: { path: '/ready', port: 'http' }, ...v.readiness });
      expect(pod.spec.serviceAccountName).toBe(v.account ? (v.account[0] ?? 'api') : undefined);
      expect(pod.spec.automountServiceAccountToken).toBe(v.account ? v.account[1] : false);
      const ing = find(objects, 'Ingress', 'api');
      expect(ing.spec.rules.map((r: K8sObject) => r.host)).toEqual(v.hosts);
      expect(ing.spec.tls?.[0].hosts ?? []).toEqual(v.hosts.slice(0, v.tlsHosts));
    });
  });
});
