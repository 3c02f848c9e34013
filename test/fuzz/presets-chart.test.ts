import { App, Chart, Testing } from 'cdk8s';
import Ajv, { type ValidateFunction } from 'ajv';
import { Construct } from 'constructs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Presets, RedisHA, StatelessService, ValidationError, ValidationErrors, WorkerPool } from '../../lib';
import { buildHelmChart } from '../../lib/helm';
import { knobJsonSchema } from '../../lib/helm/values';
import { check, corrupt, cpu, hostile, image, memory, opt, port, preset, props, synthOrRefuse } from './support';

const presetKeys = ['autoscaling', 'replicas', 'disruptionBudget', 'resources', 'imageRegistry', 'labels', 'podAnnotations', 'tolerations', 'nodeSelector', 'postgres', 'typo'];

describe('fuzz: presets', () => {
  it('a preset (nested, hostile) is refused naming preset.<field>, or every construct under it renders valid objects', () => {
    let rendered = 0;
    check(fc.tuple(corrupt(preset, presetKeys, 1), fc.option(preset, { nil: undefined }), fc.option(hostile, { nil: undefined, freq: 4 })), ([outer, inner, whole]) => {
      const result = synthOrRefuse((chart) => {
        Presets.apply(chart, (whole ?? outer) as never);
        const team = new Construct(chart, 'team');
        if (inner) Presets.apply(team, inner as never);
        new StatelessService(team, 'api', { image: 'api:1.0' });
        new WorkerPool(team, 'media', { image: 'ghcr.io/example/worker:2.0', queue: 'jobs' });
        new RedisHA(team, 'cache', { passwordSecret: { secretName: 'c', key: 'p' } });
      });
      if (result.length > 0 && 'kind' in result[0]) rendered++;
      else for (const e of result as ValidationError[]) if (e.constructPath === 'test' || e.constructPath === 'test/team') expect(e.property).toMatch(/^preset/);
    });
    expect(rendered).toBeGreaterThan(0);
  });
});

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();

describe('fuzz: chart writer', () => {
  it('a chart from any accepted construct takes its own defaults (values.schema.json) and is written, or the construct is refused', () => {
    const service = props({
      image, port: opt(port), metricsPort: opt(port),
      resources: opt(props({ requests: opt(props({ cpu: opt(cpu), memory: opt(memory) })), limits: opt(props({ cpu: opt(cpu), memory: opt(memory) })) })),
      autoscaling: opt(fc.oneof(fc.constant(false), props({ minReplicas: opt(fc.integer({ min: 1, max: 5 })), maxReplicas: opt(fc.integer({ min: 1, max: 30 })) }))),
      ingress: opt(props({ host: fc.constantFrom('api.example.com', '*.example.com') })),
    });
    const worker = props({
      image,
      scaling: opt(props({
        maxReplicas: opt(fc.integer({ min: 1, max: 30 })),
        triggers: opt(fc.array(props({ type: fc.constant('prometheus'), serverAddress: fc.constant('http://prometheus.monitoring.svc:9090'), query: fc.constant('sum(q)'), threshold: fc.oneof(fc.double({ min: 1e-9, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 100 })) }), { maxLength: 2 })),
      })),
    });
    let written = 0;
    check(fc.tuple(service, worker, fc.option(fc.constantFrom('registry.internal:5000/mirror', 'registry.example.com'), { nil: undefined })), ([s, w, registry]) => {
      const app = new App({ outdir: Testing.app().outdir });
      const chart = new Chart(app, 'shop', { namespace: 'shop' });
      if (registry) Presets.apply(chart, { imageRegistry: registry });
      new StatelessService(chart, 'api', s as never);
      new WorkerPool(chart, 'media', { queue: 'jobs', ...w } as never);
      let built: ReturnType<typeof buildHelmChart>;
      try {
        built = buildHelmChart(app);
      } catch (e) {
        if (e instanceof ValidationError || e instanceof ValidationErrors) return;
        throw e;
      }
      written++;
      // Each value's default against its own schema, as helm checks values.schema.json (schemas cached: few distinct).
      for (const v of built.model.values) {
        const schema = JSON.stringify(knobJsonSchema(v.schema, undefined, v.path));
        let validate = compiled.get(schema);
        if (!validate) compiled.set(schema, validate = ajv.compile(JSON.parse(schema)));
        expect(validate(v.default), `${v.path} = ${JSON.stringify(v.default)}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    });
    expect(written).toBeGreaterThan(0);
  });
});
