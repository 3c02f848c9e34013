import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DB_POOL, Knobs, PostgresCluster, PostgresClusterProps, Presets } from '../lib';
import { expectValidationError } from './harness/errors';
import { orders } from '../examples/orders';
import { K8sObject, build, container, find, findAll, synth, synthApp } from './harness/synth';

const CREDENTIALS: PostgresClusterProps['credentials'] = {
  superuser: { secretName: 'orders-db-superuser' },
  replication: { secretName: 'orders-db-replication' },
  app: { secretName: 'orders-db-app', key: 'pw' },
};

/**
 * This file covers the topology without automatic failover (`failover: 'none'`: primary and replica StatefulSets),
 * and what both topologies share (config files, pooler, validation). The Patroni default: postgres-patroni-objects.test.ts.
 */
function cluster(props: Partial<PostgresClusterProps> = {}): { objects: K8sObject[]; db: PostgresCluster } {
  let db!: PostgresCluster;
  const objects = synth((chart) => { db = new PostgresCluster(chart, 'orders-db', { credentials: CREDENTIALS, failover: 'none', ...props }); }, { namespace: 'shop' });
  return { objects, db };
}

/** `key = value` lines of postgresql.conf / pgbouncer.ini, comments dropped. */
function settings(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trim().startsWith('#') && !line.trim().startsWith(';')) out[m[1]] = m[2];
  }
  return out;
}

const allContainers = (w: K8sObject): K8sObject[] => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers];
const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment');

