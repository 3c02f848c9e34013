import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples';
import { StatelessService, WorkerPool, connectRpc, connectService } from '../lib';
import { RpcPool } from '../lib/rpc/rpc-pool';
import { expectValidationError } from './harness/errors';
import { K8sObject, build, find, findAll, synth, synthApp } from './harness/synth';

/**
 * NetworkPolicy semantics (networking.k8s.io/v1), enough to ask "may this pod reach that port": a pod selected by
 * at least one Ingress policy accepts only what some rule of some selecting policy allows.
 */
interface Pod { readonly namespace: string; readonly labels: Record<string, string> }
const matches = (sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) =>
  Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function allowed(policies: K8sObject[], policyNamespace: string, target: Record<string, string>, port: string | number, from: Pod): boolean {
  const selecting = policies.filter((p) => p.spec.policyTypes.includes('Ingress') && matches(p.spec.podSelector, target));
  if (selecting.length === 0) return true;
  return selecting.some((p) => (p.spec.ingress ?? []).some((rule: K8sObject) =>
    (rule.ports ?? [{ port }]).some((pp: K8sObject) => pp.port === port)
    && (rule.from ?? [{}]).some((peer: K8sObject) => {
      const nsOk = peer.namespaceSelector
        ? matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': from.namespace })
        : from.namespace === policyNamespace;
      const podOk = peer.podSelector ? matches(peer.podSelector, from.labels) : true;
      return (peer.namespaceSelector || peer.podSelector) ? nsOk && podOk : true;
    })));
}

const IMAGE = 'ghcr.io/example/app:1.2.3';
const podOf = (o: K8sObject): Pod => ({ namespace: 'shop', labels: o.spec.template.metadata.labels });

