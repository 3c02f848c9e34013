import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  Knobs, PostgresCluster, Presets, RedisHA, WORKERS, WorkerPool, WorkerPoolProps, connectPostgres, connectRedis, kedaDesiredReplicas,
} from '../lib';
import { throwIfInvalid } from '../lib/core/problems';
import { expectValidationError } from './harness/errors';
import { build, container, find, findAll, K8sObject, synth } from './harness/synth';

const IMAGE = 'ghcr.io/example/media:4.1.0';
const REDIS_ADDRESS = 'redis.default.svc:6379';

function pool(props: Partial<WorkerPoolProps> = {}): K8sObject[] {
  return synth((chart) => new WorkerPool(chart, 'media', { image: IMAGE, queue: 'media-jobs', ...props }));
}

function redis(chart: Chart): RedisHA {
  return new RedisHA(chart, 'queue', { passwordSecret: { secretName: 'queue-redis', key: 'password' } });
}

const envOf = (objects: K8sObject[]) => Object.fromEntries(container(find(objects, 'Deployment', 'media')).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
const scaledObject = (objects: K8sObject[]) => find(objects, 'ScaledObject', 'media');

describe('WorkerPool defaults', () => {
  const objects = pool();

  it('runs APP_MODE=worker with queue, DLQ and delivery attempts, and no Service', () => {
    expect(envOf(objects)).toEqual({
      APP_MODE: 'worker', QUEUE_NAME: 'media-jobs', DEAD_LETTER_QUEUE: 'media-jobs-dlq', MAX_DELIVERY_ATTEMPTS: '5',
      HEARTBEAT_FILE: '/tmp/heartbeat', HEARTBEAT_MAX_AGE_SECONDS: '60',
    });
    expect(findAll(objects, 'Service')).toHaveLength(0);
    expect(container(find(objects, 'Deployment')).ports).toBeUndefined();
  });

  it('falls back to a CPU-only HPA at 60 %, 1–20 replicas, without KEDA', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'media');
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 20, scaleTargetRef: { kind: 'Deployment', name: 'media' } });
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    expect(findAll(objects, 'ScaledObject')).toHaveLength(0);
    expect(findAll(objects, 'TriggerAuthentication')).toHaveLength(0);
  });

  it('gives in-flight jobs 120 s, starts at the scaler floor, is hardened, spread and has a PDB', () => {
    const d = find(objects, 'Deployment', 'media');
    const pod = d.spec.template.spec;
    expect(d.spec.replicas).toBe(1);
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container(d).lifecycle).toBeUndefined();
    expect(container(d).securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container(d).resources).toEqual({ requests: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '2000m', memory: '1Gi', 'ephemeral-storage': '512Mi' } });
    expect(pod.topologySpreadConstraints.map((c: K8sObject) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(find(objects, 'PodDisruptionBudget', 'media').spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(d.metadata.labels['app.kubernetes.io/component']).toBe('worker');
  });

  it('takes its numbers from lib/defaults.ts', () => {
    expect(WORKERS).toMatchObject({ minReplicas: 1, maxReplicas: 20, cpuUtilization: 60, terminationGracePeriodSeconds: 120, maxDeliveryAttempts: 5, pollingIntervalSeconds: 30, cooldownPeriodSeconds: 300 });
  });

  it('declares Helm knobs for image, replicas, CPU target and resources', () => {
    const app = Testing.app();
    const w = new WorkerPool(new Chart(app, 'c', { namespace: 'x' }), 'media', { image: IMAGE, queue: 'q' });
    expect(Knobs.of(w).map((k) => [k.key, k.default])).toEqual([
      ['image.repository', 'ghcr.io/example/media'], ['image.tag', '4.1.0'],
      ['scaling.minReplicas', 1], ['scaling.maxReplicas', 20], ['scaling.cpuUtilization', 60],
      ['resources.requests.cpu', '500m'], ['resources.requests.memory', '256Mi'], ['resources.limits.cpu', '2000m'], ['resources.limits.memory', '1Gi'],
    ]);
  });
});

