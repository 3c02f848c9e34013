import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PostgresConnectionInfo, RedisConnectionInfo, SecretKeyRef } from './connections';
import { ValidationError } from './errors';
import { checkInteger } from './validate';

/**
 * Typed KEDA (`keda.sh/v1alpha1`) triggers for queue-depth scaling. Metadata field names follow KEDA 2.16's scaler
 * documentation (keda.sh/docs/2.16/scalers/<type>); numbers are strings there, as KEDA expects.
 */

/** Redis endpoint: a RedisHA's connection (Sentinel scalers), or a plain address with an optional password Secret. */
export type RedisEndpoint =
  | { readonly redis: RedisConnectionInfo }
  | { readonly address: string; readonly passwordSecret?: SecretKeyRef };

/**
 * Pending entries (XPENDING) of a consumer group, or its lag (XINFO GROUPS, Redis 7+: the only Redis Streams mode
 * that can scale to zero). Type `redis-streams`, or `redis-sentinel-streams` when given a RedisHA connection.
 */
export type RedisStreamsTrigger = {
  readonly type: 'redis-streams';
  readonly stream: string;
  readonly consumerGroup: string;
  /** Target pending entries per replica. @default 5 (KEDA's default) */
  readonly pendingEntriesCount?: number;
  /** Target lag per replica; switches the trigger to lag mode. @default not set (pending entries) */
  readonly lagCount?: number;
} & RedisEndpoint;

/** Length of a Redis list (LLEN). Type `redis`, or `redis-sentinel` with a RedisHA connection. */
export type RedisListTrigger = {
  readonly type: 'redis-list';
  readonly list: string;
  /** Target list length per replica. @default 5 (KEDA's default) */
  readonly listLength?: number;
} & RedisEndpoint;

/** A count query on PostgreSQL, e.g. `SELECT count(*) FROM jobs WHERE state = 'queued'`. */
export interface PostgresTrigger {
  readonly type: 'postgresql';
  readonly query: string;
  /** Target query value per replica. */
  readonly targetQueryValue: number;
  /** The database; KEDA connects directly to the primary (a count query is not worth a pooler slot). */
  readonly postgres: PostgresConnectionInfo;
  /** @default `disable` (in-cluster traffic; set `require` with TLS) */
  readonly sslmode?: 'disable' | 'require' | 'verify-full';
}

/** RabbitMQ queue length or message rate. */
export interface RabbitMqTrigger {
  readonly type: 'rabbitmq';
  readonly queueName: string;
  /** Secret key holding the AMQP/HTTP URL with credentials (`amqp://user:pass@host:5672/vhost`). */
  readonly hostSecret: SecretKeyRef;
  /** @default `QueueLength` */
  readonly mode?: 'QueueLength' | 'MessageRate';
  /** Target messages (or messages/s) per replica. @default 20 */
  readonly value?: number;
}

