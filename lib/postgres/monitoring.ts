/** ServiceMonitors and the PrometheusRule of a PostgresCluster (`metrics`), rendered from the resolved spec only. */
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { DB_POOL } from '../defaults';
import { AlertRule, createPrometheusRule, createServiceMonitor } from '../monitoring';
import { backupAlerts } from './backup';
import { poolerName, poolerSelector } from './pooler';
import type { ResolvedPostgresCluster } from './resolve';

export function postgresMonitoring(scope: Construct, spec: ResolvedPostgresCluster): { serviceMonitors: ApiObject[]; prometheusRule?: ApiObject } {
  const metrics = spec.metrics;
  if (!metrics) return { serviceMonitors: [] };
  const serviceMonitors = [
    createServiceMonitor(scope, 'service-monitor', {
      name: spec.name, labels: spec.labels.database,
      selector: { ...spec.clusterSelector, 'app.kubernetes.io/component': 'database' },
      endpoints: [{ port: 'metrics', interval: metrics.interval }],
    }),
    createServiceMonitor(scope, 'pooler-service-monitor', {
      name: poolerName(spec), labels: spec.labels.pooler,
      selector: poolerSelector(spec),
      endpoints: [{ port: 'metrics', interval: metrics.interval }],
    }),
  ];
  const namespace = Chart.of(scope).namespace;
  const byJob = (job: string) => `job="${job}"${namespace ? `, namespace="${namespace}"` : ''}`;
  const db = byJob(`${spec.name}-headless`);
  const pool = byJob(`${spec.name}-pooler`);
  const ratio = DB_POOL.saturationAlertRatio;
  const rules: AlertRule[] = [
    {
      alert: 'PostgresReplicationLag',
      expr: `max by (pod) (pg_replication_lag_seconds{${db}}) > ${metrics.replicationLagSeconds}`,
      for: '5m',
      severity: 'warning',
      summary: `Postgres replica {{ $labels.pod }} of ${spec.name} is more than ${metrics.replicationLagSeconds}s behind the primary`,
      description: 'Reads from the replica are stale. Check the replica\'s disk and CPU, the network, and long queries holding replay back.',
    },
    {
      alert: 'PostgresReplicaDown',
      expr: `(count(pg_replication_is_replica{${db}} == 1 and on (pod) pg_up{${db}} == 1) or vector(0)) < ${spec.replicas}`,
      for: '5m',
      severity: spec.replicas > 1 ? 'warning' : 'critical',
      summary: `Fewer than ${spec.replicas} read replicas of ${spec.name} are up`,
      description: 'A replica is not running or not in recovery. Its slot keeps WAL on the primary until it returns (bounded by max_slot_wal_keep_size).',
    },
    {
      alert: 'PostgresPrimaryDown',
      expr: `(count(pg_replication_is_replica{${db}} == 0 and on (pod) pg_up{${db}} == 1) or vector(0)) < 1`,
      for: '2m',
      severity: 'critical',
      summary: `The primary of ${spec.name} is down`,
      description: spec.patroni
        ? 'Writes fail. Patroni promotes a replica within ttl; if this persists, no member can lead: check `patronictl list`, the Kubernetes API and the members\' logs (docs/postgres.md, "Patroni").'
        : 'Writes fail. There is no automatic failover: restore the primary pod (docs/postgres.md, "Limitations").',
    },
    {
      alert: 'PgBouncerPoolSaturation',
      expr: `max by (pod) (pgbouncer_databases_current_connections{${pool}} / pgbouncer_databases_pool_size{${pool}}) >= ${ratio}`,
      for: '5m',
      severity: 'warning',
      summary: `Pooler {{ $labels.pod }} of ${spec.name} uses ≥ ${ratio * 100}% of its server pool`,
      description: 'Clients will start to wait for server connections. Inspect slow queries, then raise max_connections and the pool sizes one step (seed 001).',
    },
  ];
  const prometheusRule = createPrometheusRule(scope, 'prometheus-rule', {
    name: spec.name, labels: spec.labels.database, groupName: `${spec.name}.postgres`,
    rules: [...(spec.replicas > 0 ? rules : rules.filter((r) => !r.alert.startsWith('PostgresReplica'))), ...(spec.backup ? backupAlerts(spec.name, spec.backup, db) : [])],
  });
  return { serviceMonitors, prometheusRule };
}
