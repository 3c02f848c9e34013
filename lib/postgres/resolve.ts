/**
 * The resolve step of PostgresCluster: props + preset + defaults → a plain resolved spec, or every ValidationError
 * found (issue 13). Rendering (members.ts, pooler.ts, services.ts, monitoring.ts, knobs.ts) reads only the spec and
 * checks nothing.
 */
import type { IConstruct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { Problems } from '../core/problems';
import { integerRule, isRecord, labelValue, prometheusDuration, qualifiedName } from '../core/rules';
import { BACKUP, PATRONI, POSTGRES } from '../defaults';
import { imageVersion, standardLabels } from '../labels';
import { ResolvedResources, resolveResources, withRegistry } from '../pod';
import type { Preset } from '../presets';
import { checkImage, checkObjectName, checkResourceName, parseMemory } from '../validate';
import { ResolvedBackup, ResolvedRestore, resolveBackup, resolveRestore } from './backup';
import { ResolvedPatroni, resolvePatroni } from './patroni';
import type {
  PasswordSecretRef, PoolerProps, PostgresClusterProps, PostgresCredentials, PostgresMetricsProps, PostgresSettings,
} from './props';
import {
  MAX_CONNECTIONS_RANGE, MIN_STORAGE_BYTES, PoolerSizing, ReplicationSettings, connectionHeadroom, maxSlotWalKeepBytes,
  memorySettings, minimumMemoryBytes, poolerSizing, replicationSettings, requiredReplicationCapacity,
} from './sizing';

export type CredentialRole = keyof PostgresCredentials;
export const CREDENTIAL_ROLES: readonly CredentialRole[] = ['superuser', 'replication', 'app'];

/** A PostgresCluster after defaults, preset and validation: everything rendering needs, nothing it must check. */
export interface ResolvedPostgresCluster {
  readonly name: string;
  readonly failover: 'none' | 'patroni';
  /** Set with `failover: 'patroni'`. */
  readonly patroni?: ResolvedPatroni;
  /** Set with `backup` (lib/postgres/backup.ts). */
  readonly backup?: ResolvedBackup;
  /** Set with `restore`: the first member bootstraps from the store. */
  readonly restore?: ResolvedRestore;
  readonly image: string;
  readonly credentials: Readonly<Record<CredentialRole, SecretKeyRef>>;
  /** Credentials the caller left out: the construct creates a GeneratedSecret for each (`<name>-<role>`). */
  readonly generatedCredentials: readonly CredentialRole[];
  readonly database: string;
  readonly user: string;
  readonly replicationUser: string;
  /** Read replicas (Patroni: members − 1). */
  readonly replicas: number;
  readonly settings: PostgresSettings;
  readonly resources: ResolvedResources;
  readonly storage: { readonly size: string; readonly storageClassName?: string };
  readonly pooler: {
    readonly image: string;
    readonly resources: ResolvedResources;
    /** Which PgBouncer settings the props pin; the others are derived (and follow the chart's values). */
    readonly pinned: Readonly<Record<'defaultPoolSize' | 'reservePoolSize' | 'maxClientConn', boolean>>;
  };
  readonly metrics?: Required<PostgresMetricsProps>;
  readonly networkPolicy: boolean;
  readonly clientLabels: Record<string, string>;
  /** Selects every Postgres pod of the cluster (primary and replicas, or all Patroni members). */
  readonly clusterSelector: Record<string, string>;
  /** Standard labels per component: `database`, `primary`, `replica` (name = the cluster) and `pooler` (`<name>-pooler`). */
  readonly labels: Readonly<Record<'database' | 'primary' | 'replica' | 'pooler', Record<string, string>>>;
  readonly warnings: readonly string[];
  readonly preset: Preset;
}

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const SQL_IDENTIFIER_ALLOWED = "must be a plain SQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters";
export const NAME_MAX_LENGTH = 40;

export function resolvePostgresCluster(
  scope: IConstruct, id: string, props: PostgresClusterProps, preset: Preset,
): { spec: ResolvedPostgresCluster; errors: Problems['errors'] } {
  const p = new Problems(scope);
  if (!isRecord(props)) p.add('props', props, 'must be an object of PostgresCluster props', true);
  const given: PostgresClusterProps = isRecord(props) ? props : {};

  const name = p.run(() => checkResourceName(scope, 'name', given.name ?? id, NAME_MAX_LENGTH), 'invalid');
  const failover = given.failover ?? preset.postgres?.failover ?? POSTGRES.failover;
  if (failover !== 'none' && failover !== 'patroni') p.add('failover', failover, 'must be "none" or "patroni"', typeof failover !== 'string');
  const patroni = failover === 'patroni' ? resolvePatroni(p, given.patroni) : undefined;
  const backup = p.run(() => resolveBackup(scope, given.backup, typeof given.name === 'string' ? given.name : id), undefined);
  if (backup && !patroni) p.add('backup', given.backup, 'needs failover: "patroni" (the sidecar backs up whichever member Patroni made leader)');
  const restore = p.run(() => resolveRestore(scope, given.restore, backup), undefined);
  // Spilo ships WAL-G, not pgBackRest: with backups the members run Spilo plus pgBackRest (BACKUP.image).
  const defaultImage = patroni ? (backup ? BACKUP.image : PATRONI.image) : POSTGRES.image;
  const image = p.run(() => checkImage(scope, 'image', withRegistry(given.image ?? defaultImage, preset.imageRegistry)), defaultImage);

  const credentials = {} as Record<CredentialRole, SecretKeyRef>;
  const generatedCredentials: CredentialRole[] = [];
  for (const role of CREDENTIAL_ROLES) {
    const ref = given.credentials?.[role];
    if (ref === undefined) {
      generatedCredentials.push(role);
      credentials[role] = { secretName: `${name}-${role}`, key: 'password' };
    } else {
      credentials[role] = secretRef(p, scope, `credentials.${role}`, ref, `${name}-${role}`);
    }
  }

  const database = sqlIdentifier(p, 'database', given.database ?? 'app', 'app');
  const user = sqlIdentifier(p, 'user', given.user ?? 'app', 'app');
  const replicationUser = sqlIdentifier(p, 'replicationUser', given.replicationUser ?? 'replicator', 'replicator');
  if (user === replicationUser && given.user === undefined) {
    // The caller set only replicationUser, to the default application role: that is the prop to change.
    p.add('replicationUser', replicationUser, `must differ from user ("${user}", the default application role)`);
  } else if (user === 'postgres' || user === replicationUser) {
    p.add('user', user, `must differ from "postgres" and from replicationUser ("${replicationUser}")`);
  }
  if (replicationUser === 'postgres') p.add('replicationUser', replicationUser, 'must differ from "postgres"');

  const replicas = p.value<number>('replicas', given.replicas ?? preset.postgres?.readReplicas ?? POSTGRES.readReplicas,
    integerRule({ min: 0, max: 15 }), POSTGRES.readReplicas);
  const warnings: string[] = [];
  if (replicas === 0) warnings.push('replicas is 0: a single primary without a standby; a lost volume means restoring from backup');
  if (backup && patroni && given.image === undefined) {
    warnings.push(`backup runs the members on ${image}, which scalecharts does not publish: build and push `
      + 'images/spilo-pgbackrest (or an image with Patroni, PostgreSQL 17 and pgBackRest) and set image; until then the pods cannot pull it '
      + '(docs/postgres.md, "Backups and recovery")');
  }
  const replication = resolveReplication(p, given, replicas);
  const maxConnections = p.value<number>('maxConnections', given.maxConnections ?? POSTGRES.maxConnections, integerRule(MAX_CONNECTIONS_RANGE), POSTGRES.maxConnections);

  // Requests = limits by default: a throttled or OOM-killed database hurts every client at once.
  const postgresDefaults = {
    requests: { cpu: POSTGRES.cpu, memory: POSTGRES.memory },
    limits: { cpu: POSTGRES.cpu, memory: POSTGRES.memory },
  };
  const resources = p.run(() => resolveResources(scope, 'resources', given.resources, undefined, postgresDefaults),
    resolveResources(scope, 'resources', undefined, undefined, postgresDefaults));
  const minimumMemory = minimumMemoryBytes(maxConnections);
  if (resources.requestBytes < minimumMemory) {
    p.add('resources.requests.memory', resources.requests.memory,
      `is too small for maxConnections ${maxConnections}: work_mem would fall below 1MB; request at least ${minimumMemory / 2 ** 20}Mi or lower maxConnections`);
  }
  const memory = memorySettings(Math.max(resources.requestBytes, minimumMemory), maxConnections);

  const storageSize = given.storage?.size ?? POSTGRES.storage;
  let storageBytes = p.run(() => parseMemory(scope, 'storage.size', storageSize), MIN_STORAGE_BYTES);
  if (storageBytes < MIN_STORAGE_BYTES) {
    p.add('storage.size', storageSize, 'must be at least 1Gi');
    storageBytes = MIN_STORAGE_BYTES;
  }
  const storageClassName = given.storage?.storageClassName === undefined
    ? undefined : p.run(() => checkObjectName(scope, 'storage.storageClassName', given.storage!.storageClassName!), undefined);

  const poolerGiven: PoolerProps = isRecord(given.pooler) ? given.pooler : {};
  if (given.pooler !== undefined && !isRecord(given.pooler)) p.add('pooler', given.pooler, 'must be an object of pooler props', true);
  const pooler = resolvePooler(p, poolerGiven, maxConnections, preset);
  const poolerImage = p.run(() => checkImage(scope, 'pooler.image', withRegistry(poolerGiven.image ?? POSTGRES.poolerImage, preset.imageRegistry)), POSTGRES.poolerImage);
  const poolerDefaults = { requests: POSTGRES.poolerRequests, limits: POSTGRES.poolerLimits };
  const poolerResources = p.run(() => resolveResources(scope, 'pooler.resources', poolerGiven.resources, undefined, poolerDefaults),
    resolveResources(scope, 'pooler.resources', undefined, undefined, poolerDefaults));

  const metrics = resolveMetrics(p, scope, given.metrics);
  const version = imageVersion(image);
  const labels = p.run(() => ({
    database: standardLabels(scope, { name, component: 'database', partOf: given.partOf, version }, preset.labels),
    primary: standardLabels(scope, { name, component: 'primary', partOf: given.partOf, version }, preset.labels),
    replica: standardLabels(scope, { name, component: 'replica', partOf: given.partOf, version }, preset.labels),
    pooler: standardLabels(scope, { name: `${name}-pooler`, component: 'pooler', partOf: given.partOf }, preset.labels),
  }), { database: {}, primary: {}, replica: {}, pooler: {} });
  const clusterSelector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  const np = given.networkPolicy;
  const clientLabels = np && typeof np === 'object' && np.clientLabels !== undefined
    ? selectorLabels(p, 'networkPolicy.clientLabels', np.clientLabels)
    : { 'app.kubernetes.io/part-of': labels.database['app.kubernetes.io/part-of'] ?? 'invalid' };

  const headroom = connectionHeadroom(maxConnections);
  return {
    spec: {
      name, failover, patroni, backup, restore, image, credentials, generatedCredentials, database, user, replicationUser, replicas,
      settings: { maxConnections, headroom, memory, replication, maxSlotWalKeepBytes: maxSlotWalKeepBytes(storageBytes), pooler },
      resources, storage: { size: storageSize, ...(storageClassName ? { storageClassName } : {}) },
      pooler: {
        image: poolerImage, resources: poolerResources,
        pinned: {
          defaultPoolSize: poolerGiven.defaultPoolSize !== undefined, reservePoolSize: poolerGiven.reservePoolSize !== undefined,
          maxClientConn: poolerGiven.maxClientConnections !== undefined,
        },
      },
      metrics,
      networkPolicy: np !== false, clientLabels, clusterSelector, labels, warnings, preset,
    },
    errors: p.errors,
  };
}

function sqlIdentifier(p: Problems, property: string, value: unknown, fallback: string): string {
  if (typeof value !== 'string' || !SQL_IDENTIFIER.test(value)) {
    p.add(property, value, SQL_IDENTIFIER_ALLOWED, typeof value !== 'string');
    return fallback;
  }
  return value;
}

function secretRef(p: Problems, scope: IConstruct, property: string, ref: PasswordSecretRef, fallbackName: string): SecretKeyRef {
  const fallback = { secretName: fallbackName, key: 'password' };
  if (!isRecord(ref)) {
    p.add(property, ref, 'must name a Secret: { secretName: "...", key?: "password" }');
    return fallback;
  }
  const key = ref.key ?? 'password';
  if (typeof key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(key)) p.add(`${property}.key`, key, "must be a Secret key: letters, digits, '-', '_' and '.'");
  const secretName = p.run(() => checkObjectName(scope, `${property}.secretName`, ref.secretName), fallbackName);
  return { secretName, key };
}

function resolveReplication(p: Problems, props: PostgresClusterProps, replicas: number): ReplicationSettings {
  const derived = replicationSettings(replicas);
  const needed = requiredReplicationCapacity(replicas);
  const pinned = (property: 'maxWalSenders' | 'maxReplicationSlots'): number => {
    const value = props[property];
    if (value === undefined) return derived[property];
    if (!p.check(property, value, integerRule({ min: 1, max: 1000 }))) return derived[property];
    if (value < needed) {
      p.add(property, value,
        `must be at least replicas + 1 = ${needed} (one per replica plus a spare for a replica being rebuilt); lower replicas or raise ${property}`);
      return derived[property];
    }
    return value;
  };
  return { maxWalSenders: pinned('maxWalSenders'), maxReplicationSlots: pinned('maxReplicationSlots') };
}

function resolvePooler(p: Problems, props: PoolerProps, maxConnections: number, preset: Preset): PoolerSizing {
  const headroom = connectionHeadroom(maxConnections);
  const budget = maxConnections - headroom.total;
  const replicas = p.value<number>('pooler.replicas', props.replicas ?? preset.postgres?.poolerReplicas ?? POSTGRES.poolerReplicas,
    integerRule({ min: 1, max: budget }), Math.min(POSTGRES.poolerReplicas, budget));
  let valid = true;
  const optional = (property: 'defaultPoolSize' | 'reservePoolSize' | 'maxClientConnections', min: number): number | undefined => {
    if (props[property] === undefined) return undefined;
    if (p.check(`pooler.${property}`, props[property], integerRule({ min, max: 100_000 }))) return props[property];
    valid = false;
    return undefined;
  };
  const chosen = {
    defaultPoolSize: optional('defaultPoolSize', 1),
    reservePoolSize: optional('reservePoolSize', 0),
    maxClientConn: optional('maxClientConnections', 1),
  };
  const derived = poolerSizing({ maxConnections, poolerReplicas: replicas });
  if (!valid) return derived;
  const sizing = poolerSizing({ maxConnections, poolerReplicas: replicas, ...chosen });
  if (sizing.totalServerConnections > sizing.serverConnectionBudget || sizing.defaultPoolSize < 1) {
    const property = props.defaultPoolSize !== undefined ? 'pooler.defaultPoolSize' : 'pooler.reservePoolSize';
    p.add(property, props.defaultPoolSize ?? props.reservePoolSize,
      `makes ${replicas} pooler replicas × (defaultPoolSize + reservePoolSize) = ${sizing.totalServerConnections} server connections, `
      + `above maxConnections ${maxConnections} − headroom ${headroom.total} = ${sizing.serverConnectionBudget}; `
      + `keep defaultPoolSize + reservePoolSize ≤ ${sizing.perReplicaBudget} per replica (defaultPoolSize ≥ 1)`);
    return derived;
  }
  if (sizing.maxClientConn < sizing.defaultPoolSize) {
    p.add('pooler.maxClientConnections', sizing.maxClientConn,
      `must be at least defaultPoolSize (${sizing.defaultPoolSize}): fewer clients than server connections makes the pooler pointless`);
    return derived;
  }
  return sizing;
}

function resolveMetrics(p: Problems, scope: IConstruct, metrics: PostgresClusterProps['metrics']): Required<PostgresMetricsProps> | undefined {
  if (!metrics) return undefined;
  if (metrics !== true && !isRecord(metrics)) {
    p.add('metrics', metrics, 'must be true, false or { interval, replicationLagSeconds, postgresExporterImage, pgbouncerExporterImage }', true);
    return undefined;
  }
  const m: PostgresMetricsProps = metrics === true ? {} : metrics;
  return {
    interval: p.value('metrics.interval', m.interval ?? '30s', prometheusDuration(), '30s'),
    replicationLagSeconds: p.value('metrics.replicationLagSeconds', m.replicationLagSeconds ?? POSTGRES.replicationLagAlertSeconds,
      integerRule({ min: 1, max: 86_400 }), POSTGRES.replicationLagAlertSeconds),
    postgresExporterImage: p.run(() => checkImage(scope, 'metrics.postgresExporterImage', m.postgresExporterImage ?? POSTGRES.postgresExporterImage), POSTGRES.postgresExporterImage),
    pgbouncerExporterImage: p.run(() => checkImage(scope, 'metrics.pgbouncerExporterImage', m.pgbouncerExporterImage ?? POSTGRES.pgbouncerExporterImage), POSTGRES.pgbouncerExporterImage),
  };
}

/** A non-empty label selector (an empty one would admit every pod of the namespace). */
function selectorLabels(p: Problems, property: string, labels: unknown): Record<string, string> {
  const entries = isRecord(labels) ? Object.entries(labels) : [];
  if (entries.length === 0) {
    p.add(property, labels, 'must hold at least one label (an empty selector would admit every pod)', !isRecord(labels));
    return { invalid: 'invalid' };
  }
  for (const [key, value] of entries) {
    if (qualifiedName()(key)) p.add(`${property}.${key}`, key, 'must be a valid label key such as "app.kubernetes.io/part-of"');
    else p.check(`${property}.${key}`, value, labelValue());
  }
  return { ...(labels as Record<string, string>) };
}

