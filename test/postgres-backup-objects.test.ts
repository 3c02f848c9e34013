/**
 * PostgresCluster `backup` / `restore` (issue 16) without processes: the objects and files they add, every bad prop
 * refused with its property named, and backup-loop.sh's cron matcher against the schedule arithmetic of the alert.
 * The real thing (pgBackRest, Patroni, an S3 server) runs in test/postgres-backup.test.ts.
 */
import { spawnSync } from 'child_process';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, constructWarnings } from '../lib';
import { validateAll } from '../lib/core/problems';
import { BACKUP } from '../lib/defaults';
import { scheduleMaxGapSeconds } from '../lib/postgres/backup';
import type { PostgresClusterProps } from '../lib/postgres/props';
import { K8sObject, find, synth } from './harness/synth';

const BACKUP_PROPS = { bucket: 'acme-db-backups', endpoint: 's3.eu-central-1.amazonaws.com', credentialsSecret: 'db-s3' };

function objects(extra: Partial<PostgresClusterProps> = {}): K8sObject[] {
  return synth((chart) => new PostgresCluster(chart, 'orders-db', { failover: 'patroni', metrics: true, backup: BACKUP_PROPS, ...extra }));
}

function errorsOf(props: PostgresClusterProps): Array<[string, unknown]> {
  const chart = new Chart(Testing.app(), 'test');
  new PostgresCluster(chart, 'db', props);
  return validateAll(chart).map((e) => [e.property, e.value]);
}

