/**
 * Kubernetes' own validation rules as a table of inputs with the real API server's verdict, proven by
 * test/cluster/kube-rules.test.ts against kube-apiserver v1.34 (each value placed where the rule applies). Unit tests
 * of our validators can assert the same verdicts without a server.
 *
 * `accepted` is the v1.34 server's verdict. Where Kubernetes 1.28 (the API the constructs target) decides otherwise,
 * `accepted128` says so: our validators must follow 1.28, the stricter one.
 */

export type KubeRule =
  | 'labelValue'
  | 'labelKey'
  | 'annotationKey'
  | 'annotationsTotalSize'
  | 'dns1123Subdomain'
  | 'dns1123Label'
  | 'dns1035Label'
  | 'quantity'
  | 'envVarName'
  | 'int32'
  | 'image'
  | 'prometheusDuration'
  | 'envFieldPath'
  | 'resourceDivisor'
  | 'ingressHost'
  | 'ingressPrefixPath';

export interface KubeRuleCase {
  readonly rule: KubeRule;
  readonly value: string | number;
  /** The v1.34 API server accepts it. */
  readonly accepted: boolean;
  /** Kubernetes 1.28's verdict, when it differs from v1.34's. */
  readonly accepted128?: boolean;
  /** Why a validator of ours may still decide otherwise. */
  readonly note?: string;
}

/** Where each rule is probed (documentation of the test's probes). */
export const RULE_PROBES: Record<KubeRule, string> = {
  labelValue: 'ConfigMap metadata.labels value',
  labelKey: 'ConfigMap metadata.labels key (a qualified name)',
  annotationKey: 'ConfigMap metadata.annotations key (a qualified name)',
  annotationsTotalSize: 'ConfigMap with one annotation of this many bytes, key included (limit 256 KiB in total)',
  dns1123Subdomain: 'ConfigMap name',
  dns1123Label: 'container name',
  dns1035Label: 'Service name',
  quantity: 'container resources.requests.memory',
  envVarName: 'container env name',
  int32: 'Deployment spec.replicas',
  image: 'container image',
  prometheusDuration: 'ServiceMonitor endpoints[].interval (the CRD schema\'s pattern)',
  envFieldPath: 'container env valueFrom.fieldRef.fieldPath (the downward API)',
  resourceDivisor: 'container env valueFrom.resourceFieldRef, value "<resource> <divisor>"',
  ingressHost: 'Ingress spec.rules[].host',
  ingressPrefixPath: 'Ingress spec.rules[].http.paths[].path with pathType Prefix',
};

const ok = (rule: KubeRule, ...values: Array<string | number>): KubeRuleCase[] => values.map((value) => ({ rule, value, accepted: true }));
const bad = (rule: KubeRule, ...values: Array<string | number>): KubeRuleCase[] => values.map((value) => ({ rule, value, accepted: false }));

const a = (n: number) => 'a'.repeat(n);

