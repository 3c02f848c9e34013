import { describe, expect, it } from 'vitest';
import { acmeStore } from '../examples/acme';
import { container, find, synthApp } from './harness/synth';

describe('a published preset package (examples/acme-presets)', () => {
  const objects = synthApp((app) => { acmeStore(app); });

  it('applies registry, labels, annotations, tolerations and node selector to every workload', () => {
    for (const name of ['storefront', 'checkout']) {
      const d = find(objects, 'Deployment', name);
      expect(container(d).image).toMatch(/^registry\.acme\.internal\/mirror\/acme\//);
      expect(d.metadata.labels['acme.io/cost-centre']).toBe('platform');
      expect(d.spec.template.metadata.annotations['acme.io/log-format']).toBe('json');
      expect(d.spec.template.spec.tolerations).toEqual([{ key: 'acme.io/pool', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }]);
      expect(d.spec.template.spec.nodeSelector).toEqual({ 'acme.io/pool': 'apps' });
      expect(container(d).resources).toEqual({ requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '512Mi' } });
    }
  });

  it('takes targets and ceilings from the production preset; the call site still wins', () => {
    const storefront = find(objects, 'HorizontalPodAutoscaler', 'storefront').spec;
    expect(storefront.minReplicas).toBe(3);
    expect(storefront.maxReplicas).toBe(12);
    expect(storefront.metrics.map((m: { resource: { target: { averageUtilization: number } } }) => m.resource.target.averageUtilization)).toEqual([70, 80]);
    expect(find(objects, 'HorizontalPodAutoscaler', 'checkout').spec.maxReplicas).toBe(30);
  });
});
