import { App, Chart } from 'cdk8s';
import { PostgresCluster, RedisHA, StatelessService, WorkerPool, connectPostgres, connectRedis } from '../lib';

const IMAGE = 'ghcr.io/example/media:3.2.1';

/**
 * A media pipeline in Ciel's shape (seed 004): one image run as API instances (`APP_MODE=api`) and as dedicated queue
 * consumers (`APP_MODE=worker`) scaled on queue depth, with a dead-letter queue so poison uploads do not block the
 * queue, and idempotent workers (status checks in Postgres) under at-least-once delivery.
 *
 * - uploads: a Redis Stream, consumer group `processors`; scaled on the group's lag, asleep at zero when idle and
 *   woken straight to 2 consumers (KEDA idleReplicaCount). The queue Redis is not a cache: `noeviction`, so a full
 *   Redis refuses new jobs instead of silently dropping queued ones.
 * - transcodes: a Postgres job table, scaled on a count query; long jobs get a 10-minute grace period.
 */
export function media(app: App): Chart {
  const chart = new Chart(app, 'media', { namespace: 'media' });
  const db = new PostgresCluster(chart, 'media-db', {
    database: 'media',
    replicas: 1,
  });
  const queue = new RedisHA(chart, 'media-queue', { maxmemoryPolicy: 'noeviction' });

  const api = new StatelessService(chart, 'media-api', {
    image: IMAGE,
    appMode: 'api',
    ingress: { host: 'media.example.com', tlsSecretName: 'media-tls' },
  });
  connectPostgres(api, db, { readReplicas: false });
  connectRedis(api, queue); // the API produces into the uploads stream

  // QUEUE_NAME, DEAD_LETTER_QUEUE, CONSUMER_GROUP and the REDIS_* Sentinel variables all come from here.
  const processors = new WorkerPool(chart, 'media-processor', {
    image: IMAGE,
    queue: 'uploads',
    maxDeliveryAttempts: 5,
    preStop: ['/app/media', 'drain', '--timeout=100s'], // stop fetching, finish in-flight jobs within the 120 s grace
    metricsPort: 9100,
    serviceMonitor: true,
    alerts: true,
    scaling: {
      scaleToZero: true,
      minReplicas: 2,
      maxReplicas: 12,
      triggers: [{ type: 'redis-streams', redis: queue.connection, consumerGroup: 'processors', lagCount: 10 }],
    },
  });
  connectPostgres(processors, db, { readReplicas: false });

  const transcoder = new WorkerPool(chart, 'media-transcoder', {
    image: IMAGE,
    queue: 'transcode_jobs',
    deadLetterQueue: 'transcode_jobs_failed',
    terminationGracePeriodSeconds: 600,
    resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '4', memory: '4Gi' } },
    alerts: true,
    scaling: {
      maxReplicas: 6,
      triggers: [{ type: 'postgresql', postgres: db.connection, query: "SELECT count(*) FROM transcode_jobs WHERE state = 'queued'", targetQueryValue: 2 }],
    },
  });
  connectPostgres(transcoder, db, { readReplicas: false });
  return chart;
}