describe("PostgresCluster failover: 'none' defaults", () => {
  const { objects, db } = cluster();
  const primary = find(objects, 'StatefulSet', 'orders-db-primary');
  const replica = find(objects, 'StatefulSet', 'orders-db-replica');
  const pooler = find(objects, 'Deployment', 'orders-db-pooler');
  const conf = settings(find(objects, 'ConfigMap', 'orders-db-config').data['postgresql.conf']);
  const ini = settings(find(objects, 'ConfigMap', 'orders-db-pooler-config').data['pgbouncer.ini']);
  ini.databases = find(objects, 'ConfigMap', 'orders-db-pooler-config').data['pgbouncer.ini'].split('\n').find((l: string) => l.startsWith('app ='));

  it('emits primary, replicas, pooler, their Services, ConfigMaps and PDBs', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/orders-db-config', 'ConfigMap/orders-db-pooler-config',
      'Deployment/orders-db-pooler',
      'NetworkPolicy/orders-db', 'NetworkPolicy/orders-db-pooler',
      'PodDisruptionBudget/orders-db', 'PodDisruptionBudget/orders-db-pooler',
      'Service/orders-db-headless', 'Service/orders-db-pooler', 'Service/orders-db-ro', 'Service/orders-db-rw',
      'StatefulSet/orders-db-primary', 'StatefulSet/orders-db-replica',
    ]);
    expect(primary.spec.replicas).toBe(1);
    expect(replica.spec.replicas).toBe(2);
    expect(pooler.spec.replicas).toBe(2);
  });

  it('runs the official postgres 15 image with 4 CPU / 16Gi, requests = limits', () => {
    for (const sts of [primary, replica]) {
      expect(container(sts, 'postgres').image).toBe('postgres:17.12');
      expect(container(sts, 'postgres').resources).toEqual({ requests: { cpu: '4', memory: '16Gi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '4', memory: '16Gi', 'ephemeral-storage': '512Mi' } });
    }
  });

  it('renders postgresql.conf with the replication, memory and autovacuum settings', () => {
    expect(conf).toMatchObject({
      wal_level: 'replica', max_wal_senders: '3', max_replication_slots: '3', hot_standby: 'on',
      max_connections: '100', superuser_reserved_connections: '3',
      shared_buffers: '4096MB', effective_cache_size: '12288MB', work_mem: '40MB', maintenance_work_mem: '1024MB',
      autovacuum: 'on', autovacuum_vacuum_scale_factor: '0.05', max_slot_wal_keep_size: '10240MB', huge_pages: 'off',
    });
  });

  it('renders pgbouncer.ini in transaction mode with pools inside max_connections − headroom', () => {
    expect(ini).toMatchObject({
      pool_mode: 'transaction', default_pool_size: '39', reserve_pool_size: '4', max_db_connections: '43', max_client_conn: '500',
      auth_type: 'scram-sha-256', auth_file: '${PGBOUNCER_RUN_DIR}/userlist.txt', stats_users: 'app',
    });
    expect(2 * Number(ini.max_db_connections)).toBeLessThanOrEqual(100 - db.connection.reservedConnections);
    expect(find(objects, 'ConfigMap', 'orders-db-pooler-config').data['pgbouncer.ini']).toContain('app = host=${POSTGRES_HOST} port=${POSTGRES_PORT} dbname=app');
  });

  it('publishes typed connection info', () => {
    expect(db.connection).toEqual({
      readWriteHost: 'orders-db-rw', readOnlyHost: 'orders-db-ro', poolerHost: 'orders-db-pooler', port: 5432,
      database: 'app', user: 'app', passwordSecret: { secretName: 'orders-db-app', key: 'pw' },
      maxConnections: 100, reservedConnections: 13, poolerMaxClientConnections: 1000, poolerServerConnections: 86,
    });
    expect(db.connection.poolerServerConnections).toBeLessThanOrEqual(db.connection.maxConnections - db.connection.reservedConnections);
  });

  it('routes rw to the primary, ro to the replicas, the pooler to PgBouncer, all on 5432', () => {
    const selector = (name: string) => find(objects, 'Service', name).spec.selector;
    expect(selector('orders-db-rw')).toEqual(primary.spec.selector.matchLabels);
    expect(selector('orders-db-ro')).toEqual(replica.spec.selector.matchLabels);
    expect(selector('orders-db-pooler')).toEqual(pooler.spec.selector.matchLabels);
    for (const name of ['orders-db-rw', 'orders-db-ro', 'orders-db-pooler']) {
      expect(find(objects, 'Service', name).spec.ports[0]).toMatchObject({ port: 5432 });
    }
    const headless = find(objects, 'Service', 'orders-db-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(primary.spec.serviceName).toBe('orders-db-headless');
    expect(replica.spec.serviceName).toBe('orders-db-headless');
    // The primary and replica StatefulSets select disjoint pods; the headless Service selects both.
    expect(primary.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('primary');
    expect(replica.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('replica');
    expect(replica.spec.template.metadata.labels).toMatchObject(headless.spec.selector);
    expect(primary.spec.template.metadata.labels).toMatchObject(headless.spec.selector);
  });

  it('keeps primary and replicas on different nodes (required) and spreads them over zones', () => {
    for (const sts of [primary, replica]) {
      const pod = sts.spec.template.spec;
      const [term] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
      expect(term.topologyKey).toBe('kubernetes.io/hostname');
      expect(primary.spec.template.metadata.labels).toMatchObject(term.labelSelector.matchLabels);
      expect(replica.spec.template.metadata.labels).toMatchObject(term.labelSelector.matchLabels);
      expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1 });
    }
  });

  it('has PDBs that never block a drain: one database pod and one pooler pod at a time', () => {
    const dbPdb = find(objects, 'PodDisruptionBudget', 'orders-db');
    expect(dbPdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(primary.spec.template.metadata.labels).toMatchObject(dbPdb.spec.selector.matchLabels);
    expect(replica.spec.template.metadata.labels).toMatchObject(dbPdb.spec.selector.matchLabels);
    expect(find(objects, 'PodDisruptionBudget', 'orders-db-pooler').spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  it('claims a 50Gi volume per Postgres pod on the default StorageClass', () => {
    for (const sts of [primary, replica]) {
      const [claim] = sts.spec.volumeClaimTemplates;
      expect(claim.spec.resources.requests.storage).toBe('50Gi');
      expect(claim.spec.storageClassName).toBeUndefined();
      expect(container(sts, 'postgres').volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql/data' });
    }
  });

  it('hardens every container, init containers included', () => {
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of allContainers(w)) {
        expect(c.securityContext, c.name).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
        expect(c.resources.requests.cpu, c.name).toBeDefined();
        expect(c.resources.limits.memory, c.name).toBeDefined();
      }
    }
    expect(primary.spec.template.spec.securityContext.runAsUser).toBe(999);
    expect(pooler.spec.template.spec.securityContext.runAsUser).toBe(70);
  });

  it('takes passwords only from the named Secrets: files or secretKeyRefs, never literals', () => {
    for (const w of workloads(objects)) {
      for (const c of allContainers(w)) {
        for (const e of c.env ?? []) {
          if (/PASSWORD/i.test(e.name)) {
            const isFilePath = typeof e.value === 'string' && e.value.startsWith('/run/postgresql-passwords/');
            expect(isFilePath || e.valueFrom?.secretKeyRef !== undefined, `${c.name} ${e.name}`).toBe(true);
          }
        }
      }
      for (const v of w.spec.template.spec.volumes.filter((x: K8sObject) => x.secret)) {
        expect(['orders-db-superuser', 'orders-db-replication', 'orders-db-app']).toContain(v.secret.secretName);
      }
    }
    const appVolume = pooler.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'app-password');
    expect(appVolume.secret).toEqual({ secretName: 'orders-db-app', items: [{ key: 'pw', path: 'password' }], defaultMode: 0o440 });
    expect(findAll(objects, 'Secret')).toHaveLength(0);
    // No setting in the rendered config files carries a password (PgBouncer's would be in the [databases] line).
    expect(Object.keys(conf).filter((k) => /pass/i.test(k))).toEqual(['password_encryption']);
    expect(Object.entries(ini).filter(([k, v]) => /pass/i.test(k) || /pass/i.test(v))).toEqual([]);
  });

  it('bootstraps with the generated scripts and stops Postgres with a fast shutdown', () => {
    expect(container(primary, 'postgres').command).toEqual(['bash', '/etc/postgresql-cluster/run-postgres.sh']);
    expect(primary.spec.template.spec.initContainers[0].command).toEqual(['bash', '/etc/postgresql-cluster/bootstrap-primary.sh']);
    expect(replica.spec.template.spec.initContainers[0].command).toEqual(['bash', '/etc/postgresql-cluster/bootstrap-replica.sh']);
    expect(container(primary, 'postgres').lifecycle.preStop.exec.command).toContain('--mode=fast');
    const env = Object.fromEntries(container(replica, 'postgres').env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({ PG_ROLE: 'replica', PRIMARY_HOST: 'orders-db-rw', PRIMARY_PORT: '5432', REPLICATION_USER: 'replicator', REPLICA_NAME: { fieldRef: { fieldPath: 'metadata.name' } } });
    // One replica at a time, so two clones never compete for WAL senders.
    expect(replica.spec.podManagementPolicy).toBe('OrderedReady');
  });

  it('rolls pods when their config changes, through a hash annotation', () => {
    const hash = (w: K8sObject) => w.spec.template.metadata.annotations['scalecharts.io/config-hash'];
    expect(hash(primary)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(replica)).toBe(hash(primary));
    const other = cluster({ maxConnections: 120 }).objects;
    expect(hash(find(other, 'StatefulSet', 'orders-db-primary'))).not.toBe(hash(primary));
  });

  it('ships shell scripts that pass shellcheck', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalecharts-shellcheck-'));
    try {
      const scripts = [
        ...Object.entries(find(objects, 'ConfigMap', 'orders-db-config').data as Record<string, string>),
        ...Object.entries(find(objects, 'ConfigMap', 'orders-db-pooler-config').data as Record<string, string>),
      ].filter(([name]) => name.endsWith('.sh'));
      expect(scripts.map(([n]) => n).sort()).toEqual(['bootstrap-primary.sh', 'bootstrap-replica.sh', 'pooler-init.sh', 'probe.sh', 'run-postgres.sh']);
      const files = scripts.map(([name, text]) => { const f = join(dir, name); writeFileSync(f, text); return f; });
      const res = spawnSync('shellcheck', ['--shell=bash', '--severity=style', ...files], { encoding: 'utf8' });
      expect(res.error).toBeUndefined();
      expect(res.stdout + res.stderr).toBe('');
      expect(res.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgresCluster options', () => {
  it('raises senders and slots with the replica count', () => {
    const { objects, db } = cluster({ replicas: 5, resources: { requests: { memory: '4Gi', cpu: '2' }, limits: { memory: '4Gi', cpu: '2' } } });
    const conf = settings(find(objects, 'ConfigMap', 'orders-db-config').data['postgresql.conf']);
    expect([conf.max_wal_senders, conf.max_replication_slots]).toEqual(['6', '6']);
    expect(find(objects, 'StatefulSet', 'orders-db-replica').spec.replicas).toBe(5);
    expect(db.settings.replication).toEqual({ maxWalSenders: 6, maxReplicationSlots: 6 });
  });

  it('allows 0 replicas with a warning, and then has no read-only host', () => {
    const { objects, db } = cluster({ replicas: 0 });
    expect(findAll(objects, 'StatefulSet').map((s) => s.metadata.name)).toEqual(['orders-db-primary']);
    expect(objects.some((o) => o.metadata.name === 'orders-db-ro')).toBe(false);
    expect(db.connection.readOnlyHost).toBeUndefined();
    expect(db.warnings).toEqual([expect.stringMatching(/replicas is 0/)]);
    expect(db.node.metadata.some((m) => m.type === 'scalecharts:warning')).toBe(true);
  });

  it('sets storage size and class', () => {
    const { objects } = cluster({ storage: { size: '200Gi', storageClassName: 'fast-ssd' } });
    const claim = find(objects, 'StatefulSet', 'orders-db-primary').spec.volumeClaimTemplates[0];
    expect(claim.spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '200Gi' } } });
  });

  it('takes pinned pool sizes', () => {
    const { objects, db } = cluster({ pooler: { replicas: 3, defaultPoolSize: 20, reservePoolSize: 5, maxClientConnections: 1000 } });
    const ini = settings(find(objects, 'ConfigMap', 'orders-db-pooler-config').data['pgbouncer.ini']);
    expect(ini).toMatchObject({ default_pool_size: '20', reserve_pool_size: '5', max_db_connections: '25', max_client_conn: '1000' });
    expect(find(objects, 'Deployment', 'orders-db-pooler').spec.replicas).toBe(3);
    expect(db.connection.poolerServerConnections).toBe(75);
    expect(db.connection.poolerMaxClientConnections).toBe(3000);
  });

  it('adds exporters, ServiceMonitors and alerts with metrics on', () => {
    const { objects } = cluster({ metrics: { replicationLagSeconds: 10, interval: '15s' } });
    const primary = find(objects, 'StatefulSet', 'orders-db-primary');
    expect(container(primary, 'metrics')).toMatchObject({ image: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1', ports: [{ name: 'metrics', containerPort: 9187, protocol: 'TCP' }] });
    const poolerExporter = container(find(objects, 'Deployment', 'orders-db-pooler'), 'metrics');
    expect(poolerExporter.env).toContainEqual({ name: 'PGPASSFILE', value: '/var/run/pgbouncer/exporter.pgpass' });
    expect(JSON.stringify(poolerExporter.env)).not.toContain('secretKeyRef');
    const monitors = findAll(objects, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['orders-db', 'orders-db-pooler']);
    for (const m of monitors) {
      const services = findAll(objects, 'Service').filter((s) => Object.entries(m.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v));
      expect(services, m.metadata.name).toHaveLength(1);
      expect(services[0].spec.ports.map((p: K8sObject) => p.name)).toContain('metrics');
      expect(m.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s' }]);
    }
    const rules = find(objects, 'PrometheusRule').spec.groups[0].rules;
    expect(rules.map((r: K8sObject) => r.alert)).toEqual(['PostgresReplicationLag', 'PostgresReplicaDown', 'PostgresPrimaryDown', 'PgBouncerPoolSaturation']);
    const rule = (name: string) => rules.find((r: K8sObject) => r.alert === name);
    expect(rule('PostgresReplicationLag').expr).toMatch(/pg_replication_lag_seconds\{job="orders-db-headless", namespace="shop"\}\) > 10$/);
    expect(rule('PostgresReplicaDown').expr).toMatch(/< 2$/);
    expect(rule('PgBouncerPoolSaturation').expr).toMatch(new RegExp(`>= ${DB_POOL.saturationAlertRatio}$`));
    expect(DB_POOL.saturationAlertRatio).toBe(0.9);
  });

  it('restricts 5432 to the pooler, the database pods and client pods with network policies on', () => {
    const { objects, db } = cluster({ networkPolicy: { clientLabels: { 'orders-db-client': 'true' } }, metrics: true });
    const policy = find(objects, 'NetworkPolicy', 'orders-db');
    const [dbRule, metricsRule] = policy.spec.ingress;
    expect(dbRule.ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
    expect(dbRule.from.map((p: K8sObject) => p.podSelector.matchLabels)).toEqual([
      { 'app.kubernetes.io/name': 'orders-db', 'app.kubernetes.io/instance': 'orders-db' },
      { 'orders-db-client': 'true' },
      find(objects, 'Deployment', 'orders-db-pooler').spec.selector.matchLabels,
    ]);
    // The shared builder (lib/network-policy.ts): scrapers from the monitoring namespace, as for every construct.
    expect(metricsRule).toEqual({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 9187 }] });
    const poolerPolicy = find(objects, 'NetworkPolicy', 'orders-db-pooler');
    expect(poolerPolicy.spec.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: { 'orders-db-client': 'true' } } }], ports: [{ protocol: 'TCP', port: 6432 }] });
    expect(db.clientLabels).toEqual({ 'orders-db-client': 'true' });
    expect(cluster({ networkPolicy: true }).db.clientLabels).toEqual({ 'app.kubernetes.io/part-of': 'test' });
  });

  it('honours presets for registry, labels and placement, but not workload resources', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, { imageRegistry: 'registry.example.com/mirror', labels: { team: 'data' }, resources: { requests: { memory: '256Mi' } }, tolerations: [{ key: 'db', operator: 'Exists', effect: 'NoSchedule' }] });
      new PostgresCluster(chart, 'orders-db', { credentials: CREDENTIALS, failover: 'none' });
    });
    const primary = find(objects, 'StatefulSet', 'orders-db-primary');
    expect(container(primary, 'postgres').image).toBe('registry.example.com/mirror/postgres:17.12');
    expect(container(find(objects, 'Deployment', 'orders-db-pooler'), 'pgbouncer').image).toBe('registry.example.com/mirror/edoburu/pgbouncer:v1.24.1-p0');
    expect(primary.metadata.labels.team).toBe('data');
    expect(primary.spec.template.spec.tolerations).toHaveLength(1);
    expect(container(primary, 'postgres').resources.requests.memory).toBe('16Gi');
  });
});

