/**
 * The Postgres pods of a PostgresCluster, rendered from the resolved spec only: the config ConfigMap, and either
 * the Patroni members (one StatefulSet, lib/postgres/patroni.ts) or the primary and replica StatefulSets
 * (`failover: 'none'`). Both topologies share {@link memberVolumes} and {@link memberMounts}.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { PATRONI, POSTGRES } from '../defaults';
import { withEphemeralStorage } from '../ephemeral-storage';
import { selectorLabels } from '../labels';
import { exporterSidecar } from '../monitoring';
import {
  TMP_MOUNT, TMP_VOLUME, containerSecurityContext, podSecurityContext, presetPlacement, spreadScheduling, toResourceRequirements,
} from '../pod';
import { ASSETS, readAsset, renderTemplate } from './files';
import {
  CONFIG_DIR, CONFIG_HASH_ANNOTATION, DATA_MOUNT, PGDATA, PGPASSFILE, PORT, POSTGRES_EXPORTER_PORT, POSTGRES_UID, SOCKET_DIR,
  passwordFile, passwordMount,
} from './layout';
import { BACKUP_QUERIES_FILE } from './backup';
import { memberExtensions } from './extensions';
import { patroniEnv, patroniFiles, patroniStatefulSet } from './patroni';
import type { CredentialRole, ResolvedPostgresCluster } from './resolve';
import { SUPERUSER_RESERVED_CONNECTIONS, pgMemory } from './sizing';

/** postgresql.conf's placeholders; max_connections and work_mem are strings so the chart can put templates there. */
export function postgresqlConfValues(spec: ResolvedPostgresCluster, maxConnections: string, workMem: string): Record<string, string | number> {
  const { memory, replication } = spec.settings;
  return {
    maxConnections,
    superuserReservedConnections: SUPERUSER_RESERVED_CONNECTIONS,
    memory: spec.resources.requests.memory,
    sharedBuffers: pgMemory(memory.sharedBuffersBytes),
    effectiveCacheSize: pgMemory(memory.effectiveCacheSizeBytes),
    workMem,
    maintenanceWorkMem: pgMemory(memory.maintenanceWorkMemBytes),
    maxWalSenders: replication.maxWalSenders,
    maxReplicationSlots: replication.maxReplicationSlots,
    maxSlotWalKeepSize: pgMemory(spec.settings.maxSlotWalKeepBytes),
    autovacuumVacuumScaleFactor: POSTGRES.autovacuumVacuumScaleFactor,
  };
}

/** Patroni's files for this cluster; `maxConnections` is a number, or template text for the chart's value. */
export function patroniFilesOf(spec: ResolvedPostgresCluster, maxConnections: number | string): Record<string, string> {
  const { settings } = spec;
  if (!spec.patroni) return {};
  return patroniFiles({
    patroni: spec.patroni, replicationUser: spec.replicationUser, maxConnections,
    maxWalSenders: settings.replication.maxWalSenders, maxReplicationSlots: settings.replication.maxReplicationSlots,
    configDir: CONFIG_DIR, runDir: SOCKET_DIR, backup: spec.backup, restore: spec.restore,
  });
}

/** The files every Postgres pod reads: postgresql.conf, pg_hba.conf, the scripts, and Patroni's when it runs. */
export function postgresConfigMap(scope: Construct, spec: ResolvedPostgresCluster): k8s.KubeConfigMap {
  const { settings } = spec;
  return new k8s.KubeConfigMap(scope, 'config', {
    metadata: { name: `${spec.name}-config`, labels: spec.labels.database },
    data: {
      'postgresql.conf': renderTemplate(ASSETS.postgresqlConf, postgresqlConfValues(spec, String(settings.maxConnections), pgMemory(settings.memory.workMemBytes))),
      'pg_hba.conf': readAsset(ASSETS.pgHbaConf),
      'bootstrap-primary.sh': readAsset(ASSETS.bootstrapPrimary),
      'bootstrap-replica.sh': readAsset(ASSETS.bootstrapReplica),
      'run-postgres.sh': readAsset(ASSETS.runPostgres),
      'probe.sh': readAsset(ASSETS.probe),
      ...(spec.patroni ? patroniFilesOf(spec, settings.maxConnections) : {}),
      ...memberExtensions(spec).files,
    },
  });
}

/** Both exporters answer on their metrics port as soon as they run; the scrape itself reports a dead database. */
export const EXPORTER_PROBES = {
  readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10 },
  livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20 },
};