export const KUBE_RULE_CASES: readonly KubeRuleCase[] = [
  ...ok('labelValue', '', 'a', 'API-Server', 'a.b_c-d', '1', a(63)),
  ...bad('labelValue', a(64), 'API Server', 'x/y', '-a', 'a-', '_a', 'a.', 'ä', 'a:b'),

  ...ok('labelKey', 'app', 'app.kubernetes.io/name', 'A_b.c-D', a(63), 'example.com/Team_1', `${a(63)}.${a(63)}/x`),
  ...bad('labelKey', a(64), 'x/y/z', '/a', 'a/', 'Example.com/a', 'node pool', '-a', 'a_', 'example.com/', `example.com/${a(64)}`, `${a(254)}/x`),

  // Annotation keys are lower-cased before the qualified-name check (label keys are not).
  ...ok('annotationKey', 'note', 'scalecharts.io/why', 'ignore-check.kube-linter.io/run-as-non-root', 'Team/x', 'Example.com/a'),
  ...bad('annotationKey', 'a/b/c', 'with space', '', 'x/y/z', `${a(64)}`),

  ...ok('annotationsTotalSize', 262144),
  ...bad('annotationsTotalSize', 262145),

  ...ok('dns1123Subdomain', 'a', '1a', 'a.b-c', a(253)),
  ...bad('dns1123Subdomain', a(254), 'A', 'a_b', '-a', 'a-', 'a..b', 'a.', '.a'),

  ...ok('dns1123Label', 'a', '1a', 'a-b', a(63)),
  ...bad('dns1123Label', a(64), 'a.b', 'A', 'a_b', '-a', 'a-'),

  ...ok('dns1035Label', 'a', 'a1', 'a-b', a(63)),
  ...bad('dns1035Label', '1a', a(64), 'a.b', 'A', '-a', 'a-'),

  ...ok('quantity', '512Mi', '1G', '1Gi', '512k', '1e3', '1E3', '0.5', '.5', '5.', '1.5Gi', '0', '+1', '1e-3'),
  ...bad('quantity', '512K', '1 Gi', '1ki', '1KiB', '0x10', '-1', '1e', 'Infinity', 'NaN', '1,5'),
  // A suffix without a number parses as 0: accepted, and silently no request at all.
  ...['Mi', 'Ki', 'k', 'm', '.'].map((value): KubeRuleCase => ({
    rule: 'quantity', value, accepted: true, note: 'parsed as 0 (a silently changed value): our validators refuse it',
  })),

  // 1.28: `[-._a-zA-Z][-._a-zA-Z0-9]*` (apimachinery IsEnvVarName); v1.34 has RelaxedEnvironmentVariableValidation GA
  // and locked on: any printable ASCII but '='.
  ...ok('envVarName', 'FOO', 'foo_bar', 'a.b-c', '_X', 'A1'),
  { rule: 'envVarName', value: '1FOO', accepted: true, accepted128: false },
  { rule: 'envVarName', value: 'FOO BAR', accepted: true, accepted128: false },
  { rule: 'envVarName', value: 'FOO:BAR', accepted: true, accepted128: false },
  ...bad('envVarName', 'FOO=BAR', ''),

  ...ok('int32', 0, 1, 2147483647),
  ...bad('int32', 2147483648, -1, 1.5),

  // The API server checks only surrounding whitespace: the reference grammar is our validators' job.
  ...ok('image', 'nginx:1.27', 'registry.internal:5000/team/api:1.2.3'),
  ...['ng inx:1.0', 'Nginx:1.0', ':1.0'].map((value): KubeRuleCase => ({
    rule: 'image', value, accepted: true, note: 'no reference by the distribution grammar: our validators refuse it',
  })),
  ...bad('image', ' nginx:1.27', 'nginx:1.27 '),

  ...ok('prometheusDuration', '30s', '1m30s', '1h', '500ms', '0', '1y2w3d4h5m6s7ms'),
  ...bad('prometheusDuration', '30', 'abc', '1.5s', '30S', '-30s', '1s1m'),

  // Issue 17's extraEnv, Ingress: the downward API's env fields; status.hostIPs came with PodHostIPs (off in 1.28).
  ...ok('envFieldPath', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
    'status.hostIP', 'status.podIP', 'status.podIPs', "metadata.labels['app.kubernetes.io/name']", "metadata.annotations['example.com/a']"),
  { rule: 'envFieldPath', value: 'status.hostIPs', accepted: true, accepted128: false },
  ...bad('envFieldPath', 'metadata.labels', 'metadata.annotations', 'status.phase', 'spec.containers', 'metadata.generateName', ''),
  ...ok('resourceDivisor', 'limits.cpu 1m', 'requests.cpu 1', 'limits.memory 1Mi', 'limits.memory 1', 'requests.memory 1G', 'limits.ephemeral-storage 1Ki'),
  ...bad('resourceDivisor', 'limits.cpu 1Mi', 'limits.cpu 2m', 'limits.memory 2Mi', 'limits.memory 1m', 'limits.gpu 1'),
  { rule: 'resourceDivisor', value: 'limits.cpu 0', accepted: true, note: 'a zero divisor is defaulted to 1 (a silently changed value): our validators refuse it' },
  ...ok('ingressHost', 'api.example.com', '*.example.com', 'a-b.c.example.net', `${a(63)}.example.com`),
  // A single label is a DNS-1123 subdomain too: accepted, but nothing routes to it from outside.
  { rule: 'ingressHost', value: 'localhost', accepted: true, note: 'a single-label host reaches no public name: our validators ask for a dotted one' },
  ...bad('ingressHost', '10.0.0.1', 'Api.Example.com', 'a.*.example.com', '*', 'api_example.com', '-a.example.com', 'api.example.com.'),
  ...ok('ingressPrefixPath', '/', '/v1', '/v1/', '/a.b/c', '/a-b_c~d'),
  ...bad('ingressPrefixPath', 'v1', '/a//b', '/a/./b', '/a/../b', '/a%2fb', '/a%2Fb', '/a/..', '/a/.'),
];
