import type { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, Presets, RedisHA, RpcPool } from '../lib';
import { expectValidationError } from './harness/errors';
import { build, K8sObject, synth } from './harness/synth';

/** Issue 17 on the datastores: imagePullSecrets, podAnnotations and podLabels reach every pod the construct runs. */

const DATASTORES: Record<string, (chart: Chart, extra: Record<string, unknown>) => void> = {
  postgres: (chart, extra) => { new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a', key: 'pw' } }, metrics: true, ...extra }); },
  'postgres (patroni)': (chart, extra) => { new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a', key: 'pw' } }, failover: 'patroni', ...extra }); },
  redis: (chart, extra) => { new RedisHA(chart, 'db', { passwordSecret: { secretName: 'cache', key: 'password' }, metrics: true, ...extra }); },
  'redis (standalone)': (chart, extra) => { new RedisHA(chart, 'db', { passwordSecret: { secretName: 'cache', key: 'password' }, mode: 'standalone', ...extra }); },
  rpc: (chart, extra) => { new RpcPool(chart, 'db', { upstreams: [{ name: 'a', url: 'https://a.example.com' }, { name: 'b', url: 'https://b.example.com' }], monitoring: true, selfHostedNode: { image: 'ethereum/client-go:v1.14.12', storage: '100Gi', resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '16Gi' } } }, ...extra } as never); },
};

const PODS: Record<string, string[]> = { Deployment: ['spec', 'template'], StatefulSet: ['spec', 'template'], Job: ['spec', 'template'], CronJob: ['spec', 'jobTemplate', 'spec', 'template'] };
const templates = (objects: K8sObject[]) => objects.filter((o) => o.kind in PODS).map((o) => ({ o, t: PODS[o.kind].reduce((v: K8sObject, k) => v[k], o) }));

describe.each(Object.keys(DATASTORES))('%s', (name) => {
  const props = { imagePullSecrets: ['regcred'], podAnnotations: { 'example.com/owner': 'data' }, podLabels: { 'example.com/team': 'data' } };

  it('puts pull secrets, annotations and labels on every pod template, leaving selectors and the construct\'s own annotations alone', () => {
    const plain = templates(synth((chart) => DATASTORES[name](chart, {})));
    const objects = synth((chart) => {
      Presets.apply(chart, { podAnnotations: { 'example.com/owner': 'preset', 'example.com/cost': '42' } });
      DATASTORES[name](chart, props);
    });
    const pods = templates(objects);
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.length).toBe(plain.length);
    for (const { o, t } of pods) {
      const what = `${o.kind}/${o.metadata.name}`;
      expect(t.spec.imagePullSecrets, what).toEqual([{ name: 'regcred' }]);
      expect(t.metadata.labels['example.com/team'], what).toBe('data');
      expect(t.metadata.annotations, what).toMatchObject({ 'example.com/owner': 'data', 'example.com/cost': '42' });
      if (o.spec.selector?.matchLabels) expect(o.spec.selector.matchLabels['example.com/team'], what).toBeUndefined();
      // The construct's own annotations (config hashes) stay.
      const before = plain.find((x) => x.o.kind === o.kind && x.o.metadata.name === o.metadata.name)!.t.metadata.annotations ?? {};
      for (const [k, v] of Object.entries(before)) if (k.startsWith('scalecharts.io/')) expect(t.metadata.annotations[k], what).toBe(v);
    }
  });

  it('changes nothing without the props', () => {
    for (const { t } of templates(synth((chart) => DATASTORES[name](chart, {})))) {
      expect(t.spec.imagePullSecrets).toBeUndefined();
      expect(t.metadata.labels['example.com/team']).toBeUndefined();
    }
  });

  it('refuses bad names, reserved labels and annotations, naming the property', () => {
    const refuse = (extra: Record<string, unknown>) => () => build((chart) => DATASTORES[name](chart, extra));
    expectValidationError(refuse({ imagePullSecrets: ['Reg'] }), { path: 'test/db', property: 'imagePullSecrets[0]', value: 'Reg' });
    expectValidationError(refuse({ podLabels: { 'app.kubernetes.io/name': 'x' } }), { path: 'test/db', property: 'podLabels.app.kubernetes.io/name', value: 'x' });
    expectValidationError(refuse({ podLabels: { 'scalecharts.io/role': 'primary' } }), { path: 'test/db', property: 'podLabels.scalecharts.io/role', value: 'primary' });
    expectValidationError(refuse({ podLabels: { team: 'a b' } }), { path: 'test/db', property: 'podLabels.team', value: 'a b' });
    expectValidationError(refuse({ podAnnotations: { 'scalecharts.io/config-hash': 'x' } }), { path: 'test/db', property: 'podAnnotations.scalecharts.io/config-hash', value: 'x' });
    expectValidationError(refuse({ podAnnotations: { ok: 1 } }), { path: 'test/db', property: 'podAnnotations.ok', value: 1 });
  });
});