describe('PostgresCluster backup objects', () => {
  it('warns at synth, naming the construct and the image, while backup runs on the unpublished default image', () => {
    const warningsOf = (extra: Partial<PostgresClusterProps>): string[] => {
      const chart = new Chart(Testing.app(), 'shop');
      new PostgresCluster(chart, 'orders-db', { failover: 'patroni', backup: BACKUP_PROPS, ...extra });
      return constructWarnings(chart);
    };
    expect(warningsOf({})).toEqual([expect.stringMatching(new RegExp(`^shop/orders-db: backup runs the members on ${BACKUP.image.replace(/[.]/g, '\\.')}, which scalecharts does not publish`))]);
    expect(warningsOf({ image: 'registry.internal/db/spilo-17-pgbackrest:4.0-p3-2.55.1' })).toEqual([]);
    // Without backup the default is Spilo itself (published): nothing to warn about.
    expect(warningsOf({ backup: undefined })).toEqual([]);
  });

  const all = objects();
  const config = find(all, 'ConfigMap', 'orders-db-config').data as Record<string, string>;
  const pod = find(all, 'StatefulSet', 'orders-db').spec.template.spec;

  it('archives WAL through pgBackRest with the documented defaults, and keeps no secret in the ConfigMap', () => {
    const conf = config['pgbackrest.conf'];
    expect(conf).toContain('repo1-s3-bucket=acme-db-backups');
    expect(conf).toContain('repo1-s3-endpoint=s3.eu-central-1.amazonaws.com');
    expect(conf).toContain('repo1-storage-port=443');
    expect(conf).toContain(`repo1-retention-full=${BACKUP.retentionFull}`);
    expect(conf).toContain(`compress-type=${BACKUP.compression}`);
    expect(conf).toContain('repo1-path=/scalecharts/orders-db');
    expect(conf).not.toMatch(/s3-key/);
    const yml = config['patroni.yml'];
    expect(yml).toContain(`archive_command: 'timeout ${BACKUP.archivePushTimeoutSeconds} pgbackrest --stanza=db archive-push "%p"'`);
    expect(yml).toContain(`archive_timeout: ${BACKUP.archiveTimeout}`);
    expect(yml).toContain("archive_mode: 'on'");
    expect(yml).not.toContain('method: pgbackrest');
    for (const f of ['backup-init.sh', 'backup-loop.sh', 'backup-restore.sh']) expect(config[f]).toMatch(/^#!\/bin\/bash/);
  });

  it('adds a hardened init container and sidecar; the keys reach them only as files', () => {
    const init = pod.initContainers.find((c: K8sObject) => c.name === 'backup-init');
    const sidecar = pod.containers.find((c: K8sObject) => c.name === 'backup');
    for (const c of [init, sidecar]) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.image).toBe(BACKUP.image);
      for (const e of c.env) expect(e.valueFrom).toBeUndefined();
    }
    expect(sidecar.env).toContainEqual({ name: 'BACKUP_SCHEDULE', value: BACKUP.schedule });
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'backup-credentials', secret: expect.objectContaining({ secretName: 'db-s3' }) }));
    // Only the init container mounts the Secret; Postgres and the sidecar read the rendered file in the memory run dir.
    expect(pod.containers.flatMap((c: K8sObject) => c.volumeMounts ?? []).some((m: K8sObject) => m.name === 'backup-credentials')).toBe(false);
    expect(pod.containers[0].env).toContainEqual({ name: 'PGBACKREST_CONFIG', value: '/etc/postgresql-cluster/pgbackrest.conf' });
  });

  it('alerts on failing archiving and on a backup older than the schedule allows', () => {
    const rule = find(all, 'PrometheusRule', 'orders-db').spec.groups[0].rules as K8sObject[];
    const failing = rule.find((r) => r.alert === 'PostgresWalArchivingFailing');
    expect(failing!.expr).toContain('pg_stat_archiver_failed_count');
    const old = rule.find((r) => r.alert === 'PostgresBackupTooOld');
    expect(old!.expr).toContain(`> ${86400 + BACKUP.backupDurationAllowanceSeconds}`);
    const exporter = pod.containers.find((c: K8sObject) => c.name === 'metrics');
    expect(exporter.env).toContainEqual({ name: 'PG_EXPORTER_EXTEND_QUERY_PATH', value: '/etc/postgresql-cluster/exporter-backup-queries.yaml' });
    expect(config['exporter-backup-queries.yaml']).toContain('scalecharts_backup.runs');
  });

  it('restore bootstraps through Patroni with pgBackRest and the target', () => {
    const yml = (find(objects({ backup: { ...BACKUP_PROPS, pathPrefix: '/prod/orders-db-2' }, restore: { targetTime: '2026-11-27T10:15:00Z', sourcePathPrefix: '/prod/orders-db' } }),
      'ConfigMap', 'orders-db-config').data as Record<string, string>)['patroni.yml'];
    expect(yml).toContain('method: pgbackrest');
    expect(yml).toContain('command: bash /etc/postgresql-cluster/backup-restore.sh');
    expect(yml).toContain("recovery_target_time: '2026-11-27 10:15:00+00'");
    expect(yml).toContain('recovery_target_action: promote');
    expect(yml).toContain('--repo1-path=/prod/orders-db archive-get');
  });

  it('refuses bad backup and restore props, naming each property', () => {
    const checks: Array<[PostgresClusterProps, string, unknown]> = [
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, endpoint: 'http://x:1' } }, 'backup.endpoint', 'http://x:1'],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, schedule: '61 * * * *' } }, 'backup.schedule', '61 * * * *'],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, schedule: '@daily' } }, 'backup.schedule', '@daily'],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, retentionFull: 0 } }, 'backup.retentionFull', 0],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, archiveTimeout: NaN } }, 'backup.archiveTimeout', NaN],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, compression: 'xz' as never } }, 'backup.compression', 'xz'],
      [{ failover: 'patroni', backup: { ...BACKUP_PROPS, credentialsSecret: 'Bad_Name' } }, 'backup.credentialsSecret', 'Bad_Name'],
      [{ failover: 'none', backup: BACKUP_PROPS }, 'backup', BACKUP_PROPS],
      [{ failover: 'patroni', restore: {} }, 'restore', {}],
      [{ failover: 'patroni', backup: BACKUP_PROPS, restore: { targetTime: '2026-11-27 10:15' } }, 'restore.targetTime', '2026-11-27 10:15'],
      [{ failover: 'patroni', backup: BACKUP_PROPS, restore: { targetLsn: 'zz' } }, 'restore.targetLsn', 'zz'],
      [{ failover: 'patroni', backup: BACKUP_PROPS, restore: { fromBackup: 'latest' } }, 'restore.fromBackup', 'latest'],
      [{ failover: 'patroni', backup: BACKUP_PROPS, restore: { targetTime: '2026-11-27T10:15:00Z', targetLsn: '0/3000060' } as never }, 'restore.targetLsn', '0/3000060'],
      // A point in time restored into its own path would archive a second history over the first.
      [{ failover: 'patroni', backup: BACKUP_PROPS, restore: { targetLsn: '0/3000060' } }, 'restore.sourcePathPrefix', '/scalecharts/db'],
    ];
    for (const [props, property, value] of checks) expect(errorsOf(props), property).toContainEqual([property, value]);
  });

  it('reports every mistake in backup at once', () => {
    const errors = errorsOf({ failover: 'patroni', backup: { ...BACKUP_PROPS, bucket: 'B', schedule: '@daily', retentionFull: 0, compression: 'xz' as never } });
    expect(errors).toEqual(expect.arrayContaining([['backup.bucket', 'B'], ['backup.schedule', '@daily'], ['backup.retentionFull', 0], ['backup.compression', 'xz']]));
  });

  it('turns any JavaScript value in a backup or restore field into a ValidationError naming it, never a TypeError', () => {
    const odd: unknown[] = [null, 0, -1, NaN, Infinity, '', ' ', 'x', {}, [], true, '0/0', '30 2 * * * *', 'https://', '1/2/3'];
    const fields = ['bucket', 'endpoint', 'region', 'credentialsSecret', 'pathPrefix', 'schedule', 'retentionFull', 'compression', 'archiveTimeout', 'uriStyle', 'caConfigMap'];
    for (const field of fields) {
      for (const v of odd) {
        const errors = errorsOf({ failover: 'patroni', backup: { ...BACKUP_PROPS, [field]: v } as never });
        for (const [property] of errors) expect(property).toBe(`backup.${field}`);
      }
    }
    for (const field of ['fromBackup', 'targetTime', 'targetLsn', 'sourcePathPrefix']) {
      for (const v of odd) {
        const errors = errorsOf({ failover: 'patroni', backup: BACKUP_PROPS, restore: { [field]: v } as never });
        for (const [property] of errors) expect(String(property)).toMatch(/^restore\./);
      }
    }
  });
});

