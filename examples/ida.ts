import { App, Chart } from 'cdk8s';
import { PostgresCluster, RedisHA, RpcPool, StatelessService, connectPostgres, connectRedis, connectRpc } from '../lib';

/**
 * IDA (seed 000): a stateless API (3+ replicas, HPA CPU 60 % / memory 75 %, 250–500m / 256–512Mi per pod at
 * ~100 RPS) on Postgres sized vertically first (4 vCPU / 16 GiB) with 2 read replicas for analytics and dashboard
 * reads and PgBouncer in transaction pooling (per-pod pool min(50, connections / pods)), autovacuum with scale
 * factor 0.05; Redis with 1 primary + 2 replicas and Sentinel, allkeys-lru; and a blockchain RPC pool of 3 URLs,
 * round-robin with failover, WebSocket for DIDRegistry / RevocationRegistry events and a gas-price alert at 2×.
 */
export function ida(app: App): Chart {
  const chart = new Chart(app, 'ida', { namespace: 'ida' });
  const db = new PostgresCluster(chart, 'ida-db', {
    database: 'ida',
    replicas: 2,
    metrics: true,
    networkPolicy: true,
  });
  const redis = new RedisHA(chart, 'ida-redis', { maxmemoryPolicy: 'allkeys-lru' });
  const rpc = new RpcPool(chart, 'ida-rpc', {
    upstreams: [
      { name: 'self-hosted-archive', urlSecret: { secretName: 'ida-rpc-urls', key: 'primary' }, wsUrlSecret: { secretName: 'ida-rpc-urls', key: 'primary-ws' }, weight: 3 },
      { name: 'provider-a', urlSecret: { secretName: 'ida-rpc-urls', key: 'provider-a' } },
      { name: 'provider-b', urlSecret: { secretName: 'ida-rpc-urls', key: 'provider-b' } },
    ],
    monitoring: { gasPrice: { metric: 'eth_gas_price_wei' } },
  });

  const api = new StatelessService(chart, 'ida-api', {
    image: 'ghcr.io/example/ida-api:1.8.0',
    appMode: 'api',
    // Steady state at ~100 RPS: 250–500m CPU and 256–512Mi per pod (seed 000).
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '512Mi' } },
    serviceMonitor: true,
  });
  connectPostgres(api, db, { reads: 'replicas' });
  connectRedis(api, redis);
  connectRpc(api, rpc);
  return chart;
}
