import { Lazy } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { RedisConnectionInfo, RpcConnectionInfo, SecretKeyRef } from './connections';
import { allowRedisClient } from './redis/network-policy';
import { DB_POOL } from './defaults';
import { ValidationError } from './errors';
import type { PostgresCluster } from './postgres';
import { Problems, addDeferredCheck, recordErrors } from './core/problems';
import { integerRule } from './core/rules';

/**
 * A workload that datastores can be wired into: StatelessService and WorkerPool.
 * Connection budgets count it at `maxReplicas`, the most pods it can ever run.
 */
export interface IConnectableWorkload extends IConstruct {
  readonly name: string;
  readonly maxReplicas: number;
  /** Labels selecting its pods (for NetworkPolicy allow rules). */
  readonly selector: Record<string, string>;
  addEnv(name: string, value: string): void;
  addSecretEnv(name: string, ref: SecretKeyRef): void;
  /** Mounts a Secret key as a file and sets `<name>_FILE` to its path (for `credentials: 'files'`). */
  addSecretFileEnv?(name: string, ref: SecretKeyRef): void;
}

/**
 * How wiring hands credentials to the user's app containers. `env`: Secret-referenced variables (what most apps
 * expect). `files`: each Secret key mounted read-only under /var/run/secrets/scalecharts/<secret>/<key>, its path in
 * `<NAME>_FILE` (e.g. `PGPASSWORD_FILE`), nothing in the environment.
 */
export type CredentialDelivery = 'env' | 'files';

function addCredential(workload: IConnectableWorkload, property: string, delivery: CredentialDelivery | undefined, name: string, ref: SecretKeyRef): void {
  if (delivery === undefined || delivery === 'env') {
    workload.addSecretEnv(name, ref);
  } else if (delivery === 'files' && workload.addSecretFileEnv) {
    workload.addSecretFileEnv(name, ref);
  } else {
    throw new ValidationError(workload, property, delivery, delivery === 'files' ? 'needs a workload that can mount files (StatelessService, WorkerPool)' : 'must be "env" or "files"');
  }
}

/** How a workload uses a PostgresCluster. */
export interface PostgresConnectOptions {
  /**
   * `pooler`: through PgBouncer in transaction mode (seed 000: required once clients × pool > max_connections).
   * `direct`: straight to the primary; counted against max_connections next to the pooler's server pool.
   * @default `pooler`
   */
  readonly via?: 'pooler' | 'direct';
  /**
   * Connections each pod may open for reads and writes (`DB_MAX_CONNECTIONS`, seed 004).
   * @default min(50, ⌊capacity / client pods⌋) — seed 000, where capacity is the pooler's max_client_conn (via
   * pooler) or what max_connections leaves after headroom and the pooler (direct), shared by every workload
   * connected the same way, each counted at its maximum replicas
   */
  readonly poolSize?: number;
  /**
   * Also connect to the read replicas (`DB_READ_*`), directly: the pooler routes to the primary only.
   * @default true when the cluster has replicas
   */
  readonly readReplicas?: boolean;
  /** Read connections per pod (`DB_READ_MAX_CONNECTIONS`). @default min(50, ⌊(max_connections − headroom) / read client pods⌋) */
  readonly readPoolSize?: number;
  /** `PGPASSWORD` from the Secret (`env`), or the password as a file with its path in `PGPASSWORD_FILE` (`files`). @default `env` */
  readonly credentials?: CredentialDelivery;
}

interface PostgresClient {
  readonly workload: IConnectableWorkload;
  readonly via: 'pooler' | 'direct';
  readonly poolSize?: number;
  readonly reads: boolean;
  readonly readPoolSize?: number;
}

/** A share of a connection budget, for the budget check and the capacity report. */
export interface ConnectionShare {
  readonly workload: string;
  readonly target: 'pooler' | 'primary' | 'replicas';
  readonly perPod: number;
  readonly maxReplicas: number;
  readonly total: number;
}

const POSTGRES_CLIENTS = new WeakMap<PostgresCluster, PostgresClient[]>();

