/**
 * Every number a PostgresCluster derives from its props, as pure functions (no constructs, no I/O), so the
 * formulas can be read, tested and documented in one place. The construct validates props and results.
 */
import { POSTGRES } from '../defaults';
import { Formula, evaluate, formula, goQuantityBytes, goTemplate } from '../core/formula';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** `superuser_reserved_connections`: PostgreSQL's default, written out because the budget below counts it. */
export const SUPERUSER_RESERVED_CONNECTIONS = 3;
/** Share of max_connections kept free for admin tools, migrations, exporters and background jobs (seed 004). */
export const ADMIN_HEADROOM_RATIO = 0.1;
/** Floor of that admin headroom, so small servers still leave room for a psql session and a migration. */
export const MIN_ADMIN_HEADROOM = 5;
/** Client connections the pooler tier accepts per Postgres connection (clients wait in PgBouncer, not Postgres). */
export const CLIENTS_PER_SERVER_CONNECTION = 10;
/** Share of a pooler replica's server connections held back as PgBouncer's reserve pool for bursts. */
export const RESERVE_POOL_RATIO = 0.1;
/** Smallest work_mem we accept: below it sorts and hashes spill to disk on every query. */
export const MIN_WORK_MEM_BYTES = 1 * MIB;
/** Smallest volume we accept: initdb, WAL and a little data. */
export const MIN_STORAGE_BYTES = 1 * GIB;
/** Smallest memory we accept for a Postgres pod. */
export const MIN_MEMORY_BYTES = 256 * MIB;
/** max_connections bounds: below 20 nothing is left after the headroom; above 10,000 use more pooling instead. */
export const MAX_CONNECTIONS_RANGE = { min: 20, max: 10_000 } as const;

export interface MemorySettings {
  /** 25 % of memory: PostgreSQL's guidance for a dedicated server. */
  readonly sharedBuffersBytes: number;
  /** 75 % of memory: what the planner may assume shared_buffers plus the OS page cache hold. */
  readonly effectiveCacheSizeBytes: number;
  /** (memory − shared_buffers) / (3 × max_connections): three sort/hash nodes per connection fit in what is left. */
  readonly workMemBytes: number;
  /** memory / 16, at most 1 GiB: vacuum and index builds. */
  readonly maintenanceWorkMemBytes: number;
  /** memory / 8, at most 1 GiB: `/dev/shm` for parallel query (a container's default 64 MiB is too small). */
  readonly sharedMemoryVolumeBytes: number;
}

const SHARED_BUFFERS_MIB = formula.floor(formula.mul('memoryMiB', 0.25));
/**
 * The memory settings in whole MiB from `memoryMiB` (the memory request) and `maxConnections`, as data: the construct
 * evaluates them at synth, and the Helm chart computes the same formulas from its values (lib/core/formula.ts).
 */
export const MEMORY_FORMULAS = {
  sharedBuffersMiB: SHARED_BUFFERS_MIB,
  effectiveCacheSizeMiB: formula.floor(formula.mul('memoryMiB', 0.75)),
  workMemMiB: formula.floor(formula.div(formula.sub('memoryMiB', SHARED_BUFFERS_MIB), formula.mul(3, 'maxConnections'))),
  maintenanceWorkMemMiB: formula.min(1024, formula.floor(formula.div('memoryMiB', 16))),
  sharedMemoryVolumeMiB: formula.min(1024, formula.floor(formula.div('memoryMiB', 8))),
} as const satisfies Record<string, Formula>;

/** The memory request (a Go expression of a quantity value) in MiB, as a float64 pipeline. */
const goMemoryMiB = (memory: string) => `(divf ${goQuantityBytes(memory)} ${MIB}.0)`;

/** The `/dev/shm` emptyDir sizeLimit (`{{ … }}Mi`) computed from a chart's memory request value by {@link MEMORY_FORMULAS}. */
export function sharedMemoryVolumeTemplate(memory: string): string {
  return `{{ int ${goTemplate(MEMORY_FORMULAS.sharedMemoryVolumeMiB, { memoryMiB: goMemoryMiB(memory) })} }}Mi`;
}

