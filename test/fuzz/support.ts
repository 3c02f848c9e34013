import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import fc from 'fast-check';
import { expect } from 'vitest';
import { ValidationError, ValidationErrors } from '../../lib';
import { describeValue } from '../../lib/errors';
import { compareQuantities, INT32_MAX, parseQuantity } from '../../lib/core/rules';
import { K8sObject, synth } from '../harness/synth';

/**
 * Property-based testing of the public API (issue 13). The oracle for every generated input: either a
 * ValidationError naming a property (never a TypeError or another crash), or output that passes the strict schema,
 * the lint checks and the documented invariants.
 *
 * CI runs FUZZ_RUNS (default 500) runs per property from FUZZ_SEED (default fixed). Locally, for a longer search:
 * `FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM npx vitest run test/fuzz/`; a failure prints the seed and path to replay.
 */
export const FUZZ = {
  numRuns: Number(process.env.FUZZ_RUNS) || 500,
  seed: process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 1313,
  // Shrinking a failure can take long on a shared machine; the counterexample is printed either way.
  endOnFailure: process.env.FUZZ_SHRINK !== '1',
} as const;

/** fc.assert with the suite's runs and seed. */
export function check<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  fc.assert(fc.property(arb, predicate), { numRuns: FUZZ.numRuns, seed: FUZZ.seed, endOnFailure: FUZZ.endOnFailure });
}

// ---------------------------------------------------------------- hostile values

/** What a JavaScript caller (or a bug) can pass where a typed value belongs. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 1e10, -1, 0, 0.5, -0, null, undefined, true, false, '', ' ', '\n', 'latest', '0', 'NaN'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
  fc.constantFrom('API Server', 'x/y', 'Nginx:1.0', ':1.0', 'ng inx:1.0', '512K', '1e400', 'a'.repeat(70), 'ünïcode', '-a-', 'a_b', 'A'),
);

/** Mostly valid values with hostile ones mixed in: enough valid input to reach rendering, enough bad to test refusal. */
export function sometimes<T>(valid: fc.Arbitrary<T>, weight = 12): fc.Arbitrary<T | unknown> {
  return fc.oneof({ arbitrary: valid, weight }, { arbitrary: hostile, weight: 1 });
}

/** An optional prop: absent or a (mostly valid) value; {@link corrupt} adds the hostile ones. */
export function opt<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(valid, { nil: undefined, freq: 2 });
}

/**
 * Props with up to `max` fields replaced by hostile values (at any depth of the top level): most runs stay close to
 * valid, so rendering is reached, and every run may carry a wrong type, NaN or a Kubernetes-invalid string.
 */
export function corrupt(arb: fc.Arbitrary<Record<string, unknown>>, keys: readonly string[], max = 1): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(arb, fc.array(fc.tuple(fc.constantFrom(...keys), hostile), { maxLength: max })).map(([p, bad]) => {
    const out = { ...p };
    for (const [k, v] of bad) out[k] = v;
    return out;
  });
}

/** Builds an object, leaving out undefined fields (absent props, as a caller writes them). */
export function props(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(fields).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

// ---------------------------------------------------------------- valid-ish values

/** Mostly valid, sometimes not: the share of Kubernetes-invalid strings inside otherwise valid values. */
export const mostly = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: invalid, weight: 1 });

