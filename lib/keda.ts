import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PostgresConnectionInfo, RedisConnectionInfo, SecretKeyRef } from './connections';
import { WORKERS } from './defaults';
import { ValidationError } from './errors';
import { checkInteger, checkObjectName } from './validate';

/**
 * Typed KEDA (`keda.sh/v1alpha1`, KEDA 2.16 — the CRDs the tests validate against) triggers for queue-depth scaling.
 * Each trigger's metadata and TriggerAuthentication parameter names are those of the scaler's page under
 * keda.sh/docs/2.16/scalers/ (cited per trigger below). KEDA reads every metadata value as a string.
 *
 * KEDA's operator runs in its own namespace, so it reaches a Service of ours only as `<service>.<namespace>.svc`
 * (keda.sh/docs/2.16/scalers/postgresql: "use a full svc URL as KEDA will need to contact postgresql from a different
 * namespace"); hosts taken from connection info are qualified with the chart's namespace, and plain addresses must
 * already name one.
 */

/**
 * Where the Redis is: a RedisHA's connection (then the Sentinel scalers `redis-sentinel-streams` / `redis-sentinel`),
 * or a plain `host:port` with an optional password Secret.
 */
export type RedisEndpoint =
  | { readonly redis: RedisConnectionInfo; readonly address?: undefined; readonly passwordSecret?: undefined }
  | { readonly address: string; readonly passwordSecret?: SecretKeyRef; readonly redis?: undefined };

/**
 * A consumer group of a Redis Stream (keda.sh/docs/2.16/scalers/redis-streams, redis-sentinel-streams).
 * Pending entries (XPENDING: delivered, not yet acknowledged) by default; `lagCount` switches to the group's lag
 * (XINFO GROUPS `lag`, Redis 7+: entries not yet delivered), the only Redis Streams mode that can wake a pool from zero.
 */
export type RedisStreamsTrigger = {
  readonly type: 'redis-streams';
  /** Stream name (metadata `stream`). @default the pool's `queue` */
  readonly stream?: string;
  /** Consumer group (metadata `consumerGroup`); passed to the workers as `CONSUMER_GROUP`. */
  readonly consumerGroup: string;
  /** Target pending entries per replica (metadata `pendingEntriesCount`). @default 5 (KEDA's default) */
  readonly pendingEntriesCount?: number;
  /** Target lag per replica (metadata `lagCount`); switches the trigger to lag mode. @default not set */
  readonly lagCount?: number;
  /** Lag above which a pool at zero wakes (metadata `activationLagCount`, lag mode only). @default 0 */
  readonly activation?: number;
} & RedisEndpoint;

/** Length of a Redis list, LLEN (keda.sh/docs/2.16/scalers/redis-lists, redis-sentinel-lists). */
export type RedisListTrigger = {
  readonly type: 'redis-list';
  /** List name (metadata `listName`). @default the pool's `queue` */
  readonly list?: string;
  /** Target list length per replica (metadata `listLength`). @default 5 (KEDA's default) */
  readonly listLength?: number;
  /** Length above which a pool at zero wakes (metadata `activationListLength`). @default KEDA's, 0 */
  readonly activation?: number;
} & RedisEndpoint;

/** A count query on PostgreSQL (keda.sh/docs/2.16/scalers/postgresql), e.g. jobs in state `queued`. */
export interface PostgresTrigger {
  readonly type: 'postgresql';
  /** Query returning one number, e.g. `SELECT count(*) FROM jobs WHERE state = 'queued'` (metadata `query`). */
  readonly query: string;
  /** Target query value per replica (metadata `targetQueryValue`). */
  readonly targetQueryValue: number;
  /** Value above which a pool at zero wakes (metadata `activationTargetQueryValue`). @default KEDA's, 0 */
  readonly activation?: number;
  /**
   * The database (a PostgresCluster's `connection`). KEDA connects straight to the primary as the application role:
   * one short connection per poll, inside the cluster's reserved headroom, and no PgBouncer transaction-mode caveats.
   */
  readonly postgres: PostgresConnectionInfo;
  /** libpq sslmode (metadata `sslmode`). @default `disable`, the PostgresCluster serves no TLS */
  readonly sslmode?: 'disable' | 'require' | 'verify-full';
}