/** Memory settings from the Postgres container's memory request. */
export function memorySettings(memoryBytes: number, maxConnections: number): MemorySettings {
  const vars = { memoryMiB: memoryBytes / MIB, maxConnections };
  const bytes = (f: Formula) => evaluate(f, vars) * MIB;
  return {
    sharedBuffersBytes: bytes(MEMORY_FORMULAS.sharedBuffersMiB),
    effectiveCacheSizeBytes: bytes(MEMORY_FORMULAS.effectiveCacheSizeMiB),
    workMemBytes: bytes(MEMORY_FORMULAS.workMemMiB),
    maintenanceWorkMemBytes: bytes(MEMORY_FORMULAS.maintenanceWorkMemMiB),
    sharedMemoryVolumeBytes: bytes(MEMORY_FORMULAS.sharedMemoryVolumeMiB),
  };
}

/**
 * The memory settings of postgresql.conf as Go template text (`{{ … }}MB`) computed from a chart's values by
 * {@link MEMORY_FORMULAS}: `memory` and `maxConnections` are Go expressions of the memory request and max_connections.
 */
export function memorySettingsTemplate(memory: string, maxConnections: string): Record<'sharedBuffers' | 'effectiveCacheSize' | 'workMem' | 'maintenanceWorkMem', string> {
  const vars = { memoryMiB: goMemoryMiB(memory), maxConnections };
  const mb = (f: Formula) => `{{ int ${goTemplate(f, vars)} }}MB`;
  return {
    sharedBuffers: mb(MEMORY_FORMULAS.sharedBuffersMiB),
    effectiveCacheSize: mb(MEMORY_FORMULAS.effectiveCacheSizeMiB),
    workMem: mb(MEMORY_FORMULAS.workMemMiB),
    maintenanceWorkMem: mb(MEMORY_FORMULAS.maintenanceWorkMemMiB),
  };
}

/** Go template condition: true when work_mem would fall below 1MB for these values (too many connections for the memory). */
export function workMemTooSmallTemplate(memory: string, maxConnections: string): string {
  return `lt ${goTemplate(MEMORY_FORMULAS.workMemMiB, { memoryMiB: goMemoryMiB(memory), maxConnections })} 1.0`;
}

/**
 * The smallest memory (whole MiB, at least {@link MIN_MEMORY_BYTES}) for which work_mem reaches
 * {@link MIN_WORK_MEM_BYTES} at `maxConnections`: about 4 MiB per connection.
 */
export function minimumMemoryBytes(maxConnections: number): number {
  // work_mem = (m − floor(m / 4)) / (3 × max_connections) MiB ≥ 1  ⇔  ceil(3m / 4) ≥ 3 × max_connections  ⇔  m ≥ 4 × max_connections − 1.
  return Math.max(MIN_MEMORY_BYTES, (4 * maxConnections - 1) * MIB);
}

export interface ReplicationSettings {
  readonly maxWalSenders: number;
  readonly maxReplicationSlots: number;
}

/**
 * WAL senders and slots: one per replica plus one spare (a replica being rebuilt by pg_basebackup streams with
 * two senders; a backup tool needs one), never below the documented 3 (seed 003).
 */
export function replicationSettings(replicas: number): ReplicationSettings {
  const needed = requiredReplicationCapacity(replicas);
  return {
    maxWalSenders: Math.max(POSTGRES.maxWalSenders, needed),
    maxReplicationSlots: Math.max(POSTGRES.maxReplicationSlots, needed),
  };
}

/** Senders and slots `replicas` need at least: replicas + 1. */
export function requiredReplicationCapacity(replicas: number): number {
  return replicas + 1;
}