describe('WorkerPool on KEDA', () => {
  it('scales on a RedisHA stream through Sentinel: namespace-qualified Sentinels, Secrets by reference, env wired, no HPA of its own', () => {
    let sentinels: readonly string[] = [];
    const objects = synth((chart) => {
      const r = redis(chart);
      sentinels = r.connection.sentinelHosts;
      const w = new WorkerPool(chart, 'media', {
        image: IMAGE, queue: 'media-jobs',
        scaling: { triggers: [{ type: 'redis-streams', redis: r.connection, consumerGroup: 'media-workers', pendingEntriesCount: 10 }], maxReplicas: 30 },
      });
      connectRedis(w, r); // the same variables again: a no-op
    });
    expect(findAll(objects, 'HorizontalPodAutoscaler').filter((h) => h.spec.scaleTargetRef.name === 'media')).toHaveLength(0);
    const so = scaledObject(objects);
    expect(so.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'media' },
      pollingInterval: 30, cooldownPeriod: 300, minReplicaCount: 1, maxReplicaCount: 30,
      triggers: [{
        type: 'redis-sentinel-streams',
        metadata: {
          addresses: sentinels.map((h) => `${h}.default.svc:26379`).join(','), sentinelMaster: 'queue',
          stream: 'media-jobs', consumerGroup: 'media-workers', pendingEntriesCount: '10',
        },
        authenticationRef: { name: 'media-trigger-0' },
      }],
    });
    expect(sentinels).toHaveLength(3);
    expect(find(objects, 'TriggerAuthentication', 'media-trigger-0').spec).toEqual({
      secretTargetRef: [
        { parameter: 'password', name: 'queue-redis', key: 'password' },
        { parameter: 'sentinelPassword', name: 'queue-redis', key: 'password' },
      ],
    });
    const env = container(find(objects, 'Deployment', 'media')).env.map((e: K8sObject) => e.name);
    expect(env).toEqual(['APP_MODE', 'QUEUE_NAME', 'DEAD_LETTER_QUEUE', 'MAX_DELIVERY_ATTEMPTS', 'CONSUMER_GROUP', 'REDIS_SENTINELS', 'REDIS_MASTER_NAME', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'HEARTBEAT_FILE', 'HEARTBEAT_MAX_AGE_SECONDS']);
    expect(envOf(objects)).toMatchObject({ CONSUMER_GROUP: 'media-workers', REDIS_MASTER_NAME: 'queue', REDIS_PASSWORD: { secretKeyRef: { name: 'queue-redis', key: 'password' } } });
    expect(JSON.stringify(objects)).not.toMatch(/password"\s*:\s*"[^"]/);
  });

  it.each([
    ['redis-streams on a plain address', { type: 'redis-streams', address: REDIS_ADDRESS, consumerGroup: 'g', passwordSecret: { secretName: 'r', key: 'p' } },
      'redis-streams', { address: REDIS_ADDRESS, stream: 'media-jobs', consumerGroup: 'g', pendingEntriesCount: '5' }, [{ parameter: 'password', name: 'r', key: 'p' }]],
    ['redis-streams on lag', { type: 'redis-streams', address: REDIS_ADDRESS, stream: 'other', consumerGroup: 'g', lagCount: 7, activation: 2 },
      'redis-streams', { address: REDIS_ADDRESS, stream: 'other', consumerGroup: 'g', lagCount: '7', activationLagCount: '2' }, undefined],
    ['redis-list', { type: 'redis-list', address: '10.0.0.7:6380', listLength: 20, activation: 1 },
      'redis', { address: '10.0.0.7:6380', listName: 'media-jobs', listLength: '20', activationListLength: '1' }, undefined],
    ['rabbitmq', { type: 'rabbitmq', hostSecret: { secretName: 'amqp', key: 'url' } },
      'rabbitmq', { protocol: 'auto', queueName: 'media-jobs', mode: 'QueueLength', value: '20' }, [{ parameter: 'host', name: 'amqp', key: 'url' }]],
    ['rabbitmq message rate', { type: 'rabbitmq', queueName: 'in', hostSecret: { secretName: 'amqp', key: 'url' }, mode: 'MessageRate', protocol: 'http', value: 2.5, activation: 0.5 },
      'rabbitmq', { protocol: 'http', queueName: 'in', mode: 'MessageRate', value: '2.5', activationValue: '0.5' }, [{ parameter: 'host', name: 'amqp', key: 'url' }]],
    ['aws-sqs-queue with keys', { type: 'aws-sqs-queue', queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'eu-west-1', queueLength: 50, auth: { accessKeyId: { secretName: 'aws', key: 'id' }, secretAccessKey: { secretName: 'aws', key: 'secret' } } },
      'aws-sqs-queue', { queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'eu-west-1', queueLength: '50' },
      [{ parameter: 'awsAccessKeyID', name: 'aws', key: 'id' }, { parameter: 'awsSecretAccessKey', name: 'aws', key: 'secret' }]],
    ['prometheus', { type: 'prometheus', serverAddress: 'http://prometheus.monitoring.svc:9090', query: 'sum(queue_depth{queue="jobs"})', threshold: 100 },
      'prometheus', { serverAddress: 'http://prometheus.monitoring.svc:9090', query: 'sum(queue_depth{queue="jobs"})', threshold: '100' }, undefined],
  ] as const)('compiles a %s trigger with KEDA 2.16 field names', (_label, trigger, type, metadata, secrets) => {
    const objects = pool({ scaling: { triggers: [trigger as never] } });
    const [t] = scaledObject(objects).spec.triggers;
    expect(t.type).toBe(type);
    expect(t.metadata).toEqual(metadata);
    if (secrets) {
      expect(t.authenticationRef).toEqual({ name: 'media-trigger-0' });
      expect(find(objects, 'TriggerAuthentication').spec).toEqual({ secretTargetRef: secrets });
    } else {
      expect(t.authenticationRef).toBeUndefined();
      expect(findAll(objects, 'TriggerAuthentication')).toHaveLength(0);
    }
  });

  it('SQS uses the operator pod identity by default', () => {
    const objects = pool({ scaling: { triggers: [{ type: 'aws-sqs-queue', queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'eu-west-1' }] } });
    expect(find(objects, 'TriggerAuthentication').spec).toEqual({ podIdentity: { provider: 'aws' } });
  });

  it('wires a PostgreSQL count query from a PostgresCluster (primary, qualified host, password Secret) next to connectPostgres', () => {
    const objects = synth((chart) => {
      const db = new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } } });
      const w = new WorkerPool(chart, 'media', {
        image: IMAGE, queue: 'media-jobs',
        scaling: { triggers: [{ type: 'postgresql', postgres: db.connection, query: "SELECT count(*) FROM jobs WHERE state = 'queued'", targetQueryValue: 25 }] },
      });
      connectPostgres(w, db, { readReplicas: false });
    }, { namespace: 'shop' });
    const trigger = scaledObject(objects).spec.triggers[0];
    expect(trigger.metadata).toEqual({
      host: 'db-rw.shop.svc', port: '5432', dbName: 'app', userName: 'app', sslmode: 'disable',
      query: "SELECT count(*) FROM jobs WHERE state = 'queued'", targetQueryValue: '25',
    });
    expect(find(objects, 'TriggerAuthentication').spec.secretTargetRef).toEqual([{ parameter: 'password', name: 'a', key: 'password' }]);
    expect(envOf(objects)).toMatchObject({ PGHOST: 'db-pooler', DB_MAX_CONNECTIONS: '50' });
  });

  it('scales to zero only when asked: minReplicaCount 0, or idleReplicaCount 0 below a floor it wakes to', () => {
    const lag = { type: 'redis-streams', address: REDIS_ADDRESS, consumerGroup: 'g', lagCount: 3 } as const;
    expect(scaledObject(pool({ scaling: { triggers: [lag] } })).spec).toMatchObject({ minReplicaCount: 1 });
    const zero = scaledObject(pool({ scaling: { scaleToZero: true, triggers: [lag] } })).spec;
    expect(zero).toMatchObject({ minReplicaCount: 0, triggers: [{ metadata: { lagCount: '3', activationLagCount: '0' } }] });
    expect(zero.idleReplicaCount).toBeUndefined();
    expect(zero.triggers[0].metadata.pendingEntriesCount).toBeUndefined();
    const idle = scaledObject(pool({ scaling: { scaleToZero: true, minReplicas: 2, triggers: [lag] } })).spec;
    expect(idle).toMatchObject({ idleReplicaCount: 0, minReplicaCount: 2 });
  });

  it('passes polling, cooldown and HPA behaviour through and adds preStop', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 600 } };
    const objects = pool({
      preStop: ['/app/drain', '--wait'], terminationGracePeriodSeconds: 600,
      scaling: { behavior, pollingIntervalSeconds: 10, cooldownPeriodSeconds: 60, triggers: [{ type: 'redis-list', address: REDIS_ADDRESS }] },
    });
    expect(scaledObject(objects).spec).toMatchObject({ pollingInterval: 10, cooldownPeriod: 60, advanced: { horizontalPodAutoscalerConfig: { behavior } } });
    const d = find(objects, 'Deployment');
    expect(container(d).lifecycle).toEqual({ preStop: { exec: { command: ['/app/drain', '--wait'] } } });
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(600);
  });

  it('adds alerts for lag, DLQ and the ceiling, scoped to the namespace, with its name declared for the chart writer', () => {
    let w: WorkerPool | undefined;
    const objects = synth((chart) => {
      w = new WorkerPool(chart, 'media', { image: IMAGE, queue: 'media-jobs', alerts: { deadLetterThreshold: 3, atMaxReplicasMinutes: 20 }, scaling: { triggers: [{ type: 'redis-list', address: REDIS_ADDRESS }] } });
    }, { namespace: 'jobs' });
    const rules = find(objects, 'PrometheusRule').spec.groups[0].rules;
    expect(rules.map((r: K8sObject) => [r.alert, r.for])).toEqual([['WorkerConsumerLagGrowing', '10m'], ['WorkerDeadLetterQueueNotEmpty', '5m'], ['WorkerPoolAtMaxReplicas', '20m']]);
    expect(rules[0].expr).toBe('sum(deriv(keda_scaler_metrics_value{scaledObject="media"}[5m])) > 0');
    expect(rules[1].expr).toBe('max(queue_depth{queue="media-jobs-dlq",namespace="jobs"}) >= 3');
    expect(rules[2].expr).toBe('(kube_horizontalpodautoscaler_status_current_replicas{namespace="jobs"} >= kube_horizontalpodautoscaler_spec_max_replicas{namespace="jobs"})'
      + ' and on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_info{scaletargetref_kind="Deployment",scaletargetref_name="media",namespace="jobs"}');
    expect(Knobs.referencesOf(w!).map((r) => [r.path.join('.'), r.name])).toEqual([['spec.groups.0.rules.0.expr', 'media'], ['spec.groups.0.rules.2.expr', 'media']]);
  });

  it('without KEDA, watches lag on the application gauge', () => {
    const rules = find(pool({ alerts: { queueDepthMetric: 'jobs_waiting' } }), 'PrometheusRule').spec.groups[0].rules;
    expect(rules[0].expr).toBe('sum(deriv(jobs_waiting{queue="media-jobs",namespace="default"}[5m])) > 0');
    expect(rules[1].expr).toBe('max(jobs_waiting{queue="media-jobs-dlq",namespace="default"}) >= 1');
  });

  it('exposes a metrics port on its own Service with a ServiceMonitor and a liveness probe', () => {
    const objects = pool({ metricsPort: 9100, serviceMonitor: true });
    expect(find(objects, 'Service', 'media-metrics').spec.ports).toEqual([{ name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(find(objects, 'ServiceMonitor').spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    // Liveness follows the heartbeat contract by default (issue 18); the metrics port is opt-in (test/worker-liveness.test.ts).
    expect(container(find(objects, 'Deployment')).livenessProbe.exec.command[0]).toBe('/bin/sh');
  });

  it('declares knobs for replicas and each trigger target', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'x' });
    const w = new WorkerPool(chart, 'media', {
      image: IMAGE, queue: 'q',
      scaling: { scaleToZero: true, minReplicas: 2, triggers: [{ type: 'redis-streams', address: REDIS_ADDRESS, consumerGroup: 'g', lagCount: 8 }, { type: 'redis-list', address: REDIS_ADDRESS, list: 'l' }] },
    });
    const knobs = Object.fromEntries(Knobs.of(w).map((k) => [k.key, k]));
    expect(knobs['scaling.minReplicas']).toMatchObject({ default: 2, schema: { minimum: 1 }, targets: [{ path: ['spec', 'minReplicaCount'] }] });
    expect(knobs['scaling.triggers.t0.lagCount']).toMatchObject({ default: '8', schema: { pattern: '^[1-9][0-9]*$' } });
    expect(knobs['scaling.triggers.t1.listLength'].default).toBe('5');
    expect(knobs['scaling.cpuUtilization']).toBeUndefined();
    // The version label of every object follows image.tag, as for StatelessService.
    const labelled = knobs['image.tag'].targets.filter((t) => t.path.join('.') === 'metadata.labels.app.kubernetes.io/version').map((t) => t.object.kind);
    expect(labelled).toEqual(['Deployment', 'ScaledObject', 'PodDisruptionBudget', 'NetworkPolicy']);
    expect(knobs['resources.requests.cpu'].lessOrEqualTo).toBe('resources.limits.cpu');
  });

  it('takes the replica ceiling from a preset', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, { autoscaling: { maxReplicas: 6 } });
      new WorkerPool(chart, 'media', { image: IMAGE, queue: 'q', scaling: { triggers: [{ type: 'redis-list', address: REDIS_ADDRESS }] } });
    });
    expect(scaledObject(objects).spec.maxReplicaCount).toBe(6);
  });
});

