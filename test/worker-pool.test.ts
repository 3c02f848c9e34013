import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, RedisHA, WorkerPool, WorkerPoolProps, connectPostgres } from '../lib';
import { expectValidationError } from './harness/errors';
import { build, container, find, findAll, K8sObject, synth } from './harness/synth';

const IMAGE = 'ghcr.io/example/media:4.1.0';

function pool(props: Partial<WorkerPoolProps> = {}, extra?: (chart: Chart) => Partial<WorkerPoolProps>): K8sObject[] {
  return synth((chart) => new WorkerPool(chart, 'media', { image: IMAGE, queue: 'media-jobs', ...props, ...(extra ? extra(chart) : {}) }));
}

function redis(chart: Chart): RedisHA {
  return new RedisHA(chart, 'queue', { passwordSecret: { secretName: 'queue-redis', key: 'password' } });
}

const envOf = (objects: K8sObject[]) => Object.fromEntries(container(find(objects, 'Deployment', 'media')).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));

describe('WorkerPool defaults', () => {
  const objects = pool();

  it('runs APP_MODE=worker with queue, DLQ and delivery attempts, no Service', () => {
    expect(envOf(objects)).toMatchObject({ APP_MODE: 'worker', QUEUE_NAME: 'media-jobs', DEAD_LETTER_QUEUE: 'media-jobs-dlq', MAX_DELIVERY_ATTEMPTS: '5' });
    expect(findAll(objects, 'Service')).toHaveLength(0);
  });

  it('falls back to a CPU HPA at 60 % without a queue trigger, 1–20 replicas', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'media');
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 20 });
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    expect(findAll(objects, 'ScaledObject')).toHaveLength(0);
  });

  it('gives in-flight jobs 120 s, is hardened and has a PDB', () => {
    const d = find(objects, 'Deployment', 'media');
    expect(d.spec.replicas).toBeUndefined();
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(container(d).securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(container(d).resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2000m', memory: '1Gi' } });
    expect(find(objects, 'PodDisruptionBudget', 'media').spec.maxUnavailable).toBe(1);
  });
});

describe('WorkerPool on KEDA', () => {
  it('scales on a RedisHA stream through Sentinel, credentials in a TriggerAuthentication, no HPA of its own', () => {
    const objects = synth((chart) => {
      const r = redis(chart);
      new WorkerPool(chart, 'media', {
        image: IMAGE, queue: 'media-jobs',
        scaling: { triggers: [{ type: 'redis-streams', redis: r.connection, stream: 'media-jobs', consumerGroup: 'media-workers', pendingEntriesCount: 10 }], maxReplicas: 30 },
      });
    });
    expect(findAll(objects, 'HorizontalPodAutoscaler').filter((h) => h.metadata.name === 'media')).toHaveLength(0);
    const so = find(objects, 'ScaledObject', 'media');
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'media' },
      minReplicaCount: 1, maxReplicaCount: 30, pollingInterval: 30, cooldownPeriod: 300,
    });
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe('redis-sentinel-streams');
    expect(trigger.metadata).toMatchObject({ stream: 'media-jobs', consumerGroup: 'media-workers', pendingEntriesCount: '10', sentinelMaster: 'queue' });
    expect(trigger.metadata.addresses.split(',')).toHaveLength(3);
    expect(trigger.authenticationRef).toEqual({ name: 'media-trigger-0' });
    const auth = find(objects, 'TriggerAuthentication', 'media-trigger-0');
    expect(auth.spec.secretTargetRef).toContainEqual({ parameter: 'password', name: 'queue-redis', key: 'password' });
    expect(JSON.stringify(so)).not.toMatch(/password"\s*:\s*"[^"]/);
  });

  it.each([
    [{ type: 'redis-list', address: 'redis:6379', list: 'jobs', listLength: 20 }, 'redis', { address: 'redis:6379', listName: 'jobs', listLength: '20' }],
    [{ type: 'rabbitmq', queueName: 'jobs', hostSecret: { secretName: 'amqp', key: 'url' } }, 'rabbitmq', { queueName: 'jobs', mode: 'QueueLength', value: '20' }],
    [{ type: 'aws-sqs-queue', queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'eu-west-1' }, 'aws-sqs-queue', { queueLength: '5', awsRegion: 'eu-west-1' }],
    [{ type: 'prometheus', serverAddress: 'http://prometheus.monitoring:9090', query: 'sum(queue_depth{queue="jobs"})', threshold: 100 }, 'prometheus', { threshold: '100' }],
  ] as const)('compiles a %s trigger', (trigger, type, metadata) => {
    const objects = pool({ scaling: { triggers: [trigger as never] } });
    const so = find(objects, 'ScaledObject', 'media');
    expect(so.spec.triggers[0].type).toBe(type);
    expect(so.spec.triggers[0].metadata).toMatchObject(metadata);
  });

  it('SQS uses the operator pod identity by default', () => {
    const objects = pool({ scaling: { triggers: [{ type: 'aws-sqs-queue', queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'eu-west-1' }] } });
    expect(find(objects, 'TriggerAuthentication').spec).toEqual({ podIdentity: { provider: 'aws' } });
  });

  it('wires a PostgreSQL count query and the container env from a PostgresCluster', () => {
    const objects = synth((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } } });
      const w = new WorkerPool(chart, 'media', {
        image: IMAGE, queue: 'media-jobs',
        scaling: { triggers: [{ type: 'postgresql', postgres: db.connection, query: "SELECT count(*) FROM jobs WHERE state = 'queued'", targetQueryValue: 25 }] },
      });
      connectPostgres(w, db, { readReplicas: false });
    });
    const trigger = find(objects, 'ScaledObject', 'media').spec.triggers[0];
    expect(trigger.metadata).toMatchObject({ host: 'db-rw', port: '5432', dbName: 'app', userName: 'app', targetQueryValue: '25' });
    expect(find(objects, 'TriggerAuthentication').spec.secretTargetRef).toEqual([{ parameter: 'password', name: 'a', key: 'password' }]);
    expect(envOf(objects)).toMatchObject({ PGHOST: 'db-pooler', DB_MAX_CONNECTIONS: '50' });
  });

  it('scales to zero only when asked, on lag', () => {
    const objects = pool({ scaling: { scaleToZero: true, triggers: [{ type: 'redis-streams', address: 'redis:6379', stream: 's', consumerGroup: 'g', lagCount: 3 }] } });
    const so = find(objects, 'ScaledObject', 'media');
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.triggers[0].metadata).toMatchObject({ lagCount: '3' });
    expect(so.spec.triggers[0].metadata.pendingEntriesCount).toBeUndefined();
  });

  it('passes HPA behaviour through and adds preStop', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 600 } };
    const objects = pool({ preStop: ['/app/drain', '--wait'], scaling: { behavior, triggers: [{ type: 'redis-list', address: 'redis:6379', list: 'jobs' }] } });
    expect(find(objects, 'ScaledObject').spec.advanced).toEqual({ horizontalPodAutoscalerConfig: { behavior } });
    expect(container(find(objects, 'Deployment')).lifecycle).toEqual({ preStop: { exec: { command: ['/app/drain', '--wait'] } } });
  });

  it('adds alerts for lag, DLQ and the ceiling', () => {
    const objects = pool({ alerts: { deadLetterThreshold: 3 }, scaling: { triggers: [{ type: 'redis-list', address: 'redis:6379', list: 'jobs' }] } });
    const rules = find(objects, 'PrometheusRule').spec.groups[0].rules;
    expect(rules.map((r: K8sObject) => r.alert)).toEqual(['WorkerConsumerLagGrowing', 'WorkerDeadLetterQueueNotEmpty', 'WorkerPoolAtMaxReplicas']);
    expect(rules[1].expr).toBe('max(queue_depth{queue="media-jobs-dlq"}) >= 3');
    expect(rules[2].expr).toContain('keda-hpa-media');
  });
});