/** A RabbitMQ queue (keda.sh/docs/2.16/scalers/rabbitmq-queue). */
export interface RabbitMqTrigger {
  readonly type: 'rabbitmq';
  /** Queue name (metadata `queueName`). @default the pool's `queue` */
  readonly queueName?: string;
  /** Secret key holding the broker URL with credentials, `amqp://user:pass@host:5672/vhost` (TriggerAuthentication `host`). */
  readonly hostSecret: SecretKeyRef;
  /** `QueueLength` (backlog) or `MessageRate` (publish/s, needs the HTTP API) (metadata `mode`). @default `QueueLength` */
  readonly mode?: 'QueueLength' | 'MessageRate';
  /** `amqp`, `http` (management API) or `auto` from the URL (metadata `protocol`). @default `auto` */
  readonly protocol?: 'auto' | 'amqp' | 'http';
  /** Target messages (or messages/s) per replica (metadata `value`). @default 20 */
  readonly value?: number;
  /** Value above which a pool at zero wakes (metadata `activationValue`). @default KEDA's, 0 */
  readonly activation?: number;
}

/** AWS SQS approximate depth, visible + in flight (keda.sh/docs/2.16/scalers/aws-sqs). */
export interface SqsTrigger {
  readonly type: 'aws-sqs-queue';
  /** Queue URL (metadata `queueURL`). */
  readonly queueURL: string;
  /** Region (metadata `awsRegion`). */
  readonly awsRegion: string;
  /** Target messages per replica (metadata `queueLength`). @default 5 (KEDA's default) */
  readonly queueLength?: number;
  /** Messages above which a pool at zero wakes (metadata `activationQueueLength`). @default KEDA's, 0 */
  readonly activation?: number;
  /**
   * `podIdentity: 'aws'`: the KEDA operator's own AWS identity (IRSA / EKS Pod Identity); or an access key pair from
   * Secrets (TriggerAuthentication `awsAccessKeyID`, `awsSecretAccessKey`).
   * @default `{ podIdentity: 'aws' }`
   */
  readonly auth?: { readonly podIdentity: 'aws' } | { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

/** Any Prometheus query (keda.sh/docs/2.16/scalers/prometheus), e.g. the application's own queue-depth gauge. */
export interface PrometheusTrigger {
  readonly type: 'prometheus';
  /** Prometheus URL reachable from KEDA's namespace (metadata `serverAddress`). */
  readonly serverAddress: string;
  /** Query returning one sample (metadata `query`). */
  readonly query: string;
  /** Target value per replica (metadata `threshold`). */
  readonly threshold: number;
  /** Value above which a pool at zero wakes (metadata `activationThreshold`). @default KEDA's, 0 */
  readonly activation?: number;
}

export type QueueTrigger = RedisStreamsTrigger | RedisListTrigger | PostgresTrigger | RabbitMqTrigger | SqsTrigger | PrometheusTrigger;

/** What a trigger needs from the pool it scales. */
export interface TriggerContext {
  /** The pool's queue: the default stream, list or queue name. */
  readonly queue: string;
  /** The chart's namespace, to qualify in-cluster host names for KEDA. */
  readonly namespace?: string;
}

/** A trigger as KEDA takes it, plus what its TriggerAuthentication needs. */
export interface CompiledTrigger {
  /** KEDA scaler type, e.g. `redis-sentinel-streams`. */
  readonly type: string;
  readonly metadata: Record<string, string>;
  /** The metadata field holding the per-replica target (a Helm knob). */
  readonly targetField: string;
  readonly secretTargetRef: ReadonlyArray<{ readonly parameter: string; readonly name: string; readonly key: string }>;
  readonly podIdentity?: string;
  /** Why this trigger can never wake a pool scaled to zero; undefined when it can. */
  readonly zeroBlocker?: string;
}

const TYPES = ['redis-streams', 'redis-list', 'postgresql', 'rabbitmq', 'aws-sqs-queue', 'prometheus'];

export function compileTrigger(scope: Construct, property: string, t: QueueTrigger, ctx: TriggerContext): CompiledTrigger {
  const need = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ValidationError(scope, `${property}.${field}`, value, `is required for a ${t.type} trigger (a non-empty string)`);
    }
    return value;
  };
  /** Redis counts are parsed as integers by KEDA (strconv.ParseInt). */
  const count = (field: string, value: number | undefined, fallback: number): string =>
    String(checkInteger(scope, `${property}.${field}`, value ?? fallback, { min: 1 }));
  const positive = (field: string, value: number | undefined): string => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ValidationError(scope, `${property}.${field}`, value, `is required for a ${t.type} trigger (a positive number)`);
    }
    return String(value);
  };
  const activation = (field: string, value: number | undefined, integer = false): Record<string, string> => {
    if (value === undefined) return {};
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
      throw new ValidationError(scope, `${property}.activation`, value, `must be ${integer ? 'an integer' : 'a number'} >= 0`);
    }
    return { [field]: String(value) };
  };
  const secret = (parameter: string, ref: SecretKeyRef, field: string) => ({
    parameter, name: checkObjectName(scope, `${property}.${field}.secretName`, ref?.secretName), key: need(`${field}.key`, ref?.key),
  });
  const inCluster = (field: string, host: string): string => {
    if (!ctx.namespace) {
      throw new ValidationError(scope, `${property}.${field}`, host,
        "needs the Chart's namespace: KEDA's operator runs in its own namespace and reaches our Services as <service>.<namespace>.svc");
    }
    return `${host}.${ctx.namespace}.svc`;
  };

  switch (t.type) {
    case 'redis-streams': {
      const stream = checkQueueName(scope, `${property}.stream`, t.stream ?? ctx.queue);
      need('consumerGroup', t.consumerGroup);
      if (t.lagCount !== undefined && t.pendingEntriesCount !== undefined) {
        throw new ValidationError(scope, `${property}.lagCount`, t.lagCount, 'choose lagCount or pendingEntriesCount, not both');
      }
      const lag = t.lagCount !== undefined;
      if (!lag && t.activation !== undefined) {
        throw new ValidationError(scope, `${property}.activation`, t.activation, "applies to lagCount only (KEDA's activationLagCount); set lagCount");
      }
      const endpoint = redisEndpoint(scope, property, t, inCluster, secret);
      const targetField = lag ? 'lagCount' : 'pendingEntriesCount';
      return {
        type: endpoint.sentinel ? 'redis-sentinel-streams' : 'redis-streams',
        metadata: {
          ...endpoint.metadata, stream, consumerGroup: t.consumerGroup,
          ...(lag
            // The docs mark activationLagCount as required with lagCount; 0 wakes the pool on the first undelivered entry.
            ? { lagCount: count('lagCount', t.lagCount, WORKERS.triggerTargets.lagCount), ...activation('activationLagCount', t.activation ?? 0, true) }
            : { pendingEntriesCount: count('pendingEntriesCount', t.pendingEntriesCount, WORKERS.triggerTargets.pendingEntriesCount) }),
        },
        targetField,
        secretTargetRef: endpoint.secrets,
        // XPENDING counts delivered entries only: with no consumer running nothing is delivered, so it stays 0.
        zeroBlocker: lag ? undefined : 'pending entries (XPENDING) stay 0 while no consumer runs, so KEDA would never wake the pool; use lagCount (Redis 7+)',
      };
    }
    case 'redis-list': {
      const list = checkQueueName(scope, `${property}.list`, t.list ?? ctx.queue);
      const endpoint = redisEndpoint(scope, property, t, inCluster, secret);
      return {
        type: endpoint.sentinel ? 'redis-sentinel' : 'redis',
        metadata: {
          ...endpoint.metadata, listName: list, listLength: count('listLength', t.listLength, WORKERS.triggerTargets.listLength),
          ...activation('activationListLength', t.activation, true),
        },
        targetField: 'listLength',
        secretTargetRef: endpoint.secrets,
      };
    }
    case 'postgresql': {
      need('query', t.query);
      const p = t.postgres;
      if (!p || typeof p !== 'object') throw new ValidationError(scope, `${property}.postgres`, p, 'is required: the PostgresCluster connection info');
      const sslmode = t.sslmode ?? 'disable';
      if (!['disable', 'require', 'verify-full'].includes(sslmode)) {
        throw new ValidationError(scope, `${property}.sslmode`, sslmode, 'must be one of "disable", "require", "verify-full"');
      }
      return {
        type: 'postgresql',
        metadata: {
          host: inCluster('postgres', p.readWriteHost), port: String(p.port), dbName: p.database, userName: p.user, sslmode,
          query: t.query, targetQueryValue: positive('targetQueryValue', t.targetQueryValue),
          ...activation('activationTargetQueryValue', t.activation),
        },
        targetField: 'targetQueryValue',
        secretTargetRef: [secret('password', p.passwordSecret, 'postgres.passwordSecret')],
      };
    }
    case 'rabbitmq': {
      const queueName = checkQueueName(scope, `${property}.queueName`, t.queueName ?? ctx.queue);
      if (!t.hostSecret) throw new ValidationError(scope, `${property}.hostSecret`, t.hostSecret, 'is required: the Secret key with the broker URL');
      const mode = t.mode ?? 'QueueLength';
      const protocol = t.protocol ?? 'auto';
      if (!['QueueLength', 'MessageRate'].includes(mode)) {
        throw new ValidationError(scope, `${property}.mode`, mode, 'must be "QueueLength" or "MessageRate"');
      }
      if (!['auto', 'amqp', 'http'].includes(protocol)) {
        throw new ValidationError(scope, `${property}.protocol`, protocol, 'must be one of "auto", "amqp", "http"');
      }
      if (mode === 'MessageRate' && protocol === 'amqp') {
        throw new ValidationError(scope, `${property}.protocol`, protocol, 'must be "http" (or "auto" with an http:// URL): KEDA reads MessageRate from the management API');
      }
      return {
        type: 'rabbitmq',
        metadata: {
          protocol, queueName, mode, value: t.value === undefined ? String(WORKERS.triggerTargets.rabbitmqValue) : positive('value', t.value),
          ...activation('activationValue', t.activation),
        },
        targetField: 'value',
        secretTargetRef: [secret('host', t.hostSecret, 'hostSecret')],
      };
    }
    case 'aws-sqs-queue': {
      need('queueURL', t.queueURL);
      need('awsRegion', t.awsRegion);
      if (!/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[A-Za-z0-9_-]+(\.fifo)?$/.test(t.queueURL)) {
        throw new ValidationError(scope, `${property}.queueURL`, t.queueURL, 'must be an SQS queue URL: https://sqs.<region>.amazonaws.com/<account>/<queue>');
      }
      const urlRegion = /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(t.queueURL)![1];
      if (urlRegion !== t.awsRegion) {
        throw new ValidationError(scope, `${property}.awsRegion`, t.awsRegion, `must be the queue's region (${urlRegion}, from queueURL)`);
      }
      const auth = t.auth ?? { podIdentity: 'aws' as const };
      return {
        type: 'aws-sqs-queue',
        metadata: {
          queueURL: t.queueURL, awsRegion: t.awsRegion, queueLength: count('queueLength', t.queueLength, WORKERS.triggerTargets.queueLength),
          ...activation('activationQueueLength', t.activation, true),
        },
        targetField: 'queueLength',
        secretTargetRef: 'podIdentity' in auth ? [] : [
          secret('awsAccessKeyID', auth.accessKeyId, 'auth.accessKeyId'),
          secret('awsSecretAccessKey', auth.secretAccessKey, 'auth.secretAccessKey'),
        ],
        podIdentity: 'podIdentity' in auth ? auth.podIdentity : undefined,
      };
    }
    case 'prometheus':
      need('serverAddress', t.serverAddress);
      if (!/^https?:\/\/[^\s/]+\.[^\s/]+/.test(t.serverAddress)) {
        throw new ValidationError(scope, `${property}.serverAddress`, t.serverAddress,
          "must be an http(s) URL whose host names a namespace (e.g. http://prometheus.monitoring.svc:9090): KEDA's operator resolves it from its own namespace");
      }
      need('query', t.query);
      return {
        type: 'prometheus',
        metadata: {
          serverAddress: t.serverAddress, query: t.query, threshold: positive('threshold', t.threshold),
          ...activation('activationThreshold', t.activation),
        },
        targetField: 'threshold',
        secretTargetRef: [],
      };
    default:
      throw new ValidationError(scope, `${property}.type`, (t as { type?: unknown }).type, `must be one of ${TYPES.map((x) => `"${x}"`).join(', ')}`);
  }
}

