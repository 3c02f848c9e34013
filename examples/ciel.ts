import { App, Chart } from 'cdk8s';
import { PostgresCluster, RedisHA, StatelessService, WorkerPool, connectPostgres, connectRedis } from '../lib';

/**
 * Ciel (seed 004): one image in two process modes — `APP_MODE=api` web instances and `APP_MODE=worker` queue
 * consumers scaled on queue depth (KEDA, Redis Streams through Sentinel) with a dead-letter queue — sharing a
 * Postgres whose pools are budgeted over both (sum of instance pools under max_connections with headroom) and a
 * Redis used as a short-TTL cache. Migrations run once before new pods take traffic.
 */
export function ciel(app: App): Chart {
  const chart = new Chart(app, 'ciel', { namespace: 'ciel' });
  const db = new PostgresCluster(chart, 'ciel-db', {
    database: 'ciel',
    replicas: 1, // reads go to the primary: "core API paths currently assume primary write/read consistency"
    metrics: true,
  });
  const redis = new RedisHA(chart, 'ciel-redis', { maxmemoryPolicy: 'allkeys-lru' });

  const api = new StatelessService(chart, 'ciel-api', {
    image: 'ghcr.io/example/ciel:2.3.0',
    appMode: 'api',
    env: { FEED_CACHE_TTL_SECONDS: '30' },
    migration: { command: ['/app/ciel', 'migrate', 'up'] },
    serviceMonitor: true,
  });
  connectPostgres(api, db, { readReplicas: false });
  connectRedis(api, redis);

  const workers = new WorkerPool(chart, 'ciel-media-worker', {
    image: 'ghcr.io/example/ciel:2.3.0',
    queue: 'media-jobs',
    deadLetterQueue: 'media-jobs-dlq',
    maxDeliveryAttempts: 5,
    metricsPort: 9100,
    serviceMonitor: true,
    alerts: true,
    scaling: {
      maxReplicas: 12,
      triggers: [{ type: 'redis-streams', redis: redis.connection, stream: 'media-jobs', consumerGroup: 'media-workers', pendingEntriesCount: 10 }],
    },
  });
  connectPostgres(workers, db, { readReplicas: false });
  connectRedis(workers, redis);
  return chart;
}
