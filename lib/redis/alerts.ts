/** The PrometheusRule alerts of a RedisHA (split out of redis-ha.ts). */
import { REDIS } from '../defaults';
import type { AlertRule } from '../monitoring';

export interface RedisAlertInput {
  readonly redisService: string;
  readonly sentinelService: string;
  readonly namespace?: string;
  readonly masterName: string;
  readonly replicas: number;
  readonly quorum: number;
}

/** The alerts of one RedisHA, on redis_exporter metrics (labels `service`, `namespace` set by the Prometheus Operator). */
export function redisAlerts(a: RedisAlertInput): AlertRule[] {
  const ns = a.namespace ? `,namespace="${a.namespace}"` : '';
  const redis = `service="${a.redisService}"${ns}`;
  const sentinel = `service="${a.sentinelService}"${ns}`;
  return [
    {
      alert: 'RedisMasterMissing',
      expr: `count by (namespace) (redis_up{${redis}}) unless on (namespace) count by (namespace) (redis_instance_info{${redis},role="master"})`,
      for: '1m', severity: 'critical',
      summary: `No Redis master in ${a.redisService}`,
      description: 'Redis pods are scraped but none reports role master: writes fail. Check the Sentinels (SENTINEL MASTER) and the redis-start logs.',
    },
    {
      alert: 'RedisMultipleMasters',
      expr: `count by (namespace) (redis_instance_info{${redis},role="master"}) > 1`,
      for: '1m', severity: 'critical',
      summary: `More than one Redis master in ${a.redisService}`,
      description: 'Two pods accept writes; the Sentinels should demote one. Writes to the demoted one are lost.',
    },
    {
      alert: 'RedisReplicasDisconnected',
      expr: `sum by (namespace) (redis_connected_slaves{${redis}}) < ${a.replicas}`,
      for: '5m', severity: 'warning',
      summary: `Fewer than ${a.replicas} replicas connected to the Redis master of ${a.redisService}`,
      description: 'A replica is down or out of sync: one more failure can lose data or block writes (min-replicas-to-write).',
    },
    {
      alert: 'RedisSentinelQuorumLost',
      expr: `min by (namespace) (redis_sentinel_master_ckquorum_status{${sentinel},master_name="${a.masterName}"}) == 0`
        + ` or count by (namespace) (redis_up{${sentinel}} == 1) < ${a.quorum}`,
      for: '2m', severity: 'critical',
      summary: `Sentinels of ${a.masterName} can't reach quorum ${a.quorum}`,
      description: 'Too few Sentinels agree or are up: a failed master would not be replaced.',
    },
    {
      alert: 'RedisMemoryNearMaxmemory',
      expr: `max by (namespace, pod) (redis_memory_used_bytes{${redis}} / (redis_memory_max_bytes{${redis}} > 0)) > ${REDIS.memoryAlertRatio}`,
      for: '10m', severity: 'warning',
      summary: `Redis memory above ${Math.round(REDIS.memoryAlertRatio * 100)} % of maxmemory in ${a.redisService}`,
      description: 'Redis is at its maxmemory and evicts keys under its maxmemory-policy (noeviction: refuses writes). Raise resources.limits.memory.',
    },
  ];
}