describe('PostgresCluster Helm knobs', () => {
  const { objects, db } = cluster();
  const knobs = Object.fromEntries(Knobs.of(db).map((k) => [k.key, k]));

  it('declares image, replicas, resources, storage, max_connections and pooler knobs', () => {
    expect(Object.keys(knobs).sort()).toEqual([
      'image.repository', 'image.tag', 'maxConnections', 'pooler.defaultPoolSize', 'pooler.maxClientConnections', 'pooler.replicas',
      'pooler.reservePoolSize', 'replicas', 'resources.limits.cpu', 'resources.limits.memory', 'resources.requests.cpu',
      'resources.requests.memory', 'storage.size',
    ]);
    expect(knobs.replicas).toMatchObject({ default: 2, schema: { minimum: 1, maximum: 2 } });
    // Bounds that depend on the pools and the memory are chart rules (test/helm-derived.test.ts), not static schema.
    expect(knobs.maxConnections).toMatchObject({ default: 100, schema: { minimum: 20, maximum: 10_000 } });
    expect(knobs['pooler.replicas']).toMatchObject({ default: 2, schema: { minimum: 1 } });
    expect(Knobs.rulesOf(db).map((r) => r.shows)).toContainEqual(['maxConnections', 'resources.requests.memory']);
  });

  it('points every target at an existing field holding the default', () => {
    const json = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    for (const knob of Knobs.of(db)) {
      for (const target of knob.targets) {
        const obj = target.object.toJson();
        let value: K8sObject = json.get(`${obj.kind}/${obj.metadata.name}`)!;
        for (const step of target.path) value = value?.[step as string];
        expect(value, `${knob.key} → ${target.path.join('.')}`).toBeDefined();
        if (!target.template) expect(String(value)).toBe(String(knob.default));
      }
    }
  });

  it('re-renders postgresql.conf and pgbouncer.ini from their knob templates', () => {
    // Evaluates the few Go template forms the templates use, with the knobs' defaults.
    const values: Record<string, number> = Object.fromEntries(Knobs.of(db).map((k) => [k.key, k.default as number]));
    const v = (path: string) => values[path.replace(/^\$values\./, '')];
    const render = (template: string) => template.replace(/\{\{ (.+?) \}\}/g, (_, expr: string) => {
      let m = /^(\$values\.[\w.]+)$/.exec(expr);
      if (m) return String(v(m[1]));
      m = /^div (\d+) \(mul 3 (\$values\.[\w.]+)\)$/.exec(expr);
      if (m) return String(Math.floor(Number(m[1]) / (3 * v(m[2]))));
      m = /^add (\$values\.[\w.]+) (\$values\.[\w.]+)$/.exec(expr);
      if (m) return String(v(m[1]) + v(m[2]));
      throw new Error(`unexpected template expression ${expr}`);
    });
    // postgresql.conf's memory settings are MEMORY_FORMULAS in Go template: test/helm-derived.test.ts renders them with helm.
    const confTarget = knobs.maxConnections.targets.find((t) => t.path.join('.') === 'data.postgresql.conf')!;
    const withoutMemory = (text: string) => text.replace(/^(shared_buffers|effective_cache_size|work_mem|maintenance_work_mem) = .*$/gm, '$1 = ?');
    const simple = withoutMemory(confTarget.template!).replace('{{ $values.resources.requests.memory }}', String(knobs['resources.requests.memory'].default));
    expect(render(simple)).toBe(withoutMemory(find(objects, 'ConfigMap', 'orders-db-config').data['postgresql.conf']));
    // The pool sizes are POOLER_FORMULAS in Go template (pinned or derived): test/helm-derived.test.ts renders them with helm.
    const iniTarget = knobs['pooler.defaultPoolSize'].targets.find((t) => t.path.join('.') === 'data.pgbouncer.ini')!;
    const withoutPools = (text: string) => text.replace(/^(default_pool_size|reserve_pool_size|max_db_connections|max_client_conn) = .*$/gm, '$1 = ?');
    expect(withoutPools(iniTarget.template!)).toBe(withoutPools(find(objects, 'ConfigMap', 'orders-db-pooler-config').data['pgbouncer.ini']));
    expect(iniTarget.template!.match(/^(default_pool_size|reserve_pool_size|max_db_connections|max_client_conn) = \{\{ int \(.*\) \}\}$/gm)).toHaveLength(4);
  });

  it('defaults the pool sizes the props leave derived to null (derived in the chart too) and keeps pinned ones', () => {
    const derived = ['pooler.defaultPoolSize', 'pooler.reservePoolSize', 'pooler.maxClientConnections'];
    for (const key of derived) expect(knobs[key]).toMatchObject({ default: null, schema: { type: 'integer', nullable: true } });
    const pinned = cluster({ pooler: { defaultPoolSize: 20 } }).db;
    const of = (key: string) => Knobs.of(pinned).find((k) => k.key === key)!;
    expect(of('pooler.defaultPoolSize')).toMatchObject({ default: 20, schema: { nullable: true } });
    expect(of('pooler.reservePoolSize').default).toBeNull();
  });
});

