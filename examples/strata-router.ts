import { App, Chart } from 'cdk8s';
import { PostgresCluster, RedisHA, STATELESS, StatelessService, connectPostgres, connectRedis, planCapacity } from '../lib';

/**
 * StrataRouter (seed 002): 3–20 replicas at CPU 70 % / memory 80 % (the note's pair, where our default is seed 000's
 * 60 / 75), requests 500m / 256Mi, limits 2000m / 1Gi, container port 8000 behind port 80, a shared Redis cache and
 * Postgres read replicas; the replica floor is sized from traffic with the note's formula.
 */
export const STRATA_TRAFFIC = { requestsPerDay: 5_000_000 } as const;

export function strataRouter(app: App): Chart {
  const chart = new Chart(app, 'strata-router', { namespace: 'strata' });
  // 5M/day × 3 peak / 15k per instance = 0.012 instances: the HA floor of 3 decides ("Start with 3 instances").
  const plan = planCapacity(STRATA_TRAFFIC);
  const router = new StatelessService(chart, 'stratarouter', {
    image: 'stratarouter/stratarouter:2.4.0',
    port: 8000,
    servicePort: 80,
    autoscaling: {
      minReplicas: plan.replicas,
      maxReplicas: STATELESS.maxReplicas,
      cpuUtilization: STATELESS.alternativeCpuUtilization,
      memoryUtilization: STATELESS.alternativeMemoryUtilization,
    },
    resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2000m', memory: '1Gi' } },
  });
  const db = new PostgresCluster(chart, 'stratarouter-db', {
    database: 'stratarouter',
    replicas: 2, // database_replicas=[replica-1, replica-2]
  });
  connectPostgres(router, db);
  const cache = new RedisHA(chart, 'redis', {});
  connectRedis(router, cache);
  return chart;
}