describe('kedaDesiredReplicas', () => {
  it('is ceil(metric / target) within the bounds; below activation a pool at zero stays there', () => {
    expect(kedaDesiredReplicas(35, 10, { minReplicaCount: 1, maxReplicaCount: 8 })).toBe(4);
    expect(kedaDesiredReplicas(500, 10, { minReplicaCount: 1, maxReplicaCount: 8 })).toBe(8);
    expect(kedaDesiredReplicas(0, 10, { minReplicaCount: 1, maxReplicaCount: 8 })).toBe(1);
    expect(kedaDesiredReplicas(0, 10, { minReplicaCount: 0, maxReplicaCount: 8, scaleToZero: true })).toBe(0);
    expect(kedaDesiredReplicas(2, 10, { minReplicaCount: 3, maxReplicaCount: 8, scaleToZero: true, activation: 2 })).toBe(0);
    expect(kedaDesiredReplicas(3, 10, { minReplicaCount: 3, maxReplicaCount: 8, scaleToZero: true, activation: 2 })).toBe(3);
  });
});

describe('WorkerPool validation', () => {
  const make = (props: Partial<WorkerPoolProps>, opts: { namespace?: string } = { namespace: 'default' }) => () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: opts.namespace });
    new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs', ...props });
    throwIfInvalid(chart);
    Testing.synth(chart);
  };
  const streams = { type: 'redis-streams', address: REDIS_ADDRESS, consumerGroup: 'g' } as const;

  it('max < min', () => {
    expectValidationError(make({ scaling: { minReplicas: 5, maxReplicas: 4 } }), { path: 'test/media', property: 'scaling.minReplicas', value: 5, allowed: /maxReplicas \(4\)/ });
    expectValidationError(make({ scaling: { scaleToZero: true, minReplicas: 5, maxReplicas: 4, triggers: [{ ...streams, lagCount: 1 }] } }), { path: 'test/media', property: 'scaling.minReplicas', value: 5 });
  });
  it('a zero floor without scale-to-zero', () => {
    expectValidationError(make({ scaling: { minReplicas: 0, triggers: [streams] } }), { path: 'test/media', property: 'scaling.minReplicas', value: 0, allowed: />= 1/ });
  });
  it('scale-to-zero with the CPU fallback', () => {
    expectValidationError(make({ scaling: { scaleToZero: true } }), { path: 'test/media', property: 'scaling.scaleToZero', value: true, allowed: /CPU HPA cannot scale to zero/ });
  });
  it('scale-to-zero on pending entries, which never wake a pool at zero', () => {
    expectValidationError(make({ scaling: { scaleToZero: true, triggers: [{ type: 'redis-list', address: REDIS_ADDRESS }, streams] } }),
      { path: 'test/media', property: 'scaling.scaleToZero', allowed: /triggers\[1\].*XPENDING.*lagCount/ });
  });
  it('a CPU target next to queue triggers', () => {
    expectValidationError(make({ scaling: { cpuUtilization: 70, triggers: [streams] } }), { path: 'test/media', property: 'scaling.cpuUtilization', value: 70, allowed: /fallback|without triggers/ });
  });
  it('a trigger without the fields it needs', () => {
    const t = (trigger: unknown) => make({ scaling: { triggers: [trigger as never] } });
    expectValidationError(t({ type: 'redis-streams', address: REDIS_ADDRESS }), { path: 'test/media', property: 'scaling.triggers[0].consumerGroup', allowed: /required for a redis-streams trigger/ });
    expectValidationError(t({ type: 'redis-list', list: 'jobs' }), { path: 'test/media', property: 'scaling.triggers[0].address' });
    expectValidationError(t({ type: 'postgresql', query: 'SELECT 1' }), { path: 'test/media', property: 'scaling.triggers[0].postgres' });
    expectValidationError(t({ type: 'postgresql', query: 'SELECT 1', postgres: { readWriteHost: 'db-rw', port: 5432, database: 'a', user: 'a', passwordSecret: { secretName: 'a', key: 'p' } } }),
      { path: 'test/media', property: 'scaling.triggers[0].targetQueryValue', allowed: /positive number/ });
    expectValidationError(t({ type: 'rabbitmq', queueName: 'jobs' }), { path: 'test/media', property: 'scaling.triggers[0].hostSecret' });
    expectValidationError(t({ type: 'prometheus', serverAddress: 'http://p.monitoring:9090', query: 'q' }), { path: 'test/media', property: 'scaling.triggers[0].threshold' });
    expectValidationError(t({ type: 'aws-sqs-queue', awsRegion: 'eu-west-1' }), { path: 'test/media', property: 'scaling.triggers[0].queueURL' });
    expectValidationError(t({ type: 'kafka' }), { path: 'test/media', property: 'scaling.triggers[0].type', value: 'kafka' });
  });
  it('malformed trigger fields', () => {
    const t = (trigger: unknown) => make({ scaling: { triggers: [trigger as never] } });
    expectValidationError(t({ ...streams, lagCount: 5, pendingEntriesCount: 5 }), { path: 'test/media', property: 'scaling.triggers[0].lagCount', allowed: /not both/ });
    expectValidationError(t({ ...streams, activation: 3 }), { path: 'test/media', property: 'scaling.triggers[0].activation', allowed: /lagCount only/ });
    expectValidationError(t({ ...streams, pendingEntriesCount: 2.5 }), { path: 'test/media', property: 'scaling.triggers[0].pendingEntriesCount', value: 2.5 });
    expectValidationError(t({ type: 'rabbitmq', hostSecret: { secretName: 'a', key: 'u' }, mode: 'MessageRate', protocol: 'amqp' }), { path: 'test/media', property: 'scaling.triggers[0].protocol', allowed: /management API/ });
    expectValidationError(t({ type: 'aws-sqs-queue', queueURL: 'jobs', awsRegion: 'eu-west-1' }), { path: 'test/media', property: 'scaling.triggers[0].queueURL', value: 'jobs' });
    expectValidationError(t({ type: 'aws-sqs-queue', queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', awsRegion: 'us-east-1' }), { path: 'test/media', property: 'scaling.triggers[0].awsRegion', allowed: /eu-west-1/ });
    expectValidationError(t({ type: 'prometheus', serverAddress: 'http://prometheus:9090', query: 'q', threshold: 1 }), { path: 'test/media', property: 'scaling.triggers[0].serverAddress', allowed: /namespace/ });
  });
  it('host names KEDA cannot resolve from its own namespace', () => {
    expectValidationError(make({ scaling: { triggers: [{ ...streams, address: 'redis:6379' }] } }), { path: 'test/media', property: 'scaling.triggers[0].address', value: 'redis:6379', allowed: /namespace/ });
    const chart = new Chart(Testing.app(), 'shared');
    const r = redis(chart);
    expectValidationError(make({ scaling: { triggers: [{ type: 'redis-list', redis: r.connection }] } }, {}),
      { path: 'test/media', property: 'scaling.triggers[0].redis', allowed: /Chart's namespace/ });
  });
  it('a DLQ equal to the main queue, or scaled on', () => {
    expectValidationError(make({ deadLetterQueue: 'jobs' }), { path: 'test/media', property: 'deadLetterQueue', value: 'jobs', allowed: /differ/ });
    expectValidationError(make({ scaling: { triggers: [{ type: 'redis-list', address: REDIS_ADDRESS, list: 'jobs-dlq' }] } }),
      { path: 'test/media', property: 'scaling.triggers[0]', value: 'jobs-dlq', allowed: /dead-letter/ });
  });
  it('two Redis deployments wired into one pool', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'default' });
    const a = new RedisHA(chart, 'a', { passwordSecret: { secretName: 'a', key: 'p' } });
    const b = new RedisHA(chart, 'b', { passwordSecret: { secretName: 'b', key: 'p' } });
    expectValidationError(() => {
      new WorkerPool(chart, 'media', {
        image: IMAGE, queue: 'jobs', scaling: { triggers: [{ type: 'redis-list', redis: a.connection }, { type: 'redis-list', redis: b.connection, list: 'other' }] },
      });
      throwIfInvalid(chart); // errors are reported at synth, all together
    }, { path: 'test/media', property: 'env.REDIS_SENTINELS', allowed: /conflicts/ });
  });
  it('a non-worker app mode, bad names, a ServiceMonitor without a metrics port, a taken env name, a bad preStop', () => {
    expectValidationError(make({ appMode: 'api' }), { path: 'test/media', property: 'appMode', value: 'api' });
    expectValidationError(make({ queue: 'bad queue' }), { path: 'test/media', property: 'queue', value: 'bad queue' });
    expectValidationError(make({ serviceMonitor: true }), { path: 'test/media', property: 'serviceMonitor', value: true });
    expectValidationError(make({ env: { QUEUE_NAME: 'other' } }), { path: 'test/media', property: 'env.QUEUE_NAME' });
    expectValidationError(make({ preStop: [] }), { path: 'test/media', property: 'preStop' });
    expectValidationError(make({ alerts: { queueDepthMetric: 'queue-depth' } }), { path: 'test/media', property: 'alerts.queueDepthMetric', value: 'queue-depth' });
    expectValidationError(make({ maxDeliveryAttempts: 0 }), { path: 'test/media', property: 'maxDeliveryAttempts', value: 0 });
  });
  it('rejects nothing valid by accident (build helper sanity)', () => {
    expect(() => build((chart) => new WorkerPool(chart, 'media', { image: IMAGE, queue: 'jobs' }))).not.toThrow();
  });
});