/**
 * Wires `workload` to a PostgresCluster: libpq environment (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`
 * from the cluster's Secret), `DATABASE_URL` (no password in it: drivers take `PGPASSWORD`), the per-pod pool size
 * `DB_MAX_CONNECTIONS`, and the read replicas as `DB_READ_HOST` / `DATABASE_READ_URL` / `DB_READ_MAX_CONNECTIONS`.
 * Adds the workload to the cluster's NetworkPolicies when they are on, and to its connection budget, which is checked
 * over the whole chart at synth.
 */
export function connectPostgres(workload: IConnectableWorkload, cluster: PostgresCluster, options: PostgresConnectOptions = {}): void {
  const c = cluster.connection;
  const p = new Problems(workload);
  const via = options.via ?? 'pooler';
  if (via !== 'pooler' && via !== 'direct') p.add('connectPostgres.via', via, 'must be "pooler" or "direct"', typeof via !== 'string');
  if (options.poolSize !== undefined) p.check('connectPostgres.poolSize', options.poolSize, integerRule({ min: 1 }));
  if (options.readPoolSize !== undefined) p.check('connectPostgres.readPoolSize', options.readPoolSize, integerRule({ min: 1 }));
  if (options.readReplicas !== undefined && typeof options.readReplicas !== 'boolean') p.add('connectPostgres.readReplicas', options.readReplicas, 'must be true or false', true);
  const reads = options.readReplicas ?? c.readOnlyHost !== undefined;
  if (reads && !c.readOnlyHost) {
    p.add('connectPostgres.readReplicas', true, `${cluster.node.path} has no read replicas; set replicas ≥ 1 or readReplicas: false`);
  }
  let clients = POSTGRES_CLIENTS.get(cluster);
  if (clients?.some((x) => x.workload === workload)) p.add('connectPostgres', cluster.node.path, 'is already connected to this workload');
  if (!p.ok) {
    // Reported at synth with every other error; a refused connection is not wired.
    recordErrors(workload, p.errors);
    return;
  }
  if (!clients) {
    clients = [];
    POSTGRES_CLIENTS.set(cluster, clients);
    // Checked once every workload of the chart is connected, whatever the order of the calls.
    addDeferredCheck(cluster, () => checkPostgresBudget(cluster));
  }
  const client: PostgresClient = { workload, via, poolSize: options.poolSize, reads, readPoolSize: options.readPoolSize };
  clients.push(client);

  const host = via === 'pooler' ? c.poolerHost : c.readWriteHost;
  workload.addEnv('PGHOST', host);
  workload.addEnv('PGPORT', String(c.port));
  workload.addEnv('PGDATABASE', c.database);
  workload.addEnv('PGUSER', c.user);
  addCredential(workload, 'connectPostgres.credentials', options.credentials, 'PGPASSWORD', c.passwordSecret);
  workload.addEnv('DATABASE_URL', `postgresql://${c.user}@${host}:${c.port}/${c.database}`);
  // Resolved at synth: the default share depends on every workload connected to this cluster.
  workload.addEnv('DB_MAX_CONNECTIONS', Lazy.any({ produce: () => String(shareOf(cluster, client, 'write').perPod) }));
  if (reads && c.readOnlyHost) {
    workload.addEnv('DB_READ_HOST', c.readOnlyHost);
    workload.addEnv('DATABASE_READ_URL', `postgresql://${c.user}@${c.readOnlyHost}:${c.port}/${c.database}`);
    workload.addEnv('DB_READ_MAX_CONNECTIONS', Lazy.any({ produce: () => String(shareOf(cluster, client, 'read').perPod) }));
  }
  cluster.allowClient(workload.selector);
}

/** Every workload's share of the cluster's connection budgets, defaults resolved. */
export function postgresConnectionShares(cluster: PostgresCluster): ConnectionShare[] {
  const clients = POSTGRES_CLIENTS.get(cluster) ?? [];
  return clients.flatMap((client) => [
    shareOf(cluster, client, 'write'),
    ...(client.reads ? [shareOf(cluster, client, 'read')] : []),
  ]);
}

interface Budget {
  readonly target: ConnectionShare['target'];
  /** Connections the target accepts from these clients. */
  readonly capacity: number;
  /** How the capacity was derived, for error messages. */
  readonly explain: string;
}

