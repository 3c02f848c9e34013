import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples';
import { synthApp } from './harness/synth';

describe('examples', () => {
  it.each(Object.keys(EXAMPLES))('%s synthesizes objects that pass strict schemas and the kube-linter checks', (name) => {
    // synthApp validates every object (schema + lint) and throws on the first problem.
    const objects = synthApp((app) => EXAMPLES[name](app));
    expect(objects.length).toBeGreaterThan(0);
    const names = objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`);
    expect(new Set(names).size, 'no two objects share kind, namespace and name').toBe(names.length);
  });
});
