/**
 * Proves test/harness/kube-rules-table.ts against the real API server: every value, placed where its rule applies,
 * is accepted or refused as the table says. Unit tests of our validators can then rely on the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, startControlPlane } from '../harness/control-plane';
import { ApiResources, createObject, installCrds } from '../harness/dry-run';
import { KUBE_RULE_CASES, KubeRule } from '../harness/kube-rules-table';
import type { K8sObject } from '../harness/synth';

let cp: ControlPlane;
let api: ApiResources;
const NS = 'rules';

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrds(cp);
  api = await ApiResources.discover(cp);
  // Not restricted: the container probes carry no security context; the rules probed are not Pod Security's.
  await cp.createNamespace(NS);
});
afterAll(async () => cp?.stop());

const container = (over: K8sObject = {}) => ({ name: 'c', image: 'nginx:1.27', ...over });
const pod = (c: K8sObject) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [c] } });
const configMap = (metadata: K8sObject) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', ...metadata } });

/** An object that carries `value` where `rule` applies. */
function probe(rule: KubeRule, value: string | number): K8sObject {
  const v = value as string;
  switch (rule) {
    case 'labelValue': return configMap({ labels: { k: v } });
    case 'labelKey': return configMap({ labels: { [v]: 'x' } });
    case 'annotationKey': return configMap({ annotations: { [v]: 'x' } });
    case 'annotationsTotalSize': return configMap({ annotations: { k: 'x'.repeat((value as number) - 1) } });
    case 'dns1123Subdomain': return configMap({ name: v });
    case 'dns1123Label': return pod(container({ name: v }));
    case 'dns1035Label': return { apiVersion: 'v1', kind: 'Service', metadata: { name: v }, spec: { ports: [{ port: 80 }] } };
    case 'quantity': return pod(container({ resources: { requests: { memory: v } } }));
    case 'envVarName': return pod(container({ env: [{ name: v, value: 'x' }] }));
    case 'int32': return {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
      spec: { replicas: value, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container()] } } },
    };
    case 'image': return pod(container({ image: v }));
    case 'envFieldPath': return pod(container({ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: v } } }] }));
    case 'resourceDivisor': {
      const [resource, divisor] = v.split(' ');
      return pod(container({ env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource, divisor } } }] }));
    }
    case 'ingressHost':
    case 'ingressPrefixPath': return {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' },
      spec: {
        rules: [{
          host: rule === 'ingressHost' ? v : 'api.example.com',
          http: { paths: [{ path: rule === 'ingressPrefixPath' ? v : '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] },
        }],
      },
    };
    case 'prometheusDuration': return {
      apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'sm' },
      spec: { selector: {}, endpoints: [{ port: 'metrics', interval: v }] },
    };
  }
}

const show = (v: string | number) => (typeof v === 'string' && v.length > 40 ? `<${v.length} chars>` : JSON.stringify(v));

describe('Kubernetes rules table, judged by the real API server', () => {
  it('the probes themselves are accepted with a plain valid value', async () => {
    for (const o of [configMap({}), pod(container()), probe('dns1035Label', 's'), probe('int32', 1), probe('prometheusDuration', '30s'), probe('ingressHost', 'api.example.com')]) {
      const r = await createObject(cp, api, o, NS);
      expect(r.status, `${o.kind}: ${r.body?.message}`).toBe(201);
    }
  });

  it.each(KUBE_RULE_CASES.map((c) => [c.rule, show(c.value), c.accepted ? 'accepted' : 'refused', c] as const))(
    '%s %s is %s', async (_rule, _shown, _verdict, c) => {
      const r = await createObject(cp, api, probe(c.rule, c.value), NS);
      if (c.accepted) expect(r.status, r.body?.message).toBe(201);
      else expect([400, 422], `HTTP ${r.status}`).toContain(r.status);
    });
});
