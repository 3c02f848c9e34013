import { App, Chart } from 'cdk8s';
import { PostgresCluster, Presets, RedisHA, StatelessService, TIERS, Tier, connectPostgres, connectRedis } from '../lib';

/**
 * Sorcha (seed 003): stateless services that scale freely behind the API gateway, stateful ones kept small, Postgres
 * streaming replication (wal_level=replica, 3 senders, 3 slots, pg_basebackup), Redis with AOF and
 * requirepass/masterauth behind Sentinel, and the note's three environment tiers.
 *
 * Out of scope: MongoDB (Register, Validator reads) — scalecharts has no MongoDB construct; Wallet's key volume is
 * replaced by keys from a Secret (the note's "external key vault" advice).
 */
export const SORCHA_STATELESS = ['api-gateway', 'blueprint', 'tenant', 'validator', 'peer'] as const;

export function sorchaTier(app: App, tier: Tier): Chart {
  const chart = new Chart(app, `sorcha-${tier}`, { namespace: `sorcha-${tier}` });
  Presets.apply(chart, TIERS[tier]);
  const db = new PostgresCluster(chart, 'sorcha-db', {
    database: 'sorcha',
    user: 'sorcha',
  });
  const redis = new RedisHA(chart, 'sorcha-redis', {});
  for (const id of SORCHA_STATELESS) {
    const service = new StatelessService(chart, id, { image: `ghcr.io/example/sorcha-${id}:1.0.0` });
    // SignalR backplane, DataProtection keys and sessions live in Redis.
    connectRedis(service, redis);
  }
  // Stateful: the Wallet keeps its encryption keys in a Secret (key vault) so instances can scale; it owns Postgres.
  const wallet = new StatelessService(chart, 'wallet', {
    image: 'ghcr.io/example/sorcha-wallet:1.0.0',
    envFrom: { secrets: ['sorcha-wallet-keys'] },
  });
  connectPostgres(wallet, db);
  return chart;
}

export function sorcha(app: App): Chart {
  return sorchaTier(app, 'small-production');
}
