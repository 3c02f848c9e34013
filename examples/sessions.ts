import { App, Chart } from 'cdk8s';
import { RedisHA, StatelessService, connectRedis } from '../lib';

/**
 * Session store: a web tier keeping its sessions in Redis with Sentinel failover ("Session state (if any) is stored
 * in Redis", seed 003; OTP / rate-limit / session data, seed 000). The web pods learn the Sentinel addresses, the
 * master name and the password Secret from the RedisHA's typed connection info, never from hand-copied strings.
 *
 * The Redis password is a generated Secret (session-store-password, never in a ConfigMap): the Helm chart creates it
 * per release; for plain manifests `npm run synth` lists the command in dist/sessions.secrets.md.
 */
export function sessions(app: App): Chart {
  const chart = new Chart(app, 'sessions', { namespace: 'sessions' });
  const store = new RedisHA(chart, 'session-store', {
    // Sessions all carry a TTL, so evicting the least recently used under memory pressure is safe (seed 000).
    maxmemoryPolicy: 'allkeys-lru',
    resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
    metrics: true,
  });

  const web = new StatelessService(chart, 'web', { image: 'ghcr.io/example/web:3.1.0' });
  // Sentinel-aware clients (ioredis, redis-py, Lettuce, StackExchange.Redis) take REDIS_SENTINELS plus the master name.
  connectRedis(web, store);
  return chart;
}