function budgetFor(cluster: PostgresCluster, target: ConnectionShare['target']): Budget {
  const c = cluster.connection;
  const usable = c.maxConnections - c.reservedConnections;
  if (target === 'pooler') {
    return { target, capacity: c.poolerMaxClientConnections, explain: `the pooler accepts ${c.poolerMaxClientConnections} client connections (max_client_conn × pooler replicas)` };
  }
  if (target === 'replicas') {
    // A replica may be down: the other must take every read connection.
    return { target, capacity: usable, explain: `each replica allows max_connections ${c.maxConnections} − ${c.reservedConnections} headroom = ${usable}` };
  }
  const clients = POSTGRES_CLIENTS.get(cluster) ?? [];
  // The pooler opens server connections only for clients that go through it.
  const poolerInUse = clients.some((x) => x.via === 'pooler');
  const pooler = poolerInUse ? c.poolerServerConnections : 0;
  return {
    target, capacity: usable - pooler,
    explain: `max_connections ${c.maxConnections} − ${c.reservedConnections} headroom${poolerInUse ? ` − ${pooler} pooler server connections` : ''} = ${usable - pooler}`,
  };
}

function targetOf(client: PostgresClient, kind: 'write' | 'read'): ConnectionShare['target'] {
  if (kind === 'read') return 'replicas';
  return client.via === 'pooler' ? 'pooler' : 'primary';
}

function shareOf(cluster: PostgresCluster, client: PostgresClient, kind: 'write' | 'read'): ConnectionShare {
  const target = targetOf(client, kind);
  const given = kind === 'write' ? client.poolSize : client.readPoolSize;
  let perPod = given;
  if (perPod === undefined) {
    // Seed 000: min(50, connections / pods), pods counted over every workload sharing this budget.
    const sharing = (POSTGRES_CLIENTS.get(cluster) ?? []).filter((x) => (kind === 'read' ? x.reads : targetOf(x, 'write') === target));
    const pods = sharing.reduce((sum, x) => sum + x.workload.maxReplicas, 0);
    perPod = Math.min(DB_POOL.maxPerPod, Math.floor(budgetFor(cluster, target).capacity / pods));
  }
  const maxReplicas = client.workload.maxReplicas;
  return { workload: client.workload.node.path, target, perPod, maxReplicas, total: perPod * maxReplicas };
}

/**
 * Seed 004: the sum of every pod's pool stays under the server's limit with headroom for admin tools and background
 * tasks. Counts each workload at its maximum replicas; throws a ValidationError naming each workload and its share.
 */
export function checkPostgresBudget(cluster: PostgresCluster): void {
  const shares = postgresConnectionShares(cluster);
  for (const target of ['pooler', 'primary', 'replicas'] as const) {
    const mine = shares.filter((s) => s.target === target);
    if (mine.length === 0) continue;
    const budget = budgetFor(cluster, target);
    const used = mine.reduce((sum, s) => sum + s.total, 0);
    const starved = mine.find((s) => s.perPod < 1);
    if (used <= budget.capacity && !starved) continue;
    const breakdown = mine.map((s) => `${s.workload}: ${s.perPod} × ${s.maxReplicas} pods = ${s.total}`).join('; ');
    const advice = target === 'primary'
      ? 'connect through the pooler (via: "pooler", PgBouncer transaction pooling, seed 000), lower poolSize or maxReplicas, or raise maxConnections'
      : target === 'pooler'
        ? 'raise pooler.maxClientConnections or pooler.replicas, or lower poolSize or maxReplicas'
        : 'lower readPoolSize or maxReplicas, or raise maxConnections';
    throw new ValidationError(cluster, `connections.${target}`, used,
      `${starved ? `${starved.workload} gets less than 1 connection per pod; ` : ''}${used} connections at maximum replicas exceed the budget: ${budget.explain}. Shares: ${breakdown}. Fix: ${advice}`);
  }
}

/** Anything that publishes Redis Sentinel connection info (RedisHA). */
export interface IRedisTarget extends IConstruct {
  readonly connection: RedisConnectionInfo;
}