function postgresExporter(image: string, backup: boolean): k8s.Container {
  return exporterSidecar({
    image,
    port: POSTGRES_EXPORTER_PORT,
    env: [
      { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${PORT}/postgres?sslmode=disable` },
      { name: 'DATA_SOURCE_USER', value: 'postgres' },
      { name: 'DATA_SOURCE_PASS_FILE', value: passwordFile('superuser') },
      // With backups: pg_backup_newest_age_seconds from the table the backup sidecar writes (lib/postgres/backup.ts).
      ...(backup ? [{ name: 'PG_EXPORTER_EXTEND_QUERY_PATH', value: `${CONFIG_DIR}/${BACKUP_QUERIES_FILE}` }] : []),
    ],
    requests: POSTGRES.exporterRequests,
    limits: POSTGRES.exporterLimits,
    ...EXPORTER_PROBES,
    volumeMounts: [passwordMount('superuser'), ...(backup ? [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }] : [])],
  });
}

/** The Secret volume of one password: 0440 with the pod's fsGroup, readable by the container user only. */
export function passwordVolume(spec: ResolvedPostgresCluster, which: CredentialRole): k8s.Volume {
  const ref = spec.credentials[which];
  return { name: `${which}-password`, secret: { secretName: ref.secretName, items: [{ key: ref.key, path: 'password' }], defaultMode: 0o440 } };
}

/** Mounts of every Postgres container (bootstrap, postgres/Patroni) besides the password files. */
export function memberMounts(): k8s.VolumeMount[] {
  return [
    { name: 'data', mountPath: DATA_MOUNT },
    { name: 'run', mountPath: SOCKET_DIR },
    { name: 'dshm', mountPath: '/dev/shm' },
    TMP_MOUNT,
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
  ];
}

/** The pod volumes of a Postgres member (both topologies): sockets, shared memory, /tmp, config, the passwords it reads. */
export function memberVolumes(spec: ResolvedPostgresCluster, configMapName: string, passwords: Iterable<CredentialRole>): k8s.Volume[] {
  return [
    { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(`${spec.settings.memory.sharedMemoryVolumeBytes / 2 ** 20}Mi`) } },
    TMP_VOLUME,
    { name: 'config', configMap: { name: configMapName } },
    ...[...new Set(passwords)].map((p) => passwordVolume(spec, p)),
    ...memberExtensions(spec).volumes,
  ];
}

function dataClaim(spec: ResolvedPostgresCluster): k8s.PersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    ...(spec.storage.storageClassName ? { storageClassName: spec.storage.storageClassName } : {}),
    resources: { requests: { storage: k8s.Quantity.fromString(spec.storage.size) } },
  };
}

function placement(spec: ResolvedPostgresCluster): Partial<k8s.PodSpec> {
  return {
    // Members never share a node: losing one node must never take two copies of the data.
    ...spreadScheduling({ selector: spec.clusterSelector, nodeAntiAffinity: 'required' }),
    ...presetPlacement(spec.preset),
  };
}

function sidecars(spec: ResolvedPostgresCluster): k8s.Container[] {
  return [...(spec.metrics ? [postgresExporter(spec.metrics.postgresExporterImage, spec.backup !== undefined)] : []), ...memberExtensions(spec).containers];
}

const envOf = (pairs: Record<string, string>): k8s.EnvVar[] => Object.entries(pairs).map(([name, value]) => ({ name, value }));

export interface MemberRenderOptions {
  readonly configMapName: string;
  /** The config-hash pod annotation (rolls the pods when the config changes). */
  readonly configHash: string;
  readonly rwHost: string;
}

/** The Patroni members: replicas + 1 pods, the leader elected among them. */
export function patroniMembers(scope: Construct, spec: ResolvedPostgresCluster, o: MemberRenderOptions): k8s.KubeStatefulSet {
  const scopeName = `${spec.name}-patroni`;
  return patroniStatefulSet(scope, {
    name: spec.name,
    scopeName,
    members: spec.replicas + 1,
    image: spec.image,
    labels: spec.labels.database,
    clusterSelector: spec.clusterSelector,
    podAnnotations: { ...spec.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: o.configHash },
    env: [
      ...patroniEnv({
        scopeName, clusterSelector: spec.clusterSelector, port: PORT, dataDir: PGDATA,
        appUser: spec.user, appDatabase: spec.database, appPasswordFile: passwordFile('app'),
      }),
      ...memberExtensions(spec).env,
    ],
    initEnv: envOf({
      PATRONI_CONFIG_DIR: CONFIG_DIR, PATRONI_RUN_DIR: SOCKET_DIR,
      SUPERUSER_PASSWORD_FILE: passwordFile('superuser'), REPLICATION_PASSWORD_FILE: passwordFile('replication'),
    }),
    resources: toResourceRequirements(spec.resources),
    securityContext: containerSecurityContext(true),
    podSecurityContext: podSecurityContext({ runAsUser: PATRONI.uid }),
    mounts: memberMounts(),
    passwordMounts: { init: [passwordMount('superuser'), passwordMount('replication')], main: [passwordMount('app')] },
    volumes: memberVolumes(spec, o.configMapName, ['superuser', 'replication', 'app']),
    sidecars: sidecars(spec),
    placement: placement(spec),
    port: PORT,
    configDir: CONFIG_DIR,
    runDir: SOCKET_DIR,
    storage: dataClaim(spec),
    initContainers: memberExtensions(spec).initContainers,
  });
}

/** `failover: 'none'`: the primary StatefulSet (1 pod) or the replicas' StatefulSet. */
export function plainMembers(scope: Construct, spec: ResolvedPostgresCluster, role: 'primary' | 'replica', o: MemberRenderOptions): k8s.KubeStatefulSet {
  const labels = spec.labels[role];
  // Each container gets exactly the variables its script reads (see the script headers).
  const podName: k8s.EnvVar = { name: 'REPLICA_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
  const primaryUpstream = { PRIMARY_HOST: o.rwHost, PRIMARY_PORT: String(PORT), REPLICATION_USER: spec.replicationUser };
  const bootstrapEnv: k8s.EnvVar[] = role === 'primary'
    ? envOf({
      PGDATA, PG_SOCKET_DIR: SOCKET_DIR, SUPERUSER_PASSWORD_FILE: passwordFile('superuser'), REPLICATION_USER: spec.replicationUser,
      REPLICATION_PASSWORD_FILE: passwordFile('replication'), APP_USER: spec.user, APP_PASSWORD_FILE: passwordFile('app'),
      APP_DATABASE: spec.database,
    })
    : [...envOf({ PGDATA, PGPASSFILE, ...primaryUpstream, REPLICATION_PASSWORD_FILE: passwordFile('replication') }), podName];
  const runEnv: k8s.EnvVar[] = [
    ...envOf({ PG_ROLE: role, PGDATA, PG_CONFIG_DIR: CONFIG_DIR, PG_PORT: String(PORT), PG_LISTEN_ADDRESSES: '*', PG_SOCKET_DIR: SOCKET_DIR }),
    ...(role === 'replica' ? [...envOf({ ...primaryUpstream, PGPASSFILE }), podName] : []),
    ...memberExtensions(spec).env,
  ];
  const mounts = memberMounts();
  const bootstrapPasswords: CredentialRole[] = role === 'primary' ? ['superuser', 'replication', 'app'] : ['replication'];
  const resources = toResourceRequirements(spec.resources);
  const probe = (mode: 'liveness' | 'readiness'): k8s.Probe['exec'] => ({ command: ['bash', `${CONFIG_DIR}/probe.sh`, mode] });

  const bootstrap: k8s.Container = {
    name: 'bootstrap',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', `${CONFIG_DIR}/bootstrap-${role}.sh`],
    env: bootstrapEnv,
    resources,
    securityContext: containerSecurityContext(true),
    volumeMounts: [...mounts, ...bootstrapPasswords.map(passwordMount)],
  };
  const postgres: k8s.Container = {
    name: 'postgres',
    image: spec.image,
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
  const passwords: CredentialRole[] = [...bootstrapPasswords, ...(spec.metrics ? ['superuser' as const] : [])];

  return new k8s.KubeStatefulSet(scope, role, {
    metadata: { name: `${spec.name}-${role}`, labels },
    spec: {
      replicas: role === 'primary' ? 1 : spec.replicas,
      serviceName: `${spec.name}-headless`,
      selector: { matchLabels: selectorLabels(spec.name, role) },
      // One pod at a time: a replica being cloned uses two WAL senders, so two clones at once could exceed the budget.
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels, annotations: { ...spec.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: o.configHash } },
        spec: withEphemeralStorage({
          automountServiceAccountToken: false,
          securityContext: podSecurityContext({ runAsUser: POSTGRES_UID }),
          terminationGracePeriodSeconds: 60,
          initContainers: [bootstrap],
          containers: [postgres, ...sidecars(spec)],
          volumes: memberVolumes(spec, o.configMapName, passwords),
          ...placement(spec),
        }),
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: dataClaim(spec) }],
    },
  });
}