describe('NetworkPolicy of StatelessService (on by default)', () => {
  const objects = synth((chart) => {
    const api = new StatelessService(chart, 'api', { image: IMAGE, metricsPort: 9090, ingress: { host: 'api.example.com' } });
    const web = new StatelessService(chart, 'web', { image: IMAGE });
    new StatelessService(chart, 'stranger', { image: IMAGE });
    const jobs = new WorkerPool(chart, 'jobs', { image: IMAGE, queue: 'jobs' });
    connectService(web, api);
    connectService(jobs, api, { envName: 'API_BASE' });
  }, { namespace: 'shop' });
  const policies = findAll(objects, 'NetworkPolicy');
  const api = find(objects, 'Deployment', 'api');
  const target = api.spec.template.metadata.labels;
  const may = (from: Pod, port = 'http') => allowed(policies, 'shop', target, port, from);

  it('lets in the service\'s own pods and wired clients, nobody else of the namespace', () => {
    expect(may(podOf(api))).toBe(true);
    expect(may(podOf(find(objects, 'Deployment', 'web')))).toBe(true);
    expect(may(podOf(find(objects, 'Deployment', 'jobs')))).toBe(true);
    expect(may(podOf(find(objects, 'Deployment', 'stranger')))).toBe(false);
    expect(may({ namespace: 'other', labels: podOf(find(objects, 'Deployment', 'web')).labels }), 'same labels, other namespace').toBe(false);
  });

  it('lets the ingress controller reach the serving port, and scrapers only the metrics port', () => {
    expect(may({ namespace: 'ingress-nginx', labels: { app: 'controller' } })).toBe(true);
    expect(may({ namespace: 'monitoring', labels: { app: 'prometheus' } }, 'metrics')).toBe(true);
    expect(may({ namespace: 'monitoring', labels: { app: 'prometheus' } }, 'http')).toBe(false);
    expect(may(podOf(find(objects, 'Deployment', 'web')), 'metrics')).toBe(false);
    // Without an Ingress the controller is not let in.
    const web = find(objects, 'Deployment', 'web').spec.template.metadata.labels;
    expect(allowed(policies, 'shop', web, 'http', { namespace: 'ingress-nginx', labels: {} })).toBe(false);
  });

  it('wires the client with the service URL', () => {
    const web = find(objects, 'Deployment', 'web').spec.template.spec.containers[0];
    expect(web.env).toContainEqual({ name: 'API_URL', value: 'http://api:80' });
    expect(find(objects, 'Deployment', 'jobs').spec.template.spec.containers[0].env).toContainEqual({ name: 'API_BASE', value: 'http://api:80' });
  });

  it('denies all ingress to workers without metrics and to migration Jobs; scrapers reach a worker\'s metrics port', () => {
    const objs = synth((chart) => {
      new WorkerPool(chart, 'quiet', { image: IMAGE, queue: 'q' });
      new WorkerPool(chart, 'loud', { image: IMAGE, queue: 'q', metricsPort: 9100 });
      new StatelessService(chart, 'api', { image: IMAGE, migration: { command: ['/app', 'migrate'] } });
    }, { namespace: 'shop' });
    const pols = findAll(objs, 'NetworkPolicy');
    const quiet = find(objs, 'Deployment', 'quiet').spec.template.metadata.labels;
    const loud = find(objs, 'Deployment', 'loud').spec.template.metadata.labels;
    const job = find(objs, 'Job', 'api-migrate').spec.template.metadata.labels;
    const prometheus = { namespace: 'monitoring', labels: {} };
    expect(allowed(pols, 'shop', quiet, 'metrics', prometheus)).toBe(false);
    expect(allowed(pols, 'shop', loud, 'metrics', prometheus)).toBe(true);
    expect(allowed(pols, 'shop', loud, 'metrics', { namespace: 'shop', labels: quiet })).toBe(false);
    expect(allowed(pols, 'shop', job, 'http', { namespace: 'shop', labels: find(objs, 'Deployment', 'api').spec.template.metadata.labels })).toBe(false);
    expect(find(objs, 'NetworkPolicy', 'api-migrate').spec).toEqual({ podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'migration' }) }, policyTypes: ['Ingress'], ingress: [] });
  });

  it('takes documented selectors for scrapers and the controller, extra clients, optional egress, and an opt-out', () => {
    const objs = synth((chart) => {
      new StatelessService(chart, 'api', {
        image: IMAGE, ingress: { host: 'api.example.com' },
        networkPolicy: {
          metricsScrapers: { namespace: 'observability', podLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          ingressController: { namespace: 'traefik' },
          allowFrom: [{ podLabels: { team: 'payments' } }],
          egress: { to: [{ namespace: 'payments' }] },
        },
      });
      new StatelessService(chart, 'open', { image: IMAGE, networkPolicy: false });
    }, { namespace: 'shop' });
    const pols = findAll(objs, 'NetworkPolicy');
    expect(pols.map((p) => p.metadata.name)).toEqual(['api']);
    const api = find(objs, 'Deployment', 'api').spec.template.metadata.labels;
    expect(allowed(pols, 'shop', api, 'http', { namespace: 'observability', labels: { 'app.kubernetes.io/name': 'prometheus' } })).toBe(true);
    expect(allowed(pols, 'shop', api, 'http', { namespace: 'observability', labels: {} })).toBe(false);
    expect(allowed(pols, 'shop', api, 'http', { namespace: 'traefik', labels: {} })).toBe(true);
    expect(allowed(pols, 'shop', api, 'http', { namespace: 'ingress-nginx', labels: {} })).toBe(false);
    expect(allowed(pols, 'shop', api, 'http', { namespace: 'shop', labels: { team: 'payments' } })).toBe(true);
    const policy = find(objs, 'NetworkPolicy', 'api');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }] },
    ]);
  });

  it('lets connectRpc clients through the RPC proxy\'s policy', () => {
    const objs = synth((chart) => {
      const rpc = new RpcPool(chart, 'rpc', { upstreams: [{ name: 'a', url: 'https://a.example.com' }, { name: 'b', url: 'https://b.example.com' }] });
      const indexer = new StatelessService(chart, 'indexer', { image: IMAGE });
      connectRpc(indexer, rpc);
    }, { namespace: 'shop' });
    const deployment = find(objs, 'Deployment', 'rpc');
    const proxy = deployment.spec.template.metadata.labels;
    // The pool's own policy names the proxy port by number; the proxy's StatelessService adds none of its own.
    const port = deployment.spec.template.spec.containers[0].ports.find((p: K8sObject) => p.name === 'http').containerPort;
    const pols = findAll(objs, 'NetworkPolicy');
    expect(pols.filter((p) => matches(p.spec.podSelector, proxy))).toHaveLength(1);
    expect(allowed(pols, 'shop', proxy, port, podOf(find(objs, 'Deployment', 'indexer')))).toBe(true);
    expect(allowed(pols, 'shop', proxy, port, { namespace: 'shop', labels: { app: 'other' } })).toBe(false);
  });

  it('refuses peers that would admit everything or are not valid selectors', () => {
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', { image: IMAGE, networkPolicy: { allowFrom: [{}] } })),
      { path: 'test/api', property: 'networkPolicy.allowFrom[0]' });
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', { image: IMAGE, networkPolicy: { metricsScrapers: { podLabels: {} } } })),
      { path: 'test/api', property: 'networkPolicy.metricsScrapers.podLabels' });
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', { image: IMAGE, networkPolicy: { ingressController: { namespace: 'Bad_NS' } }, ingress: { host: 'a.example.com' } })),
      { path: 'test/api', property: 'networkPolicy.ingressController.namespace', value: 'Bad_NS' });
  });

  it('keeps the examples\' service-to-service calls open: storefront web → catalog, chain indexer → RPC proxy', () => {
    const store = synthApp((app) => { EXAMPLES.storefront(app); });
    const storePod = (name: string) => ({ namespace: 'storefront', labels: find(store, 'Deployment', name).spec.template.metadata.labels });
    const catalog = find(store, 'Deployment', 'catalog').spec.template.metadata.labels;
    expect(allowed(findAll(store, 'NetworkPolicy'), 'storefront', catalog, 'http', storePod('web'))).toBe(true);
    expect(allowed(findAll(store, 'NetworkPolicy'), 'storefront', find(store, 'Deployment', 'web').spec.template.metadata.labels, 'http', storePod('catalog'))).toBe(false);
    const chain = synthApp((app) => { EXAMPLES.chain(app); });
    const ns = find(chain, 'Deployment', 'eth-rpc').metadata.namespace;
    const indexer = { namespace: ns, labels: find(chain, 'Deployment', 'did-indexer').spec.template.metadata.labels };
    expect(allowed(findAll(chain, 'NetworkPolicy'), ns, find(chain, 'Deployment', 'eth-rpc').spec.template.metadata.labels, 'http', indexer)).toBe(true);
  });
});
