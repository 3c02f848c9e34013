import { App, Chart } from 'cdk8s';
import { PostgresCluster, StatelessService, connectPostgres } from '../lib';

/**
 * Orders: an API in front of the Postgres tier of seeds 000/003/004 — a Patroni leader with automatic failover, two
 * streaming read replicas and a PgBouncer pooler in transaction mode. The API writes through the pooler and sends reporting reads to
 * the replicas; its per-pod pool is min(50, pooler clients / API pods) (seed 000), so the whole API tier can
 * never queue more clients than the pooler accepts, and its direct replica reads stay within each replica's
 * max_connections minus the headroom (seed 004).
 *
 * The three database passwords are generated Secrets (orders-db-superuser, -replication, -app): the Helm chart creates
 * them per release; for plain manifests `npm run synth` lists the commands in dist/orders.secrets.md.
 */
export function orders(app: App): Chart {
  const chart = new Chart(app, 'orders', { namespace: 'orders' });
  const db = new PostgresCluster(chart, 'orders-db', {
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
  // PG* env, DATABASE_URL / DATABASE_READ_URL, per-pod pools (DB_MAX_CONNECTIONS, seed 000's min(50, ...)) and
  // the NetworkPolicy allow rule; the connection budget is checked over the whole chart at synth (seed 004).
  // Reporting reads tolerate replica lag, so they opt in to the replicas (DATABASE_READ_URL).
  connectPostgres(api, db, { reads: 'replicas' });
  return chart;
}
