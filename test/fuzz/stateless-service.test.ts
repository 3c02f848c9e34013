import { k8s } from 'cdk8s-plus-28';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Presets, StatelessService, StatelessServiceProps } from '../../lib';
import { find, K8sObject } from '../harness/synth';
import {
  check, configMounts, corrupt, dnsName, env, image, opt, port, preset, props, resources, secretEnv, sometimes, synthOrRefuse,
} from './support';

const autoscaling = fc.oneof(fc.constant(false), props({
  minReplicas: opt(fc.integer({ min: 1, max: 10 })), maxReplicas: opt(fc.integer({ min: 1, max: 40 })),
  cpuUtilization: opt(fc.integer({ min: 1, max: 100 })), memoryUtilization: opt(fc.integer({ min: 1, max: 100 })),
}));

const fields = {
  image,
  name: opt(dnsName),
  partOf: opt(fc.constantFrom('shop', 'x/y', 'platform')),
  component: opt(fc.constantFrom('server', 'api', 'API Server')),
  port: opt(port),
  servicePort: opt(port),
  metricsPort: opt(port),
  metricsPath: opt(fc.constantFrom('/metrics', '/stats', 'metrics')),
  autoscaling: opt(autoscaling),
  replicas: opt(fc.integer({ min: 1, max: 10 })),
  resources: opt(resources),
  probes: opt(props({ readinessPath: opt(fc.constantFrom('/ready', '/healthz', 'ready')), livenessPath: opt(fc.constantFrom('/live', '/')), startupTimeoutSeconds: opt(fc.integer({ min: 0, max: 4000 })) })),
  stickySessions: opt(fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 100_000 }))),
  ingress: opt(props({ host: sometimes(fc.constantFrom('api.example.com', '*.example.com', 'localhost', 'Api.Example.com')), path: opt(fc.constantFrom('/', '/api')), tlsSecretName: opt(dnsName) })),
  serviceMonitor: opt(fc.oneof(fc.boolean(), props({ interval: opt(fc.constantFrom('30s', '1m30s', 'abc', '30', '0s')) }))),
  disruptionBudget: opt(fc.boolean()),
  terminationGracePeriodSeconds: opt(fc.integer({ min: 0, max: 100_000 })),
  migration: opt(props({ command: sometimes(fc.constantFrom(['/app', 'migrate'], [], [''])), timeoutSeconds: opt(fc.integer({ min: 0, max: 100_000 })), backoffLimit: opt(fc.integer({ min: -1, max: 12 })) })),
  appMode: opt(fc.constantFrom('api', 'worker', 'combined', 'serverless-worker', 'batch')),
  env: opt(env),
  secretEnv: opt(secretEnv),
  envFrom: opt(props({ secrets: opt(fc.array(sometimes(dnsName), { maxLength: 2 })), configMaps: opt(fc.array(sometimes(dnsName), { maxLength: 2 })) })),
  configMounts: opt(configMounts),
  command: opt(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 })),
  runAsUser: opt(fc.integer({ min: -5, max: 2 ** 32 })),
  serviceAccountName: opt(dnsName),
  automountServiceAccountToken: opt(fc.boolean()),
  readOnlyRootFilesystem: opt(fc.boolean()),
};
export const statelessProps = corrupt(props(fields), Object.keys(fields));

describe('fuzz: StatelessService', () => {
  it('gives a ValidationError naming the property, or valid objects that keep every invariant', () => {
    let rendered = 0;
    let refused = 0;
    check(fc.tuple(statelessProps, fc.option(preset, { nil: undefined })), ([p, pr]) => {
      const result = synthOrRefuse((chart) => {
        if (pr) Presets.apply(chart, pr as never);
        // An account the pod names must exist (kube-linter's non-existent-service-account), as in a real chart.
        if (typeof p.serviceAccountName === 'string') new k8s.KubeServiceAccount(chart, 'sa', { metadata: { name: p.serviceAccountName }, automountServiceAccountToken: false });
        new StatelessService(chart, 'api', p as unknown as StatelessServiceProps);
      });
      if (result.length > 0 && 'kind' in result[0]) {
        rendered++;
        const objects = result as K8sObject[];
        const deployment = find(objects, 'Deployment', (p.name as string | undefined) ?? 'api');
        // The image rendered is the one given (or the preset's registry in front of it): never altered otherwise.
        expect(deployment.spec.template.spec.containers[0].image.endsWith(p.image as string)).toBe(true);
        if (typeof p.stickySessions === 'number') expect(find(objects, 'Service').spec.sessionAffinityConfig.clientIP.timeoutSeconds).toBe(p.stickySessions);
      } else refused++;
    });
    // The generators must reach both outcomes, or the property proves little.
    expect(rendered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