describe('PostgresCluster validation', () => {
  const make = (props: Partial<PostgresClusterProps>, id = 'orders-db') => () => build((chart: Chart) => new PostgresCluster(chart, id, { credentials: CREDENTIALS, ...props }));
  const path = 'test/orders-db';

  it('replicas above pinned WAL senders or slots', () => {
    expectValidationError(make({ replicas: 3, maxWalSenders: 3 }), { path, property: 'maxWalSenders', value: 3, allowed: /replicas \+ 1 = 4/ });
    expectValidationError(make({ replicas: 2, maxReplicationSlots: 2 }), { path, property: 'maxReplicationSlots', value: 2, allowed: /replicas \+ 1 = 3/ });
    expect(() => make({ replicas: 2, maxWalSenders: 3, maxReplicationSlots: 5 })()).not.toThrow();
  });
  it.each([-1, 16, 1.5])('replicas %s', (replicas) => {
    expectValidationError(make({ replicas }), { path, property: 'replicas', value: replicas, allowed: /from 0 to 15/ });
  });
  it('pool sizes above max_connections − headroom', () => {
    expectValidationError(make({ pooler: { defaultPoolSize: 60 } }), { path, property: 'pooler.defaultPoolSize', value: 60, allowed: /2 pooler replicas × \(defaultPoolSize \+ reservePoolSize\) = 120 .* above maxConnections 100 − headroom 13 = 87/ });
    expectValidationError(make({ pooler: { reservePoolSize: 50 } }), { path, property: 'pooler.reservePoolSize', value: 50, allowed: /defaultPoolSize ≥ 1/ });
    expectValidationError(make({ pooler: { replicas: 88 } }), { path, property: 'pooler.replicas', value: 88, allowed: /from 1 to 87/ });
    expectValidationError(make({ pooler: { maxClientConnections: 10 } }), { path, property: 'pooler.maxClientConnections', value: 10, allowed: /at least defaultPoolSize \(39\)/ });
  });
  it('memory too small for the derived settings', () => {
    expectValidationError(make({ resources: { requests: { memory: '256Mi' }, limits: { memory: '256Mi' } } }),
      { path, property: 'resources.requests.memory', value: '256Mi', allowed: /maxConnections 100: work_mem would fall below 1MB; request at least 399Mi/ });
    expect(() => make({ maxConnections: 50, resources: { requests: { memory: '256Mi' }, limits: { memory: '256Mi' } } })()).not.toThrow();
  });
  it.each([10, 10_001, 99.5])('maxConnections %s', (maxConnections) => {
    expectValidationError(make({ maxConnections }), { path, property: 'maxConnections', value: maxConnections, allowed: /from 20 to 10000/ });
  });
  it('storage below the minimum or malformed', () => {
    expectValidationError(make({ storage: { size: '512Mi' } }), { path, property: 'storage.size', value: '512Mi', allowed: /at least 1Gi/ });
    expectValidationError(make({ storage: { size: 'big' } }), { path, property: 'storage.size', value: 'big' });
    expectValidationError(make({ storage: { storageClassName: 'Fast_SSD' } }), { path, property: 'storage.storageClassName', value: 'Fast_SSD' });
  });
  it('credentials', () => {
    expectValidationError(make({ credentials: { ...CREDENTIALS, app: { secretName: 'Bad_Name' } } }), { path, property: 'credentials.app.secretName', value: 'Bad_Name' });
    expectValidationError(make({ credentials: { ...CREDENTIALS, superuser: 'orders-db-superuser' as never } }), { path, property: 'credentials.superuser', allowed: /must name a Secret/ });
    expectValidationError(make({ credentials: { ...CREDENTIALS, replication: { secretName: 'r', key: 'a/b' } } }), { path, property: 'credentials.replication.key', value: 'a/b' });
  });
  it('role and database names', () => {
    expectValidationError(make({ database: 'orders-db' }), { path, property: 'database', value: 'orders-db', allowed: /SQL identifier/ });
    expectValidationError(make({ user: 'postgres' }), { path, property: 'user', value: 'postgres' });
    expectValidationError(make({ user: 'replicator' }), { path, property: 'user', value: 'replicator' });
    expectValidationError(make({ replicationUser: 'Repl' }), { path, property: 'replicationUser', value: 'Repl' });
  });
  it('names too long for the derived object names', () => {
    expectValidationError(make({ name: 'a'.repeat(41) }), { path, property: 'name', allowed: /at most 40/ });
  });
  it('unpinned images', () => {
    expectValidationError(make({ image: 'postgres' }), { path, property: 'image', value: 'postgres', allowed: /pinned/ });
    expectValidationError(make({ pooler: { image: 'edoburu/pgbouncer:latest' } }), { path, property: 'pooler.image', value: 'edoburu/pgbouncer:latest' });
    expectValidationError(make({ metrics: { postgresExporterImage: 'exporter' } }), { path, property: 'metrics.postgresExporterImage', value: 'exporter' });
  });
  it('network policy client labels', () => {
    expectValidationError(make({ networkPolicy: { clientLabels: {} } }), { path, property: 'networkPolicy.clientLabels', allowed: /at least one label/ });
    expectValidationError(make({ networkPolicy: { clientLabels: { 'bad key!': 'x' } } }), { path, property: 'networkPolicy.clientLabels.bad key!', value: 'bad key!' });
  });
  it('metrics settings', () => {
    expectValidationError(make({ metrics: { interval: '30 seconds' } }), { path, property: 'metrics.interval', value: '30 seconds' });
    expectValidationError(make({ metrics: { replicationLagSeconds: 0 } }), { path, property: 'metrics.replicationLagSeconds', value: 0 });
  });
  it('nested scopes name the full construct path', () => {
    expectValidationError(() => build((chart) => new PostgresCluster(new Construct(chart, 'shop'), 'db', { credentials: CREDENTIALS, replicas: 20 })),
      { path: 'test/shop/db', property: 'replicas', value: 20 });
  });
});

