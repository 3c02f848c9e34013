/**
 * The Helm chart values of a PostgresCluster (lib/knobs.ts): each knob names the objects and paths its value lands
 * in, so the chart's default render equals the plain synth. Rendered from the resolved spec and the objects built.
 */
import type { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { POSTGRES } from '../defaults';
import { IMAGE_TAG_REFUSED, KNOB_SCHEMAS, Knobs } from '../knobs';
import { ASSETS, renderTemplate } from './files';
import { CONFIG_HASH_ANNOTATION } from './layout';
import { patroniFilesOf, postgresqlConfValues } from './members';
import { declareBackupKnobs } from './backup-knobs';
import type { ResolvedPostgresCluster } from './resolve';
import {
  ADMIN_HEADROOM_RATIO, MAX_CONNECTIONS_RANGE, MIN_ADMIN_HEADROOM, SUPERUSER_RESERVED_CONNECTIONS, memorySettingsTemplate, minimumMemoryBytes, poolerSizing, poolerSizingTemplate, sharedMemoryVolumeTemplate, workMemTooSmallTemplate,
} from './sizing';

const MIB = 2 ** 20;

export interface KnobObjects {
  readonly configMap: k8s.KubeConfigMap;
  readonly poolerConfigMap: k8s.KubeConfigMap;
  /** The primary StatefulSet, or the Patroni members. */
  readonly primary: k8s.KubeStatefulSet;
  readonly replicaSet?: k8s.KubeStatefulSet;
  readonly pooler: k8s.KubeDeployment;
  /** Hashes of the two ConfigMaps' data (the base of the pod config-hash annotations). */
  readonly postgresHash: string;
  readonly poolerHash: string;
}

export function declarePostgresKnobs(scope: Construct, spec: ResolvedPostgresCluster, o: KnobObjects): void {
  if (spec.backup) declareBackupKnobs(scope, spec.backup, o.configMap, o.primary);
  const storageSize = spec.storage.size;
  const { postgresHash, poolerHash } = o;
  const statefulSets = [o.primary, ...(o.replicaSet ? [o.replicaSet] : [])];
  const podSpec = ['spec', 'template', 'spec'];
  const postgresContainers = statefulSets.flatMap((s) => [
    { object: s, path: [...podSpec, 'containers', 0] }, { object: s, path: [...podSpec, 'initContainers', 0] },
  ]);
  const at = spec.image.lastIndexOf(':');
  if (!spec.image.includes('@')) {
    const template = '{{ $values.image.repository }}:{{ $values.image.tag }}';
    const imageTargets = [...postgresContainers.map((c) => ({ ...c, path: [...c.path, 'image'], template })),
      { object: o.pooler, path: [...podSpec, 'initContainers', 0, 'image'], template }];
    Knobs.declare(scope, { key: 'image.repository', description: 'Postgres image repository (official postgres image)', schema: KNOB_SCHEMAS.imageRepository, default: spec.image.slice(0, at), targets: imageTargets });
    Knobs.declare(scope, { key: 'image.tag', description: 'Postgres image tag, pinned (tested with 17.x; "latest" is refused)', schema: KNOB_SCHEMAS.imageTag, refused: IMAGE_TAG_REFUSED, default: spec.image.slice(at + 1), targets: [] });
  }
  const maxReplicas = Math.min(spec.settings.replication.maxWalSenders, spec.settings.replication.maxReplicationSlots) - 1;
  if (o.replicaSet) {
    Knobs.declare(scope, { key: 'replicas', description: `Read replicas (at most max_wal_senders − 1 = ${maxReplicas}; scaling down leaves a slot on the primary to drop)`, schema: { type: 'integer', minimum: 1, maximum: maxReplicas }, default: spec.replicas, targets: [{ object: o.replicaSet, path: ['spec', 'replicas'] }] });
  } else if (spec.patroni && spec.replicas > 0) {
    // Patroni: the members StatefulSet runs replicas + 1 pods. The replicas' budget keeps its synthesized
    // maxUnavailable (max(1, replicas − 1) at synth): re-synth to retune it.
    Knobs.declare(scope, {
      key: 'replicas', description: `Patroni replicas: members − 1 (at most max_wal_senders − 1 = ${maxReplicas}; Patroni drops a removed member's slot itself)`,
      schema: { type: 'integer', minimum: 1, maximum: maxReplicas }, default: spec.replicas,
      targets: [{ object: o.primary, path: ['spec', 'replicas'], template: '{{ add1 (int $values.replicas) }}' }],
    });
  }
  const quantity = KNOB_SCHEMAS.byteQuantity;
  const res = spec.resources;
  for (const [kind, field, value] of [
    ['requests', 'cpu', res.requests.cpu], ['requests', 'memory', res.requests.memory],
    ['limits', 'cpu', res.limits.cpu], ['limits', 'memory', res.limits.memory],
  ] as const) {
    const memoryRequest = kind === 'requests' && field === 'memory';
    const note = memoryRequest ? ' (shared_buffers, effective_cache_size, work_mem, maintenance_work_mem and the /dev/shm size follow it)' : '';
    Knobs.declare(scope, {
      key: `resources.${kind}.${field}`, description: `Postgres container ${field} ${kind}${note}`, schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : quantity, default: value,
      targets: [
        ...postgresContainers.map((c) => ({ ...c, path: [...c.path, 'resources', kind, field] })),
        // /dev/shm (parallel query) is sized from the memory request by MEMORY_FORMULAS.sharedMemoryVolumeMiB.
        ...(memoryRequest ? statefulSets.map((s) => ({ object: s, path: [...podSpec, 'volumes', volumeIndex(s, 'dshm'), 'emptyDir', 'sizeLimit'], template: sharedMemoryVolumeTemplate('$values.resources.requests.memory') })) : []),
      ],
      ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
      ...(memoryRequest ? { example: memoryRequestExample(spec) } : {}),
    });
  }
  Knobs.declare(scope, {
    key: 'storage.size', description: 'Volume size of each Postgres pod (only for new volumes: StatefulSet claims are immutable; expand existing PVCs directly)',
    schema: quantity, default: storageSize,
    targets: statefulSets.map((s) => ({ object: s, path: ['spec', 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage'] })),
  });

  // max_connections lives in postgresql.conf: the knob re-renders the whole file, with the memory settings
  // derived from it and the memory request by the construct's own formulas (MEMORY_FORMULAS), and re-hashes the
  // pod annotation so Postgres restarts with the new value.
  const { pooler } = spec.settings;
  const confTemplate = renderTemplate(ASSETS.postgresqlConf, {
    ...postgresqlConfValues(spec, '{{ $values.maxConnections }}', ''),
    ...memorySettingsTemplate('$values.resources.requests.memory', '$values.maxConnections'),
    memory: '{{ $values.resources.requests.memory }}',
  });
  // The bounds that depend on other values (pool sizes, memory) are rules below, so they follow those values.
  Knobs.declare(scope, {
    key: 'maxConnections',
    description: `Postgres max_connections (${Object.values(spec.pooler.pinned).some((p) => p)
      ? `at least the pinned pools' server connections (now ${pooler.totalServerConnections}) plus headroom; derived pool sizes follow it`
      : 'the derived pool sizes follow it'}; at most about memory request / 4Mi, so work_mem stays ≥ 1MB)`,
    schema: { type: 'integer', minimum: MAX_CONNECTIONS_RANGE.min, maximum: MAX_CONNECTIONS_RANGE.max },
    default: spec.settings.maxConnections,
    targets: [
      { object: o.configMap, path: ['data', 'postgresql.conf'], template: confTemplate },
      // Patroni starts Postgres with the max_connections of its DCS config, which patroni.yml seeds at bootstrap.
      ...(spec.patroni ? [{ object: o.configMap, path: ['data', 'patroni.yml'], template: patroniFilesOf(spec, '{{ $values.maxConnections }}')['patroni.yml'] }] : []),
      ...statefulSets.map((s) => ({ object: s, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v" "${postgresHash}" $values.maxConnections | sha256sum | trunc 16 }}` })),
    ],
  });

  // Pool sizes live in pgbouncer.ini: one knob re-renders the file from the effective pool sizes, each the pinned
  // value or, when null, derived from maxConnections and pooler.replicas by the construct's own formulas
  // (POOLER_FORMULAS), so pools follow those values; the config hash follows the effective sizes, so pods restart.
  const pool = poolerSizingTemplate({
    maxConnections: '$values.maxConnections', poolerReplicas: '$values.pooler.replicas',
    defaultPoolSize: '$values.pooler.defaultPoolSize', reservePoolSize: '$values.pooler.reservePoolSize', maxClientConn: '$values.pooler.maxClientConnections',
  });
  const iniTemplate = renderTemplate(ASSETS.pgbouncerIni, {
    database: spec.database, user: spec.user, poolMode: POSTGRES.poolMode,
    maxPreparedStatements: POSTGRES.poolerMaxPreparedStatements,
    defaultPoolSize: `{{ int ${pool.defaultPoolSize} }}`, reservePoolSize: `{{ int ${pool.reservePoolSize} }}`,
    maxDbConnections: `{{ int ${pool.maxDbConnections} }}`, maxClientConn: `{{ int ${pool.maxClientConn} }}`,
  });
  const pinned = spec.pooler.pinned;
  const pinnedInput = {
    defaultPoolSize: pinned.defaultPoolSize ? pooler.defaultPoolSize : undefined,
    reservePoolSize: pinned.reservePoolSize ? pooler.reservePoolSize : undefined,
    maxClientConn: pinned.maxClientConn ? pooler.maxClientConn : undefined,
  };
  // Another pooler replica count valid at the synthesized values (pinned sizes stay, derived ones follow).
  const fits = (replicas: number) => {
    if (replicas < 1) return false;
    const s = poolerSizing({ maxConnections: spec.settings.maxConnections, poolerReplicas: replicas, ...pinnedInput });
    return s.totalServerConnections <= s.serverConnectionBudget && s.defaultPoolSize >= 1 && s.maxClientConn >= s.defaultPoolSize;
  };
  const otherReplicas = [pooler.replicas + 1, pooler.replicas - 1].find(fits);
  // The pool examples must fit with the replicas example too (a chart test sets every example at once): below the
  // smaller of the sizes at either replica count, so each differs from the synthesized effective size.
  const atOther = otherReplicas === undefined ? pooler : poolerSizing({ maxConnections: spec.settings.maxConnections, poolerReplicas: otherReplicas, ...pinnedInput });
  const lowest = (k: 'defaultPoolSize' | 'reservePoolSize' | 'perReplicaBudget') => Math.min(pooler[k], atOther[k]);
  const budget = pooler.serverConnectionBudget;
  Knobs.declare(scope, {
    key: 'pooler.replicas', description: `PgBouncer replicas (replicas × (defaultPoolSize + reservePoolSize) must stay ≤ maxConnections − headroom, ${budget} by default; null pool sizes follow it)`,
    // The budget rule below bounds it (following maxConnections); only a pooler with no other valid count at the
    // synthesized values keeps a static maximum, so the schema still offers no value that can never render.
    schema: { type: 'integer', minimum: 1, maximum: otherReplicas !== undefined ? MAX_CONNECTIONS_RANGE.max : pooler.replicas },
    example: otherReplicas,
    default: pooler.replicas, targets: [{ object: o.pooler, path: ['spec', 'replicas'] }],
  });
  const share = 'floor((maxConnections − headroom) / pooler.replicas)';
  const poolKnob = (key: string, setting: string, isPinned: boolean, derived: string, now: number) => ({
    key: `pooler.${key}`,
    description: `PgBouncer ${setting} per replica; null: derived, ${derived} (now ${now})${isPinned ? '; the construct pins it' : ''}`,
    default: isPinned ? now : null,
  });
  Knobs.declare(scope, {
    ...poolKnob('defaultPoolSize', 'default_pool_size', pinned.defaultPoolSize, `${share} − reservePoolSize, where headroom = ${SUPERUSER_RESERVED_CONNECTIONS} + max(${MIN_ADMIN_HEADROOM}, ceil(${ADMIN_HEADROOM_RATIO * 100} % of maxConnections))`, pooler.defaultPoolSize),
    schema: { type: 'integer', nullable: true, minimum: 1, maximum: MAX_CONNECTIONS_RANGE.max },
    example: lowest('defaultPoolSize') > 1 ? lowest('defaultPoolSize') - 1 : undefined,
    targets: [
      { object: o.poolerConfigMap, path: ['data', 'pgbouncer.ini'], template: iniTemplate },
      { object: o.pooler, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v-%v-%v" "${poolerHash}" (int ${pool.defaultPoolSize}) (int ${pool.reservePoolSize}) (int ${pool.maxClientConn}) | sha256sum | trunc 16 }}` },
    ],
  });
  Knobs.declare(scope, {
    ...poolKnob('reservePoolSize', 'reserve_pool_size', pinned.reservePoolSize, `10 % of ${share}, at most what defaultPoolSize leaves of it`, pooler.reservePoolSize),
    schema: { type: 'integer', nullable: true, minimum: 0, maximum: MAX_CONNECTIONS_RANGE.max },
    example: lowest('reservePoolSize') > 0 ? lowest('reservePoolSize') - 1 : (!pinned.reservePoolSize && !pinned.defaultPoolSize && lowest('perReplicaBudget') >= 2 ? 1 : undefined),
    targets: [],
  });
  Knobs.declare(scope, {
    ...poolKnob('maxClientConnections', 'max_client_conn', pinned.maxClientConn, 'ceil(10 × maxConnections / pooler.replicas)', pooler.maxClientConn),
    schema: { type: 'integer', nullable: true, minimum: 1, maximum: 100_000 },
    ...(pinned.maxClientConn ? {} : { example: pooler.maxClientConn + 1 }),
    targets: [],
  });
  // The budget across the pooler values and maxConnections with the effective pool sizes (each value alone passes
  // its schema; pinned pools must fit the budget the other values leave).
  Knobs.rule(scope, {
    failWhen: `or (gt (mulf (float64 $values.pooler.replicas) ${pool.maxDbConnections}) ${pool.serverConnectionBudget}) (lt ${pool.defaultPoolSize} 1.0)`,
    message: 'pooler.replicas × (pooler.defaultPoolSize + pooler.reservePoolSize) server connections must stay ≤ maxConnections − headroom (3 superuser-reserved + max(5, 10 % of maxConnections)), with a defaultPoolSize of at least 1 (null pool sizes are derived to fit; pinned ones must fit)',
    shows: ['pooler.replicas', 'pooler.defaultPoolSize', 'pooler.reservePoolSize', 'maxConnections'],
  });
  Knobs.rule(scope, {
    failWhen: workMemTooSmallTemplate('$values.resources.requests.memory', '$values.maxConnections'),
    message: 'maxConnections is too high for resources.requests.memory: work_mem = (memory − shared_buffers) / (3 × maxConnections) would fall below 1MB (about 4Mi of memory per connection)',
    shows: ['maxConnections', 'resources.requests.memory'],
  });
  if (spec.patroni) {
    // After bootstrap Patroni takes max_connections from its DCS config only (the `<scope>-config` ConfigMap), so a
    // changed value would render pools sized for a max_connections Postgres never gets: refuse it on upgrade.
    const live = '(lookup "v1" "ConfigMap" .Release.Namespace (printf "%s-%s-config" .Release.Name $values.patroni.scope))';
    const liveMax = `(toString (dig "postgresql" "parameters" "max_connections" (toString $values.maxConnections) (fromJson (dig "metadata" "annotations" "config" "{}" ${live}))))`;
    Knobs.rule(scope, {
      failWhen: `ne ${liveMax} (toString $values.maxConnections)`,
      message: 'maxConnections differs from the running Patroni cluster\'s max_connections, which Patroni keeps in its DCS: change it there first (patronictl edit-config -s postgresql.parameters.max_connections=N, then restart the members; docs/postgres.md "Changing max_connections"), then upgrade with the same value',
      shows: ['maxConnections'],
    });
  }
  Knobs.rule(scope, {
    failWhen: `lt ${pool.maxClientConn} ${pool.defaultPoolSize}`,
    message: 'pooler.maxClientConnections must be at least pooler.defaultPoolSize (null: derived)',
    shows: ['pooler.maxClientConnections', 'pooler.defaultPoolSize'],
  });
}

/**
 * A memory request other than the synthesized one that changes every setting derived from it: at /dev/shm's 1 GiB cap
 * (8 GiB and more) halving would keep it, so the example goes just under the cap, when max_connections allows.
 */
function memoryRequestExample(spec: ResolvedPostgresCluster): string | undefined {
  const underCap = 8 * 1024 - 1;
  const capped = spec.settings.memory.sharedMemoryVolumeBytes >= 1024 * MIB;
  // maxConnections + 1: the chart tests set every example at once, and that of maxConnections is one more.
  return capped && minimumMemoryBytes(spec.settings.maxConnections + 1) <= underCap * MIB ? `${underCap}Mi` : undefined;
}

/** Position of a pod volume in a workload's pod template. */
function volumeIndex(workload: k8s.KubeStatefulSet, name: string): number {
  const volumes: Array<{ name: string }> = workload.toJson().spec?.template?.spec?.volumes ?? [];
  const i = volumes.findIndex((v) => v.name === name);
  if (i < 0) throw new Error(`${workload.node.path}: no volume ${name}`);
  return i;
}