export const dnsName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
export const image = mostly(fc.oneof(
  fc.constantFrom('ghcr.io/example/api:1.0.0', 'registry.internal:5000/team/api:1.2.3', 'nginx:1.25', 'localhost:5000/app:v2',
    `app@sha256:${'a'.repeat(64)}`, 'a__b/c--d:1'),
  fc.tuple(dnsName, fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/)).map(([r, t]) => `${r}:${t}`),
), fc.constantFrom('team/api:latest', 'api', 'Nginx:1.0', 'ng inx:1.0'));
export const cpu = fc.oneof(
  fc.constantFrom('100m', '250m', '500m', '1', '2', '2000m', '0.5', '1e-1', '1e3m', '3', '0', '100u', '1.5'),
  fc.integer({ min: 1, max: 8000 }).map((m) => `${m}m`),
);
export const memory = fc.oneof(
  fc.constantFrom('64Mi', '256Mi', '512Mi', '1Gi', '2Gi', '1e9', '512M', '1073741824', '0.5', '1.5Gi', '4Gi', '100Ki'),
  fc.integer({ min: 16, max: 8192 }).map((m) => `${m}Mi`),
);
export const resources = props({
  requests: opt(props({ cpu: opt(cpu), memory: opt(memory) })),
  limits: opt(props({ cpu: opt(cpu), memory: opt(memory) })),
});
export const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(80, 8080, 9090, 9187, 9145));
export const envName = mostly(fc.oneof(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.constant('DATABASE_URL')), fc.constantFrom('APP_MODE', 'QUEUE_NAME', 'DB_PASSWORD', '1X', 'a b'));
export const env = fc.dictionary(envName, sometimes(fc.string({ maxLength: 8 })), { maxKeys: 3 });
export const secretEnv = fc.dictionary(envName, sometimes(props({ secretName: sometimes(dnsName), key: opt(fc.constantFrom('password', 'key', '', 'a/b')) })), { maxKeys: 2 });
export const configMounts = fc.array(props({ configMap: sometimes(dnsName), mountPath: mostly(fc.constantFrom('/etc/app', '/etc/app/', '/config', '/data'), fc.constantFrom('/tmp', '/', '/a/../b')) }), { maxLength: 2 });
export const labelMap = fc.dictionary(
  mostly(fc.oneof(fc.constantFrom('team', 'example.com/owner'), dnsName), fc.constantFrom('bad key', 'a/b/c')),
  mostly(fc.constantFrom('platform', '', 'v1.2'), fc.constantFrom('a b', 'x/y')), { maxKeys: 2 },
);
export const toleration = mostly(
  props({ key: fc.constantFrom('gpu', 'dedicated', 'example.com/spot'), operator: opt(fc.constant('Equal')), value: opt(fc.constantFrom('true', 'yes')), effect: opt(fc.constantFrom('NoSchedule', 'PreferNoSchedule')) }),
  props({
    key: opt(fc.constantFrom('gpu', 'bad key')), operator: opt(fc.constantFrom('Exists', 'Equal')), value: opt(fc.constantFrom('true', '')),
    effect: opt(fc.constantFrom('NoSchedule', 'NoExecute')), tolerationSeconds: opt(fc.integer({ min: 0, max: 3600 })),
  }),
);
// ---------------------------------------------------------------- pod-level props (issue 17)

const annotationMap = fc.dictionary(
  mostly(fc.constantFrom('example.com/owner', 'prometheus.io/scrape', 'Team'), fc.constantFrom('a/b/c', 'bad key')),
  sometimes(fc.constantFrom('x', '', 'a b: c')), { maxKeys: 2 },
);
const probePort = mostly(fc.constantFrom('http', 'metrics', 8080, 9090), fc.constantFrom('admin', 0, 70000, 1234));
const timing = {
  initialDelaySeconds: opt(mostly(fc.integer({ min: 0, max: 60 }), fc.constantFrom(-1, NaN))),
  periodSeconds: opt(mostly(fc.integer({ min: 1, max: 60 }), fc.constant(0))),
  timeoutSeconds: opt(fc.integer({ min: 1, max: 10 })),
  failureThreshold: opt(mostly(fc.integer({ min: 1, max: 30 }), fc.constant(0))),
  successThreshold: opt(mostly(fc.constant(1), fc.integer({ min: 2, max: 3 }))),
};
const probeCheck = fc.oneof(
  props({ path: mostly(fc.constantFrom('/ready', '/live'), fc.constant('ready')), port: probePort, scheme: opt(mostly(fc.constantFrom('HTTP', 'HTTPS'), fc.constant('FTP'))) }).map((http) => ({ http })),
  props({ port: probePort, service: opt(fc.constantFrom('', 'health')) }).map((grpc) => ({ grpc })),
  props({ command: mostly<readonly string[]>(fc.constant(['/bin/check']), fc.constantFrom([], [''])) }).map((exec) => ({ exec })),
  props({ port: probePort }).map((tcp) => ({ tcp })),
);
// Mostly tuning the construct's own probe (renders most often), sometimes a check of its own or off.
const probe = fc.oneof(
  { arbitrary: props(timing), weight: 3 },
  { arbitrary: fc.tuple(probeCheck, props(timing)).map(([c, t]) => ({ ...c, ...t })), weight: 2 },
  { arbitrary: fc.constant(false), weight: 1 },
);
/** `probes` of every kind; `extra` adds construct-specific fields (StatelessService's shorthand paths). */
export const probes = props({ liveness: opt(probe), readiness: opt(probe), startup: opt(probe) });
const envRef = (kind: 'secretKeyRef' | 'configMapKeyRef') => props({ name: sometimes(dnsName), key: mostly(fc.constantFrom('password', 'url'), fc.constantFrom('', 'a/b')), optional: opt(fc.boolean()) }).map((r) => ({ [kind]: r }));
export const extraEnv = fc.array(fc.tuple(envName, fc.oneof(
  sometimes(fc.string({ maxLength: 6 })).map((value) => ({ value })),
  mostly(fc.constantFrom('metadata.name', 'metadata.namespace', 'status.podIP', 'spec.nodeName', "metadata.labels['app.kubernetes.io/name']"), fc.constantFrom('status.phase', 'metadata.labels')).map((fieldPath) => ({ fieldRef: { fieldPath } })),
  props({ resource: mostly(fc.constantFrom('limits.memory', 'requests.cpu', 'limits.ephemeral-storage'), fc.constant('limits.gpu')), divisor: opt(mostly(fc.constantFrom('1', '1m', '1Mi'), fc.constantFrom('2', '0'))) }).map((r) => ({ resourceFieldRef: r })),
  envRef('secretKeyRef'),
  envRef('configMapKeyRef'),
)).map(([name, source]) => ({ name, ...source })), { maxLength: 3 });
export const extraEnvFrom = fc.array(fc.oneof(
  props({ secretRef: props({ name: sometimes(dnsName), optional: opt(fc.boolean()) }), prefix: opt(mostly(fc.constantFrom('APP_', 'X'), fc.constant('1_'))) }),
  props({ configMapRef: props({ name: sometimes(dnsName) }), prefix: opt(fc.constant('CFG_')) }),
), { maxLength: 2 });
/** imagePullSecrets, serviceAccount, podAnnotations, podLabels, extraEnv, extraEnvFrom. */
export const podFields = {
  imagePullSecrets: opt(fc.array(sometimes(dnsName), { maxLength: 2 })),
  // Mostly the two valid shapes (create one, or name one); the contradictions are the rare third.
  serviceAccount: opt(mostly(
    fc.oneof(
      props({ create: fc.constant(true), name: opt(sometimes(dnsName)), annotations: opt(annotationMap), automountToken: opt(fc.boolean()) }),
      props({ name: sometimes(dnsName), automountToken: opt(fc.boolean()) }),
    ),
    props({ create: opt(fc.boolean()), name: opt(sometimes(dnsName)), annotations: opt(annotationMap), automountToken: opt(fc.boolean()) }),
  )),
  podAnnotations: opt(annotationMap),
  podLabels: opt(fc.dictionary(mostly(fc.constantFrom('team', 'example.com/tier'), fc.constantFrom('app.kubernetes.io/name', 'pod-template-hash', 'bad key')), mostly(fc.constantFrom('a', ''), fc.constant('a b')), { maxKeys: 2 })),
  extraEnv: opt(extraEnv),
  extraEnvFrom: opt(extraEnvFrom),
};