/**
 * Wires `workload` to a RedisHA. Mode `sentinel`: `REDIS_SENTINELS` (every Sentinel's stable `host:port`, what
 * Sentinel-aware clients take), `REDIS_MASTER_NAME`, and `REDIS_PASSWORD` / `REDIS_SENTINEL_PASSWORD` from Secrets.
 * Mode `standalone`: `REDIS_HOST`, `REDIS_PORT` and `REDIS_PASSWORD`. An application supports both by using the
 * Sentinels when `REDIS_SENTINELS` is set.
 */
export function connectRedis(workload: IConnectableWorkload, redis: IRedisTarget, options: RedisConnectOptions = {}): void {
  const { env, secretEnv } = redisClientEnv(redis.connection);
  for (const [name, value] of Object.entries(env)) workload.addEnv(name, value);
  for (const [name, ref] of Object.entries(secretEnv)) addCredential(workload, 'connectRedis.credentials', options.credentials, name, ref);
  allowRedisClient(redis.connection, workload.selector);
}

/** How a workload uses a RedisHA. */
export interface RedisConnectOptions {
  /**
   * `REDIS_PASSWORD` / `REDIS_SENTINEL_PASSWORD` from Secrets (`env`), or as files with their paths in
   * `REDIS_PASSWORD_FILE` / `REDIS_SENTINEL_PASSWORD_FILE` (`files`).
   * @default `env`
   */
  readonly credentials?: CredentialDelivery;
}

/** The environment {@link connectRedis} sets, from connection info alone (WorkerPool wires its queue's Redis with it). */
export function redisClientEnv(r: RedisConnectionInfo): { env: Record<string, string>; secretEnv: Record<string, SecretKeyRef> } {
  if (r.mode === 'standalone') {
    return { env: { REDIS_HOST: r.host ?? '', REDIS_PORT: String(r.redisPort) }, secretEnv: { REDIS_PASSWORD: r.passwordSecret } };
  }
  return {
    env: {
      REDIS_SENTINELS: r.sentinelHosts.map((h) => `${h}:${r.sentinelPort}`).join(','),
      REDIS_MASTER_NAME: r.masterName,
    },
    secretEnv: {
      REDIS_PASSWORD: r.passwordSecret,
      ...(r.sentinelPasswordSecret ? { REDIS_SENTINEL_PASSWORD: r.sentinelPasswordSecret } : {}),
    },
  };
}

/** Anything that publishes JSON-RPC connection info (RpcPool). */
export interface IRpcTarget extends IConstruct {
  readonly connection: RpcConnectionInfo;
  /** Lets the client's pods through the target's NetworkPolicy, when it has one. */
  allowClient?(selector: Record<string, string>): void;
}

/**
 * Wires `workload` to an RpcPool: `RPC_URL` and, when the pool has WebSocket upstreams, `RPC_WS_URL`; and lets the
 * workload's pods through the pool's NetworkPolicy.
 */
export function connectRpc(workload: IConnectableWorkload, pool: IRpcTarget): void {
  workload.addEnv('RPC_URL', pool.connection.httpUrl);
  if (pool.connection.wsUrl) workload.addEnv('RPC_WS_URL', pool.connection.wsUrl);
  pool.allowClient?.(workload.selector);
}

/** An HTTP service other workloads call (StatelessService). */
export interface IServiceTarget extends IConstruct {
  readonly name: string;
  readonly host: string;
  readonly servicePort: number;
  /** Lets the client's pods through the service's NetworkPolicy (a no-op when it is off). */
  allowClient(selector: Record<string, string>): void;
}

/** Options of {@link connectService}. */
export interface ServiceConnectOptions {
  /** Variable holding the base URL. @default `<SERVICE_NAME>_URL` (upper case, `-` and `.` as `_`) */
  readonly envName?: string;
}

/**
 * Wires `workload` as a client of another service: its base URL (`http://<host>:<port>`) in `<NAME>_URL`, and the
 * workload's pods allowed through the service's NetworkPolicy (on by default, issue 18).
 */
export function connectService(workload: IConnectableWorkload, service: IServiceTarget, options: ServiceConnectOptions = {}): void {
  const envName = options.envName ?? `${service.name.toUpperCase().replace(/[-.]/g, '_')}_URL`;
  workload.addEnv(envName, `http://${service.host}:${service.servicePort}`);
  service.allowClient(workload.selector);
}