describe('backup-loop.sh schedule matching', () => {
  const script = join(__dirname, '../lib/postgres/backup-loop.sh');
  const matches = (schedule: string, time: string): boolean => spawnSync('bash', [script, '--matches', time], {
    env: { PATH: process.env.PATH, BACKUP_SCHEDULE: schedule, BACKUP_STANZA: 'db', BACKUP_CHECK_SECONDS: '1', PGHOST: '/nonexistent', PGBACKREST_PG1_PORT: '1' },
  }).status === 0;

  it('matches cron fields like cron (UTC), and agrees with the gap the alert allows', () => {
    const cases: Array<[string, string, boolean]> = [
      ['30 2 * * *', '2026-11-27T02:30:00Z', true], ['30 2 * * *', '2026-11-27T02:31:00Z', false], ['30 2 * * *', '2026-11-27T03:30:00Z', false],
      ['*/15 * * * *', '2026-11-27T08:45:10Z', true], ['*/15 * * * *', '2026-11-27T08:44:00Z', false],
      ['0 1-5/2 * * *', '2026-11-27T03:00:00Z', true], ['0 1-5/2 * * *', '2026-11-27T04:00:00Z', false],
      ['0 3 * * 0', '2026-11-29T03:00:00Z', true], ['0 3 * * 7', '2026-11-29T03:00:00Z', true], ['0 3 * * 0', '2026-11-27T03:00:00Z', false],
      ['0 3 1 * 5', '2026-11-27T03:00:00Z', true], ['0 3 1 * 5', '2026-12-01T03:00:00Z', true], ['0 3 1 * 5', '2026-12-02T03:00:00Z', false],
      ['0,30 9 * 11 *', '2026-11-02T09:30:00Z', true], ['0,30 9 * 11 *', '2026-12-02T09:30:00Z', false],
    ];
    for (const [schedule, time, want] of cases) expect(matches(schedule, time), `${schedule} at ${time}`).toBe(want);
    expect(scheduleMaxGapSeconds('30 2 * * *')).toBe(86400);
    expect(scheduleMaxGapSeconds('0 */6 * * *')).toBe(6 * 3600);
    expect(scheduleMaxGapSeconds('0 3 * * 0')).toBe(7 * 86400);
  });
});
