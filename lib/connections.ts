/**
 * Typed connection info that datastore and proxy constructs publish and workloads consume, so that no host name,
 * port or Secret name is repeated by hand at the call site.
 */

/** One key of a Kubernetes Secret. */
export interface SecretKeyRef {
  /** Name of the Secret in the namespace. */
  readonly secretName: string;
  /** Key inside the Secret. */
  readonly key: string;
}

/** How to reach a PostgresCluster. */
export interface PostgresConnectionInfo {
  /** Service of the primary (read-write), e.g. `orders-db-rw`. */
  readonly readWriteHost: string;
  /** Service of the read replicas (read-only); undefined when the cluster has no replicas. */
  readonly readOnlyHost?: string;
  /** Service of the PgBouncer pooler (transaction pooling), routing to the primary. */
  readonly poolerHost: string;
  /** Port of all three services. */
  readonly port: number;
  /** Application database name. */
  readonly database: string;
  /** Application role name. */
  readonly user: string;
  /** Secret key holding the application role's password. */
  readonly passwordSecret: SecretKeyRef;
  /** Postgres `max_connections`. */
  readonly maxConnections: number;
  /** Connections kept free for superuser, replication, admin tools and background work (seed 004's headroom). */
  readonly reservedConnections: number;
  /** PgBouncer `max_client_conn` summed over pooler replicas: client connections the pooler accepts in total. */
  readonly poolerMaxClientConnections: number;
  /** Server connections the pooler may open in total (all pooler replicas): ≤ maxConnections − reservedConnections. */
  readonly poolerServerConnections: number;
}

/** How to reach a RedisHA: through Sentinel (mode `sentinel`), or directly (mode `standalone`). */
export interface RedisConnectionInfo {
  /** `sentinel` (clients ask the Sentinels for the master) or `standalone` (clients connect to `host`). @default `sentinel` */
  readonly mode?: 'sentinel' | 'standalone';
  /** Service of the single Redis, e.g. `cache` (mode `standalone` only). */
  readonly host?: string;
  /** Service in front of all Sentinels (client discovery), e.g. `cache-sentinel` (mode `sentinel`). */
  readonly sentinelHost?: string;
  readonly sentinelPort?: number;
  /** Stable per-Sentinel DNS names, for clients that take a list; empty in mode `standalone`. */
  readonly sentinelHosts: readonly string[];
  /** Sentinel master group name. */
  readonly masterName: string;
  /** Redis data port. */
  readonly redisPort: number;
  /** Secret key holding the Redis password (requirepass / masterauth). */
  readonly passwordSecret: SecretKeyRef;
  /** Secret key holding the Sentinels' own password (Sentinel `requirepass`); may equal passwordSecret. Undefined: no Sentinel auth. */
  readonly sentinelPasswordSecret?: SecretKeyRef;
}

/** How to reach an RpcPool. */
export interface RpcConnectionInfo {
  /** In-cluster JSON-RPC over HTTP, e.g. `http://chain-rpc:8545/`. */
  readonly httpUrl: string;
  /** In-cluster WebSocket URL for subscriptions, when any upstream has one. */
  readonly wsUrl?: string;
}
