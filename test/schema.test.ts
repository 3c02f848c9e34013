/**
 * Proves the schema harness is strict: realistic objects of every kind we emit pass, and each class of mistake
 * (unknown field at any depth, wrong type, missing required field, unknown kind, wrong apiVersion) fails with a
 * message naming the object and the offending path.
 */
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { expectValidObjects, knownKinds, validateObject, validateObjects } from './harness/schema';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = Record<string, any>;

const labels = { 'app.kubernetes.io/name': 'web' };

const deployment = (): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels },
  spec: {
    replicas: 3,
    selector: { matchLabels: labels },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: {
      metadata: { labels },
      spec: {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'web',
            image: 'ghcr.io/example/web:1.2.3',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            env: [
              { name: 'MODE', value: 'api' },
              { name: 'DB_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
            ],
            // Quantities as strings and as numbers are both accepted by the API server.
            resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 1, memory: '512Mi' } },
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
            livenessProbe: { tcpSocket: { port: 8080 } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    },
  },
});

const service = (): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels },
  spec: {
    type: 'ClusterIP',
    selector: labels,
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'admin', port: 9090, targetPort: 9090 },
    ],
  },
});

const hpa = (): K8sObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    behavior: {
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
    },
  },
});

const pdb = (): K8sObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'web' },
  spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
});

const serviceMonitor = (): K8sObject => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: { name: 'web', labels },
  spec: {
    selector: { matchLabels: labels },
    endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
  },
});

const prometheusRule = (): K8sObject => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'web' },
  spec: {
    groups: [
      {
        name: 'web.rules',
        rules: [
          { record: 'job:http_requests:rate5m', expr: 'sum by (job) (rate(http_requests_total[5m]))' },
          {
            alert: 'WebDown',
            expr: 'up{job="web"} == 0',
            for: '5m',
            labels: { severity: 'page' },
            annotations: { summary: 'web is down' },
          },
        ],
      },
    ],
  },
});

const scaledObject = (): K8sObject => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { name: 'web' },
    minReplicaCount: 1,
    maxReplicaCount: 20,
    triggers: [
      {
        type: 'prometheus',
        metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(rate(http_requests_total[1m]))', threshold: '100' },
        authenticationRef: { name: 'web-auth' },
      },
    ],
  },
});

const triggerAuthentication = (): K8sObject => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'TriggerAuthentication',
  metadata: { name: 'web-auth' },
  spec: { secretTargetRef: [{ parameter: 'bearerToken', name: 'prom-token', key: 'token' }] },
});

/** A copy of `obj` with `change` applied. */
function changed(obj: K8sObject, change: (o: K8sObject) => void): K8sObject {
  const copy = structuredClone(obj);
  change(copy);
  return copy;
}

/** Asserts `obj` is invalid and some message names `kind/name` and `path` (and matches `message`, when given). */
function expectInvalid(obj: K8sObject, path: string, message?: RegExp): string[] {
  const errors = validateObject(obj);
  expect(errors, `expected ${path} to be rejected`).not.toEqual([]);
  const matching = errors.filter((e) => e.includes(`${obj.kind}/${obj.metadata?.name}`) && e.includes(` ${path}:`));
  expect(matching, `no error names ${path}; got:\n${errors.join('\n')}`).not.toEqual([]);
  if (message) expect(matching.some((e) => message.test(e)), `no error for ${path} matches ${message}; got:\n${matching.join('\n')}`).toBe(true);
  return errors;
}

describe('generated schemas', () => {
  it('cover the Kubernetes 1.28 API and the CRDs we emit', () => {
    const kinds = new Set(knownKinds().map(({ apiVersion, kind }) => `${apiVersion} ${kind}`));
    for (const expected of [
      'v1 Service', 'v1 ConfigMap', 'apps/v1 Deployment', 'apps/v1 StatefulSet', 'batch/v1 CronJob',
      'autoscaling/v1 HorizontalPodAutoscaler', 'autoscaling/v2 HorizontalPodAutoscaler', 'policy/v1 PodDisruptionBudget',
      'networking.k8s.io/v1 NetworkPolicy', 'networking.k8s.io/v1 Ingress',
      'monitoring.coreos.com/v1 ServiceMonitor', 'monitoring.coreos.com/v1 PodMonitor', 'monitoring.coreos.com/v1 PrometheusRule',
      'keda.sh/v1alpha1 ScaledObject', 'keda.sh/v1alpha1 ScaledJob', 'keda.sh/v1alpha1 TriggerAuthentication',
      'keda.sh/v1alpha1 ClusterTriggerAuthentication',
    ]) {
      expect(kinds, expected).toContain(expected);
    }
    // Kinds 1.28 no longer serves.
    expect(kinds).not.toContain('policy/v1beta1 PodDisruptionBudget');
    expect(kinds).not.toContain('autoscaling/v2beta2 HorizontalPodAutoscaler');
  });

  it('all compile in ajv strict mode', () => {
    // A bare apiVersion/kind is enough to force compilation; it must never throw (a schema ajv rejects would).
    for (const { apiVersion, kind } of knownKinds()) {
      expect(() => validateObject({ apiVersion, kind, metadata: { name: 'x' } }), `${apiVersion} ${kind}`).not.toThrow();
    }
  });
});

