import { App, Chart } from 'cdk8s';
import { DB_POOL, PostgresCluster, StatelessService } from '../lib';

/**
 * Orders: an API in front of the Postgres tier of seeds 000/003/004 — a primary, two streaming read replicas
 * and a PgBouncer pooler in transaction mode. The API writes through the pooler and sends reporting reads to
 * the replicas; its per-pod pool is min(50, pooler clients / API pods) (seed 000), so the whole API tier can
 * never queue more clients than the pooler accepts, and its direct replica reads stay within each replica's
 * max_connections minus the headroom (seed 004).
 *
 * Create the three Secrets before applying (docs/postgres.md):
 *   kubectl -n orders create secret generic orders-db-superuser --from-literal=password="$(openssl rand -base64 24)"
 *   kubectl -n orders create secret generic orders-db-replication --from-literal=password="$(openssl rand -base64 24)"
 *   kubectl -n orders create secret generic orders-db-app --from-literal=password="$(openssl rand -base64 24)"
 */
export function orders(app: App): Chart {
  const chart = new Chart(app, 'orders', { namespace: 'orders' });
  const db = new PostgresCluster(chart, 'orders-db', {
    credentials: {
      superuser: { secretName: 'orders-db-superuser' },
      replication: { secretName: 'orders-db-replication' },
      app: { secretName: 'orders-db-app' },
    },
    database: 'orders',
    user: 'orders_api',
    maxConnections: 200,
    storage: { size: '100Gi' },
    metrics: true,
    networkPolicy: true,
  });

  const api = new StatelessService(chart, 'orders-api', {
    image: 'ghcr.io/example/orders-api:3.2.0',
    appMode: 'api',
    ingress: { host: 'orders.example.com', tlsSecretName: 'orders-tls' },
    serviceMonitor: true,
  });
  const c = db.connection;
  api.addEnv('DB_HOST', c.poolerHost);
  api.addEnv('DB_READ_HOST', c.readOnlyHost ?? c.readWriteHost);
  api.addEnv('DB_PORT', String(c.port));
  api.addEnv('DB_NAME', c.database);
  api.addEnv('DB_USER', c.user);
  api.addEnv('DB_MAX_CONNECTIONS', String(Math.min(DB_POOL.maxPerPod, Math.floor(c.poolerMaxClientConnections / api.maxReplicas))));
  // Replica reads bypass the pooler: budget them as if every API pod landed on the same replica (seed 004).
  api.addEnv('DB_READ_MAX_CONNECTIONS', String(Math.min(DB_POOL.maxPerPod, Math.floor((c.maxConnections - c.reservedConnections) / api.maxReplicas))));
  api.addSecretEnv('DB_PASSWORD', c.passwordSecret);
  return chart;
}