type SecretRefFn = (parameter: string, ref: SecretKeyRef, field: string) => CompiledTrigger['secretTargetRef'][number];

function redisEndpoint(
  scope: Construct, property: string, t: RedisEndpoint, inCluster: (field: string, host: string) => string, secret: SecretRefFn,
): { sentinel: boolean; metadata: Record<string, string>; secrets: CompiledTrigger['secretTargetRef'] } {
  const given = t as { redis?: RedisConnectionInfo; address?: unknown };
  if (given.redis !== undefined) {
    if (given.address !== undefined) throw new ValidationError(scope, `${property}.address`, given.address, 'give either redis (a RedisHA connection) or address, not both');
    const r = given.redis;
    if (r.mode === 'standalone') {
      // One Redis behind its Service: the plain scalers with `address` (keda.sh/docs/2.16/scalers/redis-streams).
      return {
        sentinel: false,
        metadata: { address: `${inCluster('redis', r.host ?? '')}:${r.redisPort}` },
        secrets: [secret('password', r.passwordSecret, 'redis.passwordSecret')],
      };
    }
    return {
      sentinel: true,
      // Sentinel metadata: `addresses` (every Sentinel) and `sentinelMaster`; auth parameters `password` (Redis) and
      // `sentinelPassword` (keda.sh/docs/2.16/scalers/redis-sentinel-streams).
      metadata: {
        addresses: r.sentinelHosts.map((h) => `${inCluster('redis', h)}:${r.sentinelPort}`).join(','),
        sentinelMaster: r.masterName,
      },
      secrets: [
        secret('password', r.passwordSecret, 'redis.passwordSecret'),
        ...(r.sentinelPasswordSecret ? [secret('sentinelPassword', r.sentinelPasswordSecret, 'redis.sentinelPasswordSecret')] : []),
      ],
    };
  }
  const address = t.address;
  const m = typeof address === 'string' ? /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+):(\d{1,5})$/i.exec(address) : null;
  if (!m || Number(m[5]) < 1 || Number(m[5]) > 65535) {
    throw new ValidationError(scope, `${property}.address`, address,
      "is required without redis: \"host:port\" with a host that names its namespace (redis.shop.svc:6379) or an IP, since KEDA's operator resolves it from its own namespace");
  }
  return {
    sentinel: false,
    metadata: { address: address! },
    secrets: t.passwordSecret ? [secret('password', t.passwordSecret, 'passwordSecret')] : [],
  };
}