describe('orders example', () => {
  const objects = synthApp((app) => { orders(app); });

  it('connects the API to the pooler and the replicas through the connection info, password by Secret reference', () => {
    const env = Object.fromEntries(container(find(objects, 'Deployment', 'orders-api')).env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      PGHOST: 'orders-db-pooler', DB_READ_HOST: 'orders-db-ro', PGPORT: '5432', PGDATABASE: 'orders', PGUSER: 'orders_api',
      PGPASSWORD: { secretKeyRef: { name: 'orders-db-app', key: 'password' } },
    });
    // Pooler accepts 10 × 200 clients; 20 API pods at most → 100 each, capped at 50 (seed 000).
    expect(env.DB_MAX_CONNECTIONS).toBe('50');
    // Replica reads: (200 − 23 headroom) / 20 pods = 8.
    expect(env.DB_READ_MAX_CONNECTIONS).toBe('8');
    expect(find(objects, 'Service', 'orders-db-pooler').spec.ports[0].port).toBe(5432);
  });

  it('lets the API pods through the NetworkPolicies', () => {
    const apiLabels = find(objects, 'Deployment', 'orders-api').spec.template.metadata.labels;
    for (const policy of findAll(objects, 'NetworkPolicy')) {
      const peers = policy.spec.ingress.flatMap((r: K8sObject) => r.from ?? []);
      expect(peers.some((p: K8sObject) => Object.entries(p.podSelector.matchLabels).every(([k, v]) => apiLabels[k] === v)), policy.metadata.name).toBe(true);
    }
  });
});
