/** The public props of PostgresCluster (lib/postgres/postgres-cluster.ts) and what it derives from them. */
import type { DatastorePodProps } from '../datastore-pod';
import type { ResourceProps } from '../pod';
import type { PostgresBackupProps, PostgresRestoreProps } from './backup';
import type { PatroniProps } from './patroni';
import type { ConnectionHeadroom, MemorySettings, PoolerSizing, ReplicationSettings } from './sizing';

/** A Secret key holding one password. */
export interface PasswordSecretRef {
  /** Name of the Secret (created by you, see README.md, "PostgresCluster"). */
  readonly secretName: string;
  /** Key inside the Secret. @default `password` */
  readonly key?: string;
}

/**
 * The three passwords of a cluster, each from a Secret. One you leave out is a {@link GeneratedSecret}
 * `<name>-<role>` (key `password`): a Helm chart generates it per release; for plain manifests create it once
 * (`secretsToCreate` lists the commands).
 */
export interface PostgresCredentials {
  /** Password of the `postgres` superuser (bootstrap, admin work, the metrics exporter). @default generated `<name>-superuser` */
  readonly superuser?: PasswordSecretRef;
  /** Password of the replication role the replicas stream with. @default generated `<name>-replication` */
  readonly replication?: PasswordSecretRef;
  /** Password of the application role (clients and the pooler). @default generated `<name>-app` */
  readonly app?: PasswordSecretRef;
}

/** Persistent volume of each Postgres pod. */
export interface PostgresStorageProps {
  /** @default `50Gi`; at least 1Gi */
  readonly size?: string;
  /** StorageClass of the volumes. @default the cluster's default StorageClass */
  readonly storageClassName?: string;
}

/** PgBouncer pooler in front of the primary. Pool settings are per pooler replica. */
export interface PoolerProps {
  /** @default 2 ("2+ replicas": one may be drained or crash without an outage) */
  readonly replicas?: number;
  /** PgBouncer `default_pool_size`. @default (max_connections − headroom) / replicas − reservePoolSize */
  readonly defaultPoolSize?: number;
  /** PgBouncer `reserve_pool_size`. @default 10 % of each replica's share of the server connections */
  readonly reservePoolSize?: number;
  /** PgBouncer `max_client_conn`. @default ceil(10 × max_connections / replicas) */
  readonly maxClientConnections?: number;
  /** @default `edoburu/pgbouncer:v1.24.1-p0` (the PgBouncer release the tests run) */
  readonly image?: string;
  /** @default requests 100m / 64Mi, limits 1 CPU / 256Mi (PgBouncer uses one core at most) */
  readonly resources?: ResourceProps;
}

/** Prometheus exporters, ServiceMonitors and alerts. */
export interface PostgresMetricsProps {
  /** Scrape interval. @default `30s` */
  readonly interval?: string;
  /** Replication lag that alerts, in seconds. @default 30 */
  readonly replicationLagSeconds?: number;
  /** @default `quay.io/prometheuscommunity/postgres-exporter:v0.17.1` */
  readonly postgresExporterImage?: string;
  /** @default `quay.io/prometheuscommunity/pgbouncer-exporter:v0.10.2` */
  readonly pgbouncerExporterImage?: string;
}

/** NetworkPolicies in front of Postgres and the pooler. */
export interface PostgresNetworkPolicyProps {
  /**
   * Labels of the client pods allowed to reach the pooler and Postgres (the pooler and the replicas always are).
   * @default `app.kubernetes.io/part-of` of this cluster: every pod of the same application
   */
  readonly clientLabels?: Record<string, string>;
}

export interface PostgresClusterProps extends DatastorePodProps {
  /** Secrets holding the superuser, replication and application passwords. @default each generated (see {@link PostgresCredentials}) */
  readonly credentials?: PostgresCredentials;
  /** Base name of every object (`<name>-rw`, `<name>-primary`, ...). @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /** Official postgres image, pinned. @default `postgres:17.12` */
  readonly image?: string;
  /**
   * Streaming read replicas. 0 is allowed (a single primary, with a synth warning: no standby to restore from).
   * @default 2 — "deploy 1–2 read replicas" (seed 000)
   */
  readonly replicas?: number;
  /** Application database. @default `app` */
  readonly database?: string;
  /** Application role. @default `app` */
  readonly user?: string;
  /** Replication role. @default `replicator` */
  readonly replicationUser?: string;
  /** Postgres `max_connections`. @default 100 (PostgreSQL's own default; the pooler multiplies it for clients) */
  readonly maxConnections?: number;
  /** Pin `max_wal_senders`; must be ≥ replicas + 1. @default max(3, replicas + 1) — 3 in seed 003 */
  readonly maxWalSenders?: number;
  /** Pin `max_replication_slots`; must be ≥ replicas + 1. @default max(3, replicas + 1) — 3 in seed 003 */
  readonly maxReplicationSlots?: number;
  /**
   * Postgres container resources; memory settings derive from the memory request. Presets' workload resources
   * do not apply here: they are sized for stateless pods.
   * @default requests = limits = 4 CPU / 16Gi — "Vertical first: start with 4 vCPU / 16 GB RAM" (seed 000)
   */
  readonly resources?: ResourceProps;
  /** @default 50Gi on the default StorageClass */
  readonly storage?: PostgresStorageProps;
  /** @default 2 PgBouncer replicas with derived pool sizes */
  readonly pooler?: PoolerProps;
  /** Exporter sidecars, ServiceMonitors and PrometheusRule (needs the Prometheus Operator CRDs). @default false */
  readonly metrics?: boolean | PostgresMetricsProps;
  /** Restrict ingress to Postgres and the pooler (false turns the NetworkPolicies off). @default true */
  readonly networkPolicy?: boolean | PostgresNetworkPolicyProps;
  /**
   * `patroni`: one StatefulSet of `replicas + 1` Patroni members with automatic failover through the Kubernetes API
   * (leader lock in a ConfigMap; ServiceAccount, Role, RoleBinding), `-rw` following the leader, pg_rewind, planned
   * switchover before the leader stops, one PodDisruptionBudget over the members (lib/postgres/services.ts). `none`: the
   * primary and replica StatefulSets without automatic failover, where promoting a replica is a manual step
   * (docs/postgres.md, "Without failover").
   * @default `patroni` in every tier (the development tier: a single member); a preset may set `postgres.failover`
   */
  readonly failover?: 'none' | 'patroni';
  /** Patroni's timing and synchronous mode (with `failover: 'patroni'`). @default ttl 30, loopWait 10, retryTimeout 10, maximumLagOnFailover 1 MiB, async */
  readonly patroni?: PatroniProps;
  /**
   * Continuous WAL archiving and scheduled full backups with pgBackRest to an S3-compatible store (needs
   * `failover: 'patroni'`; the member image becomes Spilo + pgBackRest). docs/postgres.md, "Backups and recovery".
   * @default none: no backups
   */
  readonly backup?: PostgresBackupProps;
  /**
   * Create this new cluster from the store instead of initdb: `{}` the newest state, `{ fromBackup }` one backup,
   * `{ targetTime }` / `{ targetLsn }` a point in time (needs `backup`).
   * @default none: a fresh initdb
   */
  readonly restore?: PostgresRestoreProps;
}

/** Everything the construct derived, for docs, tests and consumers. */
export interface PostgresSettings {
  readonly maxConnections: number;
  readonly headroom: ConnectionHeadroom;
  readonly memory: MemorySettings;
  readonly replication: ReplicationSettings;
  readonly maxSlotWalKeepBytes: number;
  readonly pooler: PoolerSizing;
}
