import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples';
import { EPHEMERAL_STORAGE } from '../lib/defaults';
import { withEphemeralStorage } from '../lib/ephemeral-storage';
import { StatelessService, WorkerPool } from '../lib';
import { expectValidationError } from './harness/errors';
import { K8sObject, build, container, find, synth, synthApp } from './harness/synth';

const mib = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

function podSpecs(objects: K8sObject[]): Array<{ name: string; spec: K8sObject }> {
  return objects.filter((o) => o.spec?.template?.spec).map((o) => ({ name: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

describe('ephemeral storage', () => {
  it('every container of every example requests and limits ephemeral storage, its disk emptyDirs included', () => {
    let containers = 0;
    for (const [example, buildApp] of Object.entries(EXAMPLES)) {
      for (const { name, spec } of podSpecs(synthApp((app) => buildApp(app)))) {
        const disk = new Map<string, number>((spec.volumes ?? [])
          .filter((v: K8sObject) => v.emptyDir && v.emptyDir.medium !== 'Memory')
          .map((v: K8sObject) => [v.name, mib(v.emptyDir.sizeLimit ?? EPHEMERAL_STORAGE.unsizedEmptyDir)]));
        let limitSum = 0;
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const req = c.resources?.requests?.['ephemeral-storage'];
          const lim = c.resources?.limits?.['ephemeral-storage'];
          expect(req, `${example} ${name} ${c.name} request`).toBeDefined();
          expect(lim, `${example} ${name} ${c.name} limit`).toBeDefined();
          expect(mib(lim)).toBeGreaterThanOrEqual(mib(req));
          if (spec.containers.includes(c)) limitSum += mib(lim);
          containers++;
        }
        // The pod-level limit (sum over the running containers) covers logs of each plus every disk emptyDir.
        const emptyDirs = [...disk.values()].reduce((a, b) => a + b, 0);
        expect(limitSum, `${example} ${name}`).toBeGreaterThanOrEqual(emptyDirs + spec.containers.length * 50);
      }
    }
    expect(containers).toBeGreaterThan(50);
  });

  it('adds each disk emptyDir once over the regular containers, fully to each init container, never a memory one', () => {
    const mount = (name: string) => ({ name, mountPath: `/${name}` });
    const spec = withEphemeralStorage({
      volumes: [
        { name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
        { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('2Gi') } },
        { name: 'unsized', emptyDir: {} },
      ],
      initContainers: [{ name: 'init', volumeMounts: [mount('scratch'), mount('ram')] }],
      containers: [
        { name: 'a', volumeMounts: [mount('scratch'), mount('ram')] },
        { name: 'b', volumeMounts: [mount('scratch'), mount('unsized')] },
        { name: 'c', resources: { limits: { 'ephemeral-storage': k8s.Quantity.fromString('3Gi') } } },
      ],
    });
    const limit = (c: k8s.Container) => String(c.resources?.limits?.['ephemeral-storage']?.value);
    expect(limit(spec.initContainers![0])).toBe('1280Mi');
    expect(spec.containers.map(limit)).toEqual(['1280Mi', '1280Mi', '3Gi']);
    expect(spec.containers.map((c) => String(c.resources?.requests?.['ephemeral-storage']?.value))).toEqual(['64Mi', '64Mi', '64Mi']);
  });

  it('takes overrides from resources (a request above the default limit raises it) and validates them', () => {
    const objects = synth((chart) => {
      new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0', resources: { requests: { ephemeralStorage: '1Gi' } } });
      new WorkerPool(chart, 'jobs', { image: 'ghcr.io/example/api:1.0.0', queue: 'jobs', resources: { limits: { ephemeralStorage: '2Gi' } } });
    });
    const api = container(find(objects, 'Deployment', 'api'));
    expect(api.resources.requests['ephemeral-storage']).toBe('1Gi');
    expect(api.resources.limits['ephemeral-storage']).toBe('1280Mi');
    const jobs = container(find(objects, 'Deployment', 'jobs'));
    expect(jobs.resources.limits['ephemeral-storage']).toBe('2Gi');
    expect(jobs.resources.requests['ephemeral-storage']).toBe('64Mi');
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', {
      image: 'ghcr.io/example/api:1.0.0', resources: { requests: { ephemeralStorage: '2Gi' }, limits: { ephemeralStorage: '1Gi' } },
    })), { path: 'test/api', property: 'resources.requests.ephemeralStorage', value: '2Gi' });
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', {
      image: 'ghcr.io/example/api:1.0.0', resources: { limits: { ephemeralStorage: 'lots' } },
    })), { path: 'test/api', property: 'resources.limits.ephemeralStorage', value: 'lots' });
  });
});
