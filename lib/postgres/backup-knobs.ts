/**
 * Helm values of `backup` (issue 16): the bucket and the retention are lines of pgbackrest.conf (read by every
 * pgBackRest run, no restart needed); the schedule is the backup sidecar's BACKUP_SCHEDULE (a change rolls the
 * members, one at a time). The chart's schema holds them to what resolveBackup() accepts.
 */
import type { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { Knobs } from '../knobs';
import type { ResolvedBackup } from './backup';

/** A cron schedule of the subset backup-loop.sh understands (checkCron gives the precise ranges). */
const CRON_PATTERN = '^\\s*[0-9*,/-]+(\\s+[0-9*,/-]+){4}\\s*$';

export function declareBackupKnobs(scope: Construct, b: ResolvedBackup, configMap: k8s.KubeConfigMap, members: k8s.KubeStatefulSet): void {
  Knobs.declare(scope, {
    key: 'backup.bucket', description: 'S3 bucket of the backups (WAL archive and full backups)',
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }, default: b.bucket,
    targets: [{ object: configMap, path: ['data', 'pgbackrest.conf'], fragment: `repo1-s3-bucket=${b.bucket}`, template: 'repo1-s3-bucket={{ $value }}' }],
  });
  Knobs.declare(scope, {
    key: 'backup.retentionFull', description: 'Full backups kept (older ones and their WAL are expired after each backup)',
    schema: { type: 'integer', minimum: 1, maximum: 9999999 }, default: b.retentionFull,
    targets: [{ object: configMap, path: ['data', 'pgbackrest.conf'], fragment: `repo1-retention-full=${b.retentionFull}`, template: 'repo1-retention-full={{ $value }}' }],
  });
  const containers = (members.toJson().spec.template.spec.containers as Array<{ name: string; env: Array<{ name: string }> }>);
  const c = containers.findIndex((x) => x.name === 'backup');
  const e = containers[c].env.findIndex((x) => x.name === 'BACKUP_SCHEDULE');
  Knobs.declare(scope, {
    key: 'backup.schedule', description: 'Full backup schedule: 5-field cron in UTC (numbers, *, lists, ranges, steps)',
    schema: { type: 'string', pattern: CRON_PATTERN }, default: b.schedule, example: '15 3 * * 0',
    targets: [{ object: members, path: ['spec', 'template', 'spec', 'containers', c, 'env', e, 'value'] }],
  });
}