describe('WorkerPool validation', () => {
  const make = (props: Partial<WorkerPoolProps>) => () => build((chart) => new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs', ...props }));

  it('max < min', () => {
    expectValidationError(make({ scaling: { minReplicas: 5, maxReplicas: 4 } }), { path: 'test/media', property: 'scaling.minReplicas', value: 5, allowed: /maxReplicas \(4\)/ });
  });
  it('scale-to-zero with the CPU fallback', () => {
    expectValidationError(make({ scaling: { scaleToZero: true } }), { path: 'test/media', property: 'scaling.scaleToZero', value: true, allowed: /CPU HPA/ });
  });
  it('scale-to-zero on pending entries', () => {
    expectValidationError(make({ scaling: { scaleToZero: true, triggers: [{ type: 'redis-streams', address: 'r:6379', stream: 's', consumerGroup: 'g' }] } }),
      { path: 'test/media', property: 'scaling.scaleToZero', allowed: /lagCount/ });
  });
  it('a trigger without the fields it needs', () => {
    expectValidationError(make({ scaling: { triggers: [{ type: 'redis-streams', address: 'r:6379', stream: 's' } as never] } }),
      { path: 'test/media', property: 'scaling.triggers[0].consumerGroup', allowed: /required for a redis-streams trigger/ });
    expectValidationError(make({ scaling: { triggers: [{ type: 'redis-list', list: 'jobs' } as never] } }),
      { path: 'test/media', property: 'scaling.triggers[0].address' });
    expectValidationError(make({ scaling: { triggers: [{ type: 'prometheus', serverAddress: 'http://p:9090', query: 'q' } as never] } }),
      { path: 'test/media', property: 'scaling.triggers[0].threshold' });
    expectValidationError(make({ scaling: { triggers: [{ type: 'aws-sqs-queue', queueURL: 'jobs', awsRegion: 'eu-west-1' }] } }),
      { path: 'test/media', property: 'scaling.triggers[0].queueURL', value: 'jobs' });
    expectValidationError(make({ scaling: { triggers: [{ type: 'kafka' } as never] } }), { path: 'test/media', property: 'scaling.triggers[0].type', value: 'kafka' });
  });
  it('a DLQ equal to the main queue', () => {
    expectValidationError(make({ deadLetterQueue: 'jobs' }), { path: 'test/media', property: 'deadLetterQueue', value: 'jobs', allowed: /differ/ });
  });
  it('a non-worker app mode, a bad queue name, a ServiceMonitor without a metrics port', () => {
    expectValidationError(make({ appMode: 'api' }), { path: 'test/media', property: 'appMode', value: 'api' });
    expectValidationError(make({ queue: 'bad queue' }), { path: 'test/media', property: 'queue', value: 'bad queue' });
    expectValidationError(make({ serviceMonitor: true }), { path: 'test/media', property: 'serviceMonitor', value: true });
    expectValidationError(make({ env: { QUEUE_NAME: 'other' } }), { path: 'test/media', property: 'env.QUEUE_NAME' });
  });
});
