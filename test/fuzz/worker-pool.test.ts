import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Presets, WorkerPool, WorkerPoolProps } from '../../lib';
import { find, findAll, K8sObject } from '../harness/synth';
import {
  check, configMounts, corrupt, mostly, dnsName, env, image, opt, podFields, port, preset, probes, props, referencedAccounts, resources, secretEnv, sometimes, synthOrRefuse,
} from './support';

const queueName = fc.constantFrom('jobs', 'jobs-dlq', 'media:transcode', 'bad queue', 'other');
const positive = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(5e-7, 0.5, 2.5, 0, -1));
const trigger = fc.oneof(
  props({ type: fc.constant('redis-streams'), address: sometimes(fc.constantFrom('redis.shop.svc:6379', 'redis:6379', '10.0.0.1:6379')), consumerGroup: sometimes(fc.constantFrom('g', 'workers')), stream: opt(queueName), lagCount: opt(fc.integer({ min: 0, max: 50 })), pendingEntriesCount: opt(fc.integer({ min: 0, max: 50 })), activation: opt(fc.integer({ min: 0, max: 5 })) }),
  props({ type: fc.constant('redis-list'), address: sometimes(fc.constantFrom('redis.shop.svc:6379', 'redis:6379')), list: opt(queueName), listLength: opt(fc.integer({ min: 0, max: 50 })), activation: opt(fc.integer({ min: 0, max: 5 })) }),
  props({ type: fc.constant('prometheus'), serverAddress: sometimes(fc.constantFrom('http://prometheus.monitoring.svc:9090', 'http://prometheus:9090')), query: sometimes(fc.constantFrom('sum(queue_depth)', '')), threshold: sometimes(positive), activation: opt(positive) }),
  props({ type: fc.constant('rabbitmq'), hostSecret: sometimes(props({ secretName: sometimes(dnsName), key: sometimes(fc.constantFrom('url', '')) })), queueName: opt(queueName), mode: opt(fc.constantFrom('QueueLength', 'MessageRate')), protocol: opt(fc.constantFrom('auto', 'amqp', 'http')), value: opt(positive) }),
  props({ type: fc.constant('aws-sqs-queue'), queueURL: sometimes(fc.constantFrom('https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', 'jobs')), awsRegion: sometimes(fc.constantFrom('eu-west-1', 'us-east-1')), queueLength: opt(fc.integer({ min: 0, max: 50 })) }),
  fc.constant({ type: 'kafka' }),
);

const fields = {
  image,
  queue: sometimes(queueName),
  name: opt(dnsName),
  deadLetterQueue: opt(queueName),
  maxDeliveryAttempts: opt(mostly(fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, 200))),
  scaling: opt(props({
    triggers: opt(fc.array(trigger, { maxLength: 2 })),
    minReplicas: opt(fc.integer({ min: 0, max: 10 })),
    maxReplicas: opt(fc.integer({ min: 1, max: 40 })),
    scaleToZero: opt(fc.boolean()),
    pollingIntervalSeconds: opt(fc.integer({ min: 0, max: 4000 })),
    cooldownPeriodSeconds: opt(fc.integer({ min: 0, max: 100_000 })),
    cpuUtilization: opt(fc.integer({ min: 0, max: 120 })),
  })),
  resources: opt(resources),
  terminationGracePeriodSeconds: opt(mostly(fc.integer({ min: 1, max: 600 }), fc.constantFrom(0, 100_000))),
  preStop: opt(mostly<readonly string[]>(fc.constant(['/bin/drain']), fc.constantFrom([], ['']))),
  metricsPort: opt(port),
  serviceMonitor: opt(fc.boolean()),
  alerts: opt(fc.oneof(fc.boolean(), props({ lagGrowingMinutes: opt(fc.integer({ min: 0, max: 2000 })), queueDepthMetric: opt(fc.constantFrom('queue_depth', 'queue-depth')), deadLetterThreshold: opt(fc.integer({ min: 0, max: 5 })) }))),
  disruptionBudget: opt(fc.boolean()),
  appMode: opt(mostly(fc.constant('worker'), fc.constant('api'))),
  env: opt(env),
  secretEnv: opt(secretEnv),
  configMounts: opt(configMounts),
  runAsUser: opt(mostly(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(-5, 0, 2 ** 31, 2 ** 32))),
  readOnlyRootFilesystem: opt(fc.boolean()),
  probes: opt(probes),
  ...podFields,
};
const workerProps = corrupt(props(fields), Object.keys(fields));

describe('fuzz: WorkerPool', () => {
  it('gives a ValidationError naming the property, or valid objects: one scaler, min <= max, replicas under an autoscaler at its floor', () => {
    let rendered = 0;
    let refused = 0;
    check(fc.tuple(workerProps, fc.option(preset, { nil: undefined })), ([p, pr]) => {
      const result = synthOrRefuse((chart) => {
        if (pr) Presets.apply(chart, pr as never);
        referencedAccounts(chart, p);
        new WorkerPool(chart, 'media', p as unknown as WorkerPoolProps);
      });
      if (result.length > 0 && 'kind' in result[0]) {
        rendered++;
        const objects = result as K8sObject[];
        const scalers = findAll(objects, 'ScaledObject').length + findAll(objects, 'HorizontalPodAutoscaler').length;
        const deployment = find(objects, 'Deployment');
        // KEDA or an HPA (the Deployment starts at its floor, checked by the invariants) or a fixed count (development
        // tier): never two owners of the replica count, and always a count to start from.
        expect(scalers).toBeLessThanOrEqual(1);
        expect(deployment.spec.replicas).toBeTypeOf('number');
        const env = deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
        expect(env.filter((e) => e.name === 'APP_MODE')).toEqual([{ name: 'APP_MODE', value: 'worker' }]);
      } else refused++;
    });
    if (process.env.FUZZ_DEBUG) console.log({ rendered, refused });
    expect(rendered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
