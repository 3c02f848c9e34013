import { createHash } from 'crypto';
import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { PostgresConnectionInfo, SecretKeyRef } from '../connections';
import { DB_POOL, PATRONI, POSTGRES } from '../defaults';
import { createPdb } from '../disruption';
import { ValidationError } from '../errors';
import { generatedPassword } from '../generated-secret';
import { IMAGE_TAG_REFUSED, KNOB_SCHEMAS, Knobs } from '../knobs';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import { AlertRule, createPrometheusRule, createServiceMonitor, exporterSidecar } from '../monitoring';
import {
  ResolvedResources, ResourceProps, TMP_MOUNT, TMP_VOLUME, containerSecurityContext, podSecurityContext,
  presetPlacement, resolveResources, spreadScheduling, toResourceRequirements, withRegistry,
} from '../pod';
import { Preset, Presets } from '../presets';
import { prometheusDuration } from '../core/rules';
import { checkImage, checkInteger, checkObjectName, checkResourceName, checkRule, parseMemory } from '../validate';
import { ASSETS, readAsset, renderTemplate } from './files';
import {
  PatroniProps, RESTAPI_PORT, ROLE_LABEL, ResolvedPatroni, SCOPE_LABEL, patroniEnv, patroniFiles, patroniRbac, patroniStatefulSet, resolvePatroni, rolePdbs,
} from './patroni';
import type { PatroniRbac } from './patroni';
import {
  ADMIN_HEADROOM_RATIO, ConnectionHeadroom, MAX_CONNECTIONS_RANGE, MIN_ADMIN_HEADROOM, MIN_STORAGE_BYTES, MemorySettings, PoolerSizing,
  ReplicationSettings, SUPERUSER_RESERVED_CONNECTIONS, connectionHeadroom, maxSlotWalKeepBytes, memorySettings,
  memorySettingsTemplate, minimumMemoryBytes, pgMemory, poolerSizing, replicationSettings,
  requiredReplicationCapacity, workMemTooSmallTemplate,
} from './sizing';
import { withEphemeralStorage } from '../ephemeral-storage';
import { DatastorePodProps, applyDatastorePodProps } from '../datastore-pod';

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
   * `patroni`: one StatefulSet of Patroni members with automatic failover through the Kubernetes API (leader lock
   * in a ConfigMap; ServiceAccount, Role, RoleBinding), `-rw` following the leader, pg_rewind, planned switchover
   * before the leader stops (lib/postgres/patroni.ts). `none`: the primary and replica StatefulSets, where promoting
   * a replica is manual.
   * @default `none` (kept for this release: existing clusters' objects stay the same; see docs/postgres.md)
   */
  readonly failover?: 'none' | 'patroni';
  /** Patroni's timing and synchronous mode (with `failover: 'patroni'`). @default ttl 30, loopWait 10, retryTimeout 10, maximumLagOnFailover 1 MiB, async */
  readonly patroni?: PatroniProps;
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

const PORT = 5432;
const POOLER_PORT = 6432;
const POSTGRES_EXPORTER_PORT = 9187;
const PGBOUNCER_EXPORTER_PORT = 9127;
/** UID/GID of the `postgres` user in the official image. */
const POSTGRES_UID = 999;
/** UID/GID of the `postgres` user in the PgBouncer image. */
const POOLER_UID = 70;
const DATA_MOUNT = '/var/lib/postgresql/data';
const PGDATA = `${DATA_MOUNT}/pgdata`;
const SOCKET_DIR = '/var/run/postgresql';
/** libpq password file the replica's WAL receiver reads, written by bootstrap-replica.sh into the socket emptyDir. */
const PGPASSFILE = `${SOCKET_DIR}/.pgpass`;
const CONFIG_DIR = '/etc/postgresql-cluster';
const PASSWORD_DIR = '/run/postgresql-passwords';
const POOLER_CONFIG_DIR = '/etc/pgbouncer-template';
const POOLER_RUN_DIR = '/var/run/pgbouncer';
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const NAME_MAX_LENGTH = 40;

/**
 * A PostgreSQL 17 primary with streaming read replicas (pg_basebackup + one physical slot each) and a PgBouncer
 * pooler in transaction mode whose pools can never exceed Postgres' max_connections minus a headroom.
 *
 * No automatic failover: when the primary's node is lost, the primary comes back when its volume is reachable
 * again; promoting a replica is a manual operation (README.md, "PostgresCluster").
 */
export class PostgresCluster extends Construct {
  public readonly name: string;
  /** How clients reach the cluster: hosts, port, database, role, password Secret and connection budget. */
  public readonly connection: PostgresConnectionInfo;
  /** Every derived number. */
  public readonly settings: PostgresSettings;
  public readonly replicas: number;
  /** Postgres container resources (also the bootstrap init container's). */
  public readonly resources: ResolvedResources;
  public readonly poolerResources: ResolvedResources;
  public readonly configMap: k8s.KubeConfigMap;
  public readonly poolerConfigMap: k8s.KubeConfigMap;
  public readonly primary: k8s.KubeStatefulSet;
  /** Undefined when the cluster has no replicas. */
  public readonly replicaSet?: k8s.KubeStatefulSet;
  public readonly pooler: k8s.KubeDeployment;
  public readonly headlessService: k8s.KubeService;
  public readonly readWriteService: k8s.KubeService;
  public readonly readOnlyService?: k8s.KubeService;
  public readonly poolerService: k8s.KubeService;
  /** The cluster-wide budget; with Patroni, the leader's (see {@link rolePdbs}). */
  public readonly pdb: k8s.KubePodDisruptionBudget;
  /** With Patroni: the leader's and the replicas' budgets over the role label. */
  public readonly rolePdbs: k8s.KubePodDisruptionBudget[] = [];
  /** With Patroni: its resolved settings and the ServiceAccount, Role and RoleBinding its DCS uses. */
  public readonly patroni?: ResolvedPatroni & { readonly rbac: PatroniRbac };
  public readonly poolerPdb: k8s.KubePodDisruptionBudget;
  public readonly serviceMonitors: ApiObject[] = [];
  public readonly prometheusRule?: ApiObject;
  public readonly networkPolicies: k8s.KubeNetworkPolicy[] = [];
  /** Labels a client pod needs to pass the NetworkPolicies (when enabled). */
  public readonly clientLabels: Record<string, string>;
  /** Pods allowed to reach Postgres and the pooler; grown by {@link allowClient}. */
  private readonly postgresPeers: k8s.NetworkPolicyPeer[] = [];
  private readonly poolerPeers: k8s.NetworkPolicyPeer[] = [];
  /** Synth-time warnings (also recorded as construct metadata `scalecharts:warning`). */
  public readonly warnings: string[] = [];

  private readonly image: string;
  private readonly credentials: Required<{ [K in keyof PostgresCredentials]: SecretKeyRef }>;
  private readonly clusterSelector: Record<string, string>;
  private readonly partOf?: string;
  /** The effective preset, resolved once (it walks the scope chain). */
  private readonly preset: Preset;

  constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    const preset = this.preset = Presets.of(this);
    this.name = checkResourceName(this, 'name', props.name ?? id, NAME_MAX_LENGTH);
    this.partOf = props.partOf;
    const failover = props.failover ?? 'none';
    if (failover !== 'none' && failover !== 'patroni') throw new ValidationError(this, 'failover', failover, 'must be "none" or "patroni"');
    const patroni = failover === 'patroni' ? resolvePatroni(this, props.patroni) : undefined;
    this.image = checkImage(this, 'image', withRegistry(props.image ?? (patroni ? PATRONI.image : POSTGRES.image), preset.imageRegistry));
    this.credentials = {
      superuser: this.checkSecret('credentials.superuser', props.credentials?.superuser ?? generatedPassword(this, 'superuser-password', `${this.name}-superuser`)),
      replication: this.checkSecret('credentials.replication', props.credentials?.replication ?? generatedPassword(this, 'replication-password', `${this.name}-replication`)),
      app: this.checkSecret('credentials.app', props.credentials?.app ?? generatedPassword(this, 'app-password', `${this.name}-app`)),
    };
    const database = checkSqlIdentifier(this, 'database', props.database ?? 'app');
    const user = checkSqlIdentifier(this, 'user', props.user ?? 'app');
    const replicationUser = checkSqlIdentifier(this, 'replicationUser', props.replicationUser ?? 'replicator');
    if (user === replicationUser && props.user === undefined) {
      // The caller set only replicationUser, to the default application role: that is the prop to change.
      throw new ValidationError(this, 'replicationUser', replicationUser, `must differ from user ("${user}", the default application role)`);
    }
    if (user === 'postgres' || user === replicationUser) {
      throw new ValidationError(this, 'user', user, `must differ from "postgres" and from replicationUser ("${replicationUser}")`);
    }
    if (replicationUser === 'postgres') {
      throw new ValidationError(this, 'replicationUser', replicationUser, 'must differ from "postgres"');
    }

    this.replicas = checkInteger(this, 'replicas', props.replicas ?? preset.postgres?.readReplicas ?? POSTGRES.readReplicas, { min: 0, max: 15 });
    if (this.replicas === 0) {
      this.warn('replicas is 0: a single primary without a standby; a lost volume means restoring from backup');
    }
    const replication = this.resolveReplication(props);
    const maxConnections = checkInteger(this, 'maxConnections', props.maxConnections ?? POSTGRES.maxConnections, MAX_CONNECTIONS_RANGE);

    // Requests = limits by default: a throttled or OOM-killed database hurts every client at once.
    this.resources = resolveResources(this, 'resources', props.resources, undefined, {
      requests: { cpu: POSTGRES.cpu, memory: POSTGRES.memory },
      limits: { cpu: POSTGRES.cpu, memory: POSTGRES.memory },
    });
    const minimumMemory = minimumMemoryBytes(maxConnections);
    if (this.resources.requestBytes < minimumMemory) {
      throw new ValidationError(this, 'resources.requests.memory', this.resources.requests.memory,
        `is too small for maxConnections ${maxConnections}: work_mem would fall below 1MB; request at least ${minimumMemory / 2 ** 20}Mi or lower maxConnections`);
    }
    const memory = memorySettings(this.resources.requestBytes, maxConnections);

    const storageSize = props.storage?.size ?? POSTGRES.storage;
    const storageBytes = parseMemory(this, 'storage.size', storageSize);
    if (storageBytes < MIN_STORAGE_BYTES) {
      throw new ValidationError(this, 'storage.size', storageSize, 'must be at least 1Gi');
    }
    const storageClassName = props.storage?.storageClassName === undefined
      ? undefined : checkObjectName(this, 'storage.storageClassName', props.storage.storageClassName);

    const pooler = this.resolvePooler(props.pooler ?? {}, maxConnections);
    const headroom = connectionHeadroom(maxConnections);
    this.settings = { maxConnections, headroom, memory, replication, maxSlotWalKeepBytes: maxSlotWalKeepBytes(storageBytes), pooler };

    const metrics = this.resolveMetrics(props.metrics);
    this.clusterSelector = { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/instance': this.name };
    this.clientLabels = props.networkPolicy && typeof props.networkPolicy === 'object' && props.networkPolicy.clientLabels
      ? checkLabels(this, 'networkPolicy.clientLabels', props.networkPolicy.clientLabels)
      : { 'app.kubernetes.io/part-of': this.labels('database')['app.kubernetes.io/part-of'] };

    // Config files: rendered templates and scripts from this folder.
    this.configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${this.name}-config`, labels: this.labels('database') },
      data: {
        'postgresql.conf': renderTemplate(ASSETS.postgresqlConf, this.postgresqlConfValues(String(maxConnections), pgMemory(memory.workMemBytes))),
        'pg_hba.conf': readAsset(ASSETS.pgHbaConf),
        'bootstrap-primary.sh': readAsset(ASSETS.bootstrapPrimary),
        'bootstrap-replica.sh': readAsset(ASSETS.bootstrapReplica),
        'run-postgres.sh': readAsset(ASSETS.runPostgres),
        'probe.sh': readAsset(ASSETS.probe),
        ...(patroni ? patroniFiles({
          patroni, replicationUser, maxConnections, maxWalSenders: replication.maxWalSenders,
          maxReplicationSlots: replication.maxReplicationSlots, configDir: CONFIG_DIR, runDir: SOCKET_DIR,
        }) : {}),
      },
    });
    this.poolerConfigMap = new k8s.KubeConfigMap(this, 'pooler-config', {
      metadata: { name: `${this.name}-pooler-config`, labels: this.labels('pooler', `${this.name}-pooler`) },
      data: {
        'pgbouncer.ini': renderTemplate(ASSETS.pgbouncerIni, {
          database, user, poolMode: POSTGRES.poolMode, maxPreparedStatements: POSTGRES.poolerMaxPreparedStatements,
          defaultPoolSize: pooler.defaultPoolSize, reservePoolSize: pooler.reservePoolSize,
          maxDbConnections: pooler.maxDbConnections, maxClientConn: pooler.maxClientConn,
        }),
        'pooler-init.sh': readAsset(ASSETS.poolerInit),
      },
    });

    // Services: read-write (primary), read-only (replicas), pooler, and the headless one the StatefulSets need.
    const rwHost = `${this.name}-rw`;
    const poolerName = `${this.name}-pooler`;
    const poolerSelector = selectorLabels(poolerName, 'pooler');
    this.headlessService = new k8s.KubeService(this, 'headless', {
      metadata: { name: `${this.name}-headless`, labels: this.labels('database') },
      spec: {
        clusterIp: 'None',
        // Per-pod DNS (orders-db-replica-0.orders-db-headless) exists before readiness, for debugging a pod that
        // is still catching up.
        publishNotReadyAddresses: true,
        selector: this.clusterSelector,
        ports: [
          { name: 'postgres', port: PORT, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' },
          ...(metrics ? [{ name: 'metrics', port: POSTGRES_EXPORTER_PORT, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] : []),
        ],
      },
    });
    // With Patroni the role label moves with the leader: the Services follow it without any restart.
    const roleSelector = (role: 'primary' | 'replica') => (patroni ? { ...this.clusterSelector, [ROLE_LABEL]: role } : selectorLabels(this.name, role));
    const runtimeRole = patroni ? { 'ignore-check.kube-linter.io/dangling-service': `Patroni sets ${ROLE_LABEL} on the member pods at run time` } : undefined;
    this.readWriteService = this.clientService('rw', rwHost, this.labels('primary'), roleSelector('primary'), 'postgres', undefined, runtimeRole);
    if (this.replicas > 0) {
      this.readOnlyService = this.clientService('ro', `${this.name}-ro`, this.labels('replica'), roleSelector('replica'), 'postgres', undefined, runtimeRole);
    }
    this.poolerService = this.clientService('pooler-service', poolerName, this.labels('pooler', poolerName), poolerSelector, 'pgbouncer',
      metrics ? PGBOUNCER_EXPORTER_PORT : undefined);

    // Workloads.
    const postgresHash = hashOf(this.configMap);
    const poolerHash = hashOf(this.poolerConfigMap);
    // The pod annotations are what the Helm chart's templates compute from the same values (declareKnobs), so the
    // chart's default render equals the plain synth.
    const { pooler: poolerSettings } = this.settings;
    const postgresPodHash = knobHash(postgresHash, [this.settings.maxConnections]);
    const poolerPodHash = knobHash(poolerHash, [poolerSettings.defaultPoolSize, poolerSettings.reservePoolSize, poolerSettings.maxClientConn]);
    const workload = { database, user, replicationUser, rwHost, metrics, preset };
    const storage = { storageSize, storageClassName };
    if (patroni) {
      // Named after the Patroni scope, so a Helm release prefixes the scope (env, pod label) with the names.
      const rbac = patroniRbac(this, `${this.name}-patroni`, this.labels('database'));
      this.patroni = { ...patroni, rbac };
      this.primary = this.patroniMembers({ ...workload, ...storage, configHash: postgresPodHash });
      // In a Helm chart the scope (leader lock `<scope>-leader`) and the pod label Patroni selects members by both get
      // the release prefix, so two releases in one namespace never share a Patroni cluster.
      const env = this.primary.toJson().spec.template.spec.containers[0].env as k8s.EnvVar[];
      const scopeTemplate = `{{ .Release.Name }}-{{ $values.patroni.scope }}`;
      Knobs.declare(this, {
        key: 'patroni.scope', description: 'Patroni scope after the release name (its ConfigMaps are <release>-<scope>-leader, -config, -failover, -sync)',
        schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$' }, default: `${this.name}-patroni`,
        targets: [
          { object: this.primary, path: ['spec', 'template', 'spec', 'containers', 0, 'env', env.findIndex((e) => e.name === 'PATRONI_SCOPE'), 'value'], template: scopeTemplate },
          { object: this.primary, path: ['spec', 'template', 'metadata', 'labels', SCOPE_LABEL], template: scopeTemplate },
        ],
      });
    } else {
      this.primary = this.statefulSet('primary', 1, { ...workload, ...storage, configHash: postgresPodHash });
      if (this.replicas > 0) {
        this.replicaSet = this.statefulSet('replica', this.replicas, { ...workload, ...storage, configHash: postgresPodHash });
      }
    }
    this.poolerResources = resolveResources(this, 'pooler.resources', props.pooler?.resources, undefined, {
      requests: POSTGRES.poolerRequests, limits: POSTGRES.poolerLimits,
    });
    this.pooler = this.poolerDeployment(props.pooler ?? {}, { ...workload, configHash: poolerPodHash });

    // Disruption: one database pod at a time (never the primary and a replica together), one pooler pod at a time.
    if (patroni) {
      this.rolePdbs.push(...rolePdbs(this, this.name, this.labels('database'), this.clusterSelector, this.replicas));
      this.pdb = this.rolePdbs[0];
    } else {
      this.pdb = createPdb(this, 'pdb', { name: this.name, labels: this.labels('database'), selector: this.clusterSelector });
    }
    this.poolerPdb = createPdb(this, 'pooler-pdb', { name: poolerName, labels: this.labels('pooler', poolerName), selector: poolerSelector });

    if (metrics) this.prometheusRule = this.createMonitoring(metrics, poolerSelector);
    // On by default (issue 15): wired clients, the pooler, replication and the exporter scrape get through.
    if (props.networkPolicy ?? true) this.createNetworkPolicies(poolerSelector, metrics !== undefined, patroni !== undefined);

    this.connection = {
      readWriteHost: rwHost,
      readOnlyHost: this.readOnlyService ? `${this.name}-ro` : undefined,
      poolerHost: poolerName,
      port: PORT,
      database,
      user,
      passwordSecret: this.credentials.app,
      maxConnections,
      reservedConnections: headroom.total,
      poolerMaxClientConnections: pooler.totalClientConnections,
      poolerServerConnections: pooler.totalServerConnections,
    };
    this.declareKnobs(storageSize, postgresHash, poolerHash);
    applyDatastorePodProps(this, props);
  }

  // ---------------------------------------------------------------------------------------------- props

  private checkSecret(property: string, ref: PasswordSecretRef | undefined): SecretKeyRef {
    if (!ref || typeof ref !== 'object') {
      throw new ValidationError(this, property, ref, 'must name a Secret: { secretName: "...", key?: "password" }');
    }
    const key = ref.key ?? 'password';
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new ValidationError(this, `${property}.key`, key, "must be a Secret key: letters, digits, '-', '_' and '.'");
    return { secretName: checkObjectName(this, `${property}.secretName`, ref.secretName), key };
  }

  private resolveReplication(props: PostgresClusterProps): ReplicationSettings {
    const derived = replicationSettings(this.replicas);
    const needed = requiredReplicationCapacity(this.replicas);
    const pinned = (property: 'maxWalSenders' | 'maxReplicationSlots'): number => {
      const value = props[property];
      if (value === undefined) return derived[property];
      checkInteger(this, property, value, { min: 1, max: 1000 });
      if (value < needed) {
        throw new ValidationError(this, property, value,
          `must be at least replicas + 1 = ${needed} (one per replica plus a spare for a replica being rebuilt); lower replicas or raise ${property}`);
      }
      return value;
    };
    return { maxWalSenders: pinned('maxWalSenders'), maxReplicationSlots: pinned('maxReplicationSlots') };
  }

  private resolvePooler(props: PoolerProps, maxConnections: number): PoolerSizing {
    const headroom = connectionHeadroom(maxConnections);
    const budget = maxConnections - headroom.total;
    const replicas = checkInteger(this, 'pooler.replicas', props.replicas ?? this.preset.postgres?.poolerReplicas ?? POSTGRES.poolerReplicas, { min: 1, max: budget });
    const optional = (property: 'defaultPoolSize' | 'reservePoolSize' | 'maxClientConnections', min: number) =>
      props[property] === undefined ? undefined : checkInteger(this, `pooler.${property}`, props[property] as number, { min, max: 100_000 });
    const sizing = poolerSizing({
      maxConnections,
      poolerReplicas: replicas,
      defaultPoolSize: optional('defaultPoolSize', 1),
      reservePoolSize: optional('reservePoolSize', 0),
      maxClientConn: optional('maxClientConnections', 1),
    });
    if (sizing.totalServerConnections > sizing.serverConnectionBudget || sizing.defaultPoolSize < 1) {
      const property = props.defaultPoolSize !== undefined ? 'pooler.defaultPoolSize' : 'pooler.reservePoolSize';
      throw new ValidationError(this, property, props.defaultPoolSize ?? props.reservePoolSize,
        `makes ${replicas} pooler replicas × (defaultPoolSize + reservePoolSize) = ${sizing.totalServerConnections} server connections, `
        + `above maxConnections ${maxConnections} − headroom ${headroom.total} = ${sizing.serverConnectionBudget}; `
        + `keep defaultPoolSize + reservePoolSize ≤ ${sizing.perReplicaBudget} per replica (defaultPoolSize ≥ 1)`);
    }
    if (sizing.maxClientConn < sizing.defaultPoolSize) {
      throw new ValidationError(this, 'pooler.maxClientConnections', sizing.maxClientConn,
        `must be at least defaultPoolSize (${sizing.defaultPoolSize}): fewer clients than server connections makes the pooler pointless`);
    }
    return sizing;
  }

  private resolveMetrics(metrics: PostgresClusterProps['metrics']): Required<PostgresMetricsProps> | undefined {
    if (!metrics) return undefined;
    const m = typeof metrics === 'object' ? metrics : {};
    const interval = m.interval ?? '30s';
    checkRule(this, 'metrics.interval', interval, prometheusDuration());
    return {
      interval,
      replicationLagSeconds: checkInteger(this, 'metrics.replicationLagSeconds', m.replicationLagSeconds ?? POSTGRES.replicationLagAlertSeconds, { min: 1, max: 86_400 }),
      postgresExporterImage: checkImage(this, 'metrics.postgresExporterImage', m.postgresExporterImage ?? POSTGRES.postgresExporterImage),
      pgbouncerExporterImage: checkImage(this, 'metrics.pgbouncerExporterImage', m.pgbouncerExporterImage ?? POSTGRES.pgbouncerExporterImage),
    };
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.node.addMetadata('scalecharts:warning', message);
  }


  // ------------------------------------------------------------------------------------------- objects

  private labels(component: string, name = this.name): Record<string, string> {
    const version = component === 'pooler' ? undefined : imageVersion(this.image);
    return standardLabels(this, { name, component, partOf: this.partOf, version }, this.preset.labels);
  }

  private postgresqlConfValues(maxConnections: string, workMem: string): Record<string, string | number> {
    const { memory, replication } = this.settings;
    return {
      maxConnections,
      superuserReservedConnections: SUPERUSER_RESERVED_CONNECTIONS,
      memory: this.resources.requests.memory,
      sharedBuffers: pgMemory(memory.sharedBuffersBytes),
      effectiveCacheSize: pgMemory(memory.effectiveCacheSizeBytes),
      workMem,
      maintenanceWorkMem: pgMemory(memory.maintenanceWorkMemBytes),
      maxWalSenders: replication.maxWalSenders,
      maxReplicationSlots: replication.maxReplicationSlots,
      maxSlotWalKeepSize: pgMemory(this.settings.maxSlotWalKeepBytes),
      autovacuumVacuumScaleFactor: POSTGRES.autovacuumVacuumScaleFactor,
    };
  }

  private clientService(id: string, name: string, labels: Record<string, string>, selector: Record<string, string>,
    targetPort: string, metricsPort?: number, annotations?: Record<string, string>): k8s.KubeService {
    const ports: k8s.ServicePort[] = [{ name: 'postgres', port: PORT, targetPort: k8s.IntOrString.fromString(targetPort), protocol: 'TCP' }];
    if (metricsPort) ports.push({ name: 'metrics', port: metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' });
    return new k8s.KubeService(this, id, { metadata: { name, labels, ...(annotations ? { annotations } : {}) }, spec: { type: 'ClusterIP', selector, ports } });
  }

  private passwordVolume(which: keyof PostgresCredentials): k8s.Volume {
    const ref = this.credentials[which];
    // 0440 with the pod's fsGroup: readable by the container user only.
    return { name: `${which}-password`, secret: { secretName: ref.secretName, items: [{ key: ref.key, path: 'password' }], defaultMode: 0o440 } };
  }

  private statefulSet(role: 'primary' | 'replica', replicas: number, opts: WorkloadOptions & { storageSize: string; storageClassName?: string }): k8s.KubeStatefulSet {
    const labels = this.labels(role);
    // Each container gets exactly the variables its script reads (see the script headers).
    const env = (pairs: Record<string, string>): k8s.EnvVar[] => Object.entries(pairs).map(([name, value]) => ({ name, value }));
    const podName: k8s.EnvVar = { name: 'REPLICA_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
    const primaryUpstream = { PRIMARY_HOST: opts.rwHost, PRIMARY_PORT: String(PORT), REPLICATION_USER: opts.replicationUser };
    const bootstrapEnv: k8s.EnvVar[] = role === 'primary'
      ? env({
        PGDATA, PG_SOCKET_DIR: SOCKET_DIR, SUPERUSER_PASSWORD_FILE: passwordFile('superuser'), REPLICATION_USER: opts.replicationUser,
        REPLICATION_PASSWORD_FILE: passwordFile('replication'), APP_USER: opts.user, APP_PASSWORD_FILE: passwordFile('app'),
        APP_DATABASE: opts.database,
      })
      : [...env({ PGDATA, PGPASSFILE, ...primaryUpstream, REPLICATION_PASSWORD_FILE: passwordFile('replication') }), podName];
    const runEnv: k8s.EnvVar[] = [
      ...env({ PG_ROLE: role, PGDATA, PG_CONFIG_DIR: CONFIG_DIR, PG_PORT: String(PORT), PG_LISTEN_ADDRESSES: '*', PG_SOCKET_DIR: SOCKET_DIR }),
      ...(role === 'replica' ? [...env({ ...primaryUpstream, PGPASSFILE }), podName] : []),
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'data', mountPath: DATA_MOUNT },
      { name: 'run', mountPath: SOCKET_DIR },
      { name: 'dshm', mountPath: '/dev/shm' },
      TMP_MOUNT,
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    ];
    const bootstrapPasswords: (keyof PostgresCredentials)[] = role === 'primary' ? ['superuser', 'replication', 'app'] : ['replication'];
    const resources = toResourceRequirements(this.resources);
    const probe = (mode: 'liveness' | 'readiness'): k8s.Probe['exec'] => ({ command: ['bash', `${CONFIG_DIR}/probe.sh`, mode] });

    const bootstrap: k8s.Container = {
      name: 'bootstrap',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['bash', `${CONFIG_DIR}/bootstrap-${role}.sh`],
      env: bootstrapEnv,
      resources,
      securityContext: containerSecurityContext(true),
      volumeMounts: [...mounts, ...bootstrapPasswords.map(passwordMount)],
    };
    const postgres: k8s.Container = {
      name: 'postgres',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['bash', `${CONFIG_DIR}/run-postgres.sh`],
      env: runEnv,
      ports: [{ name: 'postgres', containerPort: PORT, protocol: 'TCP' }],
      resources,
      securityContext: containerSecurityContext(true),
      // probe.sh (lib/postgres): liveness fails only when the postmaster is gone, so crash recovery, however
      // long, is never killed (it answers "rejecting connections" while it replays WAL). The startup probe is the
      // same check: up to 30 minutes for the postmaster to answer at all (a slow volume attach or fsync at start).
      startupProbe: { exec: probe('liveness'), periodSeconds: 5, timeoutSeconds: 4, failureThreshold: POSTGRES.startupProbeFailures },
      readinessProbe: { exec: probe('readiness'), periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 3 },
      livenessProbe: { exec: probe('liveness'), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
      // Kubernetes stops with SIGTERM, Postgres' "smart" shutdown, which waits until every pooled connection
      // has closed. A fast shutdown rolls back open transactions and stops cleanly within the grace period.
      lifecycle: { preStop: { exec: { command: ['pg_ctl', 'stop', `--pgdata=${PGDATA}`, '--mode=fast', '--wait', '--timeout=50'] } } },
      volumeMounts: mounts,
    };
    const containers = [postgres];
    const passwords = new Set(bootstrapPasswords);
    if (opts.metrics) {
      containers.push(postgresExporter(opts.metrics.postgresExporterImage));
      passwords.add('superuser');
    }

    return new k8s.KubeStatefulSet(this, role, {
      metadata: { name: `${this.name}-${role}`, labels },
      spec: {
        replicas,
        serviceName: `${this.name}-headless`,
        selector: { matchLabels: selectorLabels(this.name, role) },
        // One pod at a time: a replica being cloned uses two WAL senders, so two clones at once could exceed the budget.
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels, annotations: { ...opts.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: opts.configHash } },
          spec: withEphemeralStorage({
            automountServiceAccountToken: false,
            securityContext: podSecurityContext({ runAsUser: POSTGRES_UID }),
            terminationGracePeriodSeconds: 60,
            initContainers: [bootstrap],
            containers,
            volumes: [
              { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
              { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(`${this.settings.memory.sharedMemoryVolumeBytes / 2 ** 20}Mi`) } },
              TMP_VOLUME,
              { name: 'config', configMap: { name: this.configMap.name } },
              ...[...passwords].map((p) => this.passwordVolume(p)),
            ],
            // Primary and replicas never share a node: losing one node must never take two copies of the data.
            ...spreadScheduling({ selector: this.clusterSelector, nodeAntiAffinity: 'required' }),
            ...presetPlacement(opts.preset),
          }),
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(opts.storageClassName ? { storageClassName: opts.storageClassName } : {}),
            resources: { requests: { storage: k8s.Quantity.fromString(opts.storageSize) } },
          },
        }],
      },
    });
  }

  /** The Patroni members (lib/postgres/patroni.ts): replicas + 1 pods, the leader elected among them. */
  private patroniMembers(opts: WorkloadOptions & { storageSize: string; storageClassName?: string }): k8s.KubeStatefulSet {
    const env = (pairs: Record<string, string>): k8s.EnvVar[] => Object.entries(pairs).map(([name, value]) => ({ name, value }));
    const passwords = new Set<keyof PostgresCredentials>(['superuser', 'replication', 'app']);
    const sidecars = opts.metrics ? [postgresExporter(opts.metrics.postgresExporterImage)] : [];
    return patroniStatefulSet(this, {
      name: this.name,
      scopeName: `${this.name}-patroni`,
      members: this.replicas + 1,
      image: this.image,
      labels: this.labels('database'),
      clusterSelector: this.clusterSelector,
      podAnnotations: { ...opts.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: opts.configHash },
      env: patroniEnv({
        scopeName: `${this.name}-patroni`, clusterSelector: this.clusterSelector, port: PORT, dataDir: PGDATA,
        appUser: opts.user, appDatabase: opts.database, appPasswordFile: passwordFile('app'),
      }),
      initEnv: env({
        PATRONI_CONFIG_DIR: CONFIG_DIR, PATRONI_RUN_DIR: SOCKET_DIR,
        SUPERUSER_PASSWORD_FILE: passwordFile('superuser'), REPLICATION_PASSWORD_FILE: passwordFile('replication'),
      }),
      resources: toResourceRequirements(this.resources),
      securityContext: containerSecurityContext(true),
      podSecurityContext: podSecurityContext({ runAsUser: PATRONI.uid }),
      mounts: [
        { name: 'data', mountPath: DATA_MOUNT },
        { name: 'run', mountPath: SOCKET_DIR },
        { name: 'dshm', mountPath: '/dev/shm' },
        TMP_MOUNT,
        { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      ],
      passwordMounts: { init: [passwordMount('superuser'), passwordMount('replication')], main: [passwordMount('app')] },
      volumes: [
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
        { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(`${this.settings.memory.sharedMemoryVolumeBytes / 2 ** 20}Mi`) } },
        TMP_VOLUME,
        { name: 'config', configMap: { name: this.configMap.name } },
        ...[...passwords].map((p) => this.passwordVolume(p)),
      ],
      sidecars,
      placement: {
        ...spreadScheduling({ selector: this.clusterSelector, nodeAntiAffinity: 'required' }),
        ...presetPlacement(opts.preset),
      },
      port: PORT,
      configDir: CONFIG_DIR,
      runDir: SOCKET_DIR,
      storage: {
        accessModes: ['ReadWriteOnce'],
        ...(opts.storageClassName ? { storageClassName: opts.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString(opts.storageSize) } },
      },
    });
  }

  private poolerDeployment(props: PoolerProps, opts: WorkloadOptions): k8s.KubeDeployment {
    const name = `${this.name}-pooler`;
    const labels = this.labels('pooler', name);
    const image = checkImage(this, 'pooler.image', withRegistry(props.image ?? POSTGRES.poolerImage, opts.preset.imageRegistry));
    const resources = toResourceRequirements(this.poolerResources);
    const runMount: k8s.VolumeMount = { name: 'run', mountPath: POOLER_RUN_DIR };
    const init: k8s.Container = {
      name: 'render-config',
      // The postgres image brings bash for pooler-init.sh; the PgBouncer image need not have a shell.
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['bash', `${POOLER_CONFIG_DIR}/pooler-init.sh`],
      env: [
        { name: 'PGBOUNCER_CONFIG_DIR', value: POOLER_CONFIG_DIR },
        { name: 'PGBOUNCER_RUN_DIR', value: POOLER_RUN_DIR },
        { name: 'POSTGRES_HOST', value: opts.rwHost },
        { name: 'POSTGRES_PORT', value: String(PORT) },
        { name: 'PGBOUNCER_LISTEN_ADDR', value: '0.0.0.0' },
        { name: 'PGBOUNCER_PORT', value: String(POOLER_PORT) },
        { name: 'APP_USER', value: opts.user },
        { name: 'APP_PASSWORD_FILE', value: passwordFile('app') },
      ],
      resources,
      securityContext: containerSecurityContext(true),
      volumeMounts: [runMount, TMP_MOUNT, { name: 'config', mountPath: POOLER_CONFIG_DIR, readOnly: true }, passwordMount('app')],
    };
    const pgbouncer: k8s.Container = {
      name: 'pgbouncer',
      image,
      imagePullPolicy: 'IfNotPresent',
      command: ['pgbouncer', `${POOLER_RUN_DIR}/pgbouncer.ini`],
      ports: [{ name: 'pgbouncer', containerPort: POOLER_PORT, protocol: 'TCP' }],
      resources,
      securityContext: containerSecurityContext(true),
      readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('pgbouncer') }, periodSeconds: 5, failureThreshold: 3 },
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('pgbouncer') }, periodSeconds: 10, failureThreshold: 6 },
      volumeMounts: [runMount, TMP_MOUNT],
    };
    const containers = [pgbouncer];
    if (opts.metrics) containers.push(pgbouncerExporter(opts.metrics.pgbouncerExporterImage, opts.user));

    return new k8s.KubeDeployment(this, 'pooler', {
      metadata: { name, labels },
      spec: {
        replicas: this.settings.pooler.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selectorLabels(name, 'pooler') },
        // A new pooler pod must be ready before an old one goes; surge one at a time: each pooler pod holds a
        // share of the server-connection budget, and a surge pod only opens connections as clients arrive.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: { labels, annotations: { ...opts.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: opts.configHash } },
          spec: withEphemeralStorage({
            automountServiceAccountToken: false,
            securityContext: podSecurityContext({ runAsUser: POOLER_UID }),
            terminationGracePeriodSeconds: 30,
            initContainers: [init],
            containers,
            volumes: [
              // Memory-backed: the rendered auth file never touches a disk.
              { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('4Mi') } },
              TMP_VOLUME,
              { name: 'config', configMap: { name: this.poolerConfigMap.name } },
              this.passwordVolume('app'),
            ],
            ...spreadScheduling({ selector: selectorLabels(name, 'pooler'), nodeAntiAffinity: 'preferred' }),
            ...presetPlacement(opts.preset),
          }),
        },
      },
    });
  }

  private createMonitoring(metrics: Required<PostgresMetricsProps>, poolerSelector: Record<string, string>): ApiObject {
    this.serviceMonitors.push(
      createServiceMonitor(this, 'service-monitor', {
        name: this.name, labels: this.labels('database'),
        selector: { ...this.clusterSelector, 'app.kubernetes.io/component': 'database' },
        endpoints: [{ port: 'metrics', interval: metrics.interval }],
      }),
      createServiceMonitor(this, 'pooler-service-monitor', {
        name: `${this.name}-pooler`, labels: this.labels('pooler', `${this.name}-pooler`),
        selector: poolerSelector,
        endpoints: [{ port: 'metrics', interval: metrics.interval }],
      }),
    );
    const namespace = Chart.of(this).namespace;
    const scope = (job: string) => `job="${job}"${namespace ? `, namespace="${namespace}"` : ''}`;
    const db = scope(`${this.name}-headless`);
    const pool = scope(`${this.name}-pooler`);
    const ratio = DB_POOL.saturationAlertRatio;
    const rules: AlertRule[] = [
      {
        alert: 'PostgresReplicationLag',
        expr: `max by (pod) (pg_replication_lag_seconds{${db}}) > ${metrics.replicationLagSeconds}`,
        for: '5m',
        severity: 'warning',
        summary: `Postgres replica {{ $labels.pod }} of ${this.name} is more than ${metrics.replicationLagSeconds}s behind the primary`,
        description: 'Reads from the replica are stale. Check the replica\'s disk and CPU, the network, and long queries holding replay back.',
      },
      {
        alert: 'PostgresReplicaDown',
        expr: `(count(pg_replication_is_replica{${db}} == 1 and on (pod) pg_up{${db}} == 1) or vector(0)) < ${this.replicas}`,
        for: '5m',
        severity: this.replicas > 1 ? 'warning' : 'critical',
        summary: `Fewer than ${this.replicas} read replicas of ${this.name} are up`,
        description: 'A replica is not running or not in recovery. Its slot keeps WAL on the primary until it returns (bounded by max_slot_wal_keep_size).',
      },
      {
        alert: 'PostgresPrimaryDown',
        expr: `(count(pg_replication_is_replica{${db}} == 0 and on (pod) pg_up{${db}} == 1) or vector(0)) < 1`,
        for: '2m',
        severity: 'critical',
        summary: `The primary of ${this.name} is down`,
        description: this.patroni
          ? 'Writes fail. Patroni promotes a replica within ttl; if this persists, no member can lead: check `patronictl list`, the Kubernetes API and the members\' logs (docs/postgres.md, "Patroni").'
          : 'Writes fail. There is no automatic failover: restore the primary pod (docs/postgres.md, "Limitations").',
      },
      {
        alert: 'PgBouncerPoolSaturation',
        expr: `max by (pod) (pgbouncer_databases_current_connections{${pool}} / pgbouncer_databases_pool_size{${pool}}) >= ${ratio}`,
        for: '5m',
        severity: 'warning',
        summary: `Pooler {{ $labels.pod }} of ${this.name} uses ≥ ${ratio * 100}% of its server pool`,
        description: 'Clients will start to wait for server connections. Inspect slow queries, then raise max_connections and the pool sizes one step (seed 001).',
      },
    ];
    return createPrometheusRule(this, 'prometheus-rule', {
      name: this.name, labels: this.labels('database'), groupName: `${this.name}.postgres`,
      rules: this.replicas > 0 ? rules : rules.filter((r) => !r.alert.startsWith('PostgresReplica')),
    });
  }

  private createNetworkPolicies(poolerSelector: Record<string, string>, metrics: boolean, patroni: boolean): void {
    const tcp = (port: number): k8s.NetworkPolicyPort => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    const clients: k8s.NetworkPolicyPeer = { podSelector: { matchLabels: this.clientLabels } };
    this.postgresPeers.push({ podSelector: { matchLabels: poolerSelector } }, { podSelector: { matchLabels: this.clusterSelector } }, clients);
    this.poolerPeers.push(clients);
    // Prometheus runs in another namespace: the metrics ports are open to any pod, the database ports are not.
    const metricsRule = (port: number): k8s.NetworkPolicyIngressRule[] => (metrics ? [{ ports: [tcp(port)] }] : []);
    this.networkPolicies.push(
      new k8s.KubeNetworkPolicy(this, 'network-policy', {
        metadata: { name: this.name, labels: this.labels('database') },
        spec: {
          podSelector: { matchLabels: this.clusterSelector },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: this.postgresPeers,
              ports: [tcp(PORT)],
            },
            // Patroni members compare WAL positions through each other's REST API during a failover.
            ...(patroni ? [{ from: [{ podSelector: { matchLabels: this.clusterSelector } }], ports: [tcp(RESTAPI_PORT)] }] : []),
            ...metricsRule(POSTGRES_EXPORTER_PORT),
          ],
        },
      }),
      new k8s.KubeNetworkPolicy(this, 'pooler-network-policy', {
        metadata: { name: `${this.name}-pooler`, labels: this.labels('pooler', `${this.name}-pooler`) },
        spec: {
          podSelector: { matchLabels: poolerSelector },
          policyTypes: ['Ingress'],
          ingress: [{ from: this.poolerPeers, ports: [tcp(POOLER_PORT)] }, ...metricsRule(PGBOUNCER_EXPORTER_PORT)],
        },
      }),
    );
  }

  /**
   * Lets pods matching `selector` reach Postgres and the pooler through the NetworkPolicies (a no-op when policies
   * are off, or when `clientLabels` already admit them). `connectPostgres` calls it for every wired workload.
   */
  public allowClient(selector: Record<string, string>): void {
    if (this.networkPolicies.length === 0) return;
    const admitted = Object.entries(this.clientLabels).every(([k, v]) => selector[k] === v);
    if (admitted) return;
    const peer: k8s.NetworkPolicyPeer = { podSelector: { matchLabels: { ...selector } } };
    this.postgresPeers.push(peer);
    this.poolerPeers.push(peer);
  }

  // --------------------------------------------------------------------------------------------- knobs

  private declareKnobs(storageSize: string, postgresHash: string, poolerHash: string): void {
    const statefulSets = [this.primary, ...(this.replicaSet ? [this.replicaSet] : [])];
    const podSpec = ['spec', 'template', 'spec'];
    const postgresContainers = statefulSets.flatMap((s) => [
      { object: s, path: [...podSpec, 'containers', 0] }, { object: s, path: [...podSpec, 'initContainers', 0] },
    ]);
    const at = this.image.lastIndexOf(':');
    if (!this.image.includes('@')) {
      const template = '{{ $values.image.repository }}:{{ $values.image.tag }}';
      const imageTargets = [...postgresContainers.map((c) => ({ ...c, path: [...c.path, 'image'], template })),
        { object: this.pooler, path: [...podSpec, 'initContainers', 0, 'image'], template }];
      Knobs.declare(this, { key: 'image.repository', description: 'Postgres image repository (official postgres image)', schema: KNOB_SCHEMAS.imageRepository, default: this.image.slice(0, at), targets: imageTargets });
      Knobs.declare(this, { key: 'image.tag', description: 'Postgres image tag, pinned (tested with 17.x; "latest" is refused)', schema: KNOB_SCHEMAS.imageTag, refused: IMAGE_TAG_REFUSED, default: this.image.slice(at + 1), targets: [] });
    }
    if (this.replicaSet) {
      const max = Math.min(this.settings.replication.maxWalSenders, this.settings.replication.maxReplicationSlots) - 1;
      Knobs.declare(this, { key: 'replicas', description: `Read replicas (at most max_wal_senders − 1 = ${max}; scaling down leaves a slot on the primary to drop)`, schema: { type: 'integer', minimum: 1, maximum: max }, default: this.replicas, targets: [{ object: this.replicaSet, path: ['spec', 'replicas'] }] });
    }
    const quantity = KNOB_SCHEMAS.byteQuantity;
    const res = this.resources;
    for (const [kind, field, value] of [
      ['requests', 'cpu', res.requests.cpu], ['requests', 'memory', res.requests.memory],
      ['limits', 'cpu', res.limits.cpu], ['limits', 'memory', res.limits.memory],
    ] as const) {
      const note = kind === 'requests' && field === 'memory' ? ' (shared_buffers, effective_cache_size, work_mem and maintenance_work_mem follow it)' : '';
      Knobs.declare(this, {
        key: `resources.${kind}.${field}`, description: `Postgres container ${field} ${kind}${note}`, schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : quantity, default: value,
        targets: postgresContainers.map((c) => ({ ...c, path: [...c.path, 'resources', kind, field] })), ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
      });
    }
    Knobs.declare(this, {
      key: 'storage.size', description: 'Volume size of each Postgres pod (only for new volumes: StatefulSet claims are immutable; expand existing PVCs directly)',
      schema: quantity, default: storageSize,
      targets: statefulSets.map((s) => ({ object: s, path: ['spec', 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage'] })),
    });

    // max_connections lives in postgresql.conf: the knob re-renders the whole file, with the memory settings
    // derived from it and the memory request by the construct's own formulas (MEMORY_FORMULAS), and re-hashes the
    // pod annotation so Postgres restarts with the new value.
    const { pooler } = this.settings;
    const confTemplate = renderTemplate(ASSETS.postgresqlConf, {
      ...this.postgresqlConfValues('{{ $values.maxConnections }}', ''),
      ...memorySettingsTemplate('$values.resources.requests.memory', '$values.maxConnections'),
      memory: '{{ $values.resources.requests.memory }}',
    });
    // The bounds that depend on other values (pool sizes, memory) are rules below, so they follow those values.
    Knobs.declare(this, {
      key: 'maxConnections',
      description: `Postgres max_connections (at least the pooler's server connections (now ${pooler.totalServerConnections}) plus headroom; at most about memory request / 4Mi, so work_mem stays ≥ 1MB)`,
      schema: { type: 'integer', minimum: MAX_CONNECTIONS_RANGE.min, maximum: MAX_CONNECTIONS_RANGE.max },
      default: this.settings.maxConnections,
      targets: [
        { object: this.configMap, path: ['data', 'postgresql.conf'], template: confTemplate },
        ...statefulSets.map((s) => ({ object: s, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v" "${postgresHash}" $values.maxConnections | sha256sum | trunc 16 }}` })),
      ],
    });

    // Pool sizes live in pgbouncer.ini: one knob re-renders the file from all four pool values.
    const iniTemplate = renderTemplate(ASSETS.pgbouncerIni, {
      database: this.connection.database, user: this.connection.user, poolMode: POSTGRES.poolMode,
      maxPreparedStatements: POSTGRES.poolerMaxPreparedStatements,
      defaultPoolSize: '{{ $values.pooler.defaultPoolSize }}', reservePoolSize: '{{ $values.pooler.reservePoolSize }}',
      maxDbConnections: '{{ add $values.pooler.defaultPoolSize $values.pooler.reservePoolSize }}',
      maxClientConn: '{{ $values.pooler.maxClientConnections }}',
    });
    const budget = pooler.serverConnectionBudget;
    Knobs.declare(this, {
      key: 'pooler.replicas', description: `PgBouncer replicas (replicas × (defaultPoolSize + reservePoolSize) must stay ≤ maxConnections − headroom, ${budget} by default)`,
      // The budget rule below bounds it (following maxConnections); only a pooler with no other valid count at the
      // synthesized sizes keeps a static maximum, so the schema still offers no value that can never render.
      schema: { type: 'integer', minimum: 1, maximum: poolerReplicasRoom(pooler) ? MAX_CONNECTIONS_RANGE.max : pooler.replicas },
      example: poolerReplicasRoom(pooler) ? ((pooler.replicas + 1) * pooler.maxDbConnections <= budget ? pooler.replicas + 1 : pooler.replicas - 1) : undefined,
      default: pooler.replicas, targets: [{ object: this.pooler, path: ['spec', 'replicas'] }],
    });
    Knobs.declare(this, {
      key: 'pooler.defaultPoolSize', description: `PgBouncer default_pool_size per replica (with reservePoolSize at most ${pooler.perReplicaBudget})`,
      schema: { type: 'integer', minimum: 1, maximum: MAX_CONNECTIONS_RANGE.max }, default: pooler.defaultPoolSize, example: Math.max(1, pooler.defaultPoolSize - 1),
      targets: [
        { object: this.poolerConfigMap, path: ['data', 'pgbouncer.ini'], template: iniTemplate },
        { object: this.pooler, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v-%v-%v" "${poolerHash}" $values.pooler.defaultPoolSize $values.pooler.reservePoolSize $values.pooler.maxClientConnections | sha256sum | trunc 16 }}` },
      ],
    });
    Knobs.declare(this, { key: 'pooler.reservePoolSize', description: 'PgBouncer reserve_pool_size per replica', schema: { type: 'integer', minimum: 0, maximum: MAX_CONNECTIONS_RANGE.max }, default: pooler.reservePoolSize, example: pooler.reservePoolSize > 0 ? pooler.reservePoolSize - 1 : undefined, targets: [] });
    Knobs.declare(this, { key: 'pooler.maxClientConnections', description: 'PgBouncer max_client_conn per replica', schema: { type: 'integer', minimum: 1, maximum: 100_000 }, default: pooler.maxClientConn, targets: [] });
    // The budget across the pooler values and maxConnections (each alone passes its schema; the bounds follow the
    // other values, e.g. a lower maxConnections with lower pools): lib/postgres/sizing.ts' connectionHeadroom in Go template.
    const mc = '(int $values.maxConnections)';
    const pct = Math.round(ADMIN_HEADROOM_RATIO * 100);
    const serverBudget = `(sub (sub ${mc} ${SUPERUSER_RESERVED_CONNECTIONS}) (max ${MIN_ADMIN_HEADROOM} (div (add (mul ${mc} ${pct}) 99) 100)))`;
    Knobs.rule(this, {
      failWhen: `gt (mul (int $values.pooler.replicas) (add (int $values.pooler.defaultPoolSize) (int $values.pooler.reservePoolSize))) ${serverBudget}`,
      message: 'pooler.replicas × (pooler.defaultPoolSize + pooler.reservePoolSize) server connections must stay ≤ maxConnections − headroom (3 superuser-reserved + max(5, 10 % of maxConnections))',
      shows: ['pooler.replicas', 'pooler.defaultPoolSize', 'pooler.reservePoolSize', 'maxConnections'],
    });
    Knobs.rule(this, {
      failWhen: workMemTooSmallTemplate('$values.resources.requests.memory', '$values.maxConnections'),
      message: 'maxConnections is too high for resources.requests.memory: work_mem = (memory − shared_buffers) / (3 × maxConnections) would fall below 1MB (about 4Mi of memory per connection)',
      shows: ['maxConnections', 'resources.requests.memory'],
    });
    Knobs.rule(this, {
      failWhen: 'lt (int $values.pooler.maxClientConnections) (int $values.pooler.defaultPoolSize)',
      message: 'pooler.maxClientConnections must be at least pooler.defaultPoolSize',
      shows: ['pooler.maxClientConnections', 'pooler.defaultPoolSize'],
    });
  }
}

/** Whether another pooler replica count than the synthesized one fits the budget at the synthesized pool sizes. */
function poolerReplicasRoom(p: PoolerSizing): boolean {
  return p.replicas > 1 || 2 * p.maxDbConnections <= p.serverConnectionBudget;
}

interface WorkloadOptions {
  readonly database: string;
  readonly user: string;
  readonly replicationUser: string;
  readonly rwHost: string;
  readonly metrics?: Required<PostgresMetricsProps>;
  readonly configHash: string;
  readonly preset: Preset;
}

const CONFIG_HASH_ANNOTATION = 'scalecharts.io/config-hash';

function passwordFile(which: keyof PostgresCredentials): string {
  return `${PASSWORD_DIR}/${which}/password`;
}

function passwordMount(which: keyof PostgresCredentials): k8s.VolumeMount {
  return { name: `${which}-password`, mountPath: `${PASSWORD_DIR}/${which}`, readOnly: true };
}

/** Both exporters answer on their metrics port as soon as they run; the scrape itself reports a dead database. */
const EXPORTER_PROBES = {
  readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10 },
  livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20 },
};

function postgresExporter(image: string): k8s.Container {
  return exporterSidecar({
    image,
    port: POSTGRES_EXPORTER_PORT,
    env: [
      { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${PORT}/postgres?sslmode=disable` },
      { name: 'DATA_SOURCE_USER', value: 'postgres' },
      { name: 'DATA_SOURCE_PASS_FILE', value: passwordFile('superuser') },
    ],
    requests: POSTGRES.exporterRequests,
    limits: POSTGRES.exporterLimits,
    ...EXPORTER_PROBES,
    volumeMounts: [passwordMount('superuser')],
  });
}

function pgbouncerExporter(image: string, user: string): k8s.Container {
  return exporterSidecar({
    image,
    port: PGBOUNCER_EXPORTER_PORT,
    env: [
      // lib/pq reads the password from PGPASSFILE, written by pooler-init.sh into the memory emptyDir: no password
      // in the connection string or in an environment variable (issue 18).
      { name: 'PGBOUNCER_EXPORTER_CONNECTION_STRING', value: `postgres://${user}@127.0.0.1:${POOLER_PORT}/pgbouncer?sslmode=disable` },
      { name: 'PGPASSFILE', value: `${POOLER_RUN_DIR}/exporter.pgpass` },
    ],
    requests: POSTGRES.exporterRequests,
    limits: POSTGRES.exporterLimits,
    ...EXPORTER_PROBES,
    volumeMounts: [{ name: 'run', mountPath: POOLER_RUN_DIR, readOnly: true }],
  });
}

function checkSqlIdentifier(scope: Construct, property: string, value: string): string {
  if (typeof value !== 'string' || !SQL_IDENTIFIER.test(value)) {
    throw new ValidationError(scope, property, value, "must be a plain SQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters");
  }
  return value;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function checkLabels(scope: Construct, property: string, labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) throw new ValidationError(scope, property, labels, 'must hold at least one label (an empty selector would admit every pod)');
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) throw new ValidationError(scope, `${property}.${key}`, key, 'must be a valid label key such as "app.kubernetes.io/part-of"');
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) throw new ValidationError(scope, `${property}.${key}`, value, 'must be a valid label value (at most 63 alphanumerics, "-", "_", ".")');
  }
  return { ...labels };
}

/** Short hash of a ConfigMap's data: changes roll the pods that read it at start. */
function hashOf(configMap: k8s.KubeConfigMap): string {
  return createHash('sha256').update(JSON.stringify(configMap.toJson().data)).digest('hex').slice(0, 16);
}

/** `printf "%s-%v-…" base values… | sha256sum | trunc 16`, as the chart's config-hash templates compute it. */
function knobHash(base: string, values: readonly number[]): string {
  return createHash('sha256').update([base, ...values].join('-')).digest('hex').slice(0, 16);
}