/** WAL a lagging or absent replica's slot may hold back: 20 % of the volume, so a dead replica can't fill the disk. */
export function maxSlotWalKeepBytes(storageBytes: number): number {
  return floorMiB(storageBytes * 0.2);
}

export interface ConnectionHeadroom {
  readonly superuserReserved: number;
  /** max(5, ceil(10 % × max_connections)). */
  readonly admin: number;
  /** superuserReserved + admin: connections the pooler may never take. */
  readonly total: number;
}

/**
 * Connections kept out of the pooler's reach: `superuser_reserved_connections` plus admin headroom. Replication
 * does not count: since PostgreSQL 12 WAL senders have their own `max_wal_senders` slots outside max_connections.
 */
export function connectionHeadroom(maxConnections: number): ConnectionHeadroom {
  const admin = evaluate(POOLER_FORMULAS.adminHeadroom, { maxConnections });
  return { superuserReserved: SUPERUSER_RESERVED_CONNECTIONS, admin, total: SUPERUSER_RESERVED_CONNECTIONS + admin };
}

/** The smallest max_connections that leaves `serverConnections` for the pooler after the headroom. */
export function minimumMaxConnections(serverConnections: number): number {
  let maxConnections = MAX_CONNECTIONS_RANGE.min;
  while (maxConnections - connectionHeadroom(maxConnections).total < serverConnections) maxConnections++;
  return maxConnections;
}

/** The largest max_connections `memoryBytes` supports with work_mem ≥ 1MB (inverse of {@link minimumMemoryBytes}). */
export function maximumMaxConnections(memoryBytes: number): number {
  return Math.min(MAX_CONNECTIONS_RANGE.max, Math.floor((Math.floor(memoryBytes / MIB) + 1) / 4));
}

export interface PoolerInput {
  readonly maxConnections: number;
  readonly poolerReplicas: number;
  /** Pinned PgBouncer settings (per pooler replica); derived when absent. */
  readonly defaultPoolSize?: number;
  readonly reservePoolSize?: number;
  readonly maxClientConn?: number;
}

export interface PoolerSizing {
  /** PgBouncer replicas. */
  readonly replicas: number;
  /** max_connections − headroom: server connections all pooler replicas together may hold. */
  readonly serverConnectionBudget: number;
  /** floor(budget / pooler replicas). */
  readonly perReplicaBudget: number;
  /** PgBouncer `default_pool_size` (per replica): perReplicaBudget − reserve, unless pinned. */
  readonly defaultPoolSize: number;
  /** PgBouncer `reserve_pool_size` (per replica): floor(10 % × perReplicaBudget), unless pinned. */
  readonly reservePoolSize: number;
  /** PgBouncer `max_db_connections` (per replica): default + reserve, a hard cap whatever the user/db pairs. */
  readonly maxDbConnections: number;
  /** PgBouncer `max_client_conn` (per replica): ceil(10 × max_connections / pooler replicas), unless pinned. */
  readonly maxClientConn: number;
  /** maxDbConnections × replicas: the most the pooler tier can ever open. ≤ serverConnectionBudget when valid. */
  readonly totalServerConnections: number;
  /** maxClientConn × replicas. */
  readonly totalClientConnections: number;
}

const ADMIN_HEADROOM = formula.max(MIN_ADMIN_HEADROOM, formula.ceil(formula.mul('maxConnections', ADMIN_HEADROOM_RATIO)));
const SERVER_CONNECTION_BUDGET = formula.sub('maxConnections', formula.add(SUPERUSER_RESERVED_CONNECTIONS, ADMIN_HEADROOM));
const PER_REPLICA_BUDGET = formula.floor(formula.div(SERVER_CONNECTION_BUDGET, 'poolerReplicas'));
const DERIVED_RESERVE = formula.floor(formula.mul(PER_REPLICA_BUDGET, RESERVE_POOL_RATIO));
const DEFAULT_POOL_SIZE = formula.given('defaultPoolSize', formula.sub(PER_REPLICA_BUDGET, formula.given('reservePoolSize', DERIVED_RESERVE)));
// A pinned default pool leaves the reserve what is left of the replica's share, at most the derived 10 %.
const RESERVE_POOL_SIZE = formula.given('reservePoolSize', formula.max(0, formula.min(DERIVED_RESERVE, formula.sub(PER_REPLICA_BUDGET, DEFAULT_POOL_SIZE))));