describe('valid objects pass', () => {
  it.each([
    ['Deployment', deployment],
    ['Service', service],
    ['HorizontalPodAutoscaler (autoscaling/v2)', hpa],
    ['PodDisruptionBudget (policy/v1)', pdb],
    ['ServiceMonitor', serviceMonitor],
    ['PrometheusRule', prometheusRule],
    ['ScaledObject', scaledObject],
    ['TriggerAuthentication', triggerAuthentication],
  ])('%s', (_, make) => {
    expect(validateObject(make())).toEqual([]);
  });

  it('accepts what cdk8s-plus synthesizes', () => {
    const chart = new Chart(Testing.app(), 'plus');
    const web = new kplus.Deployment(chart, 'web', {
      containers: [{ image: 'ghcr.io/example/web:1.2.3', portNumber: 8080, resources: {} }],
    });
    web.exposeViaService({ ports: [{ port: 80, targetPort: 8080 }] });
    const objects = Testing.synth(chart);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
    expect(validateObjects(objects)).toEqual([]);
  });

  it('accepts a null metadata.creationTimestamp (metav1.Time marshals zero as null)', () => {
    expect(validateObject(changed(deployment(), (o) => (o.metadata.creationTimestamp = null)))).toEqual([]);
  });
});

describe('unknown fields fail', () => {
  it('at the top level', () => {
    expectInvalid(changed(deployment(), (o) => (o.spce = {})), 'spce', /unknown field/);
  });

  it('in spec, with a suggestion for a near miss', () => {
    expectInvalid(changed(deployment(), (o) => (o.spec.replica = 3)), 'spec.replica', /unknown field \(did you mean "replicas"\?\)/);
  });

  it('deep inside the pod template', () => {
    expectInvalid(
      changed(deployment(), (o) => (o.spec.template.spec.containers[0].securityContext.foo = true)),
      'spec.template.spec.containers[0].securityContext.foo',
      /unknown field/,
    );
  });

  it('in metadata', () => {
    expectInvalid(changed(service(), (o) => (o.metadata.label = { a: 'b' })), 'metadata.label', /unknown field/);
  });

  it('in CRD metadata (validated as ObjectMeta, not a bare object)', () => {
    expectInvalid(changed(serviceMonitor(), (o) => (o.metadata.labelz = {})), 'metadata.labelz', /unknown field/);
  });

  it('in a ServiceMonitor endpoint', () => {
    expectInvalid(changed(serviceMonitor(), (o) => (o.spec.endpoints[0].intervall = '30s')), 'spec.endpoints[0].intervall', /unknown field/);
  });

  it('in a PrometheusRule rule', () => {
    expectInvalid(changed(prometheusRule(), (o) => (o.spec.groups[0].rules[1].severity = 'page')), 'spec.groups[0].rules[1].severity', /unknown field/);
  });

  it('in a KEDA ScaledObject and TriggerAuthentication', () => {
    expectInvalid(changed(scaledObject(), (o) => (o.spec.pollingIntervall = 30)), 'spec.pollingIntervall', /unknown field/);
    expectInvalid(changed(triggerAuthentication(), (o) => (o.spec.secretTargetRef[0].secret = 'x')), 'spec.secretTargetRef[0].secret', /unknown field/);
  });

  it('in an HPA metric', () => {
    expectInvalid(
      changed(hpa(), (o) => (o.spec.metrics[0].resource.target.averageUtilisation = 70)),
      'spec.metrics[0].resource.target.averageUtilisation',
      /unknown field/,
    );
  });
});

describe('wrong types fail', () => {
  it('a string where an integer belongs', () => {
    expectInvalid(changed(deployment(), (o) => (o.spec.replicas = '3')), 'spec.replicas', /must be integer, got "3"/);
  });

  it('a non-integer number where an integer belongs', () => {
    expectInvalid(changed(pdb(), (o) => (o.spec.maxUnavailable = 1.5)), 'spec.maxUnavailable', /must be integer or string/);
  });

  it('an int32 out of range', () => {
    expectInvalid(changed(hpa(), (o) => (o.spec.maxReplicas = 2 ** 31)), 'spec.maxReplicas', /must be <= 2147483647/);
  });

  it('a boolean IntOrString (Service targetPort)', () => {
    expectInvalid(changed(service(), (o) => (o.spec.ports[0].targetPort = true)), 'spec.ports[0].targetPort', /must be integer or string/);
  });

  it('an object Quantity', () => {
    expectInvalid(
      changed(deployment(), (o) => (o.spec.template.spec.containers[0].resources.limits.cpu = { cores: 1 })),
      'spec.template.spec.containers[0].resources.limits.cpu',
      /must be string or number/,
    );
  });

  it('a label value that is not a string', () => {
    expectInvalid(changed(deployment(), (o) => (o.metadata.labels.tier = 1)), 'metadata.labels.tier', /must be string/);
  });

  it('a CRD enum violation and a CRD pattern violation', () => {
    expectInvalid(changed(serviceMonitor(), (o) => (o.spec.endpoints[0].scheme = 'ftp')), 'spec.endpoints[0].scheme', /must be one of/);
    expectInvalid(changed(serviceMonitor(), (o) => (o.spec.endpoints[0].interval = '30 seconds')), 'spec.endpoints[0].interval', /must match pattern/);
  });
});

