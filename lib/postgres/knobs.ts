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
  ADMIN_HEADROOM_RATIO, MAX_CONNECTIONS_RANGE, MIN_ADMIN_HEADROOM, SUPERUSER_RESERVED_CONNECTIONS, memorySettingsTemplate, workMemTooSmallTemplate,
} from './sizing';
import type { PoolerSizing } from './sizing';

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
    const note = kind === 'requests' && field === 'memory' ? ' (shared_buffers, effective_cache_size, work_mem and maintenance_work_mem follow it)' : '';
    Knobs.declare(scope, {
      key: `resources.${kind}.${field}`, description: `Postgres container ${field} ${kind}${note}`, schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : quantity, default: value,
      targets: postgresContainers.map((c) => ({ ...c, path: [...c.path, 'resources', kind, field] })), ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
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
    description: `Postgres max_connections (at least the pooler's server connections (now ${pooler.totalServerConnections}) plus headroom; at most about memory request / 4Mi, so work_mem stays ≥ 1MB)`,
    schema: { type: 'integer', minimum: MAX_CONNECTIONS_RANGE.min, maximum: MAX_CONNECTIONS_RANGE.max },
    default: spec.settings.maxConnections,
    targets: [
      { object: o.configMap, path: ['data', 'postgresql.conf'], template: confTemplate },
      // Patroni starts Postgres with the max_connections of its DCS config, which patroni.yml seeds at bootstrap.
      ...(spec.patroni ? [{ object: o.configMap, path: ['data', 'patroni.yml'], template: patroniFilesOf(spec, '{{ $values.maxConnections }}')['patroni.yml'] }] : []),
      ...statefulSets.map((s) => ({ object: s, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v" "${postgresHash}" $values.maxConnections | sha256sum | trunc 16 }}` })),
    ],
  });

  // Pool sizes live in pgbouncer.ini: one knob re-renders the file from all four pool values.
  const iniTemplate = renderTemplate(ASSETS.pgbouncerIni, {
    database: spec.database, user: spec.user, poolMode: POSTGRES.poolMode,
    maxPreparedStatements: POSTGRES.poolerMaxPreparedStatements,
    defaultPoolSize: '{{ $values.pooler.defaultPoolSize }}', reservePoolSize: '{{ $values.pooler.reservePoolSize }}',
    maxDbConnections: '{{ add $values.pooler.defaultPoolSize $values.pooler.reservePoolSize }}',
    maxClientConn: '{{ $values.pooler.maxClientConnections }}',
  });
  const budget = pooler.serverConnectionBudget;
  Knobs.declare(scope, {
    key: 'pooler.replicas', description: `PgBouncer replicas (replicas × (defaultPoolSize + reservePoolSize) must stay ≤ maxConnections − headroom, ${budget} by default)`,
    // The budget rule below bounds it (following maxConnections); only a pooler with no other valid count at the
    // synthesized sizes keeps a static maximum, so the schema still offers no value that can never render.
    schema: { type: 'integer', minimum: 1, maximum: poolerReplicasRoom(pooler) ? MAX_CONNECTIONS_RANGE.max : pooler.replicas },
    example: poolerReplicasRoom(pooler) ? ((pooler.replicas + 1) * pooler.maxDbConnections <= budget ? pooler.replicas + 1 : pooler.replicas - 1) : undefined,
    default: pooler.replicas, targets: [{ object: o.pooler, path: ['spec', 'replicas'] }],
  });
  Knobs.declare(scope, {
    key: 'pooler.defaultPoolSize', description: `PgBouncer default_pool_size per replica (with reservePoolSize at most ${pooler.perReplicaBudget})`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_CONNECTIONS_RANGE.max }, default: pooler.defaultPoolSize, example: Math.max(1, pooler.defaultPoolSize - 1),
    targets: [
      { object: o.poolerConfigMap, path: ['data', 'pgbouncer.ini'], template: iniTemplate },
      { object: o.pooler, path: ['spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION], template: `{{ printf "%s-%v-%v-%v" "${poolerHash}" $values.pooler.defaultPoolSize $values.pooler.reservePoolSize $values.pooler.maxClientConnections | sha256sum | trunc 16 }}` },
    ],
  });
  Knobs.declare(scope, { key: 'pooler.reservePoolSize', description: 'PgBouncer reserve_pool_size per replica', schema: { type: 'integer', minimum: 0, maximum: MAX_CONNECTIONS_RANGE.max }, default: pooler.reservePoolSize, example: pooler.reservePoolSize > 0 ? pooler.reservePoolSize - 1 : undefined, targets: [] });
  Knobs.declare(scope, { key: 'pooler.maxClientConnections', description: 'PgBouncer max_client_conn per replica', schema: { type: 'integer', minimum: 1, maximum: 100_000 }, default: pooler.maxClientConn, targets: [] });
  // The budget across the pooler values and maxConnections (each alone passes its schema; the bounds follow the
  // other values, e.g. a lower maxConnections with lower pools): lib/postgres/sizing.ts' connectionHeadroom in Go template.
  const mc = '(int $values.maxConnections)';
  const pct = Math.round(ADMIN_HEADROOM_RATIO * 100);
  const serverBudget = `(sub (sub ${mc} ${SUPERUSER_RESERVED_CONNECTIONS}) (max ${MIN_ADMIN_HEADROOM} (div (add (mul ${mc} ${pct}) 99) 100)))`;
  Knobs.rule(scope, {
    failWhen: `gt (mul (int $values.pooler.replicas) (add (int $values.pooler.defaultPoolSize) (int $values.pooler.reservePoolSize))) ${serverBudget}`,
    message: 'pooler.replicas × (pooler.defaultPoolSize + pooler.reservePoolSize) server connections must stay ≤ maxConnections − headroom (3 superuser-reserved + max(5, 10 % of maxConnections))',
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
    failWhen: 'lt (int $values.pooler.maxClientConnections) (int $values.pooler.defaultPoolSize)',
    message: 'pooler.maxClientConnections must be at least pooler.defaultPoolSize',
    shows: ['pooler.maxClientConnections', 'pooler.defaultPoolSize'],
  });
}

/** Whether another pooler replica count than the synthesized one fits the budget at the synthesized pool sizes. */
function poolerReplicasRoom(p: PoolerSizing): boolean {
  return p.replicas > 1 || 2 * p.maxDbConnections <= p.serverConnectionBudget;
}