/** AWS SQS approximate queue depth. */
export interface SqsTrigger {
  readonly type: 'aws-sqs-queue';
  readonly queueURL: string;
  readonly awsRegion: string;
  /** Target messages per replica. @default 5 (KEDA's default) */
  readonly queueLength?: number;
  /**
   * `podIdentity`: the KEDA operator's AWS identity (IRSA / EKS Pod Identity); or access keys from Secrets.
   * @default `{ podIdentity: 'aws' }`
   */
  readonly auth?: { readonly podIdentity: 'aws' } | { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

/** Any Prometheus query, e.g. the application's own `queue_depth` gauge (seed 004: "ingest ... queue depth metrics"). */
export interface PrometheusTrigger {
  readonly type: 'prometheus';
  readonly serverAddress: string;
  readonly query: string;
  /** Target value per replica. */
  readonly threshold: number;
}

export type QueueTrigger = RedisStreamsTrigger | RedisListTrigger | PostgresTrigger | RabbitMqTrigger | SqsTrigger | PrometheusTrigger;

/** A trigger as KEDA takes it, plus the TriggerAuthentication it needs. */
export interface CompiledTrigger {
  readonly type: string;
  readonly metadata: Record<string, string>;
  readonly secretTargetRef: ReadonlyArray<{ readonly parameter: string; readonly name: string; readonly key: string }>;
  readonly podIdentity?: string;
  /** Whether this trigger can report 0 so the workload may scale to zero. */
  readonly canScaleToZero: boolean;
}

export function compileTrigger(scope: Construct, property: string, t: QueueTrigger): CompiledTrigger {
  const need = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ValidationError(scope, `${property}.${field}`, value, `is required for a ${t.type} trigger (a non-empty string)`);
    }
    return value;
  };
  const count = (field: string, value: number | undefined, fallback: number): string =>
    String(checkInteger(scope, `${property}.${field}`, value ?? fallback, { min: 1 }));
  switch (t.type) {
    case 'redis-streams': {
      need('stream', t.stream);
      need('consumerGroup', t.consumerGroup);
      if (t.lagCount !== undefined && t.pendingEntriesCount !== undefined) {
        throw new ValidationError(scope, `${property}.lagCount`, t.lagCount, 'choose lagCount or pendingEntriesCount, not both');
      }
      const target: Record<string, string> = t.lagCount !== undefined
        ? { lagCount: count('lagCount', t.lagCount, 5) }
        : { pendingEntriesCount: count('pendingEntriesCount', t.pendingEntriesCount, 5) };
      const endpoint = redisEndpoint(scope, property, t);
      return {
        type: endpoint.sentinel ? 'redis-sentinel-streams' : 'redis-streams',
        metadata: { ...endpoint.metadata, stream: t.stream, consumerGroup: t.consumerGroup, ...target },
        secretTargetRef: endpoint.secrets,
        canScaleToZero: t.lagCount !== undefined,
      };
    }
    case 'redis-list': {
      need('list', t.list);
      const endpoint = redisEndpoint(scope, property, t);
      return {
        type: endpoint.sentinel ? 'redis-sentinel' : 'redis',
        metadata: { ...endpoint.metadata, listName: t.list, listLength: count('listLength', t.listLength, 5) },
        secretTargetRef: endpoint.secrets,
        canScaleToZero: true,
      };
    }
    case 'postgresql': {
      need('query', t.query);
      const p = t.postgres;
      if (!p) throw new ValidationError(scope, `${property}.postgres`, p, 'is required: the PostgresCluster connection info');
      return {
        type: 'postgresql',
        metadata: {
          host: p.readWriteHost, port: String(p.port), dbName: p.database, userName: p.user, sslmode: t.sslmode ?? 'disable',
          query: t.query, targetQueryValue: count('targetQueryValue', t.targetQueryValue, 1),
        },
        secretTargetRef: [{ parameter: 'password', name: p.passwordSecret.secretName, key: p.passwordSecret.key }],
        canScaleToZero: true,
      };
    }
    case 'rabbitmq':
      need('queueName', t.queueName);
      if (!t.hostSecret) throw new ValidationError(scope, `${property}.hostSecret`, t.hostSecret, 'is required: the Secret key with the AMQP URL');
      return {
        type: 'rabbitmq',
        metadata: { queueName: t.queueName, mode: t.mode ?? 'QueueLength', value: count('value', t.value, 20) },
        secretTargetRef: [{ parameter: 'host', name: t.hostSecret.secretName, key: t.hostSecret.key }],
        canScaleToZero: true,
      };
    case 'aws-sqs-queue': {
      need('queueURL', t.queueURL);
      need('awsRegion', t.awsRegion);
      if (!/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[A-Za-z0-9_-]+(\.fifo)?$/.test(t.queueURL)) {
        throw new ValidationError(scope, `${property}.queueURL`, t.queueURL, 'must be an SQS queue URL: https://sqs.<region>.amazonaws.com/<account>/<queue>');
      }
      const auth = t.auth ?? { podIdentity: 'aws' as const };
      return {
        type: 'aws-sqs-queue',
        metadata: { queueURL: t.queueURL, awsRegion: t.awsRegion, queueLength: count('queueLength', t.queueLength, 5) },
        secretTargetRef: 'podIdentity' in auth ? [] : [
          { parameter: 'awsAccessKeyID', name: auth.accessKeyId.secretName, key: auth.accessKeyId.key },
          { parameter: 'awsSecretAccessKey', name: auth.secretAccessKey.secretName, key: auth.secretAccessKey.key },
        ],
        podIdentity: 'podIdentity' in auth ? auth.podIdentity : undefined,
        canScaleToZero: true,
      };
    }
    case 'prometheus':
      need('serverAddress', t.serverAddress);
      need('query', t.query);
      if (!(typeof t.threshold === 'number' && t.threshold > 0)) {
        throw new ValidationError(scope, `${property}.threshold`, t.threshold, 'is required for a prometheus trigger (a positive number)');
      }
      return {
        type: 'prometheus',
        metadata: { serverAddress: t.serverAddress, query: t.query, threshold: String(t.threshold) },
        secretTargetRef: [],
        canScaleToZero: true,
      };
    default:
      throw new ValidationError(scope, `${property}.type`, (t as { type?: unknown }).type,
        'must be one of "redis-streams", "redis-list", "postgresql", "rabbitmq", "aws-sqs-queue", "prometheus"');
  }
}

function redisEndpoint(scope: Construct, property: string, t: RedisEndpoint): {
  sentinel: boolean; metadata: Record<string, string>; secrets: CompiledTrigger['secretTargetRef'];
} {
  if ('redis' in t && t.redis) {
    const r = t.redis;
    return {
      sentinel: true,
      metadata: { addresses: r.sentinelHosts.map((h) => `${h}:${r.sentinelPort}`).join(','), sentinelMaster: r.masterName },
      secrets: [
        { parameter: 'password', name: r.passwordSecret.secretName, key: r.passwordSecret.key },
        ...(r.sentinelPasswordSecret ? [{ parameter: 'sentinelPassword', name: r.sentinelPasswordSecret.secretName, key: r.sentinelPasswordSecret.key }] : []),
      ],
    };
  }
  const plain = t as { address?: string; passwordSecret?: SecretKeyRef };
  if (typeof plain.address !== 'string' || !/^[a-z0-9.-]+:\d{1,5}$/i.test(plain.address)) {
    throw new ValidationError(scope, `${property}.address`, plain.address, 'is required without `redis`: "host:port"');
  }
  return {
    sentinel: false,
    metadata: { address: plain.address },
    secrets: plain.passwordSecret ? [{ parameter: 'password', name: plain.passwordSecret.secretName, key: plain.passwordSecret.key }] : [],
  };
}

export function createTriggerAuthentication(scope: Construct, id: string, name: string, labels: Record<string, string>, t: CompiledTrigger): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name, labels },
    spec: {
      ...(t.secretTargetRef.length ? { secretTargetRef: t.secretTargetRef.map((r) => ({ ...r })) } : {}),
      ...(t.podIdentity ? { podIdentity: { provider: t.podIdentity } } : {}),
    },
  });
}
