import { App, Chart } from 'cdk8s';
import { PostgresCluster, RedisHA, ROLE_MAX_REPLICAS, StatelessService, connectPostgres, connectRedis } from '../lib';

/**
 * Caracal (seed 001): five services with their default ports and HPA ceilings (API/STS/Audit/Coordinator 8,
 * Gateway 16 — protected traffic fans through it), two replicas each by default, Postgres for durable writes
 * (pool-ratio alert at 0.9) and Redis for streams and revocation invalidation.
 */
export const CARACAL_SERVICES = [
  { id: 'api', port: 3000, maxReplicas: ROLE_MAX_REPLICAS.api, postgres: true, redis: false },
  { id: 'sts', port: 8080, maxReplicas: ROLE_MAX_REPLICAS.sts, postgres: false, redis: true },
  { id: 'gateway', port: 8081, maxReplicas: ROLE_MAX_REPLICAS.gateway, postgres: false, redis: true },
  { id: 'audit', port: 9090, maxReplicas: ROLE_MAX_REPLICAS.audit, postgres: true, redis: true },
  { id: 'coordinator', port: 4000, maxReplicas: ROLE_MAX_REPLICAS.coordinator, postgres: true, redis: true },
] as const;

/** "The chart defaults to two replicas for API, STS, Gateway, Audit, and Coordinator" (seed 001). */
export const CARACAL_DEFAULT_REPLICAS = 2;

export function caracal(app: App): Chart {
  const chart = new Chart(app, 'caracal', { namespace: 'caracal' });
  const db = new PostgresCluster(chart, 'caracal-db', {
    database: 'caracal',
    metrics: true, // PostgresPoolSaturation fires at pool ratio ≥ 0.9 (seed 001)
  });
  const redis = new RedisHA(chart, 'caracal-redis', { metrics: true });
  for (const s of CARACAL_SERVICES) {
    const service = new StatelessService(chart, s.id, {
      image: `ghcr.io/example/caracal-${s.id}:0.9.0`,
      port: s.port,
      autoscaling: { minReplicas: CARACAL_DEFAULT_REPLICAS, maxReplicas: s.maxReplicas },
      serviceMonitor: true,
    });
    if (s.postgres) connectPostgres(service, db, { readReplicas: false });
    if (s.redis) connectRedis(service, redis);
  }
  return chart;
}