/**
 * The pooler's sizes as data, from `maxConnections`, `poolerReplicas` and the PgBouncer settings a user may pin
 * (`defaultPoolSize`, `reservePoolSize`, `maxClientConn`: null or absent means derived). The construct evaluates them
 * at synth ({@link poolerSizing}) and the Helm chart computes the same formulas from its values
 * ({@link poolerSizingTemplate}), so pools follow maxConnections and pooler.replicas set at install.
 */
export const POOLER_FORMULAS = {
  /** max(5, ceil(10 % × max_connections)). */
  adminHeadroom: ADMIN_HEADROOM,
  serverConnectionBudget: SERVER_CONNECTION_BUDGET,
  perReplicaBudget: PER_REPLICA_BUDGET,
  defaultPoolSize: DEFAULT_POOL_SIZE,
  reservePoolSize: RESERVE_POOL_SIZE,
  maxDbConnections: formula.add(DEFAULT_POOL_SIZE, RESERVE_POOL_SIZE),
  maxClientConn: formula.given('maxClientConn', formula.ceil(formula.div(formula.mul(CLIENTS_PER_SERVER_CONNECTION, 'maxConnections'), 'poolerReplicas'))),
} as const satisfies Record<string, Formula>;

/** PgBouncer pool sizes such that all pooler replicas together stay within max_connections − headroom. */
export function poolerSizing(input: PoolerInput): PoolerSizing {
  const vars = {
    maxConnections: input.maxConnections, poolerReplicas: input.poolerReplicas,
    defaultPoolSize: input.defaultPoolSize, reservePoolSize: input.reservePoolSize, maxClientConn: input.maxClientConn,
  };
  const of = (f: Formula) => evaluate(f, vars);
  const maxDbConnections = of(POOLER_FORMULAS.maxDbConnections);
  const maxClientConn = of(POOLER_FORMULAS.maxClientConn);
  return {
    replicas: input.poolerReplicas,
    serverConnectionBudget: of(POOLER_FORMULAS.serverConnectionBudget),
    perReplicaBudget: of(POOLER_FORMULAS.perReplicaBudget),
    defaultPoolSize: of(POOLER_FORMULAS.defaultPoolSize),
    reservePoolSize: of(POOLER_FORMULAS.reservePoolSize),
    maxDbConnections,
    maxClientConn,
    totalServerConnections: maxDbConnections * input.poolerReplicas,
    totalClientConnections: maxClientConn * input.poolerReplicas,
  };
}

/** Go expressions (each a float64 pipeline) of the pooler's sizes, computed from a chart's values by {@link POOLER_FORMULAS}. */
export type PoolerSizingTemplate = Record<keyof typeof POOLER_FORMULAS, string>;

/**
 * {@link POOLER_FORMULAS} as Go template pipelines: `values` are Go expressions of max_connections, the pooler
 * replicas and the three pinnable settings (each may be null: derived).
 */
export function poolerSizingTemplate(values: { maxConnections: string; poolerReplicas: string; defaultPoolSize: string; reservePoolSize: string; maxClientConn: string }): PoolerSizingTemplate {
  return Object.fromEntries(Object.entries(POOLER_FORMULAS).map(([k, f]) => [k, goTemplate(f, values)])) as PoolerSizingTemplate;
}

/** A byte count as a PostgreSQL memory setting in whole megabytes (PostgreSQL's MB is 1024 kB). */
export function pgMemory(bytes: number): string {
  return `${Math.floor(bytes / MIB)}MB`;
}

function floorMiB(bytes: number): number {
  return Math.floor(bytes / MIB) * MIB;
}