/** Stream, list and queue names: what Redis, RabbitMQ and the env var all accept without quoting. */
export function checkQueueName(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$/.test(value)) {
    throw new ValidationError(scope, property, value, 'must be a queue/stream name: letters, digits, ".", "_", ":", "/", "-", at most 255 characters');
  }
  return value;
}

/** The TriggerAuthentication of one trigger: Secret keys by reference (`secretTargetRef`) or a pod identity. */
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

/**
 * The replica count KEDA's HPA aims for on one trigger. KEDA exposes the trigger as an AverageValue external metric
 * whose target is the per-replica value, so the HPA wants ceil(metric / target) within [minReplicaCount,
 * maxReplicaCount] (Kubernetes' HPA algorithm; its 10 % tolerance only matters near the current count). With
 * scale-to-zero, a metric at or below the activation value leaves the pool at zero (KEDA's own activation step).
 */
export function kedaDesiredReplicas(metric: number, target: number, opts: {
  readonly minReplicaCount: number; readonly maxReplicaCount: number; readonly scaleToZero?: boolean; readonly activation?: number;
}): number {
  if (opts.scaleToZero && metric <= (opts.activation ?? 0)) return 0;
  return Math.min(opts.maxReplicaCount, Math.max(opts.minReplicaCount, 1, Math.ceil(metric / target)));
}