describe('missing required fields fail', () => {
  it('a container without a name', () => {
    expectInvalid(
      changed(deployment(), (o) => delete o.spec.template.spec.containers[0].name),
      'spec.template.spec.containers[0].name',
      /required field is missing/,
    );
  });

  it('an HPA without scaleTargetRef', () => {
    expectInvalid(changed(hpa(), (o) => delete o.spec.scaleTargetRef), 'spec.scaleTargetRef', /required field is missing/);
  });

  it('a ScaledObject trigger without type', () => {
    expectInvalid(changed(scaledObject(), (o) => delete o.spec.triggers[0].type), 'spec.triggers[0].type', /required field is missing/);
  });

  it('a PrometheusRule group without name', () => {
    expectInvalid(changed(prometheusRule(), (o) => delete o.spec.groups[0].name), 'spec.groups[0].name', /required field is missing/);
  });
});

describe('unknown kinds and apiVersions fail', () => {
  it('an unknown kind', () => {
    const errors = validateObject({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(errors).toEqual(['Widget/w (v1): no schema for apiVersion "v1" kind "Widget"; no apiVersion knows kind Widget']);
  });

  it('a kind under an apiVersion that does not serve it', () => {
    const errors = validateObject(changed(deployment(), (o) => (o.apiVersion = 'apps/v1beta2')));
    expect(errors).toEqual(['Deployment/web (apps/v1beta2): no schema for apiVersion "apps/v1beta2" kind "Deployment"; Deployment exists in apps/v1']);
  });

  it('an autoscaling/v1 HPA using v2 fields', () => {
    const v1 = changed(hpa(), (o) => {
      o.apiVersion = 'autoscaling/v1';
      delete o.spec.behavior;
    });
    expectInvalid(v1, 'spec.metrics', /unknown field/);
  });

  it('a CRD kind under the wrong group version', () => {
    const errors = validateObject(changed(scaledObject(), (o) => (o.apiVersion = 'keda.sh/v1')));
    expect(errors.join('\n')).toContain('no schema for apiVersion "keda.sh/v1" kind "ScaledObject"; ScaledObject exists in keda.sh/v1alpha1');
  });

  it('objects without apiVersion/kind, and non-objects', () => {
    expect(validateObject({ metadata: { name: 'x' } })).toEqual([
      '<no kind>/x (no apiVersion): apiVersion and kind must be strings, got apiVersion undefined, kind undefined',
    ]);
    expect(validateObject(null)).toEqual(['not a Kubernetes object: null']);
  });
});

describe('reporting', () => {
  it('reports every problem of every object, in order', () => {
    const problems = validateObjects([
      service(),
      changed(deployment(), (o) => {
        o.spec.replicas = '3';
        o.spec.template.spec.containers[0].foo = 1;
      }),
      changed(hpa(), (o) => delete o.spec.scaleTargetRef),
    ]);
    expect(problems).toEqual([
      'Deployment/web (apps/v1) spec.replicas: must be integer, got "3"',
      'Deployment/web (apps/v1) spec.template.spec.containers[0].foo: unknown field',
      'HorizontalPodAutoscaler/web (autoscaling/v2) spec.scaleTargetRef: required field is missing',
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    expectInvalid(
      changed(deployment(), (o) => (o.metadata.labels['app.kubernetes.io/name'] = 7)),
      'metadata.labels["app.kubernetes.io/name"]',
      /must be string, got 7/,
    );
  });

  it('expectValidObjects throws one error listing everything, and passes valid objects', () => {
    expect(() =>
      expectValidObjects([deployment(), service(), hpa(), pdb(), serviceMonitor(), prometheusRule(), scaledObject(), triggerAuthentication()]),
    ).not.toThrow();
    const invalid = [changed(pdb(), (o) => (o.spec.minAvailble = 1)), { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } }];
    expect(() => expectValidObjects(invalid)).toThrow(
      /2 schema violation\(s\):\n {2}- PodDisruptionBudget\/web \(policy\/v1\) spec\.minAvailble: unknown field \(did you mean "minAvailable"\?\)\n {2}- Widget\/w \(v1\): no schema/,
    );
  });
});