/** The pod-level props the datastores take (lib/datastore-pod.ts). */
export const datastorePodFields = {
  imagePullSecrets: podFields.imagePullSecrets,
  podAnnotations: opt(mostly(annotationMap, fc.constant({ 'scalecharts.io/config-hash': 'x' }))),
  podLabels: opt(fc.dictionary(mostly(fc.constantFrom('team', 'example.com/tier'), fc.constantFrom('scalecharts.io/role', 'app.kubernetes.io/name', 'bad key')), mostly(fc.constantFrom('a', ''), fc.constant('a b')), { maxKeys: 2 })),
};

/**
 * Objects a fuzzed workload refers to but does not create: a ServiceAccount it names without creating it (kube-linter's
 * non-existent-service-account, and a real cluster, want it to exist).
 */
export function referencedAccounts(chart: Chart, p: Record<string, unknown>): void {
  const names = new Set<string>();
  if (typeof p.serviceAccountName === 'string') names.add(p.serviceAccountName);
  const sa = p.serviceAccount as Record<string, unknown> | undefined;
  if (sa && typeof sa === 'object' && sa.create !== true && typeof sa.name === 'string') names.add(sa.name);
  for (const name of names) new k8s.KubeServiceAccount(chart, `sa-${name}`, { metadata: { name }, automountServiceAccountToken: false });
}

export const preset = props({
  autoscaling: opt(fc.oneof(fc.constant(false), props({
    minReplicas: opt(fc.integer({ min: 1, max: 6 })), maxReplicas: opt(fc.integer({ min: 1, max: 30 })),
    cpuUtilization: opt(fc.integer({ min: 1, max: 100 })), memoryUtilization: opt(fc.integer({ min: 1, max: 100 })),
  }))),
  replicas: opt(fc.integer({ min: 1, max: 5 })),
  disruptionBudget: opt(fc.boolean()),
  resources: opt(resources),
  imageRegistry: opt(mostly(fc.constantFrom('registry.example.com', 'registry.internal:5000/mirror'), fc.constant('mirror'))),
  labels: opt(labelMap),
  podAnnotations: opt(labelMap),
  tolerations: opt(fc.array(toleration, { maxLength: 2 })),
  nodeSelector: opt(labelMap),
});

// ---------------------------------------------------------------- the oracle

