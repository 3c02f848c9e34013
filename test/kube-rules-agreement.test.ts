/**
 * Our validators (lib/core/rules.ts) against Kubernetes' own verdicts, as the real API server gave them
 * (test/harness/kube-rules-table.ts, proven by test/cluster/kube-rules.test.ts): never looser than the server, and as
 * loose as Kubernetes 1.28 except where the table notes why we refuse more.
 */
import { describe, expect, it } from 'vitest';
import {
  Rule, annotationMapProblems, dns1035Label, dns1123Label, dns1123Subdomain, envVarName, integerRule, labelValue,
  parseImageReference, prometheusDuration, qualifiedName, quantityRule,
} from '../lib/core/rules';
import { Problems } from '../lib/core/problems';
import { resolveIngress } from '../lib/workloads/ingress';
import { resolveExtraEnv } from '../lib/workloads/pod-props';
import { KUBE_RULE_CASES, KubeRule } from './harness/kube-rules-table';

/** Whether a resolve-step helper records no problem for `input`. */
const passes = (fn: (p: Problems) => void): boolean => {
  const p = new Problems('rules');
  fn(p);
  return p.ok;
};
const extraEnvOk = (entry: Record<string, unknown>) => passes((p) => resolveExtraEnv(p, [{ name: 'X', ...entry }], () => undefined, () => false, ['c']));

/** Where our rules ask for more than Kubernetes on purpose. */
const STRICTER: Record<string, string> = {
  'quantity "0"': 'requests and limits must be positive',
  'prometheusDuration "0"': 'a scrape interval of 0 is no interval',
};

const asRule = (check: (v: unknown) => boolean): Rule => (v) => (check(v) ? undefined : { allowed: 'refused' });
const OURS: Record<KubeRule, Rule> = {
  labelValue: labelValue(),
  labelKey: qualifiedName(),
  annotationKey: asRule((v) => annotationMapProblems({ [v as string]: 'x' }).length === 0),
  annotationsTotalSize: asRule((n) => annotationMapProblems({ k: 'x'.repeat((n as number) - 1) }).length === 0),
  dns1123Subdomain: dns1123Subdomain(),
  dns1123Label: dns1123Label(),
  dns1035Label: dns1035Label(),
  quantity: quantityRule('any'),
  envVarName: envVarName(),
  int32: integerRule({ min: 0 }),
  image: asRule((v) => parseImageReference(v as string) !== undefined),
  prometheusDuration: prometheusDuration(),
  envFieldPath: asRule((v) => extraEnvOk({ fieldRef: { fieldPath: v } })),
  resourceDivisor: asRule((v) => {
    const [resource, divisor] = (v as string).split(' ');
    return extraEnvOk({ resourceFieldRef: { resource, divisor } });
  }),
  ingressHost: asRule((v) => passes((p) => resolveIngress(p, { hosts: [{ host: v }] }))),
  ingressPrefixPath: asRule((v) => passes((p) => resolveIngress(p, { hosts: [{ host: 'api.example.com', paths: [{ path: v, pathType: 'Prefix' }] }] }))),
};

describe('lib/core/rules.ts agrees with the API server', () => {
  const show = (v: string | number) => (typeof v === 'string' && v.length > 40 ? `<${v.length} chars>` : JSON.stringify(v));
  it.each(KUBE_RULE_CASES.map((c) => [`${c.rule} ${show(c.value)}`, c] as const))('%s', (key, c) => {
    const ours = OURS[c.rule](c.value) === undefined;
    const kubernetes128 = c.accepted128 ?? c.accepted;
    if (!kubernetes128 || c.note) expect(ours, 'Kubernetes 1.28 refuses it, or the table says why we must').toBe(false);
    else if (STRICTER[key]) expect(ours, STRICTER[key]).toBe(false);
    else expect(ours, 'Kubernetes accepts it').toBe(true);
  });
});