/** Synthesizes through the strict harness; a refusal must be ValidationErrors naming properties, nothing else. */
export function synthOrRefuse(build: (chart: Chart) => void): K8sObject[] | ValidationError[] {
  try {
    const objects = synth(build, { namespace: 'fuzz' });
    checkInvariants(objects);
    return objects;
  } catch (e) {
    const errors = e instanceof ValidationErrors ? [...e.errors] : e instanceof ValidationError ? [e] : undefined;
    if (!errors) throw e; // a TypeError, a schema or lint failure, a broken invariant: a defect
    for (const err of errors) {
      expect(err.property, err.message).toMatch(/\S/);
      expect(err.message).toContain(`${err.constructPath}: invalid ${err.property} = `);
      // NaN and Infinity are shown as given, never as JSON's null.
      if (typeof err.value === 'number') expect(err.message).toContain(`= ${describeValue(err.value)}`);
    }
    return errors;
  }
}

function containers(o: K8sObject): K8sObject[] {
  const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
  return spec ? [...(spec.containers ?? []), ...(spec.initContainers ?? [])] : [];
}

function expectUnique(values: unknown[], what: string): void {
  expect(values.filter((v, i) => values.indexOf(v) !== i), what).toEqual([]);
}

/** The documented invariants of every rendered app. */
export function checkInvariants(objects: K8sObject[]): void {
  // Autoscaled Deployments start at the autoscaler's floor (issue 20: a fresh install is not 1 pod): target -> floor.
  const scaled = new Map<string, number>();
  for (const o of objects) {
    if (o.kind === 'HorizontalPodAutoscaler') {
      expect(o.spec.minReplicas).toBeLessThanOrEqual(o.spec.maxReplicas);
      scaled.set(`${o.spec.scaleTargetRef.kind}/${o.spec.scaleTargetRef.name}`, o.spec.minReplicas ?? 1);
    }
    if (o.kind === 'ScaledObject') {
      expect(o.spec.minReplicaCount).toBeLessThanOrEqual(o.spec.maxReplicaCount);
      scaled.set(`${o.spec.scaleTargetRef.kind ?? 'Deployment'}/${o.spec.scaleTargetRef.name}`, o.spec.idleReplicaCount ?? o.spec.minReplicaCount ?? 0);
    }
    if (o.kind === 'Service') {
      expectUnique((o.spec.ports ?? []).map((p: K8sObject) => `${p.port}/${p.protocol ?? 'TCP'}`), `${o.metadata.name} Service ports`);
      expectUnique((o.spec.ports ?? []).map((p: K8sObject) => p.name), `${o.metadata.name} Service port names`);
    }
    const podPorts: unknown[] = [];
    for (const c of containers(o)) {
      expectUnique((c.env ?? []).map((e: K8sObject) => e.name), `${o.kind}/${o.metadata.name} ${c.name} env`);
      expectUnique((c.volumeMounts ?? []).map((m: K8sObject) => m.mountPath), `${o.kind}/${o.metadata.name} ${c.name} mounts`);
      podPorts.push(...(c.ports ?? []).map((p: K8sObject) => p.containerPort));
      for (const field of ['cpu', 'memory']) {
        const req = c.resources?.requests?.[field];
        const lim = c.resources?.limits?.[field];
        if (req === undefined || lim === undefined) continue;
        const rq = parseQuantity(String(req));
        const lq = parseQuantity(String(lim));
        expect(rq && lq, `${req} / ${lim} parse`).toBeTruthy();
        expect(compareQuantities(rq!, lq!), `${o.metadata.name} ${c.name} ${field} requests ${req} <= limits ${lim}`).toBeLessThanOrEqual(0);
      }
    }
    expectUnique(podPorts, `${o.kind}/${o.metadata.name} container ports`);
    // The selector picks the workload's own pods: every selector label is on the pod template (podLabels never change it).
    const selector = o.spec?.selector?.matchLabels;
    const template = o.spec?.template?.metadata?.labels;
    if (selector && template) for (const [k, v] of Object.entries(selector)) expect(template[k], `${o.kind}/${o.metadata.name} selector ${k}`).toBe(v);
    walkNumbers(o, (n, at) => {
      expect(Number.isFinite(n), at).toBe(true);
      expect(Math.abs(n) <= INT32_MAX || at.includes('tolerationSeconds'), `${at} = ${n} fits int32`).toBe(true);
    });
  }
  for (const o of objects) {
    const floor = o.kind === 'Deployment' ? scaled.get(`Deployment/${o.metadata.name}`) : undefined;
    if (floor !== undefined) {
      expect(o.spec.replicas, `replicas under an autoscaler start at its floor: ${o.metadata.name}`).toBe(floor);
    }
  }
}

function walkNumbers(v: unknown, fn: (n: number, at: string) => void, at = ''): void {
  if (typeof v === 'number') fn(v, at);
  else if (Array.isArray(v)) v.forEach((x, i) => walkNumbers(x, fn, `${at}[${i}]`));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkNumbers(x, fn, `${at}.${k}`);
}
